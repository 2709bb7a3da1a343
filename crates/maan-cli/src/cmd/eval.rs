//! `maan eval`: score a detections JSON against a ground-truth JSON with the ActivityNet
//! detection protocol (see `maan_eval::eval`).
//!
//! ```text
//! maan eval --ground-truth data/thumos14/gt.json --detections det.json [--subset test]
//!           [--tiou 0.1:0.9:0.1] [--json report.json] [--per-class]
//! ```

use std::path::PathBuf;

use anyhow::{bail, Context};
use dataset::Benchmark;
use maan_eval::{detection_map, parse_tiou_range, DetectionFile, EvalRecord, GroundTruth};

/// Arguments of `maan eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Ground-truth JSON: ActivityNet-style `database` (THUMOS14 gt.json with float or string
    /// segments, or the official ActivityNet1.3 file).
    #[arg(long, value_name = "GT.json")]
    pub ground_truth: PathBuf,

    /// Detections JSON in the ActivityNet result format:
    /// `{"version", "results": {video: [{"label", "score", "segment": [start, end]}]}, "external_data"}`.
    #[arg(long, value_name = "DET.json")]
    pub detections: PathBuf,

    /// Dataset, which sets the defaults of --subset and --tiou
    /// [default: inferred from the labels, as the dataset loader does: activitynet if more of
    /// them are ActivityNet1.3 classes than THUMOS14 classes, else thumos14].
    #[arg(long, value_name = "thumos14|activitynet")]
    pub dataset: Option<Benchmark>,

    /// Ground-truth subset to evaluate on [default: `test` for thumos14, `validation` for activitynet].
    #[arg(long)]
    pub subset: Option<String>,

    /// tIoU thresholds: `start:stop:step` (stop included), a comma list, or one value
    /// [default: 0.1:0.9:0.1 for thumos14, 0.5:0.95:0.05 for activitynet].
    #[arg(long, value_name = "RANGE")]
    pub tiou: Option<String>,

    /// Also write `{"tiou_thresholds", "mAP", "average_mAP", "per_class_AP"}` (fractions in
    /// [0, 1]) here, with the protocol: `averages` (the ranges papers report that apply:
    /// 0.1:0.5, 0.1:0.7, 0.1:0.9 or 0.5:0.95), `dataset`, `subset`, `videos` (ground-truth
    /// videos of the subset) and `commit` (the commit maan was built from).
    #[arg(long, value_name = "OUT.json")]
    pub json: Option<PathBuf>,

    /// Print the AP of every class at every threshold.
    #[arg(long, default_value_t = false)]
    pub per_class: bool,
}

/// Runs `maan eval`.
pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let gt_name = args.ground_truth.display().to_string();
    let det_name = args.detections.display().to_string();
    let gt_all = GroundTruth::from_path(&args.ground_truth)
        .with_context(|| format!("reading the ground truth {gt_name}"))?;
    let dataset = args
        .dataset
        .unwrap_or_else(|| Benchmark::infer_from(&gt_all));
    let subset = args
        .subset
        .clone()
        .unwrap_or_else(|| dataset.official_test_subset().to_string());
    let gt = gt_all.subset(&subset);
    if gt.num_segments() == 0 {
        let present: Vec<String> = gt_all
            .subsets()
            .iter()
            .map(|(k, v)| format!("{k:?} ({v} videos)"))
            .collect();
        bail!(
            "{gt_name}: subset {subset:?} has {} videos and no annotated segment; subsets present: {}. \
             Choose one with --subset.",
            gt.videos.len(),
            if present.is_empty() { "none".to_string() } else { present.join(", ") }
        );
    }
    let thresholds = match &args.tiou {
        Some(spec) => parse_tiou_range(spec).context("parsing --tiou")?,
        None => dataset.tiou_thresholds(),
    };
    let det = DetectionFile::from_path(&args.detections)
        .with_context(|| format!("reading the detections {det_name}"))?;
    let report = detection_map(&gt, &det, &thresholds)
        .with_context(|| format!("scoring {det_name} against {gt_name} (subset {subset:?})"))?;

    println!(
        "ground truth: {gt_name}, subset {subset:?}: {} videos, {} instances, {} classes",
        gt.videos.len(),
        gt.num_segments(),
        report.per_class_ap.len()
    );
    println!(
        "detections:   {det_name}: {} detections in {} videos",
        det.num_detections(),
        det.results.len()
    );
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    println!();
    print!("{}", report.summary_table());
    if args.per_class {
        println!();
        print!("{}", report.per_class_table());
    }
    if let Some(out) = &args.json {
        EvalRecord::new(report, dataset, &subset, gt.videos.len(), crate::COMMIT)
            .write(out)
            .with_context(|| format!("writing the report {}", out.display()))?;
        println!("\nwrote {}", out.display());
    }
    Ok(())
}
