//! Errors of training, checkpoints and inference.

use std::path::{Path, PathBuf};

use crate::setting::{Conflict, SettingError};

/// An error of this crate (I/O, checkpoints, data that does not fit the model).
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A Burn record could not be serialized or deserialized.
    #[error("record: {0}")]
    Record(String),
    /// A checkpoint is missing, incomplete or does not match the configuration.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// Another process holds the run directory (it is training or resuming it).
    #[error(
        "{run}: the run is in use by another process (pid {holder}); wait for it to end, \
         or use another run directory"
    )]
    RunInUse {
        /// The run directory.
        run: PathBuf,
        /// The pid the holder wrote into the lock file (`unknown` if it could not be read).
        holder: String,
    },
    /// A new run was asked for in a directory that already holds one (a `last` checkpoint).
    #[error("{0}: the directory already holds a run (a last/ checkpoint)")]
    RunExists(PathBuf),
    /// A run to continue has no `last` checkpoint.
    #[error("{0}: no run to continue (expected a checkpoint in last/state.json)")]
    NoRun(PathBuf),
    /// A setting is out of its range (see [`crate::Setting::check`]).
    #[error(transparent)]
    Setting(#[from] SettingError),
    /// Settings given to a resumed run disagree with the run's own.
    #[error("settings disagree with the run's: {}", conflicts_text(.0))]
    ResumeConflicts(Vec<Conflict>),
    /// Localization options contradict each other or their base, or are out of range.
    #[error("localization")]
    Localization(#[from] maan_eval::localize::LocalizeOverrideError),
    /// The configuration is invalid or does not fit the data.
    #[error("config: {0}")]
    Config(String),
    /// The evaluation failed.
    #[error("evaluation: {0}")]
    Eval(String),
    /// Scoring or localization in `maan-eval` failed (the source says why).
    #[error("evaluation")]
    Metric(#[from] maan_eval::EvalError),
    /// Localizing the actions of one video failed.
    #[error("localizing video {video}")]
    Localize {
        /// The video.
        video: String,
        /// Why.
        source: maan_eval::EvalError,
    },
    /// The dataset could not be read or does not fit (the source names the file and video).
    #[error("dataset")]
    Dataset(#[from] dataset::DatasetError),
}

impl ModelError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        ModelError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// `setting: given X, the run has Y`, one per conflict, joined by `; `.
fn conflicts_text(list: &[Conflict]) -> String {
    list.iter()
        .map(|c| format!("{}: given {}, the run has {}", c.setting, c.given, c.saved))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Result with [`ModelError`].
pub type Result<T> = std::result::Result<T, ModelError>;
