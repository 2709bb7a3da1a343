//! A backend that is not in this build, asked for under `cargo run`: build it, then run the
//! same command again.
//!
//! The default build compiles one backend, `flex` (the fastest on CPUs), so that a newcomer's
//! first `cargo run --release -p maan-cli -- demo` builds in about four minutes on two cores
//! instead of seven: the CUDA backend alone (CubeCL's kernels instantiated for the CUDA
//! runtime, its compiler and driver bindings) was 45 % of that build's CPU time
//! (docs/benchmarks.md). A user who asks for another backend from a source checkout,
//! `cargo run --release -p maan-cli -- train --backend cuda`, still gets it: `maan` sees that it
//! was started by cargo (cargo sets `CARGO` and `CARGO_MANIFEST_DIR` for the programs it runs),
//! says what it does, and replaces itself with
//! `cargo run [--release] --manifest-path <maan-cli>/Cargo.toml --bin maan --features <this
//! build's features + the backend> -- <the same arguments>`. Cargo keeps both builds side by
//! side in `target/`, so later runs of either command compile nothing.
//!
//! Outside cargo (an installed binary), with `MAAN_NO_REBUILD=1`, or when the rebuilt binary
//! still lacks the backend (`MAAN_REBUILT_FOR` is set for it), a missing backend is the plain
//! error naming the cargo feature, as before.
//!
//! What is carried over: the profile (`release` or `debug`, recorded by the build script), the
//! build's features, the arguments, and the environment (`CARGO_TARGET_DIR`, `RUSTFLAGS`, ...).
//! Other flags given to the first `cargo run` (`--target-dir`, `--locked`, `--offline`, `-j`)
//! are not visible to the program and are not repeated.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// The environment variable set for the rebuilt process: the backend it was rebuilt for.
pub const REBUILT_FOR: &str = "MAAN_REBUILT_FOR";
/// Set to a non-empty value to turn the rebuild off (a missing backend is then an error).
pub const NO_REBUILD: &str = "MAAN_NO_REBUILD";

/// The cargo profile this binary was built with (`release` or `debug`, from the build script).
const BUILD_PROFILE: &str = env!("MAAN_BUILD_PROFILE");

/// The cargo features of maan-cli that this binary was built with, `default` included when the
/// default features were on.
pub fn build_features() -> Vec<&'static str> {
    let mut v = Vec::new();
    for (on, name) in [
        (cfg!(feature = "default"), "default"),
        (cfg!(feature = "flex"), "flex"),
        (cfg!(feature = "ndarray"), "ndarray"),
        (cfg!(feature = "wgpu"), "wgpu"),
        (cfg!(feature = "cuda"), "cuda"),
        (cfg!(feature = "gpu-autotune"), "gpu-autotune"),
    ] {
        if on {
            v.push(name);
        }
    }
    v
}

/// What [`plan`] reads from the environment (one struct, so tests can give any).
#[derive(Debug, Clone, Default)]
pub struct Launch {
    /// `$CARGO`: the cargo that started this process, if any.
    pub cargo: Option<OsString>,
    /// `$CARGO_MANIFEST_DIR`: maan-cli's source folder, if started by cargo.
    pub manifest_dir: Option<OsString>,
    /// `$CARGO_PKG_NAME`: the package cargo ran (must be `maan-cli`).
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

/// A cargo command that builds `maan` with one more backend and runs it with the same
/// arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rebuild {
    /// The cargo program.
    pub cargo: PathBuf,
    /// Its arguments: `run [--release] --manifest-path M --bin maan [--no-default-features]
    /// --features F -- ARGS`.
    pub args: Vec<OsString>,
    /// The cargo command as a user would type it, for the message.
    pub shown: String,
}

/// The rebuild that adds `backends` when this process may do one (see the module docs), else
/// `None`. `features`: this build's features ([`build_features`]); `release`: built with the
/// release profile; `program_args`: the arguments to run again (without the program name).
pub fn plan(
    backends: &[&str],
    launch: &Launch,
    features: &[&str],
    release: bool,
    program_args: &[OsString],
) -> Option<Rebuild> {
    if launch.no_rebuild.is_some() || launch.rebuilt_for.is_some() {
        return None;
    }
    if launch.package.as_deref() != Some(OsStr::new("maan-cli")) {
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
            .filter(|f| !DEFAULT_FEATURES.contains(f))
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
    args.push("maan".into());
    if !default {
        args.push("--no-default-features".into());
    }
    args.push("--features".into());
    args.push(listed.join(",").into());
    let shown = format!(
        "cargo run{} -p maan-cli{} --features {}",
        if release { " --release" } else { "" },
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

/// maan-cli's default features (kept equal to `[features] default` in its Cargo.toml; a test
/// checks).
pub const DEFAULT_FEATURES: &[&str] = &["flex"];

/// Rebuilds with `backends` added and runs this command again, if this process may (see the
/// module docs); returns only when it may not (`None`) or when cargo could not be started
/// (`Some` error). On Unix the process is replaced by cargo (exit status, signals and the
/// terminal go to the new `maan`); elsewhere this process waits and exits with cargo's status.
/// `backends` and `compiled` are backend names (cargo features of maan-cli).
pub fn rebuild_and_rerun(backends: &[&str], compiled: &[&str]) -> Option<anyhow::Error> {
    let program_args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let plan = plan(
        backends,
        &Launch::from_env(),
        &build_features(),
        BUILD_PROFILE == "release",
        &program_args,
    )?;
    let names = backends.join(",");
    eprintln!(
        "maan: backend {names} is not in this build (it has: {}); building it with `{}` \
         (once: a few minutes; later runs compile nothing), then running the same command. \
         Set {NO_REBUILD}=1 to get an error instead.",
        compiled.join(", "),
        plan.shown
    );
    let mut cmd = std::process::Command::new(&plan.cargo);
    cmd.args(&plan.args).env(REBUILT_FOR, &names);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let err = cmd.exec();
        Some(anyhow::anyhow!(
            "could not run {} to build backend {names}: {err}",
            plan.cargo.display()
        ))
    }
    #[cfg(not(unix))]
    {
        match cmd.status() {
            Ok(status) => std::process::exit(status.code().unwrap_or(1)),
            Err(err) => Some(anyhow::anyhow!(
                "could not run {} to build backend {names}: {err}",
                plan.cargo.display()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// `DEFAULT_FEATURES` is maan-cli's `[features] default`, read from its Cargo.toml.
    #[test]
    fn default_features_match_the_manifest() {
        let toml = include_str!("../Cargo.toml");
        let line = toml
            .lines()
            .find(|l| l.starts_with("default = "))
            .expect("a default features line");
        let listed: Vec<&str> = line["default = ".len()..]
            .trim_matches(|c| c == '[' || c == ']')
            .split(',')
            .map(|f| f.trim().trim_matches('"'))
            .filter(|f| !f.is_empty())
            .collect();
        assert_eq!(listed, DEFAULT_FEATURES);
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
        let go = |l: &Launch| plan(&["cuda"], l, &["default", "flex"], true, &[]);
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
