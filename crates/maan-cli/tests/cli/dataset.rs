//! `maan inspect` and `maan synth` on tiny fixtures written in the real formats.

use std::fs;
use std::path::Path;
#[cfg(unix)]
use std::process::Output;

use dataset::fixtures::{fixture_features, write_fixture};
use dataset::{Layout, NpyDtype};

use crate::common::{assert_fails, maan_here, text};

/// `maan inspect --data-dir DIR EXTRA...`.
fn inspect(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["inspect", "--data-dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    maan_here(&args)
}

/// A fresh fixture dataset of `layout` (4-dimensional f32 features) in a temporary directory.
fn fixture(layout: Layout) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), layout, 4, NpyDtype::F32).unwrap();
    dir
}

#[test]
fn inspect_good_datasets() {
    for (layout, flag) in [
        (Layout::A, "A"),
        (Layout::B, "B"),
        (Layout::ActivityNet, "activitynet"),
    ] {
        let dir = fixture(layout);
        for extra in [&[][..], &["--layout", flag][..]] {
            let o = inspect(dir.path(), extra);
            let t = text(&o);
            assert!(o.status.success(), "{t}");
            assert!(t.contains("0 errors, 0 warnings"), "{t}");
            assert!(t.contains("rgb 4 dims, flow 4 dims"), "{t}");
            assert!(t.contains("train") && t.contains("test"), "{t}");
        }
    }
    let dir = fixture(Layout::A);
    let t = text(&inspect(dir.path(), &[]));
    assert!(
        t.contains("BaseballPitch") && t.contains("kind thumos14"),
        "{t}"
    );
}

