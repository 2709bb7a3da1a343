//! Loading pytorch-i3d checkpoints (PyTorch `.pt` / `.pth` state dicts, or safetensors).
//!
//! The key mapping, written once: a PyTorch key is the Burn parameter path with
//!
//! - its first segment in PyTorch's spelling (`conv3d_1a_7x7` ↔ `Conv3d_1a_7x7`,
//!   `mixed_3b` ↔ `Mixed_3b`), and
//! - BatchNorm's `gamma` / `beta` named `weight` / `bias` (Burn's `PyTorchToBurnAdapter`);
//!
//! so `Mixed_3b.b1a.conv3d.weight`, `Mixed_3b.b1a.bn.running_mean`, ... Conv3d weights have
//! the same `[out, in, kₜ, kₕ, k_w]` layout in both. The tensors a pytorch-i3d state dict
//! holds beyond the network up to `Mixed_5c` are left unused: `logits.conv3d.*` (the
//! Kinetics/Charades classifier) and BatchNorm's `num_batches_tracked` counters.

use std::collections::BTreeMap;
use std::path::Path;

use burn::tensor::backend::Backend;
use burn_store::{
    BurnToPyTorchAdapter, ModuleSnapshot, ModuleStore, PyTorchToBurnAdapter, PytorchStore,
    SafetensorsStore,
};

use crate::error::I3dError;
use crate::model::I3d;

/// The weight file formats the importer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightFormat {
    /// A PyTorch `torch.save` of a state dict (zip or legacy format), `.pt` / `.pth`.
    PyTorch,
    /// A safetensors file, `.safetensors`.
    Safetensors,
}

impl WeightFormat {
    /// The format a file name's extension names, if any.
    pub fn from_path(path: &Path) -> Option<Self> {
        match path.extension()?.to_str()? {
            "pt" | "pth" => Some(Self::PyTorch),
            "safetensors" => Some(Self::Safetensors),
            _ => None,
        }
    }
}

/// What [`load_weights`] applied.
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// How many parameters and BatchNorm statistics were loaded.
    pub applied: usize,
    /// PyTorch keys of the file that the network does not use (`logits.conv3d.weight`,
    /// `...num_batches_tracked`, ...), sorted.
    pub unused: Vec<String>,
}

/// The PyTorch spelling of a Burn parameter path's first segment.
fn pytorch_first_segment(segment: &str) -> String {
    if let Some(rest) = segment.strip_prefix("conv3d_") {
        format!("Conv3d_{rest}")
    } else if let Some(rest) = segment.strip_prefix("mixed_") {
        format!("Mixed_{rest}")
    } else {
        segment.to_string()
    }
}

/// Every tensor the network loads, as `(PyTorch key, shape)`, in the network's order.
///
/// For the full-width RGB network these are exactly the tensors of pytorch-i3d's
/// `rgb_imagenet.pt` except `logits.*` and `*.num_batches_tracked`; shapes are
/// `[out, in, kₜ, kₕ, k_w]` for `conv3d.weight` and `[out]` for `bn.*`.
pub fn expected_keys<B: Backend>(model: &I3d<B>) -> Vec<(String, Vec<usize>)> {
    model
        .collect(None, Some(Box::new(BurnToPyTorchAdapter)), false)
        .into_iter()
        .map(|snapshot| {
            let path = snapshot.full_path();
            let key = match path.split_once('.') {
                Some((first, rest)) => format!("{}.{rest}", pytorch_first_segment(first)),
                None => path,
            };
            (key, snapshot.shape.to_vec())
        })
        .collect()
}

/// Reads the keys and shapes of a weight file, without remapping.
fn file_shapes(
    path: &Path,
    format: WeightFormat,
) -> Result<BTreeMap<String, Vec<usize>>, I3dError> {
    let read_error = |message: String| I3dError::Read {
        path: path.to_path_buf(),
        message,
    };
    let shapes = |all: &BTreeMap<String, burn_store::TensorSnapshot>| {
        all.iter()
            .map(|(k, s)| (k.clone(), s.shape.to_vec()))
            .collect()
    };
    match format {
        WeightFormat::PyTorch => {
            let mut store = PytorchStore::from_file(path);
            let all = store
                .get_all_snapshots()
                .map_err(|e| read_error(e.to_string()))?;
            Ok(shapes(all))
        }
        WeightFormat::Safetensors => {
            let mut store = SafetensorsStore::from_file(path);
            let all = store
                .get_all_snapshots()
                .map_err(|e| read_error(e.to_string()))?;
            Ok(shapes(all))
        }
    }
}

