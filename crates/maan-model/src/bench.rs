//! Speed measurements of training and inference on in-memory synthetic data ([`crate::toy`]),
//! what `maan bench train` and `maan bench infer` report: training iterations per second (one
//! stream, end to end and through the training loop) with a per-phase profile of each step
//! engine beside the machine's practical limit (one large matrix product), and the time of
//! two-stream inference and localization over a THUMOS14-shaped test split. Results are
//! returned (serializable, milliseconds and seconds), never printed.

use std::time::{Duration, Instant};

use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Distribution, ElementConversion as _, Tensor, TensorData};
use dataset::{Sampler, WtalDataset};
use maa_core::Aggregator;
use serde::Serialize;

use crate::error::Result;
use crate::fused::{FusedBatch, FusedStep};
use crate::infer::{run_videos_with, Batching, StreamKind};
use crate::optim::{read_params, BurnAdam, FlatAdam};
use crate::predict::detections;
use crate::toy::{toy_dataset, ToyConfig};
use crate::train::{fit_config, NoObserver, StepEngine, Streams, TrainConfig, Trainer};
use crate::{StreamModel, StreamModelConfig};

/// The setting of a training measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainBench {
    /// The aggregator.
    pub aggregator: Aggregator,
    /// Timed iterations.
    pub iterations: usize,
    /// Untimed warm-up iterations (at least 1; the first is timed apart).
    pub warmup: usize,
    /// Videos per batch.
    pub batch_size: usize,
    /// Snippets per video (T).
    pub segments: usize,
    /// Feature dimension D.
    pub dim: usize,
    /// Classes C.
    pub classes: usize,
}

/// The training data and configuration of a [`TrainBench`] (one RGB stream, 64 toy videos of
/// 50 to 300 snippets, no evaluation).
pub struct TrainBenchSetup {
    /// The toy dataset.
    pub data: WtalDataset,
    /// The fitted configuration.
    pub config: TrainConfig,
    /// Its sampler.
    pub sampler: Sampler,
    /// Floating-point operations of the step's two large products (nearly all its
    /// arithmetic) per step.
    pub step_flop: f64,
}

/// The side of the square matrix product [`large_product_gflops`] is measured on for the
/// training measurement's practical limit.
pub const LIMIT_PRODUCT_SIZE: usize = 2048;

/// The step engines a training measurement compares when none is asked for: both where the
/// backend's default is the fused step (flex and ndarray), else the default alone.
pub fn engines_to_measure(default: StepEngine) -> Vec<StepEngine> {
    match default {
        StepEngine::Fused => vec![StepEngine::Autodiff, StepEngine::Fused],
        other => vec![other],
    }
}

impl TrainBench {
    /// The data and configuration to measure on.
    pub fn setup(&self) -> Result<TrainBenchSetup> {
        let data = toy_dataset(&ToyConfig {
            dim: self.dim,
            num_classes: self.classes,
            train_videos: 64,
            test_videos: 0,
            len_range: (50, 300),
            amplitude: 1.0,
            with_flow: false,
            seed: 0,
        });
        let config = TrainConfig::new(StreamModelConfig::new().with_aggregator(self.aggregator))
            .with_streams(Streams::Rgb)
            .with_batch_size(self.batch_size)
            .with_num_segments(self.segments)
            .with_eval_every(0);
        let config = fit_config(&config, &data)?;
        let sampler = config.sampler(data.train.clone());
        let step_flop = 2.0
            * 2.0
            * (self.batch_size * self.segments * self.dim * config.model.attention_hidden) as f64;
        Ok(TrainBenchSetup {
            data,
            config,
            sampler,
            step_flop,
        })
    }

    /// The setting in words: `one stream, batch 16, T = 20, D = 1024, C = 20, aggregator maa,
    /// 300 timed iterations`.
    pub fn describe(&self) -> String {
        format!(
            "one stream, batch {}, T = {}, D = {}, C = {}, aggregator {}, {} timed iterations",
            self.batch_size,
            self.segments,
            self.dim,
            self.classes,
            self.aggregator,
            self.iterations
        )
    }

    /// The setting as the JSON record of `maan bench train --json` starts it
    /// (`"benchmark": "train"` and every field).
    pub fn record(&self) -> serde_json::Value {
        serde_json::json!({
            "benchmark": "train",
            "batch_size": self.batch_size,
            "segments": self.segments,
            "dim": self.dim,
            "classes": self.classes,
            "aggregator": self.aggregator.to_string(),
            "iterations": self.iterations,
            "warmup": self.warmup,
        })
    }
}

