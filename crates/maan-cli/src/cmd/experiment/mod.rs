//! `maan experiment <name>`: the paper's tables and this project's studies, one subcommand
//! each, every one owning its flags:
//!
//! - `table1` ([`table1`]): the paper's Table 1 (MAAN against four aggregators);
//! - `regimes` ([`regimes`]): Table 1's models on every regime of the synthetic benchmark, a
//!   heat map over its two knobs, and with `--dataset activitynet` the ActivityNet-shaped
//!   family with MAAN's recipe;
//! - `ablation` ([`ablation`]): paper-faithful MAAN against the localization and background
//!   modelling of later WTAL code;
//! - `wsol` ([`wsol`]): Appendix F, weakly-supervised object localization.
//!
//! The experiments themselves (plans, training, reports, Markdown) are the `maan-experiments`
//! library's; each subcommand turns its flags into a plan, runs it on the chosen backend with a
//! progress bar, prints the report and writes it into the run directory. This module holds
//! what they share: the training flags ([`TrainingArgs`]), the progress bar ([`Bar`]), and the
//! library's errors in the words of the flags ([`flag_error`]).

use std::path::{Path, PathBuf};

use anyhow::Result;
use burn::tensor::backend::Backend;
use indicatif::{ProgressBar, ProgressStyle};
use maan_experiments::{Error, Observer, PlanError, Schedule, Session};
use maan_model::RunDir;
use serde::Serialize;

use crate::backend::{BackendArg, BackendOpts};

pub mod ablation;
pub mod regimes;
pub mod table1;
pub mod wsol;

/// Arguments of `maan experiment`.
#[derive(Debug, clap::Args)]
pub struct ExperimentArgs {
    /// Which experiment.
    #[command(subcommand)]
    pub command: ExperimentCommand,
}

/// The experiments.
#[derive(Debug, clap::Subcommand)]
pub enum ExperimentCommand {
    /// Table 1: MAAN against four feature aggregators (STPN, Dropout, Norm, SoftMaxNorm).
    Table1(table1::Table1Args),
    /// Table 1's five models on every regime of the synthetic benchmark, and a heat map of
    /// MAAN minus STPN over its two knobs; with `--dataset activitynet`, the ActivityNet-shaped
    /// family of datasets.
    Regimes(regimes::RegimesArgs),
    /// Paper-faithful MAAN against the localization and background modelling of later WTAL
    /// code, each alone and together, on every regime.
    Ablation(ablation::AblationArgs),
    /// Appendix F (Table 4, Figure 6): weakly-supervised object localization with GAP,
    /// weighted-sum and MAA pooling at 4×4 and 7×7.
    Wsol(wsol::WsolArgs),
}

/// Runs `maan experiment <name>`.
pub fn run(args: ExperimentArgs) -> Result<()> {
    match args.command {
        ExperimentCommand::Table1(a) => table1::run(a),
        ExperimentCommand::Regimes(a) => regimes::run(a),
        ExperimentCommand::Ablation(a) => ablation::run(a),
        ExperimentCommand::Wsol(a) => wsol::run(a),
    }
}

/// The training flags of `table1`, `regimes` and `ablation`.
#[derive(Debug, clap::Args)]
pub struct TrainingArgs {
    /// Number of seeds per model (0, 1, ... n-1).
    #[arg(long, default_value_t = 3)]
    pub seeds: u64,
    /// Training iterations per model and stream [default: 4000].
    #[arg(long)]
    pub iterations: Option<usize>,
    /// Videos per batch.
    #[arg(long, default_value_t = 16)]
    pub batch_size: usize,
    /// Backend and device.
    #[command(flatten)]
    pub backend: BackendOpts,
    /// Run directory of the experiment: its reports, figures and generated data [default:
    /// runs/<experiment>].
    #[arg(long, aliases = ["out", "output"], value_name = "RUN_DIR")]
    pub run: Option<PathBuf>,
    /// Hide the progress bar.
    #[arg(long)]
    pub quiet: bool,
}

impl TrainingArgs {
    /// An error for zero seeds or iterations.
    pub fn check(&self) -> Result<()> {
        if self.seeds == 0 || self.iterations == Some(0) {
            anyhow::bail!("--seeds and --iterations must be at least 1");
        }
        Ok(())
    }

