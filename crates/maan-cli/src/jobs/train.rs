//! `maan train`: train MAAN (or a Table 1 baseline) on I3D features, with evaluation on the
//! test split, checkpoints (`last/`, `best/`), `--resume` and Ctrl-C handling. `maan demo`
//! runs it as its first step.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, bail, Result};
use burn::tensor::backend::AutodiffBackend;
use dataset::WtalDataset;
use indicatif::{ProgressBar, ProgressStyle};
use maa_core::Aggregator;
use maan_model::run::default_run_path;
use maan_model::{
    fit_config, load_config, Background, EvalMetrics, ModelError, Recipe, ResumePlan, RunDir,
    Setting, SettingError, StepEngine, StreamModelConfig, Streams, TrainConfig, TrainObserver,
    TrainOverrides, Trainer,
};

use crate::backend::{run_on, BackendArg, BackendJob, BackendOpts};
use crate::opts::{localize_error, DataOpts, LocalizeOpts};
use crate::report::print_metrics;

/// Arguments of `maan train`.
#[derive(Debug, Default, clap::Args)]
pub struct TrainArgs {
    /// Dataset.
    #[command(flatten)]
    pub data: DataOpts,
    /// Backend and device.
    #[command(flatten)]
    pub backend: BackendOpts,
    /// Feature aggregator: maa (MAAN) or a Table 1 baseline.
    #[arg(long)]
    pub aggregator: Option<Aggregator>,
    /// Streams to train: both (two models, fused 0.5 / 0.5 at test time), rgb or flow.
    #[arg(long, value_name = "both|rgb|flow")]
    pub streams: Option<Streams>,
    /// Training iterations (the paper does not state it). With --resume: the new total, to
    /// extend the run (without it, the run's own total).
    #[arg(long)]
    pub iterations: Option<usize>,
    /// Videos per batch (the paper does not state it; 16 as in BaSNet/UM/CoLA).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Snippets sampled per video (the paper's T).
    #[arg(long)]
    pub segments: Option<usize>,
    /// Adam learning rate (the paper's 5e-4).
    #[arg(long)]
    pub lr: Option<f64>,
    /// Seed of initialisation, sampling and dropout.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Weight of STPN's L1 sparsity loss (used with --aggregator stpn only).
    #[arg(long)]
    pub sparsity: Option<f64>,
    /// Background modelling, with any aggregator (saved in the run's config.json): none (the
    /// paper's model and loss) or bas (BaS-Net's background class with filtering, adapted to
    /// MAAN's sigmoid classifier: an extra background output, trained = 1 on the
    /// attention-free mean of the snippets and = 0 on the aggregator's attention-weighted
    /// feature; testing drops it).
    #[arg(long, value_name = "none|bas")]
    pub background: Option<Background>,
    /// The paper's procedure, whatever the benchmark and aggregator, instead of the
    /// recommended recipe of the benchmark and aggregator (which departs from it for MAAN and
    /// STPN on ActivityNet1.3 and in the localization of MAAN, STPN and Dropout on THUMOS14:
    /// docs/recipe.md); flags still override single settings.
    #[arg(long, conflicts_with_all = ["config", "resume"])]
    pub paper: bool,
    /// Temporal erasing (hide-and-seek): hide this fraction of each video's sampled snippets,
    /// one contiguous block at a random place, in [0, 1) (saved in the run's config.json).
    #[arg(long, value_name = "FRACTION")]
    pub erase: Option<f64>,
    /// Erase each visit of a video only with this probability, in (0, 1] (saved in the run's
    /// config.json).
    #[arg(long, value_name = "P")]
    pub erase_probability: Option<f64>,
    /// Attention-guided erasing: in each training sample, also hide this fraction of its
    /// snippets, those the stream's own attention rates highest, in [0, 1) (saved in the
    /// run's config.json).
    #[arg(long, value_name = "FRACTION")]
    pub attention_erase: Option<f64>,
    /// How the training step computes: fused (the loss, its gradients and Adam in one pass
    /// over host memory; flex and ndarray) or autodiff (Burn's autodiff; every backend and
    /// option). Both train alike to float rounding; not saved in the run. [default: fused on
    /// flex and ndarray (autodiff with the dropout aggregator), autodiff on GPU backends]
    #[arg(long, value_name = "fused|autodiff")]
    pub engine: Option<StepEngine>,
    /// Evaluate on the test split every N iterations (0: at the end only).
    #[arg(long)]
    pub eval_every: Option<usize>,
    /// Save the `last` checkpoint every N iterations (0: at the end only).
    #[arg(long)]
    pub checkpoint_every: Option<usize>,
    /// Run directory: config.json, metrics.jsonl, last/, best/, run.lock. [default:
    /// runs/<aggregator>-<unix time>]
    #[arg(long, alias = "output", value_name = "RUN_DIR")]
    pub run: Option<PathBuf>,
    /// Start from the settings of this file: a run's config.json (or a JSON file of the same
    /// fields), so that a run can be reproduced from its directory alone. Flags override it;
    /// without --data-dir, the data folder recorded in it is used.
    #[arg(long, value_name = "CONFIG.json")]
    pub config: Option<PathBuf>,
    /// Continue the run in --run from its last checkpoint (model, Adam state, iteration),
    /// with every setting of the run (its config.json); --iterations N extends it, and any
    /// other training option that disagrees with the run is an error.
    #[arg(long)]
    pub resume: bool,
    /// Localization of the evaluations during training (saved in the run's config.json).
    #[command(flatten)]
    pub localize: LocalizeOpts,
    /// Hide the progress bar.
    #[arg(long)]
    pub quiet: bool,
}

