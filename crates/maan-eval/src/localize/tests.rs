//! Tests of the localization pipeline: each step by hand, the presets, and the entry point
//! [`try_localize_signals`](super::try_localize_signals) against a copy of the earlier
//! pipeline.

use super::config::arange;
use super::proposals::connected_components;
use super::*;
use crate::annotations::ClassList;
use crate::benchmark::Benchmark;
use crate::detections::Detection;
use crate::eval::temporal_iou;

const EPS: f64 = 1e-9;

/// The entry point on a video without an attention (the form most tests use), inputs checked.
fn try_localize(
    cas: &[f32],
    num_snippets: usize,
    num_classes: usize,
    video_scores: &[f32],
    seconds_per_snippet: f64,
    cfg: &LocalizeConfig,
) -> Result<Vec<ClassDetection>> {
    try_localize_signals(
        &VideoSignals {
            cas,
            attention: None,
            num_snippets,
            num_classes,
            video_scores,
            seconds_per_snippet,
        },
        cfg,
    )
}

/// [`try_localize`] on inputs known to be valid.
fn localize(
    cas: &[f32],
    num_snippets: usize,
    num_classes: usize,
    video_scores: &[f32],
    seconds_per_snippet: f64,
    cfg: &LocalizeConfig,
) -> Vec<ClassDetection> {
    try_localize(
        cas,
        num_snippets,
        num_classes,
        video_scores,
        seconds_per_snippet,
        cfg,
    )
    .unwrap_or_else(|e| panic!("localize: {e}"))
}

/// Converts class-indexed detections to labelled [`Detection`]s for a result file. Detections
/// whose class index is out of range for `classes` are skipped. (Was public; only this test
/// module used it: maan-model's `predict::detections` labels detections itself.)
fn to_detections(dets: &[ClassDetection], classes: &ClassList) -> Vec<Detection> {
    dets.iter()
        .filter_map(|d| {
            classes.name(d.class).map(|label| Detection {
                label: label.to_string(),
                score: d.score,
                segment: [d.start, d.end],
            })
        })
        .collect()
}

fn det(class: usize, score: f64, start: f64, end: f64) -> ClassDetection {
    ClassDetection {
        class,
        score,
        start,
        end,
    }
}

#[test]
fn class_rejection() {
    assert_eq!(
        reject_classes(&[0.05, 0.1, 0.5, f32::NAN, 0.09], 0.1),
        vec![1, 2]
    );
    assert!(reject_classes(&[], 0.1).is_empty());
}

#[test]
fn components() {
    assert_eq!(connected_components(&[]), vec![]);
    assert_eq!(connected_components(&[false, false]), vec![]);
    assert_eq!(connected_components(&[true]), vec![(0, 1)]);
    assert_eq!(
        connected_components(&[true, true, false, true, false, false, true, true]),
        vec![(0, 2), (3, 4), (6, 8)]
    );
    assert_eq!(
        components_above(&[0.1, 0.5, 0.5, 0.2, 0.9], 0.5),
        vec![(1, 3), (4, 5)]
    );
}

#[test]
fn thresholds() {
    let s = [0.0, 1.0, 2.0];
    assert_eq!(
        threshold_values(&s, &Thresholds::RelativeToMax(vec![0.2, 0.05])),
        vec![0.4, 0.1]
    );
    assert_eq!(
        threshold_values(&s, &Thresholds::Absolute(vec![0.05])),
        vec![0.05]
    );
    assert!(threshold_values(&[0.0, 0.0], &Thresholds::RelativeToMax(vec![0.2])).is_empty());
    assert!(threshold_values(&[], &Thresholds::RelativeToMax(vec![0.2])).is_empty());
}

#[test]
fn upsampling() {
    assert_eq!(upsample_linear(&[1.0, 2.0], 1), vec![1.0, 2.0]);
    // Positions 0, .5, 1, 1.5 -> 1, 2, 3, then extrapolated 4.
    assert_eq!(upsample_linear(&[1.0, 3.0], 2), vec![1.0, 2.0, 3.0, 4.0]);
    assert_eq!(
        upsample_linear(&[0.0, 4.0, 0.0], 4),
        vec![0.0, 1.0, 2.0, 3.0, 4.0, 3.0, 2.0, 1.0, 0.0, -1.0, -2.0, -3.0]
    );
    assert_eq!(upsample_linear(&[7.0], 3), vec![7.0; 3]);
    assert!(upsample_linear(&[], 3).is_empty());
}

