//! Reading and writing `.npy` files: the one npy reader and writer of the workspace.
//!
//! Reading accepts arrays of `f16`, `f32` or `f64` (either byte order) in C order and converts
//! them to `f32`: [`read_features`] for 2-D feature arrays `[T, D]` (errors name the video),
//! [`read_f32`] for any shape (the CAS and attention files `maan test` writes). The file is
//! read into memory once and converted in one pass; a file shorter than its header promises
//! is reported as truncated, a longer one as corrupt. Writing: [`write_features`] (2-D, any of
//! the three element types) and [`write_f32`] (any shape, `f32`).

use std::fs;
use std::io::{BufWriter, Write};
use std::path::Path;

use npyz::{DType, Endianness, TypeChar, WriterBuilder};

use crate::error::DatasetError;

/// The element types `.npy` files may hold.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum NpyDtype {
    /// IEEE half precision (`<f2`).
    F16,
    /// IEEE single precision (`<f4`).
    F32,
    /// IEEE double precision (`<f8`).
    F64,
}

impl NpyDtype {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            NpyDtype::F16 => 2,
            NpyDtype::F32 => 4,
            NpyDtype::F64 => 8,
        }
    }
}

impl std::fmt::Display for NpyDtype {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NpyDtype::F16 => "f16",
            NpyDtype::F32 => "f32",
            NpyDtype::F64 => "f64",
        })
    }
}

impl std::str::FromStr for NpyDtype {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "f16" | "float16" => Ok(NpyDtype::F16),
            "f32" | "float32" => Ok(NpyDtype::F32),
            "f64" | "float64" => Ok(NpyDtype::F64),
            other => Err(format!(
                "unknown dtype {other:?} (expected f16, f32 or f64)"
            )),
        }
    }
}

/// A 2-D feature array read from an `.npy` file, converted to `f32`.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureArray {
    /// Rows (snippets), `T`.
    pub rows: usize,
    /// Columns (feature dimension), `D`.
    pub cols: usize,
    /// Row-major values, `[rows, cols]`.
    pub data: Vec<f32>,
    /// The element type on disk.
    pub dtype: NpyDtype,
}

/// Reads a 2-D `.npy` array `[T, D]` of f16/f32/f64 in C order as `f32`.
///
/// `video` only names the video in error messages. Errors: [`DatasetError::MissingFeatures`]
/// when the file does not exist, [`DatasetError::CorruptNpy`] for a bad header or a truncated
/// file, [`DatasetError::WrongDtype`] and [`DatasetError::WrongShape`] for other dtypes, Fortran
/// order, or a rank other than 2. Values are not checked here (see [`check_finite`]).
pub fn read_features(path: &Path, video: &str) -> Result<FeatureArray, DatasetError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(DatasetError::MissingFeatures {
                path: path.into(),
                video: video.into(),
            })
        }
        Err(e) => return Err(DatasetError::io(path, e)),
    };
    parse_features(&bytes, path, video)
}

/// Parses the bytes of a whole `.npy` file; see [`read_features`].
pub fn parse_features(
    bytes: &[u8],
    path: &Path,
    video: &str,
) -> Result<FeatureArray, DatasetError> {
    let (shape, data, dtype) = parse_array(bytes, path, video, true)?;
    Ok(FeatureArray {
        rows: shape[0],
        cols: shape[1],
        data,
        dtype,
    })
}

