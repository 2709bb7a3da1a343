//! `maan train`: train MAAN (or a Table 1 baseline) on I3D features, with evaluation on the
//! test split, checkpoints (`last/`, `best/`), `--resume` and Ctrl-C handling.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context, Result};
use burn::tensor::backend::AutodiffBackend;
use dataset::synth::{generate, SynthConfig};
use dataset::{Benchmark, WtalDataset};
use indicatif::{ProgressBar, ProgressStyle};
use maa_core::Aggregator;
use maan_eval::localize::{LocalizeConfig, LocalizePreset, ProposalScore, Suppression, Thresholds};
use maan_model::checkpoint::{checkpoint_dir, LAST};
use maan_model::{
    fit_config, Background, EraseFraction, EvalMetrics, ModelError, RunDir, StreamModelConfig,
    Streams, TrainConfig, TrainObserver, Trainer,
};

use crate::backend::{run_on, BackendArg, BackendJob, BackendOpts};

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

/// Background modelling during training (`--background`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackgroundArg {
    /// None: the paper's model and loss.
    None,
    /// BaS-Net's background class with filtering (adapted to MAAN's sigmoid classifier): an
    /// extra background output, trained = 1 on the attention-free mean of the snippets and = 0
    /// on the aggregator's attention-weighted feature; testing drops it.
    Bas,
}

impl From<BackgroundArg> for Background {
    fn from(arg: BackgroundArg) -> Self {
        match arg {
            BackgroundArg::None => Background::None,
            BackgroundArg::Bas => Background::Bas,
        }
    }
}

/// `--data-dir` and `--dataset`, shared by `train`, `test` and `experiment`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DataOpts {
    /// Dataset directory (layout A, B or ActivityNet). Without it, the built-in synthetic
    /// dataset is used, generated on first use: data/synthetic/<dataset> inside the maan-rs
    /// repository, else $MAAN_DATA_DIR/synthetic/<dataset>, else
    /// ~/.local/share/maan/synthetic/<dataset>.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Benchmark the data follows: thumos14 (20 classes; tIoU 0.1:0.1:0.9) or activitynet
    /// (ActivityNet1.3: 200 classes; tIoU 0.5:0.05:0.95). It picks the class list, the
    /// localization preset and the built-in synthetic dataset [default: thumos14; for an
    /// existing run (`test`, `train --resume`), the run's].
    #[arg(long, value_name = "thumos14|activitynet")]
    pub dataset: Option<Benchmark>,
    /// How to read it (the options of `maan inspect`).
    #[command(flatten)]
    pub load: super::common::LoadArgs,
}

impl DataOpts {
    /// Loads the dataset (see [`load_data`]).
    pub fn load(&self) -> Result<WtalDataset> {
        load_data(
            self.data_dir.as_deref(),
            self.dataset.unwrap_or(Benchmark::Thumos14),
            &self.load,
        )
    }

