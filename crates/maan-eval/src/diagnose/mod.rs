//! Why a detector fails: DETAD's three analyses (Alwassel et al., "Diagnosing Error in Temporal
//! Action Detectors", ECCV 2018; the public code at github.com/HumamAlwassel/DETAD), computed as
//! DETAD's own code computes them.
//!
//! - **False-positive profile** ([`FalsePositiveAnalysis`]): each class keeps its top
//!   `limit_factor × G_c` detections (`G_c` its ground-truth instances, 10 by default); each
//!   detection that is not a true positive at a tIoU threshold is a *double detection* (tIoU ≥
//!   the threshold with an instance of its class already matched), a *wrong label* (tIoU ≥ the
//!   threshold with an instance of another class), a *localization error* (0.1 ≤ tIoU < the
//!   threshold, same class), a *confusion* (0.1 ≤ tIoU < the threshold, another class) or
//!   *background* (tIoU < 0.1 with every instance), judged against the instance of highest tIoU
//!   in its video. The profile's bar `kG` holds the detections ranked `(k−1)·G_c + 1 … k·G_c`
//!   in their class (DETAD's `split_predictions_by_score_ranges`); each fraction is averaged
//!   over the thresholds. The gain of an error type is the average-mAP<sub>N</sub> after
//!   removing the detections of that type minus the average-mAP<sub>N</sub> of the kept
//!   detections.
//! - **Sensitivity** ([`CharacteristicAnalysis::buckets`], `average_map_n`): the ground truth
//!   is split by a characteristic of each instance (coverage, length, instances per video) into
//!   DETAD's buckets; the average-mAP<sub>N</sub> of a bucket counts as positives only its
//!   instances and drops the detections matched to instances of other buckets; a bucket's value
//!   is the mean over the classes with an instance in it.
//! - **False negatives** (`false_negative_rate`): the fraction of a bucket's instances matched
//!   by no detection, averaged over the thresholds, after DETAD's removal of the detections
//!   whose normalized precision is at most 0.05 (`minimum_normalized_precision_threshold`).
//!
//! Every analysis uses DETAD's *normalized* AP: precision is
//! `R·N / (R·N + FP)` with `R` the recall and `N` the average number of instances per class
//! (the same for every class), so that classes with few instances are comparable.
//!
//! # Characteristics and buckets
//!
//! DETAD reads three characteristics from its annotation files; they are computed here from the
//! ground truth as those files define them (checked on DETAD's
//! `data/thumos14_test_extra_characteristics.json`): *length* = `end − start` in seconds,
//! *coverage* = length / the video's duration ([`GtVideo::duration`](crate::GtVideo); an
//! instance of a video without duration is in no coverage bucket) and *instances* = the number
//! of ground-truth instances in the video, of every class. The buckets are DETAD's
//! (`DiagnoseConfig::thumos14`, `DiagnoseConfig::activitynet`), pandas' `cut` with closed right
//! ends and the lowest edge included. As DETAD does, instances of zero length and instances
//! longer than their video (coverage > 1) are dropped before every analysis.
//!
//! # Where this differs from DETAD's code
//!
//! The results equal DETAD's to 1e-9 on the committed fixture (`tests/detad_reference.rs`,
//! made by DETAD's own code with `tests/reference/make_detad_fixture.py`). They can differ
//! only where DETAD is not deterministic or fails:
//!
//! - **Ties.** DETAD orders detections by numpy's unstable `argsort` (and pandas'
//!   `sort_values`, a different order for equal scores); here equal scores are ordered by video
//!   id, start, end, and instances of equal tIoU as in [`crate::eval`] (the later one in the
//!   file first), the order [`detection_map`](crate::detection_map) uses.
//! - **Detections in a video without ground truth.** DETAD's `analyze_fp_error_types` caches
//!   the ground truth of the last video it saw and forgets to replace it for such a video, so
//!   its second and later detections there are judged against another video's instances (or
//!   raise `UnboundLocalError`); here every detection in such a video is a background error.
//! - **A class with ground truth and no detection** has AP 0 in the sensitivity analysis
//!   (DETAD raises `KeyError`), and a detection whose label is not a ground-truth class is
//!   dropped with a warning (DETAD raises `KeyError`).
//! - **An empty bucket** has no value (`None`): DETAD gives NaN in the sensitivity analysis and
//!   leaves the bucket out of the false-negative one.

