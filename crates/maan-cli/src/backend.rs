//! Backend selection: `--backend ndarray|flex|wgpu|cuda` mapped to a Burn backend at run time.
//!
//! Design: one generic job ([`BackendJob::run`]) monomorphised per backend compiled in, behind
//! `#[cfg(feature)]`, rather than Burn's `Dispatch` backend: each backend then runs its own
//! concrete tensor types (no dispatch layer in the training loop) and no extra Burn feature is
//! compiled. A backend not compiled in is a clear error naming the cargo feature; a backend
//! whose driver is missing at run time (no NVIDIA driver, no Vulkan) is a clear error too: the
//! device is probed with a tiny tensor operation under `catch_unwind` before the job starts,
//! since Burn panics when it cannot open a device.

use std::fmt;

use anyhow::{bail, Result};
use burn::tensor::backend::AutodiffBackend;

/// The `--backend` used when none is given: `flex`, the fastest CPU backend for this model
/// (measured: crates/maan-model/BENCHMARKS.md), else `ndarray`, else the first GPU backend
/// compiled in.
#[cfg(feature = "flex")]
pub const DEFAULT_BACKEND: &str = "flex";
/// The `--backend` used when none is given (see the `flex` build).
#[cfg(all(not(feature = "flex"), feature = "ndarray"))]
pub const DEFAULT_BACKEND: &str = "ndarray";
/// The `--backend` used when none is given (see the `flex` build).
#[cfg(all(not(any(feature = "flex", feature = "ndarray")), feature = "cuda"))]
pub const DEFAULT_BACKEND: &str = "cuda";
/// The `--backend` used when none is given (see the `flex` build).
#[cfg(not(any(feature = "flex", feature = "ndarray", feature = "cuda")))]
pub const DEFAULT_BACKEND: &str = "wgpu";

/// `--backend` and `--device`, shared by every command that runs a model.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct BackendOpts {
    /// Burn backend.
    #[arg(long, value_enum, default_value = DEFAULT_BACKEND)]
    pub backend: BackendArg,
    /// GPU number for wgpu / cuda.
    #[arg(long, default_value_t = 0)]
    pub device: usize,
}

impl Default for BackendOpts {
    /// [`DEFAULT_BACKEND`], device 0 (what the flags give when absent).
    fn default() -> Self {
        let backend = <BackendArg as clap::ValueEnum>::value_variants()
            .iter()
            .copied()
            .find(|b| b.name() == DEFAULT_BACKEND)
            .unwrap_or(BackendArg::Wgpu);
        BackendOpts { backend, device: 0 }
    }
}

impl BackendOpts {
    /// Runs `job` on the chosen backend and device (see [`run_on`]).
    pub fn run<J: BackendJob>(self, job: J) -> Result<J::Output> {
        run_on(self.backend, self.device, job)
    }

    /// Opens the chosen device and fails with a plain error if it cannot be opened (backend
    /// not compiled in, no driver). Commands call this before any other work, so that a
    /// missing GPU is reported at once, not after loading or generating data.
    pub fn check(self) -> Result<()> {
        run_on(self.backend, self.device, ProbeOnly)
    }
}

/// A job that does nothing: [`run_on`] probes the device before running any job.
struct ProbeOnly;

impl BackendJob for ProbeOnly {
    type Output = ();
    fn run<B: AutodiffBackend>(self, _device: B::Device, _backend: BackendArg) -> Result<()> {
        Ok(())
    }
}

/// A Burn backend selectable on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendArg {
    /// Pure-Rust CPU backend (the reference backend of the library tests).
    Ndarray,
    /// Burn's newer pure-Rust CPU backend (the default: about 1.9× ndarray's training speed,
    /// measured).
    Flex,
    /// Vulkan / Metal / DX12 GPUs (and CPUs through Mesa's lavapipe).
    Wgpu,
    /// NVIDIA GPUs (needs the NVIDIA driver and NVRTC at run time).
    Cuda,
}

