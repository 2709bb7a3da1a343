//! `maan experiment <name>`: the paper's tables and this project's studies, one subcommand
//! each, every one owning its flags:
//!
//! - `table1` ([`table1`]): the paper's Table 1 (MAAN against four aggregators);
//! - `regimes` ([`regimes`]): Table 1's models on every regime of the synthetic benchmark, a
//!   heat map over its two knobs, and with `--dataset activitynet` the ActivityNet-shaped
//!   family with MAAN's recipe;
//! - `ablation` ([`ablation`]): paper-faithful MAAN against the localization and background
//!   modelling of later WTAL code;
//! - `wsol` ([`wsol`]): Appendix F, weakly-supervised object localization.
//!
//! This module holds what they share: the training flags ([`TrainingArgs`]), one result row
//! ([`Row`]: a model's results over seeds), and the training-and-evaluation helpers.

use std::path::PathBuf;

use anyhow::Result;
use burn::tensor::backend::AutodiffBackend;
use dataset::WtalDataset;
use indicatif::{ProgressBar, ProgressStyle};
use maa_core::Aggregator;
use maan_model::{fit_config, EvalMetrics, StreamModelConfig, TrainConfig, TrainObserver, Trainer};
use serde::Serialize;

use crate::backend::{BackendArg, BackendOpts};

pub mod ablation;
pub mod regimes;
pub mod table1;
pub mod wsol;

/// Arguments of `maan experiment`.
#[derive(Debug, clap::Args)]
pub struct ExperimentArgs {
    /// Which experiment.
    #[command(subcommand)]
    pub command: ExperimentCommand,
}

/// The experiments.
#[derive(Debug, clap::Subcommand)]
pub enum ExperimentCommand {
    /// Table 1: MAAN against four feature aggregators (STPN, Dropout, Norm, SoftMaxNorm).
    Table1(table1::Table1Args),
    /// Table 1's five models on every regime of the synthetic benchmark, and a heat map of
    /// MAAN minus STPN over its two knobs; with `--dataset activitynet`, the ActivityNet-shaped
    /// family of datasets.
    Regimes(regimes::RegimesArgs),
    /// Paper-faithful MAAN against the localization and background modelling of later WTAL
    /// code, each alone and together, on every regime.
    Ablation(ablation::AblationArgs),
    /// Appendix F (Table 4, Figure 6): weakly-supervised object localization with GAP,
    /// weighted-sum and MAA pooling at 4×4 and 7×7.
    Wsol(wsol::WsolArgs),
}

/// Runs `maan experiment <name>`.
pub fn run(args: ExperimentArgs) -> Result<()> {
    match args.command {
        ExperimentCommand::Table1(a) => table1::run(a),
        ExperimentCommand::Regimes(a) => regimes::run(a),
        ExperimentCommand::Ablation(a) => ablation::run(a),
        ExperimentCommand::Wsol(a) => wsol::run(a),
    }
}

/// The training flags of `table1`, `regimes` and `ablation`.
#[derive(Debug, clap::Args)]
pub struct TrainingArgs {
    /// Number of seeds per model (0, 1, ... n-1).
    #[arg(long, default_value_t = 3)]
    pub seeds: u64,
    /// Training iterations per model and stream [default: 4000].
    #[arg(long)]
    pub iterations: Option<usize>,
    /// Videos per batch.
    #[arg(long, default_value_t = 16)]
    pub batch_size: usize,
    /// Backend and device.
    #[command(flatten)]
    pub backend: BackendOpts,
    /// Run directory of the experiment: its reports, figures and generated data [default:
    /// runs/<experiment>].
    #[arg(long, aliases = ["out", "output"], value_name = "RUN_DIR")]
    pub run: Option<PathBuf>,
    /// Hide the progress bar.
    #[arg(long)]
    pub quiet: bool,
}

impl TrainingArgs {
    /// An error for zero seeds or iterations.
    pub fn check(&self) -> Result<()> {
        if self.seeds == 0 || self.iterations == Some(0) {
            anyhow::bail!("--seeds and --iterations must be at least 1");
        }
        Ok(())
    }
}

/// The settings every report of `table1`, `regimes` and `ablation` states (flattened into
/// its JSON: the keys `backend`, `seeds`, `iterations`, `batch_size`).
#[derive(Debug, Clone, Serialize)]
pub struct ReportHeader {
    /// Backend used.
    pub backend: String,
    /// Seeds per model.
    pub seeds: u64,
    /// Iterations per model and stream.
    pub iterations: usize,
    /// Batch size.
    pub batch_size: usize,
}

