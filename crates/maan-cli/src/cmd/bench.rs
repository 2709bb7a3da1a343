//! `maan bench`: training iterations per second and whole-test-split inference time, per
//! backend, on in-memory synthetic data (no files).
//!
//! `maan bench train` times full training iterations of one stream (batch gathering, upload,
//! forward, backward, Adam step) at batch 16, T = 20, D = 1024, C = 20, reading the loss back
//! (a device sync) at every iteration so the timer sees finished work; then the training loop
//! itself (`Trainer::run`: batches gathered and uploaded on a second thread, the loss read back
//! every 10 iterations); then a per-phase profile, with the Adam step of `FlatAdam` (what
//! training uses) and of Burn's own Adam. `maan bench infer` times the two-stream inference (CAS of every snippet,
//! fusion, localization) on a THUMOS14-shaped test split: 210 videos of 50 to 650 snippets
//! (mean 350, about THUMOS14's 217 s at 0.64 s per snippet). `maan bench extract` times
//! feature extraction from a video file (`maan extract`'s pipeline), whole and per stage, on a
//! synthetic clip it writes (or `--video`); `crates/i3d/benches/extract_side_by_side.sh` runs
//! it beside the PyTorch + OpenCV pipeline on the same clip.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Distribution, ElementConversion, Tensor, TensorData};
use maa_core::Aggregator;
use maan_model::fused::{FusedBatch, FusedStep};
use maan_model::infer::{detections, run_videos_with, Batching};
use maan_model::optim::{read_params, BurnAdam, FlatAdam};
use maan_model::toy::{toy_dataset, ToyConfig};
use maan_model::train::fit_config;
use maan_model::NoObserver;
use maan_model::StreamModel;
use maan_model::{StepEngine, StreamModelConfig, Streams, TrainConfig, Trainer};

use crate::backend::{run_on, BackendArg, BackendJob};

/// Arguments of `maan bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// What to measure.
    #[command(subcommand)]
    pub what: BenchWhat,
}

/// Benchmarks.
#[derive(Debug, clap::Subcommand)]
pub enum BenchWhat {
    /// Training iterations per second (one stream: forward, backward, Adam step).
    Train(TrainBench),
    /// Time to run inference (two streams, CAS, localization) on a THUMOS14-shaped test split.
    Infer(InferBench),
    /// Frames per second of feature extraction from a video (decode, TV-L1 flow, both I3D
    /// streams), whole and per stage.
    Extract(ExtractBench),
}

