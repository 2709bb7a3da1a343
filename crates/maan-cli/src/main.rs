//! `maan`: the command line of maan-rs.
//!
//! Weakly-supervised temporal action localization with the Marginalized Average Attentional
//! Network (MAAN, ICLR 2019) on Burn. Every subcommand lives in its own module under `cmd/`;
//! this file only parses arguments and maps errors to a non-zero exit status without a
//! backtrace.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc instead of the system allocator: Burn's CPU backends allocate a fresh buffer for
/// nearly every tensor operation, and glibc's malloc hands the large ones back to the kernel
/// and faults them in again on every training step (page faults were about 12% of a `flex`
/// training profile). See `crates/maan-model/BENCHMARKS.md`.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod backend;
mod cmd;
mod figure;

/// Weakly-supervised temporal action localization with MAAN (ICLR 2019) on Burn.
#[derive(Debug, Parser)]
#[command(name = "maan", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train MAAN (or a Table 1 baseline) on I3D features.
    Train(cmd::train::TrainArgs),
    /// Run a trained model on every test video, write detections and print the mAP table.
    Test(cmd::test::TestArgs),
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
    /// One command: synthesize data, train both streams, test, print mAP, plot a CAS.
    Demo(cmd::demo::DemoArgs),
    /// Reproduce the paper's experiments on synthetic data.
    Experiment(cmd::experiment::ExperimentArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(a) => cmd::train::run(a),
        Command::Test(a) => cmd::test::run(a),
        Command::Eval(a) => cmd::eval::run(a),
        Command::Inspect(a) => cmd::inspect::run(a),
        Command::Synth(a) => cmd::synth::run(a),
        Command::Bench(a) => cmd::bench::run(a),
        Command::Plot(a) => cmd::plot::run(a),
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
            ExitCode::FAILURE
        }
    }
}
