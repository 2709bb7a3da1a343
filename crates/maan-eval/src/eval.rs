//! Detection mAP exactly as the ActivityNet evaluator computes it, and classification mAP.
//!
//! # Detection mAP (ActivityNet `Evaluation/eval_detection.py`)
//!
//! The classes are the labels present in the ground truth given (the caller filters it by
//! subset first, with [`GroundTruth::subset`]). For each class:
//!
//! 1. the predictions of that class are sorted by descending score;
//! 2. for each prediction, the ground-truth instances of the same class *in the same video* are
//!    visited by descending tIoU (`tIoU = inter / (len_p + len_g - inter)`, continuous, no
//!    "+1"). For each threshold separately: a tIoU below the threshold makes the prediction a
//!    false positive; an instance already matched (locked) at this threshold is skipped;
//!    otherwise the prediction is a true positive and locks the instance. A prediction in a video
//!    with no instance of its class is a false positive at every threshold;
//! 3. precision = cumTP / (cumTP + cumFP), recall = cumTP / npos, and the AP is the area under
//!    the interpolated precision-recall curve (`interpolated_prec_rec`: pad, backward running
//!    maximum of precision, sum of Δrecall × precision where recall changes). A class with no
//!    prediction has AP 0.
//!
//! mAP is the mean of the per-class APs at each threshold; the average mAP is the mean over the
//! thresholds.
//!
//! ## Deterministic tie-breaking (where the Python code is not deterministic)
//!
//! The Python evaluator orders predictions with numpy's `argsort()[::-1]`, whose order of equal
//! scores is unspecified (numpy's quicksort is not stable, and differs between CPUs with and
//! without AVX-512). Here predictions with equal scores are ordered by video id (ascending, byte
//! order), then start, then end (ascending): the order depends only on the values, so the AP is
//! invariant to the order of the detections in the input.
//!
//! Ground-truth instances of one class in one video with *equal tIoU* to a prediction are visited
//! later-in-the-file first: that is what `argsort()[::-1]` gives on arrays of up to 16 elements
//! (numpy sorts those by insertion sort, which is stable) without AVX-512 sorting. With this
//! choice the results on the real THUMOS14 ground truth equal those of a line-by-line Python port
//! of the evaluator (`tests/reference/anet_eval_port.py`) bit for bit on 100,000 synthetic
//! detections, where ordering such ties by (start, end) instead changed one class's AP at tIoU 0.1
//! by 0.005. The price: when two instances tie in tIoU, the result depends on their order in the
//! ground-truth file.
//!
//! ## Conventions on edge cases
//!
//! - A prediction for a video that is not in the ground truth counts as a false positive at every
//!   threshold (what the Python code does, by catching the lookup failure); the report carries a
//!   warning with the number of such detections and videos.
//! - A label that is not a ground-truth class is an error ([`EvalError::UnknownLabel`]; the
//!   Python code raises `KeyError`), as are a NaN or infinite score, `start > end`, and an empty
//!   `results` object.
//! - When both segments have zero length the union is 0; the tIoU is then defined as 0 (Python
//!   would compute NaN, which compares as "not below the threshold").
//!
//! # Classification mAP
//!
//! See [`classification_map`].

use std::collections::{BTreeMap, HashMap};

use crate::annotations::GroundTruth;
use crate::detections::DetectionFile;
use crate::error::{EvalError, Result};

/// THUMOS14 tIoU thresholds: numpy `linspace(0.1, 0.9, 9)` (BaSNet, STPN, ACM-Net).
pub fn thumos14_tiou_thresholds() -> Vec<f64> {
    linspace(0.1, 0.9, 9)
}

/// ActivityNet1.3 tIoU thresholds: numpy `linspace(0.5, 0.95, 10)`.
pub fn activitynet_tiou_thresholds() -> Vec<f64> {
    linspace(0.5, 0.95, 10)
}

/// Lowest and highest tIoU of the THUMOS14 average that papers report (0.1:0.7).
pub const THUMOS14_REPORTED_AVERAGE: (f64, f64) = (0.1, 0.7);

