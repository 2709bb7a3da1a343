//! Errors of the CUB-200-2011 loader and of the weight importer.

use std::path::PathBuf;

/// An error that stops CUB-200-2011 or pretrained weights from loading. Every variant names
/// the file and, where there is one, the line and image.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WsolError {
    /// A file or directory could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A required file is missing.
    #[error("{path}: missing file")]
    MissingFile {
        /// The expected file.
        path: PathBuf,
    },
    /// A line of a list file cannot be parsed.
    #[error("{path}:{line}: {message}")]
    Malformed {
        /// The list file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A list file names an image id that `images.txt` does not have.
    #[error("{path}:{line}: unknown image id {id} (not in images.txt)")]
    UnknownImage {
        /// The list file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The image id.
        id: u32,
    },
    /// An image of `images.txt` has no line in another list file.
    #[error("{path}: no entry for image id {id} ({name})")]
    MissingEntry {
        /// The list file.
        path: PathBuf,
        /// The image id.
        id: u32,
        /// Its file name in images.txt.
        name: String,
    },
    /// A bounding box does not lie inside its image.
    #[error("{path}:{line}: box of image id {id} ({x}, {y}, {w}×{h}) is outside the {width}×{height} image {image}")]
    BoxOutsideImage {
        /// bounding_boxes.txt.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The image id.
        id: u32,
        /// The image file.
        image: PathBuf,
        /// Left edge.
        x: f32,
        /// Top edge.
        y: f32,
        /// Width.
        w: f32,
        /// Height.
        h: f32,
        /// Image width.
        width: u32,
        /// Image height.
        height: u32,
    },
    /// An image file cannot be opened or decoded.
    #[error("{path}: image id {id}: unreadable image: {message}")]
    UnreadableImage {
        /// The image file.
        path: PathBuf,
        /// The image id.
        id: u32,
        /// The decoder's message.
        message: String,
    },
    /// Pretrained weights cannot be loaded.
    #[error("{path}: cannot load backbone weights: {message}")]
    Weights {
        /// The weights file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}
