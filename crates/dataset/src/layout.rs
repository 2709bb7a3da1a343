//! Dataset layouts on disk and their detection.

use std::path::{Path, PathBuf};

use crate::error::DatasetError;

/// The name of the official ActivityNet1.3 annotation file.
pub const ACTIVITYNET_JSON: &str = "activity_net.v1-3.min.json";

/// How a dataset directory is laid out (the layouts of the public WTAL code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Layout {
    /// BaSNet, UM, CoLA: `gt.json`, `split_{train,test}.txt`,
    /// `features/{train,test}/{rgb,flow}/<video>.npy`, each `[T, 1024]`.
    A,
    /// ACM-Net, ASM-Loc: `gt.json`, `split_{train,test}.txt`, `{train,test}/<video>.npy`, one
    /// `[T, 2048]` array per video, rgb in the first half of the columns and flow in the second.
    B,
    /// The official ActivityNet1.3 annotation file `activity_net.v1-3.min.json` (subsets
    /// `training`, `validation`, `testing`; ids without the `v_` prefix) with features named
    /// `v_<id>.npy` stored as in layout A or layout B (detected).
    ActivityNet,
}

impl std::fmt::Display for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Layout::A => "A",
            Layout::B => "B",
            Layout::ActivityNet => "activitynet",
        })
    }
}

impl std::str::FromStr for Layout {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "a" => Ok(Layout::A),
            "b" => Ok(Layout::B),
            "activitynet" | "anet" => Ok(Layout::ActivityNet),
            other => Err(format!(
                "unknown layout {other:?} (expected A, B or activitynet)"
            )),
        }
    }
}

/// The two splits a dataset is read into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Split {
    /// Training videos (`split_train.txt`, folder `train`).
    Train,
    /// Test videos (`split_test.txt`, folder `test`).
    Test,
}

impl Split {
    /// `"train"` or `"test"`: the folder name in both layouts.
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "test",
        }
    }
}

/// Where the feature files are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FeatureStore {
    /// `features/<split>/{rgb,flow}/<name>.npy`.
    TwoFiles,
    /// `<split>/<name>.npy`, rgb ‖ flow.
    Joint,
}

impl FeatureStore {
    pub(crate) fn rgb_path(self, dir: &Path, split: Split, name: &str) -> PathBuf {
        match self {
            FeatureStore::TwoFiles => dir
                .join("features")
                .join(split.name())
                .join("rgb")
                .join(format!("{name}.npy")),
            FeatureStore::Joint => dir.join(split.name()).join(format!("{name}.npy")),
        }
    }

    pub(crate) fn flow_path(self, dir: &Path, split: Split, name: &str) -> PathBuf {
        dir.join("features")
            .join(split.name())
            .join("flow")
            .join(format!("{name}.npy"))
    }
}

/// Detects the layout of a dataset directory: `activity_net.v1-3.min.json` present means
/// [`Layout::ActivityNet`], a `features/` folder means [`Layout::A`], a `train/` or `test/`
/// folder means [`Layout::B`].
pub fn detect_layout(dir: &Path) -> Result<Layout, DatasetError> {
    if !dir.is_dir() {
        return Err(DatasetError::io(
            dir,
            std::io::Error::new(std::io::ErrorKind::NotFound, "dataset directory not found"),
        ));
    }
    if dir.join(ACTIVITYNET_JSON).is_file() {
        return Ok(Layout::ActivityNet);
    }
    match detect_store(dir) {
        Some(FeatureStore::TwoFiles) => Ok(Layout::A),
        Some(FeatureStore::Joint) => Ok(Layout::B),
        None => Err(DatasetError::UnknownLayout {
            dir: dir.into(),
            reason: format!("no {ACTIVITYNET_JSON}, no features/ folder (layout A), no train/ or test/ folder (layout B)"),
        }),
    }
}

pub(crate) fn detect_store(dir: &Path) -> Option<FeatureStore> {
    if dir.join("features").is_dir() {
        Some(FeatureStore::TwoFiles)
    } else if dir.join("train").is_dir() || dir.join("test").is_dir() {
        Some(FeatureStore::Joint)
    } else {
        None
    }
}