#[test]
fn proposal_scores() {
    let s = [0.0, 0.2, 1.0, 0.8, 0.0, 0.0, 0.0, 0.0];
    assert!((mean_score(&s, 2, 4) - 0.9).abs() < 1e-6);
    assert_eq!(mean_score(&s, 3, 3), 0.0);
    // Run [2, 4): n = 2, outer = [int(2 - 0.5), 2) ∪ [4, int(3 + 0.5)] = [1, 2) ∪ [] : mean 0.2.
    let oic = outer_inner_score(&s, 2, 4, 0.25, 0.2, 0.5);
    assert!((oic - (0.9 - 0.2 + 0.1)).abs() < 1e-6, "{oic}");
    // Run [1, 5) (n = 4): outer = [0, 1) ∪ [5, 5]: mean (0 + 0) / 2 = 0.
    let oic = outer_inner_score(&s, 1, 5, 0.25, 0.2, 0.0);
    assert!((oic - 0.5).abs() < 1e-6, "{oic}");
    // Whole signal: the outer region is empty, mean 0.
    let oic = outer_inner_score(&s, 0, 8, 0.25, 0.0, 0.0);
    assert!((oic - mean_score(&s, 0, 8)).abs() < 1e-6);
}

#[test]
fn nms_suppresses_overlaps_at_or_above_the_threshold() {
    let d = [
        det(0, 0.9, 0.0, 10.0),
        det(0, 0.8, 0.0, 5.0), // tIoU 0.5 with the first: dropped at 0.5
        det(0, 0.7, 20.0, 30.0),
        det(0, 0.95, 40.0, 41.0),
    ];
    let kept = nms(&d, 0.5, false);
    assert_eq!(kept, vec![d[3], d[0], d[2]], "kept by descending score");
    // At 0.6 the 0.5-overlap survives.
    assert_eq!(nms(&d, 0.6, false).len(), 4);
    // With "+1": tIoU = 6/11 < 0.6, kept too; at 0.5 it is dropped.
    assert_eq!(nms(&d, 0.6, true).len(), 4);
    assert_eq!(nms(&d, 0.5, true).len(), 3);
    assert!(nms(&[], 0.5, false).is_empty());
    // Above 1 disables NMS, even for exact duplicates.
    assert_eq!(nms(&[d[0], d[0]], 1.01, false).len(), 2);
    assert_eq!(nms(&[d[0], d[0]], 1.0, false).len(), 1);
}

#[test]
fn fusion_and_seconds() {
    assert_eq!(fuse(&[1.0, 2.0], &[3.0, 4.0], 0.5, 0.5), vec![2.0, 3.0]);
    assert_eq!(fuse(&[1.0], &[3.0], 1.0, 0.0), vec![1.0]);
    assert_eq!(snippets_to_seconds(2, 5, 0.64, 1), (1.28, 3.2));
    let (s, e) = snippets_to_seconds(24, 48, 0.64, 24);
    assert!((s - 0.64).abs() < EPS && (e - 1.28).abs() < EPS);
}

#[test]
#[should_panic(expected = "different lengths")]
fn fusion_checks_lengths() {
    fuse(&[1.0], &[1.0, 2.0], 0.5, 0.5);
}

/// CAS [T=8, C=3], row-major.
fn toy_cas() -> (Vec<f32>, Vec<f32>) {
    let col0 = [0.0, 0.1, 0.9, 1.0, 0.05, 0.0, 0.5, 0.6];
    let col1 = [0.3; 8];
    let col2 = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.8];
    let mut cas = Vec::new();
    for t in 0..8 {
        cas.extend([col0[t], col1[t], col2[t]]);
    }
    (cas, vec![0.9, 0.05, 0.5])
}

#[test]
fn thumos_pipeline_by_hand() {
    let (cas, scores) = toy_cas();
    let d = localize(&cas, 8, 3, &scores, 0.64, &LocalizeConfig::thumos14());
    // Class 1 is rejected (0.05 < 0.1). Class 0: threshold 0.2 x 1.0 = 0.2: runs [2, 4) and
    // [6, 8), scores 0.95 and 0.55. Class 2: threshold 0.16: run [7, 8), score 0.8.
    assert_eq!(d.len(), 3);
    assert_eq!(d[0].class, 0);
    assert!((d[0].score - 0.95).abs() < 1e-6);
    assert!((d[0].start - 1.28).abs() < EPS && (d[0].end - 2.56).abs() < EPS);
    assert!((d[1].score - 0.55).abs() < 1e-6);
    assert!((d[1].start - 3.84).abs() < EPS && (d[1].end - 5.12).abs() < EPS);
    assert_eq!(d[2].class, 2);
    assert!((d[2].start - 4.48).abs() < EPS && (d[2].end - 5.12).abs() < EPS);
}

#[test]
fn activitynet_pools_thresholds_then_nms() {
    let (cas, scores) = toy_cas();
    let mut cfg = LocalizeConfig::activitynet();
    cfg.nms_iou = 1.01; // NMS off: every pooled proposal survives
    let d = try_localize(&cas, 8, 3, &scores, 1.0, &cfg).unwrap();
    let c0: Vec<(f64, f64)> = d
        .iter()
        .filter(|d| d.class == 0)
        .map(|d| (d.start, d.end))
        .collect();
    // 0.2 and 0.15 x max: [2,4), [6,8); 0.1: [1,4), [6,8); 0.05: [1,5), [6,8).
    assert_eq!(c0.len(), 8);
    assert!(c0.contains(&(1.0, 5.0)) && c0.contains(&(1.0, 4.0)));
    // With the preset NMS (0.9), exact duplicates collapse: [2,4), [6,8), [1,4), [1,5)
    // ([1,4) vs [1,5): tIoU 0.75 < 0.9 is kept).
    let d = try_localize(&cas, 8, 3, &scores, 1.0, &LocalizeConfig::activitynet()).unwrap();
    assert_eq!(d.iter().filter(|d| d.class == 0).count(), 4);
    // Scores descend within a class.
    for w in d.windows(2) {
        if w[0].class == w[1].class {
            assert!(w[0].score >= w[1].score);
        }
    }
}