    /// The data of an existing run: `--data-dir` when given, else the folder the run was
    /// trained on (recorded in its config.json), else as [`DataOpts::load`] (runs from an
    /// older maan); checked to fit the run's models (feature dimensions, classes).
    pub fn load_for_run(&self, config: &TrainConfig) -> Result<WtalDataset> {
        if let (Some(given), Some(run)) = (self.dataset, &config.data) {
            if given != run.kind {
                bail!(
                    "--dataset {given}: the run was trained on {} data (in {})",
                    run.kind,
                    run.dir.display()
                );
            }
        }
        let data = match (&self.data_dir, &config.data) {
            (Some(dir), Some(run)) => {
                // The run's data elsewhere (moved or copied): the run's benchmark and snippet
                // timing unless flags say otherwise; the layout is detected again (or
                // --layout), as the copy may be laid out differently.
                let mut opts = self
                    .load
                    .options(Some(run.kind), Some((run.layout, run.timing)));
                opts.layout = self.load.layout;
                load_dir(dir, &opts)?
            }
            (None, Some(run)) => {
                let opts = self
                    .load
                    .options(Some(run.kind), Some((run.layout, run.timing)));
                WtalDataset::load(&run.dir, &opts).with_context(|| {
                    format!(
                        "loading the run's dataset in {} (moved? pass --data-dir)",
                        run.dir.display()
                    )
                })?
            }
            _ => self.load()?,
        };
        if let Some(run) = &config.data {
            run.check_fits(&data, config.streams)?;
        }
        Ok(data)
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

/// How the proposals of a class are pruned (`--suppression`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SuppressionArg {
    /// Greedy NMS at the preset's tIoU (both presets).
    Nms,
    /// Gaussian soft-NMS, σ = 0.3 (CO2-Net, DELU): every proposal kept, overlapping ones'
    /// scores decayed.
    SoftNms,
}

/// Localization options shared by `train` (its evaluations; saved in the run's config.json),
/// `test`, `predict`, `demo` and `experiment`. Unset options keep the dataset's paper preset
/// (THUMOS14: 0.2 × max; ActivityNet1.3: {0.2, 0.15, 0.1, 0.05} × max, NMS 0.9; mean CAS
/// score; no smoothing), or, for `maan test` and `maan predict`, the settings the run was
/// trained with. `--localize` replaces that base by a named preset; the other options then
/// change it.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LocalizeOpts {
    /// Localization preset: paper (MAAN section 3.1: thresholds on the CAS, mean score), oic
    /// (many thresholds on the CAS and on the attention p_t, outer-inner score, upsampling,
    /// NMS; the post-processing of BaS-Net/UM/CoLA/ACM-Net: maan-eval's `localize` docs) or
    /// long (ActivityNet's long actions: the CAS smoothed over a tenth of the video, lower
    /// thresholds, soft-NMS) [default: `train`: the recommended settings of the benchmark and
    /// aggregator (paper, except long for MAAN on ActivityNet; --paper for the paper's);
    /// `test` / `predict`: the run's own settings].
    #[arg(long, value_name = "paper|oic|long")]
    pub localize: Option<LocalizePreset>,
    /// Greedy NMS (nms, both presets) or Gaussian soft-NMS with σ = 0.3 (soft-nms).
    #[arg(long, value_enum)]
    pub suppression: Option<SuppressionArg>,
    /// Greedy NMS: of two proposals of a class overlapping by more than this tIoU, the
    /// lower-scored one is dropped [default: the preset's: THUMOS14 paper 0.5, oic 0.6;
    /// ActivityNet1.3 0.9].
    #[arg(long, value_name = "TIOU", value_parser = parse_nms_iou, conflicts_with = "soft_nms_sigma")]
    pub nms_iou: Option<f64>,
    /// Soft-NMS: the width σ of its penalty exp(−tIoU² / σ); selects soft-NMS when
    /// --suppression is not given [default: 0.3].
    #[arg(long, value_name = "SIGMA", value_parser = parse_soft_nms_sigma)]
    pub soft_nms_sigma: Option<f64>,
    /// Average each class's CAS over a centred window of N snippets before thresholding
    /// (1: none, the paper). Long actions (ActivityNet) fragment without it; 9 is a good
    /// start there.
    #[arg(long, value_name = "N")]
    pub cas_smoothing: Option<usize>,
    /// Average each class's CAS (and the attention) over a centred window of this fraction of
    /// the video's snippets (the window is the larger of this and --cas-smoothing), for
    /// actions that last a share of a video rather than a fixed time (ActivityNet); 0: none.
    #[arg(long, value_name = "FRACTION", value_parser = parse_fraction)]
    pub cas_smoothing_fraction: Option<f64>,
    /// How a proposal is scored (the paper does not say; default: mean).
    #[arg(long, value_enum)]
    pub proposal_score: Option<ProposalScoreArg>,
}

/// `--nms-iou`: a tIoU in (0, 1].
fn parse_nms_iou(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 1.0 => Ok(v),
        _ => Err(format!("'{s}' is not a tIoU in (0, 1]")),
    }
}

/// `--cas-smoothing-fraction`: a number in [0, 1].
fn parse_fraction(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("'{s}' is not a fraction in [0, 1]")),
    }
}

/// `--soft-nms-sigma`: a finite number above 0.
fn parse_soft_nms_sigma(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("'{s}' is not a positive number")),
    }
}

impl LocalizeOpts {
    /// Whether any option was given.
    pub fn is_set(&self) -> bool {
        self.localize.is_some()
            || self.suppression.is_some()
            || self.nms_iou.is_some()
            || self.soft_nms_sigma.is_some()
            || self.cas_smoothing.is_some()
            || self.cas_smoothing_fraction.is_some()
            || self.proposal_score.is_some()
    }

