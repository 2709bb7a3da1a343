//! Errors and problems found while reading a dataset.

use std::fmt;
use std::path::PathBuf;

/// An error that stops a dataset from loading. Every variant names the file and, where there is
/// one, the video it belongs to.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatasetError {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The dataset directory does not look like any supported layout.
    #[error("{dir}: cannot detect the dataset layout ({reason})")]
    UnknownLayout {
        /// The dataset directory.
        dir: PathBuf,
        /// What was looked for.
        reason: String,
    },
    /// The annotation file or the class list could not be read or parsed (invalid JSON, with
    /// line and column; a segment ending before it starts; a duplicate class), as reported by
    /// `maan_eval`.
    #[error(transparent)]
    Annotations(#[from] maan_eval::error::EvalError),
    /// A split file names a video that the annotation file does not contain.
    #[error("{path}: video {video} is listed in the split file but not in the annotations")]
    NotAnnotated {
        /// The split file.
        path: PathBuf,
        /// The video.
        video: String,
    },
    /// A video's feature file is missing.
    #[error("{path}: missing feature file of video {video}")]
    MissingFeatures {
        /// The expected feature file.
        path: PathBuf,
        /// The video.
        video: String,
    },
    /// A feature file is not a valid npy file (bad magic, bad header, truncated data).
    #[error("{path}: video {video}: corrupt or truncated npy file: {message}")]
    CorruptNpy {
        /// The feature file.
        path: PathBuf,
        /// The video.
        video: String,
        /// What is wrong.
        message: String,
    },
    /// A feature file has a dtype other than f32, f64 or f16, or is in Fortran order.
    #[error("{path}: video {video}: unsupported dtype {dtype} (expected little- or big-endian f2, f4 or f8 in C order)")]
    WrongDtype {
        /// The feature file.
        path: PathBuf,
        /// The video.
        video: String,
        /// The dtype as written in the header.
        dtype: String,
    },
    /// A feature file is not a 2-D array `[T, D]`, or its D differs from the rest of the dataset.
    #[error("{path}: video {video}: {message}")]
    WrongShape {
        /// The feature file.
        path: PathBuf,
        /// The video.
        video: String,
        /// What is wrong, with the shape found.
        message: String,
    },
    /// A feature file holds NaN or infinite values.
    #[error("{path}: video {video}: non-finite value {value} at snippet {row}, column {col}")]
    NonFinite {
        /// The feature file.
        path: PathBuf,
        /// The video.
        video: String,
        /// Snippet (row) of the first non-finite value.
        row: usize,
        /// Column of the first non-finite value.
        col: usize,
        /// The value (NaN, inf or -inf).
        value: f32,
    },
    /// A feature file has zero snippets.
    #[error("{path}: video {video}: zero-length video (0 snippets)")]
    EmptyVideo {
        /// The feature file.
        path: PathBuf,
        /// The video.
        video: String,
    },
    /// The rgb and flow streams of a video have different numbers of snippets.
    #[error("{path}: video {video}: rgb has {rgb_len} snippets but flow has {flow_len}")]
    StreamLengthMismatch {
        /// The flow feature file.
        path: PathBuf,
        /// The video.
        video: String,
        /// Snippets in the rgb stream.
        rgb_len: usize,
        /// Snippets in the flow stream.
        flow_len: usize,
    },
    /// A segment's label is not in the class list.
    #[error("{path}: video {video}: label {label:?} is not in the class list")]
    UnknownLabel {
        /// The annotation file.
        path: PathBuf,
        /// The video.
        video: String,
        /// The unknown label.
        label: String,
    },
    /// Invalid argument or configuration (for example a feature dimension of 0).
    #[error("{0}")]
    Config(String),
    /// Several errors: the first is shown; [`crate::inspect`] lists them all.
    #[error("{first} (and {more} more errors)")]
    Many {
        /// The first error found.
        first: Box<DatasetError>,
        /// How many more errors were found.
        more: usize,
    },
}

impl DatasetError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DatasetError::Io {
            path: path.into(),
            source,
        }
    }
}

/// How serious a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The dataset still loads; the message says what was skipped or changed.
    Warning,
    /// The dataset does not load.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One problem found while reading a dataset: a warning (counted, the dataset still loads) or an
/// error. The message names the file and the video.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Warning or error.
    pub severity: Severity,
    /// What is wrong, naming the file and the video.
    pub message: String,
    /// What kind of problem it is, for front ends that suggest a remedy.
    pub kind: ProblemKind,
}

/// The kinds of [`Problem`] a front end may suggest a remedy for (a load option); every other
/// problem is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The layout could not be detected ([`DatasetError::UnknownLayout`]): it can be given.
    UnknownLayout,
    /// rgb and flow differ in length ([`DatasetError::StreamLengthMismatch`]): they can be
    /// cropped to the shorter one.
    StreamLengths,
    /// Anything else.
    Other,
}

impl DatasetError {
    /// The [`ProblemKind`] of this error (of the first error, for [`DatasetError::Many`]).
    pub fn problem_kind(&self) -> ProblemKind {
        match self {
            DatasetError::UnknownLayout { .. } => ProblemKind::UnknownLayout,
            DatasetError::StreamLengthMismatch { .. } => ProblemKind::StreamLengths,
            DatasetError::Many { first, .. } => first.problem_kind(),
            _ => ProblemKind::Other,
        }
    }
}

impl Problem {
    /// A warning with the given message.
    pub fn warning(message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Warning,
            message: message.into(),
            kind: ProblemKind::Other,
        }
    }

    /// An error problem made from a [`DatasetError`].
    pub fn error(err: &DatasetError) -> Self {
        Problem {
            severity: Severity::Error,
            message: err.to_string(),
            kind: err.problem_kind(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.severity, self.message)
    }
}