/// Parses the bytes of a whole `.npy` file of f16/f32/f64 in C order into its shape and its
/// values as `f32`, checking first that it is 2-D when `require_2d`. Errors as
/// [`read_features`].
fn parse_array(
    bytes: &[u8],
    path: &Path,
    video: &str,
    require_2d: bool,
) -> Result<(Vec<usize>, Vec<f32>, NpyDtype), DatasetError> {
    let corrupt = |message: String| DatasetError::CorruptNpy {
        path: path.into(),
        video: video.into(),
        message,
    };
    let mut rest: &[u8] = bytes;
    let header = npyz::NpyHeader::from_reader(&mut rest).map_err(|e| corrupt(e.to_string()))?;
    let descr = header.dtype().descr();
    let wrong_dtype = || DatasetError::WrongDtype {
        path: path.into(),
        video: video.into(),
        dtype: descr.clone(),
    };
    let (dtype, big_endian) = match header.dtype() {
        DType::Plain(ts) if ts.type_char() == TypeChar::Float => {
            let dtype = match ts.size_field() {
                2 => NpyDtype::F16,
                4 => NpyDtype::F32,
                8 => NpyDtype::F64,
                _ => return Err(wrong_dtype()),
            };
            (dtype, ts.endianness() == Endianness::Big)
        }
        _ => return Err(wrong_dtype()),
    };
    if header.order() != npyz::Order::C && header.shape().iter().filter(|&&s| s > 1).count() > 1 {
        return Err(DatasetError::WrongDtype {
            path: path.into(),
            video: video.into(),
            dtype: format!("{descr} in Fortran order"),
        });
    }
    let shape = header.shape();
    if require_2d && shape.len() != 2 {
        return Err(DatasetError::WrongShape {
            path: path.into(),
            video: video.into(),
            message: format!("expected a 2-D array [T, D], found shape {shape:?}"),
        });
    }
    let n = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(usize::try_from(d).ok()?))
        .and_then(|n| n.checked_mul(dtype.size()))
        .ok_or_else(|| corrupt(format!("shape {shape:?} is too large")))?;
    if rest.len() < n {
        return Err(corrupt(format!(
            "truncated: shape {shape:?} of {dtype} needs {n} data bytes, found {}",
            rest.len()
        )));
    }
    if rest.len() > n {
        return Err(corrupt(format!(
            "{} bytes after the {n} data bytes of shape {shape:?} of {dtype}",
            rest.len() - n
        )));
    }
    let data: Vec<f32> = match (dtype, big_endian) {
        (NpyDtype::F32, false) => rest
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        (NpyDtype::F32, true) => rest
            .chunks_exact(4)
            .map(|c| f32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        (NpyDtype::F64, be) => rest
            .chunks_exact(8)
            .map(|c| {
                let b = [c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]];
                (if be {
                    f64::from_be_bytes(b)
                } else {
                    f64::from_le_bytes(b)
                }) as f32
            })
            .collect(),
        (NpyDtype::F16, be) => rest
            .chunks_exact(2)
            .map(|c| {
                let b = [c[0], c[1]];
                (if be {
                    half::f16::from_be_bytes(b)
                } else {
                    half::f16::from_le_bytes(b)
                })
                .to_f32()
            })
            .collect(),
    };
    // The data fit in memory (checked above), so every dimension fits in usize.
    let shape = shape.iter().map(|&d| d as usize).collect();
    Ok((shape, data, dtype))
}

/// Reads an `.npy` array of any shape of f16/f32/f64 in C order as `f32`: its shape and its
/// values, row-major (the CAS `[T, C]` and attention `[T]` files that `maan test` writes with
/// [`write_f32`]).
///
/// Errors name the file (and its stem as the video): [`DatasetError::Io`] when it cannot be
/// read, [`DatasetError::CorruptNpy`] for a bad header or a truncated or overlong file,
/// [`DatasetError::WrongDtype`] for other dtypes or Fortran order. Values are not checked.
pub fn read_f32(path: &Path) -> Result<(Vec<usize>, Vec<f32>), DatasetError> {
    let bytes = fs::read(path).map_err(|e| DatasetError::io(path, e))?;
    let video = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (shape, data, _) = parse_array(&bytes, path, &video, false)?;
    Ok((shape, data))
}

/// The position and value of the first NaN or infinite value of a row-major `[_, cols]` array.
pub fn first_non_finite(data: &[f32], cols: usize) -> Option<(usize, usize, f32)> {
    let i = data.iter().position(|v| !v.is_finite())?;
    Some((i / cols.max(1), i % cols.max(1), data[i]))
}

/// Checks that every value is finite; the error names the file, the video and the position.
pub fn check_finite(arr: &FeatureArray, path: &Path, video: &str) -> Result<(), DatasetError> {
    match first_non_finite(&arr.data, arr.cols) {
        None => Ok(()),
        Some((row, col, value)) => Err(DatasetError::NonFinite {
            path: path.into(),
            video: video.into(),
            row,
            col,
            value,
        }),
    }
}

