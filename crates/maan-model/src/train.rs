//! The training loop, generic over `B: AutodiffBackend`.
//!
//! Each stream (RGB, flow) is its own [`StreamModel`] with its own Adam optimizer, trained on
//! the same sampled batches (the paper's section 3.1 trains the two streams as two models and
//! combines them 0.5 / 0.5 at test time). Every iteration:
//!
//! 1. picks `batch_size` training videos: iteration `i` takes positions
//!    `i·batch_size .. (i+1)·batch_size` of an endless sequence of epochs, each a permutation
//!    of the videos seeded by `(seed, epoch)`;
//! 2. samples `T` snippets of each with `random_perturb` seeded by `(seed, epoch, video)`
//!    ([`dataset::TrainDataset::sample`]);
//! 3. reseeds the backend with `(seed, iteration)` (only the Dropout aggregator draws from it);
//! 4. runs forward, backward and an Adam step per stream ([`crate::optim::FlatAdam`]: Burn's
//!    Adam over all of a stream's parameters at once, a handful of kernel launches instead of a
//!    dozen per parameter tensor).
//!
//! Everything random is therefore a pure function of `(seed, iteration)`: a run resumed from a
//! checkpoint (model, Adam state, iteration) continues exactly as the uninterrupted run does
//! (bit for bit on ndarray without its SIMD/threads features; to about 1e-7 relative with them,
//! where some reductions round differently from run to run).
//! The batches of the next iterations are gathered on a background thread while the current
//! one trains, and uploaded ([`DeviceBatch`]) by the training thread: an upload from the
//! background thread would go to another stream of Burn's fusion backends, and the Dropout
//! aggregator's random draws would then depend on timing. A panic in that thread ends
//! training with an error.
//!
//! The library never prints: progress goes to a [`TrainObserver`].

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;

use burn::config::Config;
use burn::module::AutodiffModule;
use burn::optim::GradientsParams;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Bool, Tensor, TensorData};
use dataset::{DatasetKind, Layout, SnippetTiming, TrainDataset, TrainItem, Video, WtalDataset};
use maan_eval::localize::LocalizeConfig;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{
    self, checkpoint_dir, load_module, read_state, record_from_bytes, record_to_bytes,
    CheckpointState, CheckpointWriter, BEST, CONFIG_FILE, LAST, METRICS_FILE,
};
use crate::error::{ModelError, Result as ModelResult};
use crate::evaluate::{evaluate, BestMetrics, EvalMetrics};
use crate::infer::{Batching, StreamKind};
use crate::model::{StreamModel, StreamModelConfig};
use crate::optim::{AdamRecord, FlatAdam};

/// Which streams to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Streams {
    /// RGB and flow, two models fused 0.5 / 0.5 at test time (the paper).
    #[default]
    Both,
    /// RGB only (also the mode for single-stream features).
    Rgb,
    /// Flow only.
    Flow,
}

impl Streams {
    /// The streams, RGB first.
    pub fn kinds(&self) -> Vec<StreamKind> {
        match self {
            Streams::Both => vec![StreamKind::Rgb, StreamKind::Flow],
            Streams::Rgb => vec![StreamKind::Rgb],
            Streams::Flow => vec![StreamKind::Flow],
        }
    }
}

