//! Ground-truth annotations and class lists, as plain types with no Burn dependency.
//!
//! [`GroundTruth`] reads every ActivityNet-style JSON form the public WTAL code bases ship:
//!
//! - **layout A** (BaSNet/UM/CoLA THUMOS14 `gt.json`): only `"database"`, subsets
//!   `"train"`/`"test"`, segments as *strings* (`["18.6", "24.8"]`), no duration;
//! - **layout B** (ACM-Net/ASM-Loc): `"taxonomy"`, `"version"` and `"database"` whose entries have
//!   `"duration"`, `"frames"`, `"subset"` (`"validation"`/`"test"`, or `"train"`/`"val"` for
//!   ActivityNet) and *float* segments;
//! - the **official ActivityNet1.3** file: `"version"`, `"taxonomy"`, `"database"` entries with
//!   `"duration"`, `"resolution"`, `"url"`, `"subset"` (`"training"`/`"validation"`/`"testing"`)
//!   and float segments; `"testing"` videos have empty annotations.
//!
//! Segment bounds and durations may be JSON numbers or strings holding numbers. Unknown keys are
//! ignored. The subset is kept as the raw string; [`GroundTruth::subset`] filters by it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;

use crate::error::{EvalError, Result};

/// One annotated action instance, in seconds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GtSegment {
    /// Class name, as written in the file.
    pub label: String,
    /// Start time in seconds.
    pub start: f64,
    /// End time in seconds (`end >= start`).
    pub end: f64,
}

/// One video of the ground truth.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GtVideo {
    /// The subset as written in the file: `"train"`, `"validation"`, `"test"`, `"training"`,
    /// `"testing"`, `"val"`, ...
    pub subset: String,
    /// Video duration in seconds, when the file gives it (layout A does not).
    pub duration: Option<f64>,
    /// Annotated instances, in file order (possibly empty).
    pub segments: Vec<GtSegment>,
}

/// Ground-truth annotations of a whole dataset, keyed by video id.
///
/// Read it with [`GroundTruth::from_path`] or [`GroundTruth::from_json_str`]. Its serde derives
/// (de)serialize this struct's own shape (`{"version", "videos"}`), not the ActivityNet file
/// layout.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct GroundTruth {
    /// The file's `"version"` field, if any (a non-string value is kept as its JSON text).
    pub version: Option<String>,
    /// Videos by id, sorted by id.
    pub videos: BTreeMap<String, GtVideo>,
}

/// A number, or a string that holds one.
#[derive(Deserialize)]
#[serde(untagged)]
enum NumOrStr {
    Num(f64),
    Str(String),
}

impl NumOrStr {
    fn value(&self) -> std::result::Result<f64, String> {
        match self {
            NumOrStr::Num(v) => Ok(*v),
            NumOrStr::Str(s) => s
                .trim()
                .parse::<f64>()
                .map_err(|_| format!("{s:?} is not a number")),
        }
    }
}

#[derive(Deserialize)]
struct RawFile {
    #[serde(default)]
    version: Option<serde_json::Value>,
    database: BTreeMap<String, RawVideo>,
}

#[derive(Deserialize)]
struct RawVideo {
    subset: String,
    #[serde(default)]
    duration: Option<NumOrStr>,
    #[serde(default)]
    annotations: Vec<RawAnnotation>,
}

#[derive(Deserialize)]
struct RawAnnotation {
    label: String,
    segment: Vec<NumOrStr>,
}

