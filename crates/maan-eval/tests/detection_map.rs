//! Detection mAP: hand-computed cases, property tests and the real THUMOS14 ground truth.

use std::path::Path;

use maan_eval::eval::{
    activitynet_tiou_thresholds, average_precision, interpolated_ap, temporal_iou,
    thumos14_tiou_thresholds,
};
use maan_eval::{
    classification_map, detection_map, parse_tiou_range, Detection, DetectionFile, EvalError,
    GroundTruth, GtSegment, GtVideo,
};
use proptest::prelude::*;

const EPS: f64 = 1e-12;

/// `(label, start, end)` of one instance.
type Seg<'a> = (&'a str, f64, f64);

fn gt(videos: &[(&str, &[Seg])]) -> GroundTruth {
    let mut g = GroundTruth::default();
    for (id, segs) in videos {
        g.videos.insert(
            id.to_string(),
            GtVideo {
                subset: "test".into(),
                duration: None,
                segments: segs
                    .iter()
                    .map(|(l, s, e)| GtSegment {
                        label: l.to_string(),
                        start: *s,
                        end: *e,
                    })
                    .collect(),
            },
        );
    }
    g
}

fn dets(list: &[(&str, &str, f64, f64, f64)]) -> DetectionFile {
    let mut f = DetectionFile::new();
    for (video, label, score, s, e) in list {
        f.results
            .entry(video.to_string())
            .or_default()
            .push(Detection {
                label: label.to_string(),
                score: *score,
                segment: [*s, *e],
            });
    }
    f
}

fn data(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data")
        .join(rel)
}

/// Detections equal to the ground truth, scores decreasing in file order.
fn gt_as_detections(g: &GroundTruth) -> DetectionFile {
    let mut f = DetectionFile::new();
    let mut k = 0.0;
    for (id, v) in &g.videos {
        for s in &v.segments {
            k += 1.0;
            f.results.entry(id.clone()).or_default().push(Detection {
                label: s.label.clone(),
                score: 1.0 / k,
                segment: [s.start, s.end],
            });
        }
    }
    f
}

#[test]
fn perfect_detections_give_one() {
    let g = gt(&[
        (
            "v1",
            &[("A", 0.0, 10.0), ("A", 20.0, 30.0), ("B", 5.0, 15.0)],
        ),
        ("v2", &[("B", 1.0, 2.0)]),
    ]);
    let d = dets(&[
        ("v1", "A", 0.9, 0.0, 10.0),
        ("v1", "A", 0.8, 20.0, 30.0),
        ("v1", "B", 0.7, 5.0, 15.0),
        ("v2", "B", 0.6, 1.0, 2.0),
    ]);
    let r = detection_map(&g, &d, &thumos14_tiou_thresholds()).unwrap();
    assert!(r.map.iter().all(|m| (m - 1.0).abs() < EPS), "{:?}", r.map);
    assert!((r.average_map - 1.0).abs() < EPS);
    assert_eq!(r.per_class_ap.len(), 2);
    assert!(r.warnings.is_empty());
}

#[test]
fn false_positive_ranked_above_true_positive() {
    // prec = [0, 1/2], rec = [0, 1]: interpolated AP = 1 * 1/2.
    let g = gt(&[("v1", &[("A", 0.0, 10.0)])]);
    let d = dets(&[("v1", "A", 0.9, 50.0, 60.0), ("v1", "A", 0.8, 0.0, 10.0)]);
    let r = detection_map(&g, &d, &[0.5]).unwrap();
    assert!((r.map[0] - 0.5).abs() < EPS, "{:?}", r.map);
    // Swapping the scores gives a perfect ranking.
    let d = dets(&[("v1", "A", 0.8, 50.0, 60.0), ("v1", "A", 0.9, 0.0, 10.0)]);
    assert!((detection_map(&g, &d, &[0.5]).unwrap().map[0] - 1.0).abs() < EPS);
}