    /// The seeds, iterations (`default_iterations` when not given) and batch size.
    pub fn schedule(&self, default_iterations: usize) -> Schedule {
        Schedule {
            seeds: self.seeds,
            iterations: self.iterations.unwrap_or(default_iterations),
            batch_size: self.batch_size,
        }
    }

    /// The run directory, held: `--run`, else `runs/<experiment>` ([`open_run`]).
    pub fn run_dir(&self, experiment: &str) -> Result<RunDir> {
        open_run(self.run.as_deref(), experiment)
    }
}

/// The run directory of an experiment, held for as long as it runs: `run`, else
/// `runs/<experiment>` (created if need be).
pub(crate) fn open_run(run: Option<&Path>, experiment: &str) -> Result<RunDir> {
    let path = run.map_or_else(|| Path::new("runs").join(experiment), Path::to_path_buf);
    Ok(RunDir::open(&path)?)
}

/// The session of an experiment on `backend` and its `device`.
pub(crate) fn session<B: Backend>(device: B::Device, backend: BackendArg) -> Session<B> {
    Session {
        device,
        batching: backend.batching(),
        backend: backend.to_string(),
        commit: crate::COMMIT.to_string(),
    }
}

/// A progress bar over an experiment's training iterations, which prints the lines of scores
/// above it.
pub(crate) struct Bar {
    bar: ProgressBar,
    /// Print the lines on stderr when the bar is hidden for want of a terminal.
    echo: bool,
}

impl Bar {
    /// A bar with the model's name right-aligned in `width` columns, hidden with `quiet`; with
    /// `echo`, a bar hidden for want of a terminal (not by `quiet`) still prints the lines
    /// of scores on stderr.
    pub(crate) fn new(quiet: bool, width: usize, echo: bool) -> Bar {
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(0)
        };
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "{{prefix:>{width}}} [{{bar:30}}] {{pos}}/{{len}} it ({{per_sec}}, eta {{eta}}) {{msg}}"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        Bar {
            bar,
            echo: echo && !quiet,
        }
    }

    /// Clears the bar.
    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Observer for Bar {
    fn on_start(&mut self, total_iterations: u64) {
        self.bar.set_length(total_iterations);
    }

    fn on_model(&mut self, model: &str, detail: &str) {
        self.bar.set_prefix(model.to_string());
        self.bar.set_message(detail.to_string());
    }

    fn on_iteration(&mut self) {
        self.bar.inc(1);
    }

    fn on_result(&mut self, line: &str) {
        if self.echo && self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }
}

/// An error of `maan-experiments` in the words of the flags (plans name the flag that asked
/// for the impossible, the backbone weights `--backbone-weights`).
pub(crate) fn flag_error(err: Error) -> anyhow::Error {
    match err {
        Error::Plan(e) => plan_error(e),
        Error::BackboneWeights(e) => anyhow::Error::new(e).context("--backbone-weights"),
        Error::Model(e) => e.into(),
        Error::Dataset(e) => e.into(),
        other => other.into(),
    }
}

/// A plan's error, naming the flag that asked for it.
pub(crate) fn plan_error(err: PlanError) -> anyhow::Error {
    let message = match err {
        PlanError::RegimesOnActivityNet => {
            "--regimes: on ActivityNet-shaped data the experiment maps its own family of datasets"
        }
        PlanError::ZeroDim => "--dim must be at least 1",
        PlanError::Dominance => "--dominance values must be finite and >= 0",
        PlanError::Specificity => "--specificity values must be in [0, 1]",
        other => return other.into(),
    };
    anyhow::anyhow!(message)
}

/// Writes `report` as `<name>.json` and `md` as `<name>.md` into the experiment's run
/// directory; returns the Markdown's and the JSON's paths.
pub(crate) fn write_report<T: Serialize>(
    run: &RunDir,
    name: &str,
    report: &T,
    md: &str,
) -> Result<(PathBuf, PathBuf)> {
    let json = serde_json::to_string_pretty(report)?;
    let json_path = run.write_file(&format!("{name}.json"), json.as_bytes())?;
    let md_path = run.write_file(&format!("{name}.md"), md.as_bytes())?;
    Ok((md_path, json_path))
}
