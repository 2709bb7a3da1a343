//! A tiny in-memory WTAL problem for tests, examples and benchmarks (no files).
//!
//! Each class `c` has a random prototype `μ_c` per stream. Background snippets are standard
//! normal noise; snippets inside an action instance of class `c` are `amplitude · μ_c` plus
//! the same noise. A video holds one to two instances (of one class, sometimes two), so its
//! labels are the classes of its instances and the ground truth is exact.

use std::path::PathBuf;
use std::sync::Arc;

use dataset::{Benchmark, Layout, SnippetTiming, Video, WtalDataset};
use maan_eval::annotations::{ClassList, GroundTruth, GtSegment, GtVideo};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};

/// Shape of a toy problem.
#[derive(Debug, Clone, PartialEq)]
pub struct ToyConfig {
    /// Feature dimension `D` of each stream.
    pub dim: usize,
    /// Number of classes `C`.
    pub num_classes: usize,
    /// Training videos.
    pub train_videos: usize,
    /// Test videos.
    pub test_videos: usize,
    /// Shortest and longest video, in snippets.
    pub len_range: (usize, usize),
    /// Scale of the class prototype inside an action.
    pub amplitude: f32,
    /// Whether videos have flow features.
    pub with_flow: bool,
    /// Seed.
    pub seed: u64,
}

impl Default for ToyConfig {
    fn default() -> Self {
        ToyConfig {
            dim: 32,
            num_classes: 4,
            train_videos: 40,
            test_videos: 20,
            len_range: (30, 60),
            amplitude: 1.5,
            with_flow: true,
            seed: 1,
        }
    }
}

/// Builds the toy dataset (THUMOS14-like: test split `test`, 0.64 s per snippet).
pub fn toy_dataset(cfg: &ToyConfig) -> WtalDataset {
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let normal = Normal::new(0.0f32, 1.0).expect("valid normal");
    let protos = |rng: &mut StdRng| -> Vec<Vec<f32>> {
        (0..cfg.num_classes)
            .map(|_| {
                let v: Vec<f32> = (0..cfg.dim).map(|_| normal.sample(rng)).collect();
                let n = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
                v.iter().map(|x| x / n * (cfg.dim as f32).sqrt()).collect()
            })
            .collect()
    };
    let rgb_protos = protos(&mut rng);
    let flow_protos = protos(&mut rng);
    let names: Vec<String> = (0..cfg.num_classes).map(|c| format!("Class{c}")).collect();
    let timing = SnippetTiming::default();
    let sps = timing.seconds_per_snippet();
    let mut gt = GroundTruth::default();
    let mut make = |prefix: &str, n: usize, subset: &str, rng: &mut StdRng| -> Vec<Arc<Video>> {
        (0..n)
            .map(|i| {
                let len = rng.random_range(cfg.len_range.0..=cfg.len_range.1);
                let mut class_of = vec![usize::MAX; len];
                let mut segments = Vec::new();
                let mut labels = Vec::new();
                let first = rng.random_range(0..cfg.num_classes);
                let instances = rng.random_range(1..=2usize);
                for k in 0..instances {
                    let class = if k == 1 && rng.random_bool(0.3) {
                        rng.random_range(0..cfg.num_classes)
                    } else {
                        first
                    };
                    // Instance k lives in the k-th half of the video (no overlap).
                    let (lo, hi) = (k * len / instances, (k + 1) * len / instances);
                    let span = hi - lo;
                    let l = rng.random_range(span / 4..=span * 3 / 4).max(2);
                    let s = lo + rng.random_range(0..=span - l);
                    class_of[s..s + l].iter_mut().for_each(|c| *c = class);
                    segments.push(GtSegment {
                        label: names[class].clone(),
                        start: s as f64 * sps,
                        end: (s + l) as f64 * sps,
                    });
                    if !labels.contains(&class) {
                        labels.push(class);
                    }
                }
                labels.sort_unstable();
                let feats = |protos: &[Vec<f32>], rng: &mut StdRng| -> Arc<[f32]> {
                    let mut v = Vec::with_capacity(len * cfg.dim);
                    for &c in &class_of {
                        for d in 0..cfg.dim {
                            let base = if c == usize::MAX {
                                0.0
                            } else {
                                cfg.amplitude * protos[c][d]
                            };
                            v.push(base + normal.sample(rng));
                        }
                    }
                    v.into()
                };
                let rgb = feats(&rgb_protos, rng);
                let flow = cfg.with_flow.then(|| feats(&flow_protos, rng));
                let id = format!("{prefix}_{i:04}");
                gt.videos.insert(
                    id.clone(),
                    GtVideo {
                        subset: subset.into(),
                        duration: Some(len as f64 * sps),
                        segments: segments.clone(),
                    },
                );
                Arc::new(Video {
                    id,
                    len,
                    rgb,
                    flow,
                    rgb_dim: cfg.dim,
                    flow_dim: if cfg.with_flow { cfg.dim } else { 0 },
                    labels,
                    segments,
                    duration: len as f64 * sps,
                    num_classes: cfg.num_classes,
                })
            })
            .collect()
    };
    let train = make("video_validation", cfg.train_videos, "validation", &mut rng);
    let test = make("video_test", cfg.test_videos, "test", &mut rng);
    WtalDataset {
        dir: PathBuf::from("<toy>"),
        kind: Benchmark::Thumos14,
        layout: Layout::A,
        classes: ClassList::from_names(&names, "toy").expect("distinct class names"),
        timing,
        train,
        test,
        ground_truth: gt,
        warnings: Vec::new(),
    }
}
