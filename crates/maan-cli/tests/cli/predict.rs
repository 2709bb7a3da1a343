//! A run directory on its own: `maan test`, `maan train --resume` and `maan predict` without
//! `--data-dir`.

use crate::common::{assert_same_detections, fails, last_iteration, maan, ok, synth};

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
            "--run",
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
        &["test", "--run", "run", "--detections", "test.json"],
        dir,
    ));
    ok(&maan(
        &[
            "train",
            "--resume",
            "--run",
            "run",
            "--iterations",
            "24",
            "--quiet",
        ],
        dir,
    ));
    assert_eq!(last_iteration(&dir.join("run")), 24);
    ok(&maan(
        &["test", "--run", "run", "--detections", "test.json"],
        dir,
    ));
    // Layout A's per-stream files of the test videos.
    let text = ok(&maan(
        &[
            "predict",
            "--run",
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
            "--run",
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
                "--run",
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
                "--run",
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
                "--run",
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
        &maan(&["test", "--run", "run", "--detections", "t2.json"], dir),
        "pass --data-dir",
    );
    ok(&maan(
        &[
            "test",
            "--run",
            "run",
            "--data-dir",
            "moved",
            "--detections",
            "t2.json",
        ],
        dir,
    ));
}
