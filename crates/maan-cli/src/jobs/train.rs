//! `maan train`: train MAAN (or a Table 1 baseline) on I3D features, with evaluation on the
//! test split, checkpoints (`last/`, `best/`), `--resume` and Ctrl-C handling. `maan demo`
//! runs it as its first step.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Result};
use burn::tensor::backend::AutodiffBackend;
use dataset::WtalDataset;
use indicatif::{ProgressBar, ProgressStyle};
use maa_core::Aggregator;
use maan_model::checkpoint::{checkpoint_dir, LAST};
use maan_model::{
    fit_config, Background, EraseFraction, EraseProbability, EvalMetrics, ModelError, RunDir,
    StepEngine, StreamModelConfig, Streams, TrainConfig, TrainObserver, Trainer,
};

use crate::backend::{run_on, BackendArg, BackendJob, BackendOpts};
use crate::opts::{DataOpts, LocalizeOpts};
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
    /// Feature aggregator: maa (MAAN) or a Table 1 baseline [default: maa].
    #[arg(long)]
    pub aggregator: Option<Aggregator>,
    /// Streams to train: both (two models, fused 0.5 / 0.5 at test time), rgb or flow
    /// [default: both].
    #[arg(long, value_name = "both|rgb|flow")]
    pub streams: Option<Streams>,
    /// Training iterations (the paper does not state it) [default: 5000]. With --resume: the
    /// new total, to extend the run (without it, the run's own total).
    #[arg(long)]
    pub iterations: Option<usize>,
    /// Videos per batch (the paper does not state it; 16 as in BaSNet/UM/CoLA) [default: 16;
    /// 32 for MAAN and STPN on ActivityNet1.3, their recipe; --paper: 16].
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Snippets sampled per video (the paper's T) [default: 20].
    #[arg(long)]
    pub segments: Option<usize>,
    /// Adam learning rate (the paper's 5e-4) [default: 0.0005].
    #[arg(long)]
    pub lr: Option<f64>,
    /// Seed of initialisation, sampling and dropout [default: 0].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Weight of STPN's L1 sparsity loss (used with --aggregator stpn only) [default: 0.0001].
    #[arg(long)]
    pub sparsity: Option<f64>,
    /// Background modelling, with any aggregator (saved in the run's config.json): none (the
    /// paper's model and loss) or bas (BaS-Net's background class with filtering, adapted to
    /// MAAN's sigmoid classifier: an extra background output, trained = 1 on the
    /// attention-free mean of the snippets and = 0 on the aggregator's attention-weighted
    /// feature; testing drops it) [default: none; bas for MAAN on ActivityNet1.3, its
    /// recipe; --paper: none].
    #[arg(long, value_name = "none|bas")]
    pub background: Option<Background>,
    /// The paper's procedure, whatever the benchmark and aggregator: batch 16, T = 20, no
    /// erasing, the paper localization preset, no background class. Without it, MAAN on
    /// ActivityNet1.3 trains with the recipe measured to beat it there (batch 32, T = 12,
    /// --attention-erase 0.25, --background bas, --localize long;
    /// docs/results/activitynet.md), STPN
    /// there trains with batch 32 and localizes with --localize long, and MAAN, STPN and Dropout on THUMOS14 localize with --localize oic;
    /// flags still override single settings.
    #[arg(long, conflicts_with_all = ["config", "resume"])]
    pub paper: bool,
    /// Temporal erasing (hide-and-seek): hide this fraction of each video's sampled snippets,
    /// one contiguous block at a random place, in [0, 1) (saved in the run's config.json)
    /// [default: 0, the paper's training].
    #[arg(long, value_name = "FRACTION")]
    pub erase: Option<f64>,
    /// Erase each visit of a video only with this probability, in (0, 1] (saved in the run's
    /// config.json) [default: 1, every visit].
    #[arg(long, value_name = "P")]
    pub erase_probability: Option<f64>,
    /// Attention-guided erasing: in each training sample, also hide this fraction of its
    /// snippets, those the stream's own attention rates highest, in [0, 1) (saved in the
    /// run's config.json) [default: 0, the paper's training].
    #[arg(long, value_name = "FRACTION")]
    pub attention_erase: Option<f64>,
    /// How the training step computes: fused (the loss, its gradients and Adam in one pass
    /// over host memory; flex and ndarray) or autodiff (Burn's autodiff; every backend and
    /// option). Both train alike to float rounding; not saved in the run. [default: fused on
    /// flex and ndarray (autodiff with the dropout aggregator), autodiff on GPU backends]
    #[arg(long, value_name = "fused|autodiff")]
    pub engine: Option<StepEngine>,
    /// Evaluate on the test split every N iterations (0: at the end only) [default: 500].
    #[arg(long)]
    pub eval_every: Option<usize>,
    /// Save the `last` checkpoint every N iterations (0: at the end only) [default: 500].
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

struct TrainJob {
    args: TrainArgs,
    data: WtalDataset,
    run: RunDir,
    base: Option<TrainConfig>,
}

/// Reads a configuration file of `maan train --config` (a run's config.json).
fn read_config_file(path: &Path) -> Result<TrainConfig> {
    Ok(TrainConfig::from_file(path)?)
}

/// The configuration of a new run from the flags, over `base` (a `--config` file) or the
/// defaults where a flag is absent, before [`fit_config`] completes it with the data's
/// dimensions.
fn config_from_args(
    args: &TrainArgs,
    data: &WtalDataset,
    base: Option<&TrainConfig>,
) -> Result<TrainConfig> {
    let defaults = match base {
        Some(base) => base.clone(),
        None => {
            let model = StreamModelConfig::new().with_aggregator(
                args.aggregator
                    .unwrap_or(StreamModelConfig::new().aggregator),
            );
            if args.paper {
                TrainConfig::new(model)
            } else {
                TrainConfig::recommended(model, data.kind)
            }
        }
    };
    let model = defaults
        .model
        .clone()
        .with_aggregator(args.aggregator.unwrap_or(defaults.model.aggregator))
        .with_sparsity_weight(args.sparsity.unwrap_or(defaults.model.sparsity_weight))
        .with_background(args.background.unwrap_or(defaults.model.background));
    let streams = args.streams.unwrap_or(defaults.streams);
    let localize = match (&defaults.localize, args.localize.is_set()) {
        (Some(base), true) => Some(args.localize.apply(base, data.kind)?),
        (Some(base), false) => Some(base.clone()),
        (None, _) => args.localize.for_data(data)?,
    };
    Ok(TrainConfig {
        model,
        streams,
        iterations: args.iterations.unwrap_or(defaults.iterations),
        batch_size: args.batch_size.unwrap_or(defaults.batch_size),
        num_segments: args.segments.unwrap_or(defaults.num_segments),
        learning_rate: args.lr.unwrap_or(defaults.learning_rate),
        seed: args.seed.unwrap_or(defaults.seed),
        eval_every: args.eval_every.unwrap_or(defaults.eval_every),
        checkpoint_every: args.checkpoint_every.unwrap_or(defaults.checkpoint_every),
        erase: args.erase.map_or(defaults.erase, EraseFraction),
        erase_probability: args
            .erase_probability
            .map_or(defaults.erase_probability, EraseProbability),
        attention_erase: args
            .attention_erase
            .map_or(defaults.attention_erase, EraseFraction),
        localize,
        ..defaults
    })
}

/// With `--resume`: the training options given on the command line that disagree with the
/// run's saved configuration, as "--flag: given X, the run has Y" (empty: none).
fn resume_conflicts(
    args: &TrainArgs,
    saved: &TrainConfig,
    data: &WtalDataset,
) -> Result<Vec<String>> {
    fn check<T: PartialEq + std::fmt::Debug>(
        out: &mut Vec<String>,
        flag: &str,
        given: Option<T>,
        saved: T,
    ) {
        if let Some(g) = given {
            if g != saved {
                out.push(format!("{flag}: given {g:?}, the run has {saved:?}"));
            }
        }
    }
    let mut out = Vec::new();
    check(
        &mut out,
        "--aggregator",
        args.aggregator,
        saved.model.aggregator,
    );
    check(&mut out, "--streams", args.streams, saved.streams);
    check(&mut out, "--batch-size", args.batch_size, saved.batch_size);
    check(&mut out, "--segments", args.segments, saved.num_segments);
    check(&mut out, "--lr", args.lr, saved.learning_rate);
    check(&mut out, "--seed", args.seed, saved.seed);
    check(
        &mut out,
        "--sparsity",
        args.sparsity,
        saved.model.sparsity_weight,
    );
    check(
        &mut out,
        "--background",
        args.background,
        saved.model.background,
    );
    check(&mut out, "--erase", args.erase, saved.erase.0);
    check(
        &mut out,
        "--erase-probability",
        args.erase_probability,
        saved.erase_probability.0,
    );
    check(
        &mut out,
        "--attention-erase",
        args.attention_erase,
        saved.attention_erase.0,
    );
    check(&mut out, "--eval-every", args.eval_every, saved.eval_every);
    check(
        &mut out,
        "--checkpoint-every",
        args.checkpoint_every,
        saved.checkpoint_every,
    );
    if args.localize.is_set() {
        let base = saved.localization(data.kind);
        let given = args.localize.apply(&base, data.kind)?;
        if given != base {
            out.push(format!(
                "--localize / --suppression / --nms-iou / --soft-nms-sigma / --cas-smoothing / \
                 --proposal-score: given {}, the run has {}",
                given.describe(),
                base.describe()
            ));
        }
    }
    Ok(out)
}

/// Takes the run directory for this process: [`RunDir::resume`] with `--resume`, else
/// [`RunDir::create`]; their errors in the words of the command's flags.
fn take_run_dir(run_dir: &Path, resume: bool) -> Result<RunDir> {
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
    if args.iterations == Some(0) {
        bail!("--iterations must be at least 1");
    }
    if args.batch_size == Some(0) || args.segments == Some(0) {
        bail!("--batch-size and --segments must be at least 1");
    }
    if let Some(f) = args.erase {
        if !(0.0..1.0).contains(&f) {
            bail!("--erase {f}: the erased fraction must be in [0, 1)");
        }
    }
    if let Some(f) = args.attention_erase {
        if !(0.0..1.0).contains(&f) {
            bail!("--attention-erase {f}: the erased fraction must be in [0, 1)");
        }
    }
    if let Some(p) = args.erase_probability {
        if !(p > 0.0 && p <= 1.0) {
            bail!("--erase-probability {p}: the probability must be in (0, 1]");
        }
    }
    let run_dir = match &args.run {
        Some(d) => d.clone(),
        None => {
            if args.resume {
                bail!("--resume needs --run RUN_DIR (the run to continue)");
            }
            let secs = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            let aggregator = args
                .aggregator
                .unwrap_or(StreamModelConfig::new().aggregator);
            PathBuf::from(format!("runs/{}-{secs}", aggregator.name()))
        }
    };
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
    let base = args.config.as_deref().map(read_config_file).transpose()?;
    args.backend.check()?;
    let data = if args.resume {
        args.data
            .load_for_run(&maan_model::load_config(&run_dir)?)?
    } else if let Some(base) = base.as_ref().filter(|b| b.data.is_some()) {
        args.data.load_for_run(base)?
    } else {
        args.data.load()?
    };
    if args.resume {
        let saved = maan_model::load_config(&run_dir)?;
        let conflicts = resume_conflicts(&args, &saved, &data)?;
        if !conflicts.is_empty() {
            bail!(
                "--resume continues {} with its own settings (config.json), and these options \
                 disagree with them:\n  {}\n(leave them out, or start a new run with another \
                 --run)",
                run_dir.display(),
                conflicts.join("\n  ")
            );
        }
        let dir = checkpoint_dir(&run_dir, LAST)
            .ok_or_else(|| anyhow!("{}: no last/ checkpoint", run_dir.display()))?;
        let done = maan_model::checkpoint::read_state(&dir)?.iteration;
        let total = args.iterations.unwrap_or(saved.iterations);
        if total <= done {
            if args.iterations.is_some() {
                bail!(
                    "--iterations {total}: {} is already at iteration {done}; give a larger total \
                     to extend it",
                    run_dir.display()
                );
            }
            eprintln!(
                "{} is complete ({done} of {total} iterations); --resume --iterations N extends it",
                run_dir.display()
            );
            return Ok(());
        }
    }
    // The run directory's lock, held until training ends; the checks above are made again
    // under it (another process may have started the same run meanwhile).
    let run = match early {
        Some(run) => run,
        None => take_run_dir(&run_dir, args.resume)?,
    };
    let (backend, device) = (args.backend.backend, args.backend.device);
    run_on(
        backend,
        device,
        TrainJob {
            args,
            data,
            run,
            base,
        },
    )
}

impl BackendJob for TrainJob {
    type Output = ();

    fn run<B: AutodiffBackend>(self, device: B::Device, backend: BackendArg) -> Result<()> {
        let TrainJob {
            args,
            data,
            run,
            base,
        } = self;
        let run_dir = run.path().to_path_buf();
        let mut trainer = if args.resume {
            Trainer::<B>::resume(run, &data, args.iterations, device)?
        } else {
            let config = fit_config(&config_from_args(&args, &data, base.as_ref())?, &data)?;
            Trainer::<B>::new(config, &data, Some(run), device)?
        };
        trainer.set_batching(backend.batching());
        if let Some(engine) = args.engine {
            trainer.set_engine(engine)?;
        }
        let c = trainer.config();
        let localize = c.localization(data.kind);
        eprintln!("evaluation localization: {}", localize.describe());
        if !args.resume && args.config.is_none() && !args.paper {
            let model = StreamModelConfig::new().with_aggregator(c.model.aggregator);
            if TrainConfig::recommended(model.clone(), data.kind) != TrainConfig::new(model) {
                eprintln!(
                    "{} on {}: the recommended recipe (batch {}, T = {}, erasing {}, \
                     attention erasing {}, background {}, localization {}); --paper for the \
                     paper's procedure",
                    c.model.aggregator.paper_name(),
                    data.kind,
                    c.batch_size,
                    c.num_segments,
                    c.erase.0,
                    c.attention_erase.0,
                    c.model.background,
                    maan_eval::LocalizePreset::name_of(&localize, data.kind)
                );
            }
        }
        let mut background = match c.model.background {
            Background::None => String::new(),
            bg => format!(", background {bg}"),
        };
        if c.erase.0 > 0.0 {
            background.push_str(&format!(", erasing {} of each sample", c.erase.0));
            if c.erase_probability.0 < 1.0 {
                background.push_str(&format!(" with probability {}", c.erase_probability.0));
            }
        }
        if c.attention_erase.0 > 0.0 {
            background.push_str(&format!(
                ", erasing the {} the attention rates highest",
                c.attention_erase.0
            ));
        }
        eprintln!(
            "training {}{background} ({}) on {} [{} train / {} test videos, D = {}, C = {}], \
             backend {backend}, batch {}, T = {}, {} iterations -> {}",
            c.model.aggregator.paper_name(),
            c.streams
                .kinds()
                .iter()
                .map(|k| k.name())
                .collect::<Vec<_>>()
                .join(" + "),
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