/// Configuration of a training run. Defaults are the paper's where it gives one.
#[derive(Config, Debug, PartialEq)]
pub struct TrainConfig {
    /// The model of each stream (its `feature_dim` and `num_classes` are set from the data).
    pub model: StreamModelConfig,
    /// Streams to train.
    #[config(default = "Streams::Both")]
    pub streams: Streams,
    /// Number of training iterations (one Adam step per stream each). The paper does not
    /// state it.
    #[config(default = 5000)]
    pub iterations: usize,
    /// Videos per batch. The paper does not state it; 16 is the batch size of the public
    /// WTAL code that follows STPN (BaSNet, UM, CoLA).
    #[config(default = 16)]
    pub batch_size: usize,
    /// Snippets sampled per video while training (the paper's T = 20).
    #[config(default = 20)]
    pub num_segments: usize,
    /// Adam learning rate (paper: 5e-4).
    #[config(default = 5e-4)]
    pub learning_rate: f64,
    /// Seed of the initialisation, the sampling and the dropout masks.
    #[config(default = 0)]
    pub seed: u64,
    /// Evaluate on the test split every this many iterations (0: only at the end).
    #[config(default = 500)]
    pub eval_every: usize,
    /// Save the `last` checkpoint every this many iterations (0: only at the end).
    #[config(default = 500)]
    pub checkpoint_every: usize,
    /// Read the loss back and report it every this many iterations (each read synchronises
    /// the device).
    #[config(default = 10)]
    pub log_every: usize,
    /// Weight of the RGB stream in the two-stream fusion (paper: 0.5).
    #[config(default = 0.5)]
    pub rgb_weight: f64,
    /// Localization settings of the evaluations during training (and the default of `maan
    /// test` for this run); `None`: the dataset's paper preset
    /// ([`crate::infer::localize_preset`]).
    pub localize: Option<LocalizeConfig>,
    /// The data the run was trained on (set by [`fit_config`]; `None` in runs written before
    /// runs recorded it): what resuming, testing and predicting need without the dataset.
    pub data: Option<RunData>,
}

/// What a run records about its training data, so that its directory alone is enough to
/// resume it, test it and apply it to new videos.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunData {
    /// The dataset folder (absolute when it could be resolved).
    pub dir: PathBuf,
    /// The benchmark it follows.
    pub kind: DatasetKind,
    /// Its layout.
    pub layout: Layout,
    /// RGB feature dimension (the RGB model's input).
    pub rgb_dim: usize,
    /// Flow feature dimension (the flow model's input; 0 without flow).
    pub flow_dim: usize,
    /// Class names; class index = position (the classifier's outputs).
    pub classes: Vec<String>,
    /// Snippet timing of the features (detections' seconds).
    pub timing: SnippetTiming,
}

impl RunData {
    /// What `data` gives a run.
    pub fn of(data: &WtalDataset) -> Self {
        RunData {
            dir: data.dir.canonicalize().unwrap_or_else(|_| data.dir.clone()),
            kind: data.kind,
            layout: data.layout,
            rgb_dim: data.rgb_dim(),
            flow_dim: data.flow_dim(),
            classes: data.classes.names().to_vec(),
            timing: data.timing,
        }
    }

