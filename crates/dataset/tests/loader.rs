//! Loaders on fixtures written in the real formats, and every validation case.

use std::fs;
use std::path::Path;

use dataset::fixtures::{fixture_features, fixture_videos, write_fixture};
use dataset::{
    inspect, Benchmark, DatasetError, Layout, LoadOptions, NpyDtype, Severity, WtalDataset,
};

fn load(dir: &Path) -> Result<WtalDataset, DatasetError> {
    WtalDataset::load(dir, &LoadOptions::default())
}

fn fixture(layout: Layout, dtype: NpyDtype) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), layout, 4, dtype).unwrap();
    dir
}

fn check_round_trip(ds: &WtalDataset, layout: Layout) {
    let videos = fixture_videos(layout);
    let all: Vec<_> = ds.train.iter().chain(&ds.test).collect();
    assert_eq!(all.len(), videos.len());
    for (i, fv) in videos.iter().enumerate() {
        let v = all
            .iter()
            .find(|v| v.id == fv.id)
            .unwrap_or_else(|| panic!("{} not loaded", fv.id));
        assert_eq!(v.len, fv.len);
        assert_eq!((v.rgb_dim, v.flow_dim), (4, 4));
        assert_eq!(
            &v.rgb[..],
            &fixture_features(i, 0, fv.len, 4)[..],
            "rgb of {}",
            fv.id
        );
        assert_eq!(
            &v.flow.as_ref().unwrap()[..],
            &fixture_features(i, 1, fv.len, 4)[..]
        );
        assert_eq!(v.segments.len(), fv.segments.len());
        for (s, (l, a, b)) in v.segments.iter().zip(&fv.segments) {
            assert_eq!((&s.label, s.start, s.end), (l, *a, *b));
        }
        assert!((v.duration - fv.len as f64 * 0.64).abs() < 1e-9);
        let expect: Vec<usize> = {
            let mut l: Vec<usize> = fv
                .segments
                .iter()
                .map(|(l, _, _)| ds.classes.index_of(l).unwrap())
                .collect();
            l.sort();
            l.dedup();
            l
        };
        assert_eq!(v.labels, expect);
        assert_eq!(v.num_classes, ds.classes.len());
    }
}

#[test]
fn layout_a_all_dtypes() {
    for dtype in [NpyDtype::F32, NpyDtype::F64, NpyDtype::F16] {
        let dir = fixture(Layout::A, dtype);
        let ds = load(dir.path()).unwrap();
        assert_eq!(ds.layout, Layout::A);
        assert_eq!(ds.kind, Benchmark::Thumos14);
        assert_eq!(ds.classes.len(), 20);
        assert_eq!((ds.train.len(), ds.test.len()), (4, 3));
        assert!(ds.warnings.is_empty(), "{:?}", ds.warnings);
        check_round_trip(&ds, Layout::A);
    }
}

#[test]
fn multi_label_video() {
    let dir = fixture(Layout::A, NpyDtype::F32);
    let ds = load(dir.path()).unwrap();
    let v = ds
        .train
        .iter()
        .find(|v| v.id == "video_validation_0000002")
        .unwrap();
    assert_eq!(v.labels, vec![4, 7]); // CliffDiving, Diving
    let lv = v.label_vector();
    assert_eq!(lv.iter().sum::<f32>(), 2.0);
}

#[test]
fn layout_b_all_dtypes() {
    for dtype in [NpyDtype::F32, NpyDtype::F64, NpyDtype::F16] {
        let dir = fixture(Layout::B, dtype);
        let ds = load(dir.path()).unwrap();
        assert_eq!(ds.layout, Layout::B);
        assert_eq!(ds.ground_truth.version.as_deref(), Some("TH14"));
        check_round_trip(&ds, Layout::B);
    }
}

#[test]
fn layout_given_explicitly() {
    let dir = fixture(Layout::B, NpyDtype::F32);
    let opts = LoadOptions {
        layout: Some(Layout::B),
        ..Default::default()
    };
    assert!(WtalDataset::load(dir.path(), &opts).is_ok());
    let opts = LoadOptions {
        layout: Some(Layout::A),
        ..Default::default()
    };
    let err = WtalDataset::load(dir.path(), &opts)
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing feature file"), "{err}");
}

