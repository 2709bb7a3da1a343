//! `maan`: the command line of maan-rs.
//!
//! Weakly-supervised temporal action localization with the Marginalized Average Attentional
//! Network (MAAN, ICLR 2019) on Burn. The decisions (recipes and overrides, the run
//! directory, prediction, each benchmark's defaults, figures) are the libraries'; this crate
//! maps flags onto their types, prints, and draws progress bars. Every subcommand lives in its
//! own module under `cmd/` (those other commands are made of, `train`, `test` and `extract`, do
//! their work in `jobs/`); this file only parses arguments (with the defaults the libraries
//! compute shown in `--help`, `opts::with_defaults`) and maps errors to a non-zero exit status
//! without a backtrace.

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// mimalloc instead of the system allocator: Burn's CPU backends allocate a fresh buffer for
/// nearly every tensor operation, and glibc's malloc hands the large ones back to the kernel
/// and faults them in again on every training step (page faults were about 12% of a `flex`
/// training profile). See `crates/maan-model/BENCHMARKS.md`.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod backend;
mod cmd;
mod jobs;
mod opts;
mod rebuild;
mod report;

/// The commit `maan` was built from (`build.rs`), recorded in every result it writes.
pub const COMMIT: &str = env!("MAAN_GIT_COMMIT");

/// Weakly-supervised temporal action localization with MAAN (ICLR 2019) on Burn.
#[derive(Debug, Parser)]
#[command(name = "maan", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Two-stream I3D features of video files (pytorch-i3d checkpoints), as `predict` reads them.
    Extract(cmd::extract::ExtractArgs),
    /// Train MAAN (or a Table 1 baseline) on I3D features.
    Train(cmd::train::TrainArgs),
    /// Run a trained model on every test video, write detections and print the mAP table.
    Test(cmd::test::TestArgs),
    /// Apply a trained run to videos without annotations: detections JSON (and CAS).
    Predict(cmd::predict::PredictArgs),
    /// Score a detections JSON against a ground-truth JSON (ActivityNet protocol).
    Eval(cmd::eval::EvalArgs),
    /// Read and validate a feature dataset, then print a summary and every problem found.
    Inspect(cmd::inspect::InspectArgs),
    /// Write a synthetic dataset shaped like THUMOS14 or ActivityNet1.3.
    Synth(cmd::synth::SynthArgs),
    /// Measure training and inference speed.
    Bench(cmd::bench::BenchArgs),
    /// Plot ground truth above the class activation sequence of a video (the paper's Figure 5).
    Plot(cmd::plot::PlotArgs),
    /// A run's self-contained HTML report: mAP, training curves, DETAD's diagnosis, videos.
    Report(cmd::report::ReportArgs),
    /// One command: synthesize data, train both streams, test, print mAP, plot a CAS.
    Demo(cmd::demo::DemoArgs),
    /// Reproduce the paper's experiments on synthetic data.
    Experiment(cmd::experiment::ExperimentArgs),
}

/// Exit status of a program ended by a closed stdout (128 + SIGPIPE, what a shell reports for
/// Unix tools that die of the signal).
const BROKEN_PIPE_EXIT: i32 = 141;

/// Ends the program quietly when stdout is closed under it (`maan inspect ... | head`), as
/// other Unix tools do, instead of the panic `println!` raises on a broken pipe; every other
/// panic goes to the previous hook.
fn quiet_on_broken_pipe() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let msg = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(BROKEN_PIPE_EXIT);
        }
        previous(info);
    }));
}

fn main() -> ExitCode {
    quiet_on_broken_pipe();
    // The derived parser, with the defaults the libraries compute shown in the help.
    let matches = opts::with_defaults(Cli::command()).get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // Commands that take the dataset options of `opts::LoadArgs`, whose errors may
    // come with a hint naming one of them.
    let load_flags = matches!(
        cli.command,
        Command::Train(_)
            | Command::Test(_)
            | Command::Report(_)
            | Command::Inspect(_)
            | Command::Experiment(_)
    );
    let result = match cli.command {
        Command::Extract(a) => cmd::extract::run(a),
        Command::Train(a) => cmd::train::run(a),
        Command::Test(a) => cmd::test::run(a),
        Command::Predict(a) => cmd::predict::run(a),
        Command::Eval(a) => cmd::eval::run(a),
        Command::Inspect(a) => cmd::inspect::run(a),
        Command::Synth(a) => cmd::synth::run(a),
        Command::Bench(a) => cmd::bench::run(a),
        Command::Plot(a) => cmd::plot::run(a),
        Command::Report(a) => cmd::report::run(a),
        Command::Demo(a) => cmd::demo::run(a),
        Command::Experiment(a) => cmd::experiment::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            if let Some(hint) = load_flags.then(|| opts::hint(&err)).flatten() {
                eprintln!("hint: {hint}");
            }
            ExitCode::FAILURE
        }
    }
}
