//! The aggregators' weights and their exact gradients on host slices, one sequence at a time.
//!
//! A training step that runs on the CPU without a tensor graph (`maan-model`'s fused step)
//! needs, per video, the weights `λ = f(p)` of [`Aggregator::weights`] and the
//! vector-Jacobian product `∂L/∂p = (∂λ/∂p)ᵀ ∂L/∂λ`. This module computes both for one
//! sequence, with no allocation once a [`Workspace`] is warm, in the same conventions as the
//! tensor code: positions where `valid` is false have `p = 0` (the caller masks them, as
//! [`Aggregator::weights`] does), weight 0, and receive gradient 0.
//!
//! # MAA's analytic backward
//!
//! With `f_kg = 1 − p_k + p_k u_g = 1 + p_k (u_g − 1)` at the Gauss–Legendre nodes `u_g`
//! (weights `w_g`), `E_ig = Π_{k≠i} f_kg` and `c_i = Σ_g w_g E_ig`, the weights are
//! `λ_i = p_i c_i` ([`crate::closed_form`]). Since `∂E_ig/∂p_j = (u_g − 1) E_ig / f_jg` for
//! `j ≠ i`,
//!
//! ```text
//! ∂L/∂p_j = g_j c_j + Σ_g w_g (u_g − 1) E_jg (S_g − q_jg),
//!           q_ig = g_i p_i / f_ig,   S_g = Σ_i q_ig,   g = ∂L/∂λ,
//! ```
//!
//! `O(T · ceil(T/2))` like the forward pass, against the `O(T²)` of a dense Jacobian. Every
//! `f_kg ≥ u_g > 0`, so no division by zero even for `p` exactly 0 or 1. The products are taken
//! as `exp(Σ log f)` in `f64`, which keeps long sequences accurate (a thousand factors near
//! `u_g` would underflow a plain `f32` product).
//!
//! The gradients are checked against autodiff of the tensor closed form and against finite
//! differences of the `f64` exhaustive oracle (`maa-core`'s test suite).

use std::sync::Arc;

use crate::quadrature::GaussLegendre;
use crate::Aggregator;

/// Scratch memory of [`weights_row`] and [`weights_vjp_row`], reused between calls.
#[derive(Debug, Default, Clone)]
pub struct Workspace {
    /// `log f_ig` for one node, `[time]`.
    logs: Vec<f64>,
    /// `c_i`, `[time]`.
    context: Vec<f64>,
    /// `q_ig` for one node, `[time]`.
    q: Vec<f64>,
    /// Accumulated `∂L/∂p`, `[time]`.
    grad: Vec<f64>,
    /// The rule for the last `time` seen.
    rule: Option<(usize, Arc<GaussLegendre>)>,
}

impl Workspace {
    /// An empty workspace; it grows to the longest sequence it meets.
    pub fn new() -> Self {
        Self::default()
    }

    fn prepare(&mut self, time: usize) {
        for v in [
            &mut self.logs,
            &mut self.context,
            &mut self.q,
            &mut self.grad,
        ] {
            v.clear();
            v.resize(time, 0.0);
        }
        if self.rule.as_ref().map(|(t, _)| *t) != Some(time) {
            self.rule = Some((time, GaussLegendre::for_time(time)));
        }
    }
}

/// Whether [`weights_row`] and [`weights_vjp_row`] compute `aggregator` with `training` as
/// [`Aggregator::weights`] does: every aggregator except `Dropout` while training, whose
/// mask is drawn from the backend's random generator.
pub fn supported(aggregator: Aggregator, training: bool) -> bool {
    !(training && aggregator == Aggregator::Dropout)
}

/// The weights `λ` of one sequence, as [`Aggregator::weights`] computes them for one row of
/// its batch.
///
/// # Shapes
/// - `probs`: `[time]`, values in `[0, 1]`, 0 where `valid` is false
/// - `valid`: `[time]`, `true` for real snippets
/// - `weights` (written): `[time]`
///
/// # Panics
/// If the lengths differ, or the aggregator is not [`supported`] with `training`.
pub fn weights_row(
    aggregator: Aggregator,
    training: bool,
    probs: &[f32],
    valid: &[bool],
    weights: &mut [f32],
    ws: &mut Workspace,
) {
    check(aggregator, training, probs, valid, weights.len());
    match aggregator {
        Aggregator::Maa => {
            maa_context(probs, valid, ws);
            for ((w, &p), &c) in weights.iter_mut().zip(probs).zip(&ws.context) {
                *w = (p as f64 * c) as f32;
            }
        }
        Aggregator::WeightedSum | Aggregator::Dropout => weights.copy_from_slice(probs),
        Aggregator::Norm => {
            let total = norm_total(probs);
            for (w, &p) in weights.iter_mut().zip(probs) {
                *w = p / total;
            }
        }
        Aggregator::SoftmaxNorm => {
            let total = softmax_total(probs, valid);
            for ((w, &p), &v) in weights.iter_mut().zip(probs).zip(valid) {
                *w = if v { p.exp() / total } else { 0.0 };
            }
        }
        Aggregator::Mean => {
            let count = valid.iter().filter(|&&v| v).count().max(1) as f32;
            for (w, &v) in weights.iter_mut().zip(valid) {
                *w = if v { 1.0 / count } else { 0.0 };
            }
        }
    }
}