#[test]
fn activitynet_official_json() {
    let dir = fixture(Layout::ActivityNet, NpyDtype::F32);
    let ds = load(dir.path()).unwrap();
    assert_eq!(ds.layout, Layout::ActivityNet);
    assert_eq!(ds.kind, Benchmark::ActivityNet13);
    assert_eq!(ds.classes.len(), 200);
    assert_eq!((ds.train.len(), ds.test.len()), (3, 2));
    // Ids stay the annotation keys (no `v_`), features come from `v_<id>.npy`.
    assert!(ds.train.iter().all(|v| !v.id.starts_with("v_")));
    check_round_trip(&ds, Layout::ActivityNet);
    assert_eq!(ds.ground_truth.subset("testing").videos.len(), 1);
    assert_eq!(ds.test_ground_truth().videos.len(), 2);
}

#[test]
fn activitynet_acm_layout() {
    // ACM-Net's ActivityNet13: layout B, subsets train/val with durations, v_ ids, split files.
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path(), Layout::ActivityNet, 4, NpyDtype::F32).unwrap();
    let p = dir.path().join(dataset::ACTIVITYNET_JSON);
    let text = fs::read_to_string(&p).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let db = json["database"].as_object().unwrap().clone();
    let mut out = serde_json::Map::new();
    let (mut tr, mut te) = (Vec::new(), Vec::new());
    for (id, mut v) in db {
        let subset = match v["subset"].as_str().unwrap() {
            "training" => "train",
            "validation" => "val",
            _ => continue,
        };
        v["subset"] = subset.into();
        if subset == "train" {
            tr.push(format!("v_{id}"))
        } else {
            te.push(format!("v_{id}"))
        }
        out.insert(format!("v_{id}"), v);
    }
    json["database"] = out.into();
    fs::remove_file(&p).unwrap();
    fs::write(
        dir.path().join("gt.json"),
        serde_json::to_string(&json).unwrap(),
    )
    .unwrap();
    fs::write(dir.path().join("split_train.txt"), tr.join("\n")).unwrap();
    fs::write(dir.path().join("split_test.txt"), te.join("\n")).unwrap();
    let ds = load(dir.path()).unwrap();
    assert_eq!(ds.layout, Layout::B);
    assert_eq!(ds.kind, Benchmark::ActivityNet13);
    assert_eq!((ds.train.len(), ds.test.len()), (3, 2));
    assert!(ds.train.iter().all(|v| v.id.starts_with("v_")));
}

/// Loads, expects an error mentioning every needle, and checks `inspect` reports it too.
fn expect_error(dir: &Path, needles: &[&str]) {
    let err = load(dir).unwrap_err().to_string();
    for n in needles {
        assert!(err.contains(n), "error {err:?} does not mention {n:?}");
    }
    let report = inspect(dir, &LoadOptions::default());
    assert!(report.has_errors());
    assert!(report.dataset.is_none());
    let all: String = report
        .problems
        .iter()
        .map(|p| p.to_string() + "\n")
        .collect();
    for n in needles {
        assert!(all.contains(n), "inspect {all:?} does not mention {n:?}");
    }
}

const RGB: &str = "features/train/rgb/video_validation_0000001.npy";
const FLOW: &str = "features/train/flow/video_validation_0000001.npy";
const V1: &str = "video_validation_0000001";

#[test]
fn missing_feature_file() {
    let dir = fixture(Layout::A, NpyDtype::F32);
    fs::remove_file(dir.path().join(FLOW)).unwrap();
    expect_error(dir.path(), &["missing feature file", FLOW, V1]);
}

#[test]
fn truncated_npy() {
    let dir = fixture(Layout::A, NpyDtype::F32);
    let p = dir.path().join(RGB);
    let bytes = fs::read(&p).unwrap();
    fs::write(&p, &bytes[..bytes.len() - 10]).unwrap();
    expect_error(dir.path(), &["truncated", RGB, V1]);
}

#[test]
fn corrupt_npy() {
    let dir = fixture(Layout::A, NpyDtype::F32);
    fs::write(dir.path().join(RGB), b"\x93NUMPY garbage").unwrap();
    expect_error(dir.path(), &["corrupt", RGB, V1]);
}

#[test]
fn wrong_dtype() {
    let dir = fixture(Layout::A, NpyDtype::F32);
    dataset::npy::write_raw(&dir.path().join(RGB), &[30, 4], &[1i64; 120]).unwrap();
    expect_error(dir.path(), &["unsupported dtype", "<i8", RGB, V1]);
}

#[test]
fn wrong_rank() {
    let dir = fixture(Layout::A, NpyDtype::F32);
    dataset::npy::write_raw(&dir.path().join(RGB), &[30, 2, 2], &[1f32; 120]).unwrap();
    expect_error(dir.path(), &["2-D", RGB, V1]);
}

