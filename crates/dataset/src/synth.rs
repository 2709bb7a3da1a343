//! A synthetic benchmark shaped like THUMOS14 or ActivityNet1.3, written in layout A
//! ([`generate`]), and what each snippet shows ([`snippet_roles`]).
//!
//! See the crate documentation for the generative model; `config` holds what to generate
//! ([`SynthConfig`], [`Regime`], [`SynthParams`], changes to a regime's signal:
//! [`SignalOverrides`]) and `builtin` the built-in datasets (where they live and when they are
//! made again).

use std::fs;
use std::path::{Path, PathBuf};

use maan_eval::annotations::{ClassList, GroundTruth};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

use crate::error::DatasetError;
use crate::layout::Split;
use crate::npy::write_features;
use crate::sampling::mix_from;
use maan_eval::Benchmark;

mod builtin;
mod config;
mod i3d;

pub use builtin::{builtin_dir, builtin_status, make_builtin, BuiltinStatus};
pub use config::{
    Regime, Signal, SignalOverrideError, SignalOverrides, StreamParams, SynthConfig, SynthParams,
    DEFAULT_ACTIVITYNET_VIDEOS, DEFAULT_DIM,
};
use i3d::I3dPatterns;
pub use i3d::{I3dParams, SnippetRole, StreamMix};

const THUMOS_GT: &str = include_str!("../../../data/thumos14/gt.json");
const THUMOS_SPLIT_TRAIN: &str = include_str!("../../../data/thumos14/split_train.txt");
const THUMOS_SPLIT_TEST: &str = include_str!("../../../data/thumos14/split_test.txt");

/// The roles of one generated video's snippets ([`snippet_roles`]).
#[derive(Debug, Clone, PartialEq)]
pub struct VideoRoles {
    /// The video's name (its `.npy` file stem).
    pub video: String,
    /// Training or test split.
    pub split: Split,
    /// One role per snippet.
    pub roles: Vec<SnippetRole>,
}

