//! Helpers shared by the areas of the CLI tests: running the built `maan` binary, asserting a
//! success or a clean failure, the tiny synthetic dataset most tests train on, and comparing the
//! detections of two runs.

use std::path::Path;
use std::process::{Command, Output};

/// The built `maan`, with `MAAN_NO_REBUILD=1`: tests run it under cargo's variables (`CARGO`,
/// `CARGO_MANIFEST_DIR`), with which a backend missing from the build would otherwise start a
/// cargo build of it (`src/rebuild.rs`); a test that asks for such a backend gets the error.
pub fn maan_cmd() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_maan"));
    cmd.env("MAAN_NO_REBUILD", "1");
    cmd
}

/// Runs `maan ARGS...` with `cwd` as its current directory (relative paths in `args` resolve
/// there) and returns its output.
pub fn maan(args: &[&str], cwd: &Path) -> Output {
    maan_cmd()
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run maan")
}

/// Runs `maan ARGS...` in the test process's own current directory (for tests that pass only
/// absolute paths) and returns its output.
pub fn maan_here(args: &[&str]) -> Output {
    maan_cmd().args(args).output().expect("run maan")
}

/// Stdout followed by stderr, as text.
pub fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

/// Asserts that `maan` succeeded (showing stdout and stderr if not) and returns stdout followed
/// by stderr.
pub fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.success(),
        "maan failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    stdout + &stderr
}

/// Asserts a clean failure: a non-zero exit, no panic, and `needle` in stderr.
pub fn fails(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "expected failure, got success: {stderr}"
    );
    assert!(
        !stderr.contains("panicked"),
        "panic instead of an error: {stderr}"
    );
    assert!(stderr.contains(needle), "expected '{needle}' in: {stderr}");
}

/// Non-zero exit, no panic, and the output names every needle.
pub fn assert_fails(o: &Output, needles: &[&str]) {
    let t = text(o);
    assert!(!o.status.success(), "expected failure:\n{t}");
    assert!(
        !t.contains("panicked") && !t.contains("RUST_BACKTRACE"),
        "{t}"
    );
    for n in needles {
        assert!(t.contains(n), "output does not mention {n:?}:\n{t}");
    }
}

/// Writes the tiny THUMOS14-shaped synthetic dataset the training tests use to `DIR/data`
/// (`maan synth --out data --videos 8 --dim 16` run in `dir`), asserting that it succeeds.
pub fn synth(dir: &Path) {
    ok(&maan(
        &["synth", "--out", "data", "--videos", "8", "--dim", "16"],
        dir,
    ));
}

/// The iteration of a run's `last` checkpoint (or of `last.old`, where a kill left only that),
/// 0 before the first one.
pub fn last_iteration(run: &Path) -> u64 {
    ["last", "last.old"]
        .iter()
        .filter_map(|d| std::fs::read_to_string(run.join(d).join("state.json")).ok())
        .filter_map(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .filter_map(|v| v["iteration"].as_u64())
        .next()
        .unwrap_or(0)
}

/// Tests the `last` checkpoint of runs `a` and `b` (with `--data-dir data` when `with_data`,
/// else from what the runs recorded) and asserts that their detections agree
/// ([`assert_same_detections`]).
pub fn assert_runs_detect_alike(dir: &Path, a: &str, b: &str, with_data: bool) {
    for run in [a, b] {
        let detections = format!("{run}.json");
        let mut args = vec![
            "test",
            "--run",
            run,
            "--which",
            "last",
            "--detections",
            &detections,
        ];
        if with_data {
            args.extend(["--data-dir", "data"]);
        }
        ok(&maan(&args, dir));
    }
    assert_same_detections(dir, &format!("{a}.json"), &format!("{b}.json"));
}

/// Asserts that two detection files (ActivityNet result format) hold the same detections: same
/// labels in the same order, scores and segments equal to 1e-5 relative.
pub fn assert_same_detections(dir: &Path, a: &str, b: &str) {
    // The threaded ndarray matmul may round differently from run to run: compare to 1e-5.
    let read = |f: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(f)).unwrap()).unwrap()
    };
    let (da, db) = (read(a), read(b));
    let (ra, rb) = (
        da["results"].as_object().unwrap(),
        db["results"].as_object().unwrap(),
    );
    assert_eq!(ra.len(), rb.len());
    for (id, la) in ra {
        let (la, lb) = (la.as_array().unwrap(), rb[id].as_array().unwrap());
        assert_eq!(
            la.len(),
            lb.len(),
            "{id}: resumed run differs from the uninterrupted one"
        );
        for (x, y) in la.iter().zip(lb) {
            assert_eq!(x["label"], y["label"]);
            let close = |k: &str, i: Option<usize>| {
                let (u, v) = match i {
                    Some(i) => (x[k][i].as_f64().unwrap(), y[k][i].as_f64().unwrap()),
                    None => (x[k].as_f64().unwrap(), y[k].as_f64().unwrap()),
                };
                assert!(
                    (u - v).abs() <= 1e-5 * (1.0 + u.abs()),
                    "{id} {k}: {u} vs {v}"
                );
            };
            close("score", None);
            close("segment", Some(0));
            close("segment", Some(1));
        }
    }
}