impl TrainBenchSetup {
    /// The practical limit in words: the rate of one large product (`limit`, GFLOP/s, from
    /// [`large_product_gflops`] at [`LIMIT_PRODUCT_SIZE`]) and the time and speed the step's
    /// two products would have at that rate.
    pub fn describe_limit(&self, limit: f64) -> String {
        let flop = self.step_flop;
        format!(
            "practical limit: a {n}^3 product at {limit:.0} GFLOP/s; the step's two products ({:.3} GFLOP) need {:.3} ms at that rate ({:.0} it/s)",
            flop / 1e9,
            1e3 * flop / (limit * 1e9),
            limit * 1e9 / flop,
            n = LIMIT_PRODUCT_SIZE,
        )
    }
}

/// One engine's training speed.
#[derive(Debug, Clone, Serialize)]
pub struct TrainBenchResult {
    /// The step engine.
    pub engine: &'static str,
    /// Iterations per second through `Trainer::step`, the loss read back each time.
    pub iterations_per_second: f64,
    /// Milliseconds per iteration, likewise.
    pub ms_per_iteration: f64,
    /// Warm-up iterations.
    pub warmup_iterations: usize,
    /// Seconds of the warm-up.
    pub warmup_seconds: f64,
    /// Seconds of the first iteration (kernel compilation on GPUs).
    pub first_iteration_seconds: f64,
    /// Iterations per second of the training loop (`Trainer::run`).
    pub loop_iterations_per_second: f64,
    /// GFLOP of the step's two products.
    pub step_gflop: f64,
    /// The products' effective rate at the measured speed, GFLOP/s.
    pub effective_gflops: f64,
    /// The practical limit ([`large_product_gflops`]), GFLOP/s.
    pub large_product_gflops: f64,
    /// Milliseconds per iteration of each phase of a step.
    pub profile_ms: StepPhases,
}

/// Milliseconds per iteration of each phase of a training step.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum StepPhases {
    /// The autodiff step, each phase synchronised.
    Autodiff {
        /// Gathering the batch on the host.
        gather: f64,
        /// Uploading it.
        upload: f64,
        /// Forward pass and loss.
        forward: f64,
        /// Backward pass.
        backward: f64,
        /// `FlatAdam`'s step (what training uses).
        adam: f64,
        /// Burn's own Adam.
        adam_burn: f64,
    },
    /// The fused step.
    Fused {
        /// Gathering the batch.
        gather: f64,
        /// Forward pass and loss.
        forward: f64,
        /// Of which the large product.
        forward_product: f64,
        /// Backward pass.
        backward: f64,
        /// Of which the large product.
        backward_product: f64,
        /// `FlatAdam::step_host`.
        adam: f64,
        /// The two products' rate, GFLOP/s.
        product_gflops: f64,
    },
}

impl TrainBenchResult {
    /// The result in four lines, each starting with `label` right-aligned in 14 columns: the
    /// warm-up, the speed end to end with the products' effective rate against the limit, the
    /// training loop's speed, and the per-phase profile.
    pub fn lines(&self, label: &str) -> Vec<String> {
        let r = self;
        let profile = match &r.profile_ms {
            StepPhases::Autodiff {
                gather,
                upload,
                forward,
                backward,
                adam,
                adam_burn,
            } => format!(
                "profile (ms/iteration, synced per phase): gather {gather:.3}, upload {upload:.3}, forward {forward:.3}, backward {backward:.3}, adam {adam:.3} (Burn's Adam: {adam_burn:.3})"
            ),
            StepPhases::Fused {
                gather,
                forward,
                forward_product,
                backward,
                backward_product,
                adam,
                product_gflops,
            } => format!(
                "profile (ms/iteration): gather {gather:.3}, forward {forward:.3} (product {forward_product:.3} + rest {:.3}), backward {backward:.3} (product {backward_product:.3} + rest {:.3}), adam {adam:.3}; the two products at {product_gflops:.0} GFLOP/s",
                forward - forward_product,
                backward - backward_product,
            ),
        };
        vec![
            format!(
                "{label:>14}: warm-up {} iterations in {:.2} s (first {:.2} s)",
                r.warmup_iterations, r.warmup_seconds, r.first_iteration_seconds
            ),
            format!(
                "{label:>14}: {:8.1} it/s  ({:.3} ms/iteration, end to end; the step's products at an effective {:.0} GFLOP/s, {:.0} % of the limit)",
                r.iterations_per_second,
                r.ms_per_iteration,
                r.effective_gflops,
                100.0 * r.effective_gflops / r.large_product_gflops,
            ),
            format!(
                "{label:>14}: {:8.1} it/s  ({:.3} ms/iteration, training loop: batches gathered on a second thread, loss read every 10)",
                r.loop_iterations_per_second,
                1e3 / r.loop_iterations_per_second
            ),
            format!("{label:>14}  {profile}"),
        ]
    }
}