/// What each snippet of every video that [`generate`] writes for `cfg` shows (core or flank
/// of an instance, class context or plain background), recomputed from the configuration
/// alone: the same plans and random streams as [`generate`], without the features. Only for
/// the I3D-like signal model (`None` for [`Signal::Legacy`]).
pub fn snippet_roles(cfg: &SynthConfig) -> Result<Option<Vec<VideoRoles>>, DatasetError> {
    let Signal::I3d(p) = &cfg.signal else {
        return Ok(None);
    };
    let classes = cfg.like.classes();
    let plans = match cfg.like {
        Benchmark::Thumos14 => thumos_plans(cfg, &classes)?,
        Benchmark::ActivityNet13 => activitynet_plans(cfg, &classes),
    };
    let spf = cfg.timing.seconds_per_snippet();
    Ok(Some(
        plans
            .iter()
            .enumerate()
            .map(|(i, plan)| {
                let mut rng = StdRng::seed_from_u64(mix_from(cfg.seed ^ SEED_SALT, 0xC, i as u64));
                let lay = i3d::layout(plan, spf, p, &mut rng);
                VideoRoles {
                    video: plan.id.clone(),
                    split: plan.split,
                    roles: lay.roles(plan.len, p),
                }
            })
            .collect(),
    ))
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SynthSummary {
    /// The output directory.
    pub out: PathBuf,
    /// Training and test videos.
    pub videos: (usize, usize),
    /// Snippets per stream, all videos.
    pub snippets: usize,
    /// Annotated instances.
    pub instances: usize,
    /// Classes.
    pub classes: usize,
    /// Feature dimension per stream.
    pub dim: usize,
    /// Bytes written.
    pub bytes: u64,
}

/// One video to synthesize.
#[derive(Debug, Clone)]
struct Plan {
    id: String,
    split: Split,
    subset: &'static str,
    duration: f64,
    len: usize,
    /// `(class, start, end)` in seconds.
    segments: Vec<(usize, f64, f64)>,
}

fn unit(rng: &mut StdRng, dim: usize) -> Vec<f32> {
    loop {
        let v: Vec<f32> = (0..dim).map(|_| StandardNormal.sample(rng)).collect();
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if n > 1e-6 {
            return v.into_iter().map(|x| x / n).collect();
        }
    }
}

/// The fixed patterns of one stream.
struct Patterns {
    core: Vec<Vec<f32>>,
    weak: Vec<Vec<f32>>,
    context: Vec<Vec<f32>>,
    actionness: Vec<f32>,
    distractors: Vec<Vec<f32>>,
}

impl Patterns {
    fn new(rng: &mut StdRng, classes: usize, dim: usize, p: &SynthParams) -> Patterns {
        let core: Vec<Vec<f32>> = (0..classes).map(|_| unit(rng, dim)).collect();
        let rho = p.weak_core_similarity.clamp(-1.0, 1.0);
        let weak = core
            .iter()
            .map(|m| {
                let n = unit(rng, dim);
                let v: Vec<f32> = m
                    .iter()
                    .zip(&n)
                    .map(|(a, b)| rho * a + (1.0 - rho * rho).sqrt() * b)
                    .collect();
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
                v.into_iter().map(|x| x / norm).collect()
            })
            .collect();
        Patterns {
            core,
            weak,
            context: (0..classes).map(|_| unit(rng, dim)).collect(),
            actionness: unit(rng, dim),
            distractors: (0..p.num_distractors).map(|_| unit(rng, dim)).collect(),
        }
    }
}

/// The patterns of both streams, for the configured signal model.
enum Streams {
    Legacy(SynthParams, Patterns, Patterns),
    I3d(I3dParams, I3dPatterns, I3dPatterns),
}

impl Streams {
    fn new(rng: &mut StdRng, classes: usize, cfg: &SynthConfig) -> Self {
        match &cfg.signal {
            Signal::Legacy(p) => Streams::Legacy(
                *p,
                Patterns::new(rng, classes, cfg.dim, p),
                Patterns::new(rng, classes, cfg.dim, p),
            ),
            Signal::I3d(p) => Streams::I3d(
                *p,
                I3dPatterns::new(rng, classes, cfg.dim, p),
                I3dPatterns::new(rng, classes, cfg.dim, p),
            ),
        }
    }

    /// The rgb and flow features of a video, each row-major `[len, dim]`.
    fn video(&self, plan: &Plan, cfg: &SynthConfig, rng: &mut StdRng) -> (Vec<f32>, Vec<f32>) {
        match self {
            Streams::Legacy(p, rgb, flow) => (
                synth_stream(plan, rgb, &p.rgb, cfg, p, rng),
                synth_stream(plan, flow, &p.flow, cfg, p, rng),
            ),
            Streams::I3d(p, rgb, flow) => {
                let lay = i3d::layout(plan, cfg.timing.seconds_per_snippet(), p, rng);
                (
                    i3d::stream(plan, &lay, rgb, p, &p.rgb, cfg.dim, rng),
                    i3d::stream(plan, &lay, flow, p, &p.flow, cfg.dim, rng),
                )
            }
        }
    }
}

/// Salt of the generator's seeds (`sampling::mix_from(seed ^ SEED_SALT, …)`), so that its
/// random streams differ from the training sampler's for the same seed.
const SEED_SALT: u64 = 0xD6E8_FEB8_6659_FD93;

fn thumos_plans(cfg: &SynthConfig, classes: &ClassList) -> Result<Vec<Plan>, DatasetError> {
    let gt = GroundTruth::from_json_str(THUMOS_GT, "data/thumos14/gt.json")?;
    let mut plans = Vec::new();
    for (split, text, subset) in [
        (Split::Train, THUMOS_SPLIT_TRAIN, "validation"),
        (Split::Test, THUMOS_SPLIT_TEST, "test"),
    ] {
        let names: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let keep = cfg.num_videos.unwrap_or(names.len()).min(names.len());
        for name in &names[..keep] {
            let Some(v) = gt.videos.get(*name) else {
                return Err(DatasetError::Config(format!(
                    "built-in THUMOS14 annotations lack {name}"
                )));
            };
            let duration = v.duration.unwrap_or(0.0);
            let len = cfg.timing.snippets_in(duration).max(1);
            // Kept verbatim: 67 instances of the real file start after the video's duration;
            // the loader warns about them as it would with the real features. Only the part of
            // an instance inside the video gets a signal.
            let segments = v
                .segments
                .iter()
                .filter_map(|s| classes.index_of(&s.label).map(|c| (c, s.start, s.end)))
                .collect();
            plans.push(Plan {
                id: name.to_string(),
                split,
                subset,
                duration,
                len,
                segments,
            });
        }
    }
    Ok(plans)
}

fn activitynet_plans(cfg: &SynthConfig, classes: &ClassList) -> Vec<Plan> {
    let n = cfg.num_videos.unwrap_or(DEFAULT_ACTIVITYNET_VIDEOS).max(2);
    let n_train = (n * 2).div_ceil(3).min(n - 1);
    let mut rng = StdRng::seed_from_u64(mix_from(cfg.seed ^ SEED_SALT, 0xA, 0));
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..n)
        .map(|i| {
            let id: String = (0..11)
                .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
                .collect();
            let id = format!("v_{id}");
            let split = if i < n_train {
                Split::Train
            } else {
                Split::Test
            };
            // Durations: uniform in [20, 220] s (mean 120 s, about ActivityNet's 117 s).
            let duration = (rng.random_range(20.0..220.0f64) * 100.0).round() / 100.0;
            let len = cfg.timing.snippets_in(duration).max(1);
            let used = cfg
                .activitynet_classes
                .map_or(classes.len(), |n| n.clamp(1, classes.len()));
            let class = rng.random_range(0..used);
            // 1 instance w.p. 0.65, 2 w.p. 0.25, 3 w.p. 0.1: mean 1.45.
            let u: f64 = rng.random();
            let k = if u < 0.65 {
                1
            } else if u < 0.9 {
                2
            } else {
                3
            };
            // Actions cover 30% to 90% of the video, split into k instances with gaps.
            let (lo, hi) = cfg.coverage;
            let cover = if hi > lo {
                rng.random_range(lo..hi)
            } else {
                rng.random_range(lo..=lo)
            } * duration;
            let gap_total = duration - cover;
            let mut cuts: Vec<f64> = (0..k).map(|_| rng.random::<f64>()).collect();
            let sum: f64 = cuts.iter().sum::<f64>().max(1e-9);
            cuts.iter_mut().for_each(|c| *c *= cover / sum);
            let mut gaps: Vec<f64> = (0..=k).map(|_| rng.random::<f64>()).collect();
            let gsum: f64 = gaps.iter().sum::<f64>().max(1e-9);
            gaps.iter_mut().for_each(|g| *g *= gap_total / gsum);
            let mut t = 0.0;
            let mut segments = Vec::with_capacity(k);
            for j in 0..k {
                t += gaps[j];
                let s = (t * 100.0).round() / 100.0;
                t += cuts[j];
                let e = ((t * 100.0).round() / 100.0).min(duration);
                if e > s {
                    segments.push((class, s, e));
                }
            }
            let subset = if split == Split::Train {
                "training"
            } else {
                "validation"
            };
            Plan {
                id,
                split,
                subset,
                duration,
                len,
                segments,
            }
        })
        .collect()
}

