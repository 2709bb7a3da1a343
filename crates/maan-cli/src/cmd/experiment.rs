//! `maan experiment table1`: the paper's Table 1 on the synthetic THUMOS14-shaped benchmark
//! (or, with `--dataset activitynet`, on the ActivityNet-shaped one).
//!
//! Trains MAAN and the four baseline aggregators (STPN, Dropout, Norm, SoftMaxNorm; or those
//! named by `--aggregators`) with identical settings (data, iterations, batch, T, learning
//! rate, seeds), both streams fused 0.5 / 0.5, and reports AP at each tIoU of the dataset's
//! protocol, their average and the classification mAP as mean ± standard deviation over
//! seeds, in the layout of the paper's Table 1, as Markdown and JSON. Every model is evaluated
//! with the dataset's paper preset; when localization options are given (`--localize oic`,
//! `--suppression`, `--cas-smoothing`, `--proposal-score`), each trained model is also
//! evaluated with them, as a second row.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burn::tensor::backend::AutodiffBackend;
use dataset::WtalDataset;
use indicatif::{ProgressBar, ProgressStyle};
use maa_core::Aggregator;
use maan_model::{fit_config, EvalMetrics, StreamModelConfig, TrainConfig, TrainObserver, Trainer};
use serde::Serialize;

use crate::backend::{BackendArg, BackendJob, BackendOpts};
use crate::opts::{describe_localize, DataOpts, LocalizeOpts};

/// The experiment to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExperimentName {
    /// Table 1: MAAN against four feature aggregators (STPN, Dropout, Norm, SoftMaxNorm).
    Table1,
    /// Table 1's five models on every regime of the synthetic benchmark, and a heat map of
    /// MAAN minus STPN over its two knobs (see `maan experiment regimes --help`).
    Regimes,
    /// Appendix F (Table 4, Figure 6): weakly-supervised object localization with GAP,
    /// weighted-sum and MAA pooling at 4×4 and 7×7 (`cmd::wsol`).
    Wsol,
    /// Paper-faithful MAAN against the localization and background modelling of later WTAL
    /// code, each alone and together, on every regime (`cmd::ablation`).
    Ablation,
}

/// Default training iterations of `table1`.
pub const TABLE1_ITERATIONS: usize = 4000;

