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
            "train",
            "--data-dir",
            "data",
            "--iterations",
            "20",
            "--batch-size",
            "4",
            "--eval-every",
            "10",
            "--output",
            "run",
            "--quiet",
            // The paper's procedure (MAAN's THUMOS14 default localizes with `oic`).
            "--paper",
        ],
        dir,
    ));
    assert!(out.contains("mAP (%)"), "{out}");
    for f in [
        "config.json",
        "metrics.jsonl",
        "last/state.json",
        "last/rgb.mpk",
        "last/flow-optim.mpk",
        "best/state.json",
    ] {
        assert!(dir.join("run").join(f).is_file(), "missing {f}");
    }
    let metrics = std::fs::read_to_string(dir.join("run/metrics.jsonl")).unwrap();
    assert!(metrics.lines().count() >= 3);
    for line in metrics.lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("JSON lines");
    }

    let out = ok(&maan(
        &[
            "test",
            "--data-dir",
            "data",
            "--checkpoint",
            "run",
            "--detections",
            "det.json",
            "--cas-dir",
            "cas",
        ],
        dir,
    ));
    assert!(out.contains("mAP (%)"), "{out}");
    let det: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("det.json")).unwrap()).unwrap();
    assert!(
        det["results"].as_object().unwrap().len() == 8,
        "one entry per test video"
    );
    // One CAS and one attention file per test video; the attention is `[T]` (the CAS's
    // first dimension) and a probability.
    let files: Vec<std::path::PathBuf> = std::fs::read_dir(dir.join("cas"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let attention: Vec<_> = files
        .iter()
        .filter(|p| p.to_str().unwrap().ends_with(".attention.npy"))
        .collect();
    assert_eq!((files.len(), attention.len()), (16, 8));
    let (att_shape, values) = dataset::npy::read_f32(attention[0]).unwrap();
    let cas_path = attention[0]
        .to_str()
        .unwrap()
        .replace(".attention.npy", ".npy");
    let (cas_shape, _) = dataset::npy::read_f32(std::path::Path::new(&cas_path)).unwrap();
    assert_eq!(att_shape, &cas_shape[..1]);
    assert!(values.iter().all(|p| (0.0..=1.0).contains(p)), "{values:?}");

    // `maan eval` scores the detections against the dataset's ground truth with the mAP that
    // `maan test` reported, at every tIoU. Like the official evaluator, `maan eval` refuses
    // labels that no test instance has (8 test videos cover few of the 20 classes), while
    // `maan test` scores the classes of the ground truth only: keep those.
    let read = |f: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(f)).unwrap()).unwrap()
    };
    fails(
        &maan(
            &[
                "eval",
                "--ground-truth",
                "data/gt.json",
                "--detections",
                "det.json",
            ],
            dir,
        ),
        "is not a class of the ground truth",
    );
    let gt = read("data/gt.json");
    let labels: std::collections::BTreeSet<String> = gt["database"]
        .as_object()
        .unwrap()
        .values()
        .filter(|v| v["subset"] == "test")
        .flat_map(|v| v["annotations"].as_array().unwrap().clone())
        .map(|a| a["label"].as_str().unwrap().to_string())
        .collect();
    let mut kept = read("det.json");
    for list in kept["results"].as_object_mut().unwrap().values_mut() {
        list.as_array_mut()
            .unwrap()
            .retain(|d| labels.contains(d["label"].as_str().unwrap()));
    }
    std::fs::write(dir.join("kept.json"), kept.to_string()).unwrap();
    ok(&maan(
        &[
            "eval",
            "--ground-truth",
            "data/gt.json",
            "--detections",
            "kept.json",
            "--json",
            "eval.json",
        ],
        dir,
    ));
    let (eval, test) = (read("eval.json"), read("det.metrics.json"));
    let (me, mt) = (
        eval["mAP"].as_array().unwrap(),
        test["map"].as_array().unwrap(),
    );
    assert_eq!(me.len(), 9, "{eval}");
    assert_eq!(me.len(), mt.len());
    for (a, b) in me.iter().zip(mt) {
        let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
        assert!((a - b).abs() < 1e-12, "maan eval {a} vs maan test {b}");
    }
    let (a, b) = (
        eval["average_mAP"].as_f64().unwrap(),
        test["average_map"].as_f64().unwrap(),
    );
    assert!((a - b).abs() < 1e-12 && a > 0.0, "{a} vs {b}");

    // The metrics JSON records the protocol: the three THUMOS14 averages, the test videos
    // evaluated and those left out, the localization preset and settings, seed and commit.
    assert_eq!(test["localization_preset"], "paper", "{test}");
    assert!(test["localization"]["attention_thresholds"].is_null());
    let averages = test["averages"].as_object().unwrap();
    let ranges: Vec<&String> = averages.keys().collect();
    assert_eq!(ranges, ["0.1:0.5", "0.1:0.7", "0.1:0.9"], "{test}");
    assert!((averages["0.1:0.9"].as_f64().unwrap() - b).abs() < 1e-12);
    assert_eq!(test["test_videos"], 8);
    assert!(test["excluded_videos"].is_array());
    assert_eq!(test["seed"], 0);
    assert_eq!(test["dataset"], "thumos14");
    assert!(!test["commit"].as_str().unwrap().is_empty());
    assert!(
        out.contains("avg0.1:0.5") && out.contains("avg0.1:0.9"),
        "{out}"
    );

    // `--localize oic`: the multi-threshold CAS + attention proposals with outer-inner scores,
    // recorded in the metrics JSON with every threshold.
    let out = ok(&maan(
        &[
            "test",
            "--data-dir",
            "data",
            "--checkpoint",
            "run",
            "--detections",
            "oic.json",
            "--localize",
            "oic",
        ],
        dir,
    ));
    assert!(
        out.contains("attention thresholds {0.15, 0.2, …, 0.95} (17 values)"),
        "{out}"
    );
    let oic = read("oic.metrics.json");
    assert_eq!(oic["localization_preset"], "oic", "{oic}");
    assert_eq!(
        oic["localization"]["attention_thresholds"]["Absolute"]
            .as_array()
            .unwrap()
            .len(),
        17
    );
    assert_eq!(oic["localization"]["upsample"], 24);
    assert_eq!(oic["localization"]["score"]["OuterInner"]["lambda"], 0.25);
    let n = |f: &str| -> usize {
        read(f)["results"]
            .as_object()
            .unwrap()
            .values()
            .map(|l| l.as_array().unwrap().len())
            .sum()
    };
    assert!(
        n("oic.json") > n("det.json"),
        "oic pools many more proposals"
    );
}