    /// Checks that `data` fits models trained on this run's data: same feature dimensions of
    /// the streams in `streams` and same classes.
    pub fn check_fits(&self, data: &WtalDataset, streams: Streams) -> ModelResult<()> {
        let mut problems = Vec::new();
        for kind in streams.kinds() {
            let (model, given) = match kind {
                StreamKind::Rgb => (self.rgb_dim, data.rgb_dim()),
                StreamKind::Flow => (self.flow_dim, data.flow_dim()),
            };
            if model != given {
                problems.push(format!(
                    "{} features of {given} dims where the model takes {model}",
                    kind.name()
                ));
            }
        }
        if data.classes.names() != self.classes.as_slice() {
            problems.push(format!(
                "{} classes ({}...) where the model was trained on {} ({}...)",
                data.num_classes(),
                data.classes.names().first().map_or("", String::as_str),
                self.classes.len(),
                self.classes.first().map_or("", String::as_str)
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ModelError::Config(format!(
                "the dataset in {} does not fit the run: {}",
                data.dir.display(),
                problems.join("; ")
            )))
        }
    }

    /// The feature dimension of a stream.
    pub fn dim(&self, kind: StreamKind) -> usize {
        stream_dim(kind, self.rgb_dim, self.flow_dim)
    }
}

/// Receives the progress of a training run (the CLI draws progress bars with it).
pub trait TrainObserver {
    /// Training starts at `iteration` (non-zero after `--resume`) and ends at `total`.
    fn on_start(&mut self, _iteration: usize, _total: usize) {}
    /// Iteration `iteration` (1-based count of completed iterations) finished; `losses` holds
    /// one loss per stream when it was read back (every `log_every` iterations), else is empty.
    fn on_iteration(&mut self, _iteration: usize, _losses: &[f32]) {}
    /// An evaluation finished.
    fn on_eval(&mut self, _metrics: &EvalMetrics) {}
    /// A checkpoint was written.
    fn on_checkpoint(&mut self, _iteration: usize, _dir: &Path) {}
    /// Polled every iteration: `true` stops training after saving the `last` checkpoint
    /// (Ctrl-C).
    fn should_stop(&mut self) -> bool {
        false
    }
}

/// An observer that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoObserver;

impl TrainObserver for NoObserver {}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainSummary {
    /// Iterations completed.
    pub iteration: usize,
    /// Whether the observer stopped it early.
    pub stopped: bool,
    /// The last loss read back, per stream.
    pub last_losses: Vec<f32>,
    /// The last evaluation, if any ran.
    pub last_eval: Option<EvalMetrics>,
    /// Best evaluation metric (average mAP) and its iteration.
    pub best: Option<(f64, usize)>,
}

fn best_pair(best: Option<BestMetrics>) -> Option<(f64, usize)> {
    best.map(|b| (b.average_map, b.iteration))
}

/// Trained models with their stream, as [`load_models`] returns them.
pub type StreamModels<B> = Vec<(StreamKind, StreamModel<B>)>;

/// One stream being trained.
struct StreamState<B: AutodiffBackend> {
    kind: StreamKind,
    model: Option<StreamModel<B>>,
    optim: FlatAdam<B>,
}

/// A training run: models, optimizers, iteration counter, and where it saves.
pub struct Trainer<B: AutodiffBackend> {
    config: TrainConfig,
    device: B::Device,
    streams: Vec<StreamState<B>>,
    iteration: usize,
    best: Option<BestMetrics>,
    run_dir: Option<PathBuf>,
    batching: Batching,
}

impl<B: AutodiffBackend> std::fmt::Debug for Trainer<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trainer")
            .field("config", &self.config)
            .field("iteration", &self.iteration)
            .field("best", &self.best)
            .field("run_dir", &self.run_dir)
            .finish()
    }
}

/// The configuration completed with the data's dimensions (feature dimension of `kind`,
/// number of classes), checked against the data.
pub fn fit_config(config: &TrainConfig, data: &WtalDataset) -> ModelResult<TrainConfig> {
    let mut config = config.clone();
    if data.train.is_empty() {
        return Err(ModelError::Config(
            "the training split has no videos".into(),
        ));
    }
    if config.batch_size == 0 || config.num_segments == 0 {
        return Err(ModelError::Config(
            "batch size and T must be positive".into(),
        ));
    }
    let has_flow = data.flow_dim() > 0;
    if !has_flow {
        match config.streams {
            Streams::Both => config.streams = Streams::Rgb,
            Streams::Flow => {
                return Err(ModelError::Config(
                    "the flow stream was asked for, but the dataset has no flow features".into(),
                ))
            }
            Streams::Rgb => {}
        }
    }
    // Each stream has its own model: its feature dimension is set per stream at init (from
    // `data`: `model.feature_dim` is the RGB stream's).
    config.model.num_classes = data.num_classes();
    config.model.feature_dim = data.rgb_dim();
    config.data = Some(RunData::of(data));
    Ok(config)
}

fn stream_dim(kind: StreamKind, data_rgb: usize, data_flow: usize) -> usize {
    match kind {
        StreamKind::Rgb => data_rgb,
        StreamKind::Flow => data_flow,
    }
}

