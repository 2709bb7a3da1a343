//! # maan-rebuild
//!
//! A cargo feature that a binary lacks, asked for under `cargo run`: the cargo command that
//! builds the binary again with it and runs the same command line ([`plan`]), or nothing when
//! the process may not rebuild. `maan` compiles its Burn backends as cargo features (only
//! `flex` by default, so that a first build is short), and runs this command (replacing
//! itself) when asked for another one from a source checkout; any binary built on the maan
//! libraries with backend features can do the same by naming its own [`Target`].
//!
//! A process may rebuild when cargo started it for the target's package: cargo sets `CARGO`,
//! `CARGO_MANIFEST_DIR` and `CARGO_PKG_NAME` for the programs it runs ([`Launch`]), and the
//! manifest must be there. It may not outside cargo (an installed binary), with
//! `MAAN_NO_REBUILD` set ([`NO_REBUILD`]), or when it is itself a rebuild (`MAAN_REBUILT_FOR`,
//! [`REBUILT_FOR`], set for the new process, so that a rebuilt binary that still lacks the
//! feature does not rebuild forever).
//!
//! The command is `cargo run [--release] --manifest-path <package>/Cargo.toml --bin <bin>
//! [--no-default-features] --features <the build's features + the missing ones> -- <the same
//! arguments>`: the profile and the build's features are carried over, and cargo keeps both
//! builds side by side in `target/`, so later runs of either compile nothing. Other flags given
//! to the first `cargo run` (`--target-dir`, `--locked`, `-j`) are not visible to the program
//! and are not repeated; the environment (`CARGO_TARGET_DIR`, `RUSTFLAGS`, ...) is inherited.
//!
//! ```
//! use maan_rebuild::{plan, Launch, Target};
//! // Not started by cargo: no rebuild.
//! let target = Target { package: "maan-cli", bin: "maan", default_features: &["flex"] };
//! assert!(plan(&target, &["cuda"], &Launch::default(), &["default", "flex"], true, &[]).is_none());
//! ```

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// The environment variable set for the rebuilt process: the features it was rebuilt for.
pub const REBUILT_FOR: &str = "MAAN_REBUILT_FOR";
/// Set to a non-empty value to turn the rebuild off (a missing feature is then the caller's
/// error).
pub const NO_REBUILD: &str = "MAAN_NO_REBUILD";

/// The binary to build again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target<'a> {
    /// Its package (`maan-cli`).
    pub package: &'a str,
    /// Its binary target (`maan`).
    pub bin: &'a str,
    /// The package's default features (`[features] default`).
    pub default_features: &'a [&'a str],
}

/// What [`plan`] reads from the environment (one struct, so tests can give any).
#[derive(Debug, Clone, Default)]
pub struct Launch {
    /// `$CARGO`: the cargo that started this process, if any.
    pub cargo: Option<OsString>,
    /// `$CARGO_MANIFEST_DIR`: the package's source folder, if started by cargo.
    pub manifest_dir: Option<OsString>,
    /// `$CARGO_PKG_NAME`: the package cargo ran (must be the target's).
    pub package: Option<OsString>,
    /// `$MAAN_REBUILT_FOR`: set when this process is already a rebuild.
    pub rebuilt_for: Option<OsString>,
    /// `$MAAN_NO_REBUILD`.
    pub no_rebuild: Option<OsString>,
}

impl Launch {
    /// This process's environment.
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        Launch {
            cargo: var("CARGO"),
            manifest_dir: var("CARGO_MANIFEST_DIR"),
            package: var("CARGO_PKG_NAME"),
            rebuilt_for: var(REBUILT_FOR),
            no_rebuild: var(NO_REBUILD),
        }
    }
}

/// A cargo command that builds the target with more features and runs it with the same
/// arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rebuild {
    /// The cargo program.
    pub cargo: PathBuf,
    /// Its arguments: `run [--release] --manifest-path M --bin BIN [--no-default-features]
    /// --features F -- ARGS`.
    pub args: Vec<OsString>,
    /// The cargo command as a user would type it, for the message.
    pub shown: String,
}

