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
use maa_core::Aggregator;
use serde::Serialize;

use super::{
    aggregators, progress_bar, tiou_label, train_and_evaluate, ReportHeader, Row, TrainingArgs,
};
use crate::backend::{BackendArg, BackendJob};
use crate::opts::{describe_localize, DataOpts, LocalizeOpts};

/// Default training iterations of `table1`.
pub const TABLE1_ITERATIONS: usize = 4000;

/// Arguments of `maan experiment table1`.
#[derive(Debug, clap::Args)]
pub struct Table1Args {
    /// Seeds, iterations, batch, backend, run directory.
    #[command(flatten)]
    pub common: TrainingArgs,
    /// Dataset (default: the built-in synthetic THUMOS14-shaped dataset).
    #[command(flatten)]
    pub data: DataOpts,
    /// The aggregators to train, comma-separated, in table order [default: the paper's five:
    /// stpn,dropout,norm,softmax-norm,maa].
    #[arg(long, value_delimiter = ',')]
    pub aggregators: Vec<Aggregator>,
    /// Localization options: each model is also evaluated with them (a second row).
    #[command(flatten)]
    pub localize: LocalizeOpts,
}

/// The whole table.
#[derive(Debug, Clone, Serialize)]
pub struct Table1 {
    /// Dataset folder.
    pub data_dir: String,
    /// Backend, seeds, iterations, batch size.
    #[serde(flatten)]
    pub header: ReportHeader,
    /// One row per model, in the paper's order.
    pub rows: Vec<Row>,
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

struct Table1Job {
    args: Table1Args,
    data: WtalDataset,
}

impl BackendJob for Table1Job {
    type Output = Table1;

    fn run<B: AutodiffBackend>(self, device: B::Device, backend: BackendArg) -> Result<Table1> {
        let Table1Job { args, data } = self;
        let aggregators = aggregators(&args.aggregators);
        let iterations = args.common.iterations.unwrap_or(TABLE1_ITERATIONS);
        let total = aggregators.len() as u64 * args.common.seeds * iterations as u64;
        let preset = data.kind.paper_localize();
        let variant = args.localize.for_data(&data)?;
        let bar = progress_bar(total, args.common.quiet);
        let mut rows = Vec::new();
        for agg in aggregators {
            let mut runs = Vec::new();
            let mut variant_runs = Vec::new();
            for seed in 0..args.common.seeds {
                bar.set_prefix(agg.paper_name());
                bar.set_message(format!("seed {seed}"));
                let (trainer, metrics) = train_and_evaluate::<B>(
                    &data,
                    agg,
                    seed,
                    iterations,
                    args.common.batch_size,
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
            header: ReportHeader {
                backend: backend.to_string(),
                seeds: args.common.seeds,
                iterations,
                batch_size: args.common.batch_size,
            },
            rows,
        })
    }
}

/// Runs `maan experiment table1`.
pub fn run(args: Table1Args) -> Result<()> {
    args.common.check()?;
    args.common.backend.check()?;
    let data = args.data.load()?;
    let out = args
        .common
        .run
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs/table1"));
    let opts = args.common.backend;
    let backend = opts.backend;
    eprintln!(
        "Table 1: {} models x {} seeds x {} iterations (both streams) on {}, backend {backend}",
        aggregators(&args.aggregators).len(),
        args.common.seeds,
        args.common.iterations.unwrap_or(TABLE1_ITERATIONS),
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
    use crate::cmd::experiment::mean_std;
    use maan_model::EvalMetrics;

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
            header: ReportHeader {
                backend: "ndarray".into(),
                seeds: 2,
                iterations: 1,
                batch_size: 16,
            },
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
}