impl GroundTruth {
    /// Reads a ground-truth JSON file in any of the forms listed in the module docs.
    ///
    /// # Errors
    /// [`EvalError::Io`] if the file cannot be read, [`EvalError::Json`] (with line and column)
    /// if it is not valid JSON of the expected shape, [`EvalError::InvalidSegment`] for a segment
    /// that is not two finite numbers with `start <= end`, [`EvalError::InvalidVideo`] for a
    /// negative or non-finite duration.
    pub fn from_path(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| EvalError::io(path, e))?;
        Self::from_json_str(&text, &path.display().to_string())
    }

    /// Parses ground-truth JSON text; `source` names it in error messages (a file name, say).
    ///
    /// # Errors
    /// As [`GroundTruth::from_path`], without the I/O error.
    pub fn from_json_str(text: &str, source: &str) -> Result<Self> {
        let raw: RawFile = serde_json::from_str(text).map_err(|e| EvalError::json(source, &e))?;
        let version = match raw.version {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(s),
            Some(other) => Some(other.to_string()),
        };
        let mut videos = BTreeMap::new();
        for (id, v) in raw.database {
            let duration = match &v.duration {
                None => None,
                Some(d) => {
                    let d = d.value().map_err(|reason| EvalError::InvalidVideo {
                        file: source.to_string(),
                        video: id.clone(),
                        reason: format!("duration: {reason}"),
                    })?;
                    if !d.is_finite() || d < 0.0 {
                        return Err(EvalError::InvalidVideo {
                            file: source.to_string(),
                            video: id.clone(),
                            reason: format!("duration {d} is not a finite number >= 0"),
                        });
                    }
                    Some(d)
                }
            };
            let mut segments = Vec::with_capacity(v.annotations.len());
            for (index, a) in v.annotations.iter().enumerate() {
                let bad = |reason: String| EvalError::InvalidSegment {
                    file: source.to_string(),
                    video: id.clone(),
                    index,
                    reason,
                };
                if a.segment.len() != 2 {
                    return Err(bad(format!(
                        "segment has {} values, expected [start, end]",
                        a.segment.len()
                    )));
                }
                let start = a.segment[0]
                    .value()
                    .map_err(|r| bad(format!("start: {r}")))?;
                let end = a.segment[1].value().map_err(|r| bad(format!("end: {r}")))?;
                if !start.is_finite() || !end.is_finite() {
                    return Err(bad(format!("segment [{start}, {end}] is not finite")));
                }
                if end < start {
                    return Err(bad(format!(
                        "segment [{start}, {end}] ends before it starts (label {:?})",
                        a.label
                    )));
                }
                segments.push(GtSegment {
                    label: a.label.clone(),
                    start,
                    end,
                });
            }
            videos.insert(
                id,
                GtVideo {
                    subset: v.subset,
                    duration,
                    segments,
                },
            );
        }
        Ok(GroundTruth { version, videos })
    }

    /// The videos whose subset is exactly `name` (for example `"test"` or `"validation"`).
    pub fn subset(&self, name: &str) -> GroundTruth {
        GroundTruth {
            version: self.version.clone(),
            videos: self
                .videos
                .iter()
                .filter(|(_, v)| v.subset == name)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }

    /// Every subset name present, with its number of videos.
    pub fn subsets(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for v in self.videos.values() {
            *out.entry(v.subset.clone()).or_insert(0) += 1;
        }
        out
    }

    /// The set of class labels that occur in at least one segment.
    pub fn labels(&self) -> BTreeSet<String> {
        self.videos
            .values()
            .flat_map(|v| v.segments.iter().map(|s| s.label.clone()))
            .collect()
    }

    /// Total number of annotated segments.
    pub fn num_segments(&self) -> usize {
        self.videos.values().map(|v| v.segments.len()).sum()
    }
}

/// An ordered list of class names: the class index used by models is the position in this list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassList {
    names: Vec<String>,
    index: BTreeMap<String, usize>,
}

