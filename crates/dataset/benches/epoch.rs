//! Time to load and batch one THUMOS14-sized epoch of the default synthetic data.
//!
//! `cargo bench -p dataset --bench epoch`. Generates the default THUMOS14-like dataset (dim 256,
//! f32, 410 videos) into a temporary directory first (or uses `$MAAN_BENCH_DATA` if set).

use std::path::PathBuf;
use std::time::Instant;

use burn::backend::NdArray;
use criterion::{criterion_group, criterion_main, Criterion};
use dataset::synth::{generate, SynthConfig};
use dataset::{train_loader, video_batch, LoadOptions, WtalDataset};

type B = NdArray;

fn bench(c: &mut Criterion) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir: PathBuf = match std::env::var_os("MAAN_BENCH_DATA") {
        Some(d) => d.into(),
        None => {
            let t = Instant::now();
            let s = generate(tmp.path(), &SynthConfig::default()).expect("generate");
            eprintln!(
                "generated {} + {} videos, {} snippets/stream, {:.1} MB in {:.2} s",
                s.videos.0,
                s.videos.1,
                s.snippets,
                s.bytes as f64 / 1e6,
                t.elapsed().as_secs_f64()
            );
            tmp.path().into()
        }
    };
    let opts = LoadOptions::default();
    let mut g = c.benchmark_group("thumos14_synthetic_dim256");
    g.sample_size(10);
    g.bench_function("load_all_410_videos", |b| {
        b.iter(|| WtalDataset::load(&dir, &opts).expect("load"))
    });
    let ds = WtalDataset::load(&dir, &opts).expect("load");
    let device = Default::default();
    for workers in [0usize, 2] {
        let loader = train_loader::<B>(ds.train.clone(), 20, 16, 0, workers);
        g.bench_function(
            format!("train_epoch_200_videos_T20_B16_workers{workers}"),
            |b| {
                b.iter(|| {
                    loader
                        .iter()
                        .map(|batch| batch.rgb.dims()[0])
                        .sum::<usize>()
                })
            },
        );
    }
    g.bench_function("test_epoch_210_whole_videos", |b| {
        b.iter(|| {
            ds.test
                .iter()
                .map(|v| video_batch::<B>(v, &device).rgb.dims()[1])
                .sum::<usize>()
        })
    });
    g.bench_function("load_then_train_epoch", |b| {
        b.iter(|| {
            let ds = WtalDataset::load(&dir, &opts).expect("load");
            let loader = train_loader::<B>(ds.train.clone(), 20, 16, 0, 0);
            loader.iter().count()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
