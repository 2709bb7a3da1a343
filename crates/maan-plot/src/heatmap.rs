//! A labelled heat map (PNG + SVG) with the value printed in every cell: `maan experiment
//! regimes` draws MAAN's minus STPN's average mAP over the two knobs of the synthetic
//! benchmark with it. What a heat map shows is `maan_experiments::HeatMap`; this module draws
//! it.

use std::path::{Path, PathBuf};

use crate::{bail, Context as _, PlotError, Result};
use maan_experiments::HeatMap;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const CELL: i32 = 110;
const LEFT: i32 = 150;
const TOP: i32 = 60;
const BOTTOM: i32 = 80;
const RIGHT: i32 = 30;

/// Writes the heat map to `stem.png` and `stem.svg`; returns both paths.
pub fn render_heatmap(map: &HeatMap, stem: &Path) -> Result<(PathBuf, PathBuf)> {
    let rows = map.values.len();
    let cols = map.values.first().map_or(0, Vec::len);
    if rows == 0 || cols == 0 || map.values.iter().any(|r| r.len() != cols) {
        bail!("a heat map needs a non-empty rectangular grid of values");
    }
    if map.x_ticks.len() != cols || map.y_ticks.len() != rows {
        bail!("a heat map needs one label per column and per row");
    }
    if let Some(parent) = stem.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    crate::register_font();
    let size = (
        (LEFT + RIGHT + CELL * cols as i32) as u32,
        (TOP + BOTTOM + CELL * rows as i32) as u32,
    );
    let (png, svg) = (stem.with_extension("png"), stem.with_extension("svg"));
    {
        let root = BitMapBackend::new(&png, size).into_drawing_area();
        draw(map, &root).with_context(|| format!("cannot draw {}", png.display()))?;
        root.present()
            .map_err(|e| PlotError(format!("cannot write {}: {e}", png.display())))?;
    }
    {
        let root = SVGBackend::new(&svg, size).into_drawing_area();
        draw(map, &root).with_context(|| format!("cannot draw {}", svg.display()))?;
        root.present()
            .map_err(|e| PlotError(format!("cannot write {}: {e}", svg.display())))?;
    }
    Ok((png, svg))
}

/// Diverging colour: blue for negative, white at 0, red for positive, saturated at `scale`.
pub fn colour(v: f64, scale: f64) -> RGBColor {
    if !v.is_finite() {
        return RGBColor(200, 200, 200);
    }
    let t = (v / scale.max(1e-12)).clamp(-1.0, 1.0);
    let fade = |full: u8| (255.0 - (255.0 - full as f64) * t.abs()).round() as u8;
    if t >= 0.0 {
        RGBColor(fade(202), fade(0), fade(32))
    } else {
        RGBColor(fade(5), fade(113), fade(176))
    }
}

fn draw<DB: DrawingBackend>(map: &HeatMap, root: &DrawingArea<DB, Shift>) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| PlotError(format!("{e:?}"));
    root.fill(&WHITE).map_err(err)?;
    let rows = map.values.len() as i32;
    let cols = map.values[0].len() as i32;
    let scale = map
        .values
        .iter()
        .flatten()
        .filter(|v| v.is_finite())
        .fold(0.0f64, |m, v| m.max(v.abs()));
    let centre = |size: i32| {
        ("sans-serif", size)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Center))
    };
    root.draw_text(&map.title, &centre(20), (LEFT + CELL * cols / 2, TOP / 2))
        .map_err(err)?;
    for (r, row) in map.values.iter().enumerate() {
        let y0 = TOP + CELL * (rows - 1 - r as i32);
        for (c, v) in row.iter().enumerate() {
            let x0 = LEFT + CELL * c as i32;
            let fill = colour(*v, scale);
            root.draw(&Rectangle::new(
                [(x0, y0), (x0 + CELL, y0 + CELL)],
                fill.filled(),
            ))
            .map_err(err)?;
            root.draw(&Rectangle::new(
                [(x0, y0), (x0 + CELL, y0 + CELL)],
                BLACK.stroke_width(1),
            ))
            .map_err(err)?;
            let ink = if (v / scale.max(1e-12)).abs() > 0.6 {
                WHITE
            } else {
                BLACK
            };
            let style = ("sans-serif", 20)
                .into_font()
                .color(&ink)
                .pos(Pos::new(HPos::Center, VPos::Center));
            root.draw_text(&(map.format)(*v), &style, (x0 + CELL / 2, y0 + CELL / 2))
                .map_err(err)?;
        }
        root.draw_text(
            &map.y_ticks[r],
            &("sans-serif", 16)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Right, VPos::Center)),
            (LEFT - 8, y0 + CELL / 2),
        )
        .map_err(err)?;
    }
    for c in 0..cols {
        root.draw_text(
            &map.x_ticks[c as usize],
            &centre(16),
            (LEFT + CELL * c + CELL / 2, TOP + CELL * rows + 16),
        )
        .map_err(err)?;
    }
    root.draw_text(
        &map.x_label,
        &centre(17),
        (LEFT + CELL * cols / 2, TOP + CELL * rows + 50),
    )
    .map_err(err)?;
    root.draw_text(
        &map.y_label,
        &("sans-serif", 17)
            .into_font()
            .transform(FontTransform::Rotate270)
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Center)),
        (30, TOP + CELL * rows / 2),
    )
    .map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Colours run from blue (negative) through white (0) to red (positive), saturating at
    /// the scale; NaN is grey.
    #[test]
    fn colours_diverge_around_zero() {
        assert_eq!(colour(0.0, 1.0), RGBColor(255, 255, 255));
        assert_eq!(colour(2.0, 1.0), RGBColor(202, 0, 32));
        assert_eq!(colour(-1.0, 1.0), RGBColor(5, 113, 176));
        let half = colour(0.5, 1.0);
        assert!(half.0 > 202 && half.1 > 0 && half.1 < 255);
        assert_eq!(colour(f64::NAN, 1.0), RGBColor(200, 200, 200));
    }

    /// A grid renders to a PNG of the expected size and an SVG holding every value's text;
    /// a ragged grid is an error.
    #[test]
    fn renders_png_and_svg_with_values_in_cells() {
        let tmp = tempfile::tempdir().unwrap();
        let map = HeatMap {
            title: "t".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            x_ticks: vec!["1".into(), "2".into(), "4".into()],
            y_ticks: vec!["0".into(), "1".into()],
            values: vec![vec![-3.25, 0.0, 1.5], vec![f64::NAN, 7.0, -0.5]],
            format: |v| format!("{v:+.1}"),
        };
        let (png, svg) = render_heatmap(&map, &tmp.path().join("h")).unwrap();
        let text = std::fs::read_to_string(&svg).unwrap();
        for v in ["-3.2", "+0.0", "+1.5", "+7.0", "-0.5", "NaN"] {
            assert!(text.contains(v), "{v} missing from the SVG");
        }
        let bytes = std::fs::read(&png).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
        let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
        let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
        assert_eq!((width, height), (150 + 30 + 3 * 110, 60 + 80 + 2 * 110));
        let ragged = HeatMap {
            values: vec![vec![1.0, 2.0, 3.0], vec![1.0]],
            ..map
        };
        assert!(render_heatmap(&ragged, &tmp.path().join("r")).is_err());
    }
}
