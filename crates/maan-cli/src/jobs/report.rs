//! `maan report`: the self-contained HTML report of a run (and, with `--json`, the JSON of every
//! number it shows), optionally beside a second run (`--compare`). `maan test` (and so `maan
//! demo`) writes `RUN/report.html` with [`write_after_test`], from what it has in memory.
//!
//! The computations and the page are `maan_eval::report`'s, reading the run is
//! `maan_model::report`'s; this module loads the run's dataset (as `maan test` does), takes the
//! run's lock to write into it, and prints.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use dataset::WtalDataset;
use maan_eval::DetectionFile;
use maan_model::report::{self as run_report, report_data};
use maan_model::run::{CONFIG_FILE, DETECTIONS_FILE};
use maan_model::{RunDir, VideoOutput};

use crate::opts::DataOpts;

/// Arguments of `maan report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Run directory, trained by `maan train` and tested by `maan test` (its detections.json,
    /// detections.metrics.json and cas/ are read).
    #[arg(long, value_name = "RUN_DIR")]
    pub run: PathBuf,
    /// Output HTML file [default: RUN/report.html].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Also write the JSON of every number the page shows (the page's own data).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// A second run to set beside the first (mAP, diagnosis, the same video's timelines).
    #[arg(long, value_name = "RUN_DIR")]
    pub compare: Option<PathBuf>,
    /// The run's detections [default: RUN/detections.json, what `maan demo` writes].
    #[arg(long, value_name = "FILE")]
    pub detections: Option<PathBuf>,
    /// The run's dataset (default: the folder its config.json records).
    #[command(flatten)]
    pub data: DataOpts,
}

/// Runs `maan report`.
pub fn run(args: ReportArgs) -> Result<()> {
    let start = Instant::now();
    let read = |run: &Path, detections: Option<&Path>, data: &DataOpts| -> Result<_> {
        if !run.join(CONFIG_FILE).is_file() {
            bail!(
                "{} is not a run directory (no {CONFIG_FILE}); pass the --run of `maan train`",
                run.display()
            );
        }
        let loaded = data.load_for_run(&maan_model::load_config(run)?)?;
        let dets = detections.map_or_else(|| run.join(DETECTIONS_FILE), Path::to_path_buf);
        Ok(run_report::read_run(run, &dets, &loaded)?)
    };
    let mut runs = vec![read(&args.run, args.detections.as_deref(), &args.data)?];
    if let Some(other) = &args.compare {
        runs.push(read(other, None, &DataOpts::default())?);
    }
    let data = report_data(runs);
    let out = match &args.out {
        Some(out) => {
            run_report::write_to(&data, out)?;
            out.clone()
        }
        // Into the run: through its lock.
        None => run_report::write_into_run(&RunDir::open(&args.run)?, &data)?,
    };
    if let Some(json) = &args.json {
        run_report::write_json(&data, json)?;
    }
    let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    println!(
        "report -> {} ({:.2} MB, {} videos, {:.2} s)",
        out.display(),
        size as f64 / 1e6,
        data.runs[0].videos.len(),
        start.elapsed().as_secs_f64()
    );
    if let Some(json) = &args.json {
        println!("report data (JSON) -> {}", json.display());
    }
    Ok(())
}

/// What `maan test` calls once it has scored a run: writes `RUN/report.html` through the run's
/// lock `lock` from the test's data, detections and model outputs (in memory) and the run's
/// files, and returns its path.
pub fn write_after_test(
    lock: &RunDir,
    data: &WtalDataset,
    dets: &DetectionFile,
    outputs: &[VideoOutput],
    record: Option<serde_json::Value>,
) -> Result<PathBuf> {
    let report = run_report::after_test(lock.path(), data, dets, outputs, record)?;
    run_report::write_into_run(lock, &report_data(vec![report]))
        .with_context(|| format!("writing the report of {}", lock.path().display()))
}