/// The key remapping from PyTorch's module names to the Burn fields.
const REMAP: [(&str, &str); 2] = [(r"^Conv3d_", "conv3d_"), (r"^Mixed_", "mixed_")];

/// The I3D network of `stream` at width `1 / width_div` on `device`, with the weights of the
/// checkpoint `weights` when given (randomly initialised otherwise: tests and benchmarks).
pub fn init_stream<B: Backend>(
    stream: crate::Stream,
    width_div: usize,
    weights: Option<&Path>,
    device: &B::Device,
) -> Result<I3d<B>, I3dError> {
    let mut model = crate::I3dConfig::new(stream)
        .with_width_div(width_div)
        .init::<B>(device);
    if let Some(path) = weights {
        load_weights(&mut model, path)?;
    }
    Ok(model)
}

/// Loads a pytorch-i3d checkpoint into `model`, a network of the same stream and width.
///
/// The format follows the extension (`.pt` / `.pth`: PyTorch, `.safetensors`). Every key of
/// [`expected_keys`] must be in the file with its shape; other tensors are reported in
/// [`LoadReport::unused`]. Nothing is loaded when a key is missing or a shape differs.
pub fn load_weights<B: Backend>(model: &mut I3d<B>, path: &Path) -> Result<LoadReport, I3dError> {
    if !path.is_file() {
        return Err(I3dError::MissingFile {
            path: path.to_path_buf(),
        });
    }
    let format = WeightFormat::from_path(path).ok_or_else(|| I3dError::UnknownFormat {
        path: path.to_path_buf(),
    })?;
    let in_file = file_shapes(path, format)?;
    let expected = expected_keys(model);
    for (key, shape) in &expected {
        match in_file.get(key) {
            None => {
                return Err(I3dError::MissingKey {
                    path: path.to_path_buf(),
                    key: key.clone(),
                    found: in_file.len(),
                })
            }
            Some(found) if found != shape => {
                return Err(I3dError::ShapeMismatch {
                    path: path.to_path_buf(),
                    key: key.clone(),
                    expected: shape.clone(),
                    found: found.clone(),
                })
            }
            Some(_) => {}
        }
    }
    let load_error = |message: String| I3dError::Load {
        path: path.to_path_buf(),
        message,
    };
    let result = match format {
        WeightFormat::PyTorch => {
            let mut store = PytorchStore::from_file(path)
                .map_indices_contiguous(false)
                .allow_partial(true)
                .validate(true);
            for (from, to) in REMAP {
                store = store.with_key_remapping(from, to);
            }
            model
                .load_from(&mut store)
                .map_err(|e| load_error(e.to_string()))?
        }
        WeightFormat::Safetensors => {
            let mut store = SafetensorsStore::from_file(path)
                .with_from_adapter(PyTorchToBurnAdapter)
                .map_indices_contiguous(false)
                .allow_partial(true)
                .validate(true);
            for (from, to) in REMAP {
                store = store.with_key_remapping(from, to);
            }
            model
                .load_from(&mut store)
                .map_err(|e| load_error(e.to_string()))?
        }
    };
    if !result.errors.is_empty() || !result.missing.is_empty() {
        let mut problems: Vec<String> = result.errors.iter().map(|e| e.to_string()).collect();
        problems.extend(
            result
                .missing
                .iter()
                .map(|(p, _)| format!("no tensor for {p}")),
        );
        return Err(load_error(problems.join("; ")));
    }
    let wanted: std::collections::BTreeSet<&str> =
        expected.iter().map(|(k, _)| k.as_str()).collect();
    Ok(LoadReport {
        applied: result.applied.len(),
        unused: in_file
            .keys()
            .filter(|k| !wanted.contains(k.as_str()))
            .cloned()
            .collect(),
    })
}
