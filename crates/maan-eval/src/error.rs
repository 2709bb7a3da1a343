//! The error type of this crate.

/// Everything that can go wrong while reading annotations or detections, or while scoring them.
///
/// Every variant names the file (or, for in-memory input, the source label given by the caller)
/// and, where it applies, the video.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The text is not valid JSON, or not of the expected shape.
    #[error("{file}: invalid JSON at line {line}, column {column}: {message}")]
    Json {
        /// The file or source label.
        file: String,
        /// 1-based line of the error (0 when unknown).
        line: usize,
        /// 1-based column of the error (0 when unknown).
        column: usize,
        /// What serde_json reported.
        message: String,
    },
    /// A ground-truth segment is not a pair of finite numbers with `start <= end`.
    #[error("{file}: video {video:?}, segment #{index}: {reason}")]
    InvalidSegment {
        /// The file or source label.
        file: String,
        /// The video id.
        video: String,
        /// Index of the segment within the video's annotations (0-based).
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// A video entry of the ground truth is malformed (for example a negative duration).
    #[error("{file}: video {video:?}: {reason}")]
    InvalidVideo {
        /// The file or source label.
        file: String,
        /// The video id.
        video: String,
        /// What is wrong.
        reason: String,
    },
    /// A class list is malformed (duplicate names).
    #[error("{file}, line {line}: {reason}")]
    InvalidClassList {
        /// The file or source label.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A detection is malformed: NaN or infinite score, start after end, non-finite bounds.
    #[error("{file}: video {video:?}, detection #{index}: {reason}")]
    InvalidDetection {
        /// The file or source label.
        file: String,
        /// The video id.
        video: String,
        /// Index of the detection within the video's list (0-based).
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// A detection's label is not a class of the ground truth (the ActivityNet evaluator raises
    /// `KeyError` in this case).
    #[error("{file}: video {video:?}, detection #{index}: label {label:?} is not a class of the ground truth ({num_classes} classes)")]
    UnknownLabel {
        /// The file or source label.
        file: String,
        /// The video id.
        video: String,
        /// Index of the detection within the video's list (0-based).
        index: usize,
        /// The offending label.
        label: String,
        /// Number of classes in the ground truth.
        num_classes: usize,
    },
    /// The detections' `results` object holds no video at all.
    #[error("{file}: the \"results\" object is empty: there is nothing to evaluate")]
    EmptyResults {
        /// The file or source label.
        file: String,
    },
    /// The ground truth (after subset filtering) holds no annotated segment.
    #[error("{file}: the ground truth has no annotated segment{hint}")]
    EmptyGroundTruth {
        /// The file or source label.
        file: String,
        /// Extra context, such as the subset asked for and the subsets present.
        hint: String,
    },
    /// A tIoU range or list could not be parsed.
    #[error("invalid tIoU thresholds {spec:?}: {reason}")]
    InvalidThresholds {
        /// The text given.
        spec: String,
        /// What is wrong.
        reason: String,
    },
    /// Arrays whose shapes do not agree were passed to a function of this crate.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// A numeric input is out of its domain (NaN in a CAS, a non-positive snippet duration, ...).
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, EvalError>;

impl EvalError {
    /// Wraps a serde_json error, naming the file and the line and column of the error.
    pub(crate) fn json(file: &str, err: &serde_json::Error) -> Self {
        // serde_json appends " at line L column C" to its Display; strip it, we print our own.
        let full = err.to_string();
        let message = match full.rfind(" at line ") {
            Some(i) if err.line() > 0 => full[..i].to_string(),
            _ => full,
        };
        EvalError::Json {
            file: file.to_string(),
            line: err.line(),
            column: err.column(),
            message,
        }
    }

    /// Wraps an I/O error, naming the file.
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        EvalError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}
