//! The unit tests on CUDA, with the `test-cuda` feature.

/// The backend of this suite.
pub(crate) type TestBackend = burn::backend::Cuda;
/// [`TestBackend`] with autodiff.
pub(crate) type TestAutodiffBackend = burn::backend::Autodiff<TestBackend>;
/// Whether `f32` matrix products run in TF32 on this backend (CUDA's tensor cores).
#[allow(dead_code)]
pub(crate) const TF32: bool = true;
/// Whether this is a GPU backend (its reductions may round differently from run to run).
#[allow(dead_code)]
pub(crate) const GPU: bool = true;
#[path = "tests/mod.rs"]
mod tests;
