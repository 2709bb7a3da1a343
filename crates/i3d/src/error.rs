//! Errors of the weight importer.

use std::path::PathBuf;

/// An error that stops I3D weights from loading. Every variant names the file and, where
/// there is one, the PyTorch key (`Mixed_3b.b1a.conv3d.weight`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum I3dError {
    /// The weight file does not exist.
    #[error("{path}: missing file")]
    MissingFile {
        /// The expected file.
        path: PathBuf,
    },
    /// The file name ends in neither `.pt`, `.pth` nor `.safetensors`.
    #[error("{path}: unknown weight format (expected .pt, .pth or .safetensors)")]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// The file could not be read as a PyTorch or safetensors file.
    #[error("{path}: cannot read weights: {message}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The reader's message.
        message: String,
    },
    /// A parameter of the network has no tensor in the file.
    #[error(
        "{path}: no tensor {key} (the file has {found} tensors; is it a pytorch-i3d state dict?)"
    )]
    MissingKey {
        /// The file.
        path: PathBuf,
        /// The PyTorch key the network needs.
        key: String,
        /// How many tensors the file holds.
        found: usize,
    },
    /// A tensor of the file has another shape than the network's parameter.
    #[error("{path}: {key} has shape {found:?}, the network expects {expected:?} (wrong stream or width?)")]
    ShapeMismatch {
        /// The file.
        path: PathBuf,
        /// The PyTorch key.
        key: String,
        /// The shape of the network's parameter.
        expected: Vec<usize>,
        /// The shape in the file.
        found: Vec<usize>,
    },
    /// Burn's importer refused a tensor after the keys and shapes were checked (e.g. a
    /// data type it cannot convert).
    #[error("{path}: {message}")]
    Load {
        /// The file.
        path: PathBuf,
        /// What went wrong, per tensor.
        message: String,
    },
}
