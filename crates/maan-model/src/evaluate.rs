//! Evaluation on the test split: detection mAP per tIoU (ActivityNet protocol) and
//! classification mAP, through `maan-eval` ([`score`], [`EvalMetrics`]); `predict::evaluate`
//! runs the prediction pipeline on models in memory and scores it (training's evaluations,
//! the experiments).

use dataset::WtalDataset;
use maan_eval::detections::DetectionFile;
use maan_eval::eval::{classification_map, detection_map};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::infer::VideoOutput;

/// Metrics of one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalMetrics {
    /// Training iteration at which it ran (0 outside training).
    pub iteration: usize,
    /// tIoU thresholds.
    pub tiou_thresholds: Vec<f64>,
    /// Detection mAP at each threshold, in `[0, 1]`.
    pub map: Vec<f64>,
    /// Mean of `map` (the metric that picks the `best` checkpoint).
    pub average_map: f64,
    /// Classification mAP of the video-level probabilities, in `[0, 1]` (NaN if undefined).
    pub classification_map: f64,
    /// Warnings of the detection evaluation (e.g. predicted labels absent from the ground
    /// truth, dropped before scoring).
    pub warnings: Vec<String>,
}

impl EvalMetrics {
    /// Whether this evaluation should replace `best` as the run's best checkpoint: a higher
    /// average mAP wins; on equal average mAP (e.g. both 0 early in an ActivityNet run), a
    /// higher classification mAP wins; on a tie of both, the later evaluation (this one) wins,
    /// since training has seen more data. NaN metrics count as lowest.
    pub fn improves_on(&self, best: Option<&BestMetrics>) -> bool {
        let Some(best) = best else { return true };
        let key = |avg: f64, cls: f64| {
            (
                if avg.is_nan() { f64::NEG_INFINITY } else { avg },
                if cls.is_nan() { f64::NEG_INFINITY } else { cls },
            )
        };
        let (a, b) = (
            key(self.average_map, self.classification_map),
            key(best.average_map, best.classification_map),
        );
        match a.0.total_cmp(&b.0) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => a.1 >= b.1,
        }
    }

    /// The fields that pick the best checkpoint.
    pub fn best_metrics(&self) -> BestMetrics {
        BestMetrics {
            average_map: self.average_map,
            classification_map: self.classification_map,
            iteration: self.iteration,
        }
    }

    /// The mAP table as `maan` prints it, two lines: the mAP at each tIoU, the averages papers
    /// report that apply to the tIoU set (`maan_eval::eval::reported_averages`: avg 0.1:0.5,
    /// 0.1:0.7 and 0.1:0.9 on THUMOS14, 0.5:0.95 on ActivityNet1.3; the plain average
    /// otherwise) and the classification mAP, in percent.
    pub fn table(&self) -> String {
        let mut head: Vec<String> = self
            .tiou_thresholds
            .iter()
            .map(|t| format!("{t:>6.2}"))
            .collect();
        let mut vals: Vec<String> = self
            .map
            .iter()
            .map(|v| format!("{:>6.2}", v * 100.0))
            .collect();
        let averages = maan_eval::eval::reported_averages(&self.tiou_thresholds, &self.map);
        if averages.is_empty() {
            head.push(format!("{:>9}", "avg"));
            vals.push(format!("{:>9.2}", self.average_map * 100.0));
        }
        for a in &averages {
            let label = format!("avg{}", a.label());
            let w = label.len().max(6) + 2;
            head.push(format!("{label:>w$}"));
            vals.push(format!("{:>w$.2}", a.map * 100.0));
        }
        format!(
            "tIoU    {}   cls-mAP\nmAP (%) {}  {:>8.2}\n",
            head.join(""),
            vals.join(""),
            self.classification_map * 100.0
        )
    }

    /// mAP at the threshold closest to `tiou` (e.g. 0.5).
    pub fn map_at(&self, tiou: f64) -> Option<f64> {
        self.tiou_thresholds
            .iter()
            .position(|t| (t - tiou).abs() < 1e-9)
            .map(|i| self.map[i])
    }
}

/// What the `best` checkpoint of a run was chosen by (see [`EvalMetrics::improves_on`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BestMetrics {
    /// Average detection mAP, in `[0, 1]`.
    pub average_map: f64,
    /// Classification mAP, in `[0, 1]`.
    pub classification_map: f64,
    /// Iteration of that evaluation.
    pub iteration: usize,
}

/// Scores a detection file and video-level probabilities against the test split of `data`.
pub fn score(
    data: &WtalDataset,
    dets: &DetectionFile,
    outputs: &[VideoOutput],
) -> Result<EvalMetrics> {
    let gt = data.test_ground_truth();
    let labels = gt.labels();
    let mut warnings = Vec::new();
    let mut filtered = dets.clone();
    let mut dropped = 0usize;
    for list in filtered.results.values_mut() {
        let before = list.len();
        list.retain(|d| labels.contains(&d.label));
        dropped += before - list.len();
    }
    if dropped > 0 {
        warnings.push(format!(
            "{dropped} detections of classes absent from the test ground truth were not scored"
        ));
    }
    let tious = data.kind.tiou_thresholds();
    let (map, average_map) = if filtered.num_detections() == 0 {
        warnings.push("no detections: mAP is 0".into());
        (vec![0.0; tious.len()], 0.0)
    } else {
        let report = detection_map(&gt, &filtered, &tious)?;
        warnings.extend(report.warnings);
        (report.map, report.average_map)
    };
    let c = data.num_classes();
    let mut scores = Vec::with_capacity(outputs.len() * c);
    let mut multi_hot = Vec::with_capacity(outputs.len() * c);
    for (o, v) in outputs.iter().zip(&data.test) {
        scores.extend_from_slice(&o.video_probs);
        multi_hot.extend(v.label_vector());
    }
    let classification_map = classification_map(&scores, &multi_hot, outputs.len(), c);
    Ok(EvalMetrics {
        iteration: 0,
        tiou_thresholds: tious,
        map,
        average_map,
        classification_map,
        warnings,
    })
}
