//! End-to-end tests of `maan train` / `maan test` / `maan eval` on a tiny synthetic dataset.

use std::path::Path;
use std::process::{Command, Output};

fn maan(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_maan"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run maan")
}

fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.success(),
        "maan failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    stdout + &stderr
}

fn fails(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected failure, got success: {stderr}");
    assert!(!stderr.contains("panicked"), "panic instead of an error: {stderr}");
    assert!(stderr.contains(needle), "expected '{needle}' in: {stderr}");
}

fn synth(dir: &Path) {
    ok(&maan(
        &["synth", "--out", "data", "--videos", "8", "--dim", "16"],
        dir,
    ));
}

#[test]
fn train_test_eval_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    synth(dir);
    let out = ok(&maan(
        &[
            "train", "--data-dir", "data", "--iterations", "20", "--batch-size", "4",
            "--eval-every", "10", "--output", "run", "--quiet",
        ],
        dir,
    ));
    assert!(out.contains("mAP (%)"), "{out}");
    for f in ["config.json", "metrics.jsonl", "last/state.json", "last/rgb.mpk", "last/flow-optim.mpk", "best/state.json"] {
        assert!(dir.join("run").join(f).is_file(), "missing {f}");
    }
    let metrics = std::fs::read_to_string(dir.join("run/metrics.jsonl")).unwrap();
    assert!(metrics.lines().count() >= 3);
    for line in metrics.lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("JSON lines");
    }

    let out = ok(&maan(
        &[
            "test", "--data-dir", "data", "--checkpoint", "run", "--detections", "det.json",
            "--cas-dir", "cas",
        ],
        dir,
    ));
    assert!(out.contains("mAP (%)"), "{out}");
    let det: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("det.json")).unwrap()).unwrap();
    assert!(det["results"].as_object().unwrap().len() == 8, "one entry per test video");
    assert!(std::fs::read_dir(dir.join("cas")).unwrap().count() == 8);

    // The detections score with `maan eval` against the dataset's ground truth.
    let out = maan(
        &["eval", "--ground-truth", "data/gt.json", "--detections", "det.json"],
        dir,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn resume_continues_to_the_same_end() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    synth(dir);
    let common = ["--data-dir", "data", "--batch-size", "4", "--eval-every", "0", "--quiet", "--streams", "rgb"];
    let mut a = vec!["train", "--iterations", "12", "--output", "a"];
    a.extend(common);
    ok(&maan(&a, dir));
    let mut b = vec!["train", "--iterations", "5", "--output", "b"];
    b.extend(common);
    ok(&maan(&b, dir));
    let mut b2 = vec!["train", "--iterations", "12", "--output", "b", "--resume"];
    b2.extend(common);
    ok(&maan(&b2, dir));
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("b/last/state.json")).unwrap()).unwrap();
    assert_eq!(state["iteration"], 12);
    // Same weights: identical detections.
    for run in ["a", "b"] {
        ok(&maan(
            &["test", "--data-dir", "data", "--checkpoint", run, "--which", "last", "--detections", &format!("{run}.json")],
            dir,
        ));
    }
    let da = std::fs::read_to_string(dir.join("a.json")).unwrap();
    let db = std::fs::read_to_string(dir.join("b.json")).unwrap();
    assert_eq!(da, db, "resumed run differs from the uninterrupted one");
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fails(&maan(&["train", "--data-dir", "missing", "--output", "r"], dir), "missing");
    fails(
        &maan(&["test", "--data-dir", "missing", "--checkpoint", "nope", "--detections", "d.json"], dir),
        "not a run directory",
    );
    synth(dir);
    fails(
        &maan(&["train", "--data-dir", "data", "--output", "r", "--resume"], dir),
        "holds no checkpoint",
    );
    fails(
        &maan(&["train", "--data-dir", "data", "--output", "r", "--iterations", "0"], dir),
        "--iterations",
    );
    let aggregator = maan(&["train", "--data-dir", "data", "--aggregator", "bogus"], dir);
    assert!(!aggregator.status.success());
    #[cfg(not(feature = "wgpu"))]
    fails(
        &maan(&["train", "--data-dir", "data", "--backend", "wgpu", "--output", "r"], dir),
        "--features wgpu",
    );
}