/// Arguments of `maan bench train`.
#[derive(Debug, clap::Args)]
pub struct TrainBench {
    /// Backends to measure, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = crate::backend::DEFAULT_BACKEND)]
    pub backend: Vec<BackendArg>,
    /// GPU number for wgpu / cuda.
    #[arg(long, default_value_t = 0)]
    pub device: usize,
    /// Aggregator.
    #[arg(long, default_value = "maa")]
    pub aggregator: Aggregator,
    /// Timed iterations.
    #[arg(long, default_value_t = 300)]
    pub iterations: usize,
    /// Untimed warm-up iterations (at least 1; the first is timed apart: kernel compilation).
    #[arg(long, default_value_t = 30)]
    pub warmup: usize,
    /// Batch size.
    #[arg(long, default_value_t = 16)]
    pub batch_size: usize,
    /// Snippets per video (T).
    #[arg(long, default_value_t = 20)]
    pub segments: usize,
    /// Feature dimension D.
    #[arg(long, default_value_t = 1024)]
    pub dim: usize,
    /// Classes C.
    #[arg(long, default_value_t = 20)]
    pub classes: usize,
    /// Training-step engines to measure, comma-separated: `autodiff` (Burn's autodiff, every
    /// backend) and `fused` (the fused CPU step, flex and ndarray). Default: both where the
    /// backend has both, else `autodiff`.
    #[arg(long, value_delimiter = ',')]
    pub engine: Vec<StepEngine>,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// Arguments of `maan bench infer`.
#[derive(Debug, clap::Args)]
pub struct InferBench {
    /// Backends to measure, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = crate::backend::DEFAULT_BACKEND)]
    pub backend: Vec<BackendArg>,
    /// GPU number for wgpu / cuda.
    #[arg(long, default_value_t = 0)]
    pub device: usize,
    /// Test videos.
    #[arg(long, default_value_t = 210)]
    pub videos: usize,
    /// Feature dimension D per stream.
    #[arg(long, default_value_t = 1024)]
    pub dim: usize,
    /// Classes C.
    #[arg(long, default_value_t = 20)]
    pub classes: usize,
    /// Timed repetitions (the first, untimed pass warms up).
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// How videos are batched: auto (shape-stable chunks on GPU backends, exact lengths on
    /// CPU backends, as `maan test` does), chunks, buckets, or exact.
    #[arg(long, value_enum, default_value = "auto")]
    pub batching: BatchingArg,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// Arguments of `maan bench extract`.
#[derive(Debug, clap::Args)]
pub struct ExtractBench {
    /// Backends to measure, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = crate::backend::DEFAULT_BACKEND)]
    pub backend: Vec<BackendArg>,
    /// GPU number for wgpu / cuda.
    #[arg(long, default_value_t = 0)]
    pub device: usize,
    /// The video to extract. Without it, a synthetic clip (a textured scene panning behind a
    /// moving square, `--seconds` long, 320×240 at 25 fps, H.264) is written to `--clip` and
    /// used, so that another pipeline can be timed on the same file.
    #[arg(long)]
    pub video: Option<PathBuf>,
    /// Where the synthetic clip is written (without `--video`).
    #[arg(long, default_value = "maan-bench-clip.mp4")]
    pub clip: PathBuf,
    /// Length of the synthetic clip in seconds (at least 1: one 16-frame chunk).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..))]
    pub seconds: u64,
    /// pytorch-i3d RGB checkpoint; random weights of the full network without it (the same
    /// work: speed does not depend on the weights).
    #[arg(long)]
    pub weights_rgb: Option<PathBuf>,
    /// pytorch-i3d flow checkpoint (random weights without it).
    #[arg(long)]
    pub weights_flow: Option<PathBuf>,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Test option (as `maan extract`'s): divide every network width by this.
    #[arg(long, hide = true, default_value_t = 1)]
    pub width_div: usize,
    /// Test option (as `maan extract`'s): crop side.
    #[arg(long, hide = true)]
    pub crop: Option<usize>,
    /// Test option (as `maan extract`'s): a cheap TV-L1.
    #[arg(long, hide = true)]
    pub light_flow: bool,
}

/// `maan bench infer --batching`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BatchingArg {
    /// What `maan test` uses on the backend.
    Auto,
    /// Snippets of all videos in fixed-size chunks, aggregation on the host (GPU default).
    Chunks,
    /// Whole videos padded to power-of-two buckets, batched (the GPU default before chunks).
    Buckets,
    /// One video a batch at its exact length (CPU default).
    Exact,
}

/// Runs `maan bench`.
pub fn run(args: BenchArgs) -> Result<()> {
    // Every backend asked for is built (under `cargo run`) before anything is printed.
    crate::rebuild::ensure_built(match &args.what {
        BenchWhat::Train(a) => &a.backend,
        BenchWhat::Infer(a) => &a.backend,
        BenchWhat::Extract(a) => &a.backend,
    })?;
    match args.what {
        BenchWhat::Train(a) => {
            println!(
                "maan bench train: one stream, batch {}, T = {}, D = {}, C = {}, aggregator {}, {} timed iterations",
                a.batch_size, a.segments, a.dim, a.classes, a.aggregator, a.iterations
            );
            let setup = serde_json::json!({
                "benchmark": "train",
                "batch_size": a.batch_size,
                "segments": a.segments,
                "dim": a.dim,
                "classes": a.classes,
                "aggregator": a.aggregator.to_string(),
                "iterations": a.iterations,
                "warmup": a.warmup,
            });
            run_and_report(&a.backend, a.device, a.json.as_deref(), setup, || {
                TrainBenchJob(&a)
            })?;
        }
        BenchWhat::Infer(a) => {
            println!(
                "maan bench infer: two streams, {} test videos of 50..650 snippets, D = {}, C = {}",
                a.videos, a.dim, a.classes
            );
            let setup = serde_json::json!({
                "benchmark": "infer",
                "videos": a.videos,
                "dim": a.dim,
                "classes": a.classes,
                "repeats": a.repeats,
            });
            run_and_report(&a.backend, a.device, a.json.as_deref(), setup, || {
                InferBenchJob(&a)
            })?;
        }
        BenchWhat::Extract(a) => {
            let video = match &a.video {
                Some(v) => v.clone(),
                None => {
                    write_bench_clip(&a.clip, a.seconds)?;
                    println!(
                        "synthetic clip written to {} ({} s, 320x240, 25 fps, H.264)",
                        a.clip.display(),
                        a.seconds
                    );
                    a.clip.clone()
                }
            };
            println!(
                "maan bench extract: {} (decode, resize to 256, TV-L1 flow with OpenCV's defaults, \
                 I3D RGB and flow on 16-frame 224x224 chunks), {} threads",
                video.display(),
                cpu_threads()
            );
            let setup = serde_json::json!({
                "benchmark": "extract",
                "video": video.display().to_string(),
                "threads": cpu_threads(),
            });
            run_and_report(&a.backend, a.device, a.json.as_deref(), setup, || {
                ExtractBenchJob {
                    args: &a,
                    video: &video,
                }
            })?;
        }
    }
    Ok(())
}

/// Runs the job made by `job` on each backend in turn and, with `--json PATH`, writes `setup`
/// with the backends' rows under `"results"` to `PATH` (the file named in errors).
fn run_and_report<J: BackendJob<Output = serde_json::Value>>(
    backends: &[BackendArg],
    device: usize,
    json: Option<&Path>,
    mut setup: serde_json::Value,
    job: impl Fn() -> J,
) -> Result<()> {
    // A job returns one row, or an array of rows (one per training-step engine).
    let mut rows = Vec::new();
    for &b in backends {
        match run_on(b, device, job())? {
            serde_json::Value::Array(many) => rows.extend(many),
            one => rows.push(one),
        }
    }
    if let Some(path) = json {
        setup["results"] = serde_json::Value::Array(rows);
        let text = serde_json::to_string_pretty(&setup)?;
        std::fs::write(path, text + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("results written to {}", path.display());
    }
    Ok(())
}

struct TrainBenchJob<'a>(&'a TrainBench);

impl BackendJob for TrainBenchJob<'_> {
    type Output = serde_json::Value;