#[test]
fn options_change_the_output() {
    let (cas, scores) = toy_cas();
    let mut cfg = LocalizeConfig::thumos14();
    cfg.min_length = 2;
    let d = try_localize(&cas, 8, 3, &scores, 1.0, &cfg).unwrap();
    assert_eq!(d.len(), 2, "the one-snippet run of class 2 is dropped");
    cfg.min_length = 1;
    cfg.thresholds = Thresholds::Absolute(vec![0.25]);
    cfg.class_threshold = 0.0;
    let d = try_localize(&cas, 8, 3, &scores, 1.0, &cfg).unwrap();
    // Class 1 (0.3 everywhere) is now one run over the whole video.
    assert!(d
        .iter()
        .any(|d| d.class == 1 && d.start == 0.0 && d.end == 8.0));
    cfg.score = ProposalScore::outer_inner();
    let d = try_localize(&cas, 8, 3, &scores, 1.0, &cfg).unwrap();
    let whole = d.iter().find(|d| d.class == 1).unwrap();
    // Inner 0.3, empty outer, + 0.2 x 0.05.
    assert!((whole.score - (0.3 + 0.01)).abs() < 1e-6, "{}", whole.score);
    cfg.upsample = 4;
    let d = try_localize(&cas, 8, 3, &scores, 1.0, &cfg).unwrap();
    assert!(d.iter().all(|d| d.end <= 8.0 + EPS));
}

#[test]
fn bad_inputs_are_errors() {
    let (cas, scores) = toy_cas();
    let cfg = LocalizeConfig::thumos14();
    assert!(matches!(
        try_localize(&cas, 7, 3, &scores, 0.64, &cfg),
        Err(EvalError::Shape(_))
    ));
    assert!(try_localize(&cas, 8, 3, &scores[..2], 0.64, &cfg).is_err());
    assert!(try_localize(&cas, 8, 3, &scores, 0.0, &cfg).is_err());
    let mut nan = cas.clone();
    nan[4] = f32::NAN;
    assert!(matches!(
        try_localize(&nan, 8, 3, &scores, 0.64, &cfg),
        Err(EvalError::InvalidInput(_))
    ));
    let mut c = cfg.clone();
    c.upsample = 0;
    assert!(try_localize(&cas, 8, 3, &scores, 0.64, &c).is_err());
    assert!(try_localize(&[], 0, 3, &scores, 0.64, &cfg)
        .unwrap()
        .is_empty());
}

#[test]
fn config_serde_round_trip_and_labels() {
    for cfg in [
        LocalizeConfig::thumos14(),
        LocalizeConfig::activitynet(),
        LocalizeConfig::activitynet_long(),
        LocalizeConfig::thumos14_oic(),
        LocalizeConfig::activitynet_oic(),
    ] {
        let text = serde_json::to_string(&cfg).unwrap();
        let back: LocalizeConfig = serde_json::from_str(&text).unwrap();
        assert_eq!(back, cfg);
    }
    let classes = ClassList::thumos14();
    let d = to_detections(&[det(4, 0.5, 1.0, 2.0), det(99, 0.5, 1.0, 2.0)], &classes);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].label, "CliffDiving");
    assert_eq!(d[0].segment, [1.0, 2.0]);
}

/// The moving average equals a hand-computed one, window shrinking at the ends; window 0/1
/// is the identity; an even window leans one sample forward.
#[test]
fn moving_average_by_hand() {
    let x = [0.0f32, 3.0, 6.0, 0.0, 3.0];
    assert_eq!(smooth_moving_average(&x, 1), x.to_vec());
    assert_eq!(smooth_moving_average(&x, 0), x.to_vec());
    let s = smooth_moving_average(&x, 3);
    let want = [1.5, 3.0, 3.0, 3.0, 1.5];
    for (a, b) in s.iter().zip(want) {
        assert!((a - b).abs() < 1e-6, "{s:?}");
    }
    // Window 2: [i, i+1].
    let s = smooth_moving_average(&x, 2);
    let want = [1.5, 4.5, 3.0, 1.5, 3.0];
    for (a, b) in s.iter().zip(want) {
        assert!((a - b).abs() < 1e-6, "{s:?}");
    }
    // A window wider than the signal: every output is a mean of a prefix/suffix, never
    // outside [min, max].
    let s = smooth_moving_average(&x, 99);
    assert!(
        s.iter().all(|v| (2.4 - 1e-6..=2.4 + 1e-6).contains(v)),
        "{s:?}"
    );
    assert!(smooth_moving_average(&[], 5).is_empty());
}

