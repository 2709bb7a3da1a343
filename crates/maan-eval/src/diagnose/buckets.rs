//! DETAD's sensitivity analysis (`compute_average_mAP_N_for_characteristic`) and
//! false-negative analysis (`fn_distribution_by_characteristic`), by characteristic bucket.

use super::matching::{normalized_ap, Instance, Matched, NONE};
use super::{Bins, BucketResult, Characteristic, CharacteristicAnalysis};

/// The bucket of `x` among `edges` as pandas' `cut(x, edges, right=True,
/// include_lowest=True)` finds it: `i` with `edges[i] < x <= edges[i + 1]`, or 0 for `x ==
/// edges[0]`; `None` outside every bucket or for NaN.
pub fn bucket_of(edges: &[f64], x: f64) -> Option<usize> {
    if edges.len() < 2 || x.is_nan() {
        return None;
    }
    if x == edges[0] {
        return Some(0);
    }
    edges.windows(2).position(|w| w[0] < x && x <= w[1])
}

fn value(inst: &Instance, ch: Characteristic) -> Option<f64> {
    match ch {
        Characteristic::Coverage => inst.coverage,
        Characteristic::Length => Some(inst.length),
        Characteristic::Instances => Some(inst.num_instances),
    }
}

/// `matched[t][instance]`: whether a detection matches the instance at threshold `t` once
/// DETAD has unmatched the detections of normalized precision at most `min_precision`.
pub(crate) fn matched_after_removal(m: &Matched, min_precision: f64) -> Vec<Vec<bool>> {
    (0..m.tious.len())
        .map(|t| {
            let mut hit = vec![false; m.instances.len()];
            for c in 0..m.classes.len() {
                if m.class_npos[c] == 0 {
                    continue;
                }
                let tp = m.true_positives(t, c, m.preds[c].len(), min_precision);
                for (r, is_tp) in tp.into_iter().enumerate() {
                    if is_tp {
                        hit[m.matched[t][c][r] as usize] = true;
                    }
                }
            }
            hit
        })
        .collect()
}

pub(crate) fn analyse(
    m: &Matched,
    bins: &Bins,
    fn_matched: &[Vec<bool>],
) -> CharacteristicAnalysis {
    let nb = bins.labels.len();
    let of: Vec<Option<usize>> = m
        .instances
        .iter()
        .map(|i| value(i, bins.characteristic).and_then(|x| bucket_of(&bins.edges, x)))
        .collect();
    let nt = m.tious.len();
    let buckets = (0..nb)
        .map(|b| {
            let mut npos = vec![0usize; m.classes.len()];
            for (i, o) in of.iter().enumerate() {
                if *o == Some(b) {
                    npos[m.instances[i].class as usize] += 1;
                }
            }
            let instances: usize = npos.iter().sum();
            // Sensitivity: per class with an instance in the bucket, the detections that are
            // unmatched or matched inside the bucket at every threshold.
            let mut sum = 0.0;
            let mut classes = 0usize;
            for c in 0..m.classes.len() {
                if npos[c] == 0 {
                    continue;
                }
                let keep: Vec<usize> = (0..m.preds[c].len())
                    .filter(|&r| {
                        (0..nt).all(|t| {
                            let g = m.matched[t][c][r];
                            g == NONE || of[g as usize] == Some(b)
                        })
                    })
                    .collect();
                let mut ap = 0.0;
                for t in 0..nt {
                    let tp: Vec<bool> = keep.iter().map(|&r| m.matched[t][c][r] != NONE).collect();
                    ap += normalized_ap(&tp, npos[c] as f64, m.avg_per_class);
                }
                sum += ap / nt as f64;
                classes += 1;
            }
            // False negatives: the bucket's instances no detection matches, per threshold.
            let false_negative_rate = (instances > 0).then(|| {
                let mut rate = 0.0;
                for hit in fn_matched {
                    let missed = of
                        .iter()
                        .zip(hit)
                        .filter(|(o, h)| **o == Some(b) && !**h)
                        .count();
                    rate += missed as f64 / instances as f64;
                }
                rate / nt as f64
            });
            BucketResult {
                label: bins.labels[b].clone(),
                lower: bins.edges[b],
                upper: Some(bins.edges[b + 1]).filter(|x| x.is_finite()),
                instances,
                average_map_n: (classes > 0).then(|| sum / classes as f64),
                false_negative_rate,
            }
        })
        .collect();
    CharacteristicAnalysis {
        characteristic: bins.characteristic,
        buckets,
        unbucketed: of.iter().filter(|o| o.is_none()).count(),
    }
}