    fn run<B: AutodiffBackend>(
        self,
        device: B::Device,
        backend: BackendArg,
    ) -> Result<serde_json::Value> {
        let a = self.0;
        let data = toy_dataset(&ToyConfig {
            dim: a.dim,
            num_classes: a.classes,
            train_videos: 64,
            test_videos: 0,
            len_range: (50, 300),
            amplitude: 1.0,
            with_flow: false,
            seed: 0,
        });
        let config = TrainConfig::new(StreamModelConfig::new().with_aggregator(a.aggregator))
            .with_streams(Streams::Rgb)
            .with_batch_size(a.batch_size)
            .with_num_segments(a.segments)
            .with_eval_every(0);
        let config = fit_config(&config, &data)?;
        let sampler = config.sampler(data.train.clone());
        let default = StepEngine::default_for::<B>(&device, &config.model);
        let engines = if !a.engine.is_empty() {
            a.engine.clone()
        } else if default == StepEngine::Fused {
            vec![StepEngine::Autodiff, StepEngine::Fused]
        } else {
            vec![default]
        };
        // The machine's practical limit: one large product on this backend, and what the
        // step's two products (nearly all its arithmetic) need at that rate.
        let limit = large_product_gflops::<B::InnerBackend>(&device, 2048);
        let step_flop =
            2.0 * 2.0 * (a.batch_size * a.segments * a.dim * config.model.attention_hidden) as f64;
        println!(
            "{backend:>14}: practical limit: a 2048^3 product at {limit:.0} GFLOP/s; the step's two products ({:.3} GFLOP) need {:.3} ms at that rate ({:.0} it/s)",
            step_flop / 1e9,
            1e3 * step_flop / (limit * 1e9),
            limit * 1e9 / step_flop,
        );
        let mut rows = Vec::new();
        for engine in engines {
            let label = format!("{backend} {engine}");
            let mut trainer = Trainer::<B>::new(config.clone(), &data, None, device.clone())?;
            trainer.set_engine(engine)?;

            // End to end through Trainer::step, as the training loop runs it (batch gathered
            // on this thread here; the loop gathers it on a second thread).
            // The first iterations compile kernels (and autotune them on GPUs): report that
            // apart. One training step, synchronised by reading the loss back.
            let mut step = |it: usize| {
                let losses = trainer.step(&sampler.batch(it));
                let _ = losses[0].clone().into_scalar();
            };
            let warm_start = Instant::now();
            step(0);
            let first = warm_start.elapsed().as_secs_f64();
            (1..a.warmup).for_each(&mut step);
            let warmup_s = warm_start.elapsed().as_secs_f64();
            println!(
                "{label:>14}: warm-up {} iterations in {warmup_s:.2} s (first {first:.2} s)",
                a.warmup.max(1)
            );
            let start = Instant::now();
            (a.warmup.max(1)..a.warmup.max(1) + a.iterations).for_each(&mut step);
            let secs = start.elapsed().as_secs_f64();
            let its = a.iterations as f64 / secs;
            println!(
                "{label:>14}: {its:8.1} it/s  ({:.3} ms/iteration, end to end; the step's products at an effective {:.0} GFLOP/s, {:.0} % of the limit)",
                1e3 * secs / a.iterations as f64,
                step_flop * its / 1e9,
                100.0 * step_flop * its / 1e9 / limit,
            );

            // The training loop itself, as `maan train` runs it (no evaluation, no
            // checkpoints).
            let mut looped = Trainer::<B>::new(
                config.clone().with_iterations(a.iterations),
                &data,
                None,
                device.clone(),
            )?;
            looped.set_engine(engine)?;
            let loop_start = Instant::now();
            looped.run(&data, &mut NoObserver)?;
            let loop_secs = loop_start.elapsed().as_secs_f64();
            let loop_its = a.iterations as f64 / loop_secs;
            println!(
                "{label:>14}: {loop_its:8.1} it/s  ({:.3} ms/iteration, training loop: batches gathered on a second thread, loss read every 10)",
                1e3 * loop_secs / a.iterations as f64
            );

            let n = a.iterations.clamp(1, 100);
            let profile = match engine {
                StepEngine::Autodiff => {
                    autodiff_profile::<B>(&config, &sampler, &device, n, &label)
                }
                StepEngine::Fused => fused_profile::<B>(&config, &sampler, &device, n, &label),
            };
            rows.push(serde_json::json!({
                "backend": backend.to_string(),
                "engine": engine.name(),
                "iterations_per_second": its,
                "ms_per_iteration": 1e3 * secs / a.iterations as f64,
                "warmup_iterations": a.warmup.max(1),
                "warmup_seconds": warmup_s,
                "first_iteration_seconds": first,
                "loop_iterations_per_second": loop_its,
                "step_gflop": step_flop / 1e9,
                "effective_gflops": step_flop * its / 1e9,
                "large_product_gflops": limit,
                "profile_ms": profile,
            }));
        }
        Ok(serde_json::Value::Array(rows))
    }
}

/// The rate of an `n × n × n` matrix product on backend `B`, in GFLOP/s: the best of three
/// after one untimed (the practical limit the training step's products are compared with).
fn large_product_gflops<B: Backend>(device: &B::Device, n: usize) -> f64 {
    let a = Tensor::<B, 2>::random([n, n], Distribution::Default, device);
    let b = Tensor::<B, 2>::random([n, n], Distribution::Default, device);
    let mut best = f64::INFINITY;
    for k in 0..4 {
        let start = Instant::now();
        let c = a.clone().matmul(b.clone());
        let _ = c.slice([0..1, 0..1]).into_scalar();
        if k > 0 {
            best = best.min(start.elapsed().as_secs_f64());
        }
    }
    2.0 * (n * n * n) as f64 / best / 1e9
}

/// The per-phase profile of the autodiff step on a fresh model (gather, upload, forward,
/// backward, Adam step: [`profile`]), with `FlatAdam` (what training uses) and Burn's own Adam;
/// printed, and returned in milliseconds per iteration.
fn autodiff_profile<B: AutodiffBackend>(
    config: &TrainConfig,
    sampler: &dataset::Sampler,
    device: &B::Device,
    n: usize,
    label: &str,
) -> serde_json::Value {
    let mut flat = FlatAdam::<B>::new();
    let t = profile::<B>(config, sampler, device, n, |lr, m, g| flat.step(lr, m, g));
    let mut burn: BurnAdam<StreamModel<B>, B> = AdamConfig::new().init();
    let t_burn = profile::<B>(config, sampler, device, n, |lr, m, g| burn.step(lr, m, g));
    let ms = |s: f64| 1e3 * s / n as f64;
    println!(
        "{label:>14}  profile (ms/iteration, synced per phase): gather {:.3}, upload {:.3}, forward {:.3}, backward {:.3}, adam {:.3} (Burn's Adam: {:.3})",
        ms(t[0]),
        ms(t[1]),
        ms(t[2]),
        ms(t[3]),
        ms(t[4]),
        ms(t_burn[4]),
    );
    serde_json::json!({
        "gather": ms(t[0]),
        "upload": ms(t[1]),
        "forward": ms(t[2]),
        "backward": ms(t[3]),
        "adam": ms(t[4]),
        "adam_burn": ms(t_burn[4]),
    })
}

/// The per-phase profile of the fused step on a fresh model: gather, the forward product and
/// the rest of the forward pass, the backward product and the rest, and Adam
/// (`FlatAdam::step_host`), over `n` iterations after 5 untimed ones; printed with the two
/// products' GFLOP/s, and returned in milliseconds per iteration.
fn fused_profile<B: AutodiffBackend>(
    config: &TrainConfig,
    sampler: &dataset::Sampler,
    device: &B::Device,
    n: usize,
    label: &str,
) -> serde_json::Value {
    let model = config.model.clone().init::<B>(device);
    let mut step = FusedStep::new(&config.model).expect("the fused engine supports this model");
    let mut params = read_params::<B, _>(&model);
    let mut grad = vec![0.0; step.num_params()];
    let mut adam = FlatAdam::<B>::new();
    let (mut gather, mut optimizer) = (0.0f64, 0.0f64);
    for it in 0..n + 5 {
        if it == 5 {
            step.take_profile();
            (gather, optimizer) = (0.0, 0.0);
        }
        let t0 = Instant::now();
        let batch = sampler.batch(it);
        let t1 = Instant::now();
        step.loss_and_gradient(
            &params,
            FusedBatch {
                features: &batch.rgb,
                labels: &batch.labels,
                mask: &batch.mask,
                batch: batch.batch,
                time: batch.time,
            },
            0.0,
            &mut grad,
        );
        let t2 = Instant::now();
        adam.step_host(config.learning_rate, &model, &mut params, &grad);
        let t3 = Instant::now();
        gather += (t1 - t0).as_secs_f64();
        optimizer += (t3 - t2).as_secs_f64();
    }
    let p = step.take_profile();
    let ms = |s: f64| 1e3 * s / n as f64;
    let d = |d: std::time::Duration| ms(d.as_secs_f64());
    println!(
        "{label:>14}  profile (ms/iteration): gather {:.3}, forward {:.3} (product {:.3} + rest {:.3}), backward {:.3} (product {:.3} + rest {:.3}), adam {:.3}; the two products at {:.0} GFLOP/s",
        ms(gather),
        d(p.forward_product + p.forward_rest),
        d(p.forward_product),
        d(p.forward_rest),
        d(p.backward_product + p.backward_rest),
        d(p.backward_product),
        d(p.backward_rest),
        ms(optimizer),
        p.product_gflops(),
    );
    serde_json::json!({
        "gather": ms(gather),
        "forward": d(p.forward_product + p.forward_rest),
        "forward_product": d(p.forward_product),
        "backward": d(p.backward_product + p.backward_rest),
        "backward_product": d(p.backward_product),
        "adam": ms(optimizer),
        "product_gflops": p.product_gflops(),
    })
}

/// Seconds spent in each phase (gather, upload, forward, backward, optimizer step) over `n`
/// iterations on a fresh model (after 5 untimed ones), each phase synchronised.
fn profile<B: AutodiffBackend>(
    config: &TrainConfig,
    sampler: &dataset::Sampler,
    device: &B::Device,
    n: usize,
    mut optimizer_step: impl FnMut(f64, StreamModel<B>, GradientsParams) -> StreamModel<B>,
) -> [f64; 5] {
    let mut model = config.model.clone().init::<B>(device);
    let mut t = [0.0f64; 5];
    for it in 0..n + 5 {
        let t0 = Instant::now();
        let batch = sampler.batch(it);
        let t1 = Instant::now();
        let x = Tensor::<B, 3>::from_data(
            TensorData::new(batch.rgb, [batch.batch, batch.time, batch.rgb_dim]),
            device,
        );
        let y = Tensor::<B, 2>::from_data(
            TensorData::new(batch.labels, [batch.batch, batch.num_classes]),
            device,
        );
        B::sync(device).ok();
        let t2 = Instant::now();
        let loss = model.forward_loss(x, y, None);
        let _ = loss.clone().into_scalar().elem::<f32>();
        let t3 = Instant::now();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        B::sync(device).ok();
        let t4 = Instant::now();
        model = optimizer_step(config.learning_rate, model, grads);
        let _ = model.classifier.weight.val().sum().into_scalar();
        let t5 = Instant::now();
        if it >= 5 {
            for (k, d) in [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4]
                .iter()
                .enumerate()
            {
                t[k] += d.as_secs_f64();
            }
        }
    }
    t
}

struct InferBenchJob<'a>(&'a InferBench);

