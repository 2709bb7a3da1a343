//! `maan eval` end to end: the built binary on the real THUMOS14 ground truth and on bad input.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::fails;

/// `REPO/data/REL`: the repository's data folder (THUMOS14 ground truth).
fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data")
        .join(rel)
}

/// Runs `maan eval ARGS...` (in the test process's current directory).
fn maan_eval(args: &[&str]) -> Output {
    crate::common::maan_cmd()
        .arg("eval")
        .args(args)
        .output()
        .expect("the maan binary runs")
}

/// Stdout and stderr, as text, apart (unlike `common::text`, which joins them).
fn out_and_err(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Writes one subset of a ground-truth file as detections (scores decreasing).
fn gt_as_detections(gt: &Path, subset: &str, out: &Path) {
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(gt).unwrap()).unwrap();
    let mut results = serde_json::Map::new();
    let mut k = 0.0;
    let num = |x: &serde_json::Value| -> f64 {
        x.as_f64()
            .unwrap_or_else(|| x.as_str().unwrap().parse().unwrap())
    };
    for (id, video) in v["database"].as_object().unwrap() {
        if video["subset"] != subset {
            continue;
        }
        let mut list = Vec::new();
        for a in video["annotations"].as_array().unwrap() {
            k += 1.0;
            list.push(serde_json::json!({
                "label": a["label"],
                "score": 1.0 / k,
                "segment": [num(&a["segment"][0]), num(&a["segment"][1])],
            }));
        }
        results.insert(id.clone(), serde_json::Value::Array(list));
    }
    let file =
        serde_json::json!({"version": "VERSION 1.3", "results": results, "external_data": {}});
    std::fs::write(out, file.to_string()).unwrap();
}

#[test]
fn ground_truth_as_detections_scores_one_and_writes_json() {
    let dir = tempfile::tempdir().unwrap();
    for gt in ["thumos14/gt.json", "thumos14/gt_segments_as_strings.json"] {
        let det = dir.path().join("det.json");
        let report = dir.path().join("report.json");
        gt_as_detections(&data(gt), "test", &det);
        let o = maan_eval(&[
            "--ground-truth",
            data(gt).to_str().unwrap(),
            "--detections",
            det.to_str().unwrap(),
            "--json",
            report.to_str().unwrap(),
            "--per-class",
        ]);
        let (out, err) = out_and_err(&o);
        assert!(o.status.success(), "{out}\n{err}");
        assert!(
            out.contains("avg 0.10:0.70")
                && out.contains("avg 0.10:0.50")
                && out.contains("avg 0.10:0.90")
                && out.contains("100.00"),
            "{out}"
        );
        assert!(out.contains("VolleyballSpiking"), "per-class table: {out}");
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        let keys: Vec<&String> = r.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "average_mAP",
                "averages",
                "commit",
                "dataset",
                "mAP",
                "per_class_AP",
                "subset",
                "tiou_thresholds",
                "videos"
            ]
        );
        // The protocol: the three THUMOS14 averages, the subset and its number of videos
        // (212 in ACM-Net's file, 210 in BaSNet's), the commit maan was built from.
        for range in ["0.1:0.5", "0.1:0.7", "0.1:0.9"] {
            assert!(
                (r["averages"][range].as_f64().unwrap() - 1.0).abs() < 1e-12,
                "{r}"
            );
        }
        assert_eq!(r["subset"], "test");
        assert!([210, 212].contains(&r["videos"].as_u64().unwrap()), "{r}");
        assert!(!r["commit"].as_str().unwrap().is_empty());
        assert_eq!(r["tiou_thresholds"].as_array().unwrap().len(), 9);
        for m in r["mAP"].as_array().unwrap() {
            assert!((m.as_f64().unwrap() - 1.0).abs() < 1e-12, "{gt}: {r}");
        }
        assert_eq!(r["per_class_AP"].as_object().unwrap().len(), 20);
    }
}