impl<B: AutodiffBackend> Trainer<B> {
    /// A fresh run. `config` must come from [`fit_config`] (or match the data). `run_dir`
    /// (created if needed) receives `config.json`, `metrics.jsonl` and the checkpoints;
    /// `None` trains without saving anything.
    pub fn new(
        config: TrainConfig,
        data: &WtalDataset,
        run_dir: Option<&Path>,
        device: B::Device,
    ) -> ModelResult<Self> {
        if let Some(run_data) = &config.data {
            run_data.check_fits(data, config.streams)?;
        }
        B::seed(&device, config.seed);
        let streams = config
            .streams
            .kinds()
            .into_iter()
            .map(|kind| {
                let dim = stream_dim(kind, data.rgb_dim(), data.flow_dim());
                StreamState {
                    kind,
                    model: Some(
                        config
                            .model
                            .clone()
                            .with_feature_dim(dim)
                            .init::<B>(&device),
                    ),
                    optim: FlatAdam::new(),
                }
            })
            .collect();
        if let Some(dir) = run_dir {
            fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
            let json = serde_json::to_vec_pretty(&config)
                .map_err(|e| ModelError::Config(e.to_string()))?;
            checkpoint::write_atomic(&dir.join(CONFIG_FILE), &json)?;
        }
        Ok(Trainer {
            config,
            device,
            streams,
            iteration: 0,
            best: None,
            run_dir: run_dir.map(Path::to_path_buf),
            batching: Batching::default(),
        })
    }

    /// Continues the run in `run_dir` from its `last` checkpoint (models, Adam states,
    /// iteration, best metric), with the saved `config.json`; `iterations` (if given)
    /// replaces the total number of iterations.
    pub fn resume(
        run_dir: &Path,
        data: &WtalDataset,
        iterations: Option<usize>,
        device: B::Device,
    ) -> ModelResult<Self> {
        let mut config = load_config(run_dir)?;
        if let Some(n) = iterations {
            config.iterations = n;
        }
        let dir = checkpoint_dir(run_dir, LAST).ok_or_else(|| {
            ModelError::Checkpoint(format!("no checkpoint to resume in {}", run_dir.display()))
        })?;
        let state = read_state(&dir)?;
        let mut trainer = Trainer::new(config, data, None, device)?;
        trainer.run_dir = Some(run_dir.to_path_buf());
        for s in &mut trainer.streams {
            let name = s.kind.name();
            if !state.streams.iter().any(|n| n == name) {
                return Err(ModelError::Checkpoint(format!(
                    "{} has no {name} stream",
                    dir.display()
                )));
            }
            let model = s.model.take().expect("model present");
            s.model = Some(load_module(
                model,
                &dir.join(format!("{name}.mpk")),
                &trainer.device,
            )?);
            let path = dir.join(format!("{name}-optim.mpk"));
            let bytes = fs::read(&path).map_err(|e| ModelError::io(&path, e))?;
            let record = record_from_bytes::<B, AdamRecord<B>>(bytes, &trainer.device)?;
            let model = s.model.as_ref().expect("model present");
            s.optim
                .load_record(record, model)
                .map_err(|e| ModelError::Checkpoint(format!("{}: {e}", path.display())))?;
        }
        trainer.iteration = state.iteration;
        trainer.best =
            state
                .best_metric
                .zip(state.best_iteration)
                .map(|(average_map, iteration)| BestMetrics {
                    average_map,
                    classification_map: state.best_classification_map.unwrap_or(f64::NAN),
                    iteration,
                });
        Ok(trainer)
    }

    /// How the evaluations batch whole videos (default: [`Batching::default`], the
    /// shape-stable buckets GPU backends need; [`Batching::exact`] is faster on CPU backends).
    pub fn set_batching(&mut self, batching: Batching) {
        self.batching = batching;
    }

    /// The configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Iterations completed.
    pub fn iteration(&self) -> usize {
        self.iteration
    }

    /// The model of a stream, if trained.
    pub fn model(&self, kind: StreamKind) -> Option<&StreamModel<B>> {
        self.streams
            .iter()
            .find(|s| s.kind == kind)
            .and_then(|s| s.model.as_ref())
    }

    /// Every trained stream with its model.
    pub fn models(&self) -> Vec<(StreamKind, &StreamModel<B>)> {
        self.streams
            .iter()
            .filter_map(|s| s.model.as_ref().map(|m| (s.kind, m)))
            .collect()
    }