impl BackendArg {
    /// The command-line name, also the cargo feature of maan-cli that compiles it.
    pub fn name(&self) -> &'static str {
        match self {
            BackendArg::Ndarray => "ndarray",
            BackendArg::Flex => "flex",
            BackendArg::Wgpu => "wgpu",
            BackendArg::Cuda => "cuda",
        }
    }

    /// Whether this is a GPU backend (it compiles kernels per tensor shape, so inference
    /// batches videos into a fixed set of shapes: `maan_model::infer::Batching`).
    pub fn is_gpu(&self) -> bool {
        matches!(self, BackendArg::Wgpu | BackendArg::Cuda)
    }

    /// How whole videos are batched for inference on this backend: shape-stable buckets on
    /// GPUs, exact lengths on CPUs.
    pub fn batching(&self) -> maan_model::infer::Batching {
        maan_model::infer::Batching::for_gpu(self.is_gpu())
    }

    /// The backends compiled into this binary.
    pub fn compiled() -> Vec<BackendArg> {
        let mut v = Vec::new();
        if cfg!(feature = "ndarray") {
            v.push(BackendArg::Ndarray);
        }
        if cfg!(feature = "flex") {
            v.push(BackendArg::Flex);
        }
        if cfg!(feature = "wgpu") {
            v.push(BackendArg::Wgpu);
        }
        if cfg!(feature = "cuda") {
            v.push(BackendArg::Cuda);
        }
        v
    }
}

