//! `maan extract` end to end on tiny synthetic H.264 clips made in process, with narrow
//! randomly initialised networks (the hidden test options `--width-div`, `--crop`,
//! `--light-flow`): output shapes, resuming, sharding, layout B, and the errors.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

/// Options that make the run small: width/8 networks with random weights, 112×112 crops, a
/// light TV-L1.
const SMALL: &[&str] = &["--width-div", "8", "--crop", "112", "--light-flow"];

/// Runs `maan extract SMALL ARGS...` (in the test process's current directory).
fn maan_extract(args: &[&str]) -> Output {
    crate::common::maan_cmd()
        .arg("extract")
        .args(SMALL)
        .args(args)
        .output()
        .expect("the maan binary runs")
}

/// Stderr, as text.
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts that `maan extract` succeeded and returns its stderr alone (unlike `common::ok`,
/// which returns stdout and stderr and takes the output by reference).
fn ok_stderr(o: Output) -> String {
    let err = stderr(&o);
    assert!(o.status.success(), "maan extract failed:\n{err}");
    err
}

/// A 64×48 clip of `n` frames at 25 fps: a bright square moving right.
fn clip(path: &Path, n: usize) {
    let (w, h) = (64, 48);
    let frames: Vec<video::Frame> = (0..n)
        .map(|i| {
            let mut data = vec![40u8; 3 * w * h];
            let x0 = (2 + i) % (w - 10);
            for y in 16..26 {
                for x in x0..x0 + 10 {
                    data[3 * (y * w + x)..][..3].copy_from_slice(&[220, 210, 200]);
                }
            }
            video::Frame::new(w, h, data)
        })
        .collect();
    video::write_h264_mp4(path, &frames, 25).unwrap();
}

/// Every file under `dir` (relative path → bytes), temporary files included.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

/// The `(rows, columns)` of the feature file at `path`.
fn shape(path: &Path) -> (usize, usize) {
    let a = dataset::read_features(path, "v").unwrap();
    (a.rows, a.cols)
}

/// `p` as `&str`.
fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn extract_writes_resumes_and_shards() {
    let tmp = tempfile::tempdir().unwrap();
    let videos = tmp.path().join("videos");
    std::fs::create_dir(&videos).unwrap();
    clip(&videos.join("alpha.mp4"), 32); // 2 chunks
    clip(&videos.join("beta.mp4"), 48); // 3 chunks
    std::fs::write(videos.join("readme.txt"), "not a video").unwrap(); // not listed

    let full = tmp.path().join("full");
    ok_stderr(maan_extract(&["--videos", s(&videos), "--out", s(&full)]));
    let written = files(&full);
    let names: Vec<_> = written
        .keys()
        .map(|p| p.to_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "flow/alpha.npy",
            "flow/beta.npy",
            "rgb/alpha.npy",
            "rgb/beta.npy"
        ]
    );
    assert_eq!(shape(&full.join("rgb/alpha.npy")), (2, 128));
    assert_eq!(shape(&full.join("flow/alpha.npy")), (2, 128));
    assert_eq!(shape(&full.join("rgb/beta.npy")), (3, 128));
    assert_eq!(shape(&full.join("flow/beta.npy")), (3, 128));

    // A second run skips both videos and leaves the files as they were.
    let err = ok_stderr(maan_extract(&["--videos", s(&videos), "--out", s(&full)]));
    assert!(err.contains("2 videos already extracted"), "{err}");
    assert_eq!(files(&full), written);

    // Two shards give exactly the files of the full run (seeded random weights: the same
    // bytes too).
    let sharded = tmp.path().join("sharded");
    for k in ["0/2", "1/2"] {
        let err = ok_stderr(maan_extract(&[
            "--videos",
            s(&videos),
            "--out",
            s(&sharded),
            "--shard",
            k,
        ]));
        assert!(err.contains(&format!("shard {k}: 1 of 2 videos")), "{err}");
    }
    assert_eq!(files(&sharded), written);

    // Layout B: one [T, 2 D] file, rgb then flow columns.
    let b = tmp.path().join("b");
    let alpha = videos.join("alpha.mp4");
    ok_stderr(maan_extract(&[
        "--videos",
        s(&alpha),
        "--out",
        s(&b),
        "--layout",
        "b",
    ]));
    let both = dataset::read_features(&b.join("alpha.npy"), "alpha").unwrap();
    let rgb = dataset::read_features(&full.join("rgb/alpha.npy"), "alpha").unwrap();
    let flow = dataset::read_features(&full.join("flow/alpha.npy"), "alpha").unwrap();
    assert_eq!((both.rows, both.cols), (2, 256));
    for t in 0..2 {
        assert_eq!(
            &both.data[t * 256..t * 256 + 128],
            &rgb.data[t * 128..(t + 1) * 128]
        );
        assert_eq!(
            &both.data[t * 256 + 128..(t + 1) * 256],
            &flow.data[t * 128..(t + 1) * 128]
        );
    }
}