#[test]
fn resume_continues_to_the_same_end() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    synth(dir);
    let common = [
        "--data-dir",
        "data",
        "--batch-size",
        "4",
        "--eval-every",
        "0",
        "--quiet",
        "--streams",
        "rgb",
    ];
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
        serde_json::from_str(&std::fs::read_to_string(dir.join("b/last/state.json")).unwrap())
            .unwrap();
    assert_eq!(state["iteration"], 12);
    // Same weights: identical detections.
    assert_runs_detect_alike(dir, "a", "b", true);
}

/// Tests the `last` checkpoint of runs `a` and `b` (with `--data-dir data` when `with_data`,
/// else from what the runs recorded) and asserts that their detections agree
/// ([`assert_same_detections`]).
fn assert_runs_detect_alike(dir: &Path, a: &str, b: &str, with_data: bool) {
    for run in [a, b] {
        let detections = format!("{run}.json");
        let mut args = vec![
            "test",
            "--checkpoint",
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
fn assert_same_detections(dir: &Path, a: &str, b: &str) {
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

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fails(
        &maan(&["train", "--data-dir", "missing", "--output", "r"], dir),
        "missing",
    );
    fails(
        &maan(
            &[
                "test",
                "--data-dir",
                "missing",
                "--checkpoint",
                "nope",
                "--detections",
                "d.json",
            ],
            dir,
        ),
        "not a run directory",
    );
    synth(dir);
    fails(
        &maan(
            &["train", "--data-dir", "data", "--output", "r", "--resume"],
            dir,
        ),
        "holds no checkpoint",
    );
    fails(
        &maan(
            &[
                "train",
                "--data-dir",
                "data",
                "--output",
                "r",
                "--iterations",
                "0",
            ],
            dir,
        ),
        "--iterations",
    );
    let aggregator = maan(
        &["train", "--data-dir", "data", "--aggregator", "bogus"],
        dir,
    );
    assert!(!aggregator.status.success());
    // A backend whose driver is missing: an error naming the problem, not a panic.
    #[cfg(feature = "cuda")]
    if !Path::new("/dev/nvidiactl").exists() {
        fails(
            &maan(
                &[
                    "train",
                    "--data-dir",
                    "data",
                    "--backend",
                    "cuda",
                    "--output",
                    "r",
                ],
                dir,
            ),
            "could not open a cuda device",
        );
    }
    #[cfg(not(feature = "wgpu"))]
    fails(
        &maan(
            &[
                "train",
                "--data-dir",
                "data",
                "--backend",
                "wgpu",
                "--output",
                "r",
            ],
            dir,
        ),
        "--features wgpu",
    );
}

/// The iteration of a run's `last` checkpoint (or of `last.old`, where a kill left only that),
/// 0 before the first one.
fn last_iteration(run: &Path) -> u64 {
    ["last", "last.old"]
        .iter()
        .filter_map(|d| std::fs::read_to_string(run.join(d).join("state.json")).ok())
        .filter_map(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .filter_map(|v| v["iteration"].as_u64())
        .next()
        .unwrap_or(0)
}

/// One writer per run directory, across processes: while one `maan train --output run` is
/// training, a second `maan train --output run` and a `maan train --output run --resume` both
/// fail with an error naming the run and the first process's pid, and leave its files alone;
/// once the first process is killed (SIGKILL: the OS releases its lock, nothing stale is left),
/// `--resume` continues the run.
#[cfg(unix)]
#[test]
fn second_process_on_a_run_directory_is_refused_naming_the_holder() {
    use std::time::{Duration, Instant};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    synth(dir);
    let train = [
        "train",
        "--data-dir",
        "data",
        "--batch-size",
        "4",
        "--eval-every",
        "0",
        "--checkpoint-every",
        "2",
        "--quiet",
        "--streams",
        "rgb",
        "--iterations",
        "1000000",
        "--output",
        "run",
    ];
    let mut first = Command::new(env!("CARGO_BIN_EXE_maan"))
        .args(train)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = first.id().to_string();
    let run = dir.join("run");
    let start = Instant::now();
    while !(std::fs::read_to_string(run.join("run.lock")).is_ok_and(|t| t == pid)
        && last_iteration(&run) > 0)
    {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "the first run never wrote its lock and a checkpoint"
        );
        assert!(first.try_wait().unwrap().is_none(), "the first run ended");
        std::thread::sleep(Duration::from_millis(20));
    }
    let config = std::fs::read(run.join("config.json")).unwrap();
    let holder = format!("pid {pid}");
    fails(&maan(&train, dir), &holder);
    let resume = ["train", "--output", "run", "--resume", "--quiet"];
    let second = maan(&resume, dir);
    fails(&second, &holder);
    assert!(String::from_utf8_lossy(&second.stderr).contains("run"));
    assert_eq!(std::fs::read(run.join("config.json")).unwrap(), config);
    assert!(
        first.try_wait().unwrap().is_none(),
        "the first run was disturbed"
    );
    first.kill().unwrap();
    first.wait().unwrap();
    let done = last_iteration(&run);
    let more = (done + 2).to_string();
    ok(&maan(
        &[
            "train",
            "--output",
            "run",
            "--resume",
            "--quiet",
            "--iterations",
            &more,
        ],
        dir,
    ));
    assert_eq!(last_iteration(&run), done + 2);
}

/// A training process killed with SIGKILL at several moments (a few milliseconds after a
/// checkpoint appeared, so some kills land inside the next checkpoint write) leaves a run that
/// `maan train --resume --output RUN` continues with the run's own settings (no --iterations:
/// it keeps the run's total rather than the flag's default) and that ends with the weights of
/// the uninterrupted run. Then: resuming a complete run does nothing; an option that disagrees
/// with the run, or a total below the run's iteration, is an error naming both values.
#[cfg(unix)]
#[test]
fn sigkill_then_resume_alone_ends_where_an_uninterrupted_run_ends() {
    use std::time::{Duration, Instant};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    synth(dir);
    let total: u64 = 300;
    let total_s = total.to_string();
    let mut fresh = vec![
        "train",
        "--data-dir",
        "data",
        "--batch-size",
        "4",
        "--eval-every",
        "0",
        "--checkpoint-every",
        "3",
        "--quiet",
        "--streams",
        "rgb",
        "--iterations",
        &total_s,
    ];
    let mut a = fresh.clone();
    a.extend(["--output", "a"]);
    ok(&maan(&a, dir));
    fresh.extend(["--output", "b"]);
    let resume = [
        "train",
        "--data-dir",
        "data",
        "--output",
        "b",
        "--resume",
        "--quiet",
    ];
    let spawn = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_maan"))
            .args(args)
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let run = dir.join("b");
    let mut kills = 0;
    for (round, delay_ms) in [0u64, 1, 3, 7].into_iter().enumerate() {
        let mut child = spawn(if round == 0 { &fresh } else { &resume });
        // Wait for a checkpoint newer than the one this process started from.
        let from = last_iteration(&run);
        let start = Instant::now();
        while last_iteration(&run) <= from && child.try_wait().unwrap().is_none() {
            assert!(start.elapsed() < Duration::from_secs(120), "no checkpoint");
            std::thread::sleep(Duration::from_micros(200));
        }
        std::thread::sleep(Duration::from_millis(delay_ms));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        if last_iteration(&run) == total {
            break;
        }
    }
    assert!(
        kills >= 2,
        "the run finished before it could be killed twice"
    );
    // Resume alone, to the end.
    let text = ok(&maan(&resume, dir));
    assert!(!text.contains("5000"), "{text}");
    assert_eq!(last_iteration(&run), total);
    assert_runs_detect_alike(dir, "a", "b", true);
    // A complete run: nothing to do.
    let text = ok(&maan(&resume, dir));
    assert!(text.contains("is complete"), "{text}");
    assert_eq!(last_iteration(&run), total);
    // Disagreeing options and a total below the run's iteration are errors.
    let mut bad = resume.to_vec();
    bad.extend(["--batch-size", "8", "--seed", "0"]);
    fails(&maan(&bad, dir), "--batch-size: given 8, the run has 4");
    let mut short = resume.to_vec();
    short.extend(["--iterations", "10"]);
    fails(&maan(&short, dir), "already at iteration 300");
    // --iterations extends it.
    let mut longer = resume.to_vec();
    longer.extend(["--iterations", "306"]);
    ok(&maan(&longer, dir));
    assert_eq!(last_iteration(&run), 306);
}

/// A run directory is enough: `maan test` and `maan train --resume` without `--data-dir` use
/// the dataset recorded in the run; `maan predict` applies the run to a folder of features
/// without annotations, per-stream files (`rgb/`, `flow/`) or concatenated ones, and writes the
/// detections `maan test` gives for the same videos, and the CAS; bad feature folders are
/// errors naming the file; a moved dataset is an error pointing to `--data-dir`, which then
/// works.
#[test]
fn run_directory_is_enough_to_test_resume_and_predict() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    synth(dir);
    ok(&maan(
        &[
            "train",
            "--data-dir",
            "data",
            "--iterations",
            "20",
            "--batch-size",
            "4",
            "--eval-every",
            "0",
            "--quiet",
            "--output",
            "run",
        ],
        dir,
    ));
    let cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run/config.json")).unwrap())
            .unwrap();
    assert_eq!(cfg["data"]["rgb_dim"], 16, "{cfg}");
    assert_eq!(cfg["data"]["flow_dim"], 16, "{cfg}");
    assert_eq!(
        cfg["data"]["classes"].as_array().unwrap().len(),
        20,
        "{cfg}"
    );
    // No --data-dir anywhere from here on.
    ok(&maan(
        &["test", "--checkpoint", "run", "--detections", "test.json"],
        dir,
    ));
    ok(&maan(
        &[
            "train",
            "--resume",
            "--output",
            "run",
            "--iterations",
            "24",
            "--quiet",
        ],
        dir,
    ));
    assert_eq!(last_iteration(&dir.join("run")), 24);
    ok(&maan(
        &["test", "--checkpoint", "run", "--detections", "test.json"],
        dir,
    ));
    // Layout A's per-stream files of the test videos.
    let text = ok(&maan(
        &[
            "predict",
            "--checkpoint",
            "run",
            "--features",
            "data/features/test",
            "--detections",
            "pred-a.json",
            "--cas-dir",
            "cas",
        ],
        dir,
    ));
    assert!(text.contains("detections -> pred-a.json"), "{text}");
    assert_same_detections(dir, "test.json", "pred-a.json");
    let rgb = dir.join("data/features/test/rgb");
    let ids: Vec<String> = std::fs::read_dir(&rgb)
        .unwrap()
        .map(|e| {
            e.unwrap()
                .path()
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert!(!ids.is_empty());
    for id in &ids {
        let cas = dataset::read_features(&dir.join(format!("cas/{id}.npy")), id).unwrap();
        let feats = dataset::read_features(&rgb.join(format!("{id}.npy")), id).unwrap();
        assert_eq!((cas.rows, cas.cols), (feats.rows, 20), "{id}");
    }
    // Layout B: rgb and flow concatenated in one file per video.
    std::fs::create_dir(dir.join("concat")).unwrap();
    for id in &ids {
        let r = dataset::read_features(&rgb.join(format!("{id}.npy")), id).unwrap();
        let f = dataset::read_features(&dir.join(format!("data/features/test/flow/{id}.npy")), id)
            .unwrap();
        let mut both = Vec::new();
        for t in 0..r.rows {
            both.extend_from_slice(&r.data[t * r.cols..(t + 1) * r.cols]);
            both.extend_from_slice(&f.data[t * f.cols..(t + 1) * f.cols]);
        }
        dataset::write_features(
            &dir.join(format!("concat/{id}.npy")),
            &both,
            r.rows,
            r.cols + f.cols,
            dataset::NpyDtype::F32,
        )
        .unwrap();
    }
    ok(&maan(
        &[
            "predict",
            "--checkpoint",
            "run",
            "--features",
            "concat",
            "--detections",
            "pred-b.json",
        ],
        dir,
    ));
    assert_same_detections(dir, "test.json", "pred-b.json");
    // Bad feature folders.
    fails(
        &maan(
            &[
                "predict",
                "--checkpoint",
                "run",
                "--features",
                "nowhere",
                "--detections",
                "x.json",
            ],
            dir,
        ),
        "nowhere",
    );
    let flow0 = dir.join(format!("data/features/test/flow/{}.npy", ids[0]));
    std::fs::rename(&flow0, dir.join("flow0.npy")).unwrap();
    fails(
        &maan(
            &[
                "predict",
                "--checkpoint",
                "run",
                "--features",
                "data/features/test",
                "--detections",
                "x.json",
            ],
            dir,
        ),
        &format!(
            "flow/{}.npy: missing feature file of video {}",
            ids[0], ids[0]
        ),
    );
    std::fs::rename(dir.join("flow0.npy"), &flow0).unwrap();
    dataset::write_features(
        &dir.join(format!("concat/{}.npy", ids[0])),
        &[0.5; 10],
        2,
        5,
        dataset::NpyDtype::F32,
    )
    .unwrap();
    fails(
        &maan(
            &[
                "predict",
                "--checkpoint",
                "run",
                "--features",
                "concat",
                "--detections",
                "x.json",
            ],
            dir,
        ),
        "5 feature columns, but the model takes 32",
    );
    // A moved dataset.
    std::fs::rename(dir.join("data"), dir.join("moved")).unwrap();
    fails(
        &maan(
            &["test", "--checkpoint", "run", "--detections", "t2.json"],
            dir,
        ),
        "pass --data-dir",
    );
    ok(&maan(
        &[
            "test",
            "--checkpoint",
            "run",
            "--data-dir",
            "moved",
            "--detections",
            "t2.json",
        ],
        dir,
    ));
}

/// `maan train --config RUN/config.json` reproduces a run from its directory alone (same
/// settings, same data folder, same weights), and flags override the file.
#[test]
fn config_file_reproduces_a_run_and_flags_override_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    synth(dir);
    ok(&maan(
        &[
            "train",
            "--data-dir",
            "data",
            "--iterations",
            "12",
            "--batch-size",
            "4",
            "--segments",
            "10",
            "--lr",
            "0.001",
            "--seed",
            "3",
            "--streams",
            "rgb",
            "--eval-every",
            "0",
            "--cas-smoothing",
            "3",
            "--quiet",
            "--output",
            "a",
        ],
        dir,
    ));
    ok(&maan(
        &[
            "train",
            "--config",
            "a/config.json",
            "--quiet",
            "--output",
            "b",
        ],
        dir,
    ));
    let read = |f: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(f)).unwrap()).unwrap()
    };
    assert_eq!(read("a/config.json"), read("b/config.json"));
    assert_runs_detect_alike(dir, "a", "b", false);
    ok(&maan(
        &[
            "train",
            "--config",
            "a/config.json",
            "--seed",
            "4",
            "--iterations",
            "2",
            "--quiet",
            "--output",
            "c",
        ],
        dir,
    ));
    let (a, c) = (read("a/config.json"), read("c/config.json"));
    assert_eq!(c["seed"], 4);
    assert_eq!(c["iterations"], 2);
    for k in [
        "batch_size",
        "num_segments",
        "learning_rate",
        "streams",
        "localize",
        "data",
    ] {
        assert_eq!(a[k], c[k], "{k}");
    }
    fails(
        &maan(
            &[
                "train",
                "--config",
                "a/config.json",
                "--resume",
                "--output",
                "a",
            ],
            dir,
        ),
        "--config starts a new run",
    );
    std::fs::write(dir.join("bad.json"), "{\"iterations\": ").unwrap();
    fails(
        &maan(&["train", "--config", "bad.json", "--output", "d"], dir),
        "bad.json: not a maan training configuration",
    );
}