    /// `base` with the given options applied: `--localize` replaces it by that preset of
    /// benchmark `kind`, then the other options change it. An error when the options
    /// contradict each other or the base: `--soft-nms-sigma` with `--suppression nms`, or
    /// `--nms-iou` where soft-NMS is used (it keeps every proposal).
    pub fn apply(&self, base: &LocalizeConfig, kind: Benchmark) -> Result<LocalizeConfig> {
        let mut cfg = match self.localize {
            Some(preset) => kind.localize(preset),
            None => base.clone(),
        };
        match (self.suppression, self.soft_nms_sigma) {
            (Some(SuppressionArg::Nms), Some(_)) => {
                bail!("--soft-nms-sigma applies to soft-NMS, not to --suppression nms")
            }
            (Some(SuppressionArg::Nms), None) => cfg.suppression = Suppression::Nms,
            (_, Some(sigma)) => cfg.suppression = Suppression::SoftNms { sigma },
            (Some(SuppressionArg::SoftNms), None) => cfg.suppression = Suppression::soft_nms(),
            (None, None) => {}
        }
        if let Some(iou) = self.nms_iou {
            if !matches!(cfg.suppression, Suppression::Nms) {
                bail!(
                    "--nms-iou applies to greedy NMS; these settings use soft-NMS (give \
                     --suppression nms to switch)"
                );
            }
            cfg.nms_iou = iou;
        }
        if let Some(k) = self.cas_smoothing {
            cfg.smoothing = k;
        }
        if let Some(f) = self.cas_smoothing_fraction {
            cfg.relative_smoothing = f;
        }
        match self.proposal_score {
            Some(ProposalScoreArg::Mean) => cfg.score = ProposalScore::Mean,
            Some(ProposalScoreArg::OuterInner) => cfg.score = ProposalScore::outer_inner(),
            None => {}
        }
        Ok(cfg)
    }

    /// The settings for a run on `data`: the dataset's preset with the options applied, or
    /// `None` (the preset itself) when no option was given.
    pub fn for_data(&self, data: &WtalDataset) -> Result<Option<LocalizeConfig>> {
        self.is_set()
            .then(|| self.apply(&data.kind.paper_localize(), data.kind))
            .transpose()
    }
}

/// A threshold set in one line: `{0.2, 0.15} x max`, `{0.5}`; sets of more than five values
/// as `{first, second, …, last} (n values)`.
fn describe_thresholds(t: &Thresholds) -> String {
    let (v, suffix) = match t {
        Thresholds::RelativeToMax(v) => (v, " x max"),
        Thresholds::Absolute(v) => (v, ""),
    };
    let show = |x: &f32| format!("{}", (*x as f64 * 1e6).round() / 1e6);
    if v.len() > 5 {
        format!(
            "{{{}, {}, …, {}}}{suffix} ({} values)",
            show(&v[0]),
            show(&v[1]),
            show(&v[v.len() - 1]),
            v.len()
        )
    } else {
        let list: Vec<String> = v.iter().map(show).collect();
        format!("{{{}}}{suffix}", list.join(", "))
    }
}

/// A one-line description of localization settings, for logs and tables.
pub fn describe_localize(cfg: &LocalizeConfig) -> String {
    let thresholds = describe_thresholds(&cfg.thresholds);
    let attention = match &cfg.attention_thresholds {
        Some(t) => format!(", attention thresholds {}", describe_thresholds(t)),
        None => String::new(),
    };
    let upsample = if cfg.upsample > 1 {
        format!(", upsampled x{}", cfg.upsample)
    } else {
        String::new()
    };
    let plus_one = if cfg.nms_plus_one { " (+1)" } else { "" };
    let suppression = match cfg.suppression {
        Suppression::Nms => format!("NMS {}{plus_one}", cfg.nms_iou),
        Suppression::SoftNms { sigma } => format!("soft-NMS sigma {sigma}{plus_one}"),
    };
    let score = match cfg.score {
        ProposalScore::Mean => "mean score".to_string(),
        ProposalScore::OuterInner { .. } => "outer-inner score".to_string(),
    };
    let smoothing = match (cfg.smoothing > 1, cfg.relative_smoothing > 0.0) {
        (true, true) => format!(
            ", CAS smoothed over max({} snippets, {} of the video)",
            cfg.smoothing, cfg.relative_smoothing
        ),
        (true, false) => format!(", CAS smoothed over {} snippets", cfg.smoothing),
        (false, true) => format!(
            ", CAS smoothed over {} of the video",
            cfg.relative_smoothing
        ),
        (false, false) => String::new(),
    };
    format!("thresholds {thresholds}{attention}{upsample}, {score}, {suppression}{smoothing}")
}

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
    /// Streams to train (both: two models, fused 0.5 / 0.5 at test time) [default: both].
    #[arg(long, value_enum)]
    pub streams: Option<StreamsArg>,
    /// Training iterations (the paper does not state it) [default: 5000]. With --resume: the
    /// new total, to extend the run (without it, the run's own total).
    #[arg(long)]
    pub iterations: Option<usize>,
    /// Videos per batch (the paper does not state it; 16 as in BaSNet/UM/CoLA) [default: 16].
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
    /// Background modelling, with any aggregator (saved in the run's config.json) [default:
    /// none].
    #[arg(long, value_enum)]
    pub background: Option<BackgroundArg>,
    /// The paper's procedure, whatever the benchmark and aggregator: T = 20, no erasing, the
    /// paper localization preset. Without it, MAAN on ActivityNet1.3 trains with the recipe
    /// measured to beat it there (T = 10, --erase 0.5, --localize long;
    /// docs/results/activitynet.md), and MAAN on THUMOS14 localizes with --localize oic;
    /// flags still override single settings.
    #[arg(long, conflicts_with_all = ["config", "resume"])]
    pub paper: bool,
    /// Temporal erasing (hide-and-seek): hide this fraction of each video's sampled snippets,
    /// one contiguous block at a random place, in [0, 1) (saved in the run's config.json)
    /// [default: 0, the paper's training].
    #[arg(long, value_name = "FRACTION")]
    pub erase: Option<f64>,
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

