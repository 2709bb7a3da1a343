//! `maan plot`: the paper's Figure 5 for one video — ground-truth segments above the CAS of
//! one class, one row per model (run directory), as SVG and PNG.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use maan_eval::annotations::{ClassList, GroundTruth};

use crate::figure::{self, CasRow, Figure};

/// Arguments of `maan plot`.
#[derive(Debug, clap::Args)]
pub struct PlotArgs {
    /// Run directory written by `maan train` + `maan test` (its CAS files are in `RUN/cas/`).
    /// Repeat to compare models, one row each.
    #[arg(long = "run", required = true)]
    pub runs: Vec<PathBuf>,
    /// Row label for each run, in order (default: the run directory's name).
    #[arg(long = "label")]
    pub labels: Vec<String>,
    /// Video to plot, e.g. `video_test_0000004`.
    #[arg(long)]
    pub video: String,
    /// Class to plot, by name or index (default: the class of the video's first ground-truth
    /// instance, else the class whose CAS peaks highest).
    #[arg(long)]
    pub class: Option<String>,
    /// Dataset folder holding `gt.json` (the ground truth drawn above the CAS).
    #[arg(long, default_value = crate::opts::DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
    /// Class list: thumos14, activitynet, or a path to a text file with one name per line.
    #[arg(long, default_value = "thumos14")]
    pub classes: String,
    /// Seconds per snippet (16 frames at 25 fps).
    #[arg(long, default_value_t = 0.64)]
    pub seconds_per_snippet: f64,
    /// Output path without extension (default: `RUN/plots/<video>_<class>` of the first run).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Loads a class list by preset name or path.
pub fn class_list(spec: &str) -> Result<ClassList> {
    Ok(match spec.parse::<dataset::Benchmark>() {
        Ok(kind) => kind.classes(),
        Err(_) => ClassList::from_path(Path::new(spec))?,
    })
}

/// Runs `maan plot`.
pub fn run(args: PlotArgs) -> Result<()> {
    let classes = class_list(&args.classes)?;
    let gt_path = args.data_dir.join("gt.json");
    let gt = GroundTruth::from_path(&gt_path)?;
    let (svg, png) = plot_video(
        &args.runs,
        &args.labels,
        &args.video,
        args.class.as_deref(),
        &gt,
        &classes,
        args.seconds_per_snippet,
        args.out.as_deref(),
    )?;
    println!("wrote {}", svg.display());
    println!("wrote {}", png.display());
    Ok(())
}

/// Draws Figure 5 for `video` from the CAS files of `runs`; returns the SVG and PNG paths.
pub fn plot_video(
    runs: &[PathBuf],
    labels: &[String],
    video: &str,
    class: Option<&str>,
    gt: &GroundTruth,
    classes: &ClassList,
    seconds_per_snippet: f64,
    out: Option<&Path>,
) -> Result<(PathBuf, PathBuf)> {
    if runs.is_empty() {
        bail!("give at least one --run");
    }
    let gt_video = gt.videos.get(video);
    let mut cas = Vec::new();
    for run in runs {
        let path = run.join("cas").join(format!("{video}.npy"));
        if !path.exists() {
            bail!(
                "{}: no CAS for video '{video}' (run `maan test` with this run directory first)",
                path.display()
            );
        }
        let (values, t, c) = figure::read_cas(&path)?;
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
    let rows: Vec<CasRow> = cas
        .iter()
        .zip(runs)
        .enumerate()
        .map(|(i, ((values, t, c), run))| CasRow {
            label: labels.get(i).cloned().unwrap_or_else(|| {
                run.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| format!("run {i}"))
            }),
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
        rows,
    };
    let stem = match out {
        Some(p) => p.to_path_buf(),
        None => runs[0].join("plots").join(format!("{video}_{class_name}")),
    };
    figure::render(&fig, &stem).context("cannot render the plot")
}