#[test]
fn wrong_dimension_in_one_video() {
    let dir = fixture(Layout::A, NpyDtype::F32);
    let p = "features/test/rgb/video_test_0000003.npy";
    dataset::write_features(
        &dir.path().join(p),
        &vec![0.5; 26 * 6],
        26,
        6,
        NpyDtype::F32,
    )
    .unwrap();
    expect_error(dir.path(), &["feature dimensions", p, "video_test_0000003"]);
}

#[test]
fn stream_length_mismatch_and_crop() {
    let dir = fixture(Layout::A, NpyDtype::F32);
    dataset::write_features(
        &dir.path().join(FLOW),
        &fixture_features(0, 1, 28, 4),
        28,
        4,
        NpyDtype::F32,
    )
    .unwrap();
    expect_error(
        dir.path(),
        &["rgb has 30 snippets but flow has 28", FLOW, V1],
    );
    let opts = LoadOptions {
        crop_to_shorter: true,
        ..Default::default()
    };
    let ds = WtalDataset::load(dir.path(), &opts).unwrap();
    let v = ds.train.iter().find(|v| v.id == V1).unwrap();
    assert_eq!(v.len, 28);
    assert_eq!(&v.rgb[..], &fixture_features(0, 0, 28, 4)[..]);
    assert_eq!(ds.warnings.len(), 1);
    assert!(ds.warnings[0].message.contains("cropped to 28"));
}

#[test]
fn nan_and_inf() {
    for (bad, name) in [
        (f32::NAN, "NaN"),
        (f32::INFINITY, "inf"),
        (f32::NEG_INFINITY, "-inf"),
    ] {
        let dir = fixture(Layout::A, NpyDtype::F32);
        let mut data = fixture_features(0, 0, 30, 4);
        data[4 * 7 + 2] = bad;
        dataset::write_features(&dir.path().join(RGB), &data, 30, 4, NpyDtype::F32).unwrap();
        expect_error(
            dir.path(),
            &["non-finite value", name, "snippet 7, column 2", RGB, V1],
        );
    }
    // In f64 and f16 files too.
    let dir = fixture(Layout::B, NpyDtype::F64);
    let p = dir.path().join("test/video_test_0000001.npy");
    let mut data = vec![0.5f32; 22 * 8];
    data[8 * 3 + 5] = f32::NAN;
    dataset::write_features(&p, &data, 22, 8, NpyDtype::F64).unwrap();
    expect_error(
        dir.path(),
        &["NaN", "test/video_test_0000001.npy", "video_test_0000001"],
    );
}

#[test]
fn zero_length_video() {
    let dir = fixture(Layout::A, NpyDtype::F32);
    dataset::write_features(&dir.path().join(RGB), &[], 0, 4, NpyDtype::F32).unwrap();
    dataset::write_features(&dir.path().join(FLOW), &[], 0, 4, NpyDtype::F32).unwrap();
    expect_error(dir.path(), &["zero-length video", RGB, V1]);
}

#[test]
fn split_video_not_annotated() {
    let dir = fixture(Layout::A, NpyDtype::F32);
    let p = dir.path().join("split_test.txt");
    let text = fs::read_to_string(&p).unwrap() + "video_test_0009999\n";
    fs::write(&p, text).unwrap();
    expect_error(
        dir.path(),
        &[
            "split_test.txt",
            "video_test_0009999",
            "not in the annotations",
        ],
    );
}

#[test]
fn annotated_without_features_is_a_warning() {
    let dir = fixture(Layout::A, NpyDtype::F32);
    let p = dir.path().join("split_test.txt");
    let text = fs::read_to_string(&p)
        .unwrap()
        .replace("video_test_0000003\n", "");
    fs::write(&p, text).unwrap();
    let ds = load(dir.path()).unwrap();
    assert_eq!(ds.test.len(), 2);
    assert_eq!(ds.warnings.len(), 1);
    let w = &ds.warnings[0];
    assert_eq!(w.severity, Severity::Warning);
    assert!(
        w.message.contains("video_test_0000003") && w.message.contains("gt.json"),
        "{w}"
    );
    let report = inspect(dir.path(), &LoadOptions::default());
    assert!(!report.has_errors());
    assert_eq!(report.num_warnings(), 1);
}

#[test]
fn activitynet_annotated_without_features_is_a_warning() {
    let dir = fixture(Layout::ActivityNet, NpyDtype::F32);
    fs::remove_file(dir.path().join("train/v_ccccccccccc.npy")).unwrap();
    let ds = load(dir.path()).unwrap();
    assert_eq!(ds.train.len(), 2);
    assert_eq!(ds.warnings.len(), 1);
    assert!(ds.warnings[0].message.contains("ccccccccccc"));
}

