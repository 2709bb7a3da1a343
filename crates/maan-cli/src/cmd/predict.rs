//! `maan predict`: apply a trained run to videos that have no annotations and write their
//! detections (ActivityNet result format) and, optionally, each video's CAS.
//!
//! The run directory is all it needs of the training: the models, their feature dimensions,
//! the class names, the snippet timing and the localization settings are in it. The features
//! come from a folder of `rgb/<video>.npy` + `flow/<video>.npy` (layout A's per-stream files)
//! or of `<video>.npy` with rgb and flow concatenated (layout B's), see
//! `dataset::unlabelled`. For videos that are also in a test split, the detections are those
//! `maan test` writes for them.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use burn::tensor::backend::AutodiffBackend;
use dataset::{read_unlabelled, StreamDims};
use maan_model::checkpoint::{BEST, LAST};
use maan_model::infer::run_videos_with;
use maan_model::{load_config, load_models, RunData, TrainConfig};

use crate::backend::{BackendArg, BackendJob, BackendOpts};
use crate::opts::{LocalizeOpts, WhichArg};
use crate::report::write_outputs;

/// Arguments of `maan predict`.
#[derive(Debug, clap::Args)]
pub struct PredictArgs {
    /// Run directory written by `maan train --run`.
    #[arg(long, alias = "checkpoint", value_name = "RUN_DIR")]
    pub run: PathBuf,
    /// Which checkpoint of the run.
    #[arg(long, value_enum, default_value = "best")]
    pub which: WhichArg,
    /// Folder of features: rgb/<video>.npy and flow/<video>.npy, or <video>.npy with rgb and
    /// flow concatenated (rgb first).
    #[arg(long)]
    pub features: PathBuf,
    /// Output detections JSON (ActivityNet result format).
    #[arg(long)]
    pub detections: PathBuf,
    /// Also write each video's CAS as DIR/<video>.npy ([T, classes], f32) and, for a model with
    /// an attention, its fused attention p_t as DIR/<video>.attention.npy ([T], f32).
    #[arg(long)]
    pub cas_dir: Option<PathBuf>,
    /// Localization (default: the run's settings).
    #[command(flatten)]
    pub localize: LocalizeOpts,
    /// Backend and device.
    #[command(flatten)]
    pub backend: BackendOpts,
}

struct PredictJob {
    args: PredictArgs,
    config: TrainConfig,
    run: RunData,
    videos: Vec<Arc<dataset::Video>>,
}

/// Runs `maan predict`.
pub fn run(args: PredictArgs) -> Result<()> {
    let config = load_config(&args.run)?;
    let Some(run) = config.data.clone() else {
        bail!(
            "{} does not record the data it was trained on (feature dimensions, classes, \
             timing): it comes from an older maan; use `maan test` with its dataset, or retrain",
            args.run.display()
        );
    };
    args.backend.check()?;
    let has_flow = config
        .streams
        .kinds()
        .contains(&maan_model::StreamKind::Flow);
    let dims = StreamDims {
        rgb: run.rgb_dim,
        flow: if has_flow { run.flow_dim } else { 0 },
    };
    let videos = read_unlabelled(&args.features, dims, run.classes.len(), run.timing)
        .with_context(|| format!("reading the features in {}", args.features.display()))?;
    let videos = videos.into_iter().map(Arc::new).collect();
    args.backend.run(PredictJob {
        args,
        config,
        run,
        videos,
    })
}

impl BackendJob for PredictJob {
    type Output = ();

    fn run<B: AutodiffBackend>(self, device: B::Device, backend: BackendArg) -> Result<()> {
        let PredictJob {
            args,
            config,
            run,
            videos,
        } = self;
        let which = match args.which {
            WhichArg::Best => BEST,
            WhichArg::Last => LAST,
        };
        let (_, models) = load_models::<B::InnerBackend>(&args.run, which, None, &device)?;
        let refs: Vec<_> = models.iter().map(|(k, m)| (*k, m)).collect();
        let start = Instant::now();
        let outputs = run_videos_with(
            &refs,
            &videos,
            config.rgb_weight,
            &backend.batching(),
            &device,
        )?;
        let secs = start.elapsed().as_secs_f64();
        let base = config.localization(run.kind);
        let localize = args.localize.apply(&base, run.kind)?;
        write_outputs(
            &outputs,
            &run.classes,
            run.timing.seconds_per_snippet(),
            &localize,
            &args.detections,
            args.cas_dir.as_deref(),
        )?;
        eprintln!("({} videos in {secs:.2} s)", outputs.len());
        Ok(())
    }
}
