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
//!    ([`dataset::Sampler`], which gathers the [`HostBatch`]);
//! 3. reseeds the backend with `(seed, iteration)` (only the Dropout aggregator draws from it);
//! 4. runs forward, backward and an Adam step per stream ([`crate::optim::FlatAdam`]: Burn's
//!    Adam over all of a stream's parameters at once, a handful of kernel launches instead of a
//!    dozen per parameter tensor).
//!
//! How step 4 computes is the [`StepEngine`]: Burn's autodiff on the backend's tensors (every
//! backend and option), or, on the CPU backends (flex, ndarray), the fused step of
//! [`crate::fused`] (the same loss and gradients computed in host memory, then Adam in one
//! pass), which is the default there. Both give the same training to float rounding.
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

pub(crate) mod config;
mod overrides;

pub(crate) use config::stream_dim;
pub use config::{
    fit_config, EraseFraction, EraseProbability, RunData, Streams, TrainConfig,
    ACTIVITYNET_BATCH_SIZE, ACTIVITYNET_MAAN_ATTENTION_ERASE, ACTIVITYNET_MAAN_BACKGROUND,
    ACTIVITYNET_MAAN_SEGMENTS,
};
pub use overrides::{Recipe, ResumePlan, SettingDefault, TrainOverrides};

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;

use burn::module::AutodiffModule;
use burn::optim::GradientsParams;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Bool, ElementConversion as _, Tensor, TensorData};
use dataset::{HostBatch, WtalDataset};
use maan_eval::localize::LocalizeConfig;

use crate::checkpoint::{
    checkpoint_dir, load_module, read_state, record_from_bytes, record_to_bytes, CheckpointState,
    CheckpointWriter,
};
use crate::error::{ModelError, Result as ModelResult};
use crate::evaluate::{BestMetrics, EvalMetrics};
use crate::fused::{FusedBatch, FusedStep};
use crate::infer::{Batching, StreamKind};
use crate::model::StreamModel;
use crate::optim::{read_params, write_params, AdamRecord, FlatAdam};
use crate::predict::evaluate;
use crate::run::{self, RunDir, BEST, LAST};

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

/// How a training step computes the loss, its gradients and the Adam update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepEngine {
    /// Burn's autodiff on the backend's tensors, then [`FlatAdam::step`]: every backend and
    /// every option.
    Autodiff,
    /// [`crate::fused::FusedStep`] in host memory, then [`FlatAdam::step_host`]: CPU backends
    /// (flex, ndarray) with `f32` parameters, every aggregator but `Dropout`. The default on
    /// flex and ndarray; on a GPU backend it would read the parameters back at every step.
    Fused,
}

impl StepEngine {
    /// Both engines.
    pub const ALL: [StepEngine; 2] = [StepEngine::Autodiff, StepEngine::Fused];

    /// The engine's name: `autodiff` or `fused`.
    pub fn name(&self) -> &'static str {
        match self {
            StepEngine::Autodiff => "autodiff",
            StepEngine::Fused => "fused",
        }
    }

    /// The default for backend `B` on `device` and the model `config`: [`StepEngine::Fused`]
    /// on flex and ndarray with `f32` floats when the aggregator allows it, else
    /// [`StepEngine::Autodiff`].
    pub fn default_for<B: AutodiffBackend>(
        device: &B::Device,
        config: &crate::StreamModelConfig,
    ) -> Self {
        let name = <B::InnerBackend as Backend>::name(device);
        let cpu = name == "flex" || name == "ndarray";
        let f32_floats =
            Tensor::<B::InnerBackend, 1>::zeros([1], device).dtype() == burn::tensor::DType::F32;
        if cpu && f32_floats && crate::fused::FusedStep::new(config).is_some() {
            StepEngine::Fused
        } else {
            StepEngine::Autodiff
        }
    }
}

impl std::fmt::Display for StepEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for StepEngine {
    type Err = String;
    /// `autodiff` or `fused`.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        StepEngine::ALL
            .into_iter()
            .find(|e| e.name() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| format!("unknown step engine {s:?} (expected autodiff or fused)"))
    }
}