    /// One training iteration on a batch gathered on the host: uploads it, then
    /// [`Trainer::step_device`]. Returns the losses as tensors (`[1]` each, not read back).
    pub fn step(&mut self, batch: &HostBatch) -> Vec<Tensor<B, 1>> {
        let batch = DeviceBatch::upload(batch, &self.config.streams.kinds(), &self.device);
        self.step_device(batch)
    }

    /// One training iteration on a batch already on the device: forward, backward and Adam
    /// step per stream. Returns the losses as tensors (`[1]` each, not read back).
    ///
    /// # Panics
    /// When `batch` lacks the features of a stream being trained (it must come from
    /// [`DeviceBatch::upload`] with this run's streams).
    pub fn step_device(&mut self, batch: DeviceBatch<B>) -> Vec<Tensor<B, 1>> {
        B::seed(
            &self.device,
            dataset::sampling::mix_seed(self.config.seed, self.iteration as u64, 0xD0),
        );
        let DeviceBatch {
            rgb,
            flow,
            labels,
            mask,
        } = batch;
        let (mut rgb, mut flow) = (rgb, flow);
        let lr = self.config.learning_rate;
        let mut losses = Vec::with_capacity(self.streams.len());
        for s in &mut self.streams {
            let x = match s.kind {
                StreamKind::Rgb => rgb.take(),
                StreamKind::Flow => flow.take(),
            }
            .expect("the batch holds the features of every trained stream");
            let model = s.model.take().expect("model present");
            let loss = model.forward_loss(x, labels.clone(), mask.clone());
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            s.model = Some(s.optim.step(lr, model, grads));
            losses.push(loss.detach());
        }
        self.iteration += 1;
        losses
    }

    /// Trains until `config.iterations` (or until the observer stops it), evaluating every
    /// `eval_every` iterations on `data`'s test split and saving checkpoints in the run
    /// directory.
    pub fn run(
        &mut self,
        data: &WtalDataset,
        observer: &mut dyn TrainObserver,
    ) -> ModelResult<TrainSummary> {
        let total = self.config.iterations;
        observer.on_start(self.iteration, total);
        let sampler = Sampler::new(&self.config, data.train.clone());
        // The thread gathers batches on the host only: uploading them there would put them on
        // another stream of Burn's fusion backends, whose lazily run random operations (the
        // Dropout aggregator) would then draw at timing-dependent moments, and a resumed run
        // would no longer end where the uninterrupted one does.
        let (tx, rx) = mpsc::sync_channel::<HostBatch>(2);
        let start = self.iteration;
        let producer = {
            let sampler = sampler.clone();
            thread::Builder::new()
                .name("maan-batches".into())
                .spawn(move || {
                    for it in start..total {
                        if tx.send(sampler.batch(it)).is_err() {
                            break;
                        }
                    }
                })
                .map_err(|e| ModelError::Config(format!("could not start the batch thread: {e}")))?
        };
        let mut last_losses = Vec::new();
        let mut last_eval = None;
        let mut stopped = false;
        while self.iteration < total {
            let Ok(batch) = rx.recv() else { break };
            let losses = self.step(&batch);
            let it = self.iteration;
            let log = self.config.log_every > 0 && it.is_multiple_of(self.config.log_every)
                || it == total;
            if log {
                last_losses = losses
                    .into_iter()
                    .map(|l| l.into_scalar().elem::<f32>())
                    .collect();
                self.log_metrics(&serde_json::json!({
                    "iteration": it,
                    "loss": last_losses,
                }))?;
                observer.on_iteration(it, &last_losses);
            } else {
                observer.on_iteration(it, &[]);
            }
            let eval_now = it == total
                || (self.config.eval_every > 0 && it.is_multiple_of(self.config.eval_every));
            if eval_now && !data.test.is_empty() {
                let metrics = self.evaluate(data)?;
                self.log_metrics(
                    &serde_json::to_value(&metrics).map_err(|e| ModelError::Eval(e.to_string()))?,
                )?;
                observer.on_eval(&metrics);
                if metrics.improves_on(self.best.as_ref()) {
                    self.best = Some(metrics.best_metrics());
                    if let Some(dir) = self.save(BEST)? {
                        observer.on_checkpoint(it, &dir);
                    }
                }
                last_eval = Some(metrics);
            }
            let ckpt = it == total
                || (self.config.checkpoint_every > 0
                    && it.is_multiple_of(self.config.checkpoint_every));
            if observer.should_stop() {
                stopped = it < total;
                if let Some(dir) = self.save(LAST)? {
                    observer.on_checkpoint(it, &dir);
                }
                break;
            }
            if ckpt {
                if let Some(dir) = self.save(LAST)? {
                    observer.on_checkpoint(it, &dir);
                }
            }
        }
        drop(rx);
        if producer.join().is_err() || (self.iteration < total && !stopped) {
            return Err(ModelError::Config(format!(
                "the batch-sampling thread failed at iteration {} of {total}",
                self.iteration
            )));
        }
        Ok(TrainSummary {
            iteration: self.iteration,
            stopped,
            last_losses,
            last_eval,
            best: best_pair(self.best),
        })
    }