/// Writes one stream of one video of the legacy model, row-major `[len, dim]`.
fn synth_stream(
    plan: &Plan,
    pat: &Patterns,
    sp: &StreamParams,
    cfg: &SynthConfig,
    p: &SynthParams,
    rng: &mut StdRng,
) -> Vec<f32> {
    let (len, dim) = (plan.len, cfg.dim);
    let mut x: Vec<f32> = (0..len * dim)
        .map(|_| p.noise_std * Distribution::<f32>::sample(&StandardNormal, rng))
        .collect();
    // AR(1) in time, same marginal variance.
    let phi = p.noise_correlation.clamp(0.0, 0.999);
    if phi > 0.0 {
        let innovation = (1.0 - phi * phi).sqrt();
        for t in 1..len {
            let (prev, cur) = x.split_at_mut(t * dim);
            for (c, p) in cur[..dim].iter_mut().zip(&prev[(t - 1) * dim..]) {
                *c = phi * p + innovation * *c;
            }
        }
    }
    let jitter = |rng: &mut StdRng| {
        1.0 + p.amplitude_jitter * Distribution::<f32>::sample(&StandardNormal, rng)
    };
    let add = |x: &mut [f32], t: usize, v: &[f32], a: f32| {
        for (xi, vi) in x[t * dim..(t + 1) * dim].iter_mut().zip(v) {
            *xi += a * vi;
        }
    };
    // Class context over the whole video.
    let mut classes: Vec<usize> = plan.segments.iter().map(|s| s.0).collect();
    classes.sort_unstable();
    classes.dedup();
    for &c in &classes {
        for t in 0..len {
            let a = sp.context * jitter(rng);
            add(&mut x, t, &pat.context[c], a);
        }
    }
    // Instances: actionness everywhere, a short strong core, weak class-specific rest.
    let spf = cfg.timing.seconds_per_snippet();
    for &(c, s, e) in &plan.segments {
        if e <= s || s / spf >= len as f64 {
            continue;
        }
        let first = ((s / spf).floor() as usize).min(len - 1);
        let last = (((e / spf).ceil() as usize).max(first + 1)).min(len);
        let n = last - first;
        let core_len = ((n as f64 * p.core_fraction).round() as usize).clamp(1, n);
        let core_start = first + rng.random_range(0..=n - core_len);
        for t in first..last {
            let a = sp.actionness * jitter(rng);
            add(&mut x, t, &pat.actionness, a);
            if (core_start..core_start + core_len).contains(&t) {
                let a = sp.core * jitter(rng);
                add(&mut x, t, &pat.core[c], a);
            } else {
                let a = sp.weak * jitter(rng);
                add(&mut x, t, &pat.weak[c], a);
            }
        }
    }
    // Background distractor events (anywhere in the video).
    if !pat.distractors.is_empty() && p.distractor_rate > 0.0 {
        let expected = p.distractor_rate * len as f64 / 100.0;
        let events =
            expected.floor() as usize + usize::from(rng.random::<f64>() < expected.fract());
        let (lo, hi) = (
            p.distractor_len.0.max(1),
            p.distractor_len.1.max(p.distractor_len.0.max(1)),
        );
        for _ in 0..events {
            let j = rng.random_range(0..pat.distractors.len());
            let l = rng.random_range(lo..=hi).min(len);
            let start = rng.random_range(0..=len - l);
            for t in start..start + l {
                let a = sp.distractor * jitter(rng);
                add(&mut x, t, &pat.distractors[j], a);
                let a = sp.distractor_actionness * jitter(rng);
                add(&mut x, t, &pat.actionness, a);
            }
        }
    }
    x
}