/// Writes a row-major `[rows, cols]` array of `f32` values as a C-order `.npy` file of the given
/// element type (values are rounded for f16; widened for f64).
pub fn write_features(
    path: &Path,
    data: &[f32],
    rows: usize,
    cols: usize,
    dtype: NpyDtype,
) -> Result<(), DatasetError> {
    if data.len() != rows * cols {
        return Err(DatasetError::Config(format!(
            "{}: {} values do not make a [{rows}, {cols}] array",
            path.display(),
            data.len()
        )));
    }
    let shape = [rows as u64, cols as u64];
    match dtype {
        NpyDtype::F32 => write_nd(path, &shape, data.iter().copied()),
        NpyDtype::F64 => write_nd(path, &shape, data.iter().map(|&v| v as f64)),
        NpyDtype::F16 => write_nd(path, &shape, data.iter().map(|&v| half::f16::from_f32(v))),
    }
}

/// Writes row-major `f32` values as a C-order float32 `.npy` file of the given shape (any
/// rank; the CAS `[T, C]` and attention `[T]` files of `maan test`). Read back with
/// [`read_f32`].
///
/// Errors name the file: [`DatasetError::Config`] when the values do not fill the shape,
/// [`DatasetError::Io`] when the file cannot be written.
pub fn write_f32(path: &Path, shape: &[usize], values: &[f32]) -> Result<(), DatasetError> {
    let n = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    if n != Some(values.len()) {
        return Err(DatasetError::Config(format!(
            "{}: {} values do not make an array of shape {shape:?}",
            path.display(),
            values.len()
        )));
    }
    let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    write_nd(path, &shape, values.iter().copied())
}

/// Writes an array of any npy element type and shape, C order (for test fixtures of bad
/// files: integer dtypes, other ranks).
pub fn write_raw<T: npyz::AutoSerialize + Copy>(
    path: &Path,
    shape: &[u64],
    data: &[T],
) -> Result<(), DatasetError> {
    write_nd(path, shape, data.iter().copied())
}