impl BackendJob for InferBenchJob<'_> {
    type Output = serde_json::Value;

    fn run<B: AutodiffBackend>(
        self,
        device: B::Device,
        backend: BackendArg,
    ) -> Result<serde_json::Value> {
        let a = self.0;
        let data = toy_dataset(&ToyConfig {
            dim: a.dim,
            num_classes: a.classes,
            train_videos: 1,
            test_videos: a.videos,
            len_range: (50, 650),
            amplitude: 1.0,
            with_flow: true,
            seed: 0,
        });
        let snippets: usize = data.test.iter().map(|v| v.len).sum();
        let cfg = StreamModelConfig::new()
            .with_feature_dim(a.dim)
            .with_num_classes(a.classes);
        let rgb = cfg.init::<B::InnerBackend>(&device);
        let flow = cfg.init::<B::InnerBackend>(&device);
        let models = [
            (maan_model::StreamKind::Rgb, &rgb),
            (maan_model::StreamKind::Flow, &flow),
        ];
        let preset = data.kind.paper_localize();
        let batching = match a.batching {
            BatchingArg::Auto => backend.batching(),
            BatchingArg::Chunks => Batching::default(),
            BatchingArg::Buckets => Batching::buckets(),
            BatchingArg::Exact => Batching::exact(),
        };
        let lengths: Vec<usize> = data.test.iter().map(|v| v.len).collect();
        let total: usize = lengths.iter().sum();
        let (mode, shapes) = if batching.is_chunked() {
            ("chunks", usize::from(total > 0))
        } else {
            let shapes: std::collections::BTreeSet<(usize, usize)> = batching
                .plan(&lengths)
                .iter()
                .map(|p| (p.size, p.len))
                .collect();
            (
                if batching.buckets { "buckets" } else { "exact" },
                shapes.len(),
            )
        };
        println!("{backend:>8}: {mode} batching, {shapes} distinct input shapes per stream");
        let once = || -> Result<(f64, f64)> {
            let t0 = Instant::now();
            let outputs = run_videos_with(&models, &data.test, 0.5, &batching, &device)?;
            let t1 = Instant::now();
            let dets = detections(
                &outputs,
                data.classes.names(),
                data.timing.seconds_per_snippet(),
                &preset,
            )?;
            std::hint::black_box(dets.num_detections());
            Ok(((t1 - t0).as_secs_f64(), t1.elapsed().as_secs_f64()))
        };
        let warm = Instant::now();
        once()?;
        let warmup_s = warm.elapsed().as_secs_f64();
        println!("{backend:>8}: warm-up pass in {warmup_s:.2} s");
        let (mut model_s, mut loc_s) = (0.0, 0.0);
        for _ in 0..a.repeats.max(1) {
            let (m, l) = once()?;
            model_s += m;
            loc_s += l;
        }
        let r = a.repeats.max(1) as f64;
        println!(
            "{backend:>8}: {:.3} s for {} videos ({snippets} snippets): models {:.3} s, localization {:.3} s",
            (model_s + loc_s) / r,
            a.videos,
            model_s / r,
            loc_s / r
        );
        Ok(serde_json::json!({
            "backend": backend.to_string(),
            "batching": mode,
            "input_shapes_per_stream": shapes,
            "snippets": snippets,
            "warmup_seconds": warmup_s,
            "total_seconds": (model_s + loc_s) / r,
            "model_seconds": model_s / r,
            "localization_seconds": loc_s / r,
        }))
    }
}