/// Loads `--data-dir`, or the built-in synthetic dataset (generated on first use).
pub fn load_data(
    data_dir: Option<&Path>,
    kind: Benchmark,
    load: &super::common::LoadArgs,
) -> Result<WtalDataset> {
    let dir = match data_dir {
        Some(d) => d.to_path_buf(),
        None => {
            let dir = super::builtin_data_dir(kind);
            ensure_synthetic(&dir, kind, "no --data-dir: ")?;
            dir
        }
    };
    load_dir(&dir, &load.options(Some(kind), None))
}

/// Loads the dataset in `dir`; an empty training split is an error.
fn load_dir(dir: &Path, opts: &dataset::LoadOptions) -> Result<WtalDataset> {
    let data = WtalDataset::load(dir, opts)
        .with_context(|| format!("loading the dataset in {}", dir.display()))?;
    if data.train.is_empty() {
        bail!("{}: the training split has no videos", dir.display());
    }
    Ok(data)
}

/// Generates the built-in synthetic dataset shaped like `kind` in `dir` unless it is there;
/// `why` starts the message saying so. A folder made by `maan synth` with other settings than
/// the built-in default (its `synth.json` differs, e.g. data from an older generator) is made
/// again; a folder with a `gt.json` and no `synth.json` is the user's and is left alone.
pub fn ensure_synthetic(dir: &Path, kind: Benchmark, why: &str) -> Result<()> {
    let cfg = SynthConfig {
        like: kind,
        ..SynthConfig::default()
    };
    ensure_synthetic_with(dir, &cfg, why)
}

