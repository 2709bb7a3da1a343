//! Features of videos that have no annotations: what a trained model is applied to after the
//! benchmark (`maan predict`).
//!
//! A folder of such features is laid out as one video's files of layout A or layout B, without
//! split files or annotations:
//!
//! ```text
//! DIR/rgb/<video>.npy   [T, rgb_dim]      per-stream files (layout A)
//! DIR/flow/<video>.npy  [T, flow_dim]     (only when the model has a flow stream)
//!
//! DIR/<video>.npy       [T, rgb_dim + flow_dim]   rgb then flow columns (layout B)
//! ```
//!
//! `DIR/rgb/` decides: with it the folder is read as per-stream files, without it as
//! concatenated ones. Every file is checked as the dataset loader checks it (dtype, shape,
//! truncation, non-finite values, zero length, rgb and flow of different lengths), and every
//! error names the file and the video.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::DatasetError;
use crate::loader::Video;
use crate::npy::{check_finite, read_features, FeatureArray};
use maan_eval::SnippetTiming;

/// The feature dimensions a model expects, per stream (`flow == 0`: an RGB-only model).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamDims {
    /// RGB feature dimension.
    pub rgb: usize,
    /// Flow feature dimension (0: no flow stream).
    pub flow: usize,
}

/// Reads every video of `dir` (see the module docs) for a model with feature dimensions
/// `dims` and `num_classes` classes. The videos come sorted by id, with no labels and no
/// segments, and a duration of `T × timing.seconds_per_snippet()`.
///
/// Errors: the folder is missing or holds no `.npy` file; any file error of
/// [`read_features`]; a dimension other than `dims` ([`DatasetError::WrongShape`]); a
/// missing flow file ([`DatasetError::MissingFeatures`]); different rgb and flow lengths
/// ([`DatasetError::StreamLengthMismatch`]); non-finite values; an empty video.
pub fn read_unlabelled(
    dir: &Path,
    dims: StreamDims,
    num_classes: usize,
    timing: SnippetTiming,
) -> Result<Vec<Video>, DatasetError> {
    let per_stream = dir.join("rgb").is_dir();
    let listing = if per_stream {
        dir.join("rgb")
    } else {
        dir.to_path_buf()
    };
    let mut ids = npy_stems(&listing)?;
    if ids.is_empty() {
        return Err(DatasetError::Config(format!(
            "{}: no <video>.npy feature files (expected rgb/<video>.npy and flow/<video>.npy, \
             or <video>.npy with rgb and flow concatenated)",
            listing.display()
        )));
    }
    ids.sort();
    ids.into_iter()
        .map(|id| {
            let (len, rgb, flow) = if per_stream {
                read_per_stream(dir, &id, dims)?
            } else {
                read_concatenated(dir, &id, dims)?
            };
            Ok(Video {
                duration: len as f64 * timing.seconds_per_snippet(),
                id,
                len,
                rgb: rgb.into(),
                flow: (dims.flow > 0).then(|| Arc::from(flow)),
                rgb_dim: dims.rgb,
                flow_dim: dims.flow,
                labels: Vec::new(),
                segments: Vec::new(),
                num_classes,
            })
        })
        .collect()
}

/// File stems of the `.npy` files directly in `dir`.
fn npy_stems(dir: &Path) -> Result<Vec<String>, DatasetError> {
    let entries = fs::read_dir(dir).map_err(|e| DatasetError::io(dir, e))?;
    let mut out = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| DatasetError::io(dir, e))?.path();
        if path.extension().is_some_and(|e| e == "npy") && path.is_file() {
            if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
                out.push(stem.to_string());
            }
        }
    }
    Ok(out)
}

/// Reads one feature file, checking its values, its length and its dimension.
fn read_checked(path: &Path, video: &str, dim: usize) -> Result<FeatureArray, DatasetError> {
    let arr = read_features(path, video)?;
    if arr.rows == 0 {
        return Err(DatasetError::EmptyVideo {
            path: path.into(),
            video: video.into(),
        });
    }
    if arr.cols != dim {
        return Err(DatasetError::WrongShape {
            path: path.into(),
            video: video.into(),
            message: format!("{} feature columns, but the model takes {dim}", arr.cols),
        });
    }
    check_finite(&arr, path, video)?;
    Ok(arr)
}