/// The tIoU ranges that WTAL papers average the mAP over, so that a result can be set beside
/// any of them: on THUMOS14 0.1:0.5 (older papers), 0.1:0.7 (most) and 0.1:0.9 (all nine
/// thresholds); on ActivityNet1.3 0.5:0.95 (the official average).
pub const REPORTED_AVERAGES: [(f64, f64); 4] = [(0.1, 0.5), (0.1, 0.7), (0.1, 0.9), (0.5, 0.95)];

/// Mean of `map` over the thresholds of `tious` within `[lo, hi]` (1e-9 tolerance), or `None`
/// if none is.
pub fn average_map_over(tious: &[f64], map: &[f64], lo: f64, hi: f64) -> Option<f64> {
    let v: Vec<f64> = tious
        .iter()
        .zip(map)
        .filter(|(t, _)| **t >= lo - 1e-9 && **t <= hi + 1e-9)
        .map(|(_, m)| *m)
        .collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// One average of [`reported_averages`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RangeAverage {
    /// Lowest tIoU of the range.
    pub from: f64,
    /// Highest tIoU of the range.
    pub to: f64,
    /// Mean mAP over the thresholds in the range, in `[0, 1]`.
    pub map: f64,
}

impl RangeAverage {
    /// The range as papers write it, e.g. `0.1:0.7`.
    pub fn label(&self) -> String {
        format!("{}:{}", trim_float(self.from), trim_float(self.to))
    }
}

/// `0.1` for 0.1, `0.95` for 0.95: at most two decimals, no trailing zero.
fn trim_float(x: f64) -> String {
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0');
    s.trim_end_matches('.').to_string()
}

/// The averages of [`REPORTED_AVERAGES`] that apply to a tIoU set: those whose two ends are
/// both thresholds of the set (THUMOS14's 0.1:0.1:0.9 gives 0.1:0.5, 0.1:0.7 and 0.1:0.9;
/// ActivityNet1.3's 0.5:0.05:0.95 gives 0.5:0.95), in that order.
pub fn reported_averages(tious: &[f64], map: &[f64]) -> Vec<RangeAverage> {
    let has = |x: f64| tious.iter().any(|t| (t - x).abs() < 1e-9);
    REPORTED_AVERAGES
        .iter()
        .filter(|(lo, hi)| has(*lo) && has(*hi))
        .filter_map(|&(lo, hi)| {
            average_map_over(tious, map, lo, hi).map(|m| RangeAverage {
                from: lo,
                to: hi,
                map: m,
            })
        })
        .collect()
}

/// numpy's `linspace(start, stop, num)` bit for bit: `i * ((stop - start) / (num - 1)) + start`,
/// with the last value set to `stop`.
pub fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    match num {
        0 => Vec::new(),
        1 => vec![start],
        _ => {
            let step = (stop - start) / (num - 1) as f64;
            let mut v: Vec<f64> = (0..num).map(|i| i as f64 * step + start).collect();
            v[num - 1] = stop;
            v
        }
    }
}

/// Parses tIoU thresholds: a range `start:stop:step` (stop included, e.g. `0.1:0.9:0.1`), a
/// comma-separated list (`0.5,0.75,0.95`) or one value.
///
/// A range gives numpy's `linspace(start, stop, n)` with `n = round((stop - start) / step) + 1`,
/// the exact values the Python evaluators use (`0.1:0.9:0.1` yields `0.30000000000000004` as its
/// third value, as `np.linspace(0.1, 0.9, 9)` does).
///
/// # Errors
/// [`EvalError::InvalidThresholds`] for text that is not numbers, values outside `[0, 1]`, a
/// non-positive step, `stop < start`, a step that does not divide the range (to 1e-6), or an
/// empty result.
pub fn parse_tiou_range(spec: &str) -> Result<Vec<f64>> {
    let bad = |reason: &str| EvalError::InvalidThresholds {
        spec: spec.to_string(),
        reason: reason.to_string(),
    };
    let num = |s: &str| -> Result<f64> {
        s.trim()
            .parse::<f64>()
            .map_err(|_| bad(&format!("{:?} is not a number", s.trim())))
    };
    let values = if spec.contains(':') {
        let parts: Vec<&str> = spec.split(':').collect();
        if parts.len() != 3 {
            return Err(bad("a range is start:stop:step"));
        }
        let (start, stop, step) = (num(parts[0])?, num(parts[1])?, num(parts[2])?);
        if !step.is_finite() || step <= 0.0 {
            return Err(bad("the step must be a positive number"));
        }
        if start.is_nan() || stop.is_nan() || stop < start {
            return Err(bad("stop must not be below start"));
        }
        let steps = (stop - start) / step;
        let n = steps.round();
        if (steps - n).abs() > 1e-6 || n > 10_000.0 {
            return Err(bad("the step must divide stop - start"));
        }
        linspace(start, stop, n as usize + 1)
    } else {
        spec.split(',').map(num).collect::<Result<Vec<f64>>>()?
    };
    validate_thresholds(&values).map_err(|e| match e {
        EvalError::InvalidThresholds { reason, .. } => bad(&reason),
        other => other,
    })?;
    Ok(values)
}