/// [`ensure_synthetic`] for a given configuration.
pub fn ensure_synthetic_with(dir: &Path, cfg: &SynthConfig, why: &str) -> Result<()> {
    let recorded = std::fs::read_to_string(dir.join("synth.json")).ok();
    match (&recorded, dir.join("gt.json").is_file()) {
        (None, true) => return Ok(()),
        (Some(text), true)
            if serde_json::from_str::<SynthConfig>(text).ok().as_ref() == Some(cfg) =>
        {
            return Ok(())
        }
        (Some(_), _) => {
            eprintln!(
                "{why}the synthetic dataset in {} was made with other settings than the built-in \
                 {} regime; making it again...",
                dir.display(),
                cfg.regime
            );
            let features = dir.join("features");
            if features.is_dir() {
                std::fs::remove_dir_all(&features)
                    .with_context(|| format!("removing {}", features.display()))?;
            }
        }
        (None, false) => eprintln!(
            "{why}generating the synthetic {}-shaped dataset ({} regime) in {} (first use)...",
            cfg.like,
            cfg.regime,
            dir.display()
        ),
    }
    generate(dir, cfg)
        .with_context(|| format!("generating the synthetic dataset in {}", dir.display()))?;
    Ok(())
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
        .with_background(
            args.background
                .map_or(defaults.model.background, Background::from),
        );
    let streams = match args.streams {
        None => defaults.streams,
        Some(StreamsArg::Both) => Streams::Both,
        Some(StreamsArg::Rgb) => Streams::Rgb,
        Some(StreamsArg::Flow) => Streams::Flow,
    };
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
    let streams = args.streams.map(|s| match s {
        StreamsArg::Both => Streams::Both,
        StreamsArg::Rgb => Streams::Rgb,
        StreamsArg::Flow => Streams::Flow,
    });
    check(&mut out, "--streams", streams, saved.streams);
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
        args.background.map(Background::from),
        saved.model.background,
    );
    check(&mut out, "--erase", args.erase, saved.erase.0);
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
                describe_localize(&given),
                describe_localize(&base)
            ));
        }
    }
    Ok(out)
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
    if args.resume && checkpoint_dir(&run_dir, LAST).is_none() {
        bail!(
            "--resume: {} holds no checkpoint (expected {}/last/state.json)",
            run_dir.display(),
            run_dir.display()
        );
    }
    if !args.resume && checkpoint_dir(&run_dir, LAST).is_some() {
        bail!(
            "{} already holds a run; pass --resume to continue it, or choose another --run",
            run_dir.display()
        );
    }
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
        let dir = checkpoint_dir(&run_dir, LAST).expect("checked above");
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
    let run = if args.resume {
        RunDir::resume(&run_dir)
    } else {
        RunDir::create(&run_dir)
    }
    .map_err(|e| match e {
        ModelError::RunExists(_) => anyhow!(
            "{} already holds a run; pass --resume to continue it, or choose another --run",
            run_dir.display()
        ),
        e => e.into(),
    })?;
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
        let c = trainer.config();
        let localize = c.localization(data.kind);
        eprintln!("evaluation localization: {}", describe_localize(&localize));
        if !args.resume && args.config.is_none() && !args.paper {
            let model = StreamModelConfig::new().with_aggregator(c.model.aggregator);
            if TrainConfig::recommended(model.clone(), data.kind) != TrainConfig::new(model) {
                eprintln!(
                    "{} on {}: the recommended recipe (T = {}, erasing {}, localization {}); \
                     --paper for the paper's procedure",
                    c.model.aggregator.paper_name(),
                    data.kind,
                    c.num_segments,
                    c.erase.0,
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

/// Prints the mAP table of an evaluation: the mAP at each tIoU, the averages papers report
/// that apply to the tIoU set (`maan_eval::eval::reported_averages`: avg 0.1:0.5, 0.1:0.7
/// and 0.1:0.9 on THUMOS14, 0.5:0.95 on ActivityNet1.3; the plain average otherwise) and the
/// classification mAP.
pub fn print_metrics(m: &EvalMetrics) {
    let mut head: Vec<String> = m
        .tiou_thresholds
        .iter()
        .map(|t| format!("{t:>6.2}"))
        .collect();
    let mut vals: Vec<String> = m
        .map
        .iter()
        .map(|v| format!("{:>6.2}", v * 100.0))
        .collect();
    let averages = maan_eval::eval::reported_averages(&m.tiou_thresholds, &m.map);
    if averages.is_empty() {
        head.push(format!("{:>9}", "avg"));
        vals.push(format!("{:>9.2}", m.average_map * 100.0));
    }
    for a in &averages {
        let label = format!("avg{}", a.label());
        let w = label.len().max(6) + 2;
        head.push(format!("{label:>w$}"));
        vals.push(format!("{:>w$.2}", a.map * 100.0));
    }
    println!("tIoU    {}   cls-mAP", head.join(""));
    println!(
        "mAP (%) {}  {:>8.2}",
        vals.join(""),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The built-in data is made once, kept while its settings match, made again when they
    /// differ (stale data from another generator), and a user's folder without `synth.json`
    /// is never touched.
    #[test]
    fn builtin_data_is_regenerated_only_when_its_settings_differ() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("thumos14");
        let cfg = SynthConfig {
            dim: 4,
            num_videos: Some(2),
            ..SynthConfig::default()
        };
        ensure_synthetic_with(&dir, &cfg, "").unwrap();
        let marker = dir.join("features").join("marker");
        std::fs::write(&marker, "x").unwrap();
        ensure_synthetic_with(&dir, &cfg, "").unwrap();
        assert!(marker.is_file(), "regenerated although the settings match");
        let other = SynthConfig {
            seed: 1,
            ..cfg.clone()
        };
        ensure_synthetic_with(&dir, &other, "").unwrap();
        assert!(
            !marker.is_file(),
            "not regenerated although the settings differ"
        );
        let recorded: SynthConfig =
            serde_json::from_str(&std::fs::read_to_string(dir.join("synth.json")).unwrap())
                .unwrap();
        assert_eq!(recorded, other);
        // A user's dataset: gt.json, no synth.json.
        let user = tmp.path().join("user");
        std::fs::create_dir_all(&user).unwrap();
        std::fs::write(user.join("gt.json"), "{}").unwrap();
        ensure_synthetic_with(&user, &cfg, "").unwrap();
        assert_eq!(std::fs::read_dir(&user).unwrap().count(), 1);
    }
}
