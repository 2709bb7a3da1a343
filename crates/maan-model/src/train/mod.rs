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

mod config;
mod run_dir;

pub use config::{
    fit_config, EraseFraction, EraseProbability, RunData, Streams, TrainConfig,
    ACTIVITYNET_BATCH_SIZE, ACTIVITYNET_MAAN_ATTENTION_ERASE, ACTIVITYNET_MAAN_BACKGROUND,
    ACTIVITYNET_MAAN_SEGMENTS,
};
pub use run_dir::{load_config, load_models, RunDir, StreamModels, LOCK_FILE};

use std::fs;
use std::io::Write;
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
    self, checkpoint_dir, load_module, read_state, record_from_bytes, record_to_bytes,
    CheckpointState, CheckpointWriter, BEST, LAST, METRICS_FILE,
};
use crate::error::{ModelError, Result as ModelResult};
use crate::evaluate::{evaluate, BestMetrics, EvalMetrics};
use crate::infer::{Batching, StreamKind};
use crate::model::StreamModel;
use crate::optim::{AdamRecord, FlatAdam};
use config::stream_dim;

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
    run_dir: Option<RunDir>,
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
        if let Some(dir) = &run_dir {
            dir.write_config(&config)?;
        }
        Ok(Trainer {
            config,
            device,
            streams,
            iteration: 0,
            best: None,
            run_dir,
            batching: Batching::default(),
        })
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
            let model = s.model.take().expect("model present");
            let path = dir.join(format!("{name}.mpk"));
            let model = load_module(model, &path, &trainer.device)?;
            let dim = stream_dim(s.kind, data.rgb_dim(), data.flow_dim());
            run_dir::check_loaded_shapes(
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
        drop_metrics_after(run_dir, state.iteration)?;
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
        let attention_erase = self.config.attention_erase.0;
        let mut losses = Vec::with_capacity(self.streams.len());
        for s in &mut self.streams {
            let x = match s.kind {
                StreamKind::Rgb => rgb.take(),
                StreamKind::Flow => flow.take(),
            }
            .expect("the batch holds the features of every trained stream");
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
            .filter_map(|s| s.model.as_ref().map(|m| (s.kind, m.valid())))
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
        let path = dir.path().join(METRICS_FILE);
        let mut f = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| ModelError::io(&path, e))?;
        writeln!(f, "{value}").map_err(|e| ModelError::io(&path, e))
    }
}

/// Rewrites the run's `metrics.jsonl` without the records of iterations after `iteration`
/// (and without a line cut short), atomically: a process killed after its last checkpoint
/// logged iterations that the resumed run trains again, and each iteration must appear once.
fn drop_metrics_after(run_dir: &Path, iteration: usize) -> ModelResult<()> {
    let path = run_dir.join(METRICS_FILE);
    let Ok(text) = fs::read_to_string(&path) else {
        return Ok(());
    };
    let mut kept = String::with_capacity(text.len());
    for line in text.lines() {
        let it = serde_json::from_str::<serde_json::Value>(line)
            .ok()
            .and_then(|v| v.get("iteration").and_then(serde_json::Value::as_u64));
        if it.is_some_and(|it| it as usize <= iteration) {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    if kept.len() != text.len() {
        checkpoint::write_atomic(&path, kept.as_bytes())?;
    }
    Ok(())
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