/// The rate of an `n × n × n` matrix product on backend `B`, in GFLOP/s: the best of three
/// after one untimed (the practical limit the training step's products are compared with).
pub fn large_product_gflops<B: Backend>(device: &B::Device, n: usize) -> f64 {
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

/// Measures `engine` on `setup`: end to end through `Trainer::step` (warm-up apart), the
/// training loop, and the per-phase profile; `limit` is [`large_product_gflops`]'s rate.
pub fn train_speed<B: AutodiffBackend>(
    bench: &TrainBench,
    setup: &TrainBenchSetup,
    engine: StepEngine,
    limit: f64,
    device: &B::Device,
) -> Result<TrainBenchResult> {
    let TrainBenchSetup {
        data,
        config,
        sampler,
        step_flop,
    } = setup;
    let mut trainer = Trainer::<B>::new(config.clone(), data, None, device.clone())?;
    trainer.set_engine(engine)?;
    // End to end through Trainer::step, as the training loop runs it (batch gathered on this
    // thread here; the loop gathers it on a second thread). The first iterations compile
    // kernels (and autotune them on GPUs): reported apart. One training step, synchronised by
    // reading the loss back.
    let mut step = |it: usize| {
        let losses = trainer.step(&sampler.batch(it));
        let _ = losses[0].clone().into_scalar();
    };
    let warmup = bench.warmup.max(1);
    let warm_start = Instant::now();
    step(0);
    let first = warm_start.elapsed().as_secs_f64();
    (1..bench.warmup).for_each(&mut step);
    let warmup_s = warm_start.elapsed().as_secs_f64();
    let start = Instant::now();
    (warmup..warmup + bench.iterations).for_each(&mut step);
    let secs = start.elapsed().as_secs_f64();
    let its = bench.iterations as f64 / secs;
    // The training loop itself, as `maan train` runs it (no evaluation, no checkpoints).
    let looped_config = config.clone().with_iterations(bench.iterations);
    let mut looped = Trainer::<B>::new(looped_config, data, None, device.clone())?;
    looped.set_engine(engine)?;
    let loop_start = Instant::now();
    looped.run(data, &mut NoObserver)?;
    let loop_its = bench.iterations as f64 / loop_start.elapsed().as_secs_f64();
    let n = bench.iterations.clamp(1, 100);
    let profile_ms = match engine {
        StepEngine::Autodiff => autodiff_phases::<B>(config, sampler, device, n),
        StepEngine::Fused => fused_phases::<B>(config, sampler, device, n),
    };
    Ok(TrainBenchResult {
        engine: engine.name(),
        iterations_per_second: its,
        ms_per_iteration: 1e3 * secs / bench.iterations as f64,
        warmup_iterations: warmup,
        warmup_seconds: warmup_s,
        first_iteration_seconds: first,
        loop_iterations_per_second: loop_its,
        step_gflop: step_flop / 1e9,
        effective_gflops: step_flop * its / 1e9,
        large_product_gflops: limit,
        profile_ms,
    })
}

/// The per-phase profile of the autodiff step on a fresh model (gather, upload, forward,
/// backward, Adam step: [`phases`]), with `FlatAdam` (what training uses) and Burn's own Adam.
fn autodiff_phases<B: AutodiffBackend>(
    config: &TrainConfig,
    sampler: &Sampler,
    device: &B::Device,
    n: usize,
) -> StepPhases {
    let mut flat = FlatAdam::<B>::new();
    let t = phases::<B>(config, sampler, device, n, |lr, m, g| flat.step(lr, m, g));
    let mut burn: BurnAdam<StreamModel<B>, B> = AdamConfig::new().init();
    let t_burn = phases::<B>(config, sampler, device, n, |lr, m, g| burn.step(lr, m, g));
    let ms = |s: f64| 1e3 * s / n as f64;
    StepPhases::Autodiff {
        gather: ms(t[0]),
        upload: ms(t[1]),
        forward: ms(t[2]),
        backward: ms(t[3]),
        adam: ms(t[4]),
        adam_burn: ms(t_burn[4]),
    }
}

/// The per-phase profile of the fused step on a fresh model: gather, the forward product and
/// the rest of the forward pass, the backward product and the rest, and Adam
/// (`FlatAdam::step_host`), over `n` iterations after 5 untimed ones.
fn fused_phases<B: AutodiffBackend>(
    config: &TrainConfig,
    sampler: &Sampler,
    device: &B::Device,
    n: usize,
) -> StepPhases {
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
    let d = |d: Duration| ms(d.as_secs_f64());
    StepPhases::Fused {
        gather: ms(gather),
        forward: d(p.forward_product + p.forward_rest),
        forward_product: d(p.forward_product),
        backward: d(p.backward_product + p.backward_rest),
        backward_product: d(p.backward_product),
        adam: ms(optimizer),
        product_gflops: p.product_gflops(),
    }
}

/// Seconds spent in each phase (gather, upload, forward, backward, optimizer step) over `n`
/// iterations on a fresh model (after 5 untimed ones), each phase synchronised.
fn phases<B: AutodiffBackend>(
    config: &TrainConfig,
    sampler: &Sampler,
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

/// The setting of an inference measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InferBench {
    /// Test videos (50 to 650 snippets each).
    pub videos: usize,
    /// Feature dimension D per stream.
    pub dim: usize,
    /// Classes C.
    pub classes: usize,
    /// Timed repetitions (after one untimed pass).
    pub repeats: usize,
    /// How videos are batched.
    pub batching: Batching,
}

/// The time of two-stream inference and localization over the test split.
#[derive(Debug, Clone, Serialize)]
pub struct InferBenchResult {
    /// `chunks`, `buckets` or `exact`.
    pub batching: &'static str,
    /// Distinct input shapes per stream.
    pub input_shapes_per_stream: usize,
    /// Snippets of the test split.
    pub snippets: usize,
    /// Seconds of the untimed pass.
    pub warmup_seconds: f64,
    /// Seconds per pass.
    pub total_seconds: f64,
    /// Of which the models.
    pub model_seconds: f64,
    /// Of which the localization.
    pub localization_seconds: f64,
}

impl InferBenchResult {
    /// The result in three lines, each starting with `label: `: the
    /// batching and its input shapes, the warm-up, and the time of a pass over `videos`
    /// videos split into models and localization.
    pub fn lines(&self, label: &str, videos: usize) -> Vec<String> {
        let r = self;
        vec![
            format!(
                "{label}: {} batching, {} distinct input shapes per stream",
                r.batching, r.input_shapes_per_stream
            ),
            format!("{label}: warm-up pass in {:.2} s", r.warmup_seconds),
            format!(
                "{label}: {:.3} s for {videos} videos ({} snippets): models {:.3} s, localization {:.3} s",
                r.total_seconds, r.snippets, r.model_seconds, r.localization_seconds
            ),
        ]
    }
}

impl InferBench {
    /// The batching mode's name and the distinct input shapes per stream it makes on the
    /// test split's lengths.
    fn shapes(&self, lengths: &[usize]) -> (&'static str, usize) {
        let total: usize = lengths.iter().sum();
        if self.batching.is_chunked() {
            return ("chunks", usize::from(total > 0));
        }
        let shapes: std::collections::BTreeSet<(usize, usize)> = self
            .batching
            .plan(lengths)
            .iter()
            .map(|p| (p.size, p.len))
            .collect();
        let mode = if self.batching.buckets {
            "buckets"
        } else {
            "exact"
        };
        (mode, shapes.len())
    }

    /// The setting in words: `two streams, 210 test videos of 50..650 snippets, D = 1024,
    /// C = 20`.
    pub fn describe(&self) -> String {
        format!(
            "two streams, {} test videos of 50..650 snippets, D = {}, C = {}",
            self.videos, self.dim, self.classes
        )
    }

    /// The setting as the JSON record of `maan bench infer --json` starts it
    /// (`"benchmark": "infer"` and every field but the batching, which each result names).
    pub fn record(&self) -> serde_json::Value {
        serde_json::json!({
            "benchmark": "infer",
            "videos": self.videos,
            "dim": self.dim,
            "classes": self.classes,
            "repeats": self.repeats,
        })
    }

    /// Measures inference (randomly initialised RGB and flow models, fused 0.5 / 0.5) and
    /// localization (the paper preset) on `device`.
    pub fn run<B: Backend>(&self, device: &B::Device) -> Result<InferBenchResult> {
        let data = toy_dataset(&ToyConfig {
            dim: self.dim,
            num_classes: self.classes,
            train_videos: 1,
            test_videos: self.videos,
            len_range: (50, 650),
            amplitude: 1.0,
            with_flow: true,
            seed: 0,
        });
        let lengths: Vec<usize> = data.test.iter().map(|v| v.len).collect();
        let (mode, shapes) = self.shapes(&lengths);
        let cfg = StreamModelConfig::new()
            .with_feature_dim(self.dim)
            .with_num_classes(self.classes);
        let (rgb, flow) = (cfg.init::<B>(device), cfg.init::<B>(device));
        let models = [(StreamKind::Rgb, &rgb), (StreamKind::Flow, &flow)];
        let preset = data.kind.paper_localize();
        let once = || -> Result<(f64, f64)> {
            let t0 = Instant::now();
            let outputs = run_videos_with(&models, &data.test, 0.5, &self.batching, device)?;
            let t1 = Instant::now();
            let names = data.classes.names();
            let sps = data.timing.seconds_per_snippet();
            let dets = detections(&outputs, names, sps, &preset)?;
            std::hint::black_box(dets.num_detections());
            Ok(((t1 - t0).as_secs_f64(), t1.elapsed().as_secs_f64()))
        };
        let warm = Instant::now();
        once()?;
        let warmup_seconds = warm.elapsed().as_secs_f64();
        let (mut model_s, mut loc_s) = (0.0, 0.0);
        for _ in 0..self.repeats.max(1) {
            let (m, l) = once()?;
            model_s += m;
            loc_s += l;
        }
        let r = self.repeats.max(1) as f64;
        Ok(InferBenchResult {
            batching: mode,
            input_shapes_per_stream: shapes,
            snippets: lengths.iter().sum(),
            warmup_seconds,
            total_seconds: (model_s + loc_s) / r,
            model_seconds: model_s / r,
            localization_seconds: loc_s / r,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both engines are compared where the fused step is the default, else the default alone.
    #[test]
    fn engines_to_measure_follow_the_default() {
        let (a, f) = (StepEngine::Autodiff, StepEngine::Fused);
        assert_eq!(engines_to_measure(f), [a, f]);
        assert_eq!(engines_to_measure(a), [a]);
    }

    /// A fused result's lines: the label right-aligned, the share of the limit, the loop's
    /// milliseconds, and each pass's time outside its product (forward 3.0 - 2.5, backward
    /// 4.0 - 1.0).
    #[test]
    fn train_result_lines_derive_their_figures() {
        let r = TrainBenchResult {
            engine: "fused",
            iterations_per_second: 200.0,
            ms_per_iteration: 5.0,
            warmup_iterations: 30,
            warmup_seconds: 0.5,
            first_iteration_seconds: 0.1,
            loop_iterations_per_second: 250.0,
            step_gflop: 0.1,
            effective_gflops: 20.0,
            large_product_gflops: 80.0,
            profile_ms: StepPhases::Fused {
                gather: 0.25,
                forward: 3.0,
                forward_product: 2.5,
                backward: 4.0,
                backward_product: 1.0,
                adam: 0.5,
                product_gflops: 40.0,
            },
        };
        let lines = r.lines("flex fused");
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("    flex fused: warm-up 30 iterations in 0.50 s"));
        assert!(
            lines[1].contains("200.0 it/s  (5.000 ms/iteration")
                && lines[1].contains("25 % of the limit")
        );
        assert!(lines[2].contains("250.0 it/s  (4.000 ms/iteration, training loop"));
        assert!(lines[3].starts_with("    flex fused  profile (ms/iteration): gather 0.250"));
        assert!(lines[3].contains("(product 2.500 + rest 0.500)"));
        assert!(lines[3].contains("(product 1.000 + rest 3.000)"));
    }

    /// The limit's line: a product at `limit` GFLOP/s takes `flop / limit` for the step.
    #[test]
    fn limit_line_converts_the_rate() {
        let setup = TrainBench {
            aggregator: Aggregator::Maa,
            iterations: 1,
            warmup: 1,
            batch_size: 2,
            segments: 3,
            dim: 4,
            classes: 2,
        }
        .setup()
        .unwrap();
        let flop = 2.0 * 2.0 * (2 * 3 * 4 * setup.config.model.attention_hidden) as f64;
        assert_eq!(setup.step_flop, flop);
        let line = setup.describe_limit(flop / 1e9 * 1000.0);
        assert!(
            line.contains("need 1.000 ms at that rate (1000 it/s)"),
            "{line}"
        );
    }
}