/// The aggregators to train: `given`, or Table 1's five in the paper's order when empty.
pub(crate) fn aggregators(given: &[Aggregator]) -> Vec<Aggregator> {
    if given.is_empty() {
        TABLE1_ROWS.to_vec()
    } else {
        given.to_vec()
    }
}

/// The aggregators of Table 1, in the paper's row order.
pub const TABLE1_ROWS: [Aggregator; 5] = [
    Aggregator::WeightedSum,
    Aggregator::Dropout,
    Aggregator::Norm,
    Aggregator::SoftmaxNorm,
    Aggregator::Maa,
];

/// One model's results over seeds.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The paper's name of the model, with the localization variant when not the preset.
    pub method: String,
    /// Localization settings of this row (one line).
    pub localization: String,
    /// The `--aggregator` name.
    pub aggregator: String,
    /// tIoU thresholds.
    pub tiou_thresholds: Vec<f64>,
    /// AP (fraction) at each threshold, one vector per seed.
    pub map_per_seed: Vec<Vec<f64>>,
    /// Classification mAP (fraction) per seed.
    pub cls_map_per_seed: Vec<f64>,
    /// Average mAP over the tIoU thresholds (fraction) per seed.
    pub avg_map_per_seed: Vec<f64>,
    /// Mean of the average mAP over seeds.
    pub avg_map_mean: f64,
    /// Standard deviation of the average mAP over seeds.
    pub avg_map_std: f64,
    /// Mean over seeds at each threshold.
    pub map_mean: Vec<f64>,
    /// Sample standard deviation over seeds at each threshold (0 for one seed).
    pub map_std: Vec<f64>,
    /// Mean classification mAP.
    pub cls_map_mean: f64,
    /// Standard deviation of the classification mAP.
    pub cls_map_std: f64,
    /// The averages papers report that apply to the tIoU set (THUMOS14: `0.1:0.5`, `0.1:0.7`,
    /// `0.1:0.9`; ActivityNet1.3: `0.5:0.95`): label, mean and standard deviation over seeds
    /// (fractions).
    pub averages: Vec<(String, f64, f64)>,
}

/// The averages papers report ([`maan_eval::eval::reported_averages`]) of each seed's run,
/// as (label, mean, sample standard deviation over seeds), in the order of that function.
pub fn seed_averages(runs: &[EvalMetrics]) -> Vec<(String, f64, f64)> {
    let per_seed: Vec<Vec<(String, f64)>> = runs
        .iter()
        .map(|m| {
            maan_eval::eval::reported_averages(&m.tiou_thresholds, &m.map)
                .into_iter()
                .map(|a| (a.label(), a.map))
                .collect()
        })
        .collect();
    let Some(first) = per_seed.first() else {
        return Vec::new();
    };
    first
        .iter()
        .enumerate()
        .map(|(i, (label, _))| {
            let v: Vec<f64> = per_seed
                .iter()
                .filter_map(|s| s.get(i))
                .map(|a| a.1)
                .collect();
            let (m, sd) = mean_std(&v);
            (label.clone(), m, sd)
        })
        .collect()
}

/// Mean and sample standard deviation.
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mean = values.iter().sum::<f64>() / n;
    let var = if values.len() > 1 {
        values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var.sqrt())
}

impl Row {
    pub(crate) fn new(
        agg: Aggregator,
        variant: Option<&str>,
        localization: String,
        runs: &[EvalMetrics],
    ) -> Row {
        let tious = runs
            .first()
            .map(|m| m.tiou_thresholds.clone())
            .unwrap_or_default();
        let map_per_seed: Vec<Vec<f64>> = runs.iter().map(|m| m.map.clone()).collect();
        let cls: Vec<f64> = runs.iter().map(|m| m.classification_map).collect();
        let (map_mean, map_std) = (0..tious.len())
            .map(|i| mean_std(&map_per_seed.iter().map(|m| m[i]).collect::<Vec<_>>()))
            .unzip();
        let (cls_map_mean, cls_map_std) = mean_std(&cls);
        let avg: Vec<f64> = runs.iter().map(|m| m.average_map).collect();
        let (avg_map_mean, avg_map_std) = mean_std(&avg);
        Row {
            method: match variant {
                Some(v) => format!("{} ({v})", agg.paper_name()),
                None => agg.paper_name().to_string(),
            },
            localization,
            aggregator: agg.name().to_string(),
            tiou_thresholds: tious,
            map_per_seed,
            cls_map_per_seed: cls,
            avg_map_per_seed: avg,
            avg_map_mean,
            avg_map_std,
            map_mean,
            map_std,
            cls_map_mean,
            cls_map_std,
            averages: seed_averages(runs),
        }
    }
}

