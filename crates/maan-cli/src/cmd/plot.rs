//! `maan plot`: the paper's Figure 5 for one video — ground-truth segments above the CAS of
//! one class, one row per model (run directory), as SVG and PNG.

use std::path::{Path, PathBuf};

use crate::opts::builtin_data_dir;
use anyhow::Result;
use dataset::Benchmark;
use maan_eval::annotations::{ClassList, GroundTruth};
use maan_model::run::{cas_file, plot_stem};
use maan_model::RunDir;
use maan_plot::plot_video;

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
    /// Dataset folder holding `gt.json` (the ground truth drawn above the CAS) [default: the
    /// built-in synthetic data of the default benchmark, as `maan demo` makes it].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Class list: thumos14, activitynet, or a path to a text file with one name per line.
    #[arg(long, default_value = Benchmark::default().name())]
    pub classes: String,
    /// Seconds per snippet.
    #[arg(long, default_value_t = Benchmark::default().snippet_timing().seconds_per_snippet())]
    pub seconds_per_snippet: f64,
    /// Output path without extension (default: `RUN/plots/<video>_<class>` of the first run).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Loads a class list by preset name or path.
pub fn class_list(spec: &str) -> Result<ClassList> {
    Ok(match spec.parse::<Benchmark>() {
        Ok(kind) => kind.classes(),
        Err(_) => ClassList::from_path(Path::new(spec))?,
    })
}

/// Runs `maan plot`.
pub fn run(args: PlotArgs) -> Result<()> {
    let classes = class_list(&args.classes)?;
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(|| builtin_data_dir(Benchmark::default()));
    let gt = GroundTruth::from_path(&data_dir.join("gt.json"))?;
    // Into the first run's plots/ unless --out says elsewhere: under that run's lock.
    let _lock = match (&args.out, args.runs.first()) {
        (None, Some(run)) if run.is_dir() => Some(RunDir::open(run)?),
        _ => None,
    };
    let rows: Vec<(String, PathBuf)> = args
        .runs
        .iter()
        .enumerate()
        .map(|(i, run)| {
            let label = args.labels.get(i).cloned().unwrap_or_else(|| {
                run.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| format!("run {i}"))
            });
            (label, cas_file(run, &args.video))
        })
        .collect();
    let stem = |class: &str| match &args.out {
        Some(out) => out.clone(),
        None => plot_stem(&args.runs[0], &args.video, class),
    };
    let (svg, png) = plot_video(
        &rows,
        &args.video,
        args.class.as_deref(),
        &gt,
        &classes,
        args.seconds_per_snippet,
        stem,
    )?;
    println!("wrote {}", svg.display());
    println!("wrote {}", png.display());
    Ok(())
}
