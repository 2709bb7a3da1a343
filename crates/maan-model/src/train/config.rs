//! A run's configuration ([`TrainConfig`]), what it records about its data ([`RunData`]), and
//! [`fit_config`], which completes a configuration from a dataset.

use std::path::PathBuf;

use burn::config::Config;
use dataset::{Benchmark, Layout, Sampler, SnippetTiming, Video, WtalDataset};
use maan_eval::localize::LocalizeConfig;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

use crate::error::{ModelError, Result as ModelResult};
use crate::infer::StreamKind;
use crate::model::{Background, StreamModelConfig};

/// Which streams to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Streams {
    /// RGB and flow, two models fused 0.5 / 0.5 at test time (the paper).
    #[default]
    Both,
    /// RGB only (also the mode for single-stream features).
    Rgb,
    /// Flow only.
    Flow,
}

impl std::fmt::Display for Streams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Streams::Both => "both",
            Streams::Rgb => "rgb",
            Streams::Flow => "flow",
        })
    }
}

impl std::str::FromStr for Streams {
    type Err = String;
    /// `both`, `rgb` or `flow` (any case).
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "both" => Ok(Streams::Both),
            "rgb" => Ok(Streams::Rgb),
            "flow" => Ok(Streams::Flow),
            other => Err(format!(
                "unknown streams {other:?} (expected both, rgb or flow)"
            )),
        }
    }
}

impl Streams {
    /// The streams, RGB first.
    pub fn kinds(&self) -> Vec<StreamKind> {
        match self {
            Streams::Both => vec![StreamKind::Rgb, StreamKind::Flow],
            Streams::Rgb => vec![StreamKind::Rgb],
            Streams::Flow => vec![StreamKind::Flow],
        }
    }
}

/// Configuration of a training run. Defaults are the paper's where it gives one.
#[derive(Config, Debug, PartialEq)]
pub struct TrainConfig {
    /// The model of each stream (its `feature_dim` and `num_classes` are set from the data).
    pub model: StreamModelConfig,
    /// Streams to train.
    #[config(default = "Streams::Both")]
    pub streams: Streams,
    /// Number of training iterations (one Adam step per stream each). The paper does not
    /// state it.
    #[config(default = 5000)]
    pub iterations: usize,
    /// Videos per batch. The paper does not state it; 16 is the batch size of the public
    /// WTAL code that follows STPN (BaSNet, UM, CoLA).
    #[config(default = 16)]
    pub batch_size: usize,
    /// Snippets sampled per video while training (the paper's T = 20).
    #[config(default = 20)]
    pub num_segments: usize,
    /// Adam learning rate (paper: 5e-4).
    #[config(default = 5e-4)]
    pub learning_rate: f64,
    /// Seed of the initialisation, the sampling and the dropout masks.
    #[config(default = 0)]
    pub seed: u64,
    /// Evaluate on the test split every this many iterations (0: only at the end).
    #[config(default = 500)]
    pub eval_every: usize,
    /// Save the `last` checkpoint every this many iterations (0: only at the end).
    #[config(default = 500)]
    pub checkpoint_every: usize,
    /// Read the loss back and report it every this many iterations (each read synchronises
    /// the device).
    #[config(default = 10)]
    pub log_every: usize,
    /// Weight of the RGB stream in the two-stream fusion (paper: 0.5).
    #[config(default = 0.5)]
    pub rgb_weight: f64,
    /// Localization settings of the evaluations during training (and the default of `maan
    /// test` and `maan predict` for this run). [`fit_config`] always sets it, so a run's
    /// `config.json` names the localization it used; `None` only before that (the
    /// benchmark's paper preset, [`TrainConfig::localization`]).
    pub localize: Option<LocalizeConfig>,
    /// The data the run was trained on (set by [`fit_config`]; `None` in runs written before
    /// runs recorded it): what resuming, testing and predicting need without the dataset.
    pub data: Option<RunData>,
    /// Temporal erasing while training (hide-and-seek, [`dataset::Sampler::with_erasing`]):
    /// the fraction of each video's `T` sampled snippets hidden as one contiguous block.
    /// 0 (the default, and what runs written before the option read as) is the paper's
    /// training, bit for bit.
    #[config(default = "EraseFraction(0.0)")]
    pub erase: EraseFraction,
    /// The probability that a visit of a video is erased ([`TrainConfig::erase`];
    /// [`dataset::Sampler::with_erase_probability`]). 1 (the default, and what runs written
    /// before the option read as) erases every visit.
    #[config(default = "EraseProbability(1.0)")]
    pub erase_probability: EraseProbability,
    /// Attention-guided erasing while training (adversarial erasing,
    /// [`crate::StreamModel::attention_erasing_mask`]): in each training sample (after
    /// [`TrainConfig::erase`]'s block is hidden), the fraction of its snippets that the
    /// stream's own attention rates highest is hidden too, so that the loss must be met by
    /// the snippets the attention has not yet picked. 0 (the default, and what runs written
    /// before the option read as) hides nothing: the paper's training, bit for bit.
    #[config(default = "EraseFraction(0.0)")]
    pub attention_erase: EraseFraction,
}