/// A number as thresholds are written: at most three decimals, no trailing zeros (`0.5`,
/// `0.05`, `16`).
pub fn format_decimal(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// tIoU thresholds as [`parse_tiou_range`] reads them: `start:stop:step` for three or more
/// evenly spaced values (`0.1:0.9:0.1`), else a comma-separated list ([`format_decimal`] for
/// each number).
pub fn format_tiou_range(t: &[f64]) -> String {
    if let [first, second, .., last] = t {
        let range = format!(
            "{}:{}:{}",
            format_decimal(*first),
            format_decimal(*last),
            format_decimal(second - first)
        );
        let same =
            |v: Vec<f64>| v.len() == t.len() && v.iter().zip(t).all(|(a, b)| (a - b).abs() < 1e-9);
        if parse_tiou_range(&range).is_ok_and(same) {
            return range;
        }
    }
    t.iter()
        .map(|x| format_decimal(*x))
        .collect::<Vec<_>>()
        .join(",")
}

pub(crate) fn validate_thresholds(t: &[f64]) -> Result<()> {
    let spec = format!("{t:?}");
    if t.is_empty() {
        return Err(EvalError::InvalidThresholds {
            spec,
            reason: "no threshold".into(),
        });
    }
    if let Some(v) = t.iter().find(|v| !(0.0..=1.0).contains(*v)) {
        return Err(EvalError::InvalidThresholds {
            spec,
            reason: format!("{v} is not in [0, 1]"),
        });
    }
    Ok(())
}

/// The result of [`detection_map`]. Serializes to exactly
/// `{"tiou_thresholds": [...], "mAP": [...], "average_mAP": x, "per_class_AP": {...}}`, all
/// values fractions in `[0, 1]`; `warnings` are not serialized.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DetectionReport {
    /// The tIoU thresholds, in the order given.
    pub tiou_thresholds: Vec<f64>,
    /// mAP at each threshold.
    #[serde(rename = "mAP")]
    pub map: Vec<f64>,
    /// Mean of `map` over all thresholds.
    #[serde(rename = "average_mAP")]
    pub average_map: f64,
    /// AP of each ground-truth class at each threshold.
    #[serde(rename = "per_class_AP")]
    pub per_class_ap: BTreeMap<String, Vec<f64>>,
    /// Human-readable warnings about the input (detections of unknown videos, ...).
    #[serde(skip)]
    pub warnings: Vec<String>,
}

impl DetectionReport {
    /// Writes the report as pretty JSON (`{"tiou_thresholds", "mAP", "average_mAP",
    /// "per_class_AP"}`), atomically: temporary file, then rename.
    ///
    /// # Errors
    /// [`EvalError::Io`] naming the path.
    pub fn to_path(&self, path: &std::path::Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| EvalError::json(&path.display().to_string(), &e))?;
        crate::atomic::write_atomic(path, text.as_bytes()).map_err(|e| EvalError::io(path, e))
    }

    /// Mean of the mAP over the thresholds within `[lo, hi]` (1e-9 tolerance), or `None` if no
    /// threshold is in that range. THUMOS14 papers report `average_over(0.1, 0.7)`.
    pub fn average_over(&self, lo: f64, hi: f64) -> Option<f64> {
        average_map_over(&self.tiou_thresholds, &self.map, lo, hi)
    }
}

