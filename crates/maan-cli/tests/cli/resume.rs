//! Interrupted and continued runs: `--resume` to the same end, SIGKILL at any moment, Ctrl-C,
//! and the lock that keeps a second process off a run directory.

#[cfg(unix)]
use std::process::Command;

use crate::common::{assert_runs_detect_alike, maan, ok, synth};
#[cfg(unix)]
use crate::common::{fails, last_iteration};

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
    let mut a = vec!["train", "--iterations", "12", "--run", "a"];
    a.extend(common);
    ok(&maan(&a, dir));
    let mut b = vec!["train", "--iterations", "5", "--run", "b"];
    b.extend(common);
    ok(&maan(&b, dir));
    let mut b2 = vec!["train", "--iterations", "12", "--run", "b", "--resume"];
    b2.extend(common);
    ok(&maan(&b2, dir));
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("b/last/state.json")).unwrap())
            .unwrap();
    assert_eq!(state["iteration"], 12);
    // Same weights: identical detections.
    assert_runs_detect_alike(dir, "a", "b", true);
}

/// One writer per run directory, across processes: while one `maan train --run run` is
/// training, a second `maan train --run run` and a `maan train --run run --resume` both
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
        "--run",
        "run",
    ];
    let mut first = crate::common::maan_cmd()
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
    let resume = ["train", "--run", "run", "--resume", "--quiet"];
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
            "--run",
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
/// `maan train --resume --run RUN` continues with the run's own settings (no --iterations:
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
    a.extend(["--run", "a"]);
    ok(&maan(&a, dir));
    fresh.extend(["--run", "b"]);
    let resume = [
        "train",
        "--data-dir",
        "data",
        "--run",
        "b",
        "--resume",
        "--quiet",
    ];
    let spawn = |args: &[&str]| {
        crate::common::maan_cmd()
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

/// Ctrl-C (SIGINT) saves the last checkpoint and exits cleanly; `--resume` continues it.
#[cfg(unix)]
#[test]
fn ctrl_c_saves_and_resume_continues() {
    use std::time::{Duration, Instant};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    synth(dir);
    let child = crate::common::maan_cmd()
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
            "--run",
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
            "--run",
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
