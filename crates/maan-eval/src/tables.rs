//! What `maan eval` prints and writes of a [`DetectionReport`]: the tables (mAP per tIoU with
//! the averages papers report, AP per class) and the record with its protocol
//! ([`EvalRecord`]).

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{EvalError, Result};
use crate::eval::{reported_averages, DetectionReport};

/// A detection report with the protocol it was scored under: the averages papers report that
/// apply (`averages`), the benchmark, the ground-truth subset and its number of videos, and
/// the commit of the code that scored it. Its JSON is `maan eval --json`'s.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EvalRecord {
    /// The report (flattened).
    #[serde(flatten)]
    pub report: DetectionReport,
    /// The reported averages, by label (`0.1:0.5`, ...).
    pub averages: BTreeMap<String, f64>,
    /// The benchmark's name.
    pub dataset: String,
    /// The ground-truth subset.
    pub subset: String,
    /// Ground-truth videos of the subset.
    pub videos: usize,
    /// The commit of the code that scored it.
    pub commit: String,
}

impl EvalRecord {
    /// The record of `report`.
    pub fn new(
        report: DetectionReport,
        dataset: crate::Benchmark,
        subset: &str,
        videos: usize,
        commit: &str,
    ) -> Self {
        let averages = reported_averages(&report.tiou_thresholds, &report.map)
            .into_iter()
            .map(|a| (a.label(), a.map))
            .collect();
        EvalRecord {
            report,
            averages,
            dataset: dataset.to_string(),
            subset: subset.to_string(),
            videos,
            commit: commit.to_string(),
        }
    }

    /// Writes the record as pretty JSON (keys sorted) to `path`, atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_value(self)
            .and_then(|v| serde_json::to_string_pretty(&v))
            .map_err(|e| EvalError::json(&path.display().to_string(), &e))?;
        crate::atomic::write_atomic(path, text.as_bytes()).map_err(|e| EvalError::io(path, e))
    }
}

impl DetectionReport {
    /// The tIoU / mAP table with the full average and the other averages papers report that apply
    /// (`maan_eval::eval::reported_averages`), mAP in percent.
    pub fn summary_table(&self) -> String {
        let report = self;
        let mut rows: Vec<(String, f64)> = report
            .tiou_thresholds
            .iter()
            .zip(&report.map)
            .map(|(t, m)| (format!("{t:.2}"), *m))
            .collect();
        let (first, last) = (
            report.tiou_thresholds.first().copied().unwrap_or(0.0),
            report.tiou_thresholds.last().copied().unwrap_or(0.0),
        );
        rows.push((format!("avg {first:.2}:{last:.2}"), report.average_map));
        // The other averages papers report (THUMOS14: 0.1:0.5 and 0.1:0.7 beside the full
        // 0.1:0.9), when their ends are thresholds of this set and they differ from the full one.
        for a in reported_averages(&report.tiou_thresholds, &report.map) {
            let full = (a.from - first).abs() < 1e-9 && (a.to - last).abs() < 1e-9;
            if !full {
                rows.push((format!("avg {:.2}:{:.2}", a.from, a.to), a.map));
            }
        }
        let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(4).max(4);
        let mut s = format!("{:<width$}  {:>7}\n", "tIoU", "mAP(%)");
        for (i, (name, m)) in rows.iter().enumerate() {
            if i == report.map.len() {
                s.push_str(&format!("{}\n", "-".repeat(width + 9)));
            }
            s.push_str(&format!("{name:<width$}  {:>7.2}\n", m * 100.0));
        }
        s
    }

    /// The class x tIoU table of AP in percent.
    pub fn per_class_table(&self) -> String {
        let report = self;
        let width = report
            .per_class_ap
            .keys()
            .map(|k| k.chars().count())
            .max()
            .unwrap_or(5)
            .max(5);
        let mut s = format!("{:<width$}", "class");
        for t in &report.tiou_thresholds {
            s.push_str(&format!("  {t:>6.2}"));
        }
        s.push('\n');
        for (name, aps) in &report.per_class_ap {
            let pad = width - name.chars().count();
            s.push_str(name);
            s.push_str(&" ".repeat(pad));
            for ap in aps {
                s.push_str(&format!("  {:>6.2}", ap * 100.0));
            }
            s.push('\n');
        }
        s
    }
}
