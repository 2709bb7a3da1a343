//! The fused training step of one stream on the CPU: forward pass, analytic backward pass and
//! loss in one pass over host memory, without a tensor graph.
//!
//! # Why
//!
//! A training step of MAAN is two matrix products (the attention's first layer, `[B·T, D] ×
//! [D, 256]`, forward, and its weight gradient, `[D, B·T] × [B·T, 256]`: 0.34 GFLOP per stream
//! at batch 16, T = 20, D = 1024) and some forty small operations. Through Burn's autodiff on a
//! CPU backend each small operation allocates its output, records a node and is visited again
//! backward, and Adam walks the 283k parameters a dozen times: the profile of `maan bench
//! train` on flex put more than half of the step outside the two products
//! (`docs/benchmarks.md`). [`FusedStep`] computes the same loss and the same gradients with
//! the two products in the `gemm` crate's kernels (those flex uses) and everything else in a
//! few loops over buffers it reuses, and the trainer then runs Adam in one pass
//! ([`crate::optim::FlatAdam::step_host`]).
//!
//! # What it computes
//!
//! Exactly [`StreamModel::forward_loss`](crate::StreamModel::forward_loss) and the gradient
//! autodiff gives of it, for every aggregator but `Dropout` (whose mask is drawn from the
//! backend's random generator), with or without a padding mask, BaS-Net's background class
//! ([`Background::Bas`]), STPN's sparsity term, and attention-guided erasing (which here costs
//! no second attention pass: the attention does not depend on the mask). With
//! `x` `[N = B·T, D]`, parameters as [`StreamModel`](crate::StreamModel) stores them (`W₁`
//! `[D, H]`, `b₁`, `w₂` `[H, 1]`, `b₂`, `W_c` `[D, C']`, `b_c`):
//!
//! ```text
//! z₁ = x W₁ + b₁,  a₁ = LeakyReLU(z₁),  p = σ(a₁ w₂ + b₂) (0 where masked),  λ = agg(p)
//! x̄_b = Σ_t λ_bt x_bt,  logits = x̄ W_c + b_c,  loss = BCE(logits, y) (+ base branch, + β L1)
//! ∂logits = (σ(logits) − y) / (B C'),  ∂W_c = x̄ᵀ ∂logits,  ∂x̄ = ∂logits W_cᵀ
//! ∂λ_bt = x_bt · ∂x̄_b,  ∂p = aggᵀ(∂λ) (maa_core::host),  ∂z₂ = ∂p p (1 − p)
//! ∂w₂ = a₁ᵀ ∂z₂,  ∂z₁ = ∂z₂ w₂ᵀ ⊙ LeakyReLU'(z₁),  ∂W₁ = xᵀ ∂z₁
//! ```
//!
//! The results equal autodiff's to float rounding (the sums run in another order); the unit
//! tests compare loss and gradients on random batches for every supported configuration, and
//! 100 training steps of both engines.

mod matmul;

use std::time::{Duration, Instant};

use maa_core::host as agg;
use maa_core::Aggregator;

use crate::model::{erase_highest, Background, StreamModelConfig};
use matmul::{matmul, Layout};

/// One training batch of one stream, on the host.
#[derive(Debug, Clone, Copy)]
pub struct FusedBatch<'a> {
    /// Snippet features, row-major. Shape `[batch, time, dim]`.
    pub features: &'a [f32],
    /// Multi-hot labels of the action classes. Shape `[batch, classes]`.
    pub labels: &'a [f32],
    /// `true` on real snippets. Shape `[batch, time]`.
    pub mask: &'a [bool],
    /// Videos in the batch.
    pub batch: usize,
    /// Snippets per video (padded).
    pub time: usize,
}

/// Where each parameter of a stream starts in the flat vector, in the order
/// [`StreamModel`](crate::StreamModel)'s parameters are visited (and [`FlatAdam`] lays them
/// out): `W₁` `[D, H]`, `b₁` `[H]`, `w₂` `[H, 1]`, `b₂` `[1]`, `W_c` `[D, C']`, `b_c` `[C']`.
///
/// [`FlatAdam`]: crate::optim::FlatAdam
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shapes {
    dim: usize,
    hidden: usize,
    /// Classifier outputs `C'` (`C`, or `C + 1` with the background class).
    outputs: usize,
}