/// A stdout closed before `maan inspect` writes to it (`maan inspect ... | head -0`) ends the
/// program quietly with status 141 (128 + SIGPIPE, as a Unix tool killed by the signal), not
/// with a panic and its backtrace.
#[cfg(unix)]
#[test]
fn closed_stdout_ends_quietly() {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    let dir = fixture(Layout::A);
    let mut child = crate::common::maan_cmd()
        .args(["inspect", "--data-dir", dir.path().to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away before anything is written
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(status.code(), Some(141), "{status:?} {stderr}");
    assert_eq!(status.signal(), None);
}

#[test]
fn inspect_help_shows_defaults() {
    let t = text(&maan_here(&["inspect", "--help"]));
    assert!(
        t.contains("[default: 25;")
            && t.contains("[default: 16;")
            && t.contains("[default: detected;"),
        "{t}"
    );
    let t = text(&maan_here(&["synth", "--help"]));
    assert!(
        t.contains("[default: 256]")
            && t.contains("[default: thumos14]")
            && t.contains("[default: f32]"),
        "{t}"
    );
}

const RGB: &str = "features/train/rgb/video_validation_0000001.npy";
const FLOW: &str = "features/train/flow/video_validation_0000001.npy";
const V1: &str = "video_validation_0000001";

#[test]
fn inspect_missing_feature_file() {
    let dir = fixture(Layout::A);
    fs::remove_file(dir.path().join(FLOW)).unwrap();
    assert_fails(
        &inspect(dir.path(), &[]),
        &["missing feature file", FLOW, V1],
    );
}

#[test]
fn inspect_truncated_and_corrupt() {
    let dir = fixture(Layout::A);
    let p = dir.path().join(RGB);
    let b = fs::read(&p).unwrap();
    fs::write(&p, &b[..b.len() - 7]).unwrap();
    assert_fails(&inspect(dir.path(), &[]), &["truncated", RGB, V1]);
    fs::write(&p, b"not numpy").unwrap();
    assert_fails(&inspect(dir.path(), &[]), &["corrupt", RGB, V1]);
}

#[test]
fn inspect_wrong_dtype_and_rank() {
    let dir = fixture(Layout::A);
    dataset::npy::write_raw(&dir.path().join(RGB), &[30, 4], &[3u8; 120]).unwrap();
    assert_fails(&inspect(dir.path(), &[]), &["unsupported dtype", RGB, V1]);
    dataset::npy::write_raw(&dir.path().join(RGB), &[120], &[0f32; 120]).unwrap();
    assert_fails(&inspect(dir.path(), &[]), &["2-D", RGB, V1]);
}

#[test]
fn inspect_stream_lengths_and_crop_flag() {
    let dir = fixture(Layout::A);
    dataset::write_features(
        &dir.path().join(FLOW),
        &fixture_features(0, 1, 29, 4),
        29,
        4,
        NpyDtype::F32,
    )
    .unwrap();
    assert_fails(
        &inspect(dir.path(), &[]),
        &[
            "rgb has 30 snippets but flow has 29",
            FLOW,
            V1,
            "hint: --crop-to-shorter",
        ],
    );
    let o = inspect(dir.path(), &["--crop-to-shorter"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("0 errors, 1 warnings") && t.contains("cropped to 29"),
        "{t}"
    );
    // What `inspect` accepts, `train` accepts, with the same option; the error of `train`
    // without it carries the same hint.
    let d = dir.path().to_str().unwrap();
    let out = dir.path().join("run");
    let train = |extra: &[&str]| {
        let mut args = vec![
            "train",
            "--data-dir",
            d,
            "--iterations",
            "2",
            "--batch-size",
            "2",
            "--eval-every",
            "0",
            "--quiet",
            "--run",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        maan_here(&args)
    };
    assert_fails(
        &train(&[]),
        &[
            "rgb has 30 snippets but flow has 29",
            "hint: --crop-to-shorter",
        ],
    );
    let o = train(&["--crop-to-shorter"]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn inspect_nan_and_zero_length() {
    let dir = fixture(Layout::A);
    let mut d = fixture_features(0, 0, 30, 4);
    d[9] = f32::NAN;
    dataset::write_features(&dir.path().join(RGB), &d, 30, 4, NpyDtype::F32).unwrap();
    assert_fails(
        &inspect(dir.path(), &[]),
        &["NaN", "snippet 2, column 1", RGB, V1],
    );
    let dir = fixture(Layout::B);
    let p = "test/video_test_0000002.npy";
    dataset::write_features(&dir.path().join(p), &[], 0, 8, NpyDtype::F32).unwrap();
    assert_fails(
        &inspect(dir.path(), &[]),
        &["zero-length", p, "video_test_0000002"],
    );
}

#[test]
fn inspect_annotation_problems() {
    let dir = fixture(Layout::A);
    let gt = dir.path().join("gt.json");
    let orig = fs::read_to_string(&gt).unwrap();
    fs::write(&gt, orig.replacen("\"Billiards\"", "\"Snooker\"", 1)).unwrap();
    assert_fails(
        &inspect(dir.path(), &[]),
        &["Snooker", "gt.json", "video_test_0000003"],
    );
    fs::write(&gt, orig.replacen("\"8\"", "\"1\"", 1)).unwrap();
    assert_fails(
        &inspect(dir.path(), &[]),
        &["ends before it starts", "gt.json", "video_test_0000003"],
    );
    fs::write(&gt, &orig[..orig.len() / 2]).unwrap();
    assert_fails(&inspect(dir.path(), &[]), &["gt.json", "line", "column"]);
    fs::write(&gt, &orig).unwrap();
    let split = dir.path().join("split_train.txt");
    fs::write(
        &split,
        fs::read_to_string(&split).unwrap() + "video_validation_0099999\n",
    )
    .unwrap();
    assert_fails(
        &inspect(dir.path(), &[]),
        &["split_train.txt", "video_validation_0099999"],
    );
}

#[test]
fn inspect_warnings_do_not_fail() {
    let dir = fixture(Layout::B);
    let gt = dir.path().join("gt.json");
    fs::write(
        &gt,
        fs::read_to_string(&gt).unwrap().replacen("8.0", "99.0", 1),
    )
    .unwrap();
    let split = dir.path().join("split_test.txt");
    fs::write(
        &split,
        fs::read_to_string(&split)
            .unwrap()
            .replace("video_test_0000001\n", ""),
    )
    .unwrap();
    let o = inspect(dir.path(), &[]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("0 errors, 2 warnings"), "{t}");
    assert!(
        t.contains("beyond the video") && t.contains("video_test_0000003"),
        "{t}"
    );
    assert!(
        t.contains("no features") && t.contains("video_test_0000001"),
        "{t}"
    );
}

#[test]
fn inspect_bad_directory_and_layout() {
    let dir = tempfile::tempdir().unwrap();
    assert_fails(
        &inspect(dir.path(), &[]),
        &["cannot detect the dataset layout"],
    );
    assert_fails(&inspect(&dir.path().join("missing"), &[]), &["not found"]);
    let o = maan_here(&[
        "inspect",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--layout",
        "C",
    ]);
    assert_fails(&o, &["unknown layout"]);
}

/// `maan synth --out OUT ARGS...` (unlike `common::synth`, which writes the training tests'
/// dataset and asserts success).
fn synth_to(out: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["synth", "--out", out.to_str().unwrap()];
    all.extend_from_slice(args);
    maan_here(&all)
}

#[test]
fn synth_then_inspect() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("th");
    let o = synth_to(&out, &["--dim", "8", "--videos", "3", "--seed", "4"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("3 train, 3 test"), "{t}");
    let o = inspect(&out, &[]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("0 errors, 0 warnings") && t.contains("rgb 8 dims"),
        "{t}"
    );
    let out = dir.path().join("an");
    let o = synth_to(
        &out,
        &[
            "--dataset",
            "activitynet",
            "--dim",
            "4",
            "--videos",
            "9",
            "--dtype",
            "f16",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&inspect(&out, &[]));
    assert!(
        t.contains("kind activitynet13") && t.contains("f16 x 18"),
        "{t}"
    );
    assert_fails(&synth_to(&out, &["--dim", "0"]), &["--dim"]);
    assert_fails(
        &synth_to(&out, &["--noise-correlation", "1"]),
        &["--noise-correlation"],
    );
}

/// `--noise-correlation` reaches the generator: same seed, different background noise.
#[test]
fn synth_noise_correlation_changes_the_features() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, phi: &str| {
        let out = dir.path().join(name);
        let o = synth_to(
            &out,
            &["--dim", "8", "--videos", "2", "--noise-correlation", phi],
        );
        assert!(o.status.success(), "{}", text(&o));
        let rgb = out.join("features/train/rgb");
        let mut files: Vec<_> = std::fs::read_dir(&rgb)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        std::fs::read(&files[0]).unwrap()
    };
    let iid = write("iid", "0");
    let iid_again = write("iid2", "0");
    let smooth = write("smooth", "0.8");
    assert_eq!(iid, iid_again, "the generator is deterministic");
    assert_eq!(iid.len(), smooth.len());
    assert_ne!(iid, smooth, "--noise-correlation had no effect");
}

/// `--scale` reaches the generator and changes only the magnitude: same seed, every rgb
/// feature value at `--scale 2` is twice the value at `--scale 1`; `synth.json` records it;
/// a scale that is not positive, or one given with the legacy regime, is an error naming
/// the flag.
#[test]
fn synth_scale_multiplies_the_features() {
    let dir = tempfile::tempdir().unwrap();
    let values = |name: &str, scale: &str| {
        let out = dir.path().join(name);
        let o = synth_to(&out, &["--dim", "8", "--videos", "2", "--scale", scale]);
        assert!(o.status.success(), "{}", text(&o));
        let json = std::fs::read_to_string(out.join("synth.json")).unwrap();
        assert!(json.contains(&format!("\"scale\": {scale}.0")), "{json}");
        let mut files: Vec<_> = std::fs::read_dir(out.join("features/train/rgb"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files
            .iter()
            .flat_map(|f| dataset::read_features(f, "v").unwrap().data)
            .collect::<Vec<f32>>()
    };
    let one = values("one", "1");
    let two = values("two", "2");
    assert_eq!(one.len(), two.len());
    assert!(
        one.iter().any(|v| *v > 0.1),
        "features are not all near zero"
    );
    for (a, b) in one.iter().zip(&two) {
        assert!((2.0 * a - b).abs() <= 1e-6 * b.abs().max(1.0), "{a} vs {b}");
    }
    let out = dir.path().join("bad");
    assert_fails(&synth_to(&out, &["--scale", "0"]), &["--scale"]);
    assert_fails(
        &synth_to(&out, &["--regime", "legacy", "--scale", "2"]),
        &["--scale"],
    );
}

/// The bytes of every rgb feature file under `dir`, in file-name order.
fn rgb_bytes(dir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<_> = std::fs::read_dir(dir.join("features/train/rgb"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.iter().map(|f| std::fs::read(f).unwrap()).collect()
}

/// `maan synth --config DIR/synth.json` remakes the dataset byte for byte; an edited parameter
/// in the file changes the features; an unknown parameter name, a malformed file and a
/// generation flag given with `--config` are errors that name the problem.
#[test]
fn synth_config_remakes_and_edits_a_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let o = synth_to(&a, &["--dim", "8", "--videos", "2", "--seed", "3"]);
    assert!(o.status.success(), "{}", text(&o));
    let cfg = a.join("synth.json");
    let b = dir.path().join("b");
    let o = synth_to(&b, &["--config", cfg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(rgb_bytes(&a), rgb_bytes(&b), "not remade byte for byte");
    assert_eq!(
        std::fs::read_to_string(&cfg).unwrap(),
        std::fs::read_to_string(b.join("synth.json")).unwrap()
    );

    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cfg).unwrap()).unwrap();
    json["signal"]["context"] = serde_json::json!(0.0);
    let edited = dir.path().join("edited.json");
    std::fs::write(&edited, json.to_string()).unwrap();
    let c = dir.path().join("c");
    let o = synth_to(&c, &["--config", edited.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_ne!(
        rgb_bytes(&a),
        rgb_bytes(&c),
        "the edited parameter had no effect"
    );

    json["signal"]["contxt"] = serde_json::json!(1.0);
    std::fs::write(&edited, json.to_string()).unwrap();
    assert_fails(
        &synth_to(&c, &["--config", edited.to_str().unwrap()]),
        &["edited.json", "contxt"],
    );
    std::fs::write(&edited, "{\"like\": ").unwrap();
    assert_fails(
        &synth_to(&c, &["--config", edited.to_str().unwrap()]),
        &["edited.json", "not a synthetic-data configuration"],
    );
    assert_fails(
        &synth_to(&c, &["--config", cfg.to_str().unwrap(), "--dim", "4"]),
        &["--dim"],
    );
}
