//! # maan-model
//!
//! MAAN (Marginalized Average Attentional Network, ICLR 2019) and its Table 1 baselines
//! (STPN, Dropout, Norm, SoftMaxNorm) for weakly-supervised temporal action localization,
//! generic over any Burn backend: the model of one stream ([`StreamModel`]), its loss and its
//! class activation sequence (CAS).
//!
//! The paper's sections 2.4 and 3.1 are the specification; see [`model`] for the choices the
//! paper leaves open (LeakyReLU slope, loss reduction, CAS of the baselines).

pub mod checkpoint;
pub mod error;
pub mod evaluate;
pub mod infer;
pub mod model;
pub mod toy;
pub mod train;

pub use error::{ModelError, Result};
pub use evaluate::{evaluate, EvalMetrics};
pub use infer::{StreamKind, VideoOutput};
pub use model::{
    bce_with_logits, CasWeighting, StreamModel, StreamModelConfig, StreamOutput, VideoPrediction,
};
pub use train::{
    fit_config, load_config, load_models, NoObserver, Streams, TrainConfig, TrainObserver,
    TrainSummary, Trainer,
};

/// Backend of the unit tests: ndarray, or wgpu with the `test-wgpu` feature.
#[cfg(all(test, not(feature = "test-wgpu")))]
pub type TestBackend = burn::backend::NdArray;
/// Backend of the unit tests: ndarray, or wgpu with the `test-wgpu` feature.
#[cfg(all(test, feature = "test-wgpu"))]
pub type TestBackend = burn::backend::Wgpu;
/// [`TestBackend`] with autodiff.
#[cfg(test)]
pub type TestAutodiffBackend = burn::backend::Autodiff<TestBackend>;

#[cfg(test)]
mod tests;