/// Ctrl-C (SIGINT) saves the last checkpoint and exits cleanly; `--resume` continues it.
#[cfg(unix)]
#[test]
fn ctrl_c_saves_and_resume_continues() {
    use std::time::{Duration, Instant};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    synth(dir);
    let child = Command::new(env!("CARGO_BIN_EXE_maan"))
        .args([
            "train",
            "--data-dir",
            "data",
            "--iterations",
            "10000000",
            "--batch-size",
            "2",
            "--eval-every",
            "0",
            "--checkpoint-every",
            "0",
            "--output",
            "run",
            "--quiet",
            "--streams",
            "rgb",
        ])
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until it has logged a few iterations, then interrupt it.
    let start = Instant::now();
    while !dir.join("run/metrics.jsonl").is_file() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "training did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let text = ok(&out);
    assert!(text.contains("interrupted at iteration"), "{text}");
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run/last/state.json")).unwrap())
            .unwrap();
    let stopped_at = state["iteration"].as_u64().unwrap();
    assert!(stopped_at >= 10, "{state}");
    ok(&maan(
        &[
            "train",
            "--data-dir",
            "data",
            "--iterations",
            &(stopped_at + 5).to_string(),
            "--output",
            "run",
            "--resume",
            "--quiet",
            "--eval-every",
            "0",
        ],
        dir,
    ));
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run/last/state.json")).unwrap())
            .unwrap();
    assert_eq!(state["iteration"].as_u64().unwrap(), stopped_at + 5);
}