impl Shapes {
    fn param_shapes(&self) -> Vec<Vec<usize>> {
        let Shapes {
            dim: d,
            hidden: h,
            outputs: o,
        } = *self;
        vec![
            vec![d, h],
            vec![h],
            vec![h, 1],
            vec![1],
            vec![d, o],
            vec![o],
        ]
    }

    fn len(&self) -> usize {
        self.param_shapes()
            .iter()
            .map(|s| s.iter().product::<usize>())
            .sum()
    }
}

/// Splits a flat parameter (or gradient) vector into its six parts.
macro_rules! split_params {
    ($v:expr, $s:expr, $split:ident) => {{
        let (w1, rest) = $v.$split($s.dim * $s.hidden);
        let (b1, rest) = rest.$split($s.hidden);
        let (w2, rest) = rest.$split($s.hidden);
        let (b2, rest) = rest.$split(1);
        let (wc, bc) = rest.$split($s.dim * $s.outputs);
        (w1, b1, w2, b2, wc, bc)
    }};
}

/// The fused forward + backward pass of one stream (module docs), with its buffers.
#[derive(Debug, Clone)]
pub struct FusedStep {
    shapes: Shapes,
    classes: usize,
    slope: f32,
    aggregator: Aggregator,
    background: Background,
    sparsity: f32,
    buffers: Buffers,
    workspace: agg::Workspace,
    profile: StepProfile,
}

/// Where [`FusedStep::loss_and_gradient`]'s time went, summed over the steps since the last
/// [`FusedStep::take_profile`] (wall-clock time of the calling thread; the products use every
/// core).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StepProfile {
    /// Steps measured.
    pub steps: usize,
    /// Multiply-adds of the two large products (`z₁ = x W₁` and `∂W₁ = xᵀ ∂z₁`) per step.
    pub product_macs: usize,
    /// The forward product `x W₁`.
    pub forward_product: Duration,
    /// The rest of the forward pass and the loss (activations, attention, aggregation,
    /// classifier).
    pub forward_rest: Duration,
    /// The backward product `xᵀ ∂z₁`.
    pub backward_product: Duration,
    /// The rest of the backward pass.
    pub backward_rest: Duration,
}

impl StepProfile {
    /// The two products' rate, in GFLOP/s (2 FLOP per multiply-add).
    pub fn product_gflops(&self) -> f64 {
        let secs = (self.forward_product + self.backward_product).as_secs_f64();
        2.0 * (self.product_macs * self.steps) as f64 / secs.max(1e-12) / 1e9
    }
}

/// Intermediate values, kept between steps so that a step allocates nothing.
#[derive(Debug, Clone, Default)]
struct Buffers {
    /// `z₁`, then `∂z₁`. `[N, H]`.
    z1: Vec<f32>,
    /// `a₁`. `[N, H]`.
    a1: Vec<f32>,
    /// `σ(z₂)` before masking. `[N]`.
    sigma: Vec<f32>,
    /// `p` (0 where masked). `[N]`.
    probs: Vec<f32>,
    /// The mask after erasing. `[N]`.
    valid: Vec<bool>,
    /// `λ`, then `∂λ`. `[N]`.
    weights: Vec<f32>,
    /// `∂p`, then `∂z₂`. `[N]`.
    grad_probs: Vec<f32>,
    /// `x̄`. `[B, D]`.
    pooled: Vec<f32>,
    /// `x̄` of the base branch (uniform mean). `[B, D]`.
    base_pooled: Vec<f32>,
    /// Logits, then `∂logits`. `[B, C']`.
    logits: Vec<f32>,
    /// Base-branch logits, then their gradient. `[B, C']`.
    base_logits: Vec<f32>,
    /// `∂x̄`. `[B, D]`.
    grad_pooled: Vec<f32>,
    /// Real snippets per video. `[B]`.
    counts: Vec<usize>,
}

impl FusedStep {
    /// The fused step of a stream built from `config`, or `None` for the `Dropout` aggregator
    /// (its training mask comes from the backend's random generator).
    pub fn new(config: &StreamModelConfig) -> Option<Self> {
        if !agg::supported(config.aggregator, true) {
            return None;
        }
        Some(FusedStep {
            shapes: Shapes {
                dim: config.feature_dim,
                hidden: config.attention_hidden,
                outputs: config.num_classes + config.background.extra_outputs(),
            },
            classes: config.num_classes,
            slope: config.leaky_relu_slope as f32,
            aggregator: config.aggregator,
            background: config.background,
            sparsity: config.effective_sparsity_weight() as f32,
            buffers: Buffers::default(),
            workspace: agg::Workspace::new(),
            profile: StepProfile::default(),
        })
    }

