//! Unit tests of the model, the training loop and the checkpoints.

use std::sync::{Mutex, MutexGuard};

pub(crate) use super::{TestAutodiffBackend, TestBackend};

mod background_tests;
mod infer_tests;
mod model_tests;
mod optim_tests;
mod train_tests;

/// A backend's RNG is one process-wide generator: tests that must be reproducible (resume)
/// cannot share it with tests running in parallel, so every test that draws from it holds
/// this lock (one per backend suite).
static BACKEND_RNG: Mutex<()> = Mutex::new(());

/// Factor applied to every numeric tolerance of the tests: 1 on ndarray and wgpu; on CUDA,
/// Burn runs `f32` matrix products of the FC layers on tensor cores in TF32 (10-bit mantissa,
/// relative error about `5e-4` per product), so comparisons of model outputs there get 500×
/// more room (`1e-5` becomes `5e-3`).
pub(crate) const SLACK: f64 = if super::TF32 { 500.0 } else { 1.0 };

/// `Tolerance::rel_abs(rel, abs)` scaled by [`SLACK`].
pub(crate) fn tol(rel: f64, abs: f64) -> burn::tensor::Tolerance<f32> {
    burn::tensor::Tolerance::rel_abs(rel * SLACK, abs * SLACK)
}

pub(crate) fn rng_lock() -> MutexGuard<'static, ()> {
    BACKEND_RNG.lock().unwrap_or_else(|e| e.into_inner())
}

/// Every parameter of a stream model (attention FC1, FC2, classifier; weights then biases) as
/// f32, in a fixed order, for comparing two models.
pub(crate) fn model_params<B: burn::tensor::backend::Backend>(
    m: &crate::StreamModel<B>,
) -> Vec<f32> {
    let mut out = Vec::new();
    for l in [&m.attention_fc1, &m.attention_fc2, &m.classifier] {
        out.extend(
            l.weight
                .val()
                .into_data()
                .convert::<f32>()
                .to_vec::<f32>()
                .unwrap(),
        );
        out.extend(
            l.bias
                .as_ref()
                .unwrap()
                .val()
                .into_data()
                .convert::<f32>()
                .to_vec::<f32>()
                .unwrap(),
        );
    }
    out
}
