//! DETAD's numbers reproduced: `maan_eval::diagnose` on the committed fixture equals what
//! DETAD's own code (github.com/HumamAlwassel/DETAD) computed on the same ground truth and
//! detections (`tests/reference/detad/expected.json`, made by
//! `tests/reference/make_detad_fixture.py`): the false-positive profile, the mAP gain of
//! removing each error type, the sensitivity of the normalized mAP by coverage, length and
//! instances per video, and the false-negative rate by the same buckets, to 1e-9 (every score
//! in the fixture is distinct, so DETAD's unstable sorts are deterministic on it).

use std::path::PathBuf;

use maan_eval::diagnose::{Bins, Characteristic, Diagnosis, ErrorBreakdown};
use maan_eval::{diagnose, DetectionFile, DiagnoseConfig, GroundTruth};
use serde_json::Value;

const TOL: f64 = 1e-9;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference/detad")
}

fn close(what: &str, got: f64, want: &Value) {
    let w = want
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: expected a number, got {want}"));
    assert!(
        (got - w).abs() <= TOL,
        "{what}: maan-eval {got}, DETAD {w} (difference {})",
        got - w
    );
}

fn close_opt(what: &str, got: Option<f64>, want: Option<&Value>) {
    match (got, want.filter(|v| !v.is_null())) {
        (Some(g), Some(w)) => close(what, g, w),
        (None, None) => {}
        (g, w) => panic!("{what}: maan-eval {g:?}, DETAD {w:?}"),
    }
}

/// DETAD's legend names, in `ErrorBreakdown::values` order.
const DETAD_NAMES: [&str; 6] = [
    "True Positive",
    "Double Detection Err",
    "Wrong Label Err",
    "Localization Err",
    "Confusion Err",
    "Background Err",
];

fn check_breakdown(what: &str, got: &ErrorBreakdown, want: &Value, skip_tp: bool) {
    for (i, (v, name)) in got.values().iter().zip(DETAD_NAMES).enumerate() {
        if skip_tp && i == 0 {
            assert_eq!(*v, 0.0);
            continue;
        }
        close(&format!("{what} {name}"), *v, &want[name]);
    }
}

fn check(case: &str, run: &str, d: &Diagnosis, want: &Value) {
    let at = |s: &str| format!("{case}/{run}: {s}");
    assert_eq!(
        d.instances as u64,
        want["num_ground_truth"].as_u64().unwrap()
    );
    close(
        &at("instances per class"),
        d.average_instances_per_class,
        &want["average_num_instance_per_class"],
    );
    // False-positive analysis.
    let fp = &want["false_positive"];
    assert_eq!(
        d.false_positive.detections as u64,
        fp["num_predictions"].as_u64().unwrap(),
        "{}",
        at("detections kept by the 10G limit")
    );
    close(
        &at("average-mAP_N of the top 10G"),
        d.false_positive.average_map_n,
        &fp["average_mAP_N"],
    );
    for (t, v) in d.false_positive.map_n.iter().enumerate() {
        close(
            &at(&format!("mAP_N top 10G, tIoU #{t}")),
            *v,
            &fp["mAP_N"][t],
        );
    }
    check_breakdown(
        &at("error counts"),
        &d.false_positive.counts,
        &fp["error_counts_avg"],
        false,
    );
    check_breakdown(
        &at("mAP gain"),
        &d.false_positive.map_gain,
        &fp["average_mAP_gain"],
        true,
    );
    let bars = fp["profile"].as_array().unwrap();
    assert_eq!(d.false_positive.profile.len(), bars.len());
    for (bar, want_bar) in d.false_positive.profile.iter().zip(bars) {
        match &bar.fractions {
            Some(f) => check_breakdown(&at(&format!("profile {}", bar.label)), f, want_bar, false),
            None => assert!(
                want_bar["True Positive"].is_null(),
                "{}",
                at(&format!("profile {} empty here only", bar.label))
            ),
        }
    }
    // Sensitivity.
    let sens = &want["sensitivity"];
    close(
        &at("base average-mAP_N"),
        d.average_map_n,
        &sens["base_average_mAP_N"],
    );
    for (t, v) in d.map_n.iter().enumerate() {
        close(&at(&format!("mAP_N tIoU #{t}")), *v, &sens["mAP_N"][t]);
    }
    let fneg = &want["false_negative"];
    let mut seen = 0;
    for ch in &d.characteristics {
        let name = ch.characteristic.name();
        let s = sens[name].as_object().unwrap();
        let f = fneg[name].as_object().unwrap();
        for b in &ch.buckets {
            let what = at(&format!("{name} {}", b.label));
            // DETAD lists every bucket in the sensitivity (NaN when empty) and only the
            // occupied ones in the false-negative analysis.
            assert!(
                s.contains_key(&b.label),
                "{what}: bucket missing from DETAD's output"
            );
            close_opt(
                &format!("{what} average-mAP_N"),
                b.average_map_n,
                s.get(&b.label),
            );
            close_opt(
                &format!("{what} false-negative rate"),
                b.false_negative_rate,
                f.get(&b.label),
            );
            assert_eq!(b.instances > 0, f.contains_key(&b.label), "{what}");
            seen += 1;
        }
    }
    assert!(seen >= 13, "{}", at("every bucket compared"));
}

