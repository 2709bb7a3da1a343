//! The unit tests on ndarray, with the `test-ndarray` feature.

/// The backend of this suite.
pub(crate) type TestBackend = burn::backend::NdArray;
/// Whether `f32` matrix products run in TF32 on this backend (CUDA's tensor cores).
#[allow(dead_code)]
pub(crate) const TF32: bool = false;
/// Whether this is a GPU backend (its reductions may round differently from run to run).
#[allow(dead_code)]
pub(crate) const GPU: bool = false;
#[path = "tests.rs"]
mod tests;
