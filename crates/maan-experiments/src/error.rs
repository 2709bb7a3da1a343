//! Errors of the experiments: those of the crates they call (training, data, WSOL), the
//! generated data's files, and plans that ask for something impossible.

use std::path::PathBuf;

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error that stops an experiment.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Training, evaluation or inference failed.
    #[error(transparent)]
    Model(#[from] maan_model::ModelError),
    /// A dataset (or its generator's configuration) is unusable.
    #[error(transparent)]
    Dataset(#[from] dataset::DatasetError),
    /// Generating a synthetic dataset failed.
    #[error("generating {}", dir.display())]
    Generate {
        /// The folder it was generated into.
        dir: PathBuf,
        /// What went wrong.
        source: dataset::DatasetError,
    },
    /// A generated dataset could not be loaded back.
    #[error("loading {}", dir.display())]
    Load {
        /// Its folder.
        dir: PathBuf,
        /// What went wrong.
        source: dataset::DatasetError,
    },
    /// A generated dataset could not be removed once loaded.
    #[error("removing {}", dir.display())]
    Remove {
        /// Its folder.
        dir: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The pretrained backbone weights of the WSOL experiment could not be loaded.
    #[error("cannot load the pretrained backbone weights")]
    BackboneWeights(#[source] maan_wsol::WsolError),
    /// The plan asks for something impossible.
    #[error(transparent)]
    Plan(#[from] PlanError),
}

/// A plan that cannot be run. The messages speak of values; the command line names its flags.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// The regimes are THUMOS14-shaped; on ActivityNet-shaped data the experiment maps its own
    /// family of datasets ([`crate::family::activitynet_family`]).
    #[error("regimes: on ActivityNet-shaped data the experiment maps its own family of datasets")]
    RegimesOnActivityNet,
    /// The feature dimension of the generated data is 0.
    #[error("the feature dimension must be at least 1")]
    ZeroDim,
    /// A dominance value of the heat map is negative or not finite.
    #[error("dominance values must be finite and >= 0")]
    Dominance,
    /// A specificity value of the heat map is outside [0, 1].
    #[error("specificity values must be in [0, 1]")]
    Specificity,
}