/// An ActivityNet-shaped video of 300 snippets with one instance over snippets 40..250:
/// `(cas [300, 1], video score)` where the CAS inside the instance is `inside(t)` and 0.01
/// outside.
fn long_instance(inside: impl Fn(usize) -> f32) -> Vec<f32> {
    (0..300)
        .map(|t| {
            if (40..250).contains(&t) {
                inside(t)
            } else {
                0.01
            }
        })
        .collect()
}

/// The relative window is a share of the video: `smoothing_window` is the larger of the
/// fixed window and `round(fraction · snippets)`, and localizing with a fraction gives
/// exactly the detections of the fixed window it stands for, on videos of two lengths;
/// a fraction outside [0, 1] is an error, not a silent clamp.
#[test]
fn relative_smoothing_is_the_fixed_window_of_that_share_of_the_video() {
    let cfg = LocalizeConfig {
        relative_smoothing: 0.1,
        ..LocalizeConfig::activitynet()
    };
    assert_eq!(cfg.smoothing_window(300), 30);
    assert_eq!(cfg.smoothing_window(84), 8);
    assert_eq!(cfg.smoothing_window(4), 1);
    let wide = LocalizeConfig {
        smoothing: 45,
        ..cfg.clone()
    };
    assert_eq!(wide.smoothing_window(300), 45);
    assert_eq!(LocalizeConfig::activitynet().smoothing_window(300), 1);
    let noisy = long_instance(|t| 0.05 + 0.5 * hash01(t));
    for n in [300usize, 120] {
        let cas = &noisy[..n];
        let fixed = LocalizeConfig {
            smoothing: cfg.smoothing_window(n),
            ..LocalizeConfig::activitynet()
        };
        let a = try_localize(cas, n, 1, &[0.9], 0.64, &cfg).unwrap();
        let b = try_localize(cas, n, 1, &[0.9], 0.64, &fixed).unwrap();
        assert_eq!(a, b, "{n} snippets");
        let plain = try_localize(cas, n, 1, &[0.9], 0.64, &LocalizeConfig::activitynet());
        assert_ne!(a, plain.unwrap(), "smoothing changes the detections");
    }
    for bad in [-0.1, 1.5, f64::NAN] {
        let cfg = LocalizeConfig {
            relative_smoothing: bad,
            ..LocalizeConfig::activitynet()
        };
        assert!(try_localize(&noisy, 300, 1, &[0.9], 0.64, &cfg).is_err());
    }
}

