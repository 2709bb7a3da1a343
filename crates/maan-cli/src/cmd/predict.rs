//! `maan predict`: apply a trained run to videos that have no annotations and write their
//! detections (ActivityNet result format) and, optionally, each video's CAS.
//!
//! The run directory is all it needs of the training: the models, their feature dimensions,
//! the class names, the snippet timing and the localization settings are in it. The features
//! come from a folder of `rgb/<video>.npy` + `flow/<video>.npy` (layout A's per-stream files)
//! or of `<video>.npy` with rgb and flow concatenated (layout B's), see
//! `dataset::unlabelled`. For videos that are also in a test split, the detections are those
//! `maan test` writes for them.
//!
//! With `--video FILE|DIR` instead of `--features`, the videos' two-stream I3D features are
//! extracted first, exactly as `maan extract` does (same flags, same files, kept in
//! `--features-out` so that a second run skips the extraction), then the run predicts on them:
//! from video files to detections in one command. `--plot DIR` also draws each video's CAS of
//! its top-scoring class (`DIR/plots/<video>_<class>.{svg,png}`, the CAS in `DIR/cas/`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use burn::tensor::backend::AutodiffBackend;
use dataset::{read_unlabelled, StreamDims};
use maan_model::predict::{Prediction, Predictor};
use maan_model::run::{cas_file, plot_stem, CAS_DIR};
use maan_model::{load_config, RunData, TrainConfig, Which};

use crate::backend::{BackendArg, BackendJob, BackendOpts};
use crate::jobs::extract::{self, ExtractArgs, LayoutArg};
use crate::opts::LocalizeOpts;
use crate::report::write_prediction;
use maan_plot::plot_video;

/// Arguments of `maan predict`.
#[derive(Debug, clap::Args)]
pub struct PredictArgs {
    /// Run directory written by `maan train --run`.
    #[arg(long, alias = "checkpoint", value_name = "RUN_DIR")]
    pub run: PathBuf,
    /// Which checkpoint of the run.
    /// (best: the best evaluation so far, falling back to last if the run never evaluated;
    /// last: the latest).
    #[arg(long, value_name = "best|last", default_value_t)]
    pub which: Which,
    /// Folder of features: rgb/<video>.npy and flow/<video>.npy, or <video>.npy with rgb and
    /// flow concatenated (rgb first).
    #[arg(long, required_unless_present = "video", conflicts_with = "video")]
    pub features: Option<PathBuf>,
    /// Video file, or folder of video files, to predict on: their I3D features are extracted
    /// first (as `maan extract` does; needs --weights-rgb and --weights-flow).
    #[arg(long)]
    pub video: Option<PathBuf>,
    /// With --video: pytorch-i3d RGB checkpoint (models/rgb_imagenet.pt, or .safetensors).
    #[arg(long, requires = "video")]
    pub weights_rgb: Option<PathBuf>,
    /// With --video: pytorch-i3d flow checkpoint (models/flow_imagenet.pt, or .safetensors).
    #[arg(long, requires = "video")]
    pub weights_flow: Option<PathBuf>,
    /// With --video: where the extracted features are written and kept (rgb/, flow/); videos
    /// already there are not extracted again [default: the detections path with the
    /// extension `.features`].
    #[arg(long, requires = "video")]
    pub features_out: Option<PathBuf>,
    /// With --video: compute the flow on the 224x224 crops (see `maan extract --help`).
    #[arg(long, requires = "video")]
    pub flow_on_crop: bool,
    /// Test option of the extraction (see `maan extract`).
    #[arg(long, hide = true, requires = "video")]
    pub width_div: Option<usize>,
    /// Test option of the extraction (see `maan extract`).
    #[arg(long, hide = true, requires = "video")]
    pub crop: Option<usize>,
    /// Test option of the extraction (see `maan extract`).
    #[arg(long, hide = true, requires = "video")]
    pub light_flow: bool,
    /// Also plot each video's CAS of its top-scoring class: DIR/plots/<video>_<class>.{svg,png}
    /// (its CAS in DIR/cas/<video>.npy).
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
    /// Output detections JSON (ActivityNet result format).
    #[arg(long)]
    pub detections: PathBuf,
    /// Also write each video's CAS as DIR/<video>.npy ([T, classes], f32) and, for a model with
    /// an attention, its fused attention p_t as DIR/<video>.attention.npy (one float32 per snippet).
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
    let features = match (&args.video, &args.features) {
        (Some(video), _) => {
            let out = args
                .features_out
                .clone()
                .unwrap_or_else(|| args.detections.with_extension("features"));
            eprintln!(
                "extracting the I3D features of {} into {}",
                video.display(),
                out.display()
            );
            extract::run(ExtractArgs {
                videos: video.clone(),
                weights_rgb: args.weights_rgb.clone(),
                weights_flow: args.weights_flow.clone(),
                out: out.clone(),
                layout: LayoutArg::A,
                shard: None,
                flow_on_crop: args.flow_on_crop,
                decode_timeout: extract::DEFAULT_DECODE_TIMEOUT,
                width_div: args.width_div,
                crop: args.crop,
                light_flow: args.light_flow,
                backend: args.backend,
            })?;
            out
        }
        (None, Some(features)) => features.clone(),
        (None, None) => bail!("give --features DIR or --video FILE|DIR"),
    };
    let videos = read_unlabelled(&features, dims, run.classes.len(), run.timing)
        .with_context(|| format!("reading the features in {}", features.display()))?;
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
        let predictor = Predictor::<B::InnerBackend>::load(
            &args.run,
            args.which,
            None,
            backend.batching(),
            &device,
        )?;
        let start = Instant::now();
        let outputs = predictor.infer(&videos)?;
        let secs = start.elapsed().as_secs_f64();
        let base = config.localization(run.kind);
        let localize = args.localize.apply(&base, run.kind)?;
        let seconds = run.timing.seconds_per_snippet();
        let prediction = Prediction::localize(outputs, &run.classes, seconds, &localize)?;
        write_prediction(&prediction, &args.detections, args.cas_dir.as_deref())?;
        eprintln!("({} videos in {secs:.2} s)", prediction.outputs.len());
        if let Some(dir) = &args.plot {
            plot_top_classes(&prediction, &run, dir)?;
        }
        Ok(())
    }
}

/// Writes each video's CAS into `dir/cas/` and plots the CAS of its top-scoring class (the
/// label of its best detection; the class of the highest CAS peak when it has none) into
/// `dir/plots/<video>_<class>.{svg,png}` (a run's layout: `maan_model::run`).
fn plot_top_classes(prediction: &Prediction, run: &RunData, dir: &std::path::Path) -> Result<()> {
    prediction.write_cas(&dir.join(CAS_DIR))?;
    let (outputs, dets) = (&prediction.outputs, &prediction.detections);
    let classes = maan_eval::ClassList::from_names(&run.classes, "the run's class list")?;
    let no_ground_truth = maan_eval::GroundTruth::default();
    for o in outputs {
        let top = dets.results.get(&o.id).and_then(|list| {
            list.iter()
                .max_by(|a, b| a.score.total_cmp(&b.score))
                .map(|d| d.label.clone())
        });
        let (_, png) = plot_video(
            &[("MAAN".to_string(), cas_file(dir, &o.id))],
            &o.id,
            top.as_deref(),
            &no_ground_truth,
            &classes,
            run.timing.seconds_per_snippet(),
            |class| plot_stem(dir, &o.id, class),
        )?;
        eprintln!("CAS plot: {}", png.display());
    }
    Ok(())
}