type Features = (usize, Vec<f32>, Vec<f32>);

fn read_per_stream(dir: &Path, id: &str, dims: StreamDims) -> Result<Features, DatasetError> {
    let rgb_path = dir.join("rgb").join(format!("{id}.npy"));
    let rgb = read_checked(&rgb_path, id, dims.rgb)?;
    if dims.flow == 0 {
        return Ok((rgb.rows, rgb.data, Vec::new()));
    }
    let flow_path: PathBuf = dir.join("flow").join(format!("{id}.npy"));
    let flow = read_checked(&flow_path, id, dims.flow)?;
    if flow.rows != rgb.rows {
        return Err(DatasetError::StreamLengthMismatch {
            path: flow_path,
            video: id.into(),
            rgb_len: rgb.rows,
            flow_len: flow.rows,
        });
    }
    Ok((rgb.rows, rgb.data, flow.data))
}

fn read_concatenated(dir: &Path, id: &str, dims: StreamDims) -> Result<Features, DatasetError> {
    let path = dir.join(format!("{id}.npy"));
    let arr = read_checked(&path, id, dims.rgb + dims.flow)?;
    let (mut rgb, mut flow) = (
        Vec::with_capacity(arr.rows * dims.rgb),
        Vec::with_capacity(arr.rows * dims.flow),
    );
    for row in arr.data.chunks_exact(arr.cols) {
        rgb.extend_from_slice(&row[..dims.rgb]);
        flow.extend_from_slice(&row[dims.rgb..]);
    }
    Ok((arr.rows, rgb, flow))
}

/// How a feature folder of unlabelled videos is laid out (what [`read_unlabelled`] reads).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureLayout {
    /// `rgb/<video>.npy` and `flow/<video>.npy`, `[T, D]` each.
    A,
    /// `<video>.npy`, `[T, 2D]`: rgb then flow columns.
    B,
}

/// The files of video `id` in the feature folder `out`.
pub fn feature_files(out: &Path, layout: FeatureLayout, id: &str) -> Vec<PathBuf> {
    let name = format!("{id}.npy");
    match layout {
        FeatureLayout::A => vec![out.join("rgb").join(&name), out.join("flow").join(name)],
        FeatureLayout::B => vec![out.join(name)],
    }
}

