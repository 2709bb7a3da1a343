//! `maan demo`: the README's first command. Generates the THUMOS14-shaped synthetic dataset
//! (or, with `--dataset activitynet`, the ActivityNet-shaped one) unless it is there, trains
//! MAAN on both streams, tests it (detections, mAP at the dataset's tIoUs, classification mAP,
//! and the run's report, `RUN/report.html`, whose path it prints last) and plots the CAS of a
//! test video (the paper's Figure 5).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use dataset::Benchmark;
use maan_eval::annotations::GroundTruth;
use maan_model::run::{cas_file, default_run_path, plot_stem, CAS_DIR, DETECTIONS_FILE};
use maan_model::{Recipe, StepEngine, TrainOverrides, Which};

use crate::backend::BackendOpts;
use crate::jobs::test::{self, Testing};
use crate::jobs::train::{self, take_run_dir, Training};
use crate::opts::{builtin_data_dir, ensure_synthetic, DataOpts, LocalizeOpts};
use maan_plot::plot_video;

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
    /// Benchmark the synthetic data imitates: thumos14 or activitynet.
    #[arg(long, default_value_t, value_name = "thumos14|activitynet")]
    pub dataset: Benchmark,
    /// Synthetic dataset folder (generated on first use) [default: data/synthetic/<dataset>
    /// inside the maan-rs repository, else $MAAN_DATA_DIR/synthetic/<dataset>, else
    /// ~/.local/share/maan/synthetic/<dataset>].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Localization (default: the recommended recipe's for MAAN on the benchmark,
    /// docs/recipe.md).
    #[command(flatten)]
    pub localize: LocalizeOpts,
    /// Run directory (default: runs/demo-<unix time>).
    #[arg(long, alias = "output", value_name = "RUN_DIR")]
    pub run: Option<PathBuf>,
    /// How the training step computes (see `maan train --help`).
    #[arg(long, value_name = "fused|autodiff")]
    pub engine: Option<StepEngine>,
}

/// Runs `maan demo`.
pub fn run(args: DemoArgs) -> Result<()> {
    let start = Instant::now();
    let run_dir = args.run.clone().unwrap_or_else(|| default_run_path("demo"));
    let data_path = args
        .data_dir
        .clone()
        .unwrap_or_else(|| builtin_data_dir(args.dataset));
    // Fail at once on a missing GPU, before generating data or training.
    args.backend.check()?;
    let overrides = TrainOverrides {
        iterations: Some(args.iterations),
        seed: Some(args.seed),
        eval_every: Some(args.iterations),
        localize: args.localize.overrides(),
        ..TrainOverrides::default()
    };
    let config = overrides
        .config(Recipe::Recommended, args.dataset)
        .map_err(|e| train::flag_error(e, &run_dir))?;

    eprintln!(
        "[1/3] training MAAN (RGB and flow streams) -> {}",
        run_dir.display()
    );
    // The built-in folder is made again when it holds data from other generator settings; a
    // folder given with --data-dir is only generated into when it holds no dataset yet, never
    // replaced.
    if args.data_dir.is_none() || !data_path.join("gt.json").is_file() {
        ensure_synthetic(&data_path, args.dataset, "")?;
    }
    let data = DataOpts {
        data_dir: Some(data_path.clone()),
        dataset: Some(args.dataset),
        load: Default::default(),
    }
    .load()?;
    // The run's lock, held to the end: the demo writes its detections, CAS and plots into it.
    let run = take_run_dir(&run_dir, false)?;
    train::train(Training {
        data: data.clone(),
        run: run.clone(),
        config: Some(config),
        iterations: None,
        engine: args.engine,
        backend: args.backend,
        quiet: false,
        recipe_note: true,
    })?;

    eprintln!("[2/3] testing on every test video");
    let cas_dir = run.artifact(CAS_DIR);
    test::test(Testing {
        run: &run_dir,
        which: Which::Last,
        data,
        localize: &LocalizeOpts::default(),
        detections: &run.artifact(DETECTIONS_FILE),
        cas_dir: Some(&cas_dir),
        backend: args.backend,
    })?;

    eprintln!("[3/3] plotting the CAS of a test video (the paper's Figure 5)");
    let gt = GroundTruth::from_path(&data_path.join("gt.json"))?;
    let classes = args.dataset.classes();
    // Prefer a HammerThrow video, as in the paper's figure; else any annotated test video.
    let annotated = |label: Option<&str>| {
        gt.videos
            .iter()
            .filter(|(_, v)| args.dataset.is_test_subset(&v.subset))
            .filter(|(id, _)| cas_file(&run_dir, id).is_file())
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
                &[("MAAN".to_string(), cas_file(&run_dir, &video))],
                &video,
                class.as_deref(),
                &gt,
                &classes,
                args.dataset.snippet_timing().seconds_per_snippet(),
                |class| plot_stem(&run_dir, &video, class),
            )?;
            eprintln!("CAS plot: {} and {}", svg.display(), png.display());
        }
        None => eprintln!("no annotated test video with a CAS: no plot"),
    }
    eprintln!(
        "demo done in {:.0} s; results in {} (detections.json, cas/, plots/, metrics)",
        start.elapsed().as_secs_f64(),
        run_dir.display()
    );
    let report = run_dir.join(crate::jobs::report::REPORT_FILE);
    if report.is_file() {
        println!("report: {}", report.display());
    }
    Ok(())
}
