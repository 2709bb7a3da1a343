//! The paper's Figure 5: ground-truth segments above the class activation sequence (CAS) of
//! one class in one video, one row per model. Written as SVG (vector) and PNG (bitmap);
//! [`plot_video`] draws it from CAS files (`maan plot`, `maan demo` and `maan predict --plot`
//! give those of run directories).

use std::path::{Path, PathBuf};

use crate::{bail, Context as _, PlotError, Result};
use maan_eval::annotations::{ClassList, GroundTruth};
use plotters::coord::Shift;
use plotters::prelude::*;

/// One model's CAS of the plotted class.
#[derive(Debug, Clone)]
pub struct CasRow {
    /// Row label (the model's name).
    pub label: String,
    /// The CAS of the class, one value per snippet (or per upsampled step).
    pub values: Vec<f32>,
}

/// Everything one figure shows.
#[derive(Debug, Clone)]
pub struct Figure {
    /// Title: video and class.
    pub title: String,
    /// Length of the video in seconds (the horizontal axis).
    pub duration: f64,
    /// Ground-truth segments of the class, in seconds.
    pub segments: Vec<(f64, f64)>,
    /// One CAS per model.
    pub rows: Vec<CasRow>,
}

const WIDTH: u32 = 1000;
const ROW_HEIGHT: u32 = 150;
const GT_HEIGHT: u32 = 60;
const TITLE_HEIGHT: u32 = 40;

/// Writes the figure to `stem.svg` and `stem.png`; returns both paths.
pub fn render_cas(fig: &Figure, stem: &Path) -> Result<(std::path::PathBuf, std::path::PathBuf)> {
    if fig.rows.is_empty() {
        bail!("nothing to plot: no CAS given");
    }
    if let Some(parent) = stem.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the plot folder {}", parent.display()))?;
    }
    crate::register_font();
    let height = TITLE_HEIGHT + (GT_HEIGHT + ROW_HEIGHT) * fig.rows.len() as u32;
    let svg = stem.with_extension("svg");
    let png = stem.with_extension("png");
    {
        let root = SVGBackend::new(&svg, (WIDTH, height)).into_drawing_area();
        draw(fig, &root).with_context(|| format!("cannot draw {}", svg.display()))?;
        root.present()
            .map_err(|e| PlotError(format!("cannot write {}: {e}", svg.display())))?;
    }
    {
        let root = BitMapBackend::new(&png, (WIDTH, height)).into_drawing_area();
        draw(fig, &root).with_context(|| format!("cannot draw {}", png.display()))?;
        root.present()
            .map_err(|e| PlotError(format!("cannot write {}: {e}", png.display())))?;
    }
    Ok((svg, png))
}

fn draw<DB: DrawingBackend>(fig: &Figure, root: &DrawingArea<DB, Shift>) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| PlotError(format!("{e:?}"));
    root.fill(&WHITE).map_err(err)?;
    let (title, body) = root.split_vertically(TITLE_HEIGHT);
    title.titled(&fig.title, ("sans-serif", 22)).map_err(err)?;
    let duration = fig.duration.max(1e-6);
    let areas = body.split_evenly((fig.rows.len(), 1));
    for (row, area) in fig.rows.iter().zip(areas) {
        let (gt_area, cas_area) = area.split_vertically(GT_HEIGHT);
        // Ground truth: filled bars on a thin axis.
        let mut gt = ChartBuilder::on(&gt_area)
            .margin_left(10)
            .margin_right(20)
            .y_label_area_size(110)
            .build_cartesian_2d(0.0..duration, 0.0..1.0)
            .map_err(err)?;
        gt.configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_labels(0)
            .y_desc("ground truth")
            .axis_desc_style(("sans-serif", 14))
            .draw()
            .map_err(err)?;
        gt.draw_series(
            fig.segments.iter().map(|&(s, e)| {
                Rectangle::new([(s, 0.15), (e, 0.85)], RGBColor(46, 139, 87).filled())
            }),
        )
        .map_err(err)?;
        // CAS: a filled curve over time.
        let n = row.values.len().max(1);
        let ymax = row.values.iter().copied().fold(0.0f32, f32::max).max(1e-6) as f64;
        let mut chart = ChartBuilder::on(&cas_area)
            .margin_left(10)
            .margin_right(20)
            .margin_bottom(5)
            .x_label_area_size(30)
            .y_label_area_size(110)
            .build_cartesian_2d(0.0..duration, 0.0..ymax * 1.05)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("time (s)")
            .y_desc(row.label.as_str())
            .y_labels(3)
            .axis_desc_style(("sans-serif", 14))
            .draw()
            .map_err(err)?;
        let step = duration / n as f64;
        let points = row.values.iter().enumerate().flat_map(|(i, &v)| {
            [
                (i as f64 * step, v as f64),
                ((i + 1) as f64 * step, v as f64),
            ]
        });
        chart
            .draw_series(
                AreaSeries::new(points, 0.0, RGBColor(70, 110, 200).mix(0.5))
                    .border_style(RGBColor(30, 60, 160)),
            )
            .map_err(err)?;
    }
    Ok(())
}

/// Reads a float32 `[T, C]` CAS (a run's `cas/<video>.npy`, `maan_model::predict`) with
/// [`dataset::npy::read_f32`]; returns the values row-major and `(T, C)`.
pub fn read_cas(path: &Path) -> Result<(Vec<f32>, usize, usize)> {
    let (shape, values) = dataset::npy::read_f32(path)
        .with_context(|| format!("cannot read the CAS file {}", path.display()))?;
    match shape[..] {
        [t, c] => Ok((values, t, c)),
        _ => bail!(
            "{}: expected a [T, C] array, found shape {shape:?}",
            path.display()
        ),
    }
}