fn config(case: &Value, tious: &Value) -> DiagnoseConfig {
    let mut c = DiagnoseConfig::thumos14();
    c.tiou_thresholds = tious
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    c.bins = [
        Characteristic::Coverage,
        Characteristic::Length,
        Characteristic::Instances,
    ]
    .into_iter()
    .map(|ch| {
        let b = &case["bins"][ch.name()];
        Bins {
            characteristic: ch,
            edges: b["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap_or(f64::INFINITY))
                .collect(),
            labels: b["labels"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect(),
        }
    })
    .collect();
    c
}

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir().join("expected.json")).unwrap()).unwrap()
}

fn inputs(case: &str, subset: &str) -> (GroundTruth, DetectionFile) {
    let gt = GroundTruth::from_path(&dir().join(format!("{case}_gt.json")))
        .unwrap()
        .subset(subset);
    let det = DetectionFile::from_path(&dir().join(format!("{case}_detections.json"))).unwrap();
    (gt, det)
}

/// Every case and every run of the fixture (THUMOS14-like at DETAD's tIoU 0.5 and at four
/// thresholds, ActivityNet-like at 0.5:0.05:0.95) equals DETAD's numbers.
#[test]
fn diagnosis_equals_detads_own_code_on_the_fixture() {
    let want = expected();
    let cases = want["cases"].as_object().unwrap();
    assert_eq!(cases.len(), 2);
    let mut runs = 0;
    for (case, c) in cases {
        let (gt, det) = inputs(case, c["subset"].as_str().unwrap());
        for (run, r) in c["runs"].as_object().unwrap() {
            let d = diagnose(&gt, &det, &config(c, &r["tiou_thresholds"])).unwrap();
            check(case, run, &d, r);
            runs += 1;
        }
    }
    assert_eq!(runs, 3);
}

/// The presets are DETAD's settings: the fixture's bins (written from DETAD's scripts) and
/// tIoU thresholds equal `DiagnoseConfig::thumos14` and `DiagnoseConfig::activitynet`.
#[test]
fn presets_are_detads_settings() {
    let want = expected();
    for (case, preset) in [
        ("thumos14", DiagnoseConfig::thumos14()),
        ("activitynet", DiagnoseConfig::activitynet()),
    ] {
        let c = &want["cases"][case];
        let from_fixture = config(c, &c["runs"]["detad_settings"]["tiou_thresholds"]);
        assert_eq!(from_fixture, preset, "{case}");
    }
}

/// The ActivityNet-like case drops its instance longer than its video and the THUMOS14-like
/// one its zero-length instance, as DETAD does; the 10G limit cuts the class with many
/// detections and few instances.
#[test]
fn special_inputs_of_the_fixture_are_handled_as_detad_does() {
    let (gt, det) = inputs("activitynet", "validation");
    let d = diagnose(&gt, &det, &DiagnoseConfig::activitynet()).unwrap();
    assert_eq!(d.dropped_instances, 1);
    let (gt, det) = inputs("thumos14", "test");
    let d = diagnose(&gt, &det, &DiagnoseConfig::thumos14()).unwrap();
    assert_eq!(d.dropped_instances, 1);
    assert!(d.false_positive.detections < d.detections);
}