/// A deterministic pseudo-random value in [0, 1) per snippet (no RNG dependency).
fn hash01(t: usize) -> f32 {
    let mut z = (t as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    z = (z ^ (z >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    ((z >> 40) as f32) / (1u64 << 24) as f32
}

/// With the ActivityNet preset, a smooth CAS over one long instance gives exactly one
/// detection (all four thresholds cut the same run; NMS merges them), and it matches the
/// instance exactly.
#[test]
fn activitynet_smooth_long_instance_gives_one_matching_detection() {
    let cas = long_instance(|t| 0.6 + 0.3 * ((t - 40) as f32 / 210.0 * std::f32::consts::PI).sin());
    let d = try_localize(&cas, 300, 1, &[0.9], 0.64, &LocalizeConfig::activitynet()).unwrap();
    assert_eq!(d.len(), 1, "{d:?}");
    let iou = temporal_iou([d[0].start, d[0].end], [40.0 * 0.64, 250.0 * 0.64], false);
    assert!((iou - 1.0).abs() < 1e-9, "tIoU {iou}");
}

/// A CAS that jumps between about 0.02 and 0.5 from snippet to snippet inside a long
/// instance (the fragmented CAS of MAAN on long actions): the paper's preset fragments it,
/// and its best-scored detection misses the instance; the long-action preset (smoothing +
/// outer-inner score) ranks a detection of tIoU >= 0.5 first, and every preset still
/// contains one.
#[test]
fn activitynet_noisy_long_instance_still_gives_a_detection_of_tiou_half() {
    // Half of the snippets dip to ~0.02 (below 0.05 x max), so the paper preset's lowest
    // threshold breaks the instance into pieces.
    let cas = long_instance(|t| {
        let u = hash01(t);
        if u < 0.5 {
            0.02
        } else {
            0.1 + 0.4 * u
        }
    });
    let gt = [40.0 * 0.64, 250.0 * 0.64];
    let best_iou = |d: &[ClassDetection]| {
        d.iter()
            .map(|d| temporal_iou([d.start, d.end], gt, false))
            .fold(0.0, f64::max)
    };
    let paper = try_localize(&cas, 300, 1, &[0.9], 0.64, &LocalizeConfig::activitynet()).unwrap();
    assert!(
        paper.len() > 10,
        "the paper preset fragments: {}",
        paper.len()
    );
    let top = temporal_iou([paper[0].start, paper[0].end], gt, false);
    assert!(top < 0.5, "paper preset's top detection tIoU {top}");
    let long = try_localize(
        &cas,
        300,
        1,
        &[0.9],
        0.64,
        &LocalizeConfig {
            smoothing: 9,
            score: ProposalScore::outer_inner(),
            ..LocalizeConfig::activitynet()
        },
    )
    .unwrap();
    let top = temporal_iou([long[0].start, long[0].end], gt, false);
    assert!(top >= 0.5, "long-action preset's top detection tIoU {top}");
    assert!(best_iou(&long) >= 0.9, "{}", best_iou(&long));
    // Smoothing alone already gives a detection of tIoU >= 0.5.
    let mut smooth = LocalizeConfig::activitynet();
    smooth.smoothing = 9;
    let d = try_localize(&cas, 300, 1, &[0.9], 0.64, &smooth).unwrap();
    assert!(best_iou(&d) >= 0.5, "{}", best_iou(&d));
}

/// The `long` preset's attention proposals: a CAS that marks only the middle quarter of a
/// long instance (its most discriminative part, 0.9 over snippets 120..170, 0.01 on the rest
/// of the instance) while the class-agnostic attention covers all of it (0.8 over 40..250,
/// 0.1 outside). Without attention thresholds (the rest of the preset unchanged) no
/// detection reaches tIoU 0.5 with the instance; with them one covers it at tIoU >= 0.9; and
/// the preset holds σ = 0.5 and the four attention fractions it documents.
#[test]
fn long_preset_attention_proposals_cover_an_instance_the_cas_marks_only_in_part() {
    let cas: Vec<f32> = (0..300)
        .map(|t| match t {
            120..170 => 0.9,
            40..250 => 0.01,
            _ => 0.005,
        })
        .collect();
    let att: Vec<f32> = (0..300)
        .map(|t| if (40..250).contains(&t) { 0.8 } else { 0.1 })
        .collect();
    let gt = [40.0 * 0.64, 250.0 * 0.64];
    let best_iou = |cfg: &LocalizeConfig| {
        let signals = VideoSignals {
            cas: &cas,
            attention: Some(&att),
            num_snippets: 300,
            num_classes: 1,
            video_scores: &[0.9],
            seconds_per_snippet: 0.64,
        };
        try_localize_signals(&signals, cfg)
            .unwrap()
            .iter()
            .map(|d| temporal_iou([d.start, d.end], gt, false))
            .fold(0.0, f64::max)
    };
    let long = LocalizeConfig::activitynet_long();
    let cas_only = LocalizeConfig {
        attention_thresholds: None,
        ..long.clone()
    };
    assert!(best_iou(&cas_only) < 0.5, "{}", best_iou(&cas_only));
    assert!(best_iou(&long) >= 0.9, "{}", best_iou(&long));
    assert_eq!(
        long.attention_thresholds,
        Some(Thresholds::RelativeToMax(vec![0.5, 0.3, 0.2, 0.1]))
    );
    assert_eq!(long.suppression, Suppression::SoftNms { sigma: 0.5 });
}

/// The localization pipeline as it was before attention proposals and soft-NMS existed,
/// copied verbatim (only renamed): the oracle of the `paper` preset's bit-for-bit test.
fn paper_oracle(
    cas: &[f32],
    num_snippets: usize,
    num_classes: usize,
    video_scores: &[f32],
    seconds_per_snippet: f64,
    cfg: &LocalizeConfig,
) -> Vec<ClassDetection> {
    let mut out = Vec::new();
    for c in reject_classes(video_scores, cfg.class_threshold) {
        let column = upsample_linear(
            &smooth_moving_average(
                &class_column(cas, num_snippets, num_classes, c),
                cfg.smoothing_window(num_snippets),
            ),
            cfg.upsample,
        );
        let mut proposals = Vec::new();
        for thr in threshold_values(&column, &cfg.thresholds) {
            for (s, e) in components_above(&column, thr) {
                if e - s < cfg.min_length {
                    continue;
                }
                let score = match cfg.score {
                    ProposalScore::Mean => mean_score(&column, s, e),
                    ProposalScore::OuterInner { lambda, gamma } => {
                        outer_inner_score(&column, s, e, lambda, gamma, video_scores[c])
                    }
                };
                let (start, end) = snippets_to_seconds(s, e, seconds_per_snippet, cfg.upsample);
                proposals.push(ClassDetection {
                    class: c,
                    score,
                    start,
                    end,
                });
            }
        }
        out.extend(nms(&proposals, cfg.nms_iou, cfg.nms_plus_one));
    }
    out
}

/// A smooth-ish pseudo-random CAS `[t, c]` with bumps (so that thresholds cut several
/// runs), video scores around the class threshold, and an attention `[t]`.
fn random_video(t: usize, c: usize, seed: usize) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let mut cas = Vec::with_capacity(t * c);
    for i in 0..t {
        for k in 0..c {
            let bump = ((i as f32 / (3.0 + k as f32)).sin() * 0.5 + 0.5).powi(3);
            cas.push(bump * (0.3 + 0.7 * hash01(seed * 7919 + i * 31 + k)));
        }
    }
    let scores = (0..c)
        .map(|k| 0.02 + 0.5 * hash01(seed * 104_729 + k))
        .collect();
    let att = (0..t).map(|i| hash01(seed * 15_485_863 + i)).collect();
    (cas, scores, att)
}

/// The `paper` preset's detections equal, bit for bit (every field, `f64` compared by its
/// bits), those of the pipeline before this change ([`paper_oracle`]), for both benchmarks
/// and every earlier option (smoothing, outer-inner, upsampling, minimum length, "+1"),
/// on 40 pseudo-random videos each, whether or not the video carries an attention (the
/// paper presets cut none from it).
#[test]
fn paper_preset_detections_are_bit_for_bit_the_earlier_pipelines() {
    let mut configs = vec![
        LocalizeConfig::thumos14(),
        LocalizeConfig::activitynet(),
        LocalizeConfig {
            smoothing: 9,
            score: ProposalScore::outer_inner(),
            ..LocalizeConfig::activitynet()
        },
    ];
    let mut c = LocalizeConfig::thumos14();
    c.upsample = 4;
    c.min_length = 2;
    c.nms_plus_one = true;
    c.thresholds = Thresholds::RelativeToMax(vec![0.2, 0.1, 0.3]);
    configs.push(c);
    let mut compared = 0;
    for cfg in &configs {
        for seed in 0..40 {
            let (t, k) = (20 + seed * 7, 1 + seed % 5);
            let (cas, scores, att) = random_video(t, k, seed);
            let want = paper_oracle(&cas, t, k, &scores, 0.64, cfg);
            for attention in [None, Some(&att[..])] {
                let got = try_localize_signals(
                    &VideoSignals {
                        cas: &cas,
                        attention,
                        num_snippets: t,
                        num_classes: k,
                        video_scores: &scores,
                        seconds_per_snippet: 0.64,
                    },
                    cfg,
                )
                .unwrap();
                assert_eq!(got.len(), want.len());
                for (a, b) in got.iter().zip(&want) {
                    assert_eq!(a.class, b.class);
                    assert_eq!(a.score.to_bits(), b.score.to_bits());
                    assert_eq!(a.start.to_bits(), b.start.to_bits());
                    assert_eq!(a.end.to_bits(), b.end.to_bits());
                }
                compared += got.len();
            }
        }
    }
    assert!(compared > 500, "too few detections compared: {compared}");
}

/// The outer-inner score by hand. Signal of 12 snippets, run `[4, 8)` (n = 4):
/// inner = (0.8 + 1.0 + 0.6 + 0.8) / 4 = 0.8; λn = 0.25 × 4 = 1, so the flanks are
/// `[int(4 − 1), 4) = [3, 4)` (0.4) and `[8, int(7 + 1)] = [8, 8]` (0.2): outer mean
/// (0.4 + 0.2) / 2 = 0.3; with γ = 0.2 and class score 0.5: 0.8 − 0.3 + 0.1 = 0.6.
/// Run `[1, 11)` (n = 10, λn = 2.5): flanks `[max(0, int(−1.5)), 1) = [0, 1)` (0.0) and
/// `[11, min(11, int(10 + 2.5))] = [11, 11]` (0.1), outer mean 0.05; inner = sum of
/// snippets 1..11 / 10 = (0.1 + 0.1 + 0.4 + 0.8 + 1.0 + 0.6 + 0.8 + 0.2 + 0.1 + 0.1) / 10
/// = 0.42; with γ = 0: 0.42 − 0.05 = 0.37.
#[test]
fn outer_inner_score_by_hand() {
    let s = [0.0, 0.1, 0.1, 0.4, 0.8, 1.0, 0.6, 0.8, 0.2, 0.1, 0.1, 0.1];
    let v = outer_inner_score(&s, 4, 8, 0.25, 0.2, 0.5);
    assert!((v - 0.6).abs() < 1e-6, "{v}");
    let v = outer_inner_score(&s, 1, 11, 0.25, 0.0, 0.9);
    assert!((v - 0.37).abs() < 1e-6, "{v}");
}

/// Gaussian soft-NMS by hand (σ = 0.3, continuous tIoU). Detections A = [0, 10] score 0.9,
/// B = [5, 15] score 0.8, C = [20, 30] score 0.7. A is taken first: tIoU(A, B) = 5 / 15 =
/// 1/3, so B becomes 0.8 · exp(−(1/9) / 0.3) = 0.8 · exp(−0.37037) = 0.55238; tIoU(A, C) =
/// 0, C stays 0.7. Next C (0.7 > 0.55238): tIoU(C, B) = 0, B stays. Result: A 0.9, C 0.7,
/// B 0.55238. With "+1" lengths, tIoU(A, B) = 6 / 16 = 0.375: B = 0.8 · exp(−0.140625 /
/// 0.3) = 0.8 · 0.62578 = 0.50062. Greedy NMS at 0.3 would drop B; soft-NMS keeps it.
#[test]
fn soft_nms_by_hand() {
    let d = [
        det(0, 0.8, 5.0, 15.0),
        det(0, 0.9, 0.0, 10.0),
        det(0, 0.7, 20.0, 30.0),
    ];
    let kept = soft_nms(&d, 0.3, false);
    assert_eq!(kept.len(), 3, "soft-NMS drops nothing");
    assert_eq!((kept[0].start, kept[0].score), (0.0, 0.9));
    assert_eq!((kept[1].start, kept[1].score), (20.0, 0.7));
    assert_eq!(kept[2].start, 5.0);
    let want = 0.8 * (-(1.0f64 / 9.0) / 0.3).exp();
    assert!((kept[2].score - want).abs() < 1e-12, "{}", kept[2].score);
    assert!((kept[2].score - 0.55238).abs() < 1e-5);
    let kept = soft_nms(&d, 0.3, true);
    assert!((kept[2].score - 0.50062).abs() < 1e-5, "{}", kept[2].score);
    assert_eq!(nms(&d, 0.3, false).len(), 2);
    // Exact duplicates decay by exp(−1 / σ); σ <= 0 leaves scores unchanged.
    let dup = soft_nms(&[d[1], d[1]], 0.3, false);
    assert!((dup[1].score - 0.9 * (-1.0f64 / 0.3).exp()).abs() < 1e-12);
    assert_eq!(soft_nms(&[d[1], d[1]], 0.0, false)[1].score, 0.9);
    assert!(soft_nms(&[], 0.3, false).is_empty());
}

/// Attention proposals on a hand-made video of 10 snippets, 2 classes, no upsampling.
/// Attention [0.1, 0.9, 0.9, 0.2, 0.1, 0.6, 0.7, 0.6, 0.1, 0.1] at thresholds {0.5, 0.8}:
/// 0.5 cuts [1, 3) and [5, 8); 0.8 cuts [1, 3) again. The CAS thresholds (absolute 2.0)
/// cut nothing, so every proposal comes from the attention; both kept classes get the same
/// runs, scored by the mean of their own column: class 0 (CAS = t / 10): [1, 3) 0.15,
/// [5, 8) 0.6; class 1 (CAS 0.3 everywhere): 0.3 each. With NMS off (tIoU > 1) the
/// duplicate [1, 3) stays: 3 proposals per class. Without an attention: none.
#[test]
fn attention_thresholds_cut_class_agnostic_runs_scored_per_class() {
    let att = [0.1f32, 0.9, 0.9, 0.2, 0.1, 0.6, 0.7, 0.6, 0.1, 0.1];
    let mut cas = Vec::new();
    for t in 0..10 {
        cas.extend([t as f32 / 10.0, 0.3]);
    }
    let mut cfg = LocalizeConfig::thumos14();
    cfg.thresholds = Thresholds::Absolute(vec![2.0]);
    cfg.attention_thresholds = Some(Thresholds::Absolute(vec![0.5, 0.8]));
    cfg.nms_iou = 1.01;
    let signals = VideoSignals {
        cas: &cas,
        attention: Some(&att),
        num_snippets: 10,
        num_classes: 2,
        video_scores: &[0.9, 0.4],
        seconds_per_snippet: 1.0,
    };
    let d = try_localize_signals(&signals, &cfg).unwrap();
    let of = |c: usize| -> Vec<(f64, f64, f64)> {
        d.iter()
            .filter(|d| d.class == c)
            .map(|d| (d.start, d.end, (d.score * 1e6).round() / 1e6))
            .collect()
    };
    assert_eq!(
        of(0),
        vec![(5.0, 8.0, 0.6), (1.0, 3.0, 0.15), (1.0, 3.0, 0.15)]
    );
    assert_eq!(of(1).len(), 3);
    assert!(of(1).iter().all(|x| x.2 == 0.3));
    // With NMS at 0.5 the duplicate goes.
    cfg.nms_iou = 0.5;
    let d = try_localize_signals(&signals, &cfg).unwrap();
    assert_eq!(d.iter().filter(|d| d.class == 0).count(), 2);
    // No attention: no proposal at all; a wrong-length attention is an error.
    let none = VideoSignals {
        attention: None,
        ..signals
    };
    assert!(try_localize_signals(&none, &cfg).unwrap().is_empty());
    let short = VideoSignals {
        attention: Some(&att[..9]),
        ..signals
    };
    assert!(matches!(
        try_localize_signals(&short, &cfg),
        Err(EvalError::Shape(_))
    ));
    let nan = [f32::NAN; 10];
    let bad = VideoSignals {
        attention: Some(&nan),
        ..signals
    };
    assert!(matches!(
        try_localize_signals(&bad, &cfg),
        Err(EvalError::InvalidInput(_))
    ));
    // Upsampling applies to the attention too: ×2 puts samples at t = 0, 0.5, 1, …; those
    // at 4.5 and 7.5 are (0.1 + 0.6) / 2 = 0.35 < 0.5, so the 0.5 run is samples 10..15,
    // [5.0, 7.5) s.
    cfg.upsample = 2;
    cfg.nms_iou = 1.01;
    let d = try_localize_signals(&signals, &cfg).unwrap();
    assert!(d
        .iter()
        .any(|d| d.class == 0 && d.start == 5.0 && d.end == 7.5));
}

/// The `oic` presets hold the published threshold sets (numpy `arange`: 10 CAS fractions
/// 0 … 0.225 and 17 attention values 0.15 … 0.95), and the `paper` preset is exactly the
/// earlier THUMOS14 / ActivityNet configuration; preset names parse and are recognised
/// from a configuration.
#[test]
fn presets_hold_the_published_values() {
    let t = LocalizeConfig::thumos14_oic();
    let Thresholds::RelativeToMax(cas) = &t.thresholds else {
        panic!("relative CAS thresholds")
    };
    assert_eq!(cas.len(), 10);
    assert_eq!(cas[0], 0.0);
    assert!((cas[9] - 0.225).abs() < 1e-6);
    let Some(Thresholds::Absolute(att)) = &t.attention_thresholds else {
        panic!("absolute attention thresholds")
    };
    assert_eq!(att.len(), 17);
    assert!((att[0] - 0.15).abs() < 1e-6 && (att[16] - 0.95).abs() < 1e-6);
    assert_eq!(t.upsample, 24);
    assert_eq!(t.score, ProposalScore::outer_inner());
    assert_eq!((t.nms_iou, t.nms_plus_one), (0.6, true));
    let a = LocalizeConfig::activitynet_oic();
    assert_eq!((a.upsample, a.nms_iou), (20, 0.9));
    assert_eq!(arange(0.1, 0.925, 0.025).len(), 33);
    assert!(arange(0.1, 0.1, 0.025).is_empty() && arange(0.0, 1.0, 0.0).is_empty());
    assert_eq!(
        LocalizePreset::Paper.config(Benchmark::Thumos14),
        LocalizeConfig::thumos14()
    );
    assert_eq!(
        LocalizePreset::Paper.config(Benchmark::ActivityNet13),
        LocalizeConfig::activitynet()
    );
    assert_eq!("oic".parse::<LocalizePreset>(), Ok(LocalizePreset::Oic));
    assert!("fancy".parse::<LocalizePreset>().is_err());
    assert_eq!(
        LocalizePreset::identify(&LocalizeConfig::activitynet_oic(), Benchmark::ActivityNet13),
        Some(LocalizePreset::Oic)
    );
    assert_eq!(
        LocalizePreset::identify(
            &LocalizeConfig::activitynet_long(),
            Benchmark::ActivityNet13
        ),
        Some(LocalizePreset::Long)
    );
    assert_eq!("long".parse::<LocalizePreset>(), Ok(LocalizePreset::Long));
    let mut custom = LocalizeConfig::activitynet_long();
    custom.relative_smoothing = 0.2;
    assert_eq!(
        LocalizePreset::identify(&custom, Benchmark::ActivityNet13),
        None
    );
    assert_eq!(Suppression::default(), Suppression::Nms);
}

/// A configuration saved before `attention_thresholds` and `suppression` existed (a run's
/// `config.json`) loads as the same procedure: no attention proposals, greedy NMS.
#[test]
fn configs_saved_before_the_new_fields_load_as_the_paper_procedure() {
    let old = r#"{"class_threshold":0.1,"thresholds":{"RelativeToMax":[0.2]},"smoothing":1,
        "upsample":1,"score":"Mean","nms_iou":0.5,"nms_plus_one":false,"min_length":1}"#;
    let cfg: LocalizeConfig = serde_json::from_str(old).unwrap();
    assert_eq!(cfg, LocalizeConfig::thumos14());
    let soft = LocalizeConfig {
        suppression: Suppression::soft_nms(),
        ..LocalizeConfig::thumos14_oic()
    };
    let back: LocalizeConfig =
        serde_json::from_str(&serde_json::to_string(&soft).unwrap()).unwrap();
    assert_eq!(back, soft);
}

/// The `oic` preset with soft-NMS keeps every proposal of a class (nothing dropped), with
/// decayed scores, where greedy NMS drops the overlapping ones.
#[test]
fn soft_nms_option_keeps_every_proposal() {
    let (cas, scores, att) = random_video(60, 2, 3);
    let signals = VideoSignals {
        cas: &cas,
        attention: Some(&att),
        num_snippets: 60,
        num_classes: 2,
        video_scores: &scores,
        seconds_per_snippet: 0.64,
    };
    let mut cfg = LocalizeConfig::thumos14_oic();
    cfg.class_threshold = 0.0;
    let hard = try_localize_signals(&signals, &cfg).unwrap();
    cfg.nms_iou = 1.01;
    let all = try_localize_signals(&signals, &cfg).unwrap();
    cfg.suppression = Suppression::soft_nms();
    let soft = try_localize_signals(&signals, &cfg).unwrap();
    assert_eq!(soft.len(), all.len());
    assert!(hard.len() < soft.len(), "{} vs {}", hard.len(), soft.len());
}
