//! Repository chores, reached through the `cargo xtask` alias (`.cargo/config.toml`).
//!
//! - `cargo xtask ci`: everything CI checks (`.ci/run`).
//! - `cargo xtask bench`: the criterion benchmarks of `maa-core`, `dataset` and `maan-eval`
//!   (release), whose tables are recorded in each crate's `BENCHMARKS.md`.
//! - `cargo xtask lint`: `cargo fmt --check` and `cargo clippy -D warnings`.
//! - `cargo xtask demo-table [--check]`: the README's demo table, regenerated from what this
//!   build prints, with the machine and the date ([`demo_table`]).

mod demo_table;

use std::process::{Command, ExitCode};

use anyhow::{bail, Context, Result};

fn run(program: &str, args: &[&str]) -> Result<()> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .status()
        .with_context(|| format!("cannot start {program}"))?;
    if !status.success() {
        bail!("{program} {} failed ({status})", args.join(" "));
    }
    Ok(())
}

fn main() -> ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    let result = match task.as_str() {
        "ci" => run("bash", &[".ci/run"]),
        "lint" => run("cargo", &["fmt", "--all", "--", "--check"]).and_then(|_| {
            run(
                "cargo",
                &[
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--",
                    "-D",
                    "warnings",
                ],
            )
        }),
        "bench" => run(
            "cargo",
            &["bench", "-p", "maa-core", "--features", "bench-flex"],
        )
        .and_then(|_| run("cargo", &["bench", "-p", "dataset"]))
        .and_then(|_| run("cargo", &["bench", "-p", "maan-eval"])),
        "demo-table" => demo_table::run(std::env::args().nth(2).as_deref() == Some("--check")),
        _ => {
            eprintln!("usage: cargo xtask <ci|lint|bench|demo-table [--check]>");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