/// One prediction of one class, flattened for sorting and matching.
#[derive(Clone, Copy)]
struct Pred {
    score: f64,
    /// Rank of the video id among the detections' video ids (they are sorted): tie-break key.
    video_rank: u32,
    /// Index of the video in the ground truth, or `u32::MAX` when absent.
    gt_video: u32,
    start: f64,
    end: f64,
}

/// Temporal IoU of two segments `[start, end]`, the one tIoU of the crate (the evaluation's
/// matching and the localization's NMS / soft-NMS). Without `plus_one` it is continuous,
/// ActivityNet's formula: lengths `end − start`. With `plus_one`, lengths are
/// `end − start + 1` and the intersection `min_end − max_start + 1` (the NMS on seconds of
/// BaSNet and the code after it). Returns 0 when the union is not positive.
#[inline]
pub fn temporal_iou(a: [f64; 2], b: [f64; 2], plus_one: bool) -> f64 {
    let one = if plus_one { 1.0 } else { 0.0 };
    let inter = (a[1].min(b[1]) - a[0].max(b[0]) + one).max(0.0);
    let union = (a[1] - a[0] + one) + (b[1] - b[0] + one) - inter;
    if union > 0.0 {
        inter / union
    } else {
        0.0
    }
}

/// ActivityNet's `interpolated_prec_rec`: the area under the precision-recall curve after making
/// precision monotone (backward running maximum), summed where recall changes.
///
/// `prec` and `rec` have one entry per ranked prediction. Returns 0 for empty input.
pub fn interpolated_ap(prec: &[f64], rec: &[f64]) -> f64 {
    let n = prec.len().min(rec.len());
    if n == 0 {
        return 0.0;
    }
    // mprec = [0, prec..., 0], mrec = [0, rec..., 1]; running max from the back.
    let mut mprec = Vec::with_capacity(n + 2);
    mprec.push(0.0);
    mprec.extend_from_slice(&prec[..n]);
    mprec.push(0.0);
    for i in (0..n + 1).rev() {
        if mprec[i + 1] > mprec[i] {
            mprec[i] = mprec[i + 1];
        }
    }
    let mrec = |i: usize| -> f64 {
        if i == 0 {
            0.0
        } else if i == n + 1 {
            1.0
        } else {
            rec[i - 1]
        }
    };
    let mut ap = 0.0;
    for i in 1..n + 2 {
        let (r, r0) = (mrec(i), mrec(i - 1));
        if r != r0 {
            ap += (r - r0) * mprec[i];
        }
    }
    ap
}