/// On ActivityNet-shaped data, the localization options given to `train --paper` (over the
/// paper preset) are saved in the run's config.json and used by `maan test` unless
/// overridden; the metrics JSON records the
/// settings; `--soft-nms-sigma` and `--nms-iou` set soft-NMS's width and greedy NMS's
/// threshold, and contradicting or out-of-range values of them are refused naming the flag;
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
            "--output",
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
            "--checkpoint",
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
            "--checkpoint",
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
            "--checkpoint",
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
            "--output",
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

/// Without an NVIDIA driver, `maan train --backend cuda` (run outside the repository, no
/// `--data-dir`) fails at once with a plain message that suggests the CPU backend, and has
/// generated no data anywhere (neither in the current directory nor in the per-user data
/// directory).
#[cfg(feature = "cuda")]
#[test]
fn missing_gpu_fails_before_any_data_is_generated() {
    if Path::new("/dev/nvidiactl").exists() {
        return; // a real GPU: nothing to check here
    }
    let tmp = tempfile::tempdir().unwrap();
    let (cwd, home) = (tmp.path().join("work"), tmp.path().join("home"));
    std::fs::create_dir_all(&cwd).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_maan"))
        .args(["train", "--backend", "cuda", "--iterations", "1"])
        .current_dir(&cwd)
        .env("HOME", &home)
        .env_remove("XDG_DATA_HOME")
        .env_remove("MAAN_DATA_DIR")
        .output()
        .unwrap();
    fails(&out, "could not open a cuda device");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--backend flex"), "{stderr}");
    assert!(
        !stderr.contains("RecvError") && !stderr.contains("unwrap"),
        "{stderr}"
    );
    assert!(!stderr.contains("generating"), "{stderr}");
    assert_eq!(
        std::fs::read_dir(&cwd).unwrap().count(),
        0,
        "files in the cwd"
    );
    assert_eq!(
        std::fs::read_dir(&home).unwrap().count(),
        0,
        "files in HOME"
    );
}