impl fmt::Display for BackendArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A computation generic over the autodiff backend (training needs autodiff; inference uses
/// `B::InnerBackend` or `.valid()` models).
pub trait BackendJob {
    /// What the job returns.
    type Output;
    /// Runs the job on backend `B` and `device`; `backend` names it for messages.
    fn run<B: AutodiffBackend>(
        self,
        device: B::Device,
        backend: BackendArg,
    ) -> Result<Self::Output>;
}

/// Where the GPU backends cache compiled kernels and autotune results, from the environment
/// values given: `$MAAN_KERNEL_CACHE` when set, else `$XDG_CACHE_HOME/maan/kernels`, else
/// `$HOME/.cache/maan/kernels`, else `maan-kernels` in the temporary directory. One per-user
/// location, whatever the current directory, so that the first run pays for compilation and
/// autotuning and every later run (from any directory, installed binary included) skips it.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
pub fn kernel_cache_dir_from(
    maan: Option<std::ffi::OsString>,
    xdg_cache: Option<std::ffi::OsString>,
    home: Option<std::ffi::OsString>,
) -> std::path::PathBuf {
    use std::path::PathBuf;
    let set = |v: Option<std::ffi::OsString>| v.filter(|v| !v.is_empty()).map(PathBuf::from);
    set(maan)
        .or_else(|| set(xdg_cache).map(|d| d.join("maan").join("kernels")))
        .or_else(|| set(home).map(|h| h.join(".cache").join("maan").join("kernels")))
        .unwrap_or_else(|| std::env::temp_dir().join("maan-kernels"))
}

/// [`kernel_cache_dir_from`] with this process's environment.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
pub fn kernel_cache_dir() -> std::path::PathBuf {
    kernel_cache_dir_from(
        std::env::var_os("MAAN_KERNEL_CACHE"),
        std::env::var_os("XDG_CACHE_HOME"),
        std::env::var_os("HOME"),
    )
}

/// Points CubeCL's kernel (compilation) and autotune caches at [`kernel_cache_dir`] (once per
/// process, before any GPU work; other CubeCL settings still come from a `cubecl.toml` and
/// `CUBECL_*` variables), and says when kernels are about to be compiled
/// ([`compile_notice`]), so that a slow first iteration is not a progress bar frozen at zero.
///
/// Kernel autotuning is compiled in for CUDA always (without it Burn 0.21's CUDA matrix
/// product fails to compile on Hopper GPUs) and for wgpu only with the `gpu-autotune` feature
/// (off by default: measured in `crates/maan-model/BENCHMARKS.md`, "Autotuning off"). Where it
/// is compiled in, the autotune level is `minimal` unless `CUBECL_AUTOTUNE_LEVEL` says
/// otherwise: MAAN's matrices are small (batch 16 × T 20 rows in training), so the kernel
/// autotuning picks matters little once warm, while trying every candidate dominates the
/// first run.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
fn configure_gpu_caches(backend: BackendArg) {
    use cubecl_runtime::config::cache::CacheConfig;
    use cubecl_runtime::config::{CubeClRuntimeConfig, RuntimeConfig};
    static DONE: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    DONE.get_or_init(|| {
        let dir = kernel_cache_dir();
        let mut cfg = CubeClRuntimeConfig::from_current_dir().override_from_env();
        cfg.autotune.cache = CacheConfig::File(dir.join("autotune"));
        cfg.compilation.cache = Some(CacheConfig::File(dir.join("compilation")));
        if std::env::var_os("CUBECL_AUTOTUNE_LEVEL").is_none() {
            cfg.autotune.level = cubecl_runtime::config::autotune::AutotuneLevel::Minimal;
        }
        // `set` panics if CubeCL has already read its configuration (nothing in maan does
        // before this point); keep its defaults then rather than fail.
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let _ = std::panic::catch_unwind(move || CubeClRuntimeConfig::set(cfg));
        std::panic::set_hook(previous);
        let is_empty = |d: std::path::PathBuf| {
            std::fs::read_dir(d)
                .map(|mut d| d.next().is_none())
                .unwrap_or(true)
        };
        let cached = match backend {
            BackendArg::Cuda => !is_empty(dir.join("compilation")),
            _ => false,
        };
        // CUDA always autotunes (`cuda` feature); wgpu only with `gpu-autotune`.
        let autotunes = matches!(backend, BackendArg::Cuda) || cfg!(feature = "gpu-autotune");
        let autotuned = !autotunes || !is_empty(dir.join("autotune"));
        if let Some(notice) = compile_notice(backend, cached, autotuned, &dir) {
            eprintln!("{notice}");
        }
    });
}

/// What the CLI says before the first GPU work of a run, or `None` when nothing slow is ahead.
/// `cached`: the kernel cache already holds compiled kernels (CUDA keeps them in
/// `<dir>/compilation`; wgpu's WGSL path keeps none, so its kernels compile at the start of
/// every run, seconds in all); `autotuned`: autotuning has nothing left to do (the backend
/// does not autotune: wgpu without the `gpu-autotune` feature; or its results are in
/// `<dir>/autotune`).
#[cfg(any(feature = "wgpu", feature = "cuda"))]
pub fn compile_notice(
    backend: BackendArg,
    cached: bool,
    autotuned: bool,
    dir: &std::path::Path,
) -> Option<String> {
    let where_ = format!(
        "cached in {} (set MAAN_KERNEL_CACHE to move it)",
        dir.display()
    );
    match (backend, cached, autotuned) {
        (BackendArg::Cuda, true, true) => None,
        (BackendArg::Cuda, _, true) => Some(format!(
            "{backend}: compiling GPU kernels (first run only, slower); {where_}"
        )),
        (_, _, false) => Some(format!(
            "{backend}: compiling and autotuning GPU kernels (first run only, slower); {where_}"
        )),
        (_, _, true) => Some(format!(
            "{backend}: compiling GPU kernels (at the start of each run on this backend)"
        )),
    }
}

/// Makes sure every backend in `backends` is in this build before a command starts: when
/// some are not and this process may rebuild (`crate::rebuild`), builds them all and runs
/// this command again (returns only if cargo could not be started). Otherwise `Ok`: [`run_on`]
/// then reports a missing backend as an error.
pub fn ensure_built(backends: &[BackendArg]) -> Result<()> {
    let compiled = BackendArg::compiled();
    let missing: Vec<&str> = backends
        .iter()
        .filter(|b| !compiled.contains(b))
        .map(|b| b.name())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = compiled.iter().map(|b| b.name()).collect();
    crate::rebuild::rebuild_and_rerun(&missing, &names).map_or(Ok(()), Err)
}

/// Runs `job` on the backend `backend`, GPU number `device` (ignored by CPU backends).
pub fn run_on<J: BackendJob>(backend: BackendArg, device: usize, job: J) -> Result<J::Output> {
    #[cfg(any(feature = "wgpu", feature = "cuda"))]
    if backend.is_gpu() {
        configure_gpu_caches(backend);
    }
    match backend {
        #[cfg(feature = "ndarray")]
        BackendArg::Ndarray => {
            type B = burn::backend::Autodiff<burn::backend::NdArray>;
            let dev = burn::backend::ndarray::NdArrayDevice::Cpu;
            probe::<B>(&dev, backend, device)?;
            job.run::<B>(dev, backend)
        }
        #[cfg(feature = "flex")]
        BackendArg::Flex => {
            type B = burn::backend::Autodiff<burn::backend::Flex>;
            let dev = Default::default();
            probe::<B>(&dev, backend, device)?;
            job.run::<B>(dev, backend)
        }
        #[cfg(feature = "wgpu")]
        BackendArg::Wgpu => {
            type B = burn::backend::Autodiff<burn::backend::Wgpu>;
            let dev = if device == 0 {
                burn::backend::wgpu::WgpuDevice::DefaultDevice
            } else {
                burn::backend::wgpu::WgpuDevice::DiscreteGpu(device)
            };
            probe::<B>(&dev, backend, device)?;
            job.run::<B>(dev, backend)
        }
        #[cfg(feature = "cuda")]
        BackendArg::Cuda => {
            type B = burn::backend::Autodiff<burn::backend::Cuda>;
            let dev = burn::backend::cuda::CudaDevice::new(device);
            probe::<B>(&dev, backend, device)?;
            job.run::<B>(dev, backend)
        }
        #[allow(unreachable_patterns)]
        other => {
            let _ = (device, job);
            // Started by `cargo run`: build the backend and run this command again.
            let compiled: Vec<&str> = BackendArg::compiled().iter().map(|b| b.name()).collect();
            if let Some(err) = crate::rebuild::rebuild_and_rerun(&[other.name()], &compiled) {
                return Err(err);
            }
            bail!(
                "backend {other} is not compiled in; rebuild with `--features {other}` \
                 (e.g. `cargo run --release -p maan-cli --features {other} -- ...`, which \
                 `maan` also does by itself when started by `cargo run`); compiled in: {}",
                if compiled.is_empty() {
                    "none".to_string()
                } else {
                    compiled.join(", ")
                }
            )
        }
    }
}

/// The CPU backend suggested when a GPU cannot be opened.
#[cfg(feature = "flex")]
const DEFAULT_CPU_BACKEND: &str = "flex";
/// The CPU backend suggested when a GPU cannot be opened.
#[cfg(not(feature = "flex"))]
const DEFAULT_CPU_BACKEND: &str = "ndarray";

/// Opens the device with a tiny tensor round trip; a panic (missing driver) becomes an error.
#[allow(dead_code)]
fn probe<B: AutodiffBackend>(device: &B::Device, backend: BackendArg, gpu: usize) -> Result<()> {
    let dev = device.clone();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let t = burn::tensor::Tensor::<B, 1>::from_floats([1.0, 2.0], &dev);
        t.sum().into_scalar()
    }));
    std::panic::set_hook(previous);
    match result {
        Ok(_) => Ok(()),
        // The panic message is Burn's internals (e.g. a channel's `RecvError`); the user needs
        // what to check and what to run instead.
        Err(_) => {
            let hint = match backend {
                BackendArg::Cuda => {
                    "is an NVIDIA GPU present, with its driver (check with `nvidia-smi`) and \
                     NVRTC (the CUDA toolkit's runtime compiler) installed?"
                }
                BackendArg::Wgpu => {
                    "is a Vulkan, Metal or DX12 driver installed? On a machine without a GPU, \
                     `apt-get install mesa-vulkan-drivers` provides lavapipe (Vulkan on the CPU)."
                }
                _ => "the CPU backend failed to start.",
            };
            bail!(
                "could not open a {backend} device (--device {}): {hint} To run on the CPU, \
                 use --backend {DEFAULT_CPU_BACKEND}.",
                gpu
            )
        }
    }
}

