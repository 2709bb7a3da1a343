//! `maan test`: load a trained run, run every test video, write the detections (ActivityNet
//! result format) and optionally each video's CAS (npy), and print the mAP table when the
//! ground truth is present. `maan demo` runs it as its second step.
//!
//! The metrics JSON (`<detections>.metrics.json`) records the protocol of the result, so that
//! it can be set beside a paper's: the mAP at each tIoU and the averages papers report
//! (`averages`: 0.1:0.5, 0.1:0.7, 0.1:0.9 on THUMOS14, 0.5:0.95 on ActivityNet1.3), the
//! benchmark, the number of test videos evaluated and the annotated test videos left out
//! (`excluded_videos`: those of the annotation file's test subset that are not in the test
//! split, e.g. THUMOS14's 270 and 1496 with the usual 210-video split), the localization
//! (`localization_preset`: `paper`, `oic` or `custom`, and `localization`, every setting and
//! threshold), the run's seed, the backend (`backend`) and the commit `maan` was built from
//! (`commit`, recorded at build time by `build.rs`; `unknown` when built outside git).
//!
//! Then it writes the run's report, `RUN/report.html` ([`crate::jobs::report`]), and prints its
//! path; a report that cannot be written is a warning (the detections and metrics are there).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use burn::tensor::backend::AutodiffBackend;
use dataset::WtalDataset;
use maan_model::checkpoint::{BEST, LAST};
use maan_model::evaluate::score;
use maan_model::infer::run_videos_with;
use maan_model::load_models;

use crate::backend::{BackendArg, BackendJob, BackendOpts};
use crate::jobs::report;
use crate::opts::{DataOpts, LocalizeOpts, WhichArg};
use crate::report::{print_metrics, protocol, write_outputs};

/// Arguments of `maan test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Dataset.
    #[command(flatten)]
    pub data: DataOpts,
    /// Run directory written by `maan train --run`.
    #[arg(long, alias = "checkpoint", value_name = "RUN_DIR")]
    pub run: PathBuf,
    /// Which checkpoint of the run.
    #[arg(long, value_enum, default_value = "best")]
    pub which: WhichArg,
    /// Output detections JSON (ActivityNet result format).
    #[arg(long)]
    pub detections: PathBuf,
    /// Also write each video's fused CAS as DIR/<video>.npy ([T, C] float32) and, for a model
    /// with an attention, its fused attention p_t as DIR/<video>.attention.npy (one float32 per snippet).
    #[arg(long)]
    pub cas_dir: Option<PathBuf>,
    /// Localization (unset options keep the run's own settings, saved in its config.json).
    #[command(flatten)]
    pub localize: LocalizeOpts,
    /// Backend and device.
    #[command(flatten)]
    pub backend: BackendOpts,
}

struct TestJob {
    args: TestArgs,
    data: WtalDataset,
}

/// Runs `maan test`.
pub fn run(args: TestArgs) -> Result<()> {
    if !args.run.join(maan_model::checkpoint::CONFIG_FILE).is_file() {
        bail!(
            "{} is not a run directory (no config.json); pass the --run of `maan train`",
            args.run.display()
        );
    }
    args.backend.check()?;
    let config = maan_model::load_config(&args.run)?;
    let data = args.data.load_for_run(&config)?;
    if data.test.is_empty() {
        bail!("{}: the test split has no videos", data.dir.display());
    }
    args.backend.run(TestJob { args, data })
}

impl BackendJob for TestJob {
    type Output = ();

    fn run<B: AutodiffBackend>(self, device: B::Device, backend: BackendArg) -> Result<()> {
        let TestJob { args, data } = self;
        let which = match args.which {
            WhichArg::Best => BEST,
            WhichArg::Last => LAST,
        };
        let (config, models) = load_models::<B::InnerBackend>(
            &args.run,
            which,
            Some((data.rgb_dim(), data.flow_dim())),
            &device,
        )?;
        if config.model.num_classes != data.num_classes() {
            bail!(
                "the run was trained for {} classes, the dataset has {}",
                config.model.num_classes,
                data.num_classes()
            );
        }
        let refs: Vec<_> = models.iter().map(|(k, m)| (*k, m)).collect();
        let start = Instant::now();
        let outputs = run_videos_with(
            &refs,
            &data.test,
            config.rgb_weight,
            &backend.batching(),
            &device,
        )?;
        let secs = start.elapsed().as_secs_f64();
        let base = config.localization(data.kind);
        let localize = args.localize.apply(&base, data.kind)?;
        let dets = write_outputs(
            &outputs,
            data.classes.names(),
            data.timing.seconds_per_snippet(),
            &localize,
            &args.detections,
            args.cas_dir.as_deref(),
        )?;
        eprintln!("({} test videos in {secs:.2} s)", outputs.len());
        let gt = data.test_ground_truth();
        let mut recorded = None;
        if gt.num_segments() > 0 {
            let metrics = score(&data, &dets, &outputs)?;
            print_metrics(&metrics);
            let json_path = args.detections.with_extension("metrics.json");
            let mut value = serde_json::to_value(&metrics)?;
            if let Some(obj) = value.as_object_mut() {
                for (k, v) in protocol(&data, &metrics, &localize, config.seed)? {
                    obj.insert(k, v);
                }
                obj.insert("backend".into(), backend.name().into());
            }
            let json = serde_json::to_string_pretty(&value)?;
            std::fs::write(&json_path, json)
                .with_context(|| format!("writing {}", json_path.display()))?;
            eprintln!("metrics (JSON) -> {}", json_path.display());
            recorded = Some(value);
        } else {
            eprintln!("no ground-truth segments in the test split: mAP not computed");
        }
        let start = Instant::now();
        match report::write_after_test(&args.run, &data, &dets, &outputs, recorded.as_ref()) {
            Ok(path) => eprintln!(
                "report -> {} ({:.2} s)",
                path.display(),
                start.elapsed().as_secs_f64()
            ),
            Err(e) => eprintln!("warning: the report was not written: {e:#}"),
        }
        Ok(())
    }
}
