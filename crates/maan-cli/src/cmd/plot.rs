//! `maan plot`: the paper's Figure 5 for one video — ground-truth segments above the CAS of
//! one class, one row per model (run directory), as SVG and PNG.

use std::path::{Path, PathBuf};

use anyhow::Result;
use maan_eval::annotations::{ClassList, GroundTruth};

use crate::figure::plot_video;

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
