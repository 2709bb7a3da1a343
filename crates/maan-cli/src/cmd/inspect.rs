//! `maan inspect`: read and validate every file of a feature dataset, print a summary and every
//! problem found; exit non-zero when any error was found.

use std::path::PathBuf;

use dataset::{inspect, Benchmark, Severity};

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

/// Runs `maan inspect`.
pub fn run(args: InspectArgs) -> anyhow::Result<()> {
    let opts = args.load.options(args.kind, None);
    let timing = opts.timing;
    let r = inspect(&args.data_dir, &opts);
    print!("{}", r.summary(timing));
    let problems = r.problems_by_severity();
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
