//! Per-class suppression of overlapping proposals: greedy NMS and Gaussian soft-NMS, both on
//! [`temporal_iou`] (the tIoU of the evaluation, with the "+1" convention as an option).

use super::ClassDetection;
use crate::eval::temporal_iou;

/// Greedy non-maximum suppression of the detections of **one** class: visit by descending
/// score (ties: earlier start, then earlier end first), keep a detection unless its tIoU
/// ([`temporal_iou`]) with an already kept one is `>= iou_threshold`. Returns the kept ones by
/// descending score.
pub(crate) fn nms(
    dets: &[ClassDetection],
    iou_threshold: f64,
    plus_one: bool,
) -> Vec<ClassDetection> {
    let mut sorted = dets.to_vec();
    sorted.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.start.total_cmp(&b.start))
            .then(a.end.total_cmp(&b.end))
    });
    let mut kept: Vec<ClassDetection> = Vec::with_capacity(sorted.len());
    for d in sorted {
        let suppressed = kept
            .iter()
            .any(|k| temporal_iou([k.start, k.end], [d.start, d.end], plus_one) >= iou_threshold);
        if !suppressed {
            kept.push(d);
        }
    }
    kept
}

/// Gaussian soft-NMS (Bodla et al., 2017) of the detections of **one** class, as the WTAL
/// code that uses it does (CO2-Net, DELU: `soft_nms(..., method='gaussian', sigma=0.3)`):
/// repeatedly take the detection with the highest current score (ties: earlier start, then
/// earlier end), keep it, and multiply the score of every detection not yet taken by
/// `exp(−tIoU² / sigma)`, with the tIoU ([`temporal_iou`]) to the one just kept. Nothing is
/// dropped: returns every detection, with its decayed score, in the order taken (descending
/// decayed score). Like that code there is no score floor, and a negative score (the
/// outer-inner score can be negative) decays towards 0. A `sigma` that is not positive
/// leaves the scores unchanged.
pub(crate) fn soft_nms(dets: &[ClassDetection], sigma: f64, plus_one: bool) -> Vec<ClassDetection> {
    let mut rest = dets.to_vec();
    let mut kept = Vec::with_capacity(rest.len());
    while !rest.is_empty() {
        let best = (0..rest.len())
            .max_by(|&i, &j| {
                let (a, b) = (&rest[i], &rest[j]);
                a.score
                    .total_cmp(&b.score)
                    .then(b.start.total_cmp(&a.start))
                    .then(b.end.total_cmp(&a.end))
                    .then(j.cmp(&i))
            })
            .expect("not empty");
        let top = rest.swap_remove(best);
        if sigma > 0.0 {
            for d in &mut rest {
                let iou = temporal_iou([top.start, top.end], [d.start, d.end], plus_one);
                d.score *= (-(iou * iou) / sigma).exp();
            }
        }
        kept.push(top);
    }
    kept
}
