//! What the generator makes: [`SynthConfig`] (benchmark, size, seed, regime and every
//! parameter of the signal), the named regimes ([`Regime`]), the legacy model's parameters
//! ([`SynthParams`]), and changes to a regime's signal ([`SignalOverrides`], checked here).

use std::path::Path;

use maan_eval::{Benchmark, SnippetTiming};

use super::i3d::I3dParams;
use crate::error::DatasetError;
use crate::npy::NpyDtype;

/// Amplitudes of one stream's patterns, in units of the background noise's standard deviation
/// along the pattern's (unit) direction.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamParams {
    /// Class-specific core pattern `m_c`, on the short core of each instance.
    pub core: f32,
    /// Class-specific weak pattern `w_c`, on the rest of each instance.
    pub weak: f32,
    /// Class-agnostic actionness pattern `a`, on every instance snippet.
    pub actionness: f32,
    /// Class context `u_c`, on every snippet of a video containing class `c` (background too).
    pub context: f32,
    /// Background distractor patterns `d_j`, on distractor events.
    pub distractor: f32,
    /// Actionness `a` added on distractor events (class-agnostic motion without an action).
    pub distractor_actionness: f32,
}

/// Parameters of the generative model (see the crate documentation).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SynthParams {
    /// Standard deviation of the Gaussian background noise (per coordinate).
    pub noise_std: f32,
    /// Correlation `phi` of the background noise between consecutive snippets: an AR(1)
    /// process `eps_t = phi eps_{t-1} + sqrt(1 - phi^2) xi_t` with the same variance. Real I3D
    /// features change slowly from one 0.64 s snippet to the next; 0 (the default) gives
    /// i.i.d. noise. Measured once (demo, 3000 iterations): `phi = 0.9` lowered MAAN's
    /// classification mAP from 99% to 48% and mAP@0.1 from 46% to 30% — a harder benchmark
    /// whose calibration is left open.
    #[serde(default = "default_noise_correlation")]
    pub noise_correlation: f32,
    /// Fraction of each instance (in snippets, at least one) that is its discriminative core.
    pub core_fraction: f64,
    /// Cosine similarity between a class's weak pattern and its core pattern.
    pub weak_core_similarity: f32,
    /// Number of class-agnostic background distractor patterns.
    pub num_distractors: usize,
    /// Distractor events per 100 snippets of video (on average).
    pub distractor_rate: f64,
    /// Shortest and longest distractor event, in snippets.
    pub distractor_len: (usize, usize),
    /// Per-snippet relative jitter of every pattern amplitude (standard deviation).
    pub amplitude_jitter: f32,
    /// RGB stream amplitudes.
    pub rgb: StreamParams,
    /// Flow stream amplitudes.
    pub flow: StreamParams,
}

fn default_noise_correlation() -> f32 {
    0.0
}

impl Default for SynthParams {
    fn default() -> Self {
        SynthParams {
            noise_std: 1.0,
            noise_correlation: default_noise_correlation(),
            core_fraction: 0.25,
            weak_core_similarity: 0.5,
            num_distractors: 4,
            distractor_rate: 2.0,
            distractor_len: (2, 12),
            amplitude_jitter: 0.2,
            rgb: StreamParams {
                core: 4.0,
                weak: 1.5,
                actionness: 1.0,
                context: 1.0,
                distractor: 2.5,
                distractor_actionness: 0.7,
            },
            flow: StreamParams {
                core: 4.0,
                weak: 1.8,
                actionness: 1.8,
                context: 0.3,
                distractor: 2.0,
                distractor_actionness: 1.2,
            },
        }
    }
}

/// A named regime of the synthetic benchmark: a signal model and its parameters (see the
/// crate docs, "Regimes").
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Regime {
    /// I3D-like features at the strengths chosen for realism (the default): a most
    /// discriminative part three times as strong as a moderately class-specific remainder,
    /// shots and scenes, some background motion.
    #[default]
    Realistic,
    /// The paper's premise, pronounced: a dominant most discriminative part (6×) and a
    /// remainder that is almost entirely class-specific.
    Peaked,
    /// No most discriminative part: class evidence spread evenly over each instance.
    Uniform,
    /// `realistic` with four times the background motion, as action-like as the actions.
    Clutter,
    /// The first generator (Gaussian, zero-mean, independent from snippet to snippet), kept so
    /// that numbers measured with it stay reproducible.
    Legacy,
}

impl Regime {
    /// Every regime, in table order.
    pub const ALL: [Regime; 5] = [
        Regime::Realistic,
        Regime::Peaked,
        Regime::Uniform,
        Regime::Clutter,
        Regime::Legacy,
    ];