/// Outside the repository and without `--data-dir`, the built-in dataset goes to the per-user
/// data directory (here `$XDG_DATA_HOME/maan/synthetic/thumos14`), which the CLI prints, and
/// not into the current directory.
#[test]
fn builtin_data_goes_to_the_per_user_directory_outside_the_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let (cwd, xdg) = (tmp.path().join("work"), tmp.path().join("xdg"));
    std::fs::create_dir_all(&cwd).unwrap();
    let want = xdg.join("maan/synthetic/thumos14");
    assert!(!want.exists());
    // `maan train` without --data-dir creates it (the whole THUMOS14-shaped dataset, 272 MB,
    // about 1.5 s; one iteration of one stream, evaluated once at the end).
    let out = Command::new(env!("CARGO_BIN_EXE_maan"))
        .args([
            "train",
            "--iterations",
            "1",
            "--eval-every",
            "0",
            "--streams",
            "rgb",
            "--output",
            "run",
            "--quiet",
        ])
        .current_dir(&cwd)
        .env("XDG_DATA_HOME", &xdg)
        .env_remove("MAAN_DATA_DIR")
        .output()
        .unwrap();
    let text = ok(&out);
    assert!(text.contains(&want.display().to_string()), "{text}");
    assert!(want.join("gt.json").is_file());
    assert!(
        !cwd.join("data").exists(),
        "data written into the current directory"
    );
}

