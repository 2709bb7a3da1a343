//! `cargo xtask demo-table [--check]`: runs the README's first command (`maan demo`, release
//! build, default backend and engine, seed 0) into a temporary run directory, tests the same
//! run with the paper's localization, and writes what they printed into the README between
//! its `<!-- demo-table -->` and `<!-- demo-paper -->` markers, with the machine, the date and
//! the commit. With `--check` it writes nothing and fails when the README differs from what
//! this build prints (the machine and date lines aside).

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

/// The README, relative to the repository root (xtask runs there).
const README: &str = "README.md";

/// Runs `cargo run --release -p maan-cli -- ARGS`, returning stdout (stderr goes through).
fn maan(args: &[&str]) -> Result<String> {
    eprintln!("$ cargo run --release -p maan-cli -- {}", args.join(" "));
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["run", "--release", "-q", "-p", "maan-cli", "--"])
        .args(args)
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("cannot start cargo")?;
    if !out.status.success() {
        bail!("maan {} failed ({})", args.join(" "), out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The last mAP table `maan` printed (its `tIoU` and `mAP (%)` lines).
fn last_table(stdout: &str) -> Result<String> {
    let lines: Vec<&str> = stdout.lines().collect();
    let i = lines
        .iter()
        .rposition(|l| l.starts_with("tIoU "))
        .context("no mAP table in maan's output")?;
    match lines.get(i + 1) {
        Some(vals) if vals.starts_with("mAP (%)") => Ok(format!("{}\n{}", lines[i], vals)),
        _ => bail!("an mAP table without its values line in maan's output"),
    }
}

/// The first output line of a command, or `unknown`.
fn first_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(str::to_string)
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The CPU model and the number of cores available, e.g. `Intel(R) Xeon(R) ..., 2 cores`.
fn machine() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{model}, {cores} cores")
}

/// Replaces the text between `<!-- NAME -->` and `<!-- /NAME -->` in `text`.
fn replace_block(text: &str, name: &str, body: &str) -> Result<String> {
    let (open, close) = (format!("<!-- {name} -->"), format!("<!-- /{name} -->"));
    let start = text
        .find(&open)
        .with_context(|| format!("{README} has no {open} marker"))?
        + open.len();
    let end = text[start..]
        .find(&close)
        .with_context(|| format!("{README} has no {close} marker"))?
        + start;
    Ok(format!("{}\n{body}\n{}", &text[..start], &text[end..]))
}

/// The lines of a block that this build determines (the table and the numbers; not the
/// machine, date and commit of the line that states them).
fn determined(block: &str) -> Vec<&str> {
    block
        .lines()
        .filter(|l| !l.starts_with("Printed on "))
        .collect()
}

/// Runs the task.
pub fn run(check: bool) -> Result<()> {
    let tmp = std::env::temp_dir().join(format!("maan-demo-table-{}", std::process::id()));
    let run_dir = tmp.join("demo");
    let run_str = run_dir.to_str().context("temporary path is not UTF-8")?;
    let result = (|| -> Result<(String, String)> {
        let table = last_table(&maan(&["demo", "--run", run_str])?)?;
        let det = tmp.join("paper.json");
        let det_str = det.to_str().context("temporary path is not UTF-8")?;
        let args = ["test", "--run", run_str, "--which", "last"];
        maan(&[&args[..], &["--localize", "paper", "--detections", det_str]].concat())?;
        let metrics: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(tmp.join("paper.metrics.json"))
                .context("reading the paper localization's metrics")?,
        )?;
        let avg = metrics["averages"]["0.1:0.5"]
            .as_f64()
            .context("no average 0.1:0.5 in the metrics")?;
        let at5 = metrics["tiou_thresholds"]
            .as_array()
            .and_then(|t| {
                t.iter()
                    .position(|v| v.as_f64().is_some_and(|v| (v - 0.5).abs() < 1e-9))
            })
            .and_then(|i| metrics["map"][i].as_f64())
            .context("no mAP at tIoU 0.5 in the metrics")?;
        Ok((
            table,
            format!(
                "{:.2} avg mAP 0.1:0.5, {:.2} at tIoU 0.5",
                avg * 100.0,
                at5 * 100.0
            ),
        ))
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    let (table, paper) = result?;
    let stamp = format!(
        "Printed on {} ({}), {}, commit {}:",
        first_line("date", &["-u", "+%Y-%m-%d"]),
        std::env::consts::OS,
        machine(),
        first_line("git", &["rev-parse", "--short", "HEAD"])
    );
    let text = std::fs::read_to_string(README).with_context(|| format!("reading {README}"))?;
    let new = replace_block(
        &text,
        "demo-table",
        &format!("{stamp}\n\n```text\n{table}\n```"),
    )?;
    let new = replace_block(&new, "demo-paper", &paper)?;
    if check {
        if determined(&new) != determined(&text) {
            bail!(
                "{README}'s demo table is not what this build prints:\n{table}\n(paper \
                 localization: {paper}); run `cargo xtask demo-table`"
            );
        }
        eprintln!("{README}'s demo table is what this build prints");
    } else if new != text {
        std::fs::write(Path::new(README), new).with_context(|| format!("writing {README}"))?;
        eprintln!("{README}: demo table updated\n{table}\n(paper localization: {paper})");
    } else {
        eprintln!("{README}: unchanged");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The last table of an output is taken; a block is replaced between its markers and
    /// only there; the stamp line does not count in the comparison.
    #[test]
    fn table_and_blocks() {
        let out = "tIoU  0.1\nmAP (%)  1.00\nnoise\ntIoU  0.1\nmAP (%)  2.00\n";
        assert_eq!(last_table(out).unwrap(), "tIoU  0.1\nmAP (%)  2.00");
        assert!(last_table("nothing").is_err());
        let text = "a\n<!-- t -->\nold\n<!-- /t -->\nb";
        let new = replace_block(text, "t", "Printed on x:\nnew").unwrap();
        assert_eq!(new, "a\n<!-- t -->\nPrinted on x:\nnew\n<!-- /t -->\nb");
        let restamped = new.replace("Printed on x:", "Printed on y:");
        assert_eq!(determined(&new), determined(&restamped));
        assert!(replace_block(text, "u", "x").is_err());
    }
}