/// Writes the features of video `id` (`rgb` and `flow`, `[t, d]` each, row-major) into the
/// feature folder `out` as float32 npy, each file atomically
/// ([`maan_eval::atomic::write_atomic_with`]: a file is absent or complete, and writers sharing
/// the folder never write into each other's temporary files).
pub fn write_video_features(
    out: &Path,
    layout: FeatureLayout,
    id: &str,
    rgb: &[f32],
    flow: &[f32],
    t: usize,
    d: usize,
) -> Result<(), DatasetError> {
    /// An error of the atomic write (an I/O error gets the file's name below).
    struct Failed(DatasetError);
    impl From<std::io::Error> for Failed {
        fn from(source: std::io::Error) -> Self {
            Failed(DatasetError::io(PathBuf::new(), source))
        }
    }
    let write = |path: &Path, data: &[f32], cols: usize| -> Result<(), DatasetError> {
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| DatasetError::io(dir, e))?;
        maan_eval::atomic::write_atomic_with(path, |tmp| {
            crate::npy::write_features(tmp, data, t, cols, crate::npy::NpyDtype::F32)
                .map_err(Failed)
        })
        .map_err(|Failed(e)| match e {
            DatasetError::Io { source, .. } => DatasetError::io(path, source),
            other => other,
        })
    };
    let files = feature_files(out, layout, id);
    match layout {
        FeatureLayout::A => {
            write(&files[0], rgb, d)?;
            write(&files[1], flow, d)
        }
        FeatureLayout::B => {
            let mut both = Vec::with_capacity(2 * t * d);
            for i in 0..t {
                both.extend_from_slice(&rgb[i * d..(i + 1) * d]);
                both.extend_from_slice(&flow[i * d..(i + 1) * d]);
            }
            write(&files[0], &both, 2 * d)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::npy::{write_features, NpyDtype};

    fn write(path: &Path, rows: usize, cols: usize, value: f32) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let data: Vec<f32> = (0..rows * cols).map(|i| value + i as f32).collect();
        write_features(path, &data, rows, cols, NpyDtype::F32).unwrap();
    }

    const DIMS: StreamDims = StreamDims { rgb: 3, flow: 2 };

    /// Per-stream and concatenated folders give the same videos, sorted by id, with the rgb
    /// and flow columns where they belong.
    #[test]
    fn both_layouts_read_the_same_videos() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        for (id, rows) in [("v2", 4), ("v1", 2)] {
            write(&a.path().join(format!("rgb/{id}.npy")), rows, 3, 0.0);
            write(&a.path().join(format!("flow/{id}.npy")), rows, 2, 100.0);
            let mut both = Vec::new();
            for t in 0..rows {
                both.extend((0..3).map(|c| (t * 3 + c) as f32));
                both.extend((0..2).map(|c| 100.0 + (t * 2 + c) as f32));
            }
            write_features(
                &b.path().join(format!("{id}.npy")),
                &both,
                rows,
                5,
                NpyDtype::F32,
            )
            .unwrap();
        }
        let timing = SnippetTiming::default();
        let va = read_unlabelled(a.path(), DIMS, 7, timing).unwrap();
        let vb = read_unlabelled(b.path(), DIMS, 7, timing).unwrap();
        assert_eq!(va, vb);
        assert_eq!(
            va.iter().map(|v| v.id.as_str()).collect::<Vec<_>>(),
            ["v1", "v2"]
        );
        assert_eq!(va[1].len, 4);
        assert_eq!(va[1].flow_row(3), &[106.0, 107.0]);
        assert_eq!(va[1].rgb_row(1), &[3.0, 4.0, 5.0]);
        assert!((va[1].duration - 4.0 * 0.64).abs() < 1e-12);
        assert_eq!(va[0].label_vector(), vec![0.0; 7]);
        // An RGB-only model reads the rgb files alone.
        let rgb_only = StreamDims { rgb: 3, flow: 0 };
        let v = read_unlabelled(a.path(), rgb_only, 7, timing).unwrap();
        assert!(v[0].flow.is_none() && v[0].flow_dim == 0);
    }

    /// Lengths that differ between rgb and flow, non-finite values, zero-length videos and an
    /// empty folder are errors that name the file and the video.
    #[test]
    fn bad_folders_are_errors_naming_file_and_video() {
        let timing = SnippetTiming::default();
        let d = tempfile::tempdir().unwrap();
        let err = read_unlabelled(d.path(), DIMS, 2, timing).unwrap_err();
        assert!(err.to_string().contains("no <video>.npy"), "{err}");
        write(&d.path().join("rgb/v.npy"), 4, 3, 0.0);
        write(&d.path().join("flow/v.npy"), 3, 2, 0.0);
        let err = read_unlabelled(d.path(), DIMS, 2, timing).unwrap_err();
        assert!(
            matches!(err, DatasetError::StreamLengthMismatch { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("flow/v.npy") && err.to_string().contains("video v"));
        let mut nan = vec![0.0f32; 12];
        nan[7] = f32::NAN;
        write_features(&d.path().join("rgb/v.npy"), &nan, 4, 3, NpyDtype::F32).unwrap();
        let err = read_unlabelled(d.path(), DIMS, 2, timing).unwrap_err();
        assert!(matches!(err, DatasetError::NonFinite { .. }), "{err}");
        write_features(&d.path().join("rgb/v.npy"), &[], 0, 3, NpyDtype::F32).unwrap();
        let err = read_unlabelled(d.path(), DIMS, 2, timing).unwrap_err();
        assert!(matches!(err, DatasetError::EmptyVideo { .. }), "{err}");
    }
}
