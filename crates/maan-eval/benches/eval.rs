//! Detection mAP of 100,000 synthetic detections against the THUMOS14 test ground truth.
//!
//! `cargo bench -p maan-eval --bench eval`; results in `crates/maan-eval/BENCHMARKS.md`.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use maan_eval::eval::thumos14_tiou_thresholds;
use maan_eval::localize::{try_localize_signals, LocalizeConfig, VideoSignals};
use maan_eval::{detection_map, DetectionFile, GroundTruth};

#[path = "common/synth.rs"]
mod synth;

fn gt_test() -> GroundTruth {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/thumos14/gt.json");
    GroundTruth::from_path(&path)
        .expect("data/thumos14/gt.json")
        .subset("test")
}

fn bench_eval(c: &mut Criterion) {
    let gt = gt_test();
    let det = synth::synthetic_detections(&gt, 100_000, 7);
    let json = det.to_json_string().unwrap();
    let t = thumos14_tiou_thresholds();
    let mut g = c.benchmark_group("thumos14_test_100k");
    g.sample_size(20);
    g.bench_function("detection_map", |b| {
        b.iter(|| detection_map(&gt, &det, &t).unwrap())
    });
    g.bench_function("parse_json_and_detection_map", |b| {
        b.iter(|| {
            let d = DetectionFile::from_json_str(&json, "bench").unwrap();
            detection_map(&gt, &d, &t).unwrap()
        })
    });
    g.finish();
}

fn bench_localize(c: &mut Criterion) {
    // One THUMOS14-sized video: 750 snippets x 20 classes, every class kept.
    let (t, k) = (750, 20);
    let cas: Vec<f32> = (0..t * k)
        .map(|i| (((i * 7919) % 1000) as f32 / 1000.0).powi(3))
        .collect();
    let scores = vec![0.5f32; k];
    let signals = VideoSignals {
        cas: &cas,
        attention: None,
        num_snippets: t,
        num_classes: k,
        video_scores: &scores,
        seconds_per_snippet: 0.64,
    };
    let mut g = c.benchmark_group("localize_750x20");
    g.bench_function("thumos14", |b| {
        b.iter(|| try_localize_signals(&signals, &LocalizeConfig::thumos14()).unwrap())
    });
    g.bench_function("activitynet_preset", |b| {
        b.iter(|| try_localize_signals(&signals, &LocalizeConfig::activitynet()).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench_eval, bench_localize);
criterion_main!(benches);
