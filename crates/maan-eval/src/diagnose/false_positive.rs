//! DETAD's false-positive analysis (`diagnose`, `analyze_fp_error_types` and
//! `split_predictions_by_score_ranges`).

use super::matching::{normalized_ap, Matched, Pred, NONE};
use super::{mean, DiagnoseConfig, ErrorBreakdown, FalsePositiveAnalysis, ProfileBar};
use crate::eval::temporal_iou;

/// Error codes, DETAD's legend: 0 true positive, 1 double detection, 2 wrong label,
/// 3 localization, 4 confusion, 5 background.
const TRUE_POSITIVE: u8 = 0;
const DOUBLE: u8 = 1;
const WRONG_LABEL: u8 = 2;
const LOCALIZATION: u8 = 3;
const CONFUSION: u8 = 4;
const BACKGROUND: u8 = 5;

/// The error type of an unmatched detection of class `c` at threshold `thr`: judged against the
/// instance of its video (any class) with the highest tIoU, the first one in the file on a tie
/// (numpy's `argmax`).
fn classify(m: &Matched, p: &Pred, c: u32, thr: f64, min_tiou: f64) -> u8 {
    if p.video == NONE {
        return BACKGROUND;
    }
    let mut best: Option<(f64, u32)> = None;
    for &g in &m.video_instances[p.video as usize] {
        let inst = &m.instances[g as usize];
        let iou = temporal_iou([p.start, p.end], [inst.start, inst.end], false);
        if best.is_none_or(|(b, _)| iou > b) {
            best = Some((iou, g));
        }
    }
    let Some((top, g)) = best else {
        return BACKGROUND;
    };
    let same = m.instances[g as usize].class == c;
    if top >= thr {
        if same {
            DOUBLE
        } else {
            WRONG_LABEL
        }
    } else if top >= min_tiou {
        if same {
            LOCALIZATION
        } else {
            CONFUSION
        }
    } else {
        BACKGROUND
    }
}

pub(crate) fn analyse(m: &Matched, config: &DiagnoseConfig) -> FalsePositiveAnalysis {
    let lf = config.limit_factor;
    let nt = m.tious.len();
    let nc = m.classes.len();
    let kept: Vec<usize> = (0..nc).map(|c| m.kept(c, Some(lf))).collect();
    // types[t][c][rank]
    let types: Vec<Vec<Vec<u8>>> = (0..nt)
        .map(|t| {
            (0..nc)
                .map(|c| {
                    (0..kept[c])
                        .map(|r| {
                            if m.matched[t][c][r] != NONE {
                                TRUE_POSITIVE
                            } else {
                                classify(m, &m.preds[c][r], c as u32, m.tious[t], config.min_tiou)
                            }
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    let count = |ranks: &dyn Fn(usize) -> std::ops::Range<usize>| -> [f64; 6] {
        // Mean over the thresholds of the counts of each type.
        let mut sum = [0.0f64; 6];
        for row in &types {
            for (c, list) in row.iter().enumerate() {
                for &e in &list[ranks(c)] {
                    sum[e as usize] += 1.0;
                }
            }
        }
        sum.map(|s| s / nt as f64)
    };
    let counts = count(&|c| 0..kept[c]);
    let profile = (0..lf)
        .map(|g| {
            let range = |c: usize| {
                let n = m.class_npos[c];
                (g * n).min(kept[c])..((g + 1) * n).min(kept[c])
            };
            let size: usize = (0..nc).map(|c| range(c).len()).sum();
            let avg = count(&range);
            ProfileBar {
                label: format!("{}G", g + 1),
                detections: size,
                fractions: (size > 0)
                    .then(|| ErrorBreakdown::from_values(avg.map(|x| x / size as f64))),
            }
        })
        .collect();
    let map_n = m.normalized_map(Some(lf), 0.0);
    let average_map_n = mean(&map_n);
    // The average-mAP_N gain from removing each error type.
    let counted = m.class_npos.iter().filter(|n| **n > 0).count().max(1) as f64;
    let mut gain = [0.0f64; 6];
    for e in [DOUBLE, WRONG_LABEL, LOCALIZATION, CONFUSION, BACKGROUND] {
        let mut sum = 0.0;
        for t in 0..nt {
            let mut per_t = 0.0;
            for c in 0..nc {
                if m.class_npos[c] == 0 {
                    continue;
                }
                let tp: Vec<bool> = (0..kept[c])
                    .filter(|&r| types[t][c][r] != e)
                    .map(|r| m.matched[t][c][r] != NONE)
                    .collect();
                per_t += normalized_ap(&tp, m.class_npos[c] as f64, m.avg_per_class);
            }
            sum += per_t / counted;
        }
        gain[e as usize] = sum / nt as f64 - average_map_n;
    }
    FalsePositiveAnalysis {
        detections: kept.iter().sum(),
        map_n,
        average_map_n,
        counts: ErrorBreakdown::from_values(counts),
        profile,
        map_gain: ErrorBreakdown::from_values(gain),
    }
}
