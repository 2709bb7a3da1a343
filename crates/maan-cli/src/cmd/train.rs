//! `maan train`: train MAAN (or a Table 1 baseline) on I3D features, with evaluation on the
//! test split, checkpoints (`last/`, `best/`), `--resume` and Ctrl-C handling.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use burn::tensor::backend::AutodiffBackend;
use dataset::synth::{generate, Like, SynthConfig};
use dataset::{DatasetKind, LoadOptions, WtalDataset};
use indicatif::{ProgressBar, ProgressStyle};
use maa_core::Aggregator;
use maan_eval::localize::{LocalizeConfig, ProposalScore, Thresholds};
use maan_model::checkpoint::{checkpoint_dir, LAST};
use maan_model::{
    fit_config, EvalMetrics, StreamModelConfig, Streams, TrainConfig, TrainObserver, Trainer,
};

use crate::backend::{run_on, BackendArg, BackendJob, BackendOpts};

/// Benchmark imitated by the data (picks the loader's class list, the localization preset
/// and the built-in synthetic dataset).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DatasetArg {
    /// THUMOS14 (20 classes; tIoU 0.1:0.1:0.9).
    Thumos14,
    /// ActivityNet1.3 (200 classes; tIoU 0.5:0.05:0.95).
    Activitynet,
}

/// Which streams to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StreamsArg {
    /// RGB and flow, fused 0.5 / 0.5 at test time (the paper).
    Both,
    /// RGB only.
    Rgb,
    /// Flow only.
    Flow,
}

/// `--data-dir` and `--dataset`, shared by `train`, `test` and `experiment`.
#[derive(Debug, Clone, clap::Args)]
pub struct DataOpts {
    /// Dataset directory (layout A, B or ActivityNet). Without it, the built-in synthetic
    /// dataset is used, generated on first use: data/synthetic/<dataset> inside the maan-rs
    /// repository, else $MAAN_DATA_DIR/synthetic/<dataset>, else
    /// ~/.local/share/maan/synthetic/<dataset>.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Benchmark the data follows.
    #[arg(long, value_enum, default_value = "thumos14")]
    pub dataset: DatasetArg,
}

impl DataOpts {
    /// Loads the dataset (see [`load_data`]).
    pub fn load(&self) -> Result<WtalDataset> {
        load_data(self.data_dir.as_deref(), self.dataset)
    }
}

/// How proposals are scored (`--proposal-score`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProposalScoreArg {
    /// The mean CAS over the proposal (the default of both presets).
    Mean,
    /// The outer-inner contrast of BaSNet/UM/CoLA (λ = 0.25, γ = 0.2): the mean inside minus
    /// the mean of the flanks, plus 0.2 × the video-level class score.
    OuterInner,
}

/// Localization options shared by `train` (its evaluations; saved in the run's config.json),
/// `test`, `demo` and `experiment`. Unset options keep the dataset's paper preset (THUMOS14:
/// 0.2 × max; ActivityNet1.3: {0.2, 0.15, 0.1, 0.05} × max, NMS 0.9; mean CAS score; no
/// smoothing), or, for `maan test`, the settings the run was trained with.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LocalizeOpts {
    /// Average each class's CAS over a centred window of N snippets before thresholding
    /// (1: none, the paper). Long actions (ActivityNet) fragment without it; 9 is a good
    /// start there.
    #[arg(long, value_name = "N")]
    pub cas_smoothing: Option<usize>,
    /// How a proposal is scored (the paper does not say; default: mean).
    #[arg(long, value_enum)]
    pub proposal_score: Option<ProposalScoreArg>,
}

impl LocalizeOpts {
    /// Whether any option was given.
    pub fn is_set(&self) -> bool {
        self.cas_smoothing.is_some() || self.proposal_score.is_some()
    }