/// One stream being trained.
struct StreamState<B: AutodiffBackend> {
    kind: StreamKind,
    /// The stream's feature dimension.
    dim: usize,
    /// The model; with [`StepEngine::Fused`], its parameters may be older than
    /// [`FusedState::params`] (see [`StreamState::current`]).
    model: Option<StreamModel<B>>,
    optim: FlatAdam<B>,
    /// With [`StepEngine::Fused`]: the fused step, its buffers and the host parameters.
    fused: Option<FusedState>,
    /// `model` with the fused step's newer parameters written in, made on first access after
    /// a fused step (the training loop reads the model only to evaluate and save).
    current: std::cell::OnceCell<StreamModel<B>>,
}

/// The fused step of one stream and the parameters it trains, in host memory.
struct FusedState {
    step: FusedStep,
    /// The gradient. `[n]`.
    grad: Vec<f32>,
    /// The parameters, flat ([`read_params`]). `[n]`.
    params: Vec<f32>,
    /// Whether `params` holds the training's parameters (newer than the model's); if not,
    /// the next step reads them from the model.
    ahead: bool,
}

impl<B: AutodiffBackend> StreamState<B> {
    /// The model with the latest parameters.
    fn current(&self) -> &StreamModel<B> {
        let model = self.model.as_ref().expect("model present");
        match &self.fused {
            Some(f) if f.ahead => self
                .current
                .get_or_init(|| write_params(model.clone(), &f.params)),
            _ => model,
        }
    }

    /// Writes the fused step's parameters into `model`, so that code that replaces or steps
    /// the model starts from the latest parameters.
    fn sync(&mut self) {
        if let Some(f) = &mut self.fused {
            if f.ahead {
                let model = self.model.take().expect("model present");
                self.model = Some(match self.current.take() {
                    Some(current) => current,
                    None => write_params(model, &f.params),
                });
                f.ahead = false;
            }
        }
    }
}

/// A training run: models, optimizers, iteration counter, and where it saves.
pub struct Trainer<B: AutodiffBackend> {
    config: TrainConfig,
    device: B::Device,
    streams: Vec<StreamState<B>>,
    iteration: usize,
    best: Option<BestMetrics>,
    run_dir: Option<RunDir>,
    batching: Batching,
    engine: StepEngine,
}

impl<B: AutodiffBackend> std::fmt::Debug for Trainer<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trainer")
            .field("config", &self.config)
            .field("iteration", &self.iteration)
            .field("best", &self.best)
            .field("run_dir", &self.run_dir)
            .field("engine", &self.engine)
            .finish()
    }
}

