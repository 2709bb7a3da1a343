//! The GPU backends: wgpu end to end against flex, and a clean error without an NVIDIA driver.

#[cfg(feature = "cuda")]
use std::path::Path;
#[cfg(any(feature = "cuda", all(feature = "wgpu", feature = "flex")))]
use std::process::Command;

#[cfg(feature = "cuda")]
use crate::common::fails;
#[cfg(all(feature = "wgpu", feature = "flex"))]
use crate::common::{ok, synth};

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

/// End to end on wgpu (lavapipe in CI: `cargo test -p maan-cli --features wgpu --test
/// cli wgpu_end_to_end`): `maan train --backend wgpu` trains a few iterations and evaluates with the
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