impl TrainArgs {
    /// The training flags as the library's overrides.
    pub fn overrides(&self) -> TrainOverrides {
        TrainOverrides {
            aggregator: self.aggregator,
            streams: self.streams,
            iterations: self.iterations,
            batch_size: self.batch_size,
            segments: self.segments,
            learning_rate: self.lr,
            seed: self.seed,
            sparsity: self.sparsity,
            background: self.background,
            erase: self.erase,
            erase_probability: self.erase_probability,
            attention_erase: self.attention_erase,
            eval_every: self.eval_every,
            checkpoint_every: self.checkpoint_every,
            localize: self.localize.overrides(),
        }
    }
}

/// The flag of a training setting.
pub fn setting_flag(setting: Setting) -> &'static str {
    match setting {
        Setting::Aggregator => "--aggregator",
        Setting::Streams => "--streams",
        Setting::Iterations => "--iterations",
        Setting::BatchSize => "--batch-size",
        Setting::Segments => "--segments",
        Setting::LearningRate => "--lr",
        Setting::Seed => "--seed",
        Setting::Sparsity => "--sparsity",
        Setting::Background => "--background",
        Setting::Erase => "--erase",
        Setting::EraseProbability => "--erase-probability",
        Setting::AttentionErase => "--attention-erase",
        Setting::EvalEvery => "--eval-every",
        Setting::CheckpointEvery => "--checkpoint-every",
        Setting::Localize => {
            "--localize / --suppression / --nms-iou / --soft-nms-sigma / --cas-smoothing / \
             --proposal-score"
        }
    }
}

/// A library error about training settings in the words of the flags (the run directory
/// `run` names the run a `--resume` disagrees with).
pub fn flag_error(err: ModelError, run: &Path) -> anyhow::Error {
    match err {
        ModelError::Setting(SettingError {
            setting,
            value,
            rule,
        }) => anyhow!("{} {value}: {rule}", setting_flag(setting)),
        ModelError::Localization(e) => localize_error(e),
        ModelError::ResumeConflicts(list) => {
            let lines: Vec<String> = list
                .iter()
                .map(|c| {
                    let flag = setting_flag(c.setting);
                    format!("{flag}: given {}, the run has {}", c.given, c.saved)
                })
                .collect();
            anyhow!(
                "--resume continues {} with its own settings (config.json), and these options \
                 disagree with them:\n  {}\n(leave them out, or start a new run with another \
                 --run)",
                run.display(),
                lines.join("\n  ")
            )
        }
        e => e.into(),
    }
}

/// Takes the run directory for this process: [`RunDir::resume`] with `--resume`, else
/// [`RunDir::create`]; their errors in the words of the command's flags.
pub fn take_run_dir(run_dir: &Path, resume: bool) -> Result<RunDir> {
    let taken = if resume {
        RunDir::resume(run_dir)
    } else {
        RunDir::create(run_dir)
    };
    taken.map_err(|e| match e {
        ModelError::RunExists(_) => anyhow!(
            "{} already holds a run; pass --resume to continue it, or choose another --run",
            run_dir.display()
        ),
        ModelError::NoRun(_) => anyhow!(
            "--resume: {} holds no checkpoint (expected {}/last/state.json)",
            run_dir.display(),
            run_dir.display()
        ),
        e => e.into(),
    })
}