/// Sampled snippets per video of [`TrainConfig::recommended`] for MAAN on ActivityNet1.3
/// (the paper: 20). Round 5 (docs/results/activitynet.md): 12, with
/// [`ACTIVITYNET_MAAN_ATTENTION_ERASE`]; rounds 1-4 used 10.
pub const ACTIVITYNET_MAAN_SEGMENTS: usize = 12;

/// Attention-erased fraction ([`TrainConfig::attention_erase`]) of
/// [`TrainConfig::recommended`] for MAAN on ActivityNet1.3 (the paper: 0): 3 of the 12
/// sampled snippets, those the attention rates highest, hidden at every step. Added in round 5
/// (docs/results/activitynet.md), in place of rounds 1-4's random block (`--erase 0.5`).
pub const ACTIVITYNET_MAAN_ATTENTION_ERASE: f64 = 0.25;

/// Videos per batch of [`TrainConfig::recommended`] for MAAN and STPN on ActivityNet1.3 (16
/// elsewhere; the paper does not state it). Added in round 4 (docs/results/activitynet.md):
/// on the ActivityNet-shaped family it raised both models by about 2 points of average mAP
/// at 3,000 iterations, for twice the work per iteration.
pub const ACTIVITYNET_BATCH_SIZE: usize = 32;

/// Background modelling of [`TrainConfig::recommended`] for MAAN on ActivityNet1.3: BaS-Net's
/// background class (the paper: none). Added in round 3 (docs/results/activitynet.md).
pub const ACTIVITYNET_MAAN_BACKGROUND: Background = Background::Bas;

/// The fraction of each sampled video that training hides ([`TrainConfig::erase`]), in
/// `[0, 1)`; a number in `config.json`, read as 0 when absent.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
#[serde(transparent)]
pub struct EraseFraction(pub f64);

impl<'de> Deserialize<'de> for EraseFraction {
    /// A number, or `null`/absent for 0 (Burn's `Config` derive gives a missing field to
    /// `deserialize_option`, see [`crate::Background`]).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(EraseFraction(
            Option::<f64>::deserialize(deserializer)?.unwrap_or(0.0),
        ))
    }
}

/// The probability that training erases a visit of a video ([`TrainConfig::erase_probability`]),
/// in `(0, 1]`; a number in `config.json`, read as 1 when absent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(transparent)]
pub struct EraseProbability(pub f64);

impl Default for EraseProbability {
    fn default() -> Self {
        EraseProbability(1.0)
    }
}

impl<'de> Deserialize<'de> for EraseProbability {
    /// A number, or `null`/absent for 1 (see [`EraseFraction`]).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(EraseProbability(
            Option::<f64>::deserialize(deserializer)?.unwrap_or(1.0),
        ))
    }
}

