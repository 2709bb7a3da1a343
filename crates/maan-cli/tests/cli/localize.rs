//! The localization options on ActivityNet-shaped data: saved with the run, used and overridden
//! by `maan test`, recorded in the metrics; and `maan demo --dataset activitynet`.

use crate::common::{maan, ok};

/// On ActivityNet-shaped data, the localization options given to `train --paper` (over the
/// paper preset) are saved in the run's config.json and used by `maan test` unless
/// overridden; the metrics JSON records the
/// settings; `--soft-nms-sigma` and `--nms-iou` set soft-NMS's width and greedy NMS's
/// threshold, `--suppression soft-nms` keeps the width of settings that already use soft-NMS
/// (the `long` preset's 0.5), and contradicting or out-of-range values of them are refused
/// naming the flag;
/// `maan demo --dataset activitynet` runs end to end.
#[test]
fn activitynet_localization_options_are_saved_used_and_overridable() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    ok(&maan(
        &[
            "synth",
            "--dataset",
            "activitynet",
            "--out",
            "anet",
            "--videos",
            "12",
            "--dim",
            "16",
        ],
        dir,
    ));
    let out = ok(&maan(
        &[
            "train",
            "--dataset",
            "activitynet",
            "--data-dir",
            "anet",
            "--iterations",
            "20",
            "--batch-size",
            "4",
            "--eval-every",
            "10",
            "--cas-smoothing",
            "5",
            "--proposal-score",
            "outer-inner",
            "--paper",
            "--run",
            "run",
            "--quiet",
        ],
        dir,
    ));
    assert!(out.contains("CAS smoothed over 5 snippets"), "{out}");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run/config.json")).unwrap())
            .unwrap();
    assert_eq!(config["localize"]["smoothing"], 5, "{config}");
    assert!(
        config["localize"]["score"]["OuterInner"].is_object(),
        "{config}"
    );
    let thresholds = &config["localize"]["thresholds"]["RelativeToMax"];
    assert_eq!(
        thresholds.as_array().unwrap().len(),
        4,
        "ActivityNet's four thresholds"
    );

    // `maan test` of the run on the ActivityNet-shaped data with `extra` flags.
    let test_run = |extra: &[&str], det: &str| {
        let mut args = vec![
            "test",
            "--dataset",
            "activitynet",
            "--data-dir",
            "anet",
            "--run",
            "run",
            "--detections",
            det,
        ];
        args.extend(extra);
        maan(&args, dir)
    };
    let test = |extra: &[&str], det: &str| -> (String, serde_json::Value) {
        let out = ok(&test_run(extra, det));
        let metrics_path = dir.join(det).with_extension("metrics.json");
        let metrics: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(metrics_path).unwrap()).unwrap();
        (out, metrics)
    };
    // The run's own settings by default.
    let (out, metrics) = test(&[], "saved.json");
    assert!(
        out.contains("outer-inner score") && out.contains("smoothed over 5"),
        "{out}"
    );
    assert_eq!(metrics["localization"]["smoothing"], 5);
    assert_eq!(metrics["tiou_thresholds"].as_array().unwrap().len(), 10);
    assert_eq!(metrics["test_videos"], 4);
    // `--data-dir` without `--dataset`: the run's benchmark (ActivityNet), not the default
    // THUMOS14; a `--dataset` that contradicts the run is an error naming both.
    ok(&maan(
        &[
            "test",
            "--data-dir",
            "anet",
            "--run",
            "run",
            "--detections",
            "nodataset.json",
        ],
        dir,
    ));
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("nodataset.metrics.json")).unwrap())
            .unwrap();
    assert_eq!(metrics["dataset"], "activitynet13", "{metrics}");
    assert_eq!(metrics["tiou_thresholds"].as_array().unwrap().len(), 10);
    let wrong = maan(
        &[
            "test",
            "--dataset",
            "thumos14",
            "--data-dir",
            "anet",
            "--run",
            "run",
            "--detections",
            "wrong.json",
        ],
        dir,
    );
    assert!(!wrong.status.success());
    let text = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        text.contains("--dataset thumos14") && text.contains("activitynet"),
        "{text}"
    );
    // Overridden back to the paper's procedure.
    let (out, metrics) = test(
        &["--cas-smoothing", "1", "--proposal-score", "mean"],
        "paper.json",
    );
    assert!(
        out.contains("mean score") && !out.contains("smoothed"),
        "{out}"
    );
    assert_eq!(metrics["localization"]["smoothing"], 1);
    assert_eq!(metrics["localization"]["score"], "Mean");
    assert_eq!(metrics["localization_preset"], "paper");
    assert_eq!(
        metrics["averages"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["0.5:0.95"]
    );
    // The oic preset of ActivityNet1.3 replaces the run's settings; soft-NMS on top of it is
    // recorded as a custom configuration.
    let (_, metrics) = test(&["--localize", "oic"], "oic.json");
    assert_eq!(metrics["localization_preset"], "oic");
    assert_eq!(metrics["localization"]["upsample"], 20);
    assert_eq!(metrics["localization"]["nms_iou"], 0.9);
    let (out, metrics) = test(
        &["--localize", "oic", "--suppression", "soft-nms"],
        "soft.json",
    );
    assert!(out.contains("soft-NMS sigma 0.3"), "{out}");
    assert_eq!(metrics["localization_preset"], "custom");
    assert_eq!(
        metrics["localization"]["suppression"]["SoftNms"]["sigma"],
        0.3
    );
    // The long preset already uses soft-NMS (σ = 0.5, attention proposals): naming soft-NMS
    // again keeps its width, so the settings stay the preset.
    let (out, metrics) = test(
        &["--localize", "long", "--suppression", "soft-nms"],
        "long.json",
    );
    assert!(
        out.contains("soft-NMS sigma 0.5") && out.contains("attention thresholds"),
        "{out}"
    );
    assert_eq!(metrics["localization_preset"], "long");
    // --soft-nms-sigma alone selects soft-NMS with that width; --nms-iou sets greedy NMS's
    // threshold.
    let (out, metrics) = test(&["--soft-nms-sigma", "0.5"], "sigma.json");
    assert!(out.contains("soft-NMS sigma 0.5"), "{out}");
    assert_eq!(
        metrics["localization"]["suppression"]["SoftNms"]["sigma"],
        0.5
    );
    let (out, metrics) = test(&["--nms-iou", "0.7"], "nmsiou.json");
    assert!(out.contains("NMS 0.7"), "{out}");
    assert_eq!(metrics["localization"]["nms_iou"], 0.7);
    assert_eq!(metrics["localization"]["suppression"], "Nms");
    // Contradicting or out-of-range values are refused with the flag named.
    for (extra, says) in [
        (
            &["--suppression", "nms", "--soft-nms-sigma", "0.5"][..],
            "--soft-nms-sigma",
        ),
        (
            &["--suppression", "soft-nms", "--nms-iou", "0.7"][..],
            "--nms-iou",
        ),
        (
            &["--nms-iou", "0.7", "--soft-nms-sigma", "0.5"][..],
            "--nms-iou",
        ),
        (&["--nms-iou", "1.5"][..], "(0, 1]"),
        (&["--soft-nms-sigma", "0"][..], "positive"),
    ] {
        let out = test_run(extra, "refused.json");
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{extra:?} accepted");
        assert!(
            text.contains(says) && !text.contains("panicked"),
            "{extra:?}: {text}"
        );
    }

    let out = ok(&maan(
        &[
            "demo",
            "--dataset",
            "activitynet",
            "--data-dir",
            "anet",
            "--iterations",
            "10",
            "--run",
            "demo",
        ],
        dir,
    ));
    assert!(out.contains("mAP (%)"), "{out}");
    assert!(dir.join("demo/detections.json").is_file());
    assert!(
        std::fs::read_dir(dir.join("demo/plots")).unwrap().count() >= 2,
        "svg + png"
    );
}