    /// The name used on the command line and in `synth.json`.
    pub fn name(self) -> &'static str {
        match self {
            Regime::Realistic => "realistic",
            Regime::Peaked => "peaked",
            Regime::Uniform => "uniform",
            Regime::Clutter => "clutter",
            Regime::Legacy => "legacy",
        }
    }

    /// The regime's signal model and parameters.
    pub fn signal(self) -> Signal {
        let base = I3dParams::default();
        match self {
            Regime::Realistic => Signal::I3d(base),
            Regime::Peaked => Signal::I3d(I3dParams {
                peak: 6.0,
                rest: 1.0,
                rest_specificity: 0.9,
                ..base
            }),
            Regime::Uniform => Signal::I3d(I3dParams {
                peak: 0.0,
                rest: 2.5,
                rest_specificity: 0.9,
                ..base
            }),
            Regime::Clutter => Signal::I3d(I3dParams {
                distractor_rate: 8.0,
                distractor: 2.5,
                distractor_actionness: 2.7,
                ..base
            }),
            Regime::Legacy => Signal::Legacy(SynthParams::default()),
        }
    }
}

impl std::fmt::Display for Regime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Regime {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim().to_ascii_lowercase();
        Regime::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown regime {s:?} (expected one of {})",
                    Regime::ALL.map(Regime::name).join(", ")
                )
            })
    }
}

/// The signal model of the features and its parameters.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "model", rename_all = "kebab-case")]
pub enum Signal {
    /// I3D-like features ([`I3dParams`]).
    I3d(I3dParams),
    /// The first generator ([`SynthParams`]).
    Legacy(SynthParams),
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SynthConfig {
    /// The benchmark imitated.
    pub like: Benchmark,
    /// Feature dimension per stream.
    pub dim: usize,
    /// Seed: the output is a function of the whole configuration.
    pub seed: u64,
    /// Element type of the npy files.
    pub dtype: NpyDtype,
    /// Snippet timing used to turn durations into snippet counts.
    pub timing: SnippetTiming,
    /// Videos for [`Benchmark::ActivityNet13`] (two thirds train, one third test); for
    /// [`Benchmark::Thumos14`], `Some(n)` keeps only the first `n` videos of each split.
    pub num_videos: Option<usize>,
    /// The regime the signal comes from (a name for tables; `signal` holds every parameter,
    /// possibly changed from the regime's).
    pub regime: Regime,
    /// The signal model and all its parameters.
    pub signal: Signal,
    /// For [`Benchmark::ActivityNet13`]: the fraction of each video that its instances
    /// cover together, drawn uniformly in `[min, max)` per video (default `(0.3, 0.9)`, the
    /// range before this field existed). Not used for THUMOS14, whose instances are the real
    /// annotations.
    #[serde(default = "default_coverage")]
    pub coverage: (f64, f64),
    /// For [`Benchmark::ActivityNet13`]: each video's class is drawn among the first `n`
    /// of the benchmark's 200 classes (`None`, the default: all of them). The class list
    /// stays the benchmark's; fewer classes give each one more training videos (ActivityNet1.3
    /// has about 50 per class, the default 1,000 videos about 3).
    #[serde(default)]
    pub activitynet_classes: Option<usize>,
}

fn default_coverage() -> (f64, f64) {
    (0.3, 0.9)
}

impl SynthConfig {
    /// The default configuration with the given regime's signal.
    pub fn with_regime(self, regime: Regime) -> Self {
        SynthConfig {
            regime,
            signal: regime.signal(),
            ..self
        }
    }
}

/// Default feature dimension per stream: THUMOS14-like data at 256 dims is 133k snippets x 2
/// streams x 256 x 4 bytes = 272 MB.
pub const DEFAULT_DIM: usize = 256;

/// Default number of ActivityNet-like videos.
pub const DEFAULT_ACTIVITYNET_VIDEOS: usize = 1000;

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            like: Benchmark::Thumos14,
            dim: DEFAULT_DIM,
            seed: 0,
            dtype: NpyDtype::F32,
            timing: SnippetTiming::default(),
            num_videos: None,
            regime: Regime::default(),
            signal: Regime::default().signal(),
            coverage: default_coverage(),
            activitynet_classes: None,
        }
    }
}

impl SynthConfig {
    /// Reads a `synth.json` (written by [`super::generate`], or edited from one); the error
    /// names the file.
    pub fn from_file(path: &Path) -> Result<SynthConfig, DatasetError> {
        let text = std::fs::read_to_string(path).map_err(|e| DatasetError::io(path, e))?;
        serde_json::from_str(&text).map_err(|e| {
            DatasetError::Config(format!(
                "{} is not a synthetic-data configuration (the synth.json that `maan synth` \
                 writes): {e}",
                path.display()
            ))
        })
    }
}