mod buckets;
mod false_positive;
mod matching;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::annotations::GroundTruth;
use crate::benchmark::Benchmark;
use crate::detections::DetectionFile;
use crate::error::Result;

pub use buckets::bucket_of;

/// A characteristic of a ground-truth instance that DETAD's sensitivity and false-negative
/// analyses split the instances by. Serialized as DETAD names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Characteristic {
    /// The instance's length divided by its video's duration.
    #[serde(rename = "coverage")]
    Coverage,
    /// The instance's length in seconds.
    #[serde(rename = "length")]
    Length,
    /// The number of ground-truth instances in the instance's video (every class).
    #[serde(rename = "num-instances")]
    Instances,
}

impl Characteristic {
    /// DETAD's name: `coverage`, `length`, `num-instances`.
    pub fn name(self) -> &'static str {
        match self {
            Characteristic::Coverage => "coverage",
            Characteristic::Length => "length",
            Characteristic::Instances => "num-instances",
        }
    }
}

impl std::fmt::Display for Characteristic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The buckets of one characteristic: `edges.len() − 1` intervals `(edges[i], edges[i+1]]`,
/// the first also closed on the left (pandas' `cut(..., include_lowest=True)`).
#[derive(Debug, Clone, PartialEq)]
pub struct Bins {
    /// The characteristic these bins split.
    pub characteristic: Characteristic,
    /// Increasing edges; the last may be `f64::INFINITY`.
    pub edges: Vec<f64>,
    /// One label per interval (`XS`, `S`, `M`, `L`, `XL`).
    pub labels: Vec<String>,
}

