//! `maan train` end to end on the tiny synthetic dataset: the train / test / eval round trip,
//! bad input, reproducing a run from its config.json, where the built-in dataset goes, and the
//! recommended defaults per benchmark and aggregator.

#[cfg(feature = "cuda")]
use std::path::Path;

use crate::common::{assert_runs_detect_alike, fails, maan, ok, synth};

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
            "--run",
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
            "--run",
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
            "--run",
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
fn bad_input_is_an_error_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fails(
        &maan(&["train", "--data-dir", "missing", "--run", "r"], dir),
        "missing",
    );
    fails(
        &maan(
            &[
                "test",
                "--data-dir",
                "missing",
                "--run",
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
            &["train", "--data-dir", "data", "--run", "r", "--resume"],
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
                "--run",
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
                    "--run",
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
                "--run",
                "r",
            ],
            dir,
        ),
        "--features wgpu",
    );
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
            "--run",
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
            "--run",
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
            "--run",
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
                "--run",
                "a",
            ],
            dir,
        ),
        "--config starts a new run",
    );
    std::fs::write(dir.join("bad.json"), "{\"iterations\": ").unwrap();
    fails(
        &maan(&["train", "--config", "bad.json", "--run", "d"], dir),
        "bad.json: not a maan training configuration",
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
    let out = crate::common::maan_cmd()
        .args([
            "train",
            "--iterations",
            "1",
            "--eval-every",
            "0",
            "--streams",
            "rgb",
            "--run",
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

/// Without flags, `maan train` uses the recommended settings of the benchmark and aggregator:
/// MAAN on ActivityNet-shaped data trains with batch 32, T = 12, attention erasing 0.25 (no
/// random block) and the background class (`--background none` still overrides it, keeping
/// the rest) and localizes with the
/// `long` preset (saved in config.json, used and recorded by `maan test`); STPN there keeps
/// the paper's training but with batch 32 and localizes with `long` too; `--paper` gives the
/// paper's procedure (batch 16, T = 20, no erasing of either kind, no background class, no saved
/// localization, `maan test` records the `paper` preset); on THUMOS14-shaped data MAAN and
/// STPN keep the paper's training and localize with `oic`, Norm keeps the paper's procedure;
/// `--paper` with `--resume` is refused.
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
    // Trains 4 iterations into `run` with the defaults but `extra`: the output and config.json.
    let train_default_batch = |data: &str, run: &str, extra: &[&str]| {
        let mut args = vec![
            "train",
            "--data-dir",
            data,
            "--iterations",
            "4",
            "--eval-every",
            "0",
            "--streams",
            "rgb",
            "--run",
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
    // The same with batches of 4 (fast).
    let train = |data: &str, run: &str, extra: &[&str]| {
        train_default_batch(data, run, &[&["--batch-size", "4"], extra].concat())
    };
    let preset_of_test = |run: &str| {
        ok(&maan(
            &["test", "--run", run, "--detections", &format!("{run}.json")],
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
    assert_eq!(maan_cfg["num_segments"], 12);
    assert_eq!(maan_cfg["erase"], 0.0);
    assert_eq!(maan_cfg["attention_erase"], 0.25);
    assert_eq!(maan_cfg["model"]["background"], "bas");
    assert_eq!(maan_cfg["localize"]["relative_smoothing"], 0.1);
    assert_eq!(preset_of_test("maan"), "long");

    let (_, paper_cfg) = train("anet", "paper", &["--dataset", "activitynet", "--paper"]);
    assert_eq!(paper_cfg["num_segments"], 20);
    assert_eq!(paper_cfg["erase"], 0.0);
    assert_eq!(paper_cfg["attention_erase"], 0.0);
    assert_eq!(paper_cfg["model"]["background"], "none");
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
    assert_eq!(stpn_cfg["attention_erase"], 0.0);
    assert_eq!(stpn_cfg["localize"], maan_cfg["localize"]);
    assert_eq!(stpn_cfg["model"]["background"], "none");
    assert_eq!(preset_of_test("stpn"), "long");

    // A flag overrides one setting of the recipe and keeps the rest.
    let (_, nobg_cfg) = train(
        "anet",
        "maan-nobg",
        &["--dataset", "activitynet", "--background", "none"],
    );
    assert_eq!(nobg_cfg["model"]["background"], "none");
    assert_eq!(nobg_cfg["attention_erase"], 0.25);

    let (out, thumos_cfg) = train("data", "thumos", &[]);
    assert!(out.contains("recommended recipe"), "{out}");
    assert_eq!(thumos_cfg["num_segments"], 20);
    assert_eq!(thumos_cfg["erase"], 0.0);
    assert_eq!(thumos_cfg["attention_erase"], 0.0);
    assert_eq!(preset_of_test("thumos"), "oic");

    let (out, _) = train("data", "thumos-stpn", &["--aggregator", "stpn"]);
    assert!(out.contains("recommended recipe"), "{out}");
    assert_eq!(preset_of_test("thumos-stpn"), "oic");

    let (out, _) = train("data", "thumos-norm", &["--aggregator", "norm"]);
    assert!(!out.contains("recommended recipe"), "{out}");
    assert_eq!(preset_of_test("thumos-norm"), "paper");

    // The batch size (the runs above all pass --batch-size 4).
    let batch_of = |data: &str, run: &str, extra: &[&str]| {
        train_default_batch(data, run, extra).1["batch_size"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(
        batch_of("anet", "b-maan", &["--dataset", "activitynet"]),
        32
    );
    let stpn = ["--dataset", "activitynet", "--aggregator", "stpn"];
    assert_eq!(batch_of("anet", "b-stpn", &stpn), 32);
    let paper = ["--dataset", "activitynet", "--paper"];
    assert_eq!(batch_of("anet", "b-paper", &paper), 16);
    assert_eq!(batch_of("data", "b-thumos", &[]), 16);

    let resumed = maan(
        &[
            "train",
            "--run",
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

/// The older names of `--run` (`--output` on `train`, `--checkpoint` on `test`), hidden from
/// the help, still work; and `maan plot` draws Figure 5 from a tested run into its `plots/`
/// (under the run's lock, which it takes and releases).
#[test]
fn hidden_run_aliases_still_work_and_plot_draws_into_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    synth(dir);
    ok(&maan(
        &[
            "train",
            "--data-dir",
            "data",
            "--iterations",
            "2",
            "--eval-every",
            "0",
            "--streams",
            "rgb",
            "--quiet",
            "--output",
            "a",
        ],
        dir,
    ));
    assert!(dir.join("a/config.json").is_file());
    ok(&maan(
        &[
            "test",
            "--checkpoint",
            "a",
            "--which",
            "last",
            "--detections",
            "a/detections.json",
            "--cas-dir",
            "a/cas",
        ],
        dir,
    ));
    let video = std::fs::read_dir(dir.join("a/cas"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|n| n.ends_with(".npy") && !n.ends_with(".attention.npy"))
        .unwrap()
        .trim_end_matches(".npy")
        .to_string();
    let out = ok(&maan(
        &[
            "plot",
            "--run",
            "a",
            "--video",
            &video,
            "--data-dir",
            "data",
        ],
        dir,
    ));
    let pngs: Vec<_> = std::fs::read_dir(dir.join("a/plots"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    assert_eq!(pngs.len(), 1, "{out}");
    assert!(out.contains(&pngs[0].file_name().unwrap().to_string_lossy().to_string()));
}