/// Detection mAP of `detections` against `gt` at each of `tiou_thresholds`, computed as the
/// ActivityNet evaluator does (see the module docs, including tie-breaking).
///
/// The caller filters `gt` by subset first (`gt.subset("test")`); every video of `gt` counts, and
/// the classes are the labels present in it.
///
/// Cost: one sort per class, then for each prediction the instances of its class in its video
/// (O(n·g) with g instances per video and class); buffers are reused, nothing is allocated per
/// detection.
///
/// # Errors
/// [`EvalError::InvalidThresholds`], [`EvalError::EmptyGroundTruth`] (no segment in `gt`),
/// [`EvalError::EmptyResults`], [`EvalError::InvalidDetection`] (NaN score, start after end) and
/// [`EvalError::UnknownLabel`]; errors name the source `"detections"`.
pub fn detection_map(
    gt: &GroundTruth,
    detections: &DetectionFile,
    tiou_thresholds: &[f64],
) -> Result<DetectionReport> {
    const SRC: &str = "detections";
    validate_thresholds(tiou_thresholds)?;
    let labels: Vec<String> = gt.labels().into_iter().collect();
    if labels.is_empty() {
        return Err(EvalError::EmptyGroundTruth {
            file: "ground truth".into(),
            hint: format!(" ({} videos)", gt.videos.len()),
        });
    }
    if detections.results.is_empty() {
        return Err(EvalError::EmptyResults { file: SRC.into() });
    }
    detections.validate(SRC)?;
    let num_classes = labels.len();
    let class_of: HashMap<&str, usize> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i))
        .collect();
    let video_of: HashMap<&str, u32> = gt
        .videos
        .keys()
        .enumerate()
        .map(|(i, v)| (v.as_str(), i as u32))
        .collect();
    let num_videos = gt.videos.len();

    // Ground truth per class in CSR form: for class c, the instances of video v are
    // gt_seg[c][gt_off[c][v]..gt_off[c][v + 1]], in file order.
    let mut per_class: Vec<Vec<(u32, f64, f64)>> = vec![Vec::new(); num_classes];
    for (vi, v) in gt.videos.values().enumerate() {
        for s in &v.segments {
            per_class[class_of[s.label.as_str()]].push((vi as u32, s.start, s.end));
        }
    }
    let mut gt_seg: Vec<Vec<[f64; 2]>> = Vec::with_capacity(num_classes);
    let mut gt_off: Vec<Vec<u32>> = Vec::with_capacity(num_classes);
    for list in &mut per_class {
        // Stable: within a video, instances keep their order in the file.
        list.sort_by_key(|a| a.0);
        let mut off = vec![0u32; num_videos + 1];
        for &(v, _, _) in list.iter() {
            off[v as usize + 1] += 1;
        }
        for v in 0..num_videos {
            off[v + 1] += off[v];
        }
        gt_seg.push(list.iter().map(|&(_, s, e)| [s, e]).collect());
        gt_off.push(off);
    }

    // Predictions per class.
    let mut preds: Vec<Vec<Pred>> = vec![Vec::new(); num_classes];
    let (mut unknown_videos, mut unknown_dets) = (0usize, 0usize);
    for (rank, (video, dets)) in detections.results.iter().enumerate() {
        let gt_video = video_of.get(video.as_str()).copied();
        if gt_video.is_none() && !dets.is_empty() {
            unknown_videos += 1;
            unknown_dets += dets.len();
        }
        for (index, d) in dets.iter().enumerate() {
            let Some(&c) = class_of.get(d.label.as_str()) else {
                return Err(EvalError::UnknownLabel {
                    file: SRC.into(),
                    video: video.clone(),
                    index,
                    label: d.label.clone(),
                    num_classes,
                });
            };
            preds[c].push(Pred {
                score: d.score,
                video_rank: rank as u32,
                gt_video: gt_video.unwrap_or(u32::MAX),
                start: d.segment[0],
                end: d.segment[1],
            });
        }
    }
    let mut warnings = Vec::new();
    if unknown_dets > 0 {
        warnings.push(format!(
            "{unknown_dets} detections in {unknown_videos} videos that are not in the ground truth \
             (subset) were counted as false positives, as the ActivityNet evaluator does"
        ));
    }

    let k = tiou_thresholds.len();
    let mut per_class_ap = BTreeMap::new();
    let mut map = vec![0.0; k];
    // Reused buffers.
    let mut is_tp: Vec<bool> = Vec::new();
    let mut locked: Vec<bool> = Vec::new();
    let mut order: Vec<(f64, u32)> = Vec::new();
    let mut prec: Vec<f64> = Vec::new();
    let mut rec: Vec<f64> = Vec::new();
    for c in 0..num_classes {
        let p = &mut preds[c];
        let mut ap = vec![0.0; k];
        let npos = gt_seg[c].len() as f64;
        if !p.is_empty() {
            p.sort_by(|a, b| {
                b.score
                    .total_cmp(&a.score)
                    .then(a.video_rank.cmp(&b.video_rank))
                    .then(a.start.total_cmp(&b.start))
                    .then(a.end.total_cmp(&b.end))
            });
            let n = p.len();
            is_tp.clear();
            is_tp.resize(k * n, false);
            locked.clear();
            locked.resize(k * gt_seg[c].len(), false);
            for (i, pr) in p.iter().enumerate() {
                if pr.gt_video == u32::MAX {
                    continue;
                }
                let v = pr.gt_video as usize;
                let (lo, hi) = (gt_off[c][v] as usize, gt_off[c][v + 1] as usize);
                if lo == hi {
                    continue;
                }
                order.clear();
                for g in lo..hi {
                    order.push((
                        temporal_iou([pr.start, pr.end], gt_seg[c][g], false),
                        g as u32,
                    ));
                }
                // Descending tIoU; ties: the instance later in the file first (numpy's
                // `argsort()[::-1]` on a small array).
                order.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
                let ngt = gt_seg[c].len();
                for (t, &thr) in tiou_thresholds.iter().enumerate() {
                    for &(iou, g) in order.iter() {
                        if iou < thr {
                            break;
                        }
                        let l = &mut locked[t * ngt + g as usize];
                        if *l {
                            continue;
                        }
                        *l = true;
                        is_tp[t * n + i] = true;
                        break;
                    }
                }
            }
            for t in 0..k {
                prec.clear();
                rec.clear();
                let (mut tp, mut fp) = (0.0f64, 0.0f64);
                for i in 0..n {
                    if is_tp[t * n + i] {
                        tp += 1.0;
                    } else {
                        fp += 1.0;
                    }
                    rec.push(tp / npos);
                    prec.push(tp / (tp + fp));
                }
                ap[t] = interpolated_ap(&prec, &rec);
            }
        }
        for t in 0..k {
            map[t] += ap[t] / num_classes as f64;
        }
        per_class_ap.insert(labels[c].clone(), ap);
    }
    // Recompute the means as plain sums divided by the count, as numpy's mean does (up to
    // summation order).
    for t in 0..k {
        map[t] = per_class_ap.values().map(|ap| ap[t]).sum::<f64>() / num_classes as f64;
    }
    let average_map = map.iter().sum::<f64>() / k as f64;
    Ok(DetectionReport {
        tiou_thresholds: tiou_thresholds.to_vec(),
        map,
        average_map,
        per_class_ap,
        warnings,
    })
}

