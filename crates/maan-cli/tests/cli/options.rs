//! Model and training options that a run records in its config.json and that `--resume` keeps:
//! `--background`, `--erase`, `--erase-probability` and `--attention-erase`.

use crate::common::{fails, maan, ok, synth};

/// `maan train` on the synthetic `data` (RGB only, batch 4, no evaluation) into run `run`,
/// followed by `extra`.
fn train_args<'a>(run: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
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
        "--run",
        run,
    ];
    args.extend(extra);
    args
}

/// `--background bas` is saved in the run's config.json, the run tests like any other (a CAS
/// of C columns: `maan test` would reject anything else), `--resume` keeps it and refuses a
/// disagreeing `--background`, and an unknown option is an error.
#[test]
fn background_option_is_saved_tested_and_resumed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    synth(dir);
    let out = ok(&maan(
        &train_args("bg", &["--iterations", "4", "--background", "bas"]),
        dir,
    ));
    assert!(out.contains("background bas"), "{out}");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("bg/config.json")).unwrap())
            .unwrap();
    assert_eq!(config["model"]["background"], "bas");
    ok(&maan(
        &[
            "test",
            "--run",
            "bg",
            "--which",
            "last",
            "--detections",
            "bg.json",
        ],
        dir,
    ));
    let conflict = ["--iterations", "6", "--resume", "--background", "none"];
    fails(&maan(&train_args("bg", &conflict), dir), "--background");
    let resume = ["--iterations", "6", "--resume", "--background", "bas"];
    ok(&maan(&train_args("bg", &resume), dir));
    let unknown = ["--iterations", "2", "--background", "um"];
    fails(&maan(&train_args("other", &unknown), dir), "--background");
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
    let first = ["--iterations", "4", "--erase", "0.25"];
    let out = ok(&maan(&train_args("er", &first), dir));
    assert!(out.contains("erasing 0.25 of each sample"), "{out}");
    let path = dir.join("er/config.json");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(config["erase"], 0.25);
    let conflict = ["--iterations", "6", "--resume", "--erase", "0.5"];
    fails(&maan(&train_args("er", &conflict), dir), "--erase");
    ok(&maan(
        &train_args("er", &["--iterations", "6", "--resume"]),
        dir,
    ));
    // A config.json from before the option: no field, no erasing.
    let mut old: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    old.as_object_mut().unwrap().remove("erase");
    std::fs::write(&path, old.to_string()).unwrap();
    let older = ["--iterations", "7", "--resume", "--erase", "0"];
    ok(&maan(&train_args("er", &older), dir));
    for bad in ["1", "1.5", "x"] {
        let args = train_args("bad", &["--iterations", "2", "--erase", bad]);
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
    let erase = ["--erase", "0.5"];
    let first = [
        &erase[..],
        &["--iterations", "4", "--erase-probability", "0.5"],
    ]
    .concat();
    let out = ok(&maan(&train_args("ep", &first), dir));
    assert!(
        out.contains("erasing 0.5 of each sample with probability 0.5"),
        "{out}"
    );
    let path = dir.join("ep/config.json");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(config["erase_probability"], 0.5);
    let again = [
        &erase[..],
        &["--iterations", "6", "--resume", "--erase-probability", "1"],
    ]
    .concat();
    fails(&maan(&train_args("ep", &again), dir), "--erase-probability");
    // A config.json from before the option: no field, every visit erased.
    let mut old = config;
    old.as_object_mut().unwrap().remove("erase_probability");
    std::fs::write(&path, old.to_string()).unwrap();
    ok(&maan(&train_args("ep", &again), dir));
    for bad in ["0", "1.5", "x"] {
        let args = [
            &erase[..],
            &["--iterations", "2", "--erase-probability", bad],
        ]
        .concat();
        fails(&maan(&train_args("bad", &args), dir), "--erase-probability");
    }
}

/// `--attention-erase F` is saved in the run's config.json and printed, `--resume` refuses a
/// disagreeing value, a config.json without the field reads as 0 (no attention-guided
/// erasing), and a fraction outside [0, 1) is an error naming the flag.
#[test]
fn attention_erase_option_is_saved_and_resumed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    synth(dir);
    let out = ok(&maan(
        &train_args("ae", &["--iterations", "4", "--attention-erase", "0.3"]),
        dir,
    ));
    assert!(
        out.contains("erasing the 0.3 the attention rates highest"),
        "{out}"
    );
    let path = dir.join("ae/config.json");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(config["attention_erase"], 0.3);
    let again = ["--iterations", "6", "--resume", "--attention-erase", "0.5"];
    fails(&maan(&train_args("ae", &again), dir), "--attention-erase");
    // A config.json from before the option: no field, nothing erased by the attention.
    let mut old = config;
    old.as_object_mut().unwrap().remove("attention_erase");
    std::fs::write(&path, old.to_string()).unwrap();
    let again = ["--iterations", "6", "--resume", "--attention-erase", "0"];
    ok(&maan(&train_args("ae", &again), dir));
    for bad in ["1", "1.5", "x"] {
        let args = ["--iterations", "2", "--attention-erase", bad];
        fails(&maan(&train_args("bad", &args), dir), "--attention-erase");
    }
}
