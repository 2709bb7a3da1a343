//! Hand-computed cases of the three analyses, the bucket rule, and invariants on the DETAD
//! fixture (`tests/detad_reference.rs` compares with DETAD's numbers).

use super::matching::{Matched, NONE};
use super::*;
use crate::annotations::{GtSegment, GtVideo};
use crate::detections::Detection;
use crate::eval::{detection_map, interpolated_ap};

/// A video: id, duration, instances (label, start, end).
type VideoSpec<'a> = (&'a str, f64, &'a [(&'a str, f64, f64)]);

fn gt(videos: &[VideoSpec<'_>]) -> GroundTruth {
    let mut g = GroundTruth::default();
    for (id, duration, segs) in videos {
        g.videos.insert(
            id.to_string(),
            GtVideo {
                subset: "test".into(),
                duration: Some(*duration),
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
    for (video, label, s, e, score) in list {
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

/// One detection of each error type, worked out by hand: class A's instance [10, 20] and
/// class B's [30, 40] in one video; A's detections by score are background, a true positive,
/// a double detection (tIoU 9/11), a wrong label (on B), a localization error (tIoU 6/16), a
/// confusion (tIoU 4/20 with B), and two in a video without ground truth (both background,
/// where DETAD's cached ground truth would judge the second against the previous video).
/// With `N` = 1 instance per class, A's normalized AP is 0.5 (a false positive first) and 1
/// without the background errors: removing them gains (1 − 0.5) / 2 classes = 0.25.
#[test]
fn each_error_type_is_classified_as_worked_out_by_hand() {
    let g = gt(&[("v1", 100.0, &[("A", 10.0, 20.0), ("B", 30.0, 40.0)])]);
    let d = dets(&[
        ("v1", "A", 60.0, 70.0, 0.99),
        ("v1", "A", 11.0, 21.0, 0.95),
        ("v1", "A", 10.0, 20.0, 0.90),
        ("v1", "A", 30.0, 40.0, 0.80),
        ("v1", "A", 14.0, 26.0, 0.70),
        ("v1", "A", 36.0, 50.0, 0.60),
        ("v9", "A", 30.0, 40.0, 0.50),
        ("v9", "A", 11.0, 21.0, 0.40),
    ]);
    let r = diagnose(&g, &d, &DiagnoseConfig::thumos14()).unwrap();
    let fp = &r.false_positive;
    assert_eq!(fp.detections, 8);
    let c = fp.counts;
    assert_eq!(
        c.values(),
        [1.0, 1.0, 1.0, 1.0, 1.0, 3.0],
        "tp, double, wrong label, localization, confusion, background"
    );
    // G_A = 1: bar k holds A's detection of rank k.
    let kinds: Vec<Option<[f64; 6]>> = fp
        .profile
        .iter()
        .map(|b| b.fractions.map(|f| f.values()))
        .collect();
    let one = |i: usize| {
        let mut v = [0.0; 6];
        v[i] = 1.0;
        Some(v)
    };
    assert_eq!(
        kinds,
        vec![
            one(5),
            one(0),
            one(1),
            one(2),
            one(3),
            one(4),
            one(5),
            one(5),
            None,
            None
        ]
    );
    assert_eq!(fp.profile[0].label, "1G");
    assert!(
        (fp.average_map_n - 0.25).abs() < 1e-12,
        "{}",
        fp.average_map_n
    );
    let gain = fp.map_gain.values();
    assert!((gain[5] - 0.25).abs() < 1e-12, "{gain:?}");
    for g in &gain[..5] {
        assert_eq!(*g, 0.0);
    }
}

/// The bucket rule is pandas' `cut(right=True, include_lowest=True)`: closed on the right, the
/// lowest edge included, nothing outside.
#[test]
fn buckets_are_closed_on_the_right_with_the_lowest_edge_included() {
    let e = [0.0, 3.0, 6.0, f64::INFINITY];
    assert_eq!(bucket_of(&e, 0.0), Some(0));
    assert_eq!(bucket_of(&e, 3.0), Some(0));
    assert_eq!(bucket_of(&e, 3.000001), Some(1));
    assert_eq!(bucket_of(&e, 6.0), Some(1));
    assert_eq!(bucket_of(&e, 1e9), Some(2));
    assert_eq!(bucket_of(&e, -0.1), None);
    assert_eq!(bucket_of(&e, f64::NAN), None);
    let cov = crate::eval::linspace(0.0, 1.0, 6);
    assert_eq!(bucket_of(&cov, 0.6), Some(2), "0.6 <= 0.6000000000000001");
}

fn fixture() -> (GroundTruth, DetectionFile) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/detad");
    (
        GroundTruth::from_path(&dir.join("thumos14_gt.json"))
            .unwrap()
            .subset("test"),
        DetectionFile::from_path(&dir.join("thumos14_detections.json")).unwrap(),
    )
}

/// The matching is the evaluator's: with the plain precision `TP / (TP + FP)` instead of the
/// normalized one, the APs from the diagnosis's matching equal `detection_map`'s on the
/// fixture (without its zero-length instance, which only the diagnosis drops), at every
/// THUMOS14 threshold.
#[test]
fn matching_equals_the_evaluators() {
    let (mut g, d) = fixture();
    for v in g.videos.values_mut() {
        v.segments.retain(|s| s.start < s.end);
    }
    let tious = crate::eval::thumos14_tiou_thresholds();
    let m = Matched::new(&g, &d, &tious).unwrap();
    let report = detection_map(&g, &d, &tious).unwrap();
    for (c, name) in m.classes.iter().enumerate() {
        for t in 0..tious.len() {
            let (mut tp, mut fp) = (0.0, 0.0);
            let (mut prec, mut rec) = (Vec::new(), Vec::new());
            for &g in &m.matched[t][c] {
                if g == NONE {
                    fp += 1.0;
                } else {
                    tp += 1.0;
                }
                rec.push(tp / m.class_npos[c] as f64);
                prec.push(tp / (tp + fp));
            }
            let ap = interpolated_ap(&prec, &rec);
            let want = report.per_class_ap[name][t];
            assert!(
                (ap - want).abs() < 1e-12,
                "{name} tIoU {}: {ap} vs {want}",
                tious[t]
            );
        }
    }
}

/// With one bucket holding every instance, the bucket's average-mAP_N is the base
/// average-mAP_N and its false-negative rate is the fraction of instances no detection matches
/// (after the low-precision removal), computed here directly.
#[test]
fn a_single_bucket_gives_the_overall_numbers() {
    let (g, d) = fixture();
    let mut config = DiagnoseConfig::thumos14();
    config.tiou_thresholds = vec![0.3, 0.5];
    config.bins = vec![Bins::new(
        Characteristic::Instances,
        &[-1.0, f64::INFINITY],
        &["all"],
    )];
    let r = diagnose(&g, &d, &config).unwrap();
    let b = &r.characteristics[0].buckets[0];
    assert_eq!(b.instances, r.instances);
    assert!((b.average_map_n.unwrap() - r.average_map_n).abs() < 1e-12);
    let m = Matched::new(&g, &d, &config.tiou_thresholds).unwrap();
    let hit = buckets::matched_after_removal(&m, 0.05);
    let missed: f64 = hit
        .iter()
        .map(|h| h.iter().filter(|x| !**x).count() as f64 / h.len() as f64)
        .sum::<f64>()
        / 2.0;
    assert!((b.false_negative_rate.unwrap() - missed).abs() < 1e-12);
    assert!(missed > 0.0 && missed < 1.0);
}

/// The diagnosis does not depend on the order of the detections in the file: reversing every
/// video's list changes nothing.
#[test]
fn detection_order_does_not_matter() {
    let (g, d) = fixture();
    let mut rev = d.clone();
    for list in rev.results.values_mut() {
        list.reverse();
    }
    let c = DiagnoseConfig::thumos14();
    assert_eq!(
        diagnose(&g, &d, &c).unwrap(),
        diagnose(&g, &rev, &c).unwrap()
    );
}

/// Labels that are no ground-truth class are left out with a warning, and bad bins are an
/// error naming the characteristic.
#[test]
fn unknown_labels_warn_and_bad_bins_fail() {
    let g = gt(&[("v1", 100.0, &[("A", 10.0, 20.0)])]);
    let d = dets(&[("v1", "A", 10.0, 20.0, 0.9), ("v1", "Z", 1.0, 2.0, 0.8)]);
    let r = diagnose(&g, &d, &DiagnoseConfig::thumos14()).unwrap();
    assert_eq!(r.detections, 1);
    assert!(r.warnings[0].contains("Z"), "{:?}", r.warnings);
    let mut c = DiagnoseConfig::thumos14();
    c.bins[1].edges = vec![0.0, 5.0, 3.0, 12.0, 18.0, f64::INFINITY];
    let err = diagnose(&g, &d, &c).unwrap_err().to_string();
    assert!(err.contains("length"), "{err}");
}

/// A video without duration leaves its instances out of the coverage buckets only.
#[test]
fn instances_without_duration_have_no_coverage_bucket() {
    let mut g = gt(&[("v1", 100.0, &[("A", 10.0, 20.0), ("A", 50.0, 52.0)])]);
    g.videos.get_mut("v1").unwrap().duration = None;
    let d = dets(&[("v1", "A", 10.0, 20.0, 0.9)]);
    let r = diagnose(&g, &d, &DiagnoseConfig::thumos14()).unwrap();
    let by = |ch: Characteristic| {
        r.characteristics
            .iter()
            .find(|a| a.characteristic == ch)
            .unwrap()
    };
    assert_eq!(by(Characteristic::Coverage).unbucketed, 2);
    assert_eq!(by(Characteristic::Length).unbucketed, 0);
    // Length 10 s is bucket M (6, 12], 2 s is XS; one of the two is found.
    let len = by(Characteristic::Length);
    assert_eq!(len.buckets[2].false_negative_rate, Some(0.0));
    assert_eq!(len.buckets[0].false_negative_rate, Some(1.0));
}
