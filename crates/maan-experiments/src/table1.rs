//! The paper's Table 1 on a dataset (the synthetic THUMOS14-shaped benchmark by default).
//!
//! Trains MAAN and the four baseline aggregators (STPN, Dropout, Norm, SoftMaxNorm; or those
//! a [`Table1Plan`] names) with identical settings (data, iterations, batch, T, learning
//! rate, seeds), both streams fused 0.5 / 0.5, and reports AP at each tIoU of the dataset's
//! protocol, their average and the classification mAP as mean ± standard deviation over
//! seeds, in the layout of the paper's Table 1 ([`markdown`]). Every model is evaluated with
//! the dataset's paper preset; with [`Table1Plan::variant`], each trained model is also
//! evaluated with those localization settings, as a second row.

use std::fmt::Write as _;

use burn::tensor::backend::AutodiffBackend;
use dataset::WtalDataset;
use maa_core::Aggregator;
use maan_eval::LocalizeConfig;
use serde::Serialize;

use crate::error::Result;
use crate::report::{tiou_label, ReportHeader, Row};
use crate::train::{train_and_evaluate, Observer, Schedule, Session};

/// Default training iterations of `table1`.
pub const TABLE1_ITERATIONS: usize = 4000;

/// What Table 1 trains.
#[derive(Debug, Clone)]
pub struct Table1Plan {
    /// The aggregators, in table order ([`crate::report::aggregators`] gives the paper's
    /// five).
    pub aggregators: Vec<Aggregator>,
    /// Seeds, iterations and batch size of every model.
    pub schedule: Schedule,
    /// Localization settings every trained model is also evaluated with (a second row per
    /// model); `None`: the dataset's paper preset only.
    pub variant: Option<LocalizeConfig>,
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

/// Trains and evaluates every model of `plan` on `data`: one row per model (and one more
/// per model with the plan's localization variant).
pub fn run<B: AutodiffBackend>(
    data: &WtalDataset,
    plan: &Table1Plan,
    session: &Session<B>,
    observer: &mut dyn Observer,
) -> Result<Table1> {
    let Schedule {
        seeds,
        iterations,
        batch_size,
    } = plan.schedule;
    observer.on_start(plan.aggregators.len() as u64 * seeds * iterations as u64);
    let preset = data.kind.paper_localize();
    let mut rows = Vec::new();
    for &agg in &plan.aggregators {
        let mut runs = Vec::new();
        let mut variant_runs = Vec::new();
        for seed in 0..seeds {
            observer.on_model(agg.paper_name(), &format!("seed {seed}"));
            let (trainer, metrics) = train_and_evaluate::<B>(
                data, agg, seed, iterations, batch_size, session, observer,
            )?;
            if let Some(cfg) = &plan.variant {
                let m = trainer.evaluate_with(data, Some(cfg))?;
                observer.on_result(&format!(
                    "{:>12} seed {seed} (localization options): mAP@0.5 {:.1}%, avg mAP {:.1}%",
                    agg.paper_name(),
                    m.map_at(0.5).unwrap_or(f64::NAN) * 100.0,
                    m.average_map * 100.0,
                ));
                variant_runs.push(m);
            }
            observer.on_result(&format!(
                "{:>12} seed {seed}: mAP@0.5 {:.1}%, avg mAP {:.1}%, cls mAP {:.1}%",
                agg.paper_name(),
                metrics.map_at(0.5).unwrap_or(f64::NAN) * 100.0,
                metrics.average_map * 100.0,
                metrics.classification_map * 100.0
            ));
            runs.push(metrics);
        }
        rows.push(Row::new(agg, None, preset.describe(), &runs));
        if let Some(cfg) = &plan.variant {
            rows.push(Row::new(
                agg,
                Some("localization options"),
                cfg.describe(),
                &variant_runs,
            ));
        }
    }
    Ok(Table1 {
        data_dir: data.dir.display().to_string(),
        header: ReportHeader::new(session, plan.schedule),
        rows,
    })
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
        let _ = write!(s, "| {} |", r.name());
        let Some(st) = &r.summary else {
            s.push_str(&" - |".repeat(columns));
            s.push('\n');
            continue;
        };
        for (m, sd) in st.map_mean.iter().zip(&st.map_std) {
            cell(&mut s, *m, *sd);
        }
        if avg_labels.is_empty() {
            cell(&mut s, st.avg_map_mean, st.avg_map_std);
        }
        for l in &avg_labels {
            match r.average(l) {
                Some((m, sd)) => cell(&mut s, m, sd),
                None => s.push_str(" - |"),
            }
        }
        cell(&mut s, st.cls_map_mean, st.cls_map_std);
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{mean_std, metrics};

    /// A two-seed table of MAAN rows.
    fn table(rows: Vec<Row>) -> Table1 {
        Table1 {
            data_dir: "d".into(),
            header: ReportHeader {
                backend: "ndarray".into(),
                commit: "unknown".into(),
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
