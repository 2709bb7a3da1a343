//! `maan synth`: write a synthetic layout-A dataset shaped like THUMOS14 or ActivityNet1.3.

use std::path::PathBuf;

use std::time::Instant;

use dataset::synth::{
    generate, Regime, SignalOverrideError, SignalOverrides, SynthConfig, DEFAULT_DIM,
};
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
        Some(path) => SynthConfig::from_file(path)?,
        None => SignalOverrides {
            noise_correlation: args.noise_correlation,
            dominance: args.dominance,
            specificity: args.specificity,
            scale: args.scale,
        }
        .apply(base, args.regime)
        .map_err(|e| {
            use SignalOverrideError as E;
            match e {
                E::NoiseCorrelation(v) => anyhow::anyhow!("--noise-correlation must be in [0, 1), got {v}"),
                E::Dominance(v) => anyhow::anyhow!("--dominance must be finite and >= 0, got {v}"),
                E::Specificity(v) => anyhow::anyhow!("--specificity must be in [0, 1], got {v}"),
                E::Scale(v) => anyhow::anyhow!("--scale must be finite and > 0, got {v}"),
                E::NotI3d => anyhow::anyhow!(
                    "--dominance, --specificity and --scale apply to the I3D-like regimes, not legacy"
                ),
            }
        })?,
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