#[test]
fn activitynet_defaults_and_custom_thresholds() {
    let dir = tempfile::tempdir().unwrap();
    let gt = dir.path().join("anet.json");
    std::fs::write(
        &gt,
        r#"{"version": "VERSION 1.3", "taxonomy": [], "database": {
            "a": {"duration": 100, "resolution": "1x1", "url": "u", "subset": "validation",
                  "annotations": [{"segment": [10, 50], "label": "Long jump"}]},
            "b": {"duration": 100, "resolution": "1x1", "url": "u", "subset": "testing",
                  "annotations": []}}}"#,
    )
    .unwrap();
    let det = dir.path().join("det.json");
    std::fs::write(
        &det,
        r#"{"version": "", "results": {"a": [{"label": "Long jump", "score": 0.5, "segment": [10, 45]}]}, "external_data": {}}"#,
    )
    .unwrap();
    let report = dir.path().join("r.json");
    let o = maan_eval(&[
        "--ground-truth",
        gt.to_str().unwrap(),
        "--detections",
        det.to_str().unwrap(),
        "--json",
        report.to_str().unwrap(),
    ]);
    let (out, err) = out_and_err(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("subset \"validation\""), "{out}");
    assert!(!out.contains("avg 0.10:0.70"), "{out}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    // tIoU = 35 / 40 = 0.875: a match up to 0.85, a miss from 0.9 (0.8999999999999999) on.
    let map: Vec<f64> = r["mAP"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(map, [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0]);
    let o = maan_eval(&[
        "--ground-truth",
        gt.to_str().unwrap(),
        "--detections",
        det.to_str().unwrap(),
        "--tiou",
        "0.5,0.75,0.95",
        "--json",
        report.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(r["tiou_thresholds"], serde_json::json!([0.5, 0.75, 0.95]));
    assert_eq!(r["mAP"], serde_json::json!([1.0, 1.0, 0.0]));
}

#[test]
fn unknown_video_is_a_warning_with_a_count() {
    let dir = tempfile::tempdir().unwrap();
    let det = dir.path().join("det.json");
    std::fs::write(
        &det,
        r#"{"results": {"nope": [{"label": "HighJump", "score": 0.5, "segment": [1, 2]},
            {"label": "HighJump", "score": 0.4, "segment": [1, 2]}],
            "video_test_0000896": [{"label": "HighJump", "score": 0.9, "segment": [18.6, 24.8]}]}}"#,
    )
    .unwrap();
    let o = maan_eval(&[
        "--ground-truth",
        data("thumos14/gt.json").to_str().unwrap(),
        "--detections",
        det.to_str().unwrap(),
    ]);
    let (out, err) = out_and_err(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(err.contains("warning: 2 detections in 1 videos"), "{err}");
}

#[test]
fn bad_inputs_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let gt = data("thumos14/gt.json");
    let gt = gt.to_str().unwrap();
    let write = |name: &str, body: &str| -> String {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        p.to_str().unwrap().to_string()
    };
    let cases = [
        (
            write(
                "label.json",
                r#"{"results": {"video_test_0000896": [{"label": "Juggling", "score": 0.5, "segment": [1, 2]}]}}"#,
            ),
            "Juggling",
        ),
        (
            write(
                "reversed.json",
                r#"{"results": {"video_test_0000896": [{"label": "HighJump", "score": 0.5, "segment": [3, 2]}]}}"#,
            ),
            "starts after it ends",
        ),
        (write("empty.json", r#"{"results": {}}"#), "empty"),
        (
            write("broken.json", "{\"results\": {\n  \"v\": [1,]}}"),
            "line 2",
        ),
        (
            write(
                "nan.json",
                r#"{"results": {"v": [{"label": "HighJump", "score": NaN, "segment": [1, 2]}]}}"#,
            ),
            "invalid JSON",
        ),
    ];
    for (det, needle) in &cases {
        let o = maan_eval(&["--ground-truth", gt, "--detections", det]);
        fails(&o, needle);
        fails(&o, det);
    }
    let ok_det = write(
        "ok.json",
        r#"{"results": {"video_test_0000896": [{"label": "HighJump", "score": 0.5, "segment": [1, 2]}]}}"#,
    );
    // Missing files, a bad range, an absent subset, a bad ground truth.
    let o = maan_eval(&[
        "--ground-truth",
        "/nonexistent/gt.json",
        "--detections",
        &ok_det,
    ]);
    fails(&o, "/nonexistent/gt.json");
    let o = maan_eval(&[
        "--ground-truth",
        gt,
        "--detections",
        "/nonexistent/det.json",
    ]);
    fails(&o, "/nonexistent/det.json");
    let o = maan_eval(&[
        "--ground-truth",
        gt,
        "--detections",
        &ok_det,
        "--tiou",
        "0.9:0.1:0.1",
    ]);
    fails(&o, "--tiou");
    let o = maan_eval(&[
        "--ground-truth",
        gt,
        "--detections",
        &ok_det,
        "--subset",
        "train",
    ]);
    fails(&o, "subsets present");
    let bad_gt = write(
        "bad_gt.json",
        r#"{"database": {"v9": {"subset": "test", "annotations": [{"segment": [5, 1], "label": "A"}]}}}"#,
    );
    let o = maan_eval(&["--ground-truth", &bad_gt, "--detections", &ok_det]);
    fails(&o, "v9");
    // Nothing is written where --json points when scoring fails.
    let out = dir.path().join("never.json");
    let o = maan_eval(&[
        "--ground-truth",
        gt,
        "--detections",
        &cases[0].0,
        "--json",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(!out.exists());
}