/// Changes to the signal of a regime's configuration; `None` keeps the regime's value.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SignalOverrides {
    /// Correlation of the background noise between consecutive snippets, in `[0, 1)`.
    pub noise_correlation: Option<f32>,
    /// How many times stronger the most discriminative part is than the rest, finite and
    /// `>= 0` (I3D-like regimes).
    pub dominance: Option<f32>,
    /// How class-specific the rest of an instance is, in `[0, 1]` (I3D-like regimes).
    pub specificity: Option<f32>,
    /// Magnitude of the features, finite and `> 0` (I3D-like regimes).
    pub scale: Option<f32>,
}

/// A signal override out of its range, or one the regime does not have.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum SignalOverrideError {
    /// A noise correlation outside `[0, 1)`.
    #[error("the noise correlation must be in [0, 1), got {0}")]
    NoiseCorrelation(f32),
    /// A negative or non-finite dominance.
    #[error("the dominance must be finite and >= 0, got {0}")]
    Dominance(f32),
    /// A specificity outside `[0, 1]`.
    #[error("the specificity must be in [0, 1], got {0}")]
    Specificity(f32),
    /// A scale that is not finite and positive.
    #[error("the scale must be finite and > 0, got {0}")]
    Scale(f32),
    /// Dominance, specificity or scale with the legacy regime.
    #[error("dominance, specificity and scale apply to the I3D-like regimes, not legacy")]
    NotI3d,
}

impl SignalOverrides {
    /// `base` with the regime `regime`'s signal and these changes.
    ///
    /// # Errors
    /// A value out of its range, or dominance, specificity or scale with the legacy regime.
    pub fn apply(
        &self,
        base: SynthConfig,
        regime: Regime,
    ) -> Result<SynthConfig, SignalOverrideError> {
        use SignalOverrideError as E;
        if let Some(phi) = self
            .noise_correlation
            .filter(|phi| !(0.0..1.0).contains(phi))
        {
            return Err(E::NoiseCorrelation(phi));
        }
        if let Some(d) = self.dominance.filter(|d| !(d.is_finite() && *d >= 0.0)) {
            return Err(E::Dominance(d));
        }
        if let Some(sp) = self.specificity.filter(|sp| !(0.0..=1.0).contains(sp)) {
            return Err(E::Specificity(sp));
        }
        if let Some(k) = self.scale.filter(|k| !(k.is_finite() && *k > 0.0)) {
            return Err(E::Scale(k));
        }
        let mut cfg = base.with_regime(regime);
        match &mut cfg.signal {
            Signal::Legacy(p) => {
                if self.dominance.is_some() || self.specificity.is_some() || self.scale.is_some() {
                    return Err(E::NotI3d);
                }
                if let Some(phi) = self.noise_correlation {
                    p.noise_correlation = phi;
                }
            }
            Signal::I3d(p) => {
                if let Some(phi) = self.noise_correlation {
                    p.noise_correlation = phi;
                }
                if let Some(d) = self.dominance {
                    *p = p.with_dominance(d);
                }
                if let Some(s) = self.specificity {
                    p.rest_specificity = s;
                }
                if let Some(k) = self.scale {
                    p.scale = k;
                }
            }
        }
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each override changes its parameter of the regime's signal; values out of range and
    /// I3D-only overrides on the legacy regime are errors naming the setting.
    #[test]
    fn signal_overrides_change_the_regime_and_check_ranges() {
        let o = SignalOverrides {
            noise_correlation: Some(0.5),
            specificity: Some(0.25),
            scale: Some(3.0),
            ..SignalOverrides::default()
        };
        let cfg = o.apply(SynthConfig::default(), Regime::Peaked).unwrap();
        let Signal::I3d(p) = &cfg.signal else {
            panic!("peaked is I3D-like")
        };
        assert_eq!(
            (p.noise_correlation, p.rest_specificity, p.scale),
            (0.5, 0.25, 3.0)
        );
        assert_eq!(cfg.regime, Regime::Peaked);
        let none = SignalOverrides::default();
        assert_eq!(
            none.apply(SynthConfig::default(), Regime::Uniform).unwrap(),
            SynthConfig::default().with_regime(Regime::Uniform)
        );
        use SignalOverrideError as E;
        for (bad, want) in [
            (
                SignalOverrides {
                    noise_correlation: Some(1.0),
                    ..none
                },
                E::NoiseCorrelation(1.0),
            ),
            (
                SignalOverrides {
                    dominance: Some(-1.0),
                    ..none
                },
                E::Dominance(-1.0),
            ),
            (
                SignalOverrides {
                    specificity: Some(2.0),
                    ..none
                },
                E::Specificity(2.0),
            ),
            (
                SignalOverrides {
                    scale: Some(0.0),
                    ..none
                },
                E::Scale(0.0),
            ),
        ] {
            assert_eq!(
                bad.apply(SynthConfig::default(), Regime::Realistic),
                Err(want)
            );
        }
        let legacy = SignalOverrides {
            dominance: Some(2.0),
            ..none
        };
        assert_eq!(
            legacy.apply(SynthConfig::default(), Regime::Legacy),
            Err(E::NotI3d)
        );
    }
}