/// Writes a complete layout-A dataset to `out`: `gt.json` (float segments with `duration`;
/// subsets `validation`/`test` for THUMOS14-like data, `training`/`validation` for
/// ActivityNet-like data), `split_train.txt`, `split_test.txt`, `classes.txt`, `synth.json` (the
/// configuration) and `features/{train,test}/{rgb,flow}/<video>.npy` `[T, dim]`.
///
/// Deterministic: the same configuration writes the same bytes, whatever the number of threads.
pub fn generate(out: &Path, cfg: &SynthConfig) -> Result<SynthSummary, DatasetError> {
    if cfg.dim == 0 {
        return Err(DatasetError::Config(
            "the feature dimension (dim) must be at least 1".into(),
        ));
    }
    match &cfg.signal {
        Signal::Legacy(p) => {
            let phi = p.noise_correlation;
            if !(0.0..1.0).contains(&phi) {
                return Err(DatasetError::Config(format!(
                    "the noise correlation must be in [0, 1), got {phi}"
                )));
            }
        }
        Signal::I3d(p) => p.validate().map_err(DatasetError::Config)?,
    }
    cfg.timing.validate().map_err(DatasetError::Config)?;
    let (lo, hi) = cfg.coverage;
    if !(lo > 0.0 && lo <= hi && hi <= 1.0) {
        return Err(DatasetError::Config(format!(
            "the instance coverage must be a range 0 < min <= max <= 1, got [{lo}, {hi}]"
        )));
    }
    if cfg.activitynet_classes == Some(0) {
        return Err(DatasetError::Config(
            "activitynet_classes must be at least 1".into(),
        ));
    }
    let classes = cfg.like.classes();
    let plans = match cfg.like {
        Benchmark::Thumos14 => thumos_plans(cfg, &classes)?,
        Benchmark::ActivityNet13 => activitynet_plans(cfg, &classes),
    };
    let mut prng = StdRng::seed_from_u64(mix_from(cfg.seed ^ SEED_SALT, 0xB, 0));
    let streams = Streams::new(&mut prng, classes.len(), cfg);

    let mkdir = |p: &Path| fs::create_dir_all(p).map_err(|e| DatasetError::io(p, e));
    for split in [Split::Train, Split::Test] {
        for s in ["rgb", "flow"] {
            mkdir(&out.join("features").join(split.name()).join(s))?;
        }
    }

    plans.par_iter().enumerate().try_for_each(|(i, plan)| {
        let mut rng = StdRng::seed_from_u64(mix_from(cfg.seed ^ SEED_SALT, 0xC, i as u64));
        let (rgb, flow) = streams.video(plan, cfg, &mut rng);
        let dir = out.join("features").join(plan.split.name());
        for (stream, data) in [("rgb", rgb), ("flow", flow)] {
            let p = dir.join(stream).join(format!("{}.npy", plan.id));
            write_features(&p, &data, plan.len, cfg.dim, cfg.dtype)?;
        }
        Ok::<(), DatasetError>(())
    })?;

    let mut db = serde_json::Map::new();
    for p in &plans {
        let ann: Vec<_> = p
            .segments
            .iter()
            .map(|&(c, s, e)| serde_json::json!({"segment": [s, e], "label": classes.names()[c]}))
            .collect();
        db.insert(
            p.id.clone(),
            serde_json::json!({"subset": p.subset, "duration": p.duration, "annotations": ann}),
        );
    }
    let gt = serde_json::json!({
        "version": format!("synthetic {} (maan-rs dataset::synth, seed {})", cfg.like, cfg.seed),
        "taxonomy": [],
        "database": db,
    });
    let write = |name: &str, text: String| {
        let p = out.join(name);
        fs::write(&p, text).map_err(|e| DatasetError::io(&p, e))
    };
    write(
        "gt.json",
        serde_json::to_string(&gt).map_err(|e| DatasetError::Config(e.to_string()))?,
    )?;
    for split in [Split::Train, Split::Test] {
        let names: Vec<&str> = plans
            .iter()
            .filter(|p| p.split == split)
            .map(|p| p.id.as_str())
            .collect();
        write(
            &format!("split_{}.txt", split.name()),
            names.join("\n") + "\n",
        )?;
    }
    write("classes.txt", classes.names().join("\n") + "\n")?;
    write(
        "synth.json",
        serde_json::to_string_pretty(cfg).map_err(|e| DatasetError::Config(e.to_string()))?,
    )?;

    let snippets: usize = plans.iter().map(|p| p.len).sum();
    let bytes = plans
        .iter()
        .map(|p| {
            let f = out
                .join("features")
                .join(p.split.name())
                .join("rgb")
                .join(format!("{}.npy", p.id));
            fs::metadata(&f).map(|m| m.len() * 2).unwrap_or(0)
        })
        .sum();
    Ok(SynthSummary {
        out: out.into(),
        videos: (
            plans.iter().filter(|p| p.split == Split::Train).count(),
            plans.iter().filter(|p| p.split == Split::Test).count(),
        ),
        snippets,
        instances: plans.iter().map(|p| p.segments.len()).sum(),
        classes: classes.len(),
        dim: cfg.dim,
        bytes,
    })
}