#[test]
fn duplicate_detections_of_one_instance() {
    // One instance, two identical detections: TP then FP; recall 1 is reached at precision 1.
    let g = gt(&[("v1", &[("A", 0.0, 10.0)])]);
    let d = dets(&[("v1", "A", 0.9, 0.0, 10.0), ("v1", "A", 0.8, 0.0, 10.0)]);
    assert!((detection_map(&g, &d, &[0.5]).unwrap().map[0] - 1.0).abs() < EPS);
    // Two instances, the first detected twice before the second: TP, FP, TP.
    // prec = [1, 1/2, 2/3], rec = [1/2, 1/2, 1] -> AP = 1/2 * 1 + 1/2 * 2/3 = 5/6.
    let g = gt(&[("v1", &[("A", 0.0, 10.0), ("A", 20.0, 30.0)])]);
    let d = dets(&[
        ("v1", "A", 0.9, 0.0, 10.0),
        ("v1", "A", 0.8, 0.0, 10.0),
        ("v1", "A", 0.7, 20.0, 30.0),
    ]);
    let r = detection_map(&g, &d, &[0.5]).unwrap();
    assert!((r.map[0] - 5.0 / 6.0).abs() < EPS, "{:?}", r.map);
}

#[test]
fn tiou_exactly_at_the_threshold_is_a_match() {
    // tIoU([0,5], [0,10]) = 5/10 = 0.5 exactly: a TP at 0.5 ("below the threshold" is a FP).
    let g = gt(&[("v1", &[("A", 0.0, 10.0)])]);
    let d = dets(&[("v1", "A", 1.0, 0.0, 5.0)]);
    assert_eq!(temporal_iou([0.0, 5.0], [0.0, 10.0], false), 0.5);
    let r = detection_map(&g, &d, &[0.5, 0.6]).unwrap();
    assert_eq!(r.map, vec![1.0, 0.0]);
    // numpy's linspace(0.1, 0.9, 9)[2] is 0.30000000000000004, so a tIoU of 0.3 misses it, as
    // in the Python evaluator.
    let d = dets(&[("v1", "A", 1.0, 0.0, 3.0)]);
    let t = thumos14_tiou_thresholds();
    assert_eq!(t[2], 0.30000000000000004);
    let r = detection_map(&g, &d, &t).unwrap();
    assert_eq!(r.map[..3], [1.0, 1.0, 0.0]);
    let r = detection_map(&g, &d, &[0.3]).unwrap();
    assert_eq!(r.map, vec![1.0]);
}

#[test]
fn locks_are_per_threshold() {
    // det2 overlaps g0 (locked by det1) with tIoU 0.75 and g1 with tIoU 4/19 = 0.21.
    // At 0.1 it falls through to g1 (TP); at 0.5 g1 is below the threshold (FP).
    let g = gt(&[("v1", &[("A", 0.0, 10.0), ("A", 8.0, 20.0)])]);
    let d = dets(&[("v1", "A", 0.9, 0.0, 10.0), ("v1", "A", 0.8, 1.0, 12.0)]);
    let r = detection_map(&g, &d, &[0.1, 0.5]).unwrap();
    assert!((r.map[0] - 1.0).abs() < EPS);
    assert!((r.map[1] - 0.5).abs() < EPS, "{:?}", r.map);
}

#[test]
fn missing_class_and_wrong_video() {
    // Class B has no prediction: AP 0. A detection of A in v2 (no A there) is a FP.
    let g = gt(&[("v1", &[("A", 0.0, 10.0)]), ("v2", &[("B", 0.0, 10.0)])]);
    let d = dets(&[("v2", "A", 0.9, 0.0, 10.0), ("v1", "A", 0.5, 0.0, 10.0)]);
    let r = detection_map(&g, &d, &[0.5]).unwrap();
    assert_eq!(r.per_class_ap["B"], vec![0.0]);
    assert!((r.per_class_ap["A"][0] - 0.5).abs() < EPS);
    assert!((r.map[0] - 0.25).abs() < EPS);
}

#[test]
fn unknown_video_is_a_false_positive_with_a_warning() {
    let g = gt(&[("v1", &[("A", 0.0, 10.0)])]);
    let d = dets(&[
        ("zz", "A", 0.9, 0.0, 10.0),
        ("zz", "A", 0.8, 0.0, 10.0),
        ("v1", "A", 0.5, 0.0, 10.0),
    ]);
    let r = detection_map(&g, &d, &[0.5]).unwrap();
    assert!((r.map[0] - 1.0 / 3.0).abs() < EPS, "{:?}", r.map);
    assert_eq!(r.warnings.len(), 1);
    assert!(
        r.warnings[0].starts_with("2 detections in 1 videos"),
        "{:?}",
        r.warnings
    );
}

