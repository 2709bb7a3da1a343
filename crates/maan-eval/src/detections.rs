//! Detections in the ActivityNet result format.
//!
//! ```json
//! {"version": "VERSION 1.3",
//!  "results": {"video_test_0000004": [{"label": "CricketShot", "score": 0.93, "segment": [1.0, 1.5]}]},
//!  "external_data": {}}
//! ```
//!
//! Segments are `[start, end]` in seconds, JSON numbers. `version` and `external_data` may be
//! missing when reading (they default to `""` and `null`); they are always written.
//!
//! Numbers are read by serde_json's default parser (its `float_roundtrip` feature is off): it
//! computes `significand as f64` then one multiplication or division by an exact power of ten,
//! so a number with at most 15 significant digits and a decimal exponent within ±22 (every
//! THUMOS14 or ActivityNet time, and scores as usually written) is read exactly as Python reads
//! it; a 17-digit number may come out one ulp off.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{EvalError, Result};

/// One detection: a class label, a confidence score and a segment in seconds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Detection {
    /// Class name; must be a class of the ground truth when evaluated.
    pub label: String,
    /// Confidence; higher ranks first. Must be finite.
    pub score: f64,
    /// `[start, end]` in seconds, `start <= end`.
    pub segment: [f64; 2],
}

/// A whole detections file in the ActivityNet result format.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DetectionFile {
    /// Free-form version string (`"VERSION 1.3"` in the official format).
    #[serde(default)]
    pub version: String,
    /// Detections by video id.
    pub results: BTreeMap<String, Vec<Detection>>,
    /// Free-form description of external data used (`{}` when none).
    #[serde(default)]
    pub external_data: serde_json::Value,
}

impl Default for DetectionFile {
    fn default() -> Self {
        DetectionFile {
            version: "VERSION 1.3".to_string(),
            results: BTreeMap::new(),
            external_data: serde_json::Value::Object(Default::default()),
        }
    }
}