impl Bins {
    fn new(characteristic: Characteristic, edges: &[f64], labels: &[&str]) -> Bins {
        debug_assert_eq!(edges.len(), labels.len() + 1);
        Bins {
            characteristic,
            edges: edges.to_vec(),
            labels: labels.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// The settings of the three analyses. [`DiagnoseConfig::thumos14`] and
/// [`DiagnoseConfig::activitynet`] are DETAD's, as its three scripts set them.
#[derive(Debug, Clone, PartialEq)]
pub struct DiagnoseConfig {
    /// tIoU thresholds (DETAD: 0.5 on THUMOS14, 0.5:0.05:0.95 on ActivityNet).
    pub tiou_thresholds: Vec<f64>,
    /// Below this tIoU with every instance a false positive is background (0.1).
    pub min_tiou: f64,
    /// The false-positive analysis keeps each class's top `limit_factor × G_c` detections and
    /// draws that many bars (10).
    pub limit_factor: usize,
    /// The false-negative analysis first unmatches the detections whose normalized precision
    /// is at most this (0.05).
    pub fn_min_precision: f64,
    /// The characteristics and their buckets.
    pub bins: Vec<Bins>,
}

impl DiagnoseConfig {
    /// DETAD on THUMOS14: tIoU 0.5; coverage 0, 0.02, 0.04, 0.06, 0.08, 1; length 0, 3, 6, 12,
    /// 18, ∞ s; instances per video −1, 1, 40, 80, ∞.
    pub fn thumos14() -> DiagnoseConfig {
        let five = ["XS", "S", "M", "L", "XL"];
        DiagnoseConfig {
            tiou_thresholds: vec![0.5],
            min_tiou: 0.1,
            limit_factor: 10,
            fn_min_precision: 0.05,
            bins: vec![
                Bins::new(
                    Characteristic::Coverage,
                    &[0.0, 0.02, 0.04, 0.06, 0.08, 1.0],
                    &five,
                ),
                Bins::new(
                    Characteristic::Length,
                    &[0.0, 3.0, 6.0, 12.0, 18.0, f64::INFINITY],
                    &five,
                ),
                Bins::new(
                    Characteristic::Instances,
                    &[-1.0, 1.0, 40.0, 80.0, f64::INFINITY],
                    &five[..4],
                ),
            ],
        }
    }

    /// DETAD on ActivityNet (its validation settings): tIoU 0.5:0.05:0.95; coverage numpy's
    /// `linspace(0, 1, 6)`; length 0, 30, 60, 120, 180, ∞ s; instances per video −1, 1, 4,
    /// 8, ∞.
    pub fn activitynet() -> DiagnoseConfig {
        let five = ["XS", "S", "M", "L", "XL"];
        DiagnoseConfig {
            tiou_thresholds: crate::eval::activitynet_tiou_thresholds(),
            min_tiou: 0.1,
            limit_factor: 10,
            fn_min_precision: 0.05,
            bins: vec![
                Bins::new(
                    Characteristic::Coverage,
                    &crate::eval::linspace(0.0, 1.0, 6),
                    &five,
                ),
                Bins::new(
                    Characteristic::Length,
                    &[0.0, 30.0, 60.0, 120.0, 180.0, f64::INFINITY],
                    &five,
                ),
                Bins::new(
                    Characteristic::Instances,
                    &[-1.0, 1.0, 4.0, 8.0, f64::INFINITY],
                    &five[..4],
                ),
            ],
        }
    }

    /// DETAD's settings for a benchmark.
    pub fn for_benchmark(benchmark: Benchmark) -> DiagnoseConfig {
        match benchmark {
            Benchmark::Thumos14 => DiagnoseConfig::thumos14(),
            Benchmark::ActivityNet13 => DiagnoseConfig::activitynet(),
        }
    }
}

/// The five false-positive error types (and true positives) of DETAD, one number each: a
/// count, a fraction or an mAP gain.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ErrorBreakdown {
    /// True positives (absent, 0, in an mAP gain: they are never removed).
    pub true_positive: f64,
    /// A detection of an instance of its class that another detection already matched.
    pub double_detection: f64,
    /// tIoU at or above the threshold with an instance of another class.
    pub wrong_label: f64,
    /// tIoU in `[min_tiou, threshold)` with an instance of its class.
    pub localization: f64,
    /// tIoU in `[min_tiou, threshold)` with an instance of another class.
    pub confusion: f64,
    /// tIoU below `min_tiou` with every instance of its video (or a video without any).
    pub background: f64,
}

impl ErrorBreakdown {
    /// The six values in DETAD's order: true positive, double detection, wrong label,
    /// localization, confusion, background.
    pub fn values(&self) -> [f64; 6] {
        [
            self.true_positive,
            self.double_detection,
            self.wrong_label,
            self.localization,
            self.confusion,
            self.background,
        ]
    }

    fn from_values(v: [f64; 6]) -> ErrorBreakdown {
        ErrorBreakdown {
            true_positive: v[0],
            double_detection: v[1],
            wrong_label: v[2],
            localization: v[3],
            confusion: v[4],
            background: v[5],
        }
    }
}

/// One bar of the false-positive profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileBar {
    /// `1G`, `2G`, ... : the detections ranked `(k−1)·G_c + 1 … k·G_c` in their class.
    pub label: String,
    /// How many detections the bar holds.
    pub detections: usize,
    /// Fraction of the bar's detections of each type, averaged over the tIoU thresholds (`None`
    /// for an empty bar).
    pub fractions: Option<ErrorBreakdown>,
}

/// DETAD's false-positive analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FalsePositiveAnalysis {
    /// The detections kept: each class's top `limit_factor × G_c`.
    pub detections: usize,
    /// Normalized mAP of the kept detections at each tIoU threshold, in `[0, 1]`.
    pub map_n: Vec<f64>,
    /// Mean of `map_n`.
    pub average_map_n: f64,
    /// Number of kept detections of each type, averaged over the thresholds.
    pub counts: ErrorBreakdown,
    /// `limit_factor` bars, `1G` to `10G`.
    pub profile: Vec<ProfileBar>,
    /// Average-mAP<sub>N</sub> gain from removing each error type (`true_positive` is 0).
    pub map_gain: ErrorBreakdown,
}

/// One bucket of a characteristic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BucketResult {
    /// DETAD's label (`XS` ... `XL`).
    pub label: String,
    /// Lower edge (excluded, except for the first bucket).
    pub lower: f64,
    /// Upper edge (included); `None` for no upper bound.
    pub upper: Option<f64>,
    /// Ground-truth instances in the bucket.
    pub instances: usize,
    /// Average-mAP<sub>N</sub> of the bucket (`None` when empty).
    pub average_map_n: Option<f64>,
    /// Fraction of the bucket's instances that no detection matches, averaged over the
    /// thresholds (`None` when empty).
    pub false_negative_rate: Option<f64>,
}