/// The one npy writer: `values` in C order under a header of `shape` and `T`'s default dtype.
fn write_nd<T: npyz::AutoSerialize>(
    path: &Path,
    shape: &[u64],
    values: impl Iterator<Item = T>,
) -> Result<(), DatasetError> {
    let io = |e: std::io::Error| DatasetError::io(path, e);
    let file = fs::File::create(path).map_err(io)?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut w = npyz::WriteOptions::<T>::new()
        .default_dtype()
        .shape(shape)
        .writer(&mut out)
        .begin_nd()
        .map_err(io)?;
    w.extend(values).map_err(io)?;
    w.finish().map_err(io)?;
    out.flush().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(rows: usize, cols: usize) -> Vec<f32> {
        (0..rows * cols).map(|i| (i as f32) * 0.25 - 3.0).collect()
    }

    #[test]
    fn round_trip_all_dtypes() {
        let dir = tempfile::tempdir().unwrap();
        let data = sample(5, 3);
        for dtype in [NpyDtype::F32, NpyDtype::F64, NpyDtype::F16] {
            let p = dir.path().join(format!("x_{dtype}.npy"));
            write_features(&p, &data, 5, 3, dtype).unwrap();
            let arr = read_features(&p, "vid").unwrap();
            assert_eq!((arr.rows, arr.cols, arr.dtype), (5, 3, dtype));
            // All sample values are multiples of 0.25 below 2^10: exact in f16 too.
            assert_eq!(arr.data, data);
        }
    }

    /// write_f32 / read_f32 round-trip any shape (CAS [T, C], attention [T], 3-D, empty);
    /// errors name the file.
    #[test]
    fn f32_any_shape_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        for shape in [vec![5, 3], vec![7], vec![2, 3, 2], vec![0, 4]] {
            let n: usize = shape.iter().product();
            let data = sample(n, 1);
            let p = dir.path().join(format!("a{}.npy", shape.len()));
            write_f32(&p, &shape, &data).unwrap();
            assert_eq!(read_f32(&p).unwrap(), (shape.clone(), data));
        }
        // Feature files of every dtype read as f32 too.
        let p = dir.path().join("h.npy");
        write_features(&p, &sample(2, 3), 2, 3, NpyDtype::F64).unwrap();
        assert_eq!(read_f32(&p).unwrap(), (vec![2, 3], sample(2, 3)));
        let p = dir.path().join("bad.npy");
        let err = write_f32(&p, &[2, 3], &[1.0; 5]).unwrap_err();
        assert!(err.to_string().contains("bad.npy"), "{err}");
        let err = read_f32(&dir.path().join("absent.npy")).unwrap_err();
        assert!(matches!(err, DatasetError::Io { .. }) && err.to_string().contains("absent.npy"));
        fs::write(&p, b"not an npy file").unwrap();
        let err = read_f32(&p).unwrap_err();
        assert!(
            matches!(err, DatasetError::CorruptNpy { .. }) && err.to_string().contains("bad.npy")
        );
        write_raw(&p, &[2], &[1i32, 2]).unwrap();
        assert!(matches!(read_f32(&p), Err(DatasetError::WrongDtype { .. })));
    }

    #[test]
    fn f16_rounds() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("h.npy");
        write_features(&p, &[0.1, 1.0 / 3.0], 1, 2, NpyDtype::F16).unwrap();
        let arr = read_features(&p, "v").unwrap();
        assert!((arr.data[0] - 0.1).abs() < 1e-3 && (arr.data[1] - 1.0 / 3.0).abs() < 1e-3);
    }

    #[test]
    fn missing_truncated_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v.npy");
        assert!(matches!(
            read_features(&p, "v"),
            Err(DatasetError::MissingFeatures { .. })
        ));
        write_features(&p, &sample(4, 2), 4, 2, NpyDtype::F32).unwrap();
        let bytes = fs::read(&p).unwrap();
        let cut = &bytes[..bytes.len() - 3];
        let err = parse_features(cut, &p, "v").unwrap_err();
        assert!(matches!(err, DatasetError::CorruptNpy { .. }), "{err}");
        assert!(err.to_string().contains("truncated") && err.to_string().contains("video v"));
        let err = parse_features(b"not an npy file at all", &p, "v").unwrap_err();
        assert!(matches!(err, DatasetError::CorruptNpy { .. }), "{err}");
        let mut long = bytes.clone();
        long.push(0);
        assert!(matches!(
            parse_features(&long, &p, "v"),
            Err(DatasetError::CorruptNpy { .. })
        ));
    }

    #[test]
    fn wrong_dtype_and_rank() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("i.npy");
        write_raw(&p, &[2, 2], &[1i32, 2, 3, 4]).unwrap();
        let err = read_features(&p, "vi").unwrap_err();
        assert!(matches!(err, DatasetError::WrongDtype { .. }), "{err}");
        assert!(err.to_string().contains("<i4"));
        let p = dir.path().join("r1.npy");
        write_raw(&p, &[2], &[1f32, 2.0]).unwrap();
        let err = read_features(&p, "vr").unwrap_err();
        assert!(matches!(err, DatasetError::WrongShape { .. }), "{err}");
        let p = dir.path().join("r3.npy");
        write_raw(&p, &[1, 2, 2], &[1f32; 4]).unwrap();
        assert!(matches!(
            read_features(&p, "v3"),
            Err(DatasetError::WrongShape { .. })
        ));
    }

    #[test]
    fn big_endian_f4() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("be.npy");
        let dtype = DType::Plain(">f4".parse().unwrap());
        let mut w = npyz::WriteOptions::<f32>::new()
            .dtype(dtype)
            .shape(&[1, 2])
            .writer(fs::File::create(&p).unwrap())
            .begin_nd()
            .unwrap();
        w.extend([1.5f32, -2.0]).unwrap();
        w.finish().unwrap();
        assert_eq!(read_features(&p, "v").unwrap().data, vec![1.5, -2.0]);
    }

    #[test]
    fn non_finite_position() {
        let mut d = sample(3, 4);
        d[6] = f32::NAN;
        assert_eq!(
            first_non_finite(&d, 4).map(|(r, c, _)| (r, c)),
            Some((1, 2))
        );
        d[6] = 0.0;
        d[11] = f32::INFINITY;
        assert_eq!(first_non_finite(&d, 4), Some((2, 3, f32::INFINITY)));
    }
}
