//! How experiments train and evaluate their models: where ([`Session`]), how long
//! ([`Schedule`]), what they report while they do ([`Observer`]), and the training helpers
//! every temporal experiment shares.

use std::path::Path;

use burn::tensor::backend::{AutodiffBackend, Backend};
use dataset::synth::{generate, SynthConfig};
use dataset::{LoadOptions, WtalDataset};
use maa_core::Aggregator;
use maan_model::infer::Batching;
use maan_model::{fit_config, EvalMetrics, StreamModelConfig, TrainConfig, TrainObserver, Trainer};

use crate::error::{Error, Result};

/// Where an experiment's models train and run, and the backend's name its reports state.
#[derive(Debug, Clone)]
pub struct Session<B: Backend> {
    /// The device every model trains and runs on.
    pub device: B::Device,
    /// How whole videos are batched for inference on this backend (buckets on GPUs, exact
    /// lengths on CPUs).
    pub batching: Batching,
    /// The backend's name (`flex`, `cuda`, ...), as the reports state it.
    pub backend: String,
    /// The commit of the code running the experiment, as the reports state it (`unknown`
    /// when not known; the command line records the commit it was built from).
    pub commit: String,
}

/// Seeds, iterations and batch size of every model of an experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Seeds per model.
    pub seeds: u64,
    /// Training iterations per model and stream.
    pub iterations: usize,
    /// Videos per batch.
    pub batch_size: usize,
}

/// What an experiment reports while it runs; every method does nothing by default. The
/// command line draws a progress bar with it.
pub trait Observer {
    /// The experiment starts and will run `total_iterations` training iterations in all.
    fn on_start(&mut self, _total_iterations: u64) {}
    /// A model starts training: `model` names it, `detail` says on which data and seed.
    fn on_model(&mut self, _model: &str, _detail: &str) {}
    /// One training iteration finished.
    fn on_iteration(&mut self) {}
    /// A trained model's scores, as one line of text.
    fn on_result(&mut self, _line: &str) {}
}

/// An observer that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Observer for Silent {}

/// Forwards the trainer's iterations to an experiment's [`Observer`].
struct Iterations<'a>(&'a mut dyn Observer);

impl TrainObserver for Iterations<'_> {
    fn on_iteration(&mut self, _iteration: usize, _losses: &[f32]) {
        self.0.on_iteration();
    }
}

/// Trains one model (both streams when the data has them) with `agg`, seed `seed`, and the
/// Table 1 settings (no evaluation or checkpoint on the way), reporting every iteration to
/// `observer`; returns the trainer and its evaluation on the test split with the dataset's
/// paper preset.
pub fn train_and_evaluate<B: AutodiffBackend>(
    data: &WtalDataset,
    agg: Aggregator,
    seed: u64,
    iterations: usize,
    batch_size: usize,
    session: &Session<B>,
    observer: &mut dyn Observer,
) -> Result<(Trainer<B>, EvalMetrics)> {
    let model = StreamModelConfig::new().with_aggregator(agg);
    train_model_and_evaluate(data, model, seed, iterations, batch_size, session, observer)
}

/// [`train_and_evaluate`] for any stream configuration (e.g. with background modelling).
pub fn train_model_and_evaluate<B: AutodiffBackend>(
    data: &WtalDataset,
    model: StreamModelConfig,
    seed: u64,
    iterations: usize,
    batch_size: usize,
    session: &Session<B>,
    observer: &mut dyn Observer,
) -> Result<(Trainer<B>, EvalMetrics)> {
    let config = TrainConfig::new(model)
        .with_iterations(iterations)
        .with_batch_size(batch_size)
        .with_seed(seed);
    train_config_and_evaluate(data, config, session, observer)
}

/// [`train_model_and_evaluate`] for a whole training configuration (its iterations, batch,
/// seed, T, erasing and localization are used; no evaluation or checkpoint on the way): the
/// trainer and its evaluation with the configuration's localization.
pub fn train_config_and_evaluate<B: AutodiffBackend>(
    data: &WtalDataset,
    config: TrainConfig,
    session: &Session<B>,
    observer: &mut dyn Observer,
) -> Result<(Trainer<B>, EvalMetrics)> {
    let config = config.with_eval_every(0).with_checkpoint_every(0);
    let config = fit_config(&config, data)?;
    let mut trainer = Trainer::<B>::new(config, data, None, session.device.clone())?;
    trainer.set_batching(session.batching);
    let summary = trainer.run(data, &mut Iterations(observer))?;
    let metrics = match summary.last_eval {
        Some(m) => m,
        None => trainer.evaluate(data)?,
    };
    Ok((trainer, metrics))
}

/// Generates `cfg` into `dir`, loads it, and removes the files (the loaded dataset is in
/// memory).
pub fn generate_and_load(dir: &Path, cfg: &SynthConfig) -> Result<WtalDataset> {
    generate(dir, cfg).map_err(|source| Error::Generate {
        dir: dir.to_path_buf(),
        source,
    })?;
    let data = WtalDataset::load(dir, &LoadOptions::default()).map_err(|source| Error::Load {
        dir: dir.to_path_buf(),
        source,
    })?;
    std::fs::remove_dir_all(dir).map_err(|source| Error::Remove {
        dir: dir.to_path_buf(),
        source,
    })?;
    Ok(data)
}