#[test]
fn bad_input_is_an_error() {
    let g = gt(&[("v1", &[("A", 0.0, 10.0)])]);
    let e = detection_map(&g, &dets(&[("v1", "Nope", 0.9, 0.0, 1.0)]), &[0.5]).unwrap_err();
    assert!(matches!(e, EvalError::UnknownLabel { .. }));
    assert!(e.to_string().contains("Nope") && e.to_string().contains("v1"));
    let e = detection_map(&g, &DetectionFile::new(), &[0.5]).unwrap_err();
    assert!(matches!(e, EvalError::EmptyResults { .. }));
    let e = detection_map(&g, &dets(&[("v1", "A", f64::NAN, 0.0, 1.0)]), &[0.5]).unwrap_err();
    assert!(matches!(e, EvalError::InvalidDetection { .. }));
    let e = detection_map(&g, &dets(&[("v1", "A", 0.5, 2.0, 1.0)]), &[0.5]).unwrap_err();
    assert!(e.to_string().contains("starts after it ends"), "{e}");
    let e = detection_map(
        &GroundTruth::default(),
        &dets(&[("v1", "A", 0.5, 0.0, 1.0)]),
        &[0.5],
    )
    .unwrap_err();
    assert!(matches!(e, EvalError::EmptyGroundTruth { .. }));
    let d = dets(&[("v1", "A", 0.5, 0.0, 1.0)]);
    assert!(detection_map(&g, &d, &[]).is_err());
    assert!(detection_map(&g, &d, &[1.5]).is_err());
}

#[test]
fn zero_length_segments_do_not_produce_nan() {
    let g = gt(&[("v1", &[("A", 5.0, 5.0)])]);
    let d = dets(&[("v1", "A", 0.5, 5.0, 5.0)]);
    let r = detection_map(&g, &d, &[0.5]).unwrap();
    assert_eq!(r.map, vec![0.0]);
}

#[test]
fn interpolated_ap_matches_hand_values() {
    assert_eq!(interpolated_ap(&[], &[]), 0.0);
    assert!((interpolated_ap(&[1.0, 0.5, 2.0 / 3.0], &[0.5, 0.5, 1.0]) - 5.0 / 6.0).abs() < EPS);
    // Recall never reaches 1: the missing part counts 0.
    assert!((interpolated_ap(&[1.0], &[0.25]) - 0.25).abs() < EPS);
}