    /// `base` with the given options applied.
    pub fn apply(&self, base: &LocalizeConfig) -> LocalizeConfig {
        let mut cfg = base.clone();
        if let Some(k) = self.cas_smoothing {
            cfg.smoothing = k;
        }
        match self.proposal_score {
            Some(ProposalScoreArg::Mean) => cfg.score = ProposalScore::Mean,
            Some(ProposalScoreArg::OuterInner) => cfg.score = ProposalScore::outer_inner(),
            None => {}
        }
        cfg
    }

    /// The settings for a run on `data`: the dataset's preset with the options applied, or
    /// `None` (the preset itself) when no option was given.
    pub fn for_data(&self, data: &WtalDataset) -> Option<LocalizeConfig> {
        self.is_set()
            .then(|| self.apply(&maan_model::infer::localize_preset(data)))
    }
}

/// A one-line description of localization settings, for logs and tables.
pub fn describe_localize(cfg: &LocalizeConfig) -> String {
    let thresholds = match &cfg.thresholds {
        Thresholds::RelativeToMax(v) => format!(
            "{{{}}} x max",
            v.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Thresholds::Absolute(v) => format!(
            "{{{}}}",
            v.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let score = match cfg.score {
        ProposalScore::Mean => "mean score".to_string(),
        ProposalScore::OuterInner { .. } => "outer-inner score".to_string(),
    };
    let smoothing = if cfg.smoothing > 1 {
        format!(", CAS smoothed over {} snippets", cfg.smoothing)
    } else {
        String::new()
    };
    format!(
        "thresholds {thresholds}, {score}, NMS {}{smoothing}",
        cfg.nms_iou
    )
}

/// Arguments of `maan train`.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// Dataset.
    #[command(flatten)]
    pub data: DataOpts,
    /// Backend and device.
    #[command(flatten)]
    pub backend: BackendOpts,
    /// Feature aggregator: maa (MAAN) or a Table 1 baseline.
    #[arg(long, default_value = "maa")]
    pub aggregator: Aggregator,
    /// Streams to train (both: two models, fused 0.5 / 0.5 at test time).
    #[arg(long, value_enum, default_value = "both")]
    pub streams: StreamsArg,
    /// Training iterations (the paper does not state it).
    #[arg(long, default_value_t = 5000)]
    pub iterations: usize,
    /// Videos per batch (the paper does not state it; 16 as in BaSNet/UM/CoLA).
    #[arg(long, default_value_t = 16)]
    pub batch_size: usize,
    /// Snippets sampled per video (the paper's T).
    #[arg(long, default_value_t = 20)]
    pub segments: usize,
    /// Adam learning rate (the paper's 5e-4).
    #[arg(long, default_value_t = 5e-4)]
    pub lr: f64,
    /// Seed of initialisation, sampling and dropout.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Weight of STPN's L1 sparsity loss (used with --aggregator stpn only).
    #[arg(long, default_value_t = 1e-4)]
    pub sparsity: f64,
    /// Evaluate on the test split every N iterations (0: at the end only).
    #[arg(long, default_value_t = 500)]
    pub eval_every: usize,
    /// Save the `last` checkpoint every N iterations (0: at the end only).
    #[arg(long, default_value_t = 500)]
    pub checkpoint_every: usize,
    /// Run directory: config.json, metrics.jsonl, last/, best/. [default: runs/<aggregator>-<unix time>]
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Continue the run in --output from its last checkpoint (model, Adam state, iteration).
    #[arg(long)]
    pub resume: bool,
    /// Localization of the evaluations during training (saved in the run's config.json).
    #[command(flatten)]
    pub localize: LocalizeOpts,
    /// Hide the progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Loads `--data-dir`, or the built-in synthetic dataset (generated on first use).
pub fn load_data(data_dir: Option<&Path>, dataset: DatasetArg) -> Result<WtalDataset> {
    let kind = match dataset {
        DatasetArg::Thumos14 => DatasetKind::Thumos14,
        DatasetArg::Activitynet => DatasetKind::ActivityNet13,
    };
    let dir = match data_dir {
        Some(d) => d.to_path_buf(),
        None => {
            let (dir, like) = match dataset {
                DatasetArg::Thumos14 => (super::builtin_data_dir("thumos14"), Like::Thumos14),
                DatasetArg::Activitynet => {
                    (super::builtin_data_dir("activitynet"), Like::ActivityNet)
                }
            };
            if !dir.join("gt.json").is_file() {
                eprintln!(
                    "no --data-dir: generating the synthetic {like} dataset in {} (first use)...",
                    dir.display()
                );
                let cfg = SynthConfig {
                    like,
                    ..SynthConfig::default()
                };
                generate(&dir, &cfg).with_context(|| {
                    format!("generating the synthetic dataset in {}", dir.display())
                })?;
            }
            dir
        }
    };
    let opts = LoadOptions {
        kind: Some(kind),
        ..LoadOptions::default()
    };
    let data = WtalDataset::load(&dir, &opts)
        .with_context(|| format!("loading the dataset in {}", dir.display()))?;
    if data.train.is_empty() {
        bail!("{}: the training split has no videos", dir.display());
    }
    Ok(data)
}

struct TrainJob {
    args: TrainArgs,
    data: WtalDataset,
    run_dir: PathBuf,
}

/// Runs `maan train`.
pub fn run(args: TrainArgs) -> Result<()> {
    if args.iterations == 0 {
        bail!("--iterations must be at least 1");
    }
    if args.batch_size == 0 || args.segments == 0 {
        bail!("--batch-size and --segments must be at least 1");
    }
    let run_dir = match &args.output {
        Some(d) => d.clone(),
        None => {
            if args.resume {
                bail!("--resume needs --output RUN_DIR (the run to continue)");
            }
            let secs = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            PathBuf::from(format!("runs/{}-{secs}", args.aggregator.name()))
        }
    };
    if args.resume && checkpoint_dir(&run_dir, LAST).is_none() {
        bail!(
            "--resume: {} holds no checkpoint (expected {}/last/state.json)",
            run_dir.display(),
            run_dir.display()
        );
    }
    if !args.resume && checkpoint_dir(&run_dir, LAST).is_some() {
        bail!(
            "{} already holds a run; pass --resume to continue it, or choose another --output",
            run_dir.display()
        );
    }
    args.backend.check()?;
    let data = args.data.load()?;
    let (backend, device) = (args.backend.backend, args.backend.device);
    run_on(
        backend,
        device,
        TrainJob {
            args,
            data,
            run_dir,
        },
    )
}

impl BackendJob for TrainJob {
    type Output = ();

    fn run<B: AutodiffBackend>(self, device: B::Device, backend: BackendArg) -> Result<()> {
        let TrainJob {
            args,
            data,
            run_dir,
        } = self;
        let mut trainer = if args.resume {
            Trainer::<B>::resume(&run_dir, &data, Some(args.iterations), device)?
        } else {
            let model = StreamModelConfig::new()
                .with_aggregator(args.aggregator)
                .with_sparsity_weight(args.sparsity);
            let streams = match args.streams {
                StreamsArg::Both => Streams::Both,
                StreamsArg::Rgb => Streams::Rgb,
                StreamsArg::Flow => Streams::Flow,
            };
            let config = TrainConfig::new(model)
                .with_streams(streams)
                .with_iterations(args.iterations)
                .with_batch_size(args.batch_size)
                .with_num_segments(args.segments)
                .with_learning_rate(args.lr)
                .with_seed(args.seed)
                .with_eval_every(args.eval_every)
                .with_checkpoint_every(args.checkpoint_every)
                .with_localize(args.localize.for_data(&data));
            let config = fit_config(&config, &data)?;
            Trainer::<B>::new(config, &data, Some(&run_dir), device)?
        };
        trainer.set_batching(backend.batching());
        let c = trainer.config();
        let localize = c
            .localize
            .clone()
            .unwrap_or_else(|| maan_model::infer::localize_preset(&data));
        eprintln!("evaluation localization: {}", describe_localize(&localize));
        eprintln!(
            "training {} ({}) on {} [{} train / {} test videos, D = {}, C = {}], backend {backend}, \
             batch {}, T = {}, {} iterations -> {}",
            c.model.aggregator.paper_name(),
            c.streams.kinds().iter().map(|k| k.name()).collect::<Vec<_>>().join(" + "),
            data.dir.display(),
            data.train.len(),
            data.test.len(),
            data.rgb_dim(),
            data.num_classes(),
            c.batch_size,
            c.num_segments,
            c.iterations,
            run_dir.display()
        );
        let stop = Arc::new(AtomicBool::new(false));
        {
            let stop = stop.clone();
            // Only one handler per process; a second `set_handler` fails, which is harmless.
            let _ = ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst));
        }
        let mut observer = Progress::new(stop, args.quiet);
        let summary = trainer.run(&data, &mut observer)?;
        observer.finish();
        if summary.stopped {
            eprintln!(
                "interrupted at iteration {}: saved {}/last; continue with --resume --output {}",
                summary.iteration,
                run_dir.display(),
                run_dir.display()
            );
        } else {
            eprintln!(
                "done: {} iterations in {}",
                summary.iteration,
                run_dir.display()
            );
        }
        if let Some(m) = &summary.last_eval {
            print_metrics(m);
        }
        if let Some((best, it)) = summary.best {
            eprintln!(
                "best average mAP {:.2}% at iteration {it} ({}/best)",
                best * 100.0,
                run_dir.display()
            );
        }
        Ok(())
    }
}

/// Prints the mAP table of an evaluation.
pub fn print_metrics(m: &EvalMetrics) {
    let head: Vec<String> = m
        .tiou_thresholds
        .iter()
        .map(|t| format!("{t:>6.2}"))
        .collect();
    let vals: Vec<String> = m
        .map
        .iter()
        .map(|v| format!("{:>6.2}", v * 100.0))
        .collect();
    println!("tIoU    {}    avg   cls-mAP", head.join(""));
    println!(
        "mAP (%) {}  {:>6.2}  {:>6.2}",
        vals.join(""),
        m.average_map * 100.0,
        m.classification_map * 100.0
    );
    for w in &m.warnings {
        eprintln!("warning: {w}");
    }
}

/// The indicatif progress bar, Ctrl-C flag and metrics of a run.
struct Progress {
    bar: ProgressBar,
    stop: Arc<AtomicBool>,
    loss: String,
    map: String,
    started: Instant,
    first: usize,
}

impl Progress {
    fn new(stop: Arc<AtomicBool>, quiet: bool) -> Self {
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(0)
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:30} {pos}/{len} [{elapsed_precise} < {eta_precise}] {per_sec} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Progress {
            bar,
            stop,
            loss: String::new(),
            map: String::new(),
            started: Instant::now(),
            first: 0,
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }

    fn update_msg(&self) {
        self.bar.set_message(format!("{} {}", self.loss, self.map));
    }
}

impl TrainObserver for Progress {
    fn on_start(&mut self, iteration: usize, total: usize) {
        self.bar.set_length(total as u64);
        self.bar.set_position(iteration as u64);
        self.bar.reset_elapsed();
        self.first = iteration;
        self.started = Instant::now();
    }

    fn on_iteration(&mut self, iteration: usize, losses: &[f32]) {
        self.bar.set_position(iteration as u64);
        if !losses.is_empty() {
            let l: Vec<String> = losses.iter().map(|l| format!("{l:.4}")).collect();
            let secs = self.started.elapsed().as_secs_f64().max(1e-9);
            self.loss = format!(
                "{:.1} it/s loss {}",
                (iteration - self.first) as f64 / secs,
                l.join("/")
            );
            self.update_msg();
        }
    }

    fn on_eval(&mut self, m: &EvalMetrics) {
        let at5 = m
            .map_at(0.5)
            .map(|v| format!("mAP@0.5 {:.1}% ", v * 100.0))
            .unwrap_or_default();
        self.map = format!(
            "| {at5}avg {:.1}% cls {:.1}%",
            m.average_map * 100.0,
            m.classification_map * 100.0
        );
        self.update_msg();
    }

    fn should_stop(&mut self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}
