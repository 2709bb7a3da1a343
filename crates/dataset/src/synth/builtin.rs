//! The built-in synthetic datasets: where they live ([`builtin_dir`]) and whether a folder
//! holds the one a configuration makes ([`builtin_status`], [`make_builtin`]), so that a
//! command without a dataset generates it on first use and again only when its settings
//! changed.

use std::path::{Path, PathBuf};

use maan_eval::Benchmark;

use super::{generate, SynthConfig};
use crate::error::DatasetError;

/// Where the built-in synthetic dataset of `kind` lives when no dataset folder is given
/// (`<name>` is [`Benchmark::dir_name`]):
///
/// 1. `$MAAN_DATA_DIR/synthetic/<name>` when the variable is set;
/// 2. `data/synthetic/<name>` under the current directory when it already exists there, or
///    when the current directory is the maan-rs repository (it has `data/thumos14/gt.json`);
/// 3. otherwise a per-user directory, so that a program run from anywhere does not write
///    hundreds of megabytes into the current directory: `$XDG_DATA_HOME/maan/synthetic/
///    <name>`, else `~/.local/share/maan/synthetic/<name>`.
pub fn builtin_dir(kind: Benchmark) -> PathBuf {
    let name = kind.dir_name();
    if let Some(root) = std::env::var_os("MAAN_DATA_DIR").filter(|v| !v.is_empty()) {
        return PathBuf::from(root).join("synthetic").join(name);
    }
    let local = PathBuf::from("data/synthetic").join(name);
    if local.is_dir() || Path::new("data/thumos14/gt.json").is_file() {
        return local;
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".local/share"))
        });
    match base {
        Some(base) => base.join("maan").join("synthetic").join(name),
        None => local,
    }
}

/// What a folder holds with respect to the built-in dataset of a configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltinStatus {
    /// The dataset of this configuration (its `synth.json` equals it), or a user's dataset
    /// (a `gt.json` and no `synth.json`), which is never touched.
    Ready,
    /// No dataset yet: it is generated on first use.
    Missing,
    /// A dataset made with other settings (e.g. by an older generator): made again.
    Stale,
}

/// Whether `dir` holds the dataset `cfg` makes.
pub fn builtin_status(dir: &Path, cfg: &SynthConfig) -> BuiltinStatus {
    let recorded = std::fs::read_to_string(dir.join("synth.json")).ok();
    match (&recorded, dir.join("gt.json").is_file()) {
        (None, true) => BuiltinStatus::Ready,
        (Some(text), true)
            if serde_json::from_str::<SynthConfig>(text).ok().as_ref() == Some(cfg) =>
        {
            BuiltinStatus::Ready
        }
        (Some(_), _) => BuiltinStatus::Stale,
        (None, false) => BuiltinStatus::Missing,
    }
}

/// Makes `dir` hold the dataset `cfg` makes, given its `status`: nothing when ready, the
/// old features removed first when stale, then generated.
pub fn make_builtin(
    dir: &Path,
    cfg: &SynthConfig,
    status: BuiltinStatus,
) -> Result<(), DatasetError> {
    match status {
        BuiltinStatus::Ready => return Ok(()),
        BuiltinStatus::Stale => {
            let features = dir.join("features");
            if features.is_dir() {
                std::fs::remove_dir_all(&features).map_err(|e| DatasetError::io(&features, e))?;
            }
        }
        BuiltinStatus::Missing => {}
    }
    generate(dir, cfg).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The built-in data is made once, kept while its settings match, made again when they
    /// differ (stale data from another generator), and a user's folder without `synth.json`
    /// is never touched.
    #[test]
    fn builtin_data_is_regenerated_only_when_its_settings_differ() {
        let ensure = |dir: &Path, cfg: &SynthConfig| {
            let status = builtin_status(dir, cfg);
            make_builtin(dir, cfg, status).unwrap();
            status
        };
        let tmp = std::env::temp_dir().join(format!("maan-builtin-{}", std::process::id()));
        let dir = tmp.join("thumos14");
        let cfg = SynthConfig {
            dim: 4,
            num_videos: Some(2),
            ..SynthConfig::default()
        };
        assert_eq!(ensure(&dir, &cfg), BuiltinStatus::Missing);
        let marker = dir.join("features").join("marker");
        std::fs::write(&marker, "x").unwrap();
        assert_eq!(ensure(&dir, &cfg), BuiltinStatus::Ready);
        assert!(marker.is_file(), "regenerated although the settings match");
        let other = SynthConfig {
            seed: 1,
            ..cfg.clone()
        };
        assert_eq!(ensure(&dir, &other), BuiltinStatus::Stale);
        assert!(
            !marker.is_file(),
            "not regenerated although the settings differ"
        );
        let recorded = SynthConfig::from_file(&dir.join("synth.json")).unwrap();
        assert_eq!(recorded, other);
        // A user's dataset: gt.json, no synth.json.
        let user = tmp.join("user");
        std::fs::create_dir_all(&user).unwrap();
        std::fs::write(user.join("gt.json"), "{}").unwrap();
        assert_eq!(ensure(&user, &cfg), BuiltinStatus::Ready);
        assert_eq!(std::fs::read_dir(&user).unwrap().count(), 1);
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