    /// Evaluates the current models on the test split (see [`evaluate`]) with the run's
    /// localization settings.
    pub fn evaluate(&self, data: &WtalDataset) -> ModelResult<EvalMetrics> {
        self.evaluate_with(data, self.config.localize.as_ref())
    }

    /// Evaluates the current models on the test split with the given localization settings
    /// (`None`: the dataset's preset).
    pub fn evaluate_with(
        &self,
        data: &WtalDataset,
        localize: Option<&LocalizeConfig>,
    ) -> ModelResult<EvalMetrics> {
        let valid: Vec<(StreamKind, StreamModel<B::InnerBackend>)> = self
            .streams
            .iter()
            .filter_map(|s| s.model.as_ref().map(|m| (s.kind, m.valid())))
            .collect();
        let refs: Vec<(StreamKind, &StreamModel<B::InnerBackend>)> =
            valid.iter().map(|(k, m)| (*k, m)).collect();
        let mut metrics = evaluate(
            &refs,
            data,
            self.config.rgb_weight,
            localize,
            &self.batching,
            &self.device,
        )?
        .0;
        metrics.iteration = self.iteration;
        Ok(metrics)
    }

    /// Saves the checkpoint `name` (`last` or `best`) into the run directory; `None` without
    /// one.
    pub fn save(&self, name: &str) -> ModelResult<Option<PathBuf>> {
        let Some(run_dir) = &self.run_dir else {
            return Ok(None);
        };
        let w = CheckpointWriter::new(run_dir, name)?;
        for s in &self.streams {
            let model = s.model.as_ref().expect("model present");
            w.module::<B, _>(&format!("{}.mpk", s.kind.name()), model)?;
            let bytes = record_to_bytes::<B, _>(s.optim.to_record())?;
            w.bytes(&format!("{}-optim.mpk", s.kind.name()), &bytes)?;
        }
        let state = CheckpointState {
            iteration: self.iteration,
            best_metric: self.best.map(|b| b.average_map),
            best_iteration: self.best.map(|b| b.iteration),
            best_classification_map: self.best.map(|b| b.classification_map),
            streams: self
                .streams
                .iter()
                .map(|s| s.kind.name().to_string())
                .collect(),
        };
        w.finish(&state).map(Some)
    }

    fn log_metrics(&self, value: &serde_json::Value) -> ModelResult<()> {
        let Some(dir) = &self.run_dir else {
            return Ok(());
        };
        let path = dir.join(METRICS_FILE);
        let mut f = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| ModelError::io(&path, e))?;
        writeln!(f, "{value}").map_err(|e| ModelError::io(&path, e))
    }
}