#[test]
fn extract_errors_name_the_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let no_panic = |o: &Output| {
        let err = stderr(o);
        assert!(!o.status.success(), "expected a failure:\n{err}");
        assert!(
            !err.contains("panicked") && !err.contains("backtrace"),
            "{err}"
        );
        err
    };

    // A file that is not a video.
    let text = tmp.path().join("notes.mp4");
    std::fs::write(&text, "not a video").unwrap();
    let err = no_panic(&maan_extract(&["--videos", s(&text), "--out", s(&out)]));
    assert!(
        err.contains("notes.mp4") && err.contains("1 of 1 videos failed"),
        "{err}"
    );

    // A clip shorter than one chunk.
    let short = tmp.path().join("short.mp4");
    clip(&short, 10);
    let err = no_panic(&maan_extract(&["--videos", s(&short), "--out", s(&out)]));
    assert!(
        err.contains("short.mp4") && err.contains("shorter than one chunk"),
        "{err}"
    );
    assert!(!out.join("rgb/short.npy").exists());

    // A missing checkpoint; no weights without the test option.
    let missing = tmp.path().join("rgb_imagenet.pt");
    let err = no_panic(&maan_extract(&[
        "--videos",
        s(&short),
        "--out",
        s(&out),
        "--weights-rgb",
        s(&missing),
        "--weights-flow",
        s(&missing),
    ]));
    assert!(err.contains("rgb_imagenet.pt: missing checkpoint"), "{err}");
    let o = crate::common::maan_cmd()
        .args(["extract", "--videos", s(&short), "--out", s(&out)])
        .output()
        .unwrap();
    let err = no_panic(&o);
    assert!(
        err.contains("--weights-rgb and --weights-flow are required"),
        "{err}"
    );

    // A checkpoint of the wrong stream: the RGB network refuses flow weights (the i3d crate's
    // width/8 flow fixture).
    let flow_ckpt =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../i3d/fixtures/i3d_flow_div8.safetensors");
    let err = no_panic(&maan_extract(&[
        "--videos",
        s(&short),
        "--out",
        s(&out),
        "--weights-rgb",
        s(&flow_ckpt),
        "--weights-flow",
        s(&flow_ckpt),
    ]));
    assert!(
        err.contains("i3d_flow_div8.safetensors") && err.contains("wrong stream"),
        "{err}"
    );
}

/// The box `kind` (e.g. `b"mdhd"`) of an MP4 written by `clip`: where its header starts
/// (searched after the moov box, which `write_h264_mp4` writes after the media data).
fn box_at(data: &[u8], kind: &[u8; 4]) -> usize {
    let moov = data.windows(4).rposition(|w| w == b"moov").unwrap();
    moov + data[moov..].windows(4).position(|w| w == kind).unwrap() - 4
}

