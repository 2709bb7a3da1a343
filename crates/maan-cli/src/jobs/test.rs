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

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Result};
use burn::tensor::backend::AutodiffBackend;
use dataset::WtalDataset;
use maan_model::predict::{Prediction, Predictor, ResultRecord};
use maan_model::run::CONFIG_FILE;
use maan_model::Which;

use crate::backend::{BackendArg, BackendJob, BackendOpts};
use crate::jobs::report;
use crate::opts::{DataOpts, LocalizeOpts};
use crate::report::{print_metrics, write_prediction};

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
    /// (best: the best evaluation so far, falling back to last if the run never evaluated;
    /// last: the latest).
    #[arg(long, value_name = "best|last", default_value_t)]
    pub which: Which,
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

/// Runs `maan test`.
pub fn run(args: TestArgs) -> Result<()> {
    if !args.run.join(CONFIG_FILE).is_file() {
        bail!(
            "{} is not a run directory (no config.json); pass the --run of `maan train`",
            args.run.display()
        );
    }
    args.backend.check()?;
    let config = maan_model::load_config(&args.run)?;
    let data = args.data.load_for_run(&config)?;
    test(Testing {
        run: &args.run,
        which: args.which,
        data,
        localize: &args.localize,
        detections: &args.detections,
        cas_dir: args.cas_dir.as_deref(),
        backend: args.backend,
    })
}

/// One test with its flags resolved: what `maan test` and `maan demo` run.
pub struct Testing<'a> {
    /// The run directory.
    pub run: &'a Path,
    /// Its checkpoint to test.
    pub which: Which,
    /// The dataset (fitting the run).
    pub data: WtalDataset,
    /// Localization options over the run's own settings.
    pub localize: &'a LocalizeOpts,
    /// Where the detections go; the result record goes beside them
    /// (`<detections>.metrics.json`).
    pub detections: &'a Path,
    /// Where each video's CAS goes, if anywhere.
    pub cas_dir: Option<&'a Path>,
    /// Backend and device.
    pub backend: BackendOpts,
}

/// Tests a run on every test video through the prediction pipeline
/// ([`maan_model::predict`]): writes the detections (and CAS) and, when the test split has
/// ground truth, prints the mAP table and writes the result record.
pub fn test(testing: Testing<'_>) -> Result<()> {
    if testing.data.test.is_empty() {
        bail!(
            "{}: the test split has no videos",
            testing.data.dir.display()
        );
    }
    testing.backend.run(testing)
}

impl BackendJob for Testing<'_> {
    type Output = ();

    fn run<B: AutodiffBackend>(self, device: B::Device, backend: BackendArg) -> Result<()> {
        let data = &self.data;
        let dims = Some((data.rgb_dim(), data.flow_dim()));
        let predictor = Predictor::<B::InnerBackend>::load(
            self.run,
            self.which,
            dims,
            backend.batching(),
            &device,
        )?;
        let config = predictor.config();
        if config.model.num_classes != data.num_classes() {
            bail!(
                "the run was trained for {} classes, the dataset has {}",
                config.model.num_classes,
                data.num_classes()
            );
        }
        let start = Instant::now();
        let outputs = predictor.infer(&data.test)?;
        let secs = start.elapsed().as_secs_f64();
        let base = config.localization(data.kind);
        let localize = self.localize.apply(&base, data.kind)?;
        let prediction = Prediction::localize(
            outputs,
            data.classes.names(),
            data.timing.seconds_per_snippet(),
            &localize,
        )?;
        write_prediction(&prediction, self.detections, self.cas_dir)?;
        eprintln!("({} test videos in {secs:.2} s)", prediction.outputs.len());
        let mut recorded = None;
        if data.test_ground_truth().num_segments() > 0 {
            let metrics = prediction.score(data)?;
            print_metrics(&metrics);
            let record = ResultRecord::new(data, metrics, &localize, config.seed, crate::COMMIT)
                .with_backend(backend.name());
            let json_path = self.detections.with_extension("metrics.json");
            record.write(&json_path)?;
            eprintln!("metrics (JSON) -> {}", json_path.display());
            recorded = Some(serde_json::to_value(&record)?);
        } else {
            eprintln!("no ground-truth segments in the test split: mAP not computed");
        }
        let start = Instant::now();
        match report::write_after_test(
            self.run,
            data,
            &prediction.detections,
            &prediction.outputs,
            recorded.as_ref(),
        ) {
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