/// Average precision of one class from scores and binary labels, scikit-learn's
/// `average_precision_score` definition: `AP = Σ_k (R_k − R_{k−1}) · P_k` over the distinct
/// score values in decreasing order (non-interpolated). Tied scores form one step, so the result
/// does not depend on input order. Without ties this equals W-TALC's "sum of the precision at
/// each positive / number of positives". Returns `None` if there is no positive.
pub fn average_precision(scores: &[f32], positive: &[bool]) -> Option<f64> {
    let n = scores.len().min(positive.len());
    let npos = positive[..n].iter().filter(|p| **p).count();
    if npos == 0 {
        return None;
    }
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut tp, mut fp, mut ap, mut prev_rec) = (0usize, 0usize, 0.0f64, 0.0f64);
    let mut i = 0;
    while i < n {
        let s = scores[idx[i]];
        while i < n && scores[idx[i]].total_cmp(&s).is_eq() {
            if positive[idx[i]] {
                tp += 1;
            } else {
                fp += 1;
            }
            i += 1;
        }
        let rec = tp as f64 / npos as f64;
        let prec = tp as f64 / (tp + fp) as f64;
        ap += (rec - prev_rec) * prec;
        prev_rec = rec;
    }
    Some(ap)
}

/// Classification mAP of video-level scores (the last column of the MAAN paper's Table 1), as a
/// fraction in `[0, 1]` (papers print it ×100).
///
/// `scores` and `labels` are row-major `[num_videos, num_classes]`; a label is positive when it
/// is above 0.5 (multi-hot). Per class the AP is [`average_precision`] (scikit-learn's
/// non-interpolated definition, which ACM-Net uses and which equals W-TALC's without ties);
/// classes with no positive video are excluded from the mean. Returns NaN if no class has a
/// positive, or if the slices are shorter than `num_videos * num_classes`.
pub fn classification_map(
    scores: &[f32],
    labels: &[f32],
    num_videos: usize,
    num_classes: usize,
) -> f64 {
    let size = num_videos * num_classes;
    if scores.len() < size || labels.len() < size {
        return f64::NAN;
    }
    let mut col_s = vec![0f32; num_videos];
    let mut col_p = vec![false; num_videos];
    let (mut sum, mut count) = (0.0, 0usize);
    for c in 0..num_classes {
        for v in 0..num_videos {
            col_s[v] = scores[v * num_classes + c];
            col_p[v] = labels[v * num_classes + c] > 0.5;
        }
        if let Some(ap) = average_precision(&col_s, &col_p) {
            sum += ap;
            count += 1;
        }
    }
    if count == 0 {
        f64::NAN
    } else {
        sum / count as f64
    }
}

