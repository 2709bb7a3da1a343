//! The GPU backends: wgpu end to end against flex, a clean error without an NVIDIA driver, and
//! a backend not in the build: rebuilt through cargo when `maan` was started by cargo, a clean
//! error otherwise.

#[cfg(any(unix, feature = "cuda"))]
use crate::common::fails;
#[cfg(all(feature = "wgpu", feature = "flex"))]
use crate::common::{ok, synth};
#[cfg(feature = "cuda")]
use std::path::Path;

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
    let out = crate::common::maan_cmd()
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
        let out = crate::common::maan_cmd()
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
        "--run",
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
            "--run",
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

/// A backend this test binary's `maan` was built without (`None` when it has all four).
#[cfg(unix)]
fn missing_backend() -> Option<&'static str> {
    [
        ("cuda", cfg!(feature = "cuda")),
        ("wgpu", cfg!(feature = "wgpu")),
        ("ndarray", cfg!(feature = "ndarray")),
    ]
    .into_iter()
    .find(|(_, built)| !built)
    .map(|(name, _)| name)
}

/// Asked for a backend it was built without, `maan` started by cargo (`CARGO`,
/// `CARGO_MANIFEST_DIR`, `CARGO_PKG_NAME` set) hands the same command to `cargo run
/// --manifest-path <maan-cli>/Cargo.toml --bin maan --features <backend> -- <arguments>` (with
/// `--release` exactly when built in release), with `MAAN_REBUILT_FOR` set, says so first,
/// and ends with cargo's exit status. Cargo is a script here that records its arguments and
/// exits with 7.
#[cfg(unix)]
#[test]
fn missing_backend_under_cargo_is_built_and_the_command_run_again() {
    use std::os::unix::fs::PermissionsExt;
    let Some(backend) = missing_backend() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let record = tmp.path().join("args.txt");
    let cargo = tmp.path().join("cargo");
    std::fs::write(
        &cargo,
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$RECORD\"\nprintf 'rebuilt-for=%s\\n' \"$MAAN_REBUILT_FOR\" >> \"$RECORD\"\nexit 7\n",
    )
    .unwrap();
    std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
    let manifest_dir = env!("CARGO_MANIFEST_DIR");
    let args = ["train", "--backend", backend, "--iterations", "1"];
    let out = crate::common::maan_cmd()
        .args(args)
        .current_dir(tmp.path())
        .env("HOME", tmp.path())
        .env("CARGO", &cargo)
        .env("CARGO_MANIFEST_DIR", manifest_dir)
        .env("CARGO_PKG_NAME", "maan-cli")
        .env("RECORD", &record)
        .env_remove("MAAN_REBUILT_FOR")
        .env_remove("MAAN_NO_REBUILD")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{stderr}");
    assert!(
        stderr.contains(&format!("backend {backend} is not in this build")),
        "{stderr}"
    );
    let recorded = std::fs::read_to_string(&record).unwrap();
    let recorded: Vec<&str> = recorded.lines().collect();
    let manifest = format!("{manifest_dir}/Cargo.toml");
    let mut expected = vec!["run"];
    if !cfg!(debug_assertions) {
        expected.push("--release");
    }
    expected.extend(["--manifest-path", &manifest, "--bin", "maan"]);
    let at = recorded.iter().position(|a| *a == "--features").unwrap();
    assert_eq!(recorded[..at], expected[..], "{recorded:?}");
    assert!(
        recorded[at + 1].split(',').any(|f| f == backend),
        "{recorded:?}"
    );
    assert_eq!(recorded[at + 2], "--");
    assert_eq!(recorded[at + 3..at + 3 + args.len()], args[..]);
    assert_eq!(
        recorded[at + 3 + args.len()..],
        [format!("rebuilt-for={backend}").as_str()]
    );
}

/// Without cargo's variables, with `MAAN_NO_REBUILD=1`, or when already rebuilt, a backend not
/// in the build is a plain error naming the cargo feature, and cargo is not started.
#[cfg(unix)]
#[test]
fn missing_backend_without_cargo_is_an_error_naming_the_feature() {
    use std::os::unix::fs::PermissionsExt;
    let Some(backend) = missing_backend() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let record = tmp.path().join("ran.txt");
    let cargo = tmp.path().join("cargo");
    std::fs::write(&cargo, "#!/bin/sh\ntouch \"$RECORD\"\nexit 7\n").unwrap();
    std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cases: [(&str, Option<(&str, &str)>); 3] = [
        ("not started by cargo", None),
        ("turned off", Some(("MAAN_NO_REBUILD", "1"))),
        ("already rebuilt", Some(("MAAN_REBUILT_FOR", backend))),
    ];
    for (what, var) in cases {
        let mut cmd = crate::common::maan_cmd();
        cmd.args(["train", "--backend", backend, "--iterations", "1"])
            .current_dir(tmp.path())
            .env("HOME", tmp.path())
            .env("RECORD", &record)
            .env_remove("MAAN_REBUILT_FOR")
            .env_remove("MAAN_NO_REBUILD");
        match var {
            None => {
                cmd.env_remove("CARGO").env_remove("CARGO_MANIFEST_DIR");
            }
            Some((k, v)) => {
                cmd.env("CARGO", &cargo)
                    .env("CARGO_MANIFEST_DIR", env!("CARGO_MANIFEST_DIR"))
                    .env("CARGO_PKG_NAME", "maan-cli")
                    .env(k, v);
            }
        }
        let out = cmd.output().unwrap();
        fails(&out, &format!("rebuild with `--features {backend}`"));
        assert!(!record.exists(), "{what}: cargo was started");
    }
}