    /// Number of parameters (the length of the flat vectors).
    pub fn num_params(&self) -> usize {
        self.shapes.len()
    }

    /// The time profile of the steps since the last call (and resets it).
    pub fn take_profile(&mut self) -> StepProfile {
        std::mem::take(&mut self.profile)
    }

    /// The shapes of the parameters in flat order (module docs of this type's `Shapes`).
    pub fn param_shapes(&self) -> Vec<Vec<usize>> {
        self.shapes.param_shapes()
    }

    /// The training loss of `batch` (what `StreamModel::forward_loss` returns, with the
    /// `attention_erase` fraction applied as the trainer does) and its gradient with respect to
    /// every parameter, written into `grad`.
    ///
    /// # Shapes
    /// - `params`, `grad`: `[num_params]`, in the order of [`FusedStep::param_shapes`]
    /// - `batch`: see [`FusedBatch`]
    ///
    /// # Panics
    /// If a length disagrees with the shapes.
    pub fn loss_and_gradient(
        &mut self,
        params: &[f32],
        batch: FusedBatch<'_>,
        attention_erase: f64,
        grad: &mut [f32],
    ) -> f32 {
        let s = self.shapes;
        let (d, h, o, c) = (s.dim, s.hidden, s.outputs, self.classes);
        let (bsz, time) = (batch.batch, batch.time);
        let n = bsz * time;
        assert_eq!(params.len(), s.len(), "parameters");
        assert_eq!(grad.len(), s.len(), "gradient");
        assert_eq!(
            batch.features.len(),
            n * d,
            "features are not [{bsz}, {time}, {d}]"
        );
        assert_eq!(batch.labels.len(), bsz * c, "labels are not [{bsz}, {c}]");
        assert_eq!(batch.mask.len(), n, "mask is not [{bsz}, {time}]");
        let x = batch.features;
        let (w1, b1, w2, b2, wc, bc) = split_params!(params, s, split_at);
        let (gw1, gb1, gw2, gb2, gwc, gbc) = split_params!(grad, s, split_at_mut);
        let buf = &mut self.buffers;
        resize(&mut buf.z1, n * h);
        resize(&mut buf.a1, n * h);
        for v in [
            &mut buf.sigma,
            &mut buf.probs,
            &mut buf.weights,
            &mut buf.grad_probs,
        ] {
            resize(v, n);
        }
        for v in [&mut buf.pooled, &mut buf.base_pooled, &mut buf.grad_pooled] {
            resize(v, bsz * d);
        }
        resize(&mut buf.logits, bsz * o);
        resize(&mut buf.base_logits, bsz * o);

        // Attention: z₁ = x W₁ + b₁, a₁ = LeakyReLU(z₁), σ(a₁ w₂ + b₂).
        let t0 = Instant::now();
        matmul(
            &mut buf.z1,
            x,
            Layout::Normal,
            w1,
            Layout::Normal,
            [n, h, d],
            false,
        );
        let t1 = Instant::now();
        let slope = self.slope;
        for (zrow, arow) in buf.z1.chunks_exact_mut(h).zip(buf.a1.chunks_exact_mut(h)) {
            for ((z, a), &bias) in zrow.iter_mut().zip(arow.iter_mut()).zip(b1) {
                *z += bias;
                *a = if *z < 0.0 { *z * slope } else { *z };
            }
        }
        for (sig, arow) in buf.sigma.iter_mut().zip(buf.a1.chunks_exact(h)) {
            *sig = sigmoid(dot(arow, w2) + b2[0]);
        }

        // The mask: padding, then (optionally) the snippets the attention rates highest.
        buf.valid.clear();
        buf.valid.extend_from_slice(batch.mask);
        for ((p, &sig), &v) in buf.probs.iter_mut().zip(&buf.sigma).zip(&buf.valid) {
            *p = if v { sig } else { 0.0 };
        }
        if attention_erase > 0.0 {
            buf.valid = erase_highest(&buf.probs, &buf.valid, time, attention_erase);
            for (p, &v) in buf.probs.iter_mut().zip(&buf.valid) {
                if !v {
                    *p = 0.0;
                }
            }
        }
        buf.counts.clear();
        buf.counts.extend(
            buf.valid
                .chunks_exact(time.max(1))
                .map(|row| row.iter().filter(|&&v| v).count()),
        );

        // Aggregation and classifier.
        for ((p, v), w) in buf
            .probs
            .chunks_exact(time)
            .zip(buf.valid.chunks_exact(time))
            .zip(buf.weights.chunks_exact_mut(time))
        {
            agg::weights_row(self.aggregator, true, p, v, w, &mut self.workspace);
        }
        pool(&mut buf.pooled, &buf.weights, x, time, d);
        linear(&mut buf.logits, &buf.pooled, wc, bc, [bsz, o, d]);
        let with_base = self.background == Background::Bas;
        if with_base {
            for ((w, v), &count) in buf
                .weights
                .chunks_exact_mut(time)
                .zip(buf.valid.chunks_exact(time))
                .zip(&buf.counts)
            {
                // Aggregator::Mean's weights: 1 / max(n, 1) on the real snippets.
                let u = 1.0 / count.max(1) as f32;
                for (w, &v) in w.iter_mut().zip(v) {
                    *w = if v { u } else { 0.0 };
                }
            }
            pool(&mut buf.base_pooled, &buf.weights, x, time, d);
            linear(&mut buf.base_logits, &buf.base_pooled, wc, bc, [bsz, o, d]);
        }

        // Loss, and ∂logits in place of the logits.
        let scale = 1.0 / (bsz * o) as f32;
        let target = |b: usize, j: usize, background: f32| {
            if j < c {
                batch.labels[b * c + j]
            } else {
                background
            }
        };
        let mut loss = bce_and_grad(&mut buf.logits, o, scale, |b, j| target(b, j, 0.0));
        if with_base {
            loss += bce_and_grad(&mut buf.base_logits, o, scale, |b, j| target(b, j, 1.0));
        }
        if self.sparsity != 0.0 {
            let l1: f64 = buf
                .probs
                .chunks_exact(time)
                .zip(&buf.counts)
                .map(|(p, &count)| p.iter().map(|&x| x as f64).sum::<f64>() / count.max(1) as f64)
                .sum::<f64>()
                / bsz as f64;
            loss += self.sparsity as f64 * l1;
        }

        let t2 = Instant::now();
        // Classifier gradients (both branches share W_c and b_c).
        matmul(
            gwc,
            &buf.pooled,
            Layout::Transposed,
            &buf.logits,
            Layout::Normal,
            [d, o, bsz],
            false,
        );
        column_sums(gbc, &buf.logits, o, false);
        if with_base {
            matmul(
                gwc,
                &buf.base_pooled,
                Layout::Transposed,
                &buf.base_logits,
                Layout::Normal,
                [d, o, bsz],
                true,
            );
            column_sums(gbc, &buf.base_logits, o, true);
        }
        // ∂x̄ (the base branch's pooling has no parameters and no attention: it stops there).
        matmul(
            &mut buf.grad_pooled,
            &buf.logits,
            Layout::Normal,
            wc,
            Layout::Transposed,
            [bsz, d, o],
            false,
        );
        // ∂λ_bt = x_bt · ∂x̄_b (reusing the weights' buffer).
        for ((dl, xb), gp) in buf
            .weights
            .chunks_exact_mut(time)
            .zip(x.chunks_exact(time * d))
            .zip(buf.grad_pooled.chunks_exact(d))
        {
            for (dl, xt) in dl.iter_mut().zip(xb.chunks_exact(d)) {
                *dl = dot(xt, gp);
            }
        }
        // ∂p through the aggregator, plus STPN's sparsity term.
        for (((p, v), dl), dp) in buf
            .probs
            .chunks_exact(time)
            .zip(buf.valid.chunks_exact(time))
            .zip(buf.weights.chunks_exact(time))
            .zip(buf.grad_probs.chunks_exact_mut(time))
        {
            agg::weights_vjp_row(self.aggregator, true, p, v, dl, dp, &mut self.workspace);
        }
        if self.sparsity != 0.0 {
            for ((dp, v), &count) in buf
                .grad_probs
                .chunks_exact_mut(time)
                .zip(buf.valid.chunks_exact(time))
                .zip(&buf.counts)
            {
                let g = self.sparsity / (bsz as f32 * count.max(1) as f32);
                for (dp, &v) in dp.iter_mut().zip(v) {
                    if v {
                        *dp += g;
                    }
                }
            }
        }
        // ∂z₂ = ∂p σ (1 − σ) (in place); ∂w₂, ∂b₂; ∂z₁ (in place of z₁); ∂W₁, ∂b₁.
        for (g, &sig) in buf.grad_probs.iter_mut().zip(&buf.sigma) {
            *g *= sig * (1.0 - sig);
        }
        gw2.fill(0.0);
        let mut db2 = 0.0f32;
        for (arow, &g) in buf.a1.chunks_exact(h).zip(&buf.grad_probs) {
            db2 += g;
            if g != 0.0 {
                axpy(gw2, g, arow);
            }
        }
        gb2[0] = db2;
        for (zrow, &g) in buf.z1.chunks_exact_mut(h).zip(&buf.grad_probs) {
            for (z, &w) in zrow.iter_mut().zip(w2.iter()) {
                let slope = if *z < 0.0 { slope } else { 1.0 };
                *z = g * w * slope;
            }
        }
        let t3 = Instant::now();
        matmul(
            gw1,
            x,
            Layout::Transposed,
            &buf.z1,
            Layout::Normal,
            [d, h, n],
            false,
        );
        let t4 = Instant::now();
        column_sums(gb1, &buf.z1, h, false);
        let t5 = Instant::now();
        let p = &mut self.profile;
        p.steps += 1;
        p.product_macs = 2 * n * h * d;
        p.forward_product += t1 - t0;
        p.forward_rest += t2 - t1;
        p.backward_product += t4 - t3;
        p.backward_rest += (t3 - t2) + (t5 - t4);
        loss as f32
    }
}