impl DetectionFile {
    /// An empty file with version `"VERSION 1.3"` and `external_data` `{}`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads and validates (see [`DetectionFile::validate`]) a detections JSON file.
    ///
    /// # Errors
    /// [`EvalError::Io`], [`EvalError::Json`] with line and column, or
    /// [`EvalError::InvalidDetection`].
    pub fn from_path(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| EvalError::io(path, e))?;
        Self::from_json_str(&text, &path.display().to_string())
    }

    /// Parses and validates detections JSON text; `source` names it in error messages.
    ///
    /// # Errors
    /// [`EvalError::Json`] with line and column, or [`EvalError::InvalidDetection`].
    pub fn from_json_str(text: &str, source: &str) -> Result<Self> {
        let file: DetectionFile =
            serde_json::from_str(text).map_err(|e| EvalError::json(source, &e))?;
        file.validate(source)?;
        Ok(file)
    }

    /// Checks every detection: finite score, finite bounds, `start <= end`. An empty `results`
    /// object is valid here (it is an error only when evaluated).
    ///
    /// # Errors
    /// [`EvalError::InvalidDetection`] naming `source`, the video and the detection's index.
    pub fn validate(&self, source: &str) -> Result<()> {
        for (video, dets) in &self.results {
            for (index, d) in dets.iter().enumerate() {
                let bad = |reason: String| EvalError::InvalidDetection {
                    file: source.to_string(),
                    video: video.clone(),
                    index,
                    reason,
                };
                if !d.score.is_finite() {
                    return Err(bad(format!("score {} is not a finite number", d.score)));
                }
                let [s, e] = d.segment;
                if !s.is_finite() || !e.is_finite() {
                    return Err(bad(format!("segment [{s}, {e}] is not finite")));
                }
                if s > e {
                    return Err(bad(format!("segment [{s}, {e}] starts after it ends")));
                }
            }
        }
        Ok(())
    }

    /// Total number of detections.
    pub fn num_detections(&self) -> usize {
        self.results.values().map(Vec::len).sum()
    }

    /// The JSON text of this file.
    ///
    /// # Errors
    /// [`EvalError::Json`] if a value cannot be serialized (a non-finite number).
    pub fn to_json_string(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| EvalError::json("<detections>", &e))
    }

    /// Writes the file atomically: the JSON goes to a temporary file in the same folder, which
    /// is then renamed over `path`, so a reader never sees a half-written file.
    ///
    /// # Errors
    /// [`EvalError::Io`] naming the path, or [`EvalError::InvalidDetection`] if the detections
    /// are invalid (a NaN score cannot be written as JSON).
    pub fn to_path(&self, path: &Path) -> Result<()> {
        self.validate(&path.display().to_string())?;
        let text = self.to_json_string()?;
        crate::atomic::write_atomic(path, text.as_bytes()).map_err(|e| EvalError::io(path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_through_a_file() {
        let mut f = DetectionFile::new();
        f.results.insert(
            "v1".into(),
            vec![Detection {
                label: "A".into(),
                score: 0.5,
                segment: [1.0, 2.5],
            }],
        );
        let dir = std::env::temp_dir().join(format!("maan-eval-det-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("det.json");
        f.to_path(&path).unwrap();
        let back = DetectionFile::from_path(&path).unwrap();
        assert_eq!(back, f);
        assert_eq!(back.num_detections(), 1);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"external_data\":{}") && text.contains("\"version\""));
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Every score and time read back from the JSON text is bit for bit the one written (the
    /// workspace's serde_json parses with `float_roundtrip`), so a detections file scores as
    /// the detections did in memory: 20,000 scores of the kind inference gives (products of
    /// f32 values, widened) and times over many magnitudes.
    #[test]
    fn numbers_round_trip_exactly_through_json() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(36);
        let mut f = DetectionFile::new();
        let list = (0..20_000)
            .map(|i| {
                let a: f32 = rng.random();
                let b: f32 = rng.random();
                let t: f64 = rng.random::<f64>() * 10f64.powi(i % 7 - 2);
                Detection {
                    label: "A".into(),
                    score: f64::from(a * b),
                    segment: [t, t * 1.5 + rng.random::<f64>()],
                }
            })
            .collect();
        f.results.insert("v".into(), list);
        let back = DetectionFile::from_json_str(&f.to_json_string().unwrap(), "test").unwrap();
        for (x, y) in f.results["v"].iter().zip(&back.results["v"]) {
            assert_eq!(
                x.score.to_bits(),
                y.score.to_bits(),
                "{} read as {}",
                x.score,
                y.score
            );
            assert_eq!(x.segment[0].to_bits(), y.segment[0].to_bits());
            assert_eq!(x.segment[1].to_bits(), y.segment[1].to_bits());
        }
    }

    #[test]
    fn optional_fields_default() {
        let f = DetectionFile::from_json_str(
            r#"{"results": {"v": [{"label": "A", "score": 1, "segment": [0, 1]}]}}"#,
            "d.json",
        )
        .unwrap();
        assert_eq!(f.version, "");
        assert_eq!(f.external_data, serde_json::Value::Null);
    }

    #[test]
    fn bad_detections_are_errors_naming_file_and_video() {
        let e = DetectionFile::from_json_str(
            r#"{"results": {"vx": [{"label": "A", "score": 1, "segment": [3, 1]}]}}"#,
            "d.json",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("d.json") && e.contains("vx") && e.contains("after"),
            "{e}"
        );
        let e = DetectionFile::from_json_str(r#"{"results": {"v": [{"label": "A"}]}}"#, "d.json")
            .unwrap_err()
            .to_string();
        assert!(e.contains("d.json") && e.contains("line 1"), "{e}");
        // JSON has no NaN; a NaN built in memory is caught by validate.
        let mut f = DetectionFile::new();
        f.results.insert(
            "v".into(),
            vec![Detection {
                label: "A".into(),
                score: f64::NAN,
                segment: [0.0, 1.0],
            }],
        );
        assert!(matches!(
            f.validate("mem"),
            Err(EvalError::InvalidDetection { .. })
        ));
        assert!(f.to_path(Path::new("/nonexistent-dir/x.json")).is_err());
    }
}
