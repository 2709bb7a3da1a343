//! One module per subcommand. Each exposes `XArgs` (clap) and `run(args) -> anyhow::Result<()>`.

pub mod ablation;
pub mod bench;
pub mod common;
pub mod demo;
pub mod eval;
pub mod experiment;
pub mod extract;
pub mod inspect;
pub mod plot;
pub mod predict;
pub mod regimes;
pub mod synth;
pub mod test;
pub mod train;
pub mod wsol;

/// The built-in synthetic THUMOS14-shaped dataset, generated on first use.
pub const DEFAULT_DATA_DIR: &str = "data/synthetic/thumos14";

/// Where the built-in synthetic dataset `name` (`thumos14`, `activitynet`) lives when no
/// `--data-dir` is given:
///
/// 1. `$MAAN_DATA_DIR/synthetic/<name>` when the variable is set;
/// 2. `data/synthetic/<name>` under the current directory when it already exists there, or
///    when the current directory is the maan-rs repository (it has `data/thumos14/gt.json`),
///    as in the README's commands;
/// 3. otherwise a per-user directory, so that an installed `maan` run from anywhere does not
///    write hundreds of megabytes into the current directory: `$XDG_DATA_HOME/maan/synthetic/
///    <name>`, else `~/.local/share/maan/synthetic/<name>`.
pub fn builtin_data_dir(kind: dataset::Benchmark) -> std::path::PathBuf {
    use std::path::PathBuf;
    let name = match kind {
        dataset::Benchmark::Thumos14 => "thumos14",
        dataset::Benchmark::ActivityNet13 => "activitynet",
    };
    if let Some(root) = std::env::var_os("MAAN_DATA_DIR").filter(|v| !v.is_empty()) {
        return PathBuf::from(root).join("synthetic").join(name);
    }
    let local = PathBuf::from("data/synthetic").join(name);
    if local.is_dir() || std::path::Path::new("data/thumos14/gt.json").is_file() {
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
