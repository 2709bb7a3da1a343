//! Model and training options that a run records in its config.json and that `--resume` keeps:
//! `--background` and `--erase`.

use crate::common::{fails, maan, ok, synth};

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

/// `--erase-probability P` is saved in the run's config.json and printed, `--resume` refuses
/// a disagreeing value, a config.json without the field reads as 1 (every visit erased), and
/// a probability outside (0, 1] is an error naming the flag.
#[test]
fn erase_probability_option_is_saved_and_resumed() {
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
        "--erase",
        "0.5",
        "--output",
        "ep",
    ];
    let mut first = common.to_vec();
    first.extend(["--iterations", "4", "--erase-probability", "0.5"]);
    let out = ok(&maan(&first, dir));
    assert!(
        out.contains("erasing 0.5 of each sample with probability 0.5"),
        "{out}"
    );
    let path = dir.join("ep/config.json");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(config["erase_probability"], 0.5);
    let mut conflict = common.to_vec();
    conflict.extend(["--iterations", "6", "--resume", "--erase-probability", "1"]);
    fails(&maan(&conflict, dir), "--erase-probability");
    // A config.json from before the option: no field, every visit erased.
    let mut old = config;
    old.as_object_mut().unwrap().remove("erase_probability");
    std::fs::write(&path, old.to_string()).unwrap();
    let mut older = common.to_vec();
    older.extend(["--iterations", "6", "--resume", "--erase-probability", "1"]);
    ok(&maan(&older, dir));
    for bad in ["0", "1.5", "x"] {
        let mut args = common.to_vec();
        args[common.len() - 1] = "bad";
        args.extend(["--iterations", "2", "--erase-probability", bad]);
        fails(&maan(&args, dir), "--erase-probability");
    }
}
