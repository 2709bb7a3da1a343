//! `maan inspect`: read and validate every file of a feature dataset, print a summary and every
//! problem found; exit non-zero when any error was found.

use std::path::PathBuf;

use dataset::{inspect, Benchmark, LengthStats, Severity};

use crate::opts::{load_hint, LoadArgs};

/// Arguments of `maan inspect`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// Dataset directory: layout A (gt.json, split_{train,test}.txt,
    /// features/{train,test}/{rgb,flow}/<video>.npy), layout B (the same with
    /// {train,test}/<video>.npy, rgb and flow concatenated) or ActivityNet
    /// (activity_net.v1-3.min.json with v_<id>.npy features).
    #[arg(long)]
    pub data_dir: PathBuf,
    /// Benchmark: thumos14 or activitynet (`--kind` is an older name of this flag). [default:
    /// inferred from the layout and labels]
    #[arg(long = "dataset", alias = "kind", value_name = "thumos14|activitynet")]
    pub kind: Option<Benchmark>,
    /// How to read it.
    #[command(flatten)]
    pub load: LoadArgs,
}

fn stats_row(name: &str, listed: usize, loaded: usize, s: Option<LengthStats>) -> String {
    match s {
        Some(s) => format!(
            "{name:<6} {listed:>7} {loaded:>7} {:>9} {:>6} {:>7} {:>8.1} {:>6}",
            s.total, s.min, s.median, s.mean, s.max
        ),
        None => format!(
            "{name:<6} {listed:>7} {loaded:>7} {:>9} {:>6} {:>7} {:>8} {:>6}",
            0, "-", "-", "-", "-"
        ),
    }
}

/// Runs `maan inspect`.
pub fn run(args: InspectArgs) -> anyhow::Result<()> {
    let opts = args.load.options(args.kind, None);
    let timing = opts.timing;
    let r = inspect(&args.data_dir, &opts);
    println!("dataset   {}", r.dir.display());
    println!(
        "layout    {}   kind {}   classes {}   timing {} frames @ {} fps = {:.3} s/snippet",
        r.layout.map_or("?".to_string(), |l| l.to_string()),
        r.kind.map_or("?".to_string(), |k| k.to_string()),
        r.classes.len(),
        timing.frames_per_snippet,
        timing.fps,
        timing.seconds_per_snippet()
    );
    if r.layout.is_some() && r.kind.is_some() {
        println!();
        println!(
            "{:<6} {:>7} {:>7} {:>9} {:>6} {:>7} {:>8} {:>6}",
            "split", "listed", "loaded", "snippets", "min", "median", "mean", "max"
        );
        println!(
            "{}",
            stats_row("train", r.listed.0, r.videos.0, r.snippets[0])
        );
        println!(
            "{}",
            stats_row("test", r.listed.1, r.videos.1, r.snippets[1])
        );
        println!();
        let dtypes: Vec<String> = r.dtypes.iter().map(|(k, v)| format!("{k} x {v}")).collect();
        println!(
            "features  rgb {} dims, flow {} dims   files: {}",
            r.dims.0,
            r.dims.1,
            if dtypes.is_empty() {
                "none read".to_string()
            } else {
                dtypes.join(", ")
            }
        );
        if !r.classes.is_empty() {
            let w = r.classes.iter().map(|c| c.len()).max().unwrap_or(5).max(5);
            println!();
            println!("{:>3}  {:<w$}  {:>6}  {:>6}", "#", "class", "train", "test");
            let (mut a, mut b) = (0, 0);
            for (i, (name, (tr, te))) in r.classes.iter().zip(&r.instances).enumerate() {
                println!("{i:>3}  {name:<w$}  {tr:>6}  {te:>6}");
                a += tr;
                b += te;
            }
            println!("{:>3}  {:<w$}  {a:>6}  {b:>6}", "", "instances");
        }
    }
    println!();
    println!(
        "problems  {} errors, {} warnings",
        r.num_errors(),
        r.num_warnings()
    );
    let mut problems = r.problems.clone();
    problems.sort_by_key(|p| std::cmp::Reverse(p.severity));
    for p in &problems {
        println!("  {p}");
    }
    let mut hints: Vec<&str> = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .filter_map(|p| load_hint(p.kind))
        .collect();
    hints.dedup();
    for h in hints {
        println!("hint: {h}");
    }
    if r.has_errors() {
        anyhow::bail!(
            "{} error{} in {} (listed above)",
            r.num_errors(),
            if r.num_errors() == 1 { "" } else { "s" },
            args.data_dir.display()
        );
    }
    Ok(())
}