/// What a run records about its training data, so that its directory alone is enough to
/// resume it, test it and apply it to new videos.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunData {
    /// The dataset folder (absolute when it could be resolved).
    pub dir: PathBuf,
    /// The benchmark it follows.
    pub kind: Benchmark,
    /// Its layout.
    pub layout: Layout,
    /// RGB feature dimension (the RGB model's input).
    pub rgb_dim: usize,
    /// Flow feature dimension (the flow model's input; 0 without flow).
    pub flow_dim: usize,
    /// Class names; class index = position (the classifier's outputs).
    pub classes: Vec<String>,
    /// Snippet timing of the features (detections' seconds).
    pub timing: SnippetTiming,
}

impl RunData {
    /// What `data` gives a run.
    pub fn of(data: &WtalDataset) -> Self {
        RunData {
            dir: data.dir.canonicalize().unwrap_or_else(|_| data.dir.clone()),
            kind: data.kind,
            layout: data.layout,
            rgb_dim: data.rgb_dim(),
            flow_dim: data.flow_dim(),
            classes: data.classes.names().to_vec(),
            timing: data.timing,
        }
    }

    /// Checks that `data` fits models trained on this run's data: same feature dimensions of
    /// the streams in `streams` and same classes.
    pub fn check_fits(&self, data: &WtalDataset, streams: Streams) -> ModelResult<()> {
        let mut problems = Vec::new();
        for kind in streams.kinds() {
            let (model, given) = match kind {
                StreamKind::Rgb => (self.rgb_dim, data.rgb_dim()),
                StreamKind::Flow => (self.flow_dim, data.flow_dim()),
            };
            if model != given {
                problems.push(format!(
                    "{} features of {given} dims where the model takes {model}",
                    kind.name()
                ));
            }
        }
        if data.classes.names() != self.classes.as_slice() {
            problems.push(format!(
                "{} classes ({}...) where the model was trained on {} ({}...)",
                data.num_classes(),
                data.classes.names().first().map_or("", String::as_str),
                self.classes.len(),
                self.classes.first().map_or("", String::as_str)
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ModelError::Config(format!(
                "the dataset in {} does not fit the run: {}",
                data.dir.display(),
                problems.join("; ")
            )))
        }
    }

    /// The feature dimension of a stream.
    pub fn dim(&self, kind: StreamKind) -> usize {
        stream_dim(kind, self.rgb_dim, self.flow_dim)
    }
}

impl TrainConfig {
    /// The recommended recipe for `model`'s aggregator on `kind`, what `maan train` starts
    /// from: the paper's procedure ([`TrainConfig::new`]) except where a recipe measured on
    /// this project's benchmark-shaped data beats it on seeds it was not chosen on. MAAN on
    /// ActivityNet1.3: batch [`ACTIVITYNET_BATCH_SIZE`], [`ACTIVITYNET_MAAN_SEGMENTS`]
    /// snippets, attention erasing [`ACTIVITYNET_MAAN_ATTENTION_ERASE`], background
    /// [`ACTIVITYNET_MAAN_BACKGROUND`], the `long` localization
    /// ([`LocalizeConfig::activitynet_long`]); STPN there: batch [`ACTIVITYNET_BATCH_SIZE`] and
    /// `long`; MAAN, STPN and Dropout on THUMOS14: the `oic` localization
    /// ([`LocalizeConfig::thumos14_oic`]). Which, and why: `docs/recipe.md`, the one page
    /// that explains the recipe. The localization is stored in the run (`localize`), so
    /// `maan test` uses it too.
    pub fn recommended(model: StreamModelConfig, kind: Benchmark) -> TrainConfig {
        let paper = TrainConfig::new(model);
        match (kind, paper.model.aggregator) {
            (Benchmark::ActivityNet13, maa_core::Aggregator::Maa) => TrainConfig {
                model: paper
                    .model
                    .clone()
                    .with_background(ACTIVITYNET_MAAN_BACKGROUND),
                batch_size: ACTIVITYNET_BATCH_SIZE,
                num_segments: ACTIVITYNET_MAAN_SEGMENTS,
                attention_erase: EraseFraction(ACTIVITYNET_MAAN_ATTENTION_ERASE),
                localize: Some(LocalizeConfig::activitynet_long()),
                ..paper
            },
            (Benchmark::ActivityNet13, maa_core::Aggregator::WeightedSum) => TrainConfig {
                batch_size: ACTIVITYNET_BATCH_SIZE,
                localize: Some(LocalizeConfig::activitynet_long()),
                ..paper
            },
            (
                Benchmark::Thumos14,
                maa_core::Aggregator::Maa
                | maa_core::Aggregator::WeightedSum
                | maa_core::Aggregator::Dropout,
            ) => TrainConfig {
                localize: Some(LocalizeConfig::thumos14_oic()),
                ..paper
            },
            _ => paper,
        }
    }