/// The CPU threads available (rayon's pool size: TV-L1 and flex run on it).
fn cpu_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Writes the synthetic benchmark clip: `seconds` × 25 frames of 320×240, a smooth random
/// texture panning by (2, 1) px per frame with a bright square crossing it (real motion
/// everywhere, so TV-L1 does its full work).
fn write_bench_clip(path: &Path, seconds: u64) -> Result<()> {
    let (w, h) = (320usize, 240usize);
    // Smooth texture: a sum of a few sinusoids with incommensurate frequencies.
    let texture = |x: usize, y: usize| -> f32 {
        let (x, y) = (x as f32, y as f32);
        128.0
            + 40.0 * (0.071 * x + 0.013 * y).sin()
            + 30.0 * (0.029 * x - 0.083 * y + 1.0).sin()
            + 20.0 * (0.17 * x + 0.11 * y + 2.0).sin() * (0.05 * y).cos()
    };
    let frames: Vec<video::Frame> = (0..25 * seconds as usize)
        .map(|i| {
            let (ox, oy) = (2 * i, i);
            let mut data = vec![0u8; 3 * w * h];
            for y in 0..h {
                for x in 0..w {
                    let v = texture(x + ox, y + oy);
                    let px = &mut data[3 * (y * w + x)..][..3];
                    px[0] = v.clamp(0.0, 255.0) as u8;
                    px[1] = (v * 0.9).clamp(0.0, 255.0) as u8;
                    px[2] = (255.0 - v).clamp(0.0, 255.0) as u8;
                }
            }
            let x0 = (3 * i) % (w - 40);
            for y in 100..140 {
                for x in x0..x0 + 40 {
                    data[3 * (y * w + x)..][..3].copy_from_slice(&[240, 230, 220]);
                }
            }
            video::Frame::new(w, h, data)
        })
        .collect();
    video::write_h264_mp4(path, &frames, 25)
        .with_context(|| format!("cannot write the benchmark clip {}", path.display()))
}

