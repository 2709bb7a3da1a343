//! `maan demo`: the README's first command. Generates the THUMOS14-shaped synthetic dataset
//! (or, with `--dataset activitynet`, the ActivityNet-shaped one) unless it is there, trains
//! MAAN on both streams, tests it (detections, mAP at the dataset's tIoUs, classification mAP)
//! and plots the CAS of a test video (the paper's Figure 5).

use std::path::PathBuf;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use clap::Parser;
use maan_eval::annotations::GroundTruth;

use crate::backend::BackendOpts;
use crate::cmd::plot::{class_list, plot_video};
use crate::cmd::test::TestArgs;
use crate::cmd::train::{DatasetArg, LocalizeOpts, ProposalScoreArg, TrainArgs};
use dataset::synth::Like;

/// Arguments of `maan demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Backend and device.
    #[command(flatten)]
    pub backend: BackendOpts,
    /// Training iterations per stream.
    #[arg(long, default_value_t = 4000)]
    pub iterations: usize,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Benchmark the synthetic data imitates.
    #[arg(long, value_enum, default_value = "thumos14")]
    pub dataset: DatasetArg,
    /// Synthetic dataset folder (generated on first use) [default: data/synthetic/<dataset>
    /// inside the maan-rs repository, else $MAAN_DATA_DIR/synthetic/<dataset>, else
    /// ~/.local/share/maan/synthetic/<dataset>].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Localization (default: the dataset's paper preset).
    #[command(flatten)]
    pub localize: LocalizeOpts,
    /// Run folder (default: runs/demo-<unix time>).
    #[arg(long)]
    pub output: Option<PathBuf>,
}

#[derive(Parser)]
struct TrainCli {
    #[command(flatten)]
    args: TrainArgs,
}

#[derive(Parser)]
struct TestCli {
    #[command(flatten)]
    args: TestArgs,
}

/// Runs `maan demo`.
pub fn run(args: DemoArgs) -> Result<()> {
    let start = Instant::now();
    let run_dir = args.output.clone().unwrap_or_else(|| {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        PathBuf::from(format!("runs/demo-{secs}"))
    });
    let (like, dataset_name) = match args.dataset {
        DatasetArg::Thumos14 => (Like::Thumos14, "thumos14"),
        DatasetArg::Activitynet => (Like::ActivityNet, "activitynet"),
    };
    let data_path = args
        .data_dir
        .clone()
        .unwrap_or_else(|| crate::cmd::builtin_data_dir(dataset_name));
    let data_dir = data_path.display().to_string();
    // Fail at once on a missing GPU, before generating data or training.
    args.backend.check()?;
    // Localization flags, passed on to `train` (saved in the run) and so to `test`.
    let mut localize_flags: Vec<String> = Vec::new();
    if let Some(k) = args.localize.cas_smoothing {
        localize_flags.extend(["--cas-smoothing".into(), k.to_string()]);
    }
    if let Some(score) = args.localize.proposal_score {
        let name = match score {
            ProposalScoreArg::Mean => "mean",
            ProposalScoreArg::OuterInner => "outer-inner",
        };
        localize_flags.extend(["--proposal-score".into(), name.into()]);
    }
    let run = run_dir.display().to_string();
    let backend = args.backend.backend.name();
    let device = args.backend.device.to_string();

    eprintln!("[1/3] training MAAN (RGB and flow streams) -> {run}");
    let iterations = args.iterations.to_string();
    let seed = args.seed.to_string();
    let eval_every = args.iterations.to_string();
    let mut train_argv: Vec<String> = [
        "train",
        "--dataset",
        dataset_name,
        "--data-dir",
        &data_dir,
        "--backend",
        backend,
        "--device",
        &device,
        "--iterations",
        &iterations,
        "--seed",
        &seed,
        "--eval-every",
        &eval_every,
        "--output",
        &run,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    train_argv.extend(localize_flags);
    let train = TrainCli::try_parse_from(train_argv)
        .context("building the train arguments")?
        .args;
    if !data_path.join("gt.json").is_file() {
        eprintln!("generating the synthetic {like}-shaped dataset in {data_dir} (first use)...");
        let cfg = dataset::synth::SynthConfig {
            like,
            ..Default::default()
        };
        dataset::synth::generate(&data_path, &cfg)
            .with_context(|| format!("generating the synthetic dataset in {data_dir}"))?;
    }
    crate::cmd::train::run(train)?;

    eprintln!("[2/3] testing on every test video");
    let detections = run_dir.join("detections.json");
    let cas_dir = run_dir.join("cas");
    let test = TestCli::try_parse_from([
        "test",
        "--dataset",
        dataset_name,
        "--data-dir",
        &data_dir,
        "--backend",
        backend,
        "--device",
        &device,
        "--checkpoint",
        &run,
        "--which",
        "last",
        "--detections",
        &detections.display().to_string(),
        "--cas-dir",
        &cas_dir.display().to_string(),
    ])
    .context("building the test arguments")?
    .args;
    crate::cmd::test::run(test)?;

    eprintln!("[3/3] plotting the CAS of a test video (the paper's Figure 5)");
    let gt = GroundTruth::from_path(&data_path.join("gt.json"))?;
    let classes = class_list(dataset_name)?;
    // Prefer a HammerThrow video, as in the paper's figure; else any annotated test video.
    let annotated = |label: Option<&str>| {
        gt.videos
            .iter()
            .filter(|(_, v)| v.subset == "test" || v.subset == "validation")
            .filter(|(id, _)| cas_dir.join(format!("{id}.npy")).is_file())
            .find(|(_, v)| {
                v.segments
                    .iter()
                    .any(|s| label.is_none_or(|l| s.label == l))
            })
            .map(|(id, _)| id.clone())
    };
    match annotated(Some("HammerThrow")).or_else(|| annotated(None)) {
        Some(video) => {
            let class = gt.videos[&video]
                .segments
                .iter()
                .find(|s| s.label == "HammerThrow")
                .or_else(|| gt.videos[&video].segments.first())
                .map(|s| s.label.clone());
            let (svg, png) = plot_video(
                std::slice::from_ref(&run_dir),
                &["MAAN".to_string()],
                &video,
                class.as_deref(),
                &gt,
                &classes,
                dataset::SnippetTiming::default().seconds_per_snippet(),
                None,
            )?;
            eprintln!("CAS plot: {} and {}", svg.display(), png.display());
        }
        None => eprintln!("no annotated test video with a CAS: no plot"),
    }
    eprintln!(
        "demo done in {:.0} s; results in {run} (detections.json, cas/, plots/, metrics)",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