/// The rebuild of `target` that adds the features `backends` when this process may do one
/// (see the crate docs), else `None`. `features`: this build's features (`default` included
/// when the default features are on); `release`: built with the release profile;
/// `program_args`: the arguments to run again (without the program name).
pub fn plan(
    target: &Target<'_>,
    backends: &[&str],
    launch: &Launch,
    features: &[&str],
    release: bool,
    program_args: &[OsString],
) -> Option<Rebuild> {
    if launch.no_rebuild.is_some() || launch.rebuilt_for.is_some() {
        return None;
    }
    if launch.package.as_deref() != Some(OsStr::new(target.package)) {
        return None;
    }
    let cargo = PathBuf::from(launch.cargo.as_ref()?);
    let manifest = Path::new(launch.manifest_dir.as_ref()?).join("Cargo.toml");
    if !manifest.is_file() {
        return None;
    }
    let default = features.contains(&"default");
    let mut wanted: Vec<&str> = features
        .iter()
        .copied()
        .filter(|f| *f != "default")
        .collect();
    for &b in backends {
        if !wanted.contains(&b) {
            wanted.push(b);
        }
    }
    // With the default features on, name only what comes on top of them, as a user would.
    let listed: Vec<&str> = if default {
        wanted
            .iter()
            .copied()
            .filter(|f| !target.default_features.contains(f))
            .collect()
    } else {
        wanted
    };
    let mut args: Vec<OsString> = vec!["run".into()];
    if release {
        args.push("--release".into());
    }
    args.push("--manifest-path".into());
    args.push(manifest.into_os_string());
    args.push("--bin".into());
    args.push(target.bin.into());
    if !default {
        args.push("--no-default-features".into());
    }
    args.push("--features".into());
    args.push(listed.join(",").into());
    let shown = format!(
        "cargo run{} -p {}{} --features {}",
        if release { " --release" } else { "" },
        target.package,
        if default {
            ""
        } else {
            " --no-default-features"
        },
        listed.join(",")
    );
    args.push("--".into());
    args.extend(program_args.iter().cloned());
    Some(Rebuild { cargo, args, shown })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAAN: Target<'static> = Target {
        package: "maan-cli",
        bin: "maan",
        default_features: &["flex"],
    };

    fn launch(dir: &Path) -> Launch {
        Launch {
            cargo: Some("/opt/cargo".into()),
            manifest_dir: Some(dir.as_os_str().to_owned()),
            package: Some("maan-cli".into()),
            rebuilt_for: None,
            no_rebuild: None,
        }
    }

    fn strings(v: &[OsString]) -> Vec<String> {
        v.iter().map(|s| s.to_string_lossy().into_owned()).collect()
    }

    /// From the default build, the rebuild names only the added backend; from a build without
    /// default features it repeats every feature, then adds each missing backend once; the
    /// profile and the arguments are kept.
    #[test]
    fn cargo_command_keeps_features_profile_and_arguments() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Cargo.toml"), "").unwrap();
        let args: Vec<OsString> = ["train", "--backend", "cuda", "--seed", "3"]
            .iter()
            .map(OsString::from)
            .collect();
        let manifest = dir.path().join("Cargo.toml").display().to_string();
        let p = plan(
            &MAAN,
            &["cuda"],
            &launch(dir.path()),
            &["default", "flex"],
            true,
            &args,
        )
        .unwrap();
        assert_eq!(p.cargo, PathBuf::from("/opt/cargo"));
        assert_eq!(
            strings(&p.args),
            [
                "run",
                "--release",
                "--manifest-path",
                &manifest,
                "--bin",
                "maan",
                "--features",
                "cuda",
                "--",
                "train",
                "--backend",
                "cuda",
                "--seed",
                "3"
            ]
        );
        assert_eq!(p.shown, "cargo run --release -p maan-cli --features cuda");
        let p = plan(
            &MAAN,
            &["wgpu", "cuda", "ndarray"],
            &launch(dir.path()),
            &["ndarray", "gpu-autotune"],
            false,
            &args[..1],
        )
        .unwrap();
        assert_eq!(
            strings(&p.args),
            [
                "run",
                "--manifest-path",
                &manifest,
                "--bin",
                "maan",
                "--no-default-features",
                "--features",
                "ndarray,gpu-autotune,wgpu,cuda",
                "--",
                "train"
            ]
        );
    }

    /// No rebuild outside cargo, for another package, without maan-cli's manifest, when turned
    /// off, or when this process is already a rebuild.
    #[test]
    fn no_rebuild_unless_started_by_cargo_for_maan_cli() {
        let dir = tempfile::tempdir().unwrap();
        let go = |l: &Launch| plan(&MAAN, &["cuda"], l, &["default", "flex"], true, &[]);
        // No manifest in the folder yet.
        assert!(go(&launch(dir.path())).is_none());
        std::fs::write(dir.path().join("Cargo.toml"), "").unwrap();
        assert!(go(&launch(dir.path())).is_some());
        type Change = fn(&mut Launch);
        let cases: [(&str, Change); 5] = [
            ("no CARGO", |l| l.cargo = None),
            ("no CARGO_MANIFEST_DIR", |l| l.manifest_dir = None),
            ("another package", |l| l.package = Some("dataset".into())),
            ("MAAN_NO_REBUILD", |l| l.no_rebuild = Some("1".into())),
            ("already rebuilt", |l| l.rebuilt_for = Some("cuda".into())),
        ];
        for (what, change) in cases {
            let mut l = launch(dir.path());
            change(&mut l);
            assert!(go(&l).is_none(), "{what}");
        }
    }
}