/// Arguments of `maan experiment`.
#[derive(Debug, clap::Args)]
pub struct ExperimentArgs {
    /// Which experiment.
    #[arg(value_enum, default_value = "table1")]
    pub name: ExperimentName,
    /// Number of seeds per model (0, 1, ... n-1).
    #[arg(long, default_value_t = 3)]
    pub seeds: u64,
    /// Training iterations per model and stream (table1 and regimes; wsol has its own
    /// schedule, see --quick) [default: 4000].
    #[arg(long)]
    pub iterations: Option<usize>,
    /// Videos per batch (table1 and regimes).
    #[arg(long, default_value_t = 16)]
    pub batch_size: usize,
    /// Dataset (default: the built-in synthetic THUMOS14-shaped dataset).
    #[command(flatten)]
    pub data: DataOpts,
    /// Backend and device.
    #[command(flatten)]
    pub backend: BackendOpts,
    /// The aggregators to train, comma-separated, in table order [default: the paper's five:
    /// stpn,dropout,norm,softmax-norm,maa].
    #[arg(long, value_delimiter = ',')]
    pub aggregators: Vec<Aggregator>,
    /// Localization options: each model is also evaluated with them (a second row).
    #[command(flatten)]
    pub localize: LocalizeOpts,
    /// Run directory of the experiment: its reports, figures and generated data [default:
    /// runs/<experiment>].
    #[arg(long, aliases = ["out", "output"], value_name = "RUN_DIR")]
    pub run: Option<PathBuf>,
    /// Options of `regimes`.
    #[command(flatten)]
    pub regimes: super::regimes::RegimesArgs,
    /// wsol: one seed, fewer images and iterations (a few minutes on a CPU).
    #[arg(long)]
    pub quick: bool,
    /// wsol: ImageNet-pretrained VGG16 backbone weights (safetensors, torchvision names)
    /// for CUB-200-2011 (`--data-dir`).
    #[arg(long)]
    pub backbone_weights: Option<PathBuf>,
    /// wsol: tiny sizes, for tests.
    #[arg(long, hide = true)]
    pub tiny: bool,
    /// Hide the progress bar.
    #[arg(long)]
    pub quiet: bool,
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

/// The whole table.
#[derive(Debug, Clone, Serialize)]
pub struct Table1 {
    /// Dataset folder.
    pub data_dir: String,
    /// Backend used.
    pub backend: String,
    /// Seeds per model.
    pub seeds: u64,
    /// Iterations per model and stream.
    pub iterations: usize,
    /// Batch size.
    pub batch_size: usize,
    /// One row per model, in the paper's order.
    pub rows: Vec<Row>,
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

/// Renders the table as Markdown: AP (%) at each tIoU, the averages papers report for the
/// dataset's tIoU set (`avg 0.1:0.5`, `avg 0.1:0.7`, `avg 0.1:0.9` on THUMOS14, `avg 0.5:0.95`
/// on ActivityNet1.3; one `avg` over all thresholds when none applies) and Cls mAP (%), mean ±
/// std over seeds.
pub fn markdown(table: &Table1) -> String {
    let mut s = String::new();
    let first = table.rows.first();
    let tious = first.map(|r| r.tiou_thresholds.clone()).unwrap_or_default();
    let avg_labels: Vec<String> = first
        .map(|r| r.averages.iter().map(|a| a.0.clone()).collect())
        .unwrap_or_default();
    let _ = write!(s, "| Method |");
    for t in &tious {
        let _ = write!(s, " AP@{} |", tiou_label(*t));
    }
    if avg_labels.is_empty() {
        s.push_str(" avg |");
    }
    for l in &avg_labels {
        let _ = write!(s, " avg {l} |");
    }
    let _ = writeln!(s, " Cls mAP |");
    let columns = tious.len() + avg_labels.len().max(1) + 1;
    let _ = writeln!(s, "|---|{}", "---|".repeat(columns));
    let cell = |s: &mut String, m: f64, sd: f64| {
        let _ = write!(s, " {:.1} ± {:.1} |", m * 100.0, sd * 100.0);
    };
    for r in &table.rows {
        let _ = write!(s, "| {} |", r.method);
        for (m, sd) in r.map_mean.iter().zip(&r.map_std) {
            cell(&mut s, *m, *sd);
        }
        if avg_labels.is_empty() {
            cell(&mut s, r.avg_map_mean, r.avg_map_std);
        }
        for l in &avg_labels {
            match r.averages.iter().find(|a| &a.0 == l) {
                Some(a) => cell(&mut s, a.1, a.2),
                None => s.push_str(" - |"),
            }
        }
        cell(&mut s, r.cls_map_mean, r.cls_map_std);
        s.push('\n');
    }
    s
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

struct Table1Job {
    args: ExperimentArgs,
    data: WtalDataset,
}

impl BackendJob for Table1Job {
    type Output = Table1;

    fn run<B: AutodiffBackend>(self, device: B::Device, backend: BackendArg) -> Result<Table1> {
        let Table1Job { args, data } = self;
        let aggregators = aggregators(&args);
        let iterations = args.iterations.unwrap_or(TABLE1_ITERATIONS);
        let total = aggregators.len() as u64 * args.seeds * iterations as u64;
        let preset = data.kind.paper_localize();
        let variant = args.localize.for_data(&data)?;
        let bar = progress_bar(total, args.quiet);
        let mut rows = Vec::new();
        for agg in aggregators {
            let mut runs = Vec::new();
            let mut variant_runs = Vec::new();
            for seed in 0..args.seeds {
                bar.set_prefix(agg.paper_name());
                bar.set_message(format!("seed {seed}"));
                let (trainer, metrics) = train_and_evaluate::<B>(
                    &data,
                    agg,
                    seed,
                    iterations,
                    args.batch_size,
                    &device,
                    backend,
                    &bar,
                )?;
                if let Some(cfg) = &variant {
                    let m = trainer.evaluate_with(&data, Some(cfg))?;
                    bar.println(format!(
                        "{:>12} seed {seed} (localization options): mAP@0.5 {:.1}%, avg mAP {:.1}%",
                        agg.paper_name(),
                        m.map_at(0.5).unwrap_or(f64::NAN) * 100.0,
                        m.average_map * 100.0,
                    ));
                    variant_runs.push(m);
                }
                bar.println(format!(
                    "{:>12} seed {seed}: mAP@0.5 {:.1}%, avg mAP {:.1}%, cls mAP {:.1}%",
                    agg.paper_name(),
                    metrics.map_at(0.5).unwrap_or(f64::NAN) * 100.0,
                    metrics.average_map * 100.0,
                    metrics.classification_map * 100.0
                ));
                runs.push(metrics);
            }
            rows.push(Row::new(agg, None, describe_localize(&preset), &runs));
            if let Some(cfg) = &variant {
                rows.push(Row::new(
                    agg,
                    Some("localization options"),
                    describe_localize(cfg),
                    &variant_runs,
                ));
            }
        }
        bar.finish_and_clear();
        Ok(Table1 {
            data_dir: data.dir.display().to_string(),
            backend: backend.to_string(),
            seeds: args.seeds,
            iterations,
            batch_size: args.batch_size,
            rows,
        })
    }
}

pub(crate) fn aggregators(args: &ExperimentArgs) -> Vec<Aggregator> {
    if args.aggregators.is_empty() {
        TABLE1_ROWS.to_vec()
    } else {
        args.aggregators.clone()
    }
}

/// Runs `maan experiment`.
pub fn run(args: ExperimentArgs) -> Result<()> {
    if args.name == ExperimentName::Wsol {
        return crate::cmd::wsol::run(args);
    }
    if args.seeds == 0 || args.iterations == Some(0) {
        anyhow::bail!("--seeds and --iterations must be at least 1");
    }
    if args.name == ExperimentName::Regimes {
        return super::regimes::run(args);
    }
    if args.name == ExperimentName::Ablation {
        return super::ablation::run(args);
    }
    args.backend.check()?;
    let data = args.data.load()?;
    let out = args
        .run
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs/table1"));
    let opts = args.backend;
    let backend = opts.backend;
    eprintln!(
        "Table 1: {} models x {} seeds x {} iterations (both streams) on {}, backend {backend}",
        aggregators(&args).len(),
        args.seeds,
        args.iterations.unwrap_or(TABLE1_ITERATIONS),
        data.dir.display()
    );
    let table = opts.run(Table1Job { args, data })?;
    let md = markdown(&table);
    println!("{md}");
    write_outputs(&table, &md, &out)?;
    Ok(())
}

fn write_outputs(table: &Table1, md: &str, out: &Path) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let json = serde_json::to_string_pretty(table)?;
    let json_path = out.join("table1.json");
    let md_path = out.join("table1.md");
    std::fs::write(&json_path, json)
        .with_context(|| format!("cannot write {}", json_path.display()))?;
    std::fs::write(&md_path, md).with_context(|| format!("cannot write {}", md_path.display()))?;
    eprintln!("wrote {} and {}", md_path.display(), json_path.display());
    Ok(())
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

    /// One seed's metrics: AP `map` at `tious`, its mean as the average, Cls mAP `cls`.
    fn metrics(tious: &[f64], map: Vec<f64>, cls: f64) -> EvalMetrics {
        EvalMetrics {
            iteration: 0,
            tiou_thresholds: tious.to_vec(),
            average_map: map.iter().sum::<f64>() / map.len() as f64,
            map,
            classification_map: cls,
            warnings: vec![],
        }
    }

    /// A two-seed table of MAAN rows.
    fn table(rows: Vec<Row>) -> Table1 {
        Table1 {
            data_dir: "d".into(),
            backend: "ndarray".into(),
            seeds: 2,
            iterations: 1,
            batch_size: 16,
            rows,
        }
    }

    #[test]
    fn markdown_has_one_row_per_model_in_percent() {
        let m = |v: f64| metrics(&[0.1, 0.5], vec![v, v / 2.0], 0.9);
        let row = Row::new(Aggregator::Maa, None, "preset".into(), &[m(0.6), m(0.4)]);
        let md = markdown(&table(vec![row]));
        assert!(
            md.contains("| MAAN | 50.0 ± 14.1 | 25.0 ± 7.1 | 37.5 ± 10.6 | 90.0 ± 0.0 |"),
            "{md}"
        );
        assert!(md.starts_with("| Method | AP@0.1 | AP@0.5 | avg 0.1:0.5 | Cls mAP |"));
    }

    /// A tIoU set that is no range papers report (here 0.3 and 0.6) gets one `avg` column:
    /// the mean over seeds of each run's average over all its thresholds.
    #[test]
    fn markdown_falls_back_to_one_average_over_all_thresholds() {
        let m = |v: f64| metrics(&[0.3, 0.6], vec![v, v / 2.0], 0.9);
        let row = Row::new(Aggregator::Maa, None, "preset".into(), &[m(0.6), m(0.4)]);
        assert!(row.averages.is_empty());
        let md = markdown(&table(vec![row]));
        assert!(
            md.starts_with("| Method | AP@0.3 | AP@0.6 | avg | Cls mAP |\n|---|---|---|---|---|\n"),
            "{md}"
        );
        assert!(md.contains("| 37.5 ± 10.6 | 90.0 ± 0.0 |"), "{md}");
    }

    /// On THUMOS14's nine thresholds the table has one column per average papers report
    /// (0.1:0.5, 0.1:0.7, 0.1:0.9), each the mean ± std over seeds of that seed's mean AP
    /// over the range.
    #[test]
    fn markdown_reports_each_papers_average_on_thumos_thresholds() {
        let tious: Vec<f64> = (1..=9).map(|i| i as f64 / 10.0).collect();
        // AP falls linearly with tIoU: seed a has AP 0.9 - 0.1 i, seed b half of it.
        let m = |f: f64| {
            metrics(
                &tious,
                (0..9).map(|i| f * (0.9 - 0.1 * i as f64)).collect(),
                0.8,
            )
        };
        let row = Row::new(Aggregator::Maa, None, "preset".into(), &[m(1.0), m(0.5)]);
        let labels: Vec<&str> = row.averages.iter().map(|a| a.0.as_str()).collect();
        assert_eq!(labels, ["0.1:0.5", "0.1:0.7", "0.1:0.9"]);
        // 0.1:0.5 averages AP 0.9..0.5 = 0.7 (seed a) and 0.35 (seed b).
        let (mean, sd) = (row.averages[0].1, row.averages[0].2);
        assert!((mean - 0.525).abs() < 1e-12, "{mean}");
        assert!((sd - mean_std(&[0.7, 0.35]).1).abs() < 1e-12, "{sd}");
        let md = markdown(&table(vec![row]));
        let header = md.lines().next().unwrap();
        assert!(
            header.ends_with("| AP@0.9 | avg 0.1:0.5 | avg 0.1:0.7 | avg 0.1:0.9 | Cls mAP |"),
            "{header}"
        );
        let rule = md.lines().nth(1).unwrap();
        assert_eq!(rule.matches("---").count(), 1 + 9 + 3 + 1, "{rule}");
        let line = md.lines().nth(2).unwrap();
        assert!(
            line.ends_with("| 52.5 ± 24.7 | 45.0 ± 21.2 | 37.5 ± 17.7 | 80.0 ± 0.0 |"),
            "{line}"
        );
    }

    #[test]
    fn tiou_labels_keep_the_second_decimal_when_needed() {
        assert_eq!(tiou_label(0.5), "0.5");
        assert_eq!(tiou_label(0.55), "0.55");
        assert_eq!(tiou_label(0.8999999999999999), "0.9");
        assert_eq!(tiou_label(0.95), "0.95");
    }
}
