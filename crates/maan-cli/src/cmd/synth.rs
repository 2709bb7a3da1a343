//! `maan synth`: write a synthetic layout-A dataset shaped like THUMOS14 or ActivityNet1.3.

use std::path::PathBuf;

use anyhow::Context;
use std::time::Instant;

use dataset::synth::{generate, Regime, Signal, SynthConfig, DEFAULT_DIM};
use dataset::{Benchmark, NpyDtype, SnippetTiming};

/// Arguments of `maan synth`.
#[derive(Debug, clap::Args)]
pub struct SynthArgs {
    /// Output directory (created; files in it are overwritten).
    #[arg(long)]
    pub out: PathBuf,
    /// Benchmark to imitate: thumos14 (the real annotations: same videos, durations, classes,
    /// instances, splits) or activitynet (videos drawn from ActivityNet1.3's statistics).
    /// (`--like` is an older name of this flag.)
    #[arg(
        long = "dataset",
        alias = "like",
        default_value_t,
        value_name = "thumos14|activitynet"
    )]
    pub like: Benchmark,
    /// Feature dimension per stream.
    #[arg(long, default_value_t = DEFAULT_DIM)]
    pub dim: usize,
    /// Random seed; the output is a function of all the arguments.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Element type of the npy files: f32, f16 or f64.
    #[arg(long, default_value = "f32")]
    pub dtype: NpyDtype,
    /// Number of videos: for activitynet, all videos (2/3 train, 1/3 test); for thumos14, the
    /// first N of each split. [default: activitynet 1000, thumos14 all 200 + 210]
    #[arg(long)]
    pub videos: Option<usize>,
    /// Frames per feature snippet.
    #[arg(long, default_value_t = 16.0)]
    pub frames_per_snippet: f64,
    /// Frame rate of the features.
    #[arg(long, default_value_t = 25.0)]
    pub fps: f64,
    /// Regime of the signal: realistic (I3D-like, the default), peaked (the paper's premise,
    /// pronounced), uniform (no most discriminative part), clutter (much background motion)
    /// or legacy (the first, Gaussian generator).
    #[arg(long, default_value = "realistic")]
    pub regime: Regime,
    /// Correlation of the background noise between consecutive snippets (AR(1), in [0, 1))
    /// [default: the regime's: 0.9 within a shot for the I3D-like regimes, 0 for legacy].
    #[arg(long)]
    pub noise_correlation: Option<f32>,
    /// How many times stronger the most discriminative part of an instance is than the rest
    /// (I3D-like regimes) [default: the regime's].
    #[arg(long)]
    pub dominance: Option<f32>,
    /// How class-specific the rest of an instance is, in [0, 1] (I3D-like regimes) [default:
    /// the regime's].
    #[arg(long)]
    pub specificity: Option<f32>,
    /// Magnitude of the features: a multiplier of the I3D-like regimes' output (see the
    /// dataset crate's docs, "Feature magnitude") [default: the regime's, 10].
    #[arg(long)]
    pub scale: Option<f32>,
    /// Generate from this configuration file instead of the flags: a dataset's `synth.json`
    /// (every parameter of the signal model, editable), so that a dataset can be remade, or
    /// remade with any parameter changed. Only `--out` may be given with it.
    #[arg(
        long,
        value_name = "SYNTH.json",
        conflicts_with_all = [
            "like", "dim", "seed", "dtype", "videos", "frames_per_snippet", "fps", "regime",
            "noise_correlation", "dominance", "specificity", "scale",
        ]
    )]
    pub config: Option<PathBuf>,
}

/// Reads a `synth.json` written by `maan synth` (or edited from one).
pub fn read_config(path: &std::path::Path) -> anyhow::Result<SynthConfig> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "cannot read the synthetic-data configuration {}",
            path.display()
        )
    })?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a synthetic-data configuration (the synth.json that `maan synth` writes)",
            path.display()
        )
    })
}

/// The configuration of `maan synth`'s signal options over `base`.
pub fn signal_config(
    base: SynthConfig,
    regime: Regime,
    noise_correlation: Option<f32>,
    dominance: Option<f32>,
    specificity: Option<f32>,
    scale: Option<f32>,
) -> anyhow::Result<SynthConfig> {
    if let Some(phi) = noise_correlation.filter(|phi| !(0.0..1.0).contains(phi)) {
        anyhow::bail!("--noise-correlation must be in [0, 1), got {phi}");
    }
    if let Some(d) = dominance.filter(|d| !(d.is_finite() && *d >= 0.0)) {
        anyhow::bail!("--dominance must be finite and >= 0, got {d}");
    }
    if let Some(sp) = specificity.filter(|sp| !(0.0..=1.0).contains(sp)) {
        anyhow::bail!("--specificity must be in [0, 1], got {sp}");
    }
    if let Some(k) = scale.filter(|k| !(k.is_finite() && *k > 0.0)) {
        anyhow::bail!("--scale must be finite and > 0, got {k}");
    }
    let mut cfg = base.with_regime(regime);
    match &mut cfg.signal {
        Signal::Legacy(p) => {
            if dominance.is_some() || specificity.is_some() || scale.is_some() {
                anyhow::bail!(
                    "--dominance, --specificity and --scale apply to the I3D-like regimes, not \
                     legacy"
                );
            }
            if let Some(phi) = noise_correlation {
                p.noise_correlation = phi;
            }
        }
        Signal::I3d(p) => {
            if let Some(phi) = noise_correlation {
                p.noise_correlation = phi;
            }
            if let Some(d) = dominance {
                *p = p.with_dominance(d);
            }
            if let Some(s) = specificity {
                p.rest_specificity = s;
            }
            if let Some(k) = scale {
                p.scale = k;
            }
        }
    }
    Ok(cfg)
}

/// Runs `maan synth`.
pub fn run(args: SynthArgs) -> anyhow::Result<()> {
    if args.dim == 0 {
        anyhow::bail!("--dim must be at least 1");
    }
    let base = SynthConfig {
        like: args.like,
        dim: args.dim,
        seed: args.seed,
        dtype: args.dtype,
        timing: SnippetTiming {
            frames_per_snippet: args.frames_per_snippet,
            fps: args.fps,
        },
        num_videos: args.videos,
        ..SynthConfig::default()
    };
    let cfg = match &args.config {
        Some(path) => read_config(path)?,
        None => signal_config(
            base,
            args.regime,
            args.noise_correlation,
            args.dominance,
            args.specificity,
            args.scale,
        )?,
    };
    let start = Instant::now();
    let s = generate(&args.out, &cfg).map_err(|e| match &args.config {
        Some(path) => anyhow::Error::new(e).context(format!("in {}", path.display())),
        None => e.into(),
    })?;
    let secs = start.elapsed().as_secs_f64();
    println!("wrote     {}", s.out.display());
    println!(
        "like      {}   regime {}   seed {}   dim {}   dtype {}",
        cfg.like, cfg.regime, cfg.seed, s.dim, cfg.dtype
    );
    println!("videos    {} train, {} test", s.videos.0, s.videos.1);
    println!(
        "classes   {}   instances {}   snippets {} per stream",
        s.classes, s.instances, s.snippets
    );
    println!(
        "size      {:.1} MB   time {secs:.1} s",
        s.bytes as f64 / 1e6
    );
    println!("check it  maan inspect --data-dir {}", s.out.display());
    Ok(())
}