    /// The localization of this run on `benchmark`: the configured one, else the benchmark's
    /// paper preset ([`dataset::Benchmark::paper_localize`]).
    pub fn localization(&self, benchmark: Benchmark) -> LocalizeConfig {
        self.localize
            .clone()
            .unwrap_or_else(|| benchmark.paper_localize())
    }

    /// The model in words: the aggregator's paper name, its background modelling and erasing
    /// when not the paper's, and the streams, e.g. `MAAN, background bas, erasing the 0.25
    /// the attention rates highest (rgb + flow)`.
    pub fn describe_model(&self) -> String {
        let mut s = self.model.aggregator.paper_name().to_string();
        if self.model.background != Background::None {
            s.push_str(&format!(", background {}", self.model.background));
        }
        if self.erase.0 > 0.0 {
            s.push_str(&format!(", erasing {} of each sample", self.erase.0));
            if self.erase_probability.0 < 1.0 {
                s.push_str(&format!(" with probability {}", self.erase_probability.0));
            }
        }
        if self.attention_erase.0 > 0.0 {
            s.push_str(&format!(
                ", erasing the {} the attention rates highest",
                self.attention_erase.0
            ));
        }
        let streams: Vec<&str> = self.streams.kinds().iter().map(|k| k.name()).collect();
        format!("{s} ({})", streams.join(" + "))
    }

    /// The settings of a recipe in words (batch, T, erasing, attention erasing, background,
    /// the localization preset's name on `benchmark`).
    pub fn describe_recipe(&self, benchmark: Benchmark) -> String {
        format!(
            "batch {}, T = {}, erasing {}, attention erasing {}, background {}, localization {}",
            self.batch_size,
            self.num_segments,
            self.erase.0,
            self.attention_erase.0,
            self.model.background,
            maan_eval::LocalizePreset::name_of(&self.localization(benchmark), benchmark)
        )
    }

    /// The sampler of this run's training batches over `videos` (batch size, T and seed from
    /// the configuration).
    pub fn sampler(&self, videos: Vec<Arc<Video>>) -> Sampler {
        Sampler::new(videos, self.batch_size, self.num_segments, self.seed)
            .with_erasing(self.erase.0)
            .with_erase_probability(self.erase_probability.0)
    }
}

/// The configuration completed with the data's dimensions (feature dimension of `kind`,
/// number of classes), checked against the data.
pub fn fit_config(config: &TrainConfig, data: &WtalDataset) -> ModelResult<TrainConfig> {
    let mut config = config.clone();
    if data.train.is_empty() {
        return Err(ModelError::Config(
            "the training split has no videos".into(),
        ));
    }
    config.validate()?;
    let has_flow = data.flow_dim() > 0;
    if !has_flow {
        match config.streams {
            Streams::Both => config.streams = Streams::Rgb,
            Streams::Flow => {
                return Err(ModelError::Config(
                    "the flow stream was asked for, but the dataset has no flow features".into(),
                ))
            }
            Streams::Rgb => {}
        }
    }
    // Each stream has its own model: its feature dimension is set per stream at init (from
    // `data`: `model.feature_dim` is the RGB stream's).
    config.model.num_classes = data.num_classes();
    config.model.feature_dim = data.rgb_dim();
    config.data = Some(RunData::of(data));
    // The run records the localization it uses, never "the default".
    config.localize = Some(config.localization(data.kind));
    Ok(config)
}

pub(crate) fn stream_dim(kind: StreamKind, data_rgb: usize, data_flow: usize) -> usize {
    match kind {
        StreamKind::Rgb => data_rgb,
        StreamKind::Flow => data_flow,
    }
}
