//! Records the git commit the `maan` binary is built from, for the metrics JSON of `maan test`
//! and `maan eval` (`MAAN_GIT_COMMIT`, read with `env!`).
//!
//! The commit is `$MAAN_GIT_COMMIT` when set (for packagers building outside a git checkout),
//! else `git rev-parse HEAD` run in this crate's folder, else `unknown` (no git, no `.git`: a
//! source tarball builds as well). Uncommitted changes are not marked. The build script is run
//! again when HEAD or the branch it points to moves, so the recorded commit follows commits
//! and checkouts. It also records the cargo profile (`MAAN_BUILD_PROFILE`: `release` or
//! `debug`), with which `src/rebuild.rs` builds another backend the way this binary was built.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn main() {
    println!("cargo:rerun-if-env-changed=MAAN_GIT_COMMIT");
    let commit = match std::env::var("MAAN_GIT_COMMIT") {
        Ok(c) if !c.trim().is_empty() => c.trim().to_string(),
        _ => {
            // Watch HEAD, the branch it names and packed-refs (paths from git itself, so that
            // worktrees, whose `.git` is a file, work too); only files that exist, since a
            // missing one would make cargo run this script on every build.
            let mut watch = vec!["HEAD".to_string(), "packed-refs".to_string()];
            if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
                watch.push(branch);
            }
            for name in watch {
                if let Some(path) = git(&["rev-parse", "--git-path", &name]) {
                    if std::path::Path::new(&path).is_file() {
                        println!("cargo:rerun-if-changed={path}");
                    }
                }
            }
            git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".to_string())
        }
    };
    println!("cargo:rustc-env=MAAN_GIT_COMMIT={commit}");
    // The profile (`release` or `debug`), for rebuilding with another backend the way this
    // binary was built (src/rebuild.rs).
    let profile = std::env::var("PROFILE").unwrap_or_else(|_| "debug".to_string());
    println!("cargo:rustc-env=MAAN_BUILD_PROFILE={profile}");
}