/// End to end on wgpu (lavapipe in CI: `cargo test -p maan-cli --features wgpu --test
/// train_cli wgpu`): `maan train --backend wgpu` trains a few iterations and evaluates with the
/// bucketed inference path, saying first that it compiles GPU kernels, and `maan test
/// --backend wgpu` on that run gives the same mAP as `maan test --backend flex` (to 0.01
/// points) and the same number of detections per video.
#[cfg(all(feature = "wgpu", feature = "flex"))]
#[test]
fn wgpu_end_to_end_matches_flex() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    synth(dir);
    let cache = dir.join("kernels");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_maan"))
            .args(args)
            .current_dir(dir)
            .env("MAAN_KERNEL_CACHE", &cache)
            .output()
            .expect("run maan");
        ok(&out)
    };
    let out = run(&[
        "train",
        "--backend",
        "wgpu",
        "--data-dir",
        "data",
        "--iterations",
        "10",
        "--batch-size",
        "4",
        "--eval-every",
        "5",
        "--output",
        "run",
        "--quiet",
    ]);
    assert!(out.contains("mAP (%)"), "{out}");
    assert!(out.contains("wgpu: compiling"), "{out}");
    let metrics = |backend: &str| -> serde_json::Value {
        let det = format!("det-{backend}.json");
        run(&[
            "test",
            "--backend",
            backend,
            "--data-dir",
            "data",
            "--checkpoint",
            "run",
            "--which",
            "last",
            "--detections",
            &det,
        ]);
        let text =
            std::fs::read_to_string(dir.join(format!("det-{backend}.metrics.json"))).unwrap();
        serde_json::from_str(&text).unwrap()
    };
    let (gpu, cpu) = (metrics("wgpu"), metrics("flex"));
    let avg = |m: &serde_json::Value| m["average_map"].as_f64().unwrap() * 100.0;
    assert!(
        (avg(&gpu) - avg(&cpu)).abs() <= 0.01,
        "wgpu {} vs flex {}",
        avg(&gpu),
        avg(&cpu)
    );
    let read = |f: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(f)).unwrap()).unwrap()
    };
    let (dg, dc) = (read("det-wgpu.json"), read("det-flex.json"));
    for (id, list) in dc["results"].as_object().unwrap() {
        assert_eq!(
            list.as_array().unwrap().len(),
            dg["results"][id].as_array().unwrap().len(),
            "{id}: detections differ between wgpu and flex"
        );
    }
}

/// `maan experiment regimes` end to end at a tiny size: it trains the chosen models on the
/// chosen regime and on every heat-map cell, and writes the Markdown and JSON reports (the
/// regime with all its parameters, one row per model, the grid of MAAN minus STPN equal to the
/// difference of the two models' scores) and the heat map as PNG and SVG; a bad knob is an
/// error naming it.
#[test]
fn experiment_regimes_writes_tables_and_a_heat_map() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let text = ok(&maan(
        &[
            "experiment",
            "regimes",
            "--regimes",
            "uniform",
            "--aggregators",
            "stpn,maa",
            "--seeds",
            "1",
            "--iterations",
            "3",
            "--dim",
            "4",
            "--dominance",
            "1,4",
            "--specificity",
            "0.5",
            "--out",
            "out",
            "--quiet",
        ],
        dir,
    ));
    assert!(
        text.contains("| STPN |") && text.contains("| MAAN |"),
        "{text}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out/regimes.json")).unwrap())
            .unwrap();
    let regime = &report["regimes"][0];
    assert_eq!(regime["regime"], "uniform");
    assert_eq!(regime["signal"]["model"], "i3d");
    assert_eq!(regime["signal"]["peak"], 0.0);
    assert_eq!(regime["table"]["rows"].as_array().unwrap().len(), 2);
    let grid = &report["grid"];
    assert_eq!(grid["dominance"].as_array().unwrap().len(), 2);
    for j in 0..2 {
        let (m, s, d) = (
            grid["maan"][0][j].as_f64().unwrap(),
            grid["stpn"][0][j].as_f64().unwrap(),
            grid["difference_points"][0][j].as_f64().unwrap(),
        );
        assert!((d - (m - s) * 100.0).abs() < 1e-9, "{m} {s} {d}");
    }
    for f in ["regimes.md", "heatmap.png", "heatmap.svg"] {
        assert!(dir.join("out").join(f).is_file(), "{f} missing");
    }
    assert!(!dir.join("out/data").exists(), "generated data left behind");
    fails(
        &maan(
            &["experiment", "regimes", "--specificity", "2", "--out", "o2"],
            dir,
        ),
        "--specificity",
    );
}