/// Reads `config.json` of a run directory.
pub fn load_config(run_dir: &Path) -> ModelResult<TrainConfig> {
    let path = run_dir.join(CONFIG_FILE);
    let text = fs::read_to_string(&path).map_err(|e| ModelError::io(&path, e))?;
    serde_json::from_str(&text).map_err(|e| ModelError::Config(format!("{}: {e}", path.display())))
}

/// Loads the models of a run directory's checkpoint `name` (`best`, falling back to `last`
/// when `name` is `best` and there is none) for inference. The feature dimensions come from
/// the run's [`RunData`]; `data_dims` (rgb, flow) is needed only for runs written before runs
/// recorded it.
pub fn load_models<B: Backend>(
    run_dir: &Path,
    name: &str,
    data_dims: Option<(usize, usize)>,
    device: &B::Device,
) -> ModelResult<(TrainConfig, StreamModels<B>)> {
    let config = load_config(run_dir)?;
    let data_dims = match (&config.data, data_dims) {
        (Some(d), _) => (d.rgb_dim, d.flow_dim),
        (None, Some(dims)) => dims,
        (None, None) => {
            return Err(ModelError::Config(format!(
                "{} does not record its feature dimensions (a run from an older maan): \
                 give its dataset",
                run_dir.display()
            )))
        }
    };
    let dir = checkpoint_dir(run_dir, name)
        .or_else(|| {
            if name == BEST {
                checkpoint_dir(run_dir, LAST)
            } else {
                None
            }
        })
        .ok_or_else(|| ModelError::Checkpoint(format!("no checkpoint in {}", run_dir.display())))?;
    let state = read_state(&dir)?;
    let mut models = Vec::new();
    for kind in config.streams.kinds() {
        if !state.streams.iter().any(|n| n == kind.name()) {
            continue;
        }
        let dim = stream_dim(kind, data_dims.0, data_dims.1);
        let model = config.model.clone().with_feature_dim(dim).init::<B>(device);
        let model = load_module(model, &dir.join(format!("{}.mpk", kind.name())), device)?;
        models.push((kind, model));
    }
    if models.is_empty() {
        return Err(ModelError::Checkpoint(format!(
            "{} holds no model",
            dir.display()
        )));
    }
    Ok((config, models))
}

/// A batch gathered on the host (row-major arrays), ready to upload.
#[derive(Debug, Clone, PartialEq)]
pub struct HostBatch {
    /// Videos in the batch.
    pub batch: usize,
    /// Snippets per video (padded).
    pub time: usize,
    /// RGB features `[batch, time, rgb_dim]`.
    pub rgb: Vec<f32>,
    /// RGB dimension.
    pub rgb_dim: usize,
    /// Flow features `[batch, time, flow_dim]` (empty without flow).
    pub flow: Vec<f32>,
    /// Flow dimension (0 without flow).
    pub flow_dim: usize,
    /// `true` on real snippets, `[batch, time]`.
    pub mask: Vec<bool>,
    /// Multi-hot labels `[batch, num_classes]`.
    pub labels: Vec<f32>,
    /// Classes.
    pub num_classes: usize,
}

impl HostBatch {
    /// Stacks sampled items, zero-padding to the longest.
    pub fn stack(items: &[TrainItem]) -> HostBatch {
        let b = items.len();
        let t = items.iter().map(|i| i.len).max().unwrap_or(0);
        let rd = items.first().map_or(0, |i| i.rgb_dim);
        let fd = items.first().map_or(0, |i| i.flow_dim);
        let c = items.first().map_or(0, |i| i.labels.len());
        let mut out = HostBatch {
            batch: b,
            time: t,
            rgb: vec![0.0; b * t * rd],
            rgb_dim: rd,
            flow: vec![0.0; b * t * fd],
            flow_dim: fd,
            mask: vec![false; b * t],
            labels: vec![0.0; b * c],
            num_classes: c,
        };
        for (k, item) in items.iter().enumerate() {
            out.rgb[k * t * rd..k * t * rd + item.rgb.len()].copy_from_slice(&item.rgb);
            out.flow[k * t * fd..k * t * fd + item.flow.len()].copy_from_slice(&item.flow);
            out.mask[k * t..k * t + item.len]
                .iter_mut()
                .for_each(|m| *m = true);
            out.labels[k * c..(k + 1) * c].copy_from_slice(&item.labels[..c]);
        }
        out
    }
}

