//! # maa-core: Marginalized Average Aggregation as a Burn pooling layer
//!
//! MAA (Yuan et al., *Marginalized Average Attentional Network for Weakly-Supervised
//! Learning*, ICLR 2019) aggregates `T` features `x_i` with latent discriminative
//! probabilities `p_i` as the expected average over a random subset,
//!
//! ```text
//! MAA(x, p) = E[ Σ_i z_i x_i / Σ_i z_i ],   z_i ~ Bernoulli(p_i) independent,   0/0 := 0.
//! ```
//!
//! This crate knows nothing of videos or datasets: any Burn model can use it as a pooling
//! layer, on any backend, with or without `Autodiff`.
//!
//! ## The identity behind the closed form
//!
//! Proposition 1 of the paper writes `MAA = Σ_i λ_i x_i` with `λ_i = p_i c_i` and
//! `c_i = E[1 / (1 + Σ_{k≠i} z_k)]`. Because `1 / (1 + s) = ∫_0^1 u^s du` and the `z_k` are
//! independent, `E[u^{Σ_{k≠i} z_k}] = Π_{k≠i} (1 - p_k + p_k u)`, so
//!
//! ```text
//! c_i = ∫_0^1 Π_{k≠i} (1 - p_k + p_k u) du .
//! ```
//!
//! The integrand is a polynomial of degree `T - 1`, which Gauss–Legendre quadrature with
//! `ceil(T/2)` nodes integrates exactly: MAA costs `O(B·T·(T/2 + D))` tensor work with no
//! sequential loop, and plain autodiff gives exact gradients. See [`closed_form`].
//!
//! ## Three implementations, one answer
//!
//! | function | method | use |
//! |---|---|---|
//! | [`marginalized_average`] | closed form by quadrature | the default, fastest |
//! | [`recurrence::marginalized_average`] | the paper's Algorithm 1, `T` tensor steps | reference, baseline |
//! | [`exhaustive::marginalized_average`] | `f64` sum over all `2^T` subsets | test oracle (`T ≤ 20`) |
//!
//! The paper's Table 1 baselines (STPN's weighted sum, Dropout, Norm, SoftMaxNorm) and mean
//! pooling are the other variants of [`Aggregator`]; [`MaaPool`] wraps any of them as a
//! `Module` for `[B, T, D]` and `[B, H, W, D]` inputs.
//!
//! ```
//! use burn::backend::{Autodiff, NdArray};
//! use burn::tensor::Tensor;
//!
//! type B = Autodiff<NdArray>;
//! let device = Default::default();
//! let probs = Tensor::<B, 2>::from_floats([[0.2, 0.9, 0.6, 0.0]], &device).require_grad();
//! let feats = Tensor::<B, 3>::random([1, 4, 16], burn::tensor::Distribution::Default, &device);
//! let pooled = maa_core::marginalized_average(probs.clone(), feats); // [1, 16]
//! let grads = pooled.sum().backward();
//! assert_eq!(probs.grad(&grads).unwrap().dims(), [1, 4]);
//! ```
//!
//! Useful identities (all tested): `Σ_i λ_i = 1 - Π_i (1 - p_i)`; `p_i ≥ p_j ⇔ c_i ≥ c_j ⇔
//! λ_i ≥ λ_j` (Proposition 1); the dominant-response suppression of Proposition 2; equal `p`
//! give equal `λ`; a single `p_i = 1` with all others 0 gives `x_i`.
//!
//! # Shapes
//! Probabilities are `[batch, time]`, features `[batch, time, dim]`, masks `[batch, time]`
//! (`true` = real snippet), outputs `[batch, dim]`.

// Each backend suite loads the same test files (`suite_*.rs`).
#![cfg_attr(test, allow(clippy::duplicate_mod))]

pub mod aggregator;
pub mod closed_form;
pub mod exhaustive;
pub mod host;
pub mod pool;
pub mod quadrature;
pub mod recurrence;

pub use aggregator::{Aggregator, UnknownAggregator};
pub use closed_form::{
    context_factors, marginalized_average, marginalized_average_masked, marginalized_weights,
    marginalized_weights_host, marginalized_weights_masked, mask_from_lengths, weighted_sum,
};
pub use pool::{MaaPool, MaaPoolConfig};

// The numeric suite (`tests.rs`) runs once per test backend: flex in every `cargo test`, the
// others with a feature (CI runs ndarray and wgpu; CUDA where a GPU is lent).
/// The unit tests on flex, always (the fastest CPU backend).
#[cfg(test)]
mod suite_flex;

/// The host weights and gradients ([`host`]) against autodiff on flex and the `f64` oracle.
#[cfg(test)]
mod host_tests;

/// The unit tests on ndarray, with the `test-ndarray` feature.
#[cfg(all(test, feature = "test-ndarray"))]
mod suite_ndarray;

/// The unit tests on wgpu (Vulkan; lavapipe on CPU-only machines), with the `test-wgpu` feature.
#[cfg(all(test, feature = "test-wgpu"))]
mod suite_wgpu;

/// The unit tests on CUDA, with the `test-cuda` feature.
#[cfg(all(test, feature = "test-cuda"))]
mod suite_cuda;

/// The Rust examples of the repository's README, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