/// A tIoU threshold as a column label: two decimals when needed (0.55), else one (0.5).
pub(crate) fn tiou_label(t: f64) -> String {
    let two = format!("{t:.2}");
    if two.ends_with('0') {
        format!("{t:.1}")
    } else {
        two
    }
}

struct Bar {
    bar: ProgressBar,
}

impl TrainObserver for Bar {
    fn on_iteration(&mut self, _iteration: usize, _losses: &[f32]) {
        self.bar.inc(1);
    }
}

/// A progress bar over `total` training iterations (hidden with `quiet`).
pub(crate) fn progress_bar(total: u64, quiet: bool) -> ProgressBar {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(total)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>12} [{bar:30}] {pos}/{len} it ({per_sec}, eta {eta}) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

/// Trains one model (both streams when the data has them) with `agg`, seed `seed`, and the
/// Table 1 settings (no evaluation or checkpoint on the way), advancing `bar` every
/// iteration; returns the trainer and its evaluation on the test split with the dataset's
/// paper preset.
pub(crate) fn train_and_evaluate<B: AutodiffBackend>(
    data: &WtalDataset,
    agg: Aggregator,
    seed: u64,
    iterations: usize,
    batch_size: usize,
    device: &B::Device,
    backend: BackendArg,
    bar: &ProgressBar,
) -> Result<(Trainer<B>, EvalMetrics)> {
    let model = StreamModelConfig::new().with_aggregator(agg);
    train_model_and_evaluate(
        data, model, seed, iterations, batch_size, device, backend, bar,
    )
}

/// [`train_and_evaluate`] for any stream configuration (e.g. with background modelling).
#[allow(clippy::too_many_arguments)]
pub(crate) fn train_model_and_evaluate<B: AutodiffBackend>(
    data: &WtalDataset,
    model: StreamModelConfig,
    seed: u64,
    iterations: usize,
    batch_size: usize,
    device: &B::Device,
    backend: BackendArg,
    bar: &ProgressBar,
) -> Result<(Trainer<B>, EvalMetrics)> {
    let config = TrainConfig::new(model)
        .with_iterations(iterations)
        .with_batch_size(batch_size)
        .with_seed(seed);
    train_config_and_evaluate(data, config, device, backend, bar)
}

/// [`train_model_and_evaluate`] for a whole training configuration (its iterations, batch,
/// seed, T, erasing and localization are used; no evaluation or checkpoint on the way): the
/// trainer and its evaluation with the configuration's localization.
pub(crate) fn train_config_and_evaluate<B: AutodiffBackend>(
    data: &WtalDataset,
    config: TrainConfig,
    device: &B::Device,
    backend: BackendArg,
    bar: &ProgressBar,
) -> Result<(Trainer<B>, EvalMetrics)> {
    let config = config.with_eval_every(0).with_checkpoint_every(0);
    let config = fit_config(&config, data)?;
    let mut trainer = Trainer::<B>::new(config, data, None, device.clone())?;
    trainer.set_batching(backend.batching());
    let mut observer = Bar { bar: bar.clone() };
    let summary = trainer.run(data, &mut observer)?;
    let metrics = match summary.last_eval {
        Some(m) => m,
        None => trainer.evaluate(data)?,
    };
    Ok((trainer, metrics))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_std() {
        let (m, s) = mean_std(&[1.0, 2.0, 3.0, 4.0]);
        assert!((m - 2.5).abs() < 1e-12);
        assert!((s - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(mean_std(&[0.7]), (0.7, 0.0));
    }

    #[test]
    fn tiou_labels_keep_the_second_decimal_when_needed() {
        assert_eq!(tiou_label(0.5), "0.5");
        assert_eq!(tiou_label(0.55), "0.55");
        assert_eq!(tiou_label(0.8999999999999999), "0.9");
        assert_eq!(tiou_label(0.95), "0.95");
    }
}
