//! The paper's Figure 6 (Appendix F): test images blended with the class activation map of
//! the predicted class, one column per model, the ground-truth box in red and the predicted
//! box in green; `maan experiment wsol` draws it.

use std::path::Path;

use maan_experiments::wsol::FIGURE_IMAGES;
use maan_wsol::{Example, ImageSet};
use plotters::prelude::*;

use crate::{Context as _, Result};

/// A blue → red heat colour for `v ∈ [0, 1]`.
fn heat(v: f32) -> [f32; 3] {
    let v = v.clamp(0.0, 1.0);
    [
        (1.5 - (4.0 * v - 3.0).abs()).clamp(0.0, 1.0),
        (1.5 - (4.0 * v - 2.0).abs()).clamp(0.0, 1.0),
        (1.5 - (4.0 * v - 1.0).abs()).clamp(0.0, 1.0),
    ]
}

/// Figure 6 into `path` (PNG): one row per test image, one column per model (the 7×7 grids, and the images
/// themselves first): the image blended with the CAM of the predicted class, the
/// ground-truth box in red and the predicted box in green.
pub fn figure6(
    test: &ImageSet,
    examples: &[(String, Vec<Example>)],
    mean: [f32; 3],
    std: [f32; 3],
    path: &Path,
) -> Result<()> {
    crate::register_font();
    let columns: Vec<&(String, Vec<Example>)> = examples
        .iter()
        .filter(|(m, _)| m.ends_with("7×7"))
        .collect();
    let n_rows = columns
        .iter()
        .map(|(_, e)| e.len())
        .min()
        .unwrap_or(0)
        .min(FIGURE_IMAGES);
    let s = test.size;
    let scale = (192 / s).max(1);
    let cell = (s * scale) as i32;
    let pad = 8i32;
    let head = 28i32;
    let width = (columns.len() as i32 + 1) * (cell + pad) + pad;
    let height = head + n_rows as i32 * (cell + pad) + pad;
    let root = BitMapBackend::new(path, (width as u32, height as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    let style = TextStyle::from(("sans-serif", 16).into_font()).color(&BLACK);
    let mut titles = vec!["image".to_string()];
    titles.extend(columns.iter().map(|(m, _)| m.clone()));
    for (c, t) in titles.iter().enumerate() {
        root.draw_text(t, &style, (pad + c as i32 * (cell + pad), 6))?;
    }
    for r in 0..n_rows {
        let y0 = head + r as i32 * (cell + pad);
        for c in 0..=columns.len() {
            let x0 = pad + c as i32 * (cell + pad);
            let ex = (c > 0).then(|| &columns[c - 1].1[r]);
            let index = ex.map(|e| e.index).unwrap_or(columns[0].1[r].index);
            let px = test.pixels(index);
            for y in 0..s {
                for x in 0..s {
                    let mut rgb = [0.0f32; 3];
                    for ch in 0..3 {
                        rgb[ch] = (px[ch * s * s + y * s + x] * std[ch] + mean[ch]).clamp(0.0, 1.0);
                    }
                    if let Some(e) = ex {
                        let h = heat(e.cam[y * s + x]);
                        for ch in 0..3 {
                            rgb[ch] = 0.45 * rgb[ch] + 0.55 * h[ch];
                        }
                    }
                    let colour = RGBColor(
                        (rgb[0] * 255.0) as u8,
                        (rgb[1] * 255.0) as u8,
                        (rgb[2] * 255.0) as u8,
                    );
                    let (px0, py0) = (x0 + (x * scale) as i32, y0 + (y * scale) as i32);
                    root.draw(&Rectangle::new(
                        [(px0, py0), (px0 + scale as i32, py0 + scale as i32)],
                        colour.filled(),
                    ))?;
                }
            }
            let rect = |b: &maan_wsol::BBox| {
                [
                    (
                        x0 + (b.x0 * scale as f32) as i32,
                        y0 + (b.y0 * scale as f32) as i32,
                    ),
                    (
                        x0 + (b.x1 * scale as f32) as i32 - 1,
                        y0 + (b.y1 * scale as f32) as i32 - 1,
                    ),
                ]
            };
            root.draw(&Rectangle::new(
                rect(&test.boxes[index]),
                RED.stroke_width(2),
            ))?;
            if let Some(e) = ex {
                root.draw(&Rectangle::new(
                    rect(&e.predicted_box),
                    GREEN.stroke_width(2),
                ))?;
                let label = format!(
                    "IoU {:.2}{}",
                    e.iou,
                    if e.predicted == e.label {
                        ""
                    } else {
                        " (wrong class)"
                    }
                );
                root.draw_text(
                    &label,
                    &TextStyle::from(("sans-serif", 13).into_font()).color(&WHITE),
                    (x0 + 3, y0 + cell - 16),
                )?;
            }
        }
    }
    root.present()
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