/// A training batch on the device, as [`Trainer::step_device`] takes it.
#[derive(Debug, Clone)]
pub struct DeviceBatch<B: Backend> {
    /// RGB features, when the RGB stream is trained. Shape `[batch, time, rgb_dim]`.
    pub rgb: Option<Tensor<B, 3>>,
    /// Flow features, when the flow stream is trained. Shape `[batch, time, flow_dim]`.
    pub flow: Option<Tensor<B, 3>>,
    /// Multi-hot labels. Shape `[batch, num_classes]`.
    pub labels: Tensor<B, 2>,
    /// `true` on real snippets, `None` when every snippet is real. Shape `[batch, time]`.
    pub mask: Option<Tensor<B, 2, Bool>>,
}

impl<B: Backend> DeviceBatch<B> {
    /// Uploads the features of the streams `kinds`, the labels and the mask of `batch`.
    pub fn upload(batch: &HostBatch, kinds: &[StreamKind], device: &B::Device) -> Self {
        let [b, t] = [batch.batch, batch.time];
        let feats = |kind: StreamKind| {
            kinds.contains(&kind).then(|| {
                let (data, dim) = match kind {
                    StreamKind::Rgb => (&batch.rgb, batch.rgb_dim),
                    StreamKind::Flow => (&batch.flow, batch.flow_dim),
                };
                Tensor::<B, 3>::from_data(TensorData::new(data.clone(), [b, t, dim]), device)
            })
        };
        DeviceBatch {
            rgb: feats(StreamKind::Rgb),
            flow: feats(StreamKind::Flow),
            labels: Tensor::from_data(
                TensorData::new(batch.labels.clone(), [b, batch.num_classes]),
                device,
            ),
            mask: (!batch.mask.iter().all(|&m| m))
                .then(|| Tensor::from_data(TensorData::new(batch.mask.clone(), [b, t]), device)),
        }
    }
}

/// The training sampler: which videos and snippets iteration `i` sees, a pure function of
/// `(seed, i)` (see the module docs).
#[derive(Debug, Clone)]
pub struct Sampler {
    data: Arc<TrainDataset>,
    seed: u64,
    batch_size: usize,
}

impl Sampler {
    /// A sampler over `videos` with the run's seed, batch size and T.
    pub fn new(config: &TrainConfig, videos: Vec<Arc<Video>>) -> Self {
        Sampler {
            data: Arc::new(TrainDataset::new(videos, config.num_segments, config.seed)),
            seed: config.seed,
            batch_size: config.batch_size,
        }
    }

    /// `(video index, epoch)` of each element of iteration `iteration`'s batch.
    pub fn indices(&self, iteration: usize) -> Vec<(usize, u64)> {
        let n = self.data.videos().len();
        let mut perm: Option<(u64, Vec<usize>)> = None;
        (0..self.batch_size)
            .map(|j| {
                let pos = (iteration * self.batch_size + j) as u64;
                let epoch = pos / n as u64;
                if perm.as_ref().is_none_or(|p| p.0 != epoch) {
                    let mut v: Vec<usize> = (0..n).collect();
                    v.shuffle(&mut StdRng::seed_from_u64(dataset::sampling::mix_seed(
                        self.seed, epoch, 0x5EED,
                    )));
                    perm = Some((epoch, v));
                }
                let p = &perm.as_ref().expect("set above").1;
                (p[(pos % n as u64) as usize], epoch)
            })
            .collect()
    }

    /// The host batch of iteration `iteration`.
    pub fn batch(&self, iteration: usize) -> HostBatch {
        let items: Vec<TrainItem> = self
            .indices(iteration)
            .into_iter()
            .filter_map(|(i, e)| self.data.sample(i, e))
            .collect();
        HostBatch::stack(&items)
    }
}

use burn::tensor::ElementConversion as _;