#[cfg(test)]
mod range_tests {
    use super::*;

    /// Thresholds are written as `parse_tiou_range` reads them back: each benchmark's as its
    /// range, uneven or short lists as comma lists, numbers without trailing zeros.
    #[test]
    fn tiou_ranges_are_written_as_they_are_parsed() {
        assert_eq!(
            format_tiou_range(&thumos14_tiou_thresholds()),
            "0.1:0.9:0.1"
        );
        assert_eq!(
            format_tiou_range(&activitynet_tiou_thresholds()),
            "0.5:0.95:0.05"
        );
        assert_eq!(format_tiou_range(&[0.5, 0.75, 0.95]), "0.5,0.75,0.95");
        assert_eq!(format_tiou_range(&[0.3, 0.7]), "0.3,0.7");
        assert_eq!(format_tiou_range(&[0.5]), "0.5");
        for t in [
            thumos14_tiou_thresholds(),
            activitynet_tiou_thresholds(),
            vec![0.5, 0.75, 0.95],
            vec![0.1, 0.2, 0.4],
        ] {
            assert_eq!(parse_tiou_range(&format_tiou_range(&t)).unwrap(), t);
        }
        assert_eq!(format_decimal(16.0), "16");
        assert_eq!(format_decimal(0.0001), "0");
        assert_eq!(format_decimal(0.125), "0.125");
    }

    /// The one tIoU: overlap, disjoint, containment, empty segments, and the "+1" convention
    /// of the localization's NMS.
    #[test]
    fn iou_conventions() {
        assert_eq!(temporal_iou([0.0, 10.0], [5.0, 15.0], false), 5.0 / 15.0);
        assert_eq!(temporal_iou([0.0, 10.0], [5.0, 15.0], true), 6.0 / 16.0);
        assert_eq!(temporal_iou([0.0, 1.0], [2.0, 3.0], false), 0.0);
        assert_eq!(temporal_iou([0.0, 1.0], [2.0, 3.0], true), 0.0);
        assert_eq!(temporal_iou([2.0, 4.0], [0.0, 10.0], false), 0.2);
        assert_eq!(temporal_iou([0.0, 10.0], [2.0, 4.0], true), 3.0 / 11.0);
        assert_eq!(temporal_iou([1.0, 1.0], [1.0, 1.0], false), 0.0);
        assert_eq!(temporal_iou([1.0, 1.0], [1.0, 1.0], true), 1.0);
    }

    /// THUMOS14's nine thresholds give the three averages papers report (0.1:0.5 over five
    /// values, 0.1:0.7 over seven, 0.1:0.9 over nine); ActivityNet1.3's ten give 0.5:0.95 only.
    #[test]
    fn reported_averages_are_those_whose_ends_are_thresholds() {
        let t = thumos14_tiou_thresholds();
        let map: Vec<f64> = (1..=9).map(|i| i as f64 / 10.0).collect();
        let r = reported_averages(&t, &map);
        let labels: Vec<String> = r.iter().map(|a| a.label()).collect();
        assert_eq!(labels, ["0.1:0.5", "0.1:0.7", "0.1:0.9"]);
        assert!((r[0].map - 0.3).abs() < 1e-12);
        assert!((r[1].map - 0.4).abs() < 1e-12);
        assert!((r[2].map - 0.5).abs() < 1e-12);
        let a = activitynet_tiou_thresholds();
        let r = reported_averages(&a, &[0.5; 10]);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].label(), "0.5:0.95");
        assert!((r[0].map - 0.5).abs() < 1e-12);
        assert!(reported_averages(&[0.3, 0.5], &[0.1, 0.2]).is_empty());
    }
}