/// The sensitivity and false-negative analyses of one characteristic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CharacteristicAnalysis {
    /// Which characteristic.
    pub characteristic: Characteristic,
    /// Its buckets, smallest first.
    pub buckets: Vec<BucketResult>,
    /// Instances in no bucket (coverage of a video without duration, or out of every bucket).
    pub unbucketed: usize,
}

/// The settings a diagnosis ran with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiagnoseSettings {
    /// tIoU thresholds.
    pub tiou_thresholds: Vec<f64>,
    /// [`DiagnoseConfig::min_tiou`].
    pub min_tiou: f64,
    /// [`DiagnoseConfig::limit_factor`].
    pub limit_factor: usize,
    /// [`DiagnoseConfig::fn_min_precision`].
    pub fn_min_precision: f64,
}

/// DETAD's three analyses of one set of detections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnosis {
    /// The settings.
    pub settings: DiagnoseSettings,
    /// Ground-truth instances analysed (after dropping those of zero length or coverage > 1).
    pub instances: usize,
    /// Instances dropped (zero length, or longer than their video).
    pub dropped_instances: usize,
    /// Classes of the ground truth.
    pub classes: usize,
    /// `N`, the normalization of the precision: instances per class.
    pub average_instances_per_class: f64,
    /// Detections analysed.
    pub detections: usize,
    /// Normalized mAP of every detection at each threshold (the sensitivity's base).
    pub map_n: Vec<f64>,
    /// Mean of `map_n`.
    pub average_map_n: f64,
    /// The false-positive analysis.
    pub false_positive: FalsePositiveAnalysis,
    /// Sensitivity and false negatives by characteristic.
    pub characteristics: Vec<CharacteristicAnalysis>,
    /// What was dropped or defined differently from DETAD (detections with unknown labels, ...).
    pub warnings: Vec<String>,
}

/// DETAD's three analyses of `detections` against `gt` (filtered by the caller to the test
/// subset), with `config`'s settings.
///
/// # Errors
/// [`EvalError::InvalidThresholds`](crate::EvalError::InvalidThresholds),
/// [`EvalError::EmptyGroundTruth`](crate::EvalError::EmptyGroundTruth) (no instance left),
/// [`EvalError::InvalidDetection`](crate::EvalError::InvalidDetection), and
/// [`EvalError::InvalidInput`](crate::EvalError::InvalidInput) for bins that are not
/// increasing or do not have one label per interval.
pub fn diagnose(
    gt: &GroundTruth,
    detections: &DetectionFile,
    config: &DiagnoseConfig,
) -> Result<Diagnosis> {
    crate::eval::validate_thresholds(&config.tiou_thresholds)?;
    for b in &config.bins {
        if b.edges.len() != b.labels.len() + 1
            || b.edges
                .windows(2)
                .any(|w| w[0].partial_cmp(&w[1]) != Some(std::cmp::Ordering::Less))
        {
            return Err(crate::EvalError::InvalidInput(format!(
                "the {} bins need increasing edges and one label per interval",
                b.characteristic
            )));
        }
    }
    detections.validate("detections")?;
    let m = matching::Matched::new(gt, detections, &config.tiou_thresholds)?;
    let everything = m.normalized_map(None, 0.0);
    let false_positive = false_positive::analyse(&m, config);
    let fn_matched = buckets::matched_after_removal(&m, config.fn_min_precision);
    let characteristics = config
        .bins
        .iter()
        .map(|b| buckets::analyse(&m, b, &fn_matched))
        .collect();
    let average_map_n = mean(&everything);
    Ok(Diagnosis {
        settings: DiagnoseSettings {
            tiou_thresholds: config.tiou_thresholds.clone(),
            min_tiou: config.min_tiou,
            limit_factor: config.limit_factor,
            fn_min_precision: config.fn_min_precision,
        },
        instances: m.instances.len(),
        dropped_instances: m.dropped,
        classes: m.classes.len(),
        average_instances_per_class: m.avg_per_class,
        detections: m.num_predictions(),
        map_n: everything,
        average_map_n,
        false_positive,
        characteristics,
        warnings: m.warnings.clone(),
    })
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}