/// `maan experiment ablation` end to end at a tiny size: per regime four rows (the paper, OIC
/// localization, the background class, both), each with one AP vector per seed; the two rows
/// of one training option share their trained models (equal classification mAP per seed) and
/// differ in localization; the Markdown and JSON reports are written and the generated data
/// removed; options that do not apply are errors naming them.
#[test]
fn experiment_ablation_writes_four_rows_per_regime() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let text = ok(&maan(
        &[
            "experiment",
            "ablation",
            "--regimes",
            "uniform",
            "--seeds",
            "2",
            "--iterations",
            "3",
            "--dim",
            "4",
            "--out",
            "out",
            "--quiet",
        ],
        dir,
    ));
    assert!(
        text.contains("| MAAN (paper) |") && text.contains("| + both |"),
        "{text}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out/ablation.json")).unwrap())
            .unwrap();
    let regime = &report["regimes"][0];
    assert_eq!(regime["regime"], "uniform");
    let cells = regime["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 4);
    for c in cells {
        assert_eq!(c["map_per_seed"].as_array().unwrap().len(), 2);
        assert!(
            c["averages"][0][0] == "0.1:0.5",
            "first average is not 0.1:0.5: {c}"
        );
    }
    for (a, b) in [(0, 1), (2, 3)] {
        assert_eq!(
            cells[a]["cls_map_per_seed"], cells[b]["cls_map_per_seed"],
            "rows {a} and {b} should test the same trained models"
        );
        assert_ne!(cells[a]["localization"], cells[b]["localization"]);
    }
    assert_eq!(cells[0]["variant"]["background"], "none");
    assert_eq!(cells[3]["variant"]["background"], "bas");
    assert!(dir.join("out/ablation.md").is_file());
    assert!(!dir.join("out/data").exists(), "generated data left behind");
    fails(
        &maan(
            &[
                "experiment",
                "ablation",
                "--aggregators",
                "stpn",
                "--out",
                "o2",
            ],
            dir,
        ),
        "--aggregators",
    );
}

/// `maan experiment wsol` at tiny sizes (hidden `--tiny`): the Table 4-shaped table on stdout,
/// and wsol.md, wsol.json and the Figure 6 PNG in `--output`; `--backbone-weights` without
/// CUB is refused.
#[test]
fn experiment_wsol_writes_table_json_and_figure() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("wsol");
    let out = maan(
        &[
            "experiment",
            "wsol",
            "--tiny",
            "--quiet",
            "--backend",
            "flex",
            "--output",
            out_dir.to_str().unwrap(),
        ],
        dir.path(),
    );
    let text = ok(&out);
    for row in ["CAM (GAP) 4×4", "weighted-CAM 7×7", "MAAN 4×4", "MAAN 7×7"] {
        assert!(text.contains(&format!("| {row} |")), "{text}");
    }
    assert!(text.contains("Top-1 loc err | Top-5 loc err"), "{text}");
    for f in ["wsol.md", "wsol.json", "wsol.png"] {
        assert!(out_dir.join(f).is_file(), "{f} missing");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("wsol.json")).unwrap()).unwrap();
    assert_eq!(json["rows"].as_array().unwrap().len(), 6);
    let out = maan(
        &[
            "experiment",
            "wsol",
            "--tiny",
            "--backbone-weights",
            "vgg16.safetensors",
        ],
        dir.path(),
    );
    fails(&out, "--backbone-weights needs --data-dir");
    // CUB-200-2011 in the official format (a 3-image fixture), and a broken one.
    let cub = maan_wsol::cub::write_fixture(dir.path()).unwrap();
    let cub_out = dir.path().join("wsol-cub");
    let run_cub = || {
        maan(
            &[
                "experiment",
                "wsol",
                "--tiny",
                "--quiet",
                "--data-dir",
                cub.to_str().unwrap(),
                "--out",
                cub_out.to_str().unwrap(),
            ],
            dir.path(),
        )
    };
    let text = ok(&run_cub());
    assert!(text.contains("CUB-200-2011: 3 images, 2 classes"), "{text}");
    assert!(text.contains("no --backbone-weights"), "{text}");
    assert!(cub_out.join("wsol.png").is_file());
    std::fs::write(cub.join("image_class_labels.txt"), "1 1\n2 x\n3 2\n").unwrap();
    fails(&run_cub(), "image_class_labels.txt:2: class id");
}

/// `--background bas` is saved in the run's config.json, the run tests like any other (a CAS
/// of C columns: `maan test` would reject anything else), `--resume` keeps it and refuses a
/// disagreeing `--background`, and an unknown option is an error.
#[test]
fn background_option_is_saved_tested_and_resumed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    synth(dir);
    let common = [
        "train",
        "--data-dir",
        "data",
        "--batch-size",
        "4",
        "--eval-every",
        "0",
        "--quiet",
        "--streams",
        "rgb",
        "--output",
        "bg",
    ];
    let mut first = common.to_vec();
    first.extend(["--iterations", "4", "--background", "bas"]);
    let out = ok(&maan(&first, dir));
    assert!(out.contains("background bas"), "{out}");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("bg/config.json")).unwrap())
            .unwrap();
    assert_eq!(config["model"]["background"], "bas");
    ok(&maan(
        &[
            "test",
            "--checkpoint",
            "bg",
            "--which",
            "last",
            "--detections",
            "bg.json",
        ],
        dir,
    ));
    let mut conflict = common.to_vec();
    conflict.extend(["--iterations", "6", "--resume", "--background", "none"]);
    fails(&maan(&conflict, dir), "--background");
    let mut resume = common.to_vec();
    resume.extend(["--iterations", "6", "--resume", "--background", "bas"]);
    ok(&maan(&resume, dir));
    let mut unknown = common.to_vec();
    unknown[common.len() - 1] = "other";
    unknown.extend(["--iterations", "2", "--background", "um"]);
    fails(&maan(&unknown, dir), "--background");
}