#[test]
fn tiou_ranges() {
    assert_eq!(
        parse_tiou_range("0.1:0.9:0.1").unwrap(),
        thumos14_tiou_thresholds()
    );
    assert_eq!(
        parse_tiou_range("0.5:0.95:0.05").unwrap(),
        activitynet_tiou_thresholds()
    );
    let a = activitynet_tiou_thresholds();
    assert_eq!(a.len(), 10);
    assert_eq!(a[8], 0.8999999999999999); // numpy's linspace(0.5, 0.95, 10)[8]
    assert_eq!(
        parse_tiou_range("0.5, 0.75,0.95").unwrap(),
        vec![0.5, 0.75, 0.95]
    );
    assert_eq!(parse_tiou_range("0.5").unwrap(), vec![0.5]);
    assert_eq!(parse_tiou_range("0.5:0.5:0.1").unwrap(), vec![0.5]);
    for bad in [
        "",
        "a:b:c",
        "0.1:0.9",
        "0.1:0.9:0",
        "0.9:0.1:0.1",
        "0.1:0.9:0.3",
        "1.5",
        "0.1:1.1:0.1",
        "x",
    ] {
        assert!(parse_tiou_range(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn report_json_has_exactly_the_documented_keys() {
    let g = gt(&[("v1", &[("A", 0.0, 10.0)])]);
    let d = dets(&[("v1", "A", 1.0, 0.0, 10.0), ("zz", "A", 1.0, 0.0, 1.0)]);
    let r = detection_map(&g, &d, &[0.5, 0.7]).unwrap();
    let v: serde_json::Value = serde_json::to_value(&r).unwrap();
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["average_mAP", "mAP", "per_class_AP", "tiou_thresholds"]
    );
    assert_eq!(v["tiou_thresholds"], serde_json::json!([0.5, 0.7]));
    assert_eq!(v["per_class_AP"]["A"].as_array().unwrap().len(), 2);
    assert!((r.average_over(0.1, 0.7).unwrap() - r.average_map).abs() < EPS);
    assert_eq!(r.average_over(0.8, 0.9), None);
}

#[test]
fn real_thumos14_gt_as_detections_gives_one_at_every_tiou() {
    let all = GroundTruth::from_path(&data("thumos14/gt.json")).unwrap();
    let mut t = thumos14_tiou_thresholds();
    t.extend(activitynet_tiou_thresholds());
    t.push(1.0);
    for subset in ["test", "validation"] {
        let g = all.subset(subset);
        let r = detection_map(&g, &gt_as_detections(&g), &t).unwrap();
        assert_eq!(r.per_class_ap.len(), 20);
        for (thr, m) in t.iter().zip(&r.map) {
            assert!((m - 1.0).abs() < 1e-12, "{subset} tIoU {thr}: mAP {m}");
        }
        assert!(r.warnings.is_empty());
    }
    let strings = GroundTruth::from_path(&data("thumos14/gt_segments_as_strings.json")).unwrap();
    let g = strings.subset("test");
    let r = detection_map(&g, &gt_as_detections(&g), &t).unwrap();
    assert!(r.map.iter().all(|m| (m - 1.0).abs() < 1e-12), "{:?}", r.map);
}

#[test]
fn the_two_thumos14_forms_score_alike() {
    let b = GroundTruth::from_path(&data("thumos14/gt.json"))
        .unwrap()
        .subset("test");
    let a = GroundTruth::from_path(&data("thumos14/gt_segments_as_strings.json"))
        .unwrap()
        .subset("test");
    // Imperfect detections made from layout A: shifted, with a few misses.
    let mut d = gt_as_detections(&a);
    for (i, det) in d.results.values_mut().flatten().enumerate() {
        let shift = (i % 7) as f64 * 0.3;
        det.segment[0] += shift;
        det.segment[1] += shift + (i % 5) as f64 * 0.2;
        det.score = ((i * 7919) % 1000) as f64 / 1000.0;
    }
    let t = thumos14_tiou_thresholds();
    let ra = detection_map(&a, &d, &t).unwrap();
    // Against layout B restricted to layout A's videos the result is identical.
    let mut b210 = b.clone();
    b210.videos.retain(|k, _| a.videos.contains_key(k));
    let rb = detection_map(&b210, &d, &t).unwrap();
    assert_eq!(ra, rb);
    assert!(ra.map[0] < 1.0 && ra.map[0] > 0.3, "{:?}", ra.map);
    // Against all of layout B, the 47 extra instances of videos 270 and 1496 lower recall.
    let rb_all = detection_map(&b, &d, &t).unwrap();
    for (x, y) in ra.map.iter().zip(&rb_all.map) {
        assert!(y <= x, "{y} > {x}");
    }
    assert!(rb_all.map[0] < ra.map[0]);
}

#[test]
fn classification_ap_hand_values() {
    // Positives at ranks 1 and 3: (1 + 2/3) / 2.
    let ap = average_precision(&[0.9, 0.8, 0.7, 0.1], &[true, false, true, false]).unwrap();
    assert!((ap - 5.0 / 6.0).abs() < EPS);
    assert_eq!(average_precision(&[0.1, 0.2], &[false, false]), None);
    // A tie between a positive and a negative is one step: precision 1/2 at recall 1.
    let ap = average_precision(&[0.5, 0.5], &[true, false]).unwrap();
    assert!((ap - 0.5).abs() < EPS);
    // [N=3, C=2]: class 0 perfectly ranked, class 1 ranked worst, class... none excluded.
    let scores = [0.9, 0.1, 0.2, 0.8, 0.1, 0.9];
    let labels = [1.0, 0.0, 0.0, 0.0, 0.0, 1.0];
    // class 0: AP 1; class 1: positive is video 2 with the top score 0.9: AP 1.
    assert!((classification_map(&scores, &labels, 3, 2) - 1.0).abs() < EPS);
    let labels = [1.0, 1.0, 0.0, 0.0, 0.0, 0.0];
    // class 1: positive video 0 has the lowest score (0.1 < 0.8 < 0.9): AP 1/3.
    assert!((classification_map(&scores, &labels, 3, 2) - (1.0 + 1.0 / 3.0) / 2.0).abs() < EPS);
    assert!(classification_map(&scores, &[0.0; 6], 3, 2).is_nan());
    assert!(classification_map(&scores, &labels, 4, 2).is_nan());
}

// ---------------------------------------------------------------------------------------------
// Property tests

#[derive(Debug, Clone)]
struct Case {
    gt: GroundTruth,
    dets: DetectionFile,
}

fn arb_case() -> impl Strategy<Value = Case> {
    let seg = (0u32..40, 1u32..15).prop_map(|(s, l)| (s as f64 * 0.5, (s + l) as f64 * 0.5));
    let gt_seg = (0usize..3, seg.clone());
    let det = (0usize..3, 0usize..3, 0u32..20, seg);
    (
        prop::collection::vec((0usize..3, gt_seg), 1..12),
        prop::collection::vec(det, 1..30),
    )
        .prop_map(|(gts, ds)| {
            let labels = ["A", "B", "C"];
            let mut g = GroundTruth::default();
            for (v, (c, (s, e))) in gts {
                g.videos
                    .entry(format!("v{v}"))
                    .or_insert_with(|| GtVideo {
                        subset: "test".into(),
                        duration: None,
                        segments: vec![],
                    })
                    .segments
                    .push(GtSegment {
                        label: labels[c].into(),
                        start: s,
                        end: e,
                    });
            }
            let present: Vec<String> = g.labels().into_iter().collect();
            let mut f = DetectionFile::new();
            for (v, c, score, (s, e)) in ds {
                f.results
                    .entry(format!("v{v}"))
                    .or_default()
                    .push(Detection {
                        label: present[c % present.len()].clone(),
                        // Coarse scores so that ties are common.
                        score: score as f64 / 4.0,
                        segment: [s, e],
                    });
            }
            Case { gt: g, dets: f }
        })
}

fn shuffled<T: Clone>(v: &[T], seed: u64) -> Vec<T> {
    // Deterministic Fisher-Yates with a small LCG: enough to permute for the property.
    let mut out = v.to_vec();
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    for i in (1..out.len()).rev() {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let j = ((x >> 33) % (i as u64 + 1)) as usize;
        out.swap(i, j);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn ap_is_a_fraction(case in arb_case()) {
        let r = detection_map(&case.gt, &case.dets, &thumos14_tiou_thresholds()).unwrap();
        for ap in r.per_class_ap.values().flatten() {
            prop_assert!((0.0..=1.0 + 1e-12).contains(ap), "AP {ap}");
        }
        prop_assert!((0.0..=1.0 + 1e-12).contains(&r.average_map));
    }

    #[test]
    fn invariant_to_input_order(case in arb_case(), seed in any::<u64>()) {
        let t = thumos14_tiou_thresholds();
        let r1 = detection_map(&case.gt, &case.dets, &t).unwrap();
        let mut d2 = case.dets.clone();
        for (i, list) in d2.results.values_mut().enumerate() {
            *list = shuffled(list, seed ^ i as u64);
        }
        let r2 = detection_map(&case.gt, &d2, &t).unwrap();
        prop_assert_eq!(r1, r2);
    }

    #[test]
    fn map_does_not_increase_with_the_threshold(case in arb_case()) {
        let t: Vec<f64> = (0..=20).map(|i| i as f64 / 20.0).collect();
        let r = detection_map(&case.gt, &case.dets, &t).unwrap();
        for w in r.map.windows(2) {
            prop_assert!(w[1] <= w[0] + 1e-12, "{:?}", r.map);
        }
        for ap in r.per_class_ap.values() {
            for w in ap.windows(2) {
                prop_assert!(w[1] <= w[0] + 1e-12, "{:?}", ap);
            }
        }
    }

    #[test]
    fn gt_as_detections_is_perfect(case in arb_case()) {
        let d = gt_as_detections(&case.gt);
        let r = detection_map(&case.gt, &d, &activitynet_tiou_thresholds()).unwrap();
        prop_assert!(r.map.iter().all(|m| (m - 1.0).abs() < 1e-12), "{:?}", r.map);
    }

    #[test]
    fn classification_ap_is_a_fraction_and_order_invariant(
        rows in prop::collection::vec((prop::collection::vec(0u8..5, 3), prop::collection::vec(any::<bool>(), 3)), 1..20),
        seed in any::<u64>(),
    ) {
        let flat = |rows: &[(Vec<u8>, Vec<bool>)]| -> (Vec<f32>, Vec<f32>) {
            (rows.iter().flat_map(|r| r.0.iter().map(|s| *s as f32 / 4.0)).collect(),
             rows.iter().flat_map(|r| r.1.iter().map(|p| if *p { 1.0 } else { 0.0 })).collect())
        };
        let (s, l) = flat(&rows);
        let m = classification_map(&s, &l, rows.len(), 3);
        let (s2, l2) = flat(&shuffled(&rows, seed));
        let m2 = classification_map(&s2, &l2, rows.len(), 3);
        if m.is_nan() {
            prop_assert!(m2.is_nan());
        } else {
            prop_assert!((0.0..=1.0 + 1e-12).contains(&m));
            prop_assert!((m - m2).abs() < 1e-12);
        }
    }
}

/// The report does not depend on the order in which videos and detections are listed (with
/// distinct scores), and its per-class APs are keyed by class name in sorted order.
#[test]
fn report_does_not_depend_on_input_order() {
    let g = gt(&[
        ("v1", &[("B", 20.0, 30.0), ("A", 0.0, 10.0)]),
        ("v2", &[("C", 1.0, 4.0), ("A", 5.0, 9.0)]),
    ]);
    let rows = [
        ("v1", "A", 0.9, 0.0, 9.0),
        ("v1", "B", 0.8, 21.0, 29.0),
        ("v2", "A", 0.7, 0.0, 3.0),
        ("v2", "A", 0.6, 5.0, 9.5),
        ("v2", "C", 0.5, 1.0, 4.0),
        ("v1", "C", 0.4, 0.0, 2.0),
    ];
    let tious = [0.3, 0.5, 0.7];
    let a = detection_map(&g, &dets(&rows), &tious).unwrap();
    let mut reversed = rows;
    reversed.reverse();
    let b = detection_map(&g, &dets(&reversed), &tious).unwrap();
    assert_eq!(a, b);
    assert!(
        a.average_map > 0.0 && a.average_map < 1.0,
        "{}",
        a.average_map
    );
    let classes: Vec<&str> = a.per_class_ap.keys().map(String::as_str).collect();
    assert_eq!(classes, ["A", "B", "C"]);
}

/// The numbers of `tests/reference/anet_eval_port.py` (a line-by-line, numpy-free port of
/// ActivityNet's evaluator), computed once on a committed detections file against the real
/// THUMOS14 test ground truth. The file includes 127 detections spanning two instances of equal
/// length, which tie in tIoU.
#[test]
fn equals_the_python_reference_bit_for_bit() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference");
    let g = GroundTruth::from_path(&data("thumos14/gt.json"))
        .unwrap()
        .subset("test");
    let d = DetectionFile::from_path(&dir.join("thumos14_test_detections.json")).unwrap();
    let expected: maan_eval::DetectionReport = serde_json::from_str(
        &std::fs::read_to_string(dir.join("thumos14_test_expected.json")).unwrap(),
    )
    .unwrap();
    let r = detection_map(&g, &d, &thumos14_tiou_thresholds()).unwrap();
    // The computation is bit-exact (`maan eval --json` on this file writes the same JSON numbers
    // as the Python port), but serde_json's default float parser, used here to read the
    // expected file, can be one ulp off on 17-digit numbers: compare to 2 ulps.
    let close = |a: f64, b: f64| (a - b).abs() <= 2.0 * f64::EPSILON * a.abs().max(b.abs());
    assert_eq!(r.tiou_thresholds, expected.tiou_thresholds);
    assert_eq!(r.per_class_ap.len(), 20);
    for (c, aps) in &r.per_class_ap {
        for (a, b) in aps.iter().zip(&expected.per_class_ap[c]) {
            assert!(close(*a, *b), "{c}: {a} vs {b}");
        }
    }
    for (a, b) in r.map.iter().zip(&expected.map) {
        assert!(close(*a, *b), "{a} vs {b}");
    }
    assert!(close(r.average_map, expected.average_map));
    // The tIoU ties matter: visiting tied instances in the other order changes the result.
    let mut reversed = g.clone();
    for v in reversed.videos.values_mut() {
        v.segments.reverse();
    }
    let rr = detection_map(&reversed, &d, &thumos14_tiou_thresholds()).unwrap();
    assert!(
        rr.map.iter().zip(&r.map).any(|(a, b)| !close(*a, *b)),
        "the fixture does not exercise tIoU ties"
    );
}