fn resize(v: &mut Vec<f32>, len: usize) {
    v.clear();
    v.resize(len, 0.0);
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// `log σ(x)`, stable for large `|x|`.
fn log_sigmoid(x: f32) -> f64 {
    let x = x as f64;
    -((-x).max(0.0) + (-x.abs()).exp().ln_1p())
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    // Eight partial sums: vectorizes, and keeps the rounding of long sums small.
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

/// `y += a x`.
fn axpy(y: &mut [f32], a: f32, x: &[f32]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y += a * x;
    }
}

/// `pooled_b = Σ_t weights_bt x_bt`. Shapes: `pooled` `[B, D]`, `weights` `[B, T]`, `x`
/// `[B, T, D]`.
fn pool(pooled: &mut [f32], weights: &[f32], x: &[f32], time: usize, dim: usize) {
    for ((out, w), xb) in pooled
        .chunks_exact_mut(dim)
        .zip(weights.chunks_exact(time))
        .zip(x.chunks_exact(time * dim))
    {
        out.fill(0.0);
        for (&w, xt) in w.iter().zip(xb.chunks_exact(dim)) {
            if w != 0.0 {
                axpy(out, w, xt);
            }
        }
    }
}

/// `out = input W + bias`: `input` `[rows, k]`, `W` `[k, cols]`, `out` `[rows, cols]`.
fn linear(out: &mut [f32], input: &[f32], w: &[f32], bias: &[f32], [rows, cols, k]: [usize; 3]) {
    matmul(
        out,
        input,
        Layout::Normal,
        w,
        Layout::Normal,
        [rows, cols, k],
        false,
    );
    for row in out.chunks_exact_mut(cols) {
        for (o, &b) in row.iter_mut().zip(bias) {
            *o += b;
        }
    }
    debug_assert_eq!(out.len(), rows * cols);
}

/// `out[j] (+)= Σ_i m[i, j]` for `m` `[rows, cols]`.
fn column_sums(out: &mut [f32], m: &[f32], cols: usize, accumulate: bool) {
    if !accumulate {
        out.fill(0.0);
    }
    for row in m.chunks_exact(cols) {
        for (o, &v) in out.iter_mut().zip(row) {
            *o += v;
        }
    }
}

/// The mean binary cross-entropy of `logits` `[B, cols]` against `target(b, j)`, returned
/// (summed in `f64`), with `logits` replaced by its gradient `scale · (σ(z) − y)`.
fn bce_and_grad(
    logits: &mut [f32],
    cols: usize,
    scale: f32,
    target: impl Fn(usize, usize) -> f32,
) -> f64 {
    let mut total = 0.0f64;
    for (b, row) in logits.chunks_exact_mut(cols).enumerate() {
        for (j, z) in row.iter_mut().enumerate() {
            let y = target(b, j);
            total += y as f64 * log_sigmoid(*z) + (1.0 - y as f64) * log_sigmoid(-*z);
            *z = scale * (sigmoid(*z) - y);
        }
    }
    -total * scale as f64
}
