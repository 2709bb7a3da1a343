//! # maan-model
//!
//! MAAN (Marginalized Average Attentional Network, ICLR 2019) and its Table 1 baselines
//! (STPN, Dropout, Norm, SoftMaxNorm) for weakly-supervised temporal action localization,
//! generic over any Burn backend.
//!
//! - [`model`]: one stream ([`StreamModel`]): attention module (FC D×256, LeakyReLU, FC 256×1,
//!   sigmoid) giving `p` `[batch, time]`, the aggregator of `maa_core` giving `x̄`
//!   `[batch, dim]`, the classifier FC D×C, the BCE loss of eq. 10 (plus STPN's sparsity term),
//!   and the CAS `s[t, c] = p_t σ(w_c·x_t + b_c)` (eq. 14; `λ_t` for the baselines, eq. 12).
//!   Optional background modelling for any aggregator ([`Background`]: BaS-Net's background
//!   class with filtering, adapted; "Background modelling" in [`model`] says what is adapted,
//!   why, and what is not implemented).
//! - [`train`]: the training loop ([`Trainer`], generic over `B: AutodiffBackend`): two
//!   streams as two models with their own Adam, sampling that is a pure function of
//!   `(seed, iteration)`, evaluation every N iterations, metrics as JSON lines, checkpoints.
//! - [`optim`]: [`optim::FlatAdam`], Burn's Adam over all of a module's parameters at once
//!   (a few kernel launches per step instead of a dozen per parameter tensor; same numbers,
//!   same record format).
//! - [`run`]: the run directory, its one owner ([`RunDir`], the lock) and its readers
//!   ([`load_config`], [`load_models`], [`run::checkpoint`]).
//! - [`checkpoint`]: atomic `last/` and `best/` checkpoints (model + Adam state + JSON state).
//! - [`infer`]: whole-video inference and the 0.5 / 0.5 fusion; [`predict`]: the one
//!   prediction pipeline (load, infer, localize, write, score into a [`predict::ResultRecord`]
//!   with the protocol and the commit; [`predict::evaluate`], models in memory through it);
//!   [`mod@evaluate`]: the ActivityNet-protocol mAP.
//! - [`toy`]: a tiny in-memory WTAL problem for tests and benchmarks; [`bench`]: the speed
//!   measurements of `maan bench train` and `maan bench infer` on it (with the lines and JSON
//!   records the command prints and writes).
//!
//! The paper's sections 2.4 and 3.1 are the specification; see [`model`] for the choices the
//! paper leaves open (LeakyReLU slope, loss reduction, CAS of the baselines), [`train`] for the
//! batch size (16, not given by the paper) and [`infer`] for the fusion point.
//!
//! From the command line: `maan train --backend ndarray --run runs/maan` then
//! `maan test --run runs/maan --detections det.json`. Speed: `BENCHMARKS.md`.

// Each backend suite loads the same test files (`suite_*.rs`).
#![cfg_attr(test, allow(clippy::duplicate_mod))]

pub mod bench;
pub mod checkpoint;
pub mod error;
pub mod evaluate;
pub mod fused;
pub mod infer;
pub mod model;
pub mod optim;
pub mod predict;
pub mod report;
pub mod run;
pub mod setting;
pub mod toy;
pub mod train;

pub use error::{ModelError, Result};
pub use evaluate::EvalMetrics;
pub use infer::{StreamKind, VideoOutput};
pub use model::{
    bce_with_logits, erase_highest, Background, CasWeighting, StreamModel, StreamModelConfig,
    StreamOutput, VideoPrediction,
};
pub use predict::evaluate;
pub use run::{load_config, load_models, RunDir, StreamModels, Which};
pub use setting::{Conflict, Setting, SettingError};
pub use train::{
    fit_config, EraseFraction, EraseProbability, NoObserver, Recipe, ResumePlan, RunData,
    SettingDefault, StepEngine, Streams, TrainConfig, TrainObserver, TrainOverrides, TrainSummary,
    Trainer, ACTIVITYNET_BATCH_SIZE, ACTIVITYNET_MAAN_ATTENTION_ERASE, ACTIVITYNET_MAAN_BACKGROUND,
    ACTIVITYNET_MAAN_SEGMENTS,
};

// The unit tests (`tests/`) run once per test backend: flex in every `cargo test`, the others
// with a feature (CI runs ndarray and wgpu; CUDA where a GPU is lent).
/// The unit tests on flex, always (the fastest CPU backend).
#[cfg(test)]
mod suite_flex;

/// The unit tests on ndarray, with the `test-ndarray` feature.
#[cfg(all(test, feature = "test-ndarray"))]
mod suite_ndarray;

/// The unit tests on wgpu (Vulkan; lavapipe on CPU-only machines), with the `test-wgpu` feature.
#[cfg(all(test, feature = "test-wgpu"))]
mod suite_wgpu;

/// The unit tests on CUDA, with the `test-cuda` feature.
#[cfg(all(test, feature = "test-cuda"))]
mod suite_cuda;