struct ExtractBenchJob<'a> {
    args: &'a ExtractBench,
    video: &'a Path,
}

impl BackendJob for ExtractBenchJob<'_> {
    type Output = serde_json::Value;

    fn run<B: AutodiffBackend>(
        self,
        device: B::Device,
        backend: BackendArg,
    ) -> Result<serde_json::Value> {
        use i3d::Stream;
        type Inner<B> = <B as AutodiffBackend>::InnerBackend;
        let a = self.args;
        let rgb = crate::jobs::extract::init_stream::<Inner<B>>(
            Stream::Rgb,
            a.width_div,
            a.weights_rgb.as_deref(),
            &device,
        )?;
        let flow = crate::jobs::extract::init_stream::<Inner<B>>(
            Stream::Flow,
            a.width_div,
            a.weights_flow.as_deref(),
            &device,
        )?;
        let config = crate::jobs::extract::extract_config(false, a.crop, a.light_flow);
        // The flow where `maan extract` computes it: on the device for GPU backends.
        let engine = crate::jobs::extract::flow_engine::<Inner<B>>();
        let extract = |config: &i3d::ExtractConfig| {
            i3d::extract_video_with(self.video, &rgb, &flow, &*engine, config, &device, |_| {})
        };

        // The whole pipeline, as `maan extract` runs it (its stages overlapping; one run
        // first: GPU backends compile their kernels then), and with its stages one after the
        // other (`overlap: false`, for comparison).
        let t0 = Instant::now();
        let features = extract(&config)?;
        let whole = t0.elapsed().as_secs_f64();
        let frames = features.snippets * config.chunk;
        let t0 = Instant::now();
        extract(&config)?;
        let whole_warm = t0.elapsed().as_secs_f64();
        let t0 = Instant::now();
        extract(&i3d::ExtractConfig {
            overlap: false,
            ..config
        })?;
        let whole_sequential = t0.elapsed().as_secs_f64();

        // Stages apart: decoding (with resampling and resizing), the flow on the decoded
        // frames as the pipeline computes it (TV-L1 chunk by chunk, 17 frames each, to the
        // flow network's input; on the device for GPU backends, waited for), each network on
        // its chunks.
        let t0 = Instant::now();
        let (decoded, _) = video::read_frames(self.video, &config.frames)?;
        let decode = t0.elapsed().as_secs_f64();
        let chunks = features.snippets;
        let t0 = Instant::now();
        for c in 0..chunks {
            let end = ((c + 1) * config.chunk + 1).min(decoded.len());
            let _ = engine.flow_input(&decoded[c * config.chunk..end], &config, &device);
        }
        Inner::<B>::sync(&device)
            .map_err(|e| anyhow::anyhow!("{backend}: the device failed: {e:?}"))?;
        let tvl1 = t0.elapsed().as_secs_f64();
        let net = |model: &i3d::I3d<Inner<B>>, channels: usize| -> f64 {
            let shape = [1, channels, config.chunk, config.crop, config.crop];
            let input = || {
                Tensor::<Inner<B>, 5>::from_data(
                    TensorData::new(vec![0.1f32; shape.iter().product()], shape),
                    &device,
                )
            };
            let _ = model.features(input()).into_data();
            let t0 = Instant::now();
            for _ in 0..chunks {
                let _ = model.features(input()).into_data();
            }
            t0.elapsed().as_secs_f64()
        };
        let rgb_net = net(&rgb, 3);
        let flow_net = net(&flow, 2);
        let fps = |secs: f64| frames as f64 / secs.max(1e-9);
        println!(
            "{backend:>8}: {frames} frames ({chunks} chunks): whole {:.1} frames/s ({whole:.1} s; \
             again {:.1} frames/s; stages one after the other {:.1} frames/s) | decode {:.0} \
             frames/s, TV-L1 {:.1}, I3D rgb {:.1}, I3D flow {:.1}",
            fps(whole),
            fps(whole_warm),
            fps(whole_sequential),
            fps(decode),
            fps(tvl1),
            fps(rgb_net),
            fps(flow_net),
        );
        Ok(serde_json::json!({
            "backend": backend.name(),
            "frames": frames,
            "chunks": chunks,
            "whole_s": whole,
            "whole_warm_s": whole_warm,
            "whole_fps": fps(whole),
            "whole_warm_fps": fps(whole_warm),
            "whole_sequential_s": whole_sequential,
            "whole_sequential_fps": fps(whole_sequential),
            "flow_on_device": backend.is_gpu(),
            "decode_s": decode,
            "tvl1_s": tvl1,
            "i3d_rgb_s": rgb_net,
            "i3d_flow_s": flow_net,
        }))
    }
}
