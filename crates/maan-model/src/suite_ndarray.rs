//! The unit tests on ndarray, with the `test-ndarray` feature.

/// The backend of this suite.
pub(crate) type TestBackend = burn::backend::NdArray;
/// [`TestBackend`] with autodiff.
pub(crate) type TestAutodiffBackend = burn::backend::Autodiff<TestBackend>;
/// Whether `f32` matrix products run in TF32 on this backend (CUDA's tensor cores).
#[allow(dead_code)]
pub(crate) const TF32: bool = false;
/// Whether this is a GPU backend (its reductions may round differently from run to run).
#[allow(dead_code)]
pub(crate) const GPU: bool = false;
/// The fused CPU step against autodiff (CPU backends only).
#[path = "tests/fused_tests.rs"]
mod fused_tests;
#[path = "tests/mod.rs"]
mod tests;