fn set32(d: &mut [u8], at: usize, v: u32) {
    d[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

/// A `PATH` whose first folder (`dir/bin`) holds a stand-in `ffmpeg` that answers `-version`
/// and otherwise sleeps for ten minutes: a decoder that hangs.
#[cfg(unix)]
fn hanging_ffmpeg_path(dir: &Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("bin");
    std::fs::create_dir(&bin).unwrap();
    let ffmpeg = bin.join("ffmpeg");
    std::fs::write(
        &ffmpeg,
        "#!/bin/sh\nif [ \"$1\" = -version ]; then exit 0; fi\nexec sleep 600\n",
    )
    .unwrap();
    std::fs::set_permissions(&ffmpeg, std::fs::Permissions::from_mode(0o755)).unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// `maan extract` on a folder whose damaged files sort before its one good clip (the
/// damaged files of issue 37 that crashed, aborted or hung, an empty and a truncated file,
/// and a file for an ffmpeg that hangs): the good clip is extracted, every bad file is listed
/// at the end with its error (`6 of 7 videos failed:`), the exit status is non-zero, nothing
/// panics, and the hanging decoder is given up on at `--decode-timeout` (a stand-in `ffmpeg`
/// on the command's `PATH` that sleeps; the command returns without waiting for it).
#[cfg(unix)]
#[test]
fn extract_goes_on_past_damaged_files_and_lists_them() {
    let tmp = tempfile::tempdir().unwrap();
    let videos = tmp.path().join("videos");
    std::fs::create_dir(&videos).unwrap();
    let good = videos.join("zz_good.mp4");
    clip(&good, 32);
    let data = std::fs::read(&good).unwrap();
    let damaged = |name: &str, edit: &dyn Fn(&mut Vec<u8>)| {
        let mut d = data.clone();
        edit(&mut d);
        std::fs::write(videos.join(name), d).unwrap();
    };
    damaged("a_empty.mp4", &|d| d.clear());
    damaged("b_stsz.mp4", &|d| {
        // A uniform sample size with a count of 4.29e9.
        let at = box_at(d, b"stsz");
        set32(d, at + 12, 1000);
        set32(d, at + 16, u32::MAX);
    });
    damaged("c_stts.mp4", &|d| {
        // The first time-to-sample entry's delta: 0x7FFFFFFF.
        let at = box_at(d, b"stts");
        set32(d, at + 20, 0x7fff_ffff);
    });
    damaged("d_timescale.mp4", &|d| {
        let at = box_at(d, b"mdhd");
        let fields = if d[at + 8] == 1 { 16 } else { 8 };
        set32(d, at + 12 + fields, 0);
    });
    damaged("e_truncated.mp4", &|d| d.truncate(d.len() / 2));
    std::fs::write(videos.join("f_hangs.mkv"), "not a video: goes to ffmpeg").unwrap();

    let path = hanging_ffmpeg_path(tmp.path());

    let out = tmp.path().join("out");
    let o = crate::common::maan_cmd()
        .arg("extract")
        .args(SMALL)
        .args([
            "--videos",
            s(&videos),
            "--out",
            s(&out),
            "--decode-timeout",
            "2",
        ])
        .env("PATH", path)
        .output()
        .unwrap();
    let err = stderr(&o);
    assert!(!o.status.success(), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
    assert_eq!(shape(&out.join("rgb/zz_good.npy")), (2, 128), "{err}");
    assert_eq!(shape(&out.join("flow/zz_good.npy")), (2, 128), "{err}");
    let summary = err
        .split("6 of 7 videos failed:")
        .nth(1)
        .unwrap_or_else(|| panic!("no summary:\n{err}"));
    for line in [
        "a_empty.mp4: damaged video file: the file is empty",
        "b_stsz.mp4: damaged video file: the sample size table (stsz) declares 4294967295 samples",
        "c_stts.mp4: damaged video file: its 32 samples span",
        "d_timescale.mp4: damaged video file: the media header (mdhd) declares a timescale of 0",
        "e_truncated.mp4: damaged video file: ",
        "f_hangs.mkv: decoding took longer than the time limit of 2 s",
    ] {
        assert!(summary.contains(line), "{line:?} not in:\n{summary}");
    }
    assert!(!summary.contains("zz_good"), "{summary}");
}

/// `maan predict --video` chains the extraction and the prediction: on a clip it writes the
/// same detections as `maan extract` followed by `maan predict --features`, keeps the
/// extracted features (a second run extracts nothing), and with `--plot` writes each video's
/// CAS and draws the CAS of its top class.
#[test]
fn predict_video_equals_extract_then_predict_and_plots() {
    use crate::common::{maan, ok};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // A 3-snippet clip, and a run on features as wide as the small networks' (128 per stream).
    clip(&dir.join("alpha.mp4"), 48);
    ok(&maan(
        &["synth", "--out", "data", "--videos", "8", "--dim", "128"],
        dir,
    ));
    ok(&maan(
        &[
            "train",
            "--data-dir",
            "data",
            "--iterations",
            "4",
            "--batch-size",
            "4",
            "--eval-every",
            "0",
            "--run",
            "run",
            "--quiet",
        ],
        dir,
    ));
    let mut from_video = vec![
        "predict",
        "--run",
        "run",
        "--video",
        "alpha.mp4",
        "--detections",
        "video.json",
        "--plot",
        "plots",
    ];
    from_video.extend(SMALL);
    ok(&maan(&from_video, dir));
    assert_eq!(shape(&dir.join("video.features/rgb/alpha.npy")), (3, 128));
    assert_eq!(shape(&dir.join("video.features/flow/alpha.npy")), (3, 128));
    assert!(dir.join("plots/cas/alpha.npy").is_file());
    let plots: Vec<String> = std::fs::read_dir(dir.join("plots/plots"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        plots
            .iter()
            .any(|p| p.starts_with("alpha_") && p.ends_with(".png")),
        "{plots:?}"
    );
    // Again: the features are there, nothing is extracted.
    let again = ok(&maan(&from_video, dir));
    assert!(again.contains("already extracted"), "{again}");

    ok_stderr(maan_extract(&[
        "--videos",
        s(&dir.join("alpha.mp4")),
        "--out",
        s(&dir.join("features")),
    ]));
    ok(&maan(
        &[
            "predict",
            "--run",
            "run",
            "--features",
            "features",
            "--detections",
            "features.json",
        ],
        dir,
    ));
    let read = |f: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(f)).unwrap()).unwrap()
    };
    let (a, b) = (read("video.json"), read("features.json"));
    assert!(
        a["results"]["alpha"]
            .as_array()
            .is_some_and(|l| !l.is_empty()),
        "{a}"
    );
    assert_eq!(a["results"], b["results"]);

    // --video needs the checkpoints (or the test option) and excludes --features.
    let err = maan(
        &[
            "predict",
            "--run",
            "run",
            "--video",
            "alpha.mp4",
            "--detections",
            "x.json",
        ],
        dir,
    );
    crate::common::fails(&err, "--weights-rgb and --weights-flow are required");
    let err = maan(
        &[
            "predict",
            "--run",
            "run",
            "--video",
            "alpha.mp4",
            "--features",
            "features",
            "--detections",
            "x.json",
        ],
        dir,
    );
    crate::common::fails(&err, "--features");

    // --decode-timeout reaches the extraction: a file for an ffmpeg that hangs (a stand-in on
    // the command's PATH) fails at the limit, naming the file, and the command returns.
    #[cfg(unix)]
    {
        std::fs::write(dir.join("hangs.mkv"), "not a video: goes to ffmpeg").unwrap();
        let path = hanging_ffmpeg_path(dir);
        let mut args = vec![
            "predict",
            "--run",
            "run",
            "--video",
            "hangs.mkv",
            "--detections",
            "hangs.json",
            "--decode-timeout",
            "1",
        ];
        args.extend(SMALL);
        let o = crate::common::maan_cmd()
            .args(&args)
            .current_dir(dir)
            .env("PATH", path)
            .output()
            .unwrap();
        let err = stderr(&o);
        assert!(!o.status.success(), "{err}");
        assert!(
            err.contains("hangs.mkv: decoding took longer than the time limit of 1 s"),
            "{err}"
        );
    }
}

/// `maan bench extract --seconds 2` (narrow random networks, small crops, light TV-L1) writes
/// a 2 s synthetic H.264 clip of 50 frames at 320×240 that the built-in decoder reads back,
/// and reports one row per backend whose numbers agree: 3 chunks of 16 frames (50 frames make
/// 3 whole chunks), every time positive, frames/s = frames / seconds; `--json` holds the
/// setup and the same row.
#[cfg(feature = "flex")]
#[test]
fn bench_extract_writes_its_clip_and_a_consistent_report() {
    let tmp = tempfile::tempdir().unwrap();
    let clip = tmp.path().join("clip.mp4");
    let json = tmp.path().join("bench.json");
    let out = crate::common::maan_cmd()
        .args(["bench", "extract", "--seconds", "2", "--width-div", "8"])
        .args(["--crop", "112", "--light-flow", "--clip"])
        .arg(&clip)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    let text = crate::common::ok(&out);
    let settings = video::FrameSettings {
        fps: 25,
        short_side: 0,
    };
    let (frames, info) = video::read_frames(&clip, &settings).unwrap();
    assert_eq!(frames.len(), 50);
    assert_eq!(info.source_size, (320, 240));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["benchmark"], "extract");
    assert_eq!(report["video"], clip.display().to_string());
    let rows = report["results"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row["backend"], "flex");
    assert_eq!(row["chunks"], 3);
    assert_eq!(row["frames"], 48);
    let f = |k: &str| row[k].as_f64().unwrap_or_else(|| panic!("{k} in {row}"));
    assert_eq!(row["flow_on_device"], false);
    for k in [
        "whole_s",
        "whole_warm_s",
        "whole_sequential_s",
        "decode_s",
        "tvl1_s",
        "i3d_rgb_s",
        "i3d_flow_s",
    ] {
        assert!(f(k) > 0.0, "{k} in {row}");
    }
    assert!((f("whole_fps") - 48.0 / f("whole_s")).abs() < 1e-9 * f("whole_fps"));
    assert!((f("whole_warm_fps") - 48.0 / f("whole_warm_s")).abs() < 1e-9 * f("whole_warm_fps"));
    assert!(text.contains("48 frames (3 chunks)"), "{text}");
}

/// `maan extract --backend wgpu` (the CI's lavapipe: the TV-L1 flow computed on the device by
/// `i3d::gpu::GpuFlow`, handed to the flow network there) writes the features of `maan extract
/// --backend flex` (the flow on the CPU) within 1e-3 relative, on a 3-chunk clip with the
/// width / 8 parity-fixture networks and the light TV-L1; `maan bench extract --backend wgpu`
/// says its flow ran on the device. (Named for CI's `wgpu_end_to_end` filter.)
#[cfg(all(feature = "wgpu", feature = "flex"))]
#[test]
fn wgpu_end_to_end_extract_matches_flex() {
    let tmp = tempfile::tempdir().unwrap();
    let video = tmp.path().join("clip.mp4");
    clip(&video, 48);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../i3d/fixtures");
    let (rgb_w, flow_w) = (
        fixtures.join("i3d_rgb_div8.pt"),
        fixtures.join("i3d_flow_div8.safetensors"),
    );
    let weights = ["--weights-rgb", s(&rgb_w), "--weights-flow", s(&flow_w)];
    let cache = tmp.path().join("kernels");
    let extract = |backend: &str| {
        let out = tmp.path().join(backend);
        let o = crate::common::maan_cmd()
            .arg("extract")
            .args(SMALL)
            .args(weights)
            .args([
                "--backend",
                backend,
                "--videos",
                s(&video),
                "--out",
                s(&out),
            ])
            .env("MAAN_KERNEL_CACHE", &cache)
            .output()
            .unwrap();
        ok_stderr(o);
        out
    };
    let (gpu, cpu) = (extract("wgpu"), extract("flex"));
    for stream in ["rgb", "flow"] {
        let read = |dir: &Path| dataset::read_features(&dir.join(stream).join("clip.npy"), "clip");
        let (g, c) = (read(&gpu).unwrap(), read(&cpu).unwrap());
        assert_eq!((g.rows, g.cols), (3, 128), "{stream}");
        assert_eq!((c.rows, c.cols), (3, 128), "{stream}");
        let worst = g
            .data
            .iter()
            .zip(&c.data)
            .fold(0.0f32, |m, (a, b)| m.max((a - b).abs() / (1.0 + b.abs())));
        assert!(
            worst <= 1e-3,
            "{stream}: worst relative difference {worst:e}"
        );
        assert!(c.data.iter().any(|v| *v > 1e-3), "{stream}: all but zero");
    }
    let json = tmp.path().join("bench.json");
    let o = crate::common::maan_cmd()
        .args(["bench", "extract", "--backend", "wgpu", "--seconds", "1"])
        .args(SMALL)
        .arg("--clip")
        .arg(tmp.path().join("bench.mp4"))
        .arg("--json")
        .arg(&json)
        .env("MAAN_KERNEL_CACHE", &cache)
        .output()
        .unwrap();
    crate::common::ok(&o);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["results"][0]["backend"], "wgpu");
    assert_eq!(report["results"][0]["flow_on_device"], true);
}
