//! Time to load and batch one THUMOS14-sized epoch of the default synthetic data, through the
//! path training uses ([`dataset::Sampler`]).
//!
//! `cargo bench -p dataset --bench epoch`. Generates the default THUMOS14-like dataset (dim 256,
//! f32, 410 videos) into a temporary directory first (or uses `$MAAN_BENCH_DATA` if set).

use std::path::PathBuf;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};
use dataset::synth::{generate, SynthConfig};
use dataset::{HostBatch, LoadOptions, Sampler, TrainItem, WtalDataset};

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
    // One epoch of 200 training videos at batch 16 is 13 iterations (the last one spills into
    // the next epoch, as in training).
    let sampler = Sampler::new(ds.train.clone(), 16, 20, 0);
    let iterations = ds.train.len().div_ceil(16);
    g.bench_function("train_epoch_200_videos_T20_B16", |b| {
        b.iter(|| {
            (0..iterations)
                .map(|it| sampler.batch(it).batch)
                .sum::<usize>()
        })
    });
    g.bench_function("test_epoch_210_whole_videos", |b| {
        b.iter(|| {
            ds.test
                .iter()
                .map(|v| HostBatch::stack(&[TrainItem::whole(v)]).time)
                .sum::<usize>()
        })
    });
    g.bench_function("load_then_train_epoch", |b| {
        b.iter(|| {
            let ds = WtalDataset::load(&dir, &opts).expect("load");
            let sampler = Sampler::new(ds.train.clone(), 16, 20, 0);
            (0..iterations)
                .map(|it| sampler.batch(it).batch)
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