impl ClassList {
    /// Reads a class list: one name per line, surrounding whitespace trimmed, blank lines ignored.
    ///
    /// # Errors
    /// [`EvalError::Io`] if the file cannot be read; [`EvalError::InvalidClassList`] for a
    /// duplicate name.
    pub fn from_path(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| EvalError::io(path, e))?;
        Self::from_text(&text, &path.display().to_string())
    }

    /// Parses a class list from text; `source` names it in error messages.
    ///
    /// # Errors
    /// [`EvalError::InvalidClassList`] for a duplicate name.
    pub fn from_text(text: &str, source: &str) -> Result<Self> {
        let mut names = Vec::new();
        let mut index = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            let name = line.trim();
            if name.is_empty() {
                continue;
            }
            if let Some(&first) = index.get(name) {
                return Err(EvalError::InvalidClassList {
                    file: source.to_string(),
                    line: i + 1,
                    reason: format!("duplicate class {name:?} (first seen as class #{first})"),
                });
            }
            index.insert(name.to_string(), names.len());
            names.push(name.to_string());
        }
        Ok(ClassList { names, index })
    }

    /// Builds a class list from names in the given order.
    ///
    /// # Errors
    /// [`EvalError::InvalidClassList`] for a duplicate or blank name.
    pub fn from_names<S: AsRef<str>>(names: &[S], source: &str) -> Result<Self> {
        for (i, n) in names.iter().enumerate() {
            let n = n.as_ref();
            if n.trim().is_empty() || n.contains('\n') {
                return Err(EvalError::InvalidClassList {
                    file: source.to_string(),
                    line: i + 1,
                    reason: format!("class name {n:?} is blank or spans lines"),
                });
            }
        }
        let text: Vec<&str> = names.iter().map(|n| n.as_ref()).collect();
        Self::from_text(&text.join("\n"), source)
    }

    /// The 20 THUMOS14 classes in the order of the public code (BaSNet, CoLA, ACM-Net, W-TALC):
    /// `data/thumos14/classes.txt`, compiled in.
    pub fn thumos14() -> Self {
        Self::from_text(
            include_str!("../../../data/thumos14/classes.txt"),
            "data/thumos14/classes.txt",
        )
        .unwrap_or_else(|e| unreachable!("built-in class list is valid: {e}"))
    }

    /// The 200 ActivityNet1.3 classes in ACM-Net's order: `data/activitynet13/classes.txt`,
    /// compiled in.
    pub fn activitynet13() -> Self {
        Self::from_text(
            include_str!("../../../data/activitynet13/classes.txt"),
            "data/activitynet13/classes.txt",
        )
        .unwrap_or_else(|e| unreachable!("built-in class list is valid: {e}"))
    }

    /// The names, in class-index order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The index of a class name, if present.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// The name of class `index`, if in range.
    pub fn name(&self, index: usize) -> Option<&str> {
        self.names.get(index).map(String::as_str)
    }

    /// Number of classes.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(rel: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../data")
            .join(rel)
    }

    const LAYOUT_A: &str = r#"{"database": {"v1": {"subset": "test", "annotations": [
        {"segment": ["18.6", "24.8"], "label": "HighJump"}]},
        "v2": {"subset": "train", "annotations": []}}}"#;

    const LAYOUT_B: &str = r#"{"taxonomy": [], "version": "TH14", "database": {"v1": {
        "duration": 226.6, "frames": 6799, "subset": "test",
        "annotations": [{"segment": [18.6, 24.8], "label": "HighJump"}]}}}"#;

    const OFFICIAL: &str = r#"{"version": "VERSION 1.3", "taxonomy": [{"nodeId": 1,
        "nodeName": "Root", "parentId": null, "parentName": null}], "database": {
        "abc": {"duration": 100.5, "resolution": "1280x720", "url": "https://x",
                "subset": "validation", "annotations": [
                {"segment": [1.5, 20.25], "label": "Long jump"},
                {"segment": [30, 40], "label": "Long jump"}]},
        "def": {"duration": 50, "resolution": "640x360", "url": "https://y",
                "subset": "testing", "annotations": []}}}"#;

    #[test]
    fn parses_layout_a_strings() {
        let gt = GroundTruth::from_json_str(LAYOUT_A, "a.json").unwrap();
        assert_eq!(gt.version, None);
        assert_eq!(gt.videos.len(), 2);
        let v = &gt.videos["v1"];
        assert_eq!(v.duration, None);
        assert_eq!(v.subset, "test");
        assert_eq!(
            v.segments,
            vec![GtSegment {
                label: "HighJump".into(),
                start: 18.6,
                end: 24.8
            }]
        );
    }

    #[test]
    fn parses_layout_b_floats() {
        let gt = GroundTruth::from_json_str(LAYOUT_B, "b.json").unwrap();
        assert_eq!(gt.version.as_deref(), Some("TH14"));
        assert_eq!(gt.videos["v1"].duration, Some(226.6));
        assert_eq!(gt.videos["v1"].segments[0].end, 24.8);
        // Layouts A and B of the same instance are equal.
        let a = GroundTruth::from_json_str(LAYOUT_A, "a.json").unwrap();
        assert_eq!(a.videos["v1"].segments, gt.videos["v1"].segments);
    }

    #[test]
    fn parses_official_activitynet() {
        let gt = GroundTruth::from_json_str(OFFICIAL, "anet.json").unwrap();
        assert_eq!(gt.version.as_deref(), Some("VERSION 1.3"));
        assert_eq!(gt.videos["abc"].segments.len(), 2);
        assert_eq!(gt.videos["abc"].segments[1].start, 30.0);
        assert!(gt.videos["def"].segments.is_empty());
        assert_eq!(gt.subset("validation").videos.len(), 1);
        assert_eq!(gt.subset("testing").num_segments(), 0);
        assert_eq!(
            gt.labels().into_iter().collect::<Vec<_>>(),
            vec!["Long jump".to_string()]
        );
        let subsets = gt.subsets();
        assert_eq!(subsets["validation"], 1);
        assert_eq!(subsets["testing"], 1);
    }

    #[test]
    fn invalid_json_names_file_line_and_column() {
        let err = GroundTruth::from_json_str("{\"database\": {\n  \"v\": [}", "bad.json")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("bad.json: invalid JSON at line 2, column"),
            "{err}"
        );
    }

    #[test]
    fn missing_database_is_an_error() {
        let err = GroundTruth::from_json_str("{\"version\": \"x\"}", "x.json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("x.json") && err.contains("database"), "{err}");
    }

    #[test]
    fn reversed_segment_names_file_video_and_segment() {
        let text = r#"{"database": {"vid7": {"subset": "test", "annotations": [
            {"segment": [1, 2], "label": "A"}, {"segment": [5, 4], "label": "A"}]}}}"#;
        let err = GroundTruth::from_json_str(text, "gt.json").unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, EvalError::InvalidSegment { index: 1, .. }));
        assert!(
            msg.contains("gt.json") && msg.contains("vid7") && msg.contains("#1"),
            "{msg}"
        );
    }

    #[test]
    fn bad_segments_are_errors() {
        for seg in [
            r#"["a", "2"]"#,
            "[1]",
            "[1, 2, 3]",
            r#"["nan", "2"]"#,
            "[true, 2]",
        ] {
            let text = format!(
                r#"{{"database": {{"v": {{"subset": "test", "annotations": [{{"segment": {seg}, "label": "A"}}]}}}}}}"#
            );
            assert!(
                GroundTruth::from_json_str(&text, "g").is_err(),
                "segment {seg} accepted"
            );
        }
        let neg = r#"{"database": {"v": {"subset": "test", "duration": -1, "annotations": []}}}"#;
        assert!(matches!(
            GroundTruth::from_json_str(neg, "g"),
            Err(EvalError::InvalidVideo { .. })
        ));
    }

    #[test]
    fn missing_file_is_an_io_error_naming_it() {
        let err = GroundTruth::from_path(Path::new("/nonexistent/gt.json")).unwrap_err();
        assert!(matches!(err, EvalError::Io { .. }));
        assert!(err.to_string().contains("/nonexistent/gt.json"));
    }

    #[test]
    fn real_thumos14_files_agree() {
        let b = GroundTruth::from_path(&data("thumos14/gt.json")).unwrap();
        let a = GroundTruth::from_path(&data("thumos14/gt_segments_as_strings.json")).unwrap();
        assert_eq!(b.videos.len(), 412);
        assert_eq!(a.videos.len(), 410);
        assert_eq!(b.version.as_deref(), Some("TH14"));
        assert!(b.videos.values().all(|v| v.duration.is_some()));
        assert!(a.videos.values().all(|v| v.duration.is_none()));
        let (bt, at) = (b.subset("test"), a.subset("test"));
        assert_eq!(bt.videos.len(), 212);
        assert_eq!(at.videos.len(), 210);
        assert_eq!(bt.num_segments(), 3358);
        assert_eq!(at.num_segments(), 3311);
        assert_eq!(b.subset("validation").num_segments(), 3007);
        assert_eq!(a.subset("train").num_segments(), 3007);
        // Every video of layout A's test subset has the same segments in layout B (the files
        // list them in different orders).
        let sorted = |v: &GtVideo| {
            let mut s: Vec<(String, u64, u64)> = v
                .segments
                .iter()
                .map(|s| (s.label.clone(), s.start.to_bits(), s.end.to_bits()))
                .collect();
            s.sort();
            s
        };
        for (id, v) in &at.videos {
            assert_eq!(sorted(v), sorted(&bt.videos[id]), "{id}");
        }
        // The two videos only in layout B are the ones the public splits leave out.
        let extra: Vec<&String> = bt
            .videos
            .keys()
            .filter(|k| !at.videos.contains_key(*k))
            .collect();
        assert_eq!(extra, ["video_test_0000270", "video_test_0001496"]);
        let classes = ClassList::thumos14();
        let names: BTreeSet<String> = classes.names().iter().cloned().collect();
        assert_eq!(b.labels(), names);
        assert_eq!(a.labels(), names);
    }

    #[test]
    fn class_lists() {
        let t = ClassList::thumos14();
        assert_eq!(t.len(), 20);
        assert_eq!(t.index_of("BaseballPitch"), Some(0));
        assert_eq!(t.index_of("CliffDiving"), Some(4));
        assert_eq!(t.index_of("VolleyballSpiking"), Some(19));
        assert_eq!(t.index_of("Nope"), None);
        assert_eq!(t.name(7), Some("Diving"));
        let a = ClassList::activitynet13();
        assert_eq!(a.len(), 200);
        assert!(!a.is_empty());
        let l = ClassList::from_text("A\n\n  B  \n\nC\n", "c.txt").unwrap();
        assert_eq!(l.names(), ["A", "B", "C"]);
        let err = ClassList::from_text("A\nB\n\nA\n", "c.txt").unwrap_err();
        assert!(matches!(err, EvalError::InvalidClassList { line: 4, .. }));
        assert!(err.to_string().contains("c.txt"));
        assert!(ClassList::from_text("", "e").unwrap().is_empty());
        assert_eq!(
            ClassList::from_names(&["x", "y"], "n")
                .unwrap()
                .index_of("y"),
            Some(1)
        );
        assert!(ClassList::from_names(&["x", " "], "n").is_err());
    }
}