/// The vector-Jacobian product of [`weights_row`]: `grad_probs = (∂λ/∂p)ᵀ grad_weights`,
/// 0 where `valid` is false (the gradient of the masking).
///
/// # Shapes
/// - `probs`, `valid`, `grad_weights`: `[time]` (`probs` 0 where `valid` is false)
/// - `grad_probs` (written): `[time]`
///
/// # Panics
/// If the lengths differ, or the aggregator is not [`supported`] with `training`.
pub fn weights_vjp_row(
    aggregator: Aggregator,
    training: bool,
    probs: &[f32],
    valid: &[bool],
    grad_weights: &[f32],
    grad_probs: &mut [f32],
    ws: &mut Workspace,
) {
    check(aggregator, training, probs, valid, grad_probs.len());
    assert_eq!(grad_weights.len(), probs.len(), "grad_weights length");
    match aggregator {
        Aggregator::Maa => maa_vjp(probs, valid, grad_weights, grad_probs, ws),
        Aggregator::WeightedSum | Aggregator::Dropout => grad_probs.copy_from_slice(grad_weights),
        Aggregator::Norm => {
            let sum: f32 = probs.iter().sum();
            let total = sum.max(f32::MIN_POSITIVE);
            // d(p_j / S)/dp_j = 1/S; through S (unless clamped): −Σ_i g_i p_i / S².
            let through_total = if sum > f32::MIN_POSITIVE {
                probs
                    .iter()
                    .zip(grad_weights)
                    .map(|(&p, &g)| g * p)
                    .sum::<f32>()
                    / (total * total)
            } else {
                0.0
            };
            for (d, &g) in grad_probs.iter_mut().zip(grad_weights) {
                *d = g / total - through_total;
            }
        }
        Aggregator::SoftmaxNorm => {
            let total = softmax_total(probs, valid);
            let lambda = |p: f32, v: bool| if v { p.exp() / total } else { 0.0 };
            let dot: f32 = probs
                .iter()
                .zip(valid)
                .zip(grad_weights)
                .map(|((&p, &v), &g)| g * lambda(p, v))
                .sum();
            for (((d, &p), &v), &g) in grad_probs
                .iter_mut()
                .zip(probs)
                .zip(valid)
                .zip(grad_weights)
            {
                *d = lambda(p, v) * (g - dot);
            }
        }
        Aggregator::Mean => grad_probs.fill(0.0),
    }
    for (d, &v) in grad_probs.iter_mut().zip(valid) {
        if !v {
            *d = 0.0;
        }
    }
}

fn check(aggregator: Aggregator, training: bool, probs: &[f32], valid: &[bool], out: usize) {
    assert!(
        supported(aggregator, training),
        "the host weights of {aggregator} while training are not supported (random mask)"
    );
    assert!(
        probs.len() == valid.len() && out == probs.len(),
        "probs, valid and output lengths differ: {}, {}, {out}",
        probs.len(),
        valid.len()
    );
}

/// `max(Σ p, f32::MIN_POSITIVE)`, as `Aggregator::Norm` clamps it.
fn norm_total(probs: &[f32]) -> f32 {
    probs.iter().sum::<f32>().max(f32::MIN_POSITIVE)
}

/// `Σ_valid exp(p)`.
fn softmax_total(probs: &[f32], valid: &[bool]) -> f32 {
    probs
        .iter()
        .zip(valid)
        .filter(|(_, &v)| v)
        .map(|(&p, _)| p.exp())
        .sum()
}

/// Fills `ws.context` with `c_i` (0 where invalid).
fn maa_context(probs: &[f32], valid: &[bool], ws: &mut Workspace) {
    ws.prepare(probs.len());
    let (_, rule) = ws.rule.as_ref().expect("prepared");
    for (&um1, &w) in rule.nodes_minus_one.iter().zip(&rule.weights) {
        let mut total = 0.0;
        for ((l, &p), &v) in ws.logs.iter_mut().zip(probs).zip(valid) {
            *l = if v { (p as f64 * um1).ln_1p() } else { 0.0 };
            total += *l;
        }
        for ((c, &l), &v) in ws.context.iter_mut().zip(&ws.logs).zip(valid) {
            if v {
                *c += w * (total - l).exp();
            }
        }
    }
}

/// MAA's vector-Jacobian product (module docs).
fn maa_vjp(
    probs: &[f32],
    valid: &[bool],
    grad_weights: &[f32],
    grad_probs: &mut [f32],
    ws: &mut Workspace,
) {
    maa_context(probs, valid, ws);
    for ((d, &g), &c) in ws.grad.iter_mut().zip(grad_weights).zip(&ws.context) {
        *d = g as f64 * c;
    }
    let (_, rule) = ws.rule.as_ref().expect("prepared");
    for (&um1, &w) in rule.nodes_minus_one.iter().zip(&rule.weights) {
        let mut total = 0.0;
        let mut s = 0.0;
        for ((((l, q), &p), &v), &g) in ws
            .logs
            .iter_mut()
            .zip(ws.q.iter_mut())
            .zip(probs)
            .zip(valid)
            .zip(grad_weights)
        {
            if v {
                *l = (p as f64 * um1).ln_1p();
                *q = g as f64 * p as f64 * (-*l).exp();
            } else {
                *l = 0.0;
                *q = 0.0;
            }
            total += *l;
            s += *q;
        }
        let scale = w * um1;
        for (((d, &l), &q), &v) in ws.grad.iter_mut().zip(&ws.logs).zip(&ws.q).zip(valid) {
            if v {
                *d += scale * (total - l).exp() * (s - q);
            }
        }
    }
    for (out, &d) in grad_probs.iter_mut().zip(&ws.grad) {
        *out = d as f32;
    }
}