/// `--erase F` (temporal erasing while training) is saved in the run's config.json and
/// printed, `--resume` keeps it and refuses a disagreeing value, a run's config.json without
/// the field reads as 0 (no erasing), and a fraction outside [0, 1) is an error naming the
/// flag.
#[test]
fn erase_option_is_saved_and_resumed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    synth(dir);
    let common = [
        "train",
        "--data-dir",
        "data",
        "--batch-size",
        "4",
        "--eval-every",
        "0",
        "--quiet",
        "--streams",
        "rgb",
        "--output",
        "er",
    ];
    let mut first = common.to_vec();
    first.extend(["--iterations", "4", "--erase", "0.25"]);
    let out = ok(&maan(&first, dir));
    assert!(out.contains("erasing 0.25 of each sample"), "{out}");
    let path = dir.join("er/config.json");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(config["erase"], 0.25);
    let mut conflict = common.to_vec();
    conflict.extend(["--iterations", "6", "--resume", "--erase", "0.5"]);
    fails(&maan(&conflict, dir), "--erase");
    let mut resume = common.to_vec();
    resume.extend(["--iterations", "6", "--resume"]);
    ok(&maan(&resume, dir));
    // A config.json from before the option: no field, no erasing.
    let mut old: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    old.as_object_mut().unwrap().remove("erase");
    std::fs::write(&path, old.to_string()).unwrap();
    let mut older = common.to_vec();
    older.extend(["--iterations", "7", "--resume", "--erase", "0"]);
    ok(&maan(&older, dir));
    for bad in ["1", "1.5", "x"] {
        let mut args = common.to_vec();
        args[common.len() - 1] = "bad";
        args.extend(["--iterations", "2", "--erase", bad]);
        fails(&maan(&args, dir), "--erase");
    }
}

/// Without flags, `maan train` uses the recommended settings of the benchmark and aggregator:
/// MAAN on ActivityNet-shaped data trains with T = 10 and erasing 0.5 and localizes with the
/// `long` preset (saved in config.json, used and recorded by `maan test`); STPN there keeps
/// the paper's training with the paper's thresholds smoothed over a tenth of the video and
/// soft-NMS; `--paper` gives the paper's procedure (T = 20, no erasing, no saved
/// localization, `maan test` records the `paper` preset); on THUMOS14-shaped data MAAN keeps
/// the paper's training and localizes with `oic`, STPN keeps the paper's procedure; `--paper`
/// with `--resume` is refused.
#[test]
fn recommended_defaults_per_benchmark_and_aggregator_and_paper_restores_the_paper() {
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
    synth(dir);
    let train = |data: &str, run: &str, extra: &[&str]| {
        let mut args = vec![
            "train",
            "--data-dir",
            data,
            "--iterations",
            "4",
            "--batch-size",
            "4",
            "--eval-every",
            "0",
            "--streams",
            "rgb",
            "--output",
            run,
            "--quiet",
        ];
        args.extend(extra);
        let out = ok(&maan(&args, dir));
        let config: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(run).join("config.json")).unwrap(),
        )
        .unwrap();
        (out, config)
    };
    let preset_of_test = |run: &str| {
        ok(&maan(
            &[
                "test",
                "--checkpoint",
                run,
                "--detections",
                &format!("{run}.json"),
            ],
            dir,
        ));
        let m: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("{run}.metrics.json"))).unwrap(),
        )
        .unwrap();
        m["localization_preset"].as_str().unwrap().to_string()
    };
    let (out, maan_cfg) = train("anet", "maan", &["--dataset", "activitynet"]);
    assert!(
        out.contains("recommended recipe") && out.contains("--paper"),
        "{out}"
    );
    assert_eq!(maan_cfg["num_segments"], 10);
    assert_eq!(maan_cfg["erase"], 0.5);
    assert_eq!(maan_cfg["localize"]["relative_smoothing"], 0.1);
    assert_eq!(preset_of_test("maan"), "long");

    let (_, paper_cfg) = train("anet", "paper", &["--dataset", "activitynet", "--paper"]);
    assert_eq!(paper_cfg["num_segments"], 20);
    assert_eq!(paper_cfg["erase"], 0.0);
    assert_eq!(
        paper_cfg["localize"]["relative_smoothing"], 0.0,
        "{paper_cfg}"
    );
    assert_eq!(preset_of_test("paper"), "paper");

    let (_, stpn_cfg) = train(
        "anet",
        "stpn",
        &["--dataset", "activitynet", "--aggregator", "stpn"],
    );
    assert_eq!(stpn_cfg["num_segments"], 20);
    assert_eq!(stpn_cfg["erase"], 0.0);
    assert_eq!(stpn_cfg["localize"]["relative_smoothing"], 0.1);
    assert!(stpn_cfg["localize"]["suppression"]["SoftNms"].is_object());
    assert_eq!(
        stpn_cfg["localize"]["thresholds"]["RelativeToMax"]
            .as_array()
            .unwrap()
            .len(),
        4
    );

    let (out, thumos_cfg) = train("data", "thumos", &[]);
    assert!(out.contains("recommended recipe"), "{out}");
    assert_eq!(thumos_cfg["num_segments"], 20);
    assert_eq!(thumos_cfg["erase"], 0.0);
    assert_eq!(preset_of_test("thumos"), "oic");

    let (out, _) = train("data", "thumos-stpn", &["--aggregator", "stpn"]);
    assert!(!out.contains("recommended recipe"), "{out}");
    assert_eq!(preset_of_test("thumos-stpn"), "paper");

    let resumed = maan(
        &[
            "train",
            "--output",
            "maan",
            "--resume",
            "--paper",
            "--iterations",
            "6",
        ],
        dir,
    );
    assert!(!resumed.status.success());
    assert!(String::from_utf8_lossy(&resumed.stderr).contains("--paper"));
}