#[cfg(all(test, any(feature = "wgpu", feature = "cuda")))]
mod tests {
    use super::*;

    /// The kernel cache: `$MAAN_KERNEL_CACHE` first, then `$XDG_CACHE_HOME/maan/kernels`, then
    /// `~/.cache/maan/kernels`, then the temporary directory; empty values count as unset.
    #[test]
    fn kernel_cache_dir_precedence() {
        use std::ffi::OsString;
        use std::path::PathBuf;
        let s = |v: &str| Some(OsString::from(v));
        assert_eq!(
            kernel_cache_dir_from(s("/k"), s("/x"), s("/h")),
            PathBuf::from("/k")
        );
        assert_eq!(
            kernel_cache_dir_from(None, s("/x"), s("/h")),
            PathBuf::from("/x/maan/kernels")
        );
        assert_eq!(
            kernel_cache_dir_from(s(""), s(""), s("/h")),
            PathBuf::from("/h/.cache/maan/kernels")
        );
        assert_eq!(
            kernel_cache_dir_from(None, None, None),
            std::env::temp_dir().join("maan-kernels")
        );
    }

    /// CUDA says it compiles (naming the cache) only while its kernel cache is empty; wgpu,
    /// which keeps no compiled kernels, says so at every run without promising a cache; while
    /// autotuning is still to be done, every GPU backend says it compiles and autotunes once.
    #[test]
    fn compile_notice_says_what_is_ahead() {
        let dir = std::path::Path::new("/c/k");
        let n = |b, cached, autotuned| compile_notice(b, cached, autotuned, dir);
        assert_eq!(n(BackendArg::Cuda, true, true), None);
        let cold = n(BackendArg::Cuda, false, true).unwrap();
        assert!(
            cold.contains("compiling GPU kernels (first run only") && cold.contains("/c/k"),
            "{cold}"
        );
        for cached in [false, true] {
            let w = n(BackendArg::Wgpu, cached, true).unwrap();
            assert!(w.contains("each run") && !w.contains("/c/k"), "{w}");
            for b in [BackendArg::Cuda, BackendArg::Wgpu] {
                let t = n(b, cached, false).unwrap();
                assert!(
                    t.contains("compiling and autotuning") && t.contains("/c/k"),
                    "{t}"
                );
            }
        }
    }
}