fn edit_gt(dir: &Path, from: &str, to: &str) {
    let p = dir.join("gt.json");
    let text = fs::read_to_string(&p).unwrap();
    assert!(text.contains(from), "{from} not in gt.json");
    fs::write(&p, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn unknown_label() {
    let dir = fixture(Layout::A, NpyDtype::F32);
    edit_gt(dir.path(), "\"Billiards\"", "\"Snooker\"");
    expect_error(
        dir.path(),
        &[
            "label \"Snooker\" is not in the class list",
            "gt.json",
            "video_test_0000003",
        ],
    );
}

#[test]
fn segment_end_before_start() {
    let dir = fixture(Layout::A, NpyDtype::F32);
    edit_gt(dir.path(), "\"8\"", "\"1\""); // Billiards [4, 8] -> [4, 1]
    expect_error(
        dir.path(),
        &["ends before it starts", "gt.json", "video_test_0000003"],
    );
}

#[test]
fn segment_beyond_video_is_clipped_with_warning() {
    let dir = fixture(Layout::B, NpyDtype::F32);
    // video_test_0000003 lasts 26 * 0.64 = 16.64 s.
    edit_gt(dir.path(), "8.0", "20.0");
    let ds = load(dir.path()).unwrap();
    let v = ds
        .test
        .iter()
        .find(|v| v.id == "video_test_0000003")
        .unwrap();
    assert!((v.segments[0].end - 16.64).abs() < 1e-9);
    assert_eq!(ds.warnings.len(), 1);
    assert!(
        ds.warnings[0].message.contains("beyond the video")
            && ds.warnings[0].message.contains("video_test_0000003")
    );
    // The raw ground truth is unchanged; the test ground truth is clipped.
    assert_eq!(
        ds.ground_truth.videos["video_test_0000003"].segments[0].end,
        20.0
    );
    assert!(
        (ds.test_ground_truth().videos["video_test_0000003"].segments[0].end - 16.64).abs() < 1e-9
    );
}

#[test]
fn invalid_json_has_line_and_column() {
    let dir = fixture(Layout::A, NpyDtype::F32);
    let p = dir.path().join("gt.json");
    let text = fs::read_to_string(&p).unwrap();
    fs::write(&p, text.replacen("\"subset\":", "\"subset\" ", 1)).unwrap();
    expect_error(dir.path(), &["gt.json", "invalid JSON at line", "column"]);
}

#[test]
fn unknown_layout() {
    let dir = tempfile::tempdir().unwrap();
    let err = load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("cannot detect the dataset layout"), "{err}");
    let err = load(&dir.path().join("nope")).unwrap_err().to_string();
    assert!(err.contains("not found"), "{err}");
}

#[test]
fn several_errors_are_counted() {
    let dir = fixture(Layout::A, NpyDtype::F32);
    fs::remove_file(dir.path().join(RGB)).unwrap();
    fs::remove_file(dir.path().join("features/test/flow/video_test_0000002.npy")).unwrap();
    let err = load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("and 1 more errors"), "{err}");
    assert_eq!(inspect(dir.path(), &LoadOptions::default()).num_errors(), 2);
}

#[test]
fn duration_derived_from_features_when_absent() {
    let dir = fixture(Layout::A, NpyDtype::F32);
    let ds = load(dir.path()).unwrap();
    assert!(ds
        .ground_truth
        .videos
        .values()
        .all(|v| v.duration.is_none()));
    let v = &ds.test[0];
    assert!((v.duration - v.len as f64 * 0.64).abs() < 1e-9);
    let opts = LoadOptions {
        timing: dataset::SnippetTiming {
            frames_per_snippet: 16.0,
            fps: 10.0,
        },
        ..Default::default()
    };
    let ds = WtalDataset::load(dir.path(), &opts).unwrap();
    assert!((ds.test[0].duration - ds.test[0].len as f64 * 1.6).abs() < 1e-9);
}

#[test]
fn inspect_summary() {
    let dir = fixture(Layout::A, NpyDtype::F16);
    let r = inspect(dir.path(), &LoadOptions::default());
    assert!(!r.has_errors(), "{:?}", r.problems);
    assert_eq!(r.videos, (4, 3));
    assert_eq!(r.listed, (4, 3));
    assert_eq!(r.dims, (4, 4));
    assert_eq!(r.dtypes.get("f16"), Some(&14));
    assert_eq!(r.instances[0], (2, 1)); // BaseballPitch
    let s = r.snippets[0].unwrap();
    assert_eq!((s.count, s.min, s.max, s.total), (4, 3, 30, 78));
}
