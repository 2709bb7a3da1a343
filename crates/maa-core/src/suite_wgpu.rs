//! The unit tests on wgpu (Vulkan; lavapipe on CPU-only machines), with the `test-wgpu` feature.

/// The backend of this suite: wgpu without kernel fusion, named explicitly. `burn::backend::Wgpu`
/// means the fused backend whenever anything in the build enables Burn's `fusion` feature (the
/// CLI's wgpu backend does, and CI builds the suites together with the CLI), and six maan-model
/// tests then fail on lavapipe with a device `CallError`; these suites check the unfused kernels,
/// as they always have, and the CLI's end-to-end wgpu test runs the fused backend.
pub(crate) type TestBackend =
    burn::backend::wgpu::CubeBackend<burn::backend::wgpu::WgpuRuntime, f32, i32, u32>;
/// Whether `f32` matrix products run in TF32 on this backend (CUDA's tensor cores).
#[allow(dead_code)]
pub(crate) const TF32: bool = false;
/// Whether this is a GPU backend (its reductions may round differently from run to run).
#[allow(dead_code)]
pub(crate) const GPU: bool = true;
#[path = "tests.rs"]
mod tests;
