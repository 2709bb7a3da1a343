//! A backend that is not in this build, asked for under `cargo run`: build it, then run the
//! same command again.
//!
//! The default build compiles one backend, `flex` (the fastest on CPUs), so that a newcomer's
//! first `cargo run --release -p maan-cli -- demo` builds in about four minutes on two cores
//! instead of seven: the CUDA backend alone (CubeCL's kernels instantiated for the CUDA
//! runtime, its compiler and driver bindings) was 45 % of that build's CPU time
//! (docs/benchmarks.md). A user who asks for another backend from a source checkout,
//! `cargo run --release -p maan-cli -- train --backend cuda`, still gets it: `maan` sees that it
//! was started by cargo, says what it does, and replaces itself with the `cargo run` that
//! builds this build's features plus the backend and runs the same arguments
//! (`maan_rebuild::plan`, whose docs say when a process may rebuild and what is carried over).
//!
//! Outside cargo (an installed binary), with `MAAN_NO_REBUILD=1`, or when the rebuilt binary
//! still lacks the backend, a missing backend is the plain error naming the cargo feature.
//! This module adds what only the binary knows: its features and its profile (`release` or
//! `debug`, recorded by the build script).

use std::ffi::OsString;

use maan_rebuild::{plan, Launch, Target, NO_REBUILD, REBUILT_FOR};

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

/// maan-cli's default features (kept equal to `[features] default` in its Cargo.toml; a test
/// checks).
pub const DEFAULT_FEATURES: &[&str] = &["flex"];

/// What a rebuild builds: `maan` of maan-cli.
const MAAN: Target<'static> = Target {
    package: "maan-cli",
    bin: "maan",
    default_features: DEFAULT_FEATURES,
};

/// Rebuilds with `backends` added and runs this command again, if this process may (see the
/// module docs); returns only when it may not (`None`) or when cargo could not be started
/// (`Some` error). On Unix the process is replaced by cargo (exit status, signals and the
/// terminal go to the new `maan`); elsewhere this process waits and exits with cargo's status.
/// `backends` and `compiled` are backend names (cargo features of maan-cli).
pub fn rebuild_and_rerun(backends: &[&str], compiled: &[&str]) -> Option<anyhow::Error> {
    let program_args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let plan = plan(
        &MAAN,
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
}