/// Runs `maan train`.
pub fn run(args: TrainArgs) -> Result<()> {
    let overrides = args.overrides();
    if args.resume && args.run.is_none() {
        bail!("--resume needs --run RUN_DIR (the run to continue)");
    }
    let run_dir = args.run.clone().unwrap_or_else(|| {
        let aggregator = overrides
            .aggregator
            .unwrap_or(StreamModelConfig::new().aggregator);
        default_run_path(aggregator.name())
    });
    overrides.validate().map_err(|e| flag_error(e, &run_dir))?;
    // The run directory's lock: taken at once to continue a run or when the directory exists
    // (so that a run in use by another process is reported as such, naming its pid), else
    // right before training (a failed start leaves no empty run directory behind). `RunDir`
    // makes the checks (a run to continue, no run to overwrite) under the lock.
    let early = (args.resume || run_dir.is_dir())
        .then(|| take_run_dir(&run_dir, args.resume))
        .transpose()?;
    if args.resume && args.config.is_some() {
        bail!(
            "--config starts a new run from a configuration; --resume continues one with its own"
        );
    }
    let base = args
        .config
        .as_deref()
        .map(TrainConfig::from_file)
        .transpose()?;
    args.backend.check()?;
    let saved = args.resume.then(|| load_config(&run_dir)).transpose()?;
    let data = match saved
        .as_ref()
        .or(base.as_ref().filter(|b| b.data.is_some()))
    {
        Some(config) => args.data.load_for_run(config)?,
        None => args.data.load()?,
    };
    let config = match (saved, base) {
        (Some(saved), _) => {
            let done = maan_model::run::last_iteration(&run_dir)?;
            let plan = overrides
                .resume(&saved, data.kind, done)
                .map_err(|e| flag_error(e, &run_dir))?;
            if let ResumePlan::Complete { done, total } = plan {
                eprintln!(
                    "{} is complete ({done} of {total} iterations); --resume --iterations N \
                     extends it",
                    run_dir.display()
                );
                return Ok(());
            }
            None
        }
        (None, Some(base)) => Some(overrides.apply(base, data.kind)),
        (None, None) if args.paper => Some(overrides.config(Recipe::Paper, data.kind)),
        (None, None) => Some(overrides.config(Recipe::Recommended, data.kind)),
    };
    let config = config.transpose().map_err(|e| flag_error(e, &run_dir))?;
    // The run directory's lock, held until training ends; the checks above are made again
    // under it (another process may have started the same run meanwhile).
    let run = match early {
        Some(run) => run,
        None => take_run_dir(&run_dir, args.resume)?,
    };
    train(Training {
        recipe_note: args.config.is_none() && !args.paper,
        data,
        run,
        config,
        iterations: args.iterations,
        engine: args.engine,
        backend: args.backend,
        quiet: args.quiet,
    })
}

/// One training with its flags resolved: what `maan train` and `maan demo` run.
pub struct Training {
    /// The dataset.
    pub data: WtalDataset,
    /// The run directory, held.
    pub run: RunDir,
    /// A new run's configuration (before [`fit_config`]), or `None` to continue the run.
    pub config: Option<TrainConfig>,
    /// With `config: None`: the new total of iterations, if any.
    pub iterations: Option<usize>,
    /// The step engine, when not the backend's default.
    pub engine: Option<StepEngine>,
    /// Backend and device.
    pub backend: BackendOpts,
    /// Hide the progress bar.
    pub quiet: bool,
    /// Say so when a new run follows the recommended recipe rather than the paper.
    pub recipe_note: bool,
}

/// Trains (see [`Training`]) with a progress bar and Ctrl-C handling, then prints the last
/// evaluation.
pub fn train(training: Training) -> Result<()> {
    let BackendOpts { backend, device } = training.backend;
    run_on(backend, device, training)
}

impl BackendJob for Training {
    type Output = ();

    fn run<B: AutodiffBackend>(self, device: B::Device, backend: BackendArg) -> Result<()> {
        let Training { data, run, .. } = self;
        let run_dir = run.path().to_path_buf();
        let recipe_note = self.recipe_note && self.config.is_some();
        let mut trainer = match self.config {
            None => Trainer::<B>::resume(run, &data, self.iterations, device)?,
            Some(config) => {
                Trainer::<B>::new(fit_config(&config, &data)?, &data, Some(run), device)?
            }
        };
        trainer.set_batching(backend.batching());
        if let Some(engine) = self.engine {
            trainer.set_engine(engine)?;
        }
        let c = trainer.config();
        eprintln!(
            "evaluation localization: {}",
            c.localization(data.kind).describe()
        );
        if recipe_note && Recipe::recommended_departs_from_paper(c.model.aggregator, data.kind) {
            eprintln!(
                "{} on {}: the recommended recipe ({}); --paper for the paper's procedure",
                c.model.aggregator.paper_name(),
                data.kind,
                c.describe_recipe(data.kind)
            );
        }
        eprintln!(
            "training {} on {} [{} train / {} test videos, D = {}, C = {}], backend {backend}, \
             batch {}, T = {}, {} iterations -> {}",
            c.describe_model(),
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
        let mut observer = Progress::new(stop, self.quiet);
        let summary = trainer.run(&data, &mut observer)?;
        observer.finish();
        if summary.stopped {
            eprintln!(
                "interrupted at iteration {}: saved {}/last; continue with --resume --run {}",
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
