//! Reading and writing `.npy` feature files.
//!
//! Reading accepts 2-D arrays `[T, D]` of `f16`, `f32` or `f64` (either byte order) in C order
//! and converts them to `f32`. The file is read into memory once and converted in one pass; a
//! file shorter than its header promises is reported as truncated, a longer one as corrupt.

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
    if shape.len() != 2 {
        return Err(DatasetError::WrongShape {
            path: path.into(),
            video: video.into(),
            message: format!("expected a 2-D array [T, D], found shape {shape:?}"),
        });
    }
    let (rows, cols) = (shape[0] as usize, shape[1] as usize);
    let n = rows
        .checked_mul(cols)
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
    Ok(FeatureArray {
        rows,
        cols,
        data,
        dtype,
    })
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
    let io = |e: std::io::Error| DatasetError::io(path, e);
    let file = fs::File::create(path).map_err(io)?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let shape = [rows as u64, cols as u64];
    match dtype {
        NpyDtype::F32 => {
            let mut w = npyz::WriteOptions::<f32>::new()
                .default_dtype()
                .shape(&shape)
                .writer(&mut out)
                .begin_nd()
                .map_err(io)?;
            w.extend(data.iter().copied()).map_err(io)?;
            w.finish().map_err(io)?;
        }
        NpyDtype::F64 => {
            let mut w = npyz::WriteOptions::<f64>::new()
                .default_dtype()
                .shape(&shape)
                .writer(&mut out)
                .begin_nd()
                .map_err(io)?;
            w.extend(data.iter().map(|&v| v as f64)).map_err(io)?;
            w.finish().map_err(io)?;
        }
        NpyDtype::F16 => {
            let mut w = npyz::WriteOptions::<half::f16>::new()
                .default_dtype()
                .shape(&shape)
                .writer(&mut out)
                .begin_nd()
                .map_err(io)?;
            w.extend(data.iter().map(|&v| half::f16::from_f32(v)))
                .map_err(io)?;
            w.finish().map_err(io)?;
        }
    }
    out.flush().map_err(io)
}

/// Writes an array of any npy element type and shape, C order (for test fixtures of bad
/// files: integer dtypes, other ranks).
pub fn write_raw<T: npyz::AutoSerialize + Copy>(
    path: &Path,
    shape: &[u64],
    data: &[T],
) -> Result<(), DatasetError> {
    let io = |e: std::io::Error| DatasetError::io(path, e);
    let file = fs::File::create(path).map_err(io)?;
    let mut w = npyz::WriteOptions::<T>::new()
        .default_dtype()
        .shape(shape)
        .writer(BufWriter::new(file))
        .begin_nd()
        .map_err(io)?;
    w.extend(data.iter().copied()).map_err(io)?;
    w.finish().map_err(io)
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