/// Draws Figure 5 for `video`, one row per `(label, CAS file)` of `rows` (a `[T, C]` npy each,
/// as `maan test --cas-dir` writes them), the ground truth of `gt` above, the class `class`
/// (by name or index; default: the video's first ground-truth instance's, else the class whose
/// CAS peaks highest), into `stem(class name)` `.svg` and `.png`; returns both paths.
pub fn plot_video(
    rows: &[(String, PathBuf)],
    video: &str,
    class: Option<&str>,
    gt: &GroundTruth,
    classes: &ClassList,
    seconds_per_snippet: f64,
    stem: impl FnOnce(&str) -> PathBuf,
) -> Result<(PathBuf, PathBuf)> {
    if rows.is_empty() {
        bail!("nothing to plot: no CAS given");
    }
    let gt_video = gt.videos.get(video);
    let mut cas = Vec::new();
    for (_, path) in rows {
        if !path.exists() {
            bail!(
                "{}: no CAS for video '{video}' (run `maan test` with this run directory first)",
                path.display()
            );
        }
        let (values, t, c) = read_cas(path)?;
        if c != classes.len() {
            bail!(
                "{}: the CAS has {c} classes but the class list has {}",
                path.display(),
                classes.len()
            );
        }
        cas.push((values, t, c));
    }
    let class_index = match class {
        Some(name) => match classes.index_of(name) {
            Some(i) => i,
            None => match name.parse::<usize>() {
                Ok(i) if i < classes.len() => i,
                _ => bail!(
                    "class '{name}' is not in the class list ({} classes)",
                    classes.len()
                ),
            },
        },
        None => gt_video
            .and_then(|v| v.segments.first())
            .and_then(|s| classes.index_of(&s.label))
            .unwrap_or_else(|| {
                let (values, t, c) = &cas[0];
                (0..*c)
                    .max_by(|&a, &b| {
                        let peak =
                            |k: usize| (0..*t).map(|i| values[i * c + k]).fold(f32::MIN, f32::max);
                        peak(a).total_cmp(&peak(b))
                    })
                    .unwrap_or(0)
            }),
    };
    let class_name = classes.name(class_index).unwrap_or("?").to_string();
    let segments: Vec<(f64, f64)> = gt_video
        .map(|v| {
            v.segments
                .iter()
                .filter(|s| s.label == class_name)
                .map(|s| (s.start, s.end))
                .collect()
        })
        .unwrap_or_default();
    let figure_rows: Vec<CasRow> = cas
        .iter()
        .zip(rows)
        .map(|((values, t, c), (label, _))| CasRow {
            label: label.clone(),
            values: (0..*t).map(|k| values[k * c + class_index]).collect(),
        })
        .collect();
    let snippets = cas.iter().map(|(_, t, _)| *t).max().unwrap_or(0);
    let duration = (snippets as f64 * seconds_per_snippet)
        .max(gt_video.and_then(|v| v.duration).unwrap_or(0.0));
    let fig = Figure {
        title: format!("{video} — {class_name}"),
        duration,
        segments,
        rows: figure_rows,
    };
    render_cas(&fig, &stem(&class_name)).context("cannot render the plot")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// read_cas reads the `[T, C]` files `maan test` writes (dataset::npy::write_f32) and
    /// refuses other ranks and missing files, naming the file.
    #[test]
    fn read_cas_reads_t_by_c_and_names_the_file_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v.npy");
        let values = [0.0f32, 0.5, 1.0, 0.25, 0.75, 0.125];
        dataset::npy::write_f32(&p, &[3, 2], &values).unwrap();
        assert_eq!(read_cas(&p).unwrap(), (values.to_vec(), 3, 2));
        let a = dir.path().join("v.attention.npy");
        dataset::npy::write_f32(&a, &[3], &values[..3]).unwrap();
        let err = format!("{:#}", read_cas(&a).unwrap_err());
        assert!(
            err.contains("v.attention.npy") && err.contains("[T, C]"),
            "{err}"
        );
        let err = format!(
            "{:#}",
            read_cas(&dir.path().join("absent.npy")).unwrap_err()
        );
        assert!(err.contains("absent.npy"), "{err}");
    }

    #[test]
    fn renders_svg_and_png_with_the_data() {
        let dir = tempfile::tempdir().unwrap();
        let fig = Figure {
            title: "video_test_0000001 — HammerThrow".into(),
            duration: 10.0,
            segments: vec![(2.0, 4.0), (6.5, 8.0)],
            rows: vec![
                CasRow {
                    label: "MAAN".into(),
                    values: vec![0.0, 0.1, 0.8, 0.9, 0.2, 0.0, 0.1, 0.7, 0.6, 0.0],
                },
                CasRow {
                    label: "STPN".into(),
                    values: vec![0.0, 0.0, 0.9, 0.1, 0.0, 0.0, 0.0, 0.8, 0.0, 0.0],
                },
            ],
        };
        let (svg, png) = render_cas(&fig, &dir.path().join("fig")).unwrap();
        let svg_text = std::fs::read_to_string(&svg).unwrap();
        assert!(
            svg_text.contains("HammerThrow")
                && svg_text.contains("MAAN")
                && svg_text.contains("STPN")
        );
        let png_bytes = std::fs::read(&png).unwrap();
        assert_eq!(&png_bytes[1..4], b"PNG");
        assert!(render_cas(
            &Figure {
                rows: vec![],
                ..fig
            },
            &dir.path().join("x")
        )
        .is_err());
    }
}