impl<B: AutodiffBackend> Trainer<B> {
    /// A fresh run. `config` must come from [`fit_config`] (or match the data). `run_dir`
    /// ([`RunDir::create`]) receives `config.json`, `metrics.jsonl` and the checkpoints, and
    /// stays locked while the trainer lives; `None` trains without saving anything.
    pub fn new(
        config: TrainConfig,
        data: &WtalDataset,
        run_dir: Option<RunDir>,
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
                    dim,
                    model: Some(
                        config
                            .model
                            .clone()
                            .with_feature_dim(dim)
                            .init::<B>(&device),
                    ),
                    optim: FlatAdam::new(),
                    fused: None,
                    current: Default::default(),
                }
            })
            .collect();
        if let Some(dir) = &run_dir {
            dir.write_config(&config)?;
        }
        let mut trainer = Trainer {
            engine: StepEngine::Autodiff,
            config,
            device,
            streams,
            iteration: 0,
            best: None,
            run_dir,
            batching: Batching::default(),
        };
        trainer.set_engine(StepEngine::default_for::<B>(
            &trainer.device,
            &trainer.config.model,
        ))?;
        Ok(trainer)
    }

    /// Chooses how the next steps compute (default: [`StepEngine::default_for`]). The
    /// optimizer state carries over: switching engines mid-run continues the same training.
    ///
    /// # Errors
    /// [`StepEngine::Fused`] with the `Dropout` aggregator.
    pub fn set_engine(&mut self, engine: StepEngine) -> ModelResult<()> {
        for s in &mut self.streams {
            s.sync();
            s.fused = match engine {
                StepEngine::Autodiff => None,
                StepEngine::Fused => {
                    // Not from the model: touching a parameter would initialise it now, and
                    // Burn draws parameters lazily, at first use, in the first step.
                    let config = self.config.model.clone().with_feature_dim(s.dim);
                    let step = FusedStep::new(&config).ok_or_else(|| {
                        ModelError::Config(format!(
                            "the fused training step does not support the {} aggregator \
                             (its training mask comes from the backend's random generator)",
                            config.aggregator
                        ))
                    })?;
                    Some(FusedState {
                        grad: vec![0.0; step.num_params()],
                        step,
                        params: Vec::new(),
                        ahead: false,
                    })
                }
            };
        }
        self.engine = engine;
        Ok(())
    }

    /// How the steps compute (see [`StepEngine`]).
    pub fn engine(&self) -> StepEngine {
        self.engine
    }

    /// Continues the run in `run_dir` from its `last` checkpoint (models, Adam states,
    /// iteration, best metric), with the saved `config.json`; `iterations` (if given)
    /// replaces the total number of iterations.
    pub fn resume(
        run: RunDir,
        data: &WtalDataset,
        iterations: Option<usize>,
        device: B::Device,
    ) -> ModelResult<Self> {
        let run_dir = run.path().to_path_buf();
        let run_dir = run_dir.as_path();
        let mut config = run.config()?;
        if let Some(n) = iterations {
            config.iterations = n;
        }
        let dir = checkpoint_dir(run_dir, LAST)
            .ok_or_else(|| ModelError::NoRun(run_dir.to_path_buf()))?;
        let state = read_state(&dir)?;
        let mut trainer = Trainer::new(config, data, None, device)?;
        trainer.run_dir = Some(run);
        for s in &mut trainer.streams {
            let name = s.kind.name();
            if !state.streams.iter().any(|n| n == name) {
                return Err(ModelError::Checkpoint(format!(
                    "{} has no {name} stream",
                    dir.display()
                )));
            }
            s.sync();
            let model = s.model.take().expect("model present");
            let path = dir.join(format!("{name}.mpk"));
            let model = load_module(model, &path, &trainer.device)?;
            let dim = stream_dim(s.kind, data.rgb_dim(), data.flow_dim());
            run::check_loaded_shapes(
                &model,
                &trainer.config.model.clone().with_feature_dim(dim),
                &path,
            )?;
            s.model = Some(model);
            let path = dir.join(format!("{name}-optim.mpk"));
            let bytes = fs::read(&path).map_err(|e| ModelError::io(&path, e))?;
            let record = record_from_bytes::<B, AdamRecord<B>>(bytes, &trainer.device)?;
            let model = s.model.as_ref().expect("model present");
            s.optim
                .load_record(record, model)
                .map_err(|e| ModelError::Checkpoint(format!("{}: {e}", path.display())))?;
        }
        trainer.iteration = state.iteration;
        if let Some(run) = &trainer.run_dir {
            run.drop_metrics_after(state.iteration)?;
        }
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
            .map(|s| s.current())
    }

    /// Every trained stream with its model.
    pub fn models(&self) -> Vec<(StreamKind, &StreamModel<B>)> {
        self.streams.iter().map(|s| (s.kind, s.current())).collect()
    }

    /// One training iteration on a batch gathered on the host: uploads it, then
    /// [`Trainer::step_device`]. Returns the losses as tensors (`[1]` each, not read back).
    pub fn step(&mut self, batch: &HostBatch) -> Vec<Tensor<B, 1>> {
        if self.engine == StepEngine::Fused {
            return self.step_fused(batch);
        }
        let batch = DeviceBatch::upload(batch, &self.config.streams.kinds(), &self.device);
        self.step_device(batch)
    }

    /// [`Trainer::step`] with [`StepEngine::Fused`]: per stream, [`FusedStep::loss_and_gradient`]
    /// and [`FlatAdam::step_host`] on the parameters in host memory (read from the model at
    /// the first step, written back when the model is next read).
    fn step_fused(&mut self, batch: &HostBatch) -> Vec<Tensor<B, 1>> {
        // As `step_device`: a fresh model's parameters are drawn lazily, here by
        // `read_params` in the order the forward pass would use them, after this reseeding,
        // so both engines start a run from the same weights.
        B::seed(
            &self.device,
            dataset::sampling::mix_seed(self.config.seed, self.iteration as u64, 0xD0),
        );
        let lr = self.config.learning_rate;
        let attention_erase = self.config.attention_erase.0;
        // Parameters are read (a fresh model's drawn) in stream order, on this thread.
        for s in &mut self.streams {
            let model = s.model.as_ref().expect("model present");
            let f = s
                .fused
                .as_mut()
                .expect("set_engine prepared the fused step");
            if !f.ahead {
                f.params = read_params::<B, _>(model);
                f.ahead = true;
            }
            s.current.take();
        }
        let step = |s: &mut StreamState<B>| -> f32 {
            let features = match s.kind {
                StreamKind::Rgb => &batch.rgb,
                StreamKind::Flow => &batch.flow,
            };
            let model = s.model.as_ref().expect("model present");
            let f = s.fused.as_mut().expect("prepared above");
            let loss = f.step.loss_and_gradient(
                &f.params,
                FusedBatch {
                    features,
                    labels: &batch.labels,
                    mask: &batch.mask,
                    batch: batch.batch,
                    time: batch.time,
                },
                attention_erase,
                &mut f.grad,
            );
            s.optim.step_host(lr, model, &mut f.params, &f.grad);
            loss
        };
        // Two streams train side by side, one per core (their products then run on one core
        // each, without the synchronisation of splitting one small product over two cores);
        // each stream's arithmetic is the same whatever runs beside it.
        let losses: Vec<f32> = match self.streams.as_mut_slice() {
            [a, b] => {
                let (la, lb) = rayon::join(|| step(a), || step(b));
                vec![la, lb]
            }
            streams => streams.iter_mut().map(step).collect(),
        };
        self.iteration += 1;
        losses
            .into_iter()
            .map(|l| Tensor::from_data(TensorData::new(vec![l], [1]), &self.device))
            .collect()
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
        let attention_erase = self.config.attention_erase.0;
        let mut losses = Vec::with_capacity(self.streams.len());
        for s in &mut self.streams {
            let x = match s.kind {
                StreamKind::Rgb => rgb.take(),
                StreamKind::Flow => flow.take(),
            }
            .expect("the batch holds the features of every trained stream");
            s.sync();
            let model = s.model.take().expect("model present");
            let mask = if attention_erase > 0.0 {
                Some(model.attention_erasing_mask(x.clone(), mask.clone(), attention_erase))
            } else {
                mask.clone()
            };
            let loss = model.forward_loss(x, labels.clone(), mask);
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
        let sampler = self.config.sampler(data.train.clone());
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
        let valid = self.valid_models();
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

    /// The trained streams' models without autodiff, for inference.
    fn valid_models(&self) -> Vec<(StreamKind, StreamModel<B::InnerBackend>)> {
        self.streams
            .iter()
            .map(|s| (s.kind, s.current().valid()))
            .collect()
    }

    /// The current models' outputs (fused CAS, video scores, attention) on every test video
    /// of `data`, in the order of `data.test`.
    pub fn test_outputs(&self, data: &WtalDataset) -> ModelResult<Vec<crate::VideoOutput>> {
        let valid = self.valid_models();
        let refs: Vec<(StreamKind, &StreamModel<B::InnerBackend>)> =
            valid.iter().map(|(k, m)| (*k, m)).collect();
        crate::infer::run_videos_with(
            &refs,
            &data.test,
            self.config.rgb_weight,
            &self.batching,
            &self.device,
        )
    }

    /// Saves the checkpoint `name` (`last` or `best`) into the run directory; `None` without
    /// one.
    pub fn save(&self, name: &str) -> ModelResult<Option<PathBuf>> {
        let Some(run_dir) = &self.run_dir else {
            return Ok(None);
        };
        let w = CheckpointWriter::new(run_dir.path(), name)?;
        for s in &self.streams {
            let model = s.current();
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
        match &self.run_dir {
            Some(run) => run.append_metrics(value),
            None => Ok(()),
        }
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
