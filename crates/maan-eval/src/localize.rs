//! From a class activation sequence (CAS) to detections: the MAAN test-time pipeline, and the
//! richer post-processing of later WTAL code as an option.
//!
//! Per video, with the CAS `[T, C]` (row-major), the video-level class scores `[C]`, optionally
//! the class-agnostic attention `[T]`, and the duration of one snippet in seconds,
//! [`try_localize_signals`] runs these steps, each a public function:
//!
//! 1. **class rejection** ([`reject_classes`]): classes whose video-level score is below
//!    [`LocalizeConfig::class_threshold`] (0.1, MAAN section 3.1) are dropped;
//! 2. optional **temporal smoothing** of each kept class's CAS column (and of the attention)
//!    ([`LocalizeConfig::smoothing`], a centred moving average, [`smooth_moving_average`]; off
//!    by default, see "Long actions" below);
//! 3. optional **linear upsampling** of the column (and of the attention) ([`upsample_linear`],
//!    as scipy's `interp1d(..., fill_value="extrapolate")` on `arange(0, T, 1/factor)`);
//! 4. **thresholds** on the CAS column ([`threshold_values`]): relative to the maximum of the
//!    class's column (0.2 × max for THUMOS14; {0.2, 0.15, 0.1, 0.05} × max for ActivityNet1.3)
//!    or absolute; a snippet is active when its value is `>=` the threshold;
//! 5. optional **thresholds on the attention** ([`LocalizeConfig::attention_thresholds`]; off
//!    in the paper presets): see "Attention proposals" below;
//! 6. **1-D connected components** ([`connected_components`]) of the active snippets, for every
//!    threshold of both signals, all pooled (runs shorter than
//!    [`LocalizeConfig::min_length`] dropped);
//! 7. **proposal score** ([`ProposalScore`]) on the class's CAS column: the mean over the
//!    segment (default) or the outer-inner contrast ([`outer_inner_score`]);
//! 8. **per-class suppression** ([`LocalizeConfig::suppression`]): greedy NMS ([`nms`], the
//!    default), dropping a proposal whose tIoU with a kept one is `>=`
//!    [`LocalizeConfig::nms_iou`], or Gaussian soft-NMS ([`soft_nms`]), which drops nothing and
//!    decays scores; the tIoU uses lengths `end - start` with **no "+1"** by default
//!    ([`LocalizeConfig::nms_plus_one`] switches to the "+1" convention of the public code);
//! 9. **snippet indices to seconds** ([`snippets_to_seconds`]): a run of snippets
//!    `[first, last]` becomes `[first · d, (last + 1) · d]` with `d` the (upsampled) snippet
//!    duration, as BaS-Net, UM and CoLA do.
//!
//! Two-stream models are combined by [`fuse`] (late fusion of the CAS, of the video scores and
//! of the attention, 0.5 / 0.5 in MAAN section 3.1) before these steps; the weight is the
//! training run's (`maan-model`'s `TrainConfig::rgb_weight`), the one fusion setting of the
//! pipeline.
//!
//! The paper fixes neither the proposal score nor the NMS threshold. Defaults chosen here:
//! the mean CAS (the STPN reproduction's score, closest to MAAN's pipeline) and an NMS tIoU of
//! 0.5 for THUMOS14 (STPN: 0.5, TensorFlow NMS, no "+1"; with a single threshold the components
//! never overlap, so NMS only matters with upsampling off and several thresholds) and 0.9 for
//! ActivityNet1.3 (ACM-Net and ASM-Loc use 0.90 there: nested proposals from the four thresholds
//! are kept as separate hypotheses, which long ActivityNet actions need).
//!
//! # Presets
//!
//! [`LocalizePreset`] names one configuration per benchmark; `maan test --localize
//! paper|oic` (and `predict`, `train`, `demo`, `experiment`) picks one.
//!
//! **`paper`** (the default) is MAAN's section 3.1 as written and nothing more:
//! [`LocalizeConfig::thumos14`] and [`LocalizeConfig::activitynet`] above. Its detections are
//! those of every earlier version of this crate, bit for bit (tested against a copy of the
//! earlier pipeline).
//!
//! **`oic`** is the post-processing that later weakly-supervised code shares in one form or
//! another (BaS-Net, UM, CoLA, ACM-Net, ASM-Loc, DELU), so that MAAN can be compared under the
//! same test-time procedure as those papers ([`LocalizeConfig::thumos14_oic`],
//! [`LocalizeConfig::activitynet_oic`]). Each value and where it comes from (the public code of
//! those papers, read for this purpose; what is adapted to MAAN's outputs is said so):
//!
//! | setting | THUMOS14 | ActivityNet1.3 | source |
//! |---|---|---|---|
//! | class threshold | 0.1 | 0.1 | MAAN section 3.1 (the others use 0.2–0.25 on their own, differently calibrated video scores; MAAN's sigmoid probabilities keep MAAN's value) |
//! | CAS thresholds | {0, 0.025, …, 0.225} × max (10) | same | UM and CoLA cut their CAS at `arange(0, 0.25, 0.025)` after min-max normalising each class's column over the video; MAAN's CAS `p_t · σ(…)` bottoms out near 0, so fractions of the maximum are the same cut |
//! | attention thresholds | {0.15, 0.20, …, 0.95} (17), absolute | same | ACM-Net and ASM-Loc (THUMOS14): `arange(0.15, 1.00, 0.05)` on their class-agnostic attention, a probability in [0, 1] like `p_t` (DELU: 10 values from 0.1 to 0.9; CoLA: 0.1 to 0.9 by 0.025) |
//! | upsampling | × 24 | × 20 | BaS-Net, UM, CoLA: 24; ACM-Net, ASM-Loc: 20 (their ActivityNet value) |
//! | score | outer-inner, λ = 0.25, γ = 0.2 | same | BaS-Net, UM, CoLA, DELU (ACM-Net and ASM-Loc vary λ and γ per proposal source) |
//! | suppression | greedy NMS, tIoU 0.6, "+1" | greedy NMS, tIoU 0.9, "+1" | UM and CoLA on THUMOS14 (0.6); ACM-Net and ASM-Loc on ActivityNet1.3 (0.9) |
//!
//! The ActivityNet1.3 thresholds of ACM-Net and ASM-Loc (absolute 0.005 to 0.02) fit the scale
//! of their softmax CAS over 201 classes, not MAAN's, so the `oic` preset keeps the THUMOS14
//! sets there. Gaussian soft-NMS is an option of every preset, not part of one:
//! [`Suppression::SoftNms`] with σ = 0.3 ([`SOFT_NMS_SIGMA`], the value of CO2-Net and DELU,
//! which apply it to proposals cut from the attention and scored as above).
//!
//! # Attention proposals
//!
//! The attention is the model's class-agnostic, per-snippet foreground weight: MAAN's latent
//! discriminative probability `p_t` (STPN's attention `λ_t`, ACM-Net's instance attention,
//! DELU's attention). Its thresholds cut runs that do not depend on the class; each run
//! becomes a proposal of every kept class and is scored on that class's CAS column, with the
//! same score as the CAS proposals (ACM-Net, ASM-Loc, DELU score them on the CAS too). The
//! attention is smoothed and upsampled like the CAS so that the indices agree. A video
//! without an attention ([`VideoSignals::attention`] `None`, e.g. a model whose aggregator
//! ignores its attention) gets the CAS proposals only.
//!
//! The outer-inner (OIC) score ([`outer_inner_score`]) is scored on the CAS itself (as
//! ACM-Net and DELU do), not on the copy zeroed below the threshold that BaS-Net and UM use
//! (which changes only the flanks' mean).
//!
//! # Long actions
//!
//! ActivityNet1.3's actions last tens of seconds to minutes (often most of the video). A CAS
//! that is right on average but jumps from snippet to snippet inside such an action (MAAN's
//! `p_t · σ(w_c · x_t)` does: its classifier is trained on averaged features, so a single
//! snippet's logit carries the full per-snippet noise at the scale of a video logit) is cut by
//! the thresholds into many short pieces. Each piece is a proposal, short pieces inside an
//! action have a *higher* mean CAS than the whole action (which also averages the dips), so
//! with the mean score they outrank the right answer and the AP at tIoU ≥ 0.5 collapses even
//! when the whole action is among the proposals. Two options address this, both off in the
//! paper presets and both available in every preset:
//!
//! - [`LocalizeConfig::smoothing`] averages the CAS over a centred window of `k` snippets
//!   before thresholding (the pieces merge; a window of 9 snippets is 5.8 s at 0.64 s per
//!   snippet, short against ActivityNet's actions, long against the snippet-to-snippet
//!   noise). It is the smoothing that STPN-style code gets from scoring interpolated CAS, and
//!   it is why a smooth attention-weighted CAS (STPN's eq. 12) localizes long actions well;
//! - [`ProposalScore::OuterInner`] scores a proposal by its contrast with its surroundings, so
//!   a piece inside an action (whose surroundings are action too) scores low and the whole
//!   action scores high.
//!
//! On actions that last a share of the video rather than a time, a window of a fixed share
//! of the video ([`LocalizeConfig::relative_smoothing`]) fits every video length. The `long`
//! preset ([`LocalizeConfig::activitynet_long`]) smooths over a tenth of the video, cuts at
//! lower thresholds (a CAS that marks the most discriminative part of an action most
//! strongly still covers the rest of it at a few percent of its maximum) and keeps the
//! overlapping candidates with soft-NMS rather than dropping them.

use crate::annotations::ClassList;
use crate::benchmark::Benchmark;
use crate::detections::Detection;
use crate::error::{EvalError, Result};

/// How proposals are cut out of a class's CAS column.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Thresholds {
    /// Fractions of the column's maximum (per class and video); proposals of every fraction
    /// are pooled. A column whose maximum is `<= 0` yields no proposal.
    RelativeToMax(Vec<f32>),
    /// Absolute values; proposals of every value are pooled.
    Absolute(Vec<f32>),
}

/// How a proposal is scored.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ProposalScore {
    /// Mean of the class's CAS over the proposal (default).
    Mean,
    /// Outer-inner contrast (BaSNet, UM, CoLA): `mean(inner) − mean(outer) + gamma · p_c`, with
    /// the outer region `lambda × length` on each side (see [`outer_inner_score`]).
    OuterInner {
        /// Width of the outer region on each side, relative to the proposal length (0.25).
        lambda: f32,
        /// Weight of the video-level class score (0.2).
        gamma: f32,
    },
}

impl ProposalScore {
    /// The outer-inner contrast with the published values λ = 0.25, γ = 0.2.
    pub fn outer_inner() -> Self {
        ProposalScore::OuterInner {
            lambda: 0.25,
            gamma: 0.2,
        }
    }
}

/// How the proposals of one class are pruned after they are pooled.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub enum Suppression {
    /// Greedy NMS ([`nms`]) at [`LocalizeConfig::nms_iou`] (the paper presets, and BaS-Net,
    /// UM, CoLA, ACM-Net, ASM-Loc).
    #[default]
    Nms,
    /// Gaussian soft-NMS (Bodla et al., 2017; [`soft_nms`]): no proposal is dropped, each
    /// one's score is multiplied by `exp(−tIoU² / sigma)` for every higher-scored proposal
    /// kept before it. [`LocalizeConfig::nms_iou`] is not used.
    SoftNms {
        /// Width of the Gaussian penalty (0.3 in the W-TALC line of code: CO2-Net, DELU;
        /// [`SOFT_NMS_SIGMA`]).
        sigma: f64,
    },
}

/// The soft-NMS width of the WTAL code that uses soft-NMS (CO2-Net, DELU): 0.3.
pub const SOFT_NMS_SIGMA: f64 = 0.3;

impl Suppression {
    /// Gaussian soft-NMS with σ = [`SOFT_NMS_SIGMA`] (0.3).
    pub fn soft_nms() -> Self {
        Suppression::SoftNms {
            sigma: SOFT_NMS_SIGMA,
        }
    }
}

/// The named localization presets of `maan test --localize` and friends (see "Presets" in
/// the module docs). Each names one configuration per benchmark.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum LocalizePreset {
    /// MAAN section 3.1 as written: [`LocalizeConfig::thumos14`] /
    /// [`LocalizeConfig::activitynet`] (default).
    #[default]
    Paper,
    /// The post-processing of later WTAL code: proposals from many thresholds on the CAS and
    /// on the class-agnostic attention, outer-inner scores, NMS:
    /// [`LocalizeConfig::thumos14_oic`] / [`LocalizeConfig::activitynet_oic`].
    Oic,
    /// Long actions, made for ActivityNet1.3 (the same settings on both benchmarks):
    /// [`LocalizeConfig::activitynet_long`].
    Long,
}

impl LocalizePreset {
    /// Every preset, `paper` first.
    pub const ALL: [LocalizePreset; 3] = [
        LocalizePreset::Paper,
        LocalizePreset::Oic,
        LocalizePreset::Long,
    ];

    /// `paper`, `oic` or `long`.
    pub fn name(self) -> &'static str {
        match self {
            LocalizePreset::Paper => "paper",
            LocalizePreset::Oic => "oic",
            LocalizePreset::Long => "long",
        }
    }

    /// The preset's configuration on a benchmark.
    pub fn config(self, benchmark: Benchmark) -> LocalizeConfig {
        match (self, benchmark) {
            (LocalizePreset::Paper, Benchmark::Thumos14) => LocalizeConfig::thumos14(),
            (LocalizePreset::Paper, Benchmark::ActivityNet13) => LocalizeConfig::activitynet(),
            (LocalizePreset::Oic, Benchmark::Thumos14) => LocalizeConfig::thumos14_oic(),
            (LocalizePreset::Oic, Benchmark::ActivityNet13) => LocalizeConfig::activitynet_oic(),
            (LocalizePreset::Long, _) => LocalizeConfig::activitynet_long(),
        }
    }

    /// The preset whose configuration on the benchmark equals `cfg`, if any.
    pub fn identify(cfg: &LocalizeConfig, benchmark: Benchmark) -> Option<LocalizePreset> {
        Self::ALL.into_iter().find(|p| p.config(benchmark) == *cfg)
    }

    /// The name of the preset `cfg` is on the benchmark (`paper`, `oic`, `long`), or `custom`
    /// when it is none of them (a preset with options changed).
    pub fn name_of(cfg: &LocalizeConfig, benchmark: Benchmark) -> &'static str {
        Self::identify(cfg, benchmark)
            .map(|p| p.name())
            .unwrap_or("custom")
    }
}

impl std::fmt::Display for LocalizePreset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for LocalizePreset {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "paper" => Ok(LocalizePreset::Paper),
            "oic" => Ok(LocalizePreset::Oic),
            "long" => Ok(LocalizePreset::Long),
            other => Err(format!(
                "unknown localization preset {other:?} (expected paper, oic or long)"
            )),
        }
    }
}

/// numpy's `arange(start, stop, step)` as `f32` thresholds: `start + i · step` for
/// `i = 0 .. ceil((stop − start) / step)`, computed in `f64` (`stop` excluded; empty when
/// `step` is not positive or `stop <= start`).
pub fn arange(start: f64, stop: f64, step: f64) -> Vec<f32> {
    if step.is_nan() || step <= 0.0 || stop <= start {
        return Vec::new();
    }
    let n = ((stop - start) / step).ceil() as usize;
    (0..n).map(|i| (start + i as f64 * step) as f32).collect()
}

/// Every setting of the localization pipeline. Use a preset and change fields as needed.
///
/// Fields added after the first release (`attention_thresholds`, `suppression`) default to
/// the paper's procedure when absent, so a run's `config.json` written before them loads
/// unchanged.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LocalizeConfig {
    /// Classes whose video-level score is below this are rejected (0.1, paper section 3.1).
    pub class_threshold: f32,
    /// Thresholds that cut proposals out of each kept class's CAS column.
    pub thresholds: Thresholds,
    /// Thresholds that cut class-agnostic proposals out of the attention (the model's
    /// per-snippet foreground weight, MAAN's `p_t`), each then scored on every kept class's
    /// CAS (see "Attention proposals" in the module docs); `None` (the paper): none. A video
    /// without an attention signal gets none either.
    #[serde(default)]
    pub attention_thresholds: Option<Thresholds>,
    /// Width, in snippets, of the centred moving average applied to each class's CAS column
    /// (and to the attention) before thresholding ([`smooth_moving_average`]; 0 or 1 = none,
    /// the paper's procedure). See "Long actions" in the module docs.
    #[serde(default)]
    pub smoothing: usize,
    /// Width of that moving average as a fraction of the video's length, for benchmarks
    /// whose actions last a fixed share of a video rather than a fixed time (ActivityNet1.3):
    /// the window is the larger of `smoothing` and `round(relative_smoothing · snippets)`
    /// ([`LocalizeConfig::smoothing_window`]; 0, the default: `smoothing` alone).
    #[serde(default)]
    pub relative_smoothing: f64,
    /// Linear upsampling factor of the CAS (and of the attention) along time (1 = none; BaS-Net,
    /// UM and CoLA use 24, ACM-Net and ASM-Loc 20).
    pub upsample: usize,
    /// Proposal score.
    pub score: ProposalScore,
    /// Greedy NMS drops a proposal whose tIoU with a kept one is `>=` this. A value above 1
    /// disables NMS. Not used by soft-NMS.
    pub nms_iou: f64,
    /// Compute the (soft-)NMS tIoU with the "+1" convention on lengths (BaS-Net, UM, CoLA,
    /// ACM-Net, ASM-Loc, DELU) instead of the continuous one (default `false`).
    pub nms_plus_one: bool,
    /// Runs shorter than this many (upsampled) snippets are dropped (1 keeps all; ACM-Net and
    /// ASM-Loc skip runs shorter than 2).
    pub min_length: usize,
    /// How the pooled proposals of a class are pruned: greedy NMS (default) or Gaussian
    /// soft-NMS.
    #[serde(default)]
    pub suppression: Suppression,
}

impl LocalizeConfig {
    /// The moving-average window, in snippets, for a video of `num_snippets` snippets: the
    /// larger of [`LocalizeConfig::smoothing`] and `round(relative_smoothing · num_snippets)`.
    pub fn smoothing_window(&self, num_snippets: usize) -> usize {
        let relative = (self.relative_smoothing * num_snippets as f64).round();
        if relative.is_finite() && relative > 0.0 {
            self.smoothing.max(relative as usize)
        } else {
            self.smoothing
        }
    }

    /// THUMOS14: class threshold 0.1, 0.2 × max, no upsampling, mean score, NMS tIoU 0.5 without
    /// "+1" (the `paper` preset).
    pub fn thumos14() -> Self {
        LocalizeConfig {
            class_threshold: 0.1,
            thresholds: Thresholds::RelativeToMax(vec![0.2]),
            attention_thresholds: None,
            smoothing: 1,
            relative_smoothing: 0.0,
            upsample: 1,
            score: ProposalScore::Mean,
            nms_iou: 0.5,
            nms_plus_one: false,
            min_length: 1,
            suppression: Suppression::Nms,
        }
    }

    /// ActivityNet1.3: as [`LocalizeConfig::thumos14`] but thresholds {0.2, 0.15, 0.1, 0.05} ×
    /// max, pooled, and NMS tIoU 0.9 (the `paper` preset).
    pub fn activitynet() -> Self {
        LocalizeConfig {
            thresholds: Thresholds::RelativeToMax(vec![0.2, 0.15, 0.1, 0.05]),
            nms_iou: 0.9,
            ..Self::thumos14()
        }
    }

    /// The `long` preset, made for ActivityNet1.3's long actions (see "Long actions" in the
    /// module docs): [`LocalizeConfig::activitynet`] with the CAS smoothed over a tenth of the
    /// video (`relative_smoothing` 0.1), lower thresholds {0.1, 0.05, 0.02} × max and
    /// Gaussian soft-NMS (σ = 0.3). Chosen among four candidates on the ActivityNet-shaped
    /// family with seeds 0-2 (docs/results/activitynet.md); the localization of
    /// `TrainConfig::recommended` for MAAN there.
    pub fn activitynet_long() -> Self {
        LocalizeConfig {
            relative_smoothing: 0.1,
            thresholds: Thresholds::RelativeToMax(vec![0.1, 0.05, 0.02]),
            suppression: Suppression::soft_nms(),
            ..Self::activitynet()
        }
    }

    /// THUMOS14, the `oic` preset (see "Presets" in the module docs for where each value comes
    /// from): class threshold 0.1; CAS thresholds {0, 0.025, …, 0.225} × max (10 values) and
    /// attention thresholds {0.15, 0.20, …, 0.95} (17 values), pooled; upsampling × 24;
    /// outer-inner score (λ = 0.25, γ = 0.2); greedy NMS at tIoU 0.6 with "+1".
    pub fn thumos14_oic() -> Self {
        LocalizeConfig {
            class_threshold: 0.1,
            thresholds: Thresholds::RelativeToMax(arange(0.0, 0.25, 0.025)),
            attention_thresholds: Some(Thresholds::Absolute(arange(0.15, 1.0, 0.05))),
            smoothing: 1,
            relative_smoothing: 0.0,
            upsample: 24,
            score: ProposalScore::outer_inner(),
            nms_iou: 0.6,
            nms_plus_one: true,
            min_length: 1,
            suppression: Suppression::Nms,
        }
    }

    /// ActivityNet1.3, the `oic` preset: [`LocalizeConfig::thumos14_oic`]'s proposals and
    /// score, upsampling × 20 and greedy NMS at tIoU 0.9 with "+1" (ACM-Net's and ASM-Loc's
    /// ActivityNet values).
    pub fn activitynet_oic() -> Self {
        LocalizeConfig {
            upsample: 20,
            nms_iou: 0.9,
            ..Self::thumos14_oic()
        }
    }
}

impl Default for LocalizeConfig {
    fn default() -> Self {
        Self::thumos14()
    }
}

/// A detection of class `class` (an index into the class list), in seconds.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClassDetection {
    /// Class index.
    pub class: usize,
    /// Proposal score (higher is more confident).
    pub score: f64,
    /// Start in seconds.
    pub start: f64,
    /// End in seconds.
    pub end: f64,
}

/// Indices of the classes whose score is `>= threshold` (a class is rejected when its score is
/// below the threshold), in increasing order. NaN scores are rejected.
pub fn reject_classes(video_scores: &[f32], threshold: f32) -> Vec<usize> {
    video_scores
        .iter()
        .enumerate()
        .filter(|(_, s)| **s >= threshold)
        .map(|(c, _)| c)
        .collect()
}

/// Column `class` of a row-major `[num_snippets, num_classes]` CAS.
///
/// # Panics
/// If `cas` is shorter than `num_snippets * num_classes` or `class >= num_classes`.
pub fn class_column(
    cas: &[f32],
    num_snippets: usize,
    num_classes: usize,
    class: usize,
) -> Vec<f32> {
    assert!(
        class < num_classes,
        "class {class} out of range ({num_classes} classes)"
    );
    (0..num_snippets)
        .map(|t| cas[t * num_classes + class])
        .collect()
}

/// Linear upsampling by an integer `factor`: `T · factor` values at positions `j / factor`,
/// `j = 0..T·factor`, linearly interpolated between snippets and linearly *extrapolated* past
/// the last one from the last two (scipy `interp1d(arange(T), x, fill_value="extrapolate")`
/// evaluated on `arange(0, T, 1/factor)`). A single snippet is repeated. `factor <= 1` returns
/// the input.
pub fn upsample_linear(signal: &[f32], factor: usize) -> Vec<f32> {
    let n = signal.len();
    if factor <= 1 || n == 0 {
        return signal.to_vec();
    }
    if n == 1 {
        return vec![signal[0]; factor];
    }
    let mut out = Vec::with_capacity(n * factor);
    for j in 0..n * factor {
        let pos = j as f64 / factor as f64;
        let i = (pos.floor() as usize).min(n - 2);
        let frac = pos - i as f64;
        let (a, b) = (signal[i] as f64, signal[i + 1] as f64);
        out.push((a + frac * (b - a)) as f32);
    }
    out
}

/// Centred moving average over `window` samples: output `i` is the mean of
/// `signal[i - h ..= i + h']` clipped to the signal, with `h = (window - 1) / 2` before and
/// `h' = window - 1 - h` after (so an even window leans one sample forward). At the ends the
/// window shrinks to the samples that exist (no padding, so an action touching the start or the
/// end of a video is not faded). `window <= 1` returns the input.
pub fn smooth_moving_average(signal: &[f32], window: usize) -> Vec<f32> {
    let n = signal.len();
    if window <= 1 || n == 0 {
        return signal.to_vec();
    }
    let before = (window - 1) / 2;
    let after = window - 1 - before;
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0.0f64);
    for v in signal {
        prefix.push(prefix.last().copied().unwrap_or(0.0) + *v as f64);
    }
    (0..n)
        .map(|i| {
            let lo = i.saturating_sub(before);
            let hi = (i + after + 1).min(n);
            ((prefix[hi] - prefix[lo]) / (hi - lo) as f64) as f32
        })
        .collect()
}

/// The threshold values for one class column: each fraction times the column's maximum
/// (empty when the maximum is not positive), or the absolute values as given.
pub fn threshold_values(signal: &[f32], thresholds: &Thresholds) -> Vec<f32> {
    match thresholds {
        Thresholds::Absolute(v) => v.clone(),
        Thresholds::RelativeToMax(fracs) => {
            let max = signal.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            if max > 0.0 {
                fracs.iter().map(|f| f * max).collect()
            } else {
                Vec::new()
            }
        }
    }
}

/// Maximal runs of `true` in `mask`, as half-open index ranges `(start, end)`, in order.
pub fn connected_components(mask: &[bool]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &m) in mask.iter().enumerate() {
        match (m, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, mask.len()));
    }
    out
}

/// Runs of `signal >= threshold`, as half-open ranges.
pub fn components_above(signal: &[f32], threshold: f32) -> Vec<(usize, usize)> {
    let mask: Vec<bool> = signal.iter().map(|v| *v >= threshold).collect();
    connected_components(&mask)
}

/// Mean of `signal[start..end]` (0 for an empty range).
pub fn mean_score(signal: &[f32], start: usize, end: usize) -> f64 {
    let end = end.min(signal.len());
    if end <= start {
        return 0.0;
    }
    signal[start..end].iter().map(|v| *v as f64).sum::<f64>() / (end - start) as f64
}

/// Outer-inner contrast of the run `[start, end)` (BaSNet `utils.get_proposal_oic`):
/// `mean(inner) − mean(outer) + gamma · class_score`, where with `n = end − start`,
/// `last = end − 1` and `N = signal.len()` the outer region is
/// `[max(0, int(start − λn)), start) ∪ [end, min(N − 1, int(last + λn))]` (`int` truncates
/// toward zero, as Python's does); an empty outer region has mean 0.
pub fn outer_inner_score(
    signal: &[f32],
    start: usize,
    end: usize,
    lambda: f32,
    gamma: f32,
    class_score: f32,
) -> f64 {
    let n_sig = signal.len();
    if end <= start || end > n_sig {
        return 0.0;
    }
    let inner = mean_score(signal, start, end);
    let len = (end - start) as f64;
    let lambda = lambda as f64;
    let outer_s = ((start as f64 - lambda * len) as i64).max(0) as usize;
    let outer_e = (((end - 1) as f64 + lambda * len) as i64).min(n_sig as i64 - 1) as usize;
    let (mut sum, mut count) = (0.0f64, 0usize);
    for t in outer_s..start {
        sum += signal[t] as f64;
        count += 1;
    }
    if outer_e >= end {
        for t in end..=outer_e {
            sum += signal[t] as f64;
            count += 1;
        }
    }
    let outer = if count == 0 { 0.0 } else { sum / count as f64 };
    inner - outer + gamma as f64 * class_score as f64
}

/// Temporal IoU of two segments. With `plus_one`, lengths are `end − start + 1` and the
/// intersection `min_end − max_start + 1` (BaSNet's NMS on seconds); otherwise continuous
/// (ActivityNet's tIoU). Returns 0 when the union is not positive.
pub fn temporal_iou(a: [f64; 2], b: [f64; 2], plus_one: bool) -> f64 {
    let one = if plus_one { 1.0 } else { 0.0 };
    let inter = (a[1].min(b[1]) - a[0].max(b[0]) + one).max(0.0);
    let union = (a[1] - a[0] + one) + (b[1] - b[0] + one) - inter;
    if union > 0.0 {
        inter / union
    } else {
        0.0
    }
}

/// Greedy non-maximum suppression of the detections of **one** class: visit by descending
/// score (ties: earlier start, then earlier end first), keep a detection unless its tIoU
/// ([`temporal_iou`]) with an already kept one is `>= iou_threshold`. Returns the kept ones by
/// descending score.
pub fn nms(dets: &[ClassDetection], iou_threshold: f64, plus_one: bool) -> Vec<ClassDetection> {
    let mut sorted = dets.to_vec();
    sorted.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.start.total_cmp(&b.start))
            .then(a.end.total_cmp(&b.end))
    });
    let mut kept: Vec<ClassDetection> = Vec::with_capacity(sorted.len());
    for d in sorted {
        let suppressed = kept
            .iter()
            .any(|k| temporal_iou([k.start, k.end], [d.start, d.end], plus_one) >= iou_threshold);
        if !suppressed {
            kept.push(d);
        }
    }
    kept
}

/// Gaussian soft-NMS (Bodla et al., 2017) of the detections of **one** class, as the WTAL
/// code that uses it does (CO2-Net, DELU: `soft_nms(..., method='gaussian', sigma=0.3)`):
/// repeatedly take the detection with the highest current score (ties: earlier start, then
/// earlier end), keep it, and multiply the score of every detection not yet taken by
/// `exp(−tIoU² / sigma)`, with the tIoU ([`temporal_iou`]) to the one just kept. Nothing is
/// dropped: returns every detection, with its decayed score, in the order taken (descending
/// decayed score). Like that code there is no score floor, and a negative score (the
/// outer-inner score can be negative) decays towards 0. A `sigma` that is not positive
/// leaves the scores unchanged.
pub fn soft_nms(dets: &[ClassDetection], sigma: f64, plus_one: bool) -> Vec<ClassDetection> {
    let mut rest = dets.to_vec();
    let mut kept = Vec::with_capacity(rest.len());
    while !rest.is_empty() {
        let best = (0..rest.len())
            .max_by(|&i, &j| {
                let (a, b) = (&rest[i], &rest[j]);
                a.score
                    .total_cmp(&b.score)
                    .then(b.start.total_cmp(&a.start))
                    .then(b.end.total_cmp(&a.end))
                    .then(j.cmp(&i))
            })
            .expect("not empty");
        let top = rest.swap_remove(best);
        if sigma > 0.0 {
            for d in &mut rest {
                let iou = temporal_iou([top.start, top.end], [d.start, d.end], plus_one);
                d.score *= (-(iou * iou) / sigma).exp();
            }
        }
        kept.push(top);
    }
    kept
}

/// Weighted sum `w_a · a + w_b · b`, element by element: the late fusion of two streams' CAS
/// (or of their video-level scores).
///
/// # Panics
/// If the slices differ in length (the two streams of one video must have the same shape).
pub fn fuse(cas_a: &[f32], cas_b: &[f32], w_a: f32, w_b: f32) -> Vec<f32> {
    assert_eq!(
        cas_a.len(),
        cas_b.len(),
        "fuse: the two streams have different lengths"
    );
    cas_a
        .iter()
        .zip(cas_b)
        .map(|(a, b)| w_a * a + w_b * b)
        .collect()
}

/// A half-open run `[start, end)` of (upsampled) snippets in seconds:
/// `(start · d, end · d)` with `d = seconds_per_snippet / upsample`.
pub fn snippets_to_seconds(
    start: usize,
    end: usize,
    seconds_per_snippet: f64,
    upsample: usize,
) -> (f64, f64) {
    let d = seconds_per_snippet / upsample.max(1) as f64;
    (start as f64 * d, end as f64 * d)
}

/// One video's inputs to localization: the CAS, optionally the class-agnostic attention, the
/// video-level class scores and the snippet duration.
#[derive(Debug, Clone, Copy)]
pub struct VideoSignals<'a> {
    /// CAS, row-major `[num_snippets, num_classes]`.
    pub cas: &'a [f32],
    /// Class-agnostic attention `[num_snippets]` (MAAN's `p_t`, fused over the streams like the
    /// CAS), or `None` for a model without one: attention thresholds then cut no proposal.
    pub attention: Option<&'a [f32]>,
    /// Number of snippets `T`.
    pub num_snippets: usize,
    /// Number of classes `C`.
    pub num_classes: usize,
    /// Video-level class scores `[num_classes]`.
    pub video_scores: &'a [f32],
    /// Duration of one snippet in seconds.
    pub seconds_per_snippet: f64,
}

/// [`localize`] with its inputs checked.
///
/// # Errors
/// [`EvalError::Shape`] if `cas.len() != num_snippets * num_classes` or
/// `video_scores.len() != num_classes`; [`EvalError::InvalidInput`] for NaN in the CAS or the
/// scores, a `seconds_per_snippet` that is not finite and positive, or `upsample == 0`.
pub fn try_localize(
    cas: &[f32],
    num_snippets: usize,
    num_classes: usize,
    video_scores: &[f32],
    seconds_per_snippet: f64,
    cfg: &LocalizeConfig,
) -> Result<Vec<ClassDetection>> {
    try_localize_signals(
        &VideoSignals {
            cas,
            attention: None,
            num_snippets,
            num_classes,
            video_scores,
            seconds_per_snippet,
        },
        cfg,
    )
}

/// The pipeline of the module docs on one video, with the attention proposals when both the
/// video has an attention and `cfg.attention_thresholds` is set. The result is ordered by
/// class, then by descending score.
///
/// # Errors
/// As [`try_localize`], and [`EvalError::Shape`] / [`EvalError::InvalidInput`] for an
/// attention whose length is not `num_snippets` or that holds NaN.
pub fn try_localize_signals(
    v: &VideoSignals<'_>,
    cfg: &LocalizeConfig,
) -> Result<Vec<ClassDetection>> {
    let VideoSignals {
        cas,
        attention,
        num_snippets,
        num_classes,
        video_scores,
        seconds_per_snippet,
    } = *v;
    if cas.len() != num_snippets * num_classes {
        return Err(EvalError::Shape(format!(
            "CAS has {} values, expected {num_snippets} snippets x {num_classes} classes",
            cas.len()
        )));
    }
    if video_scores.len() != num_classes {
        return Err(EvalError::Shape(format!(
            "{} video scores for {num_classes} classes",
            video_scores.len()
        )));
    }
    if cas.iter().chain(video_scores).any(|v| v.is_nan()) {
        return Err(EvalError::InvalidInput(
            "NaN in the CAS or the video scores".into(),
        ));
    }
    if let Some(att) = attention {
        if att.len() != num_snippets {
            return Err(EvalError::Shape(format!(
                "attention has {} values for {num_snippets} snippets",
                att.len()
            )));
        }
        if att.iter().any(|v| v.is_nan()) {
            return Err(EvalError::InvalidInput("NaN in the attention".into()));
        }
    }
    if !(seconds_per_snippet.is_finite() && seconds_per_snippet > 0.0) {
        return Err(EvalError::InvalidInput(format!(
            "seconds per snippet {seconds_per_snippet} is not a positive number"
        )));
    }
    if cfg.upsample == 0 {
        return Err(EvalError::InvalidInput(
            "upsample factor 0 (use 1 for none)".into(),
        ));
    }
    if !(cfg.relative_smoothing.is_finite() && (0.0..=1.0).contains(&cfg.relative_smoothing)) {
        return Err(EvalError::InvalidInput(format!(
            "relative smoothing {} is not in [0, 1]",
            cfg.relative_smoothing
        )));
    }
    let window = cfg.smoothing_window(num_snippets);
    let kept = reject_classes(video_scores, cfg.class_threshold);
    // Class-agnostic runs of the attention, cut once and scored on each kept class's CAS.
    let attention_runs: Vec<(usize, usize)> = match (attention, &cfg.attention_thresholds) {
        (Some(att), Some(thresholds)) if !kept.is_empty() => {
            let signal = upsample_linear(&smooth_moving_average(att, window), cfg.upsample);
            threshold_values(&signal, thresholds)
                .into_iter()
                .flat_map(|thr| components_above(&signal, thr))
                .filter(|(s, e)| e - s >= cfg.min_length)
                .collect()
        }
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for c in kept {
        let column = upsample_linear(
            &smooth_moving_average(&class_column(cas, num_snippets, num_classes, c), window),
            cfg.upsample,
        );
        let cas_runs = threshold_values(&column, &cfg.thresholds)
            .into_iter()
            .flat_map(|thr| components_above(&column, thr))
            .filter(|(s, e)| e - s >= cfg.min_length);
        let proposals: Vec<ClassDetection> = cas_runs
            .chain(attention_runs.iter().copied())
            .map(|(s, e)| {
                let score = match cfg.score {
                    ProposalScore::Mean => mean_score(&column, s, e),
                    ProposalScore::OuterInner { lambda, gamma } => {
                        outer_inner_score(&column, s, e, lambda, gamma, video_scores[c])
                    }
                };
                let (start, end) = snippets_to_seconds(s, e, seconds_per_snippet, cfg.upsample);
                ClassDetection {
                    class: c,
                    score,
                    start,
                    end,
                }
            })
            .collect();
        match cfg.suppression {
            Suppression::Nms => out.extend(nms(&proposals, cfg.nms_iou, cfg.nms_plus_one)),
            Suppression::SoftNms { sigma } => {
                out.extend(soft_nms(&proposals, sigma, cfg.nms_plus_one))
            }
        }
    }
    Ok(out)
}

/// Detections of one video from its CAS (row-major `[num_snippets, num_classes]`), its
/// video-level class scores `[num_classes]` and the duration of one snippet in seconds, by the
/// pipeline of the module docs (without attention proposals: see [`try_localize_signals`]).
/// The result is ordered by class, then by descending score.
///
/// # Panics
/// On inputs [`try_localize`] rejects (shape mismatch, NaN, non-positive snippet duration,
/// `upsample == 0`): these are programming errors here; call [`try_localize`] to get an error
/// instead.
pub fn localize(
    cas: &[f32],
    num_snippets: usize,
    num_classes: usize,
    video_scores: &[f32],
    seconds_per_snippet: f64,
    cfg: &LocalizeConfig,
) -> Vec<ClassDetection> {
    match try_localize(
        cas,
        num_snippets,
        num_classes,
        video_scores,
        seconds_per_snippet,
        cfg,
    ) {
        Ok(d) => d,
        Err(e) => panic!("localize: {e}"),
    }
}

/// Converts class-indexed detections to labelled [`Detection`]s for a result file. Detections
/// whose class index is out of range for `classes` are skipped.
pub fn to_detections(dets: &[ClassDetection], classes: &ClassList) -> Vec<Detection> {
    dets.iter()
        .filter_map(|d| {
            classes.name(d.class).map(|label| Detection {
                label: label.to_string(),
                score: d.score,
                segment: [d.start, d.end],
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPS: f64 = 1e-9;

    fn det(class: usize, score: f64, start: f64, end: f64) -> ClassDetection {
        ClassDetection {
            class,
            score,
            start,
            end,
        }
    }

    #[test]
    fn class_rejection() {
        assert_eq!(
            reject_classes(&[0.05, 0.1, 0.5, f32::NAN, 0.09], 0.1),
            vec![1, 2]
        );
        assert!(reject_classes(&[], 0.1).is_empty());
    }

    #[test]
    fn components() {
        assert_eq!(connected_components(&[]), vec![]);
        assert_eq!(connected_components(&[false, false]), vec![]);
        assert_eq!(connected_components(&[true]), vec![(0, 1)]);
        assert_eq!(
            connected_components(&[true, true, false, true, false, false, true, true]),
            vec![(0, 2), (3, 4), (6, 8)]
        );
        assert_eq!(
            components_above(&[0.1, 0.5, 0.5, 0.2, 0.9], 0.5),
            vec![(1, 3), (4, 5)]
        );
    }

    #[test]
    fn thresholds() {
        let s = [0.0, 1.0, 2.0];
        assert_eq!(
            threshold_values(&s, &Thresholds::RelativeToMax(vec![0.2, 0.05])),
            vec![0.4, 0.1]
        );
        assert_eq!(
            threshold_values(&s, &Thresholds::Absolute(vec![0.05])),
            vec![0.05]
        );
        assert!(threshold_values(&[0.0, 0.0], &Thresholds::RelativeToMax(vec![0.2])).is_empty());
        assert!(threshold_values(&[], &Thresholds::RelativeToMax(vec![0.2])).is_empty());
    }

    #[test]
    fn upsampling() {
        assert_eq!(upsample_linear(&[1.0, 2.0], 1), vec![1.0, 2.0]);
        // Positions 0, .5, 1, 1.5 -> 1, 2, 3, then extrapolated 4.
        assert_eq!(upsample_linear(&[1.0, 3.0], 2), vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(
            upsample_linear(&[0.0, 4.0, 0.0], 4),
            vec![0.0, 1.0, 2.0, 3.0, 4.0, 3.0, 2.0, 1.0, 0.0, -1.0, -2.0, -3.0]
        );
        assert_eq!(upsample_linear(&[7.0], 3), vec![7.0; 3]);
        assert!(upsample_linear(&[], 3).is_empty());
    }

    #[test]
    fn proposal_scores() {
        let s = [0.0, 0.2, 1.0, 0.8, 0.0, 0.0, 0.0, 0.0];
        assert!((mean_score(&s, 2, 4) - 0.9).abs() < 1e-6);
        assert_eq!(mean_score(&s, 3, 3), 0.0);
        // Run [2, 4): n = 2, outer = [int(2 - 0.5), 2) ∪ [4, int(3 + 0.5)] = [1, 2) ∪ [] : mean 0.2.
        let oic = outer_inner_score(&s, 2, 4, 0.25, 0.2, 0.5);
        assert!((oic - (0.9 - 0.2 + 0.1)).abs() < 1e-6, "{oic}");
        // Run [1, 5) (n = 4): outer = [0, 1) ∪ [5, 5]: mean (0 + 0) / 2 = 0.
        let oic = outer_inner_score(&s, 1, 5, 0.25, 0.2, 0.0);
        assert!((oic - 0.5).abs() < 1e-6, "{oic}");
        // Whole signal: the outer region is empty, mean 0.
        let oic = outer_inner_score(&s, 0, 8, 0.25, 0.0, 0.0);
        assert!((oic - mean_score(&s, 0, 8)).abs() < 1e-6);
    }

    #[test]
    fn iou_conventions() {
        assert_eq!(temporal_iou([0.0, 10.0], [5.0, 15.0], false), 5.0 / 15.0);
        assert_eq!(temporal_iou([0.0, 10.0], [5.0, 15.0], true), 6.0 / 16.0);
        assert_eq!(temporal_iou([0.0, 1.0], [2.0, 3.0], false), 0.0);
        assert_eq!(temporal_iou([1.0, 1.0], [1.0, 1.0], false), 0.0);
        assert_eq!(temporal_iou([1.0, 1.0], [1.0, 1.0], true), 1.0);
    }

    #[test]
    fn nms_suppresses_overlaps_at_or_above_the_threshold() {
        let d = [
            det(0, 0.9, 0.0, 10.0),
            det(0, 0.8, 0.0, 5.0), // tIoU 0.5 with the first: dropped at 0.5
            det(0, 0.7, 20.0, 30.0),
            det(0, 0.95, 40.0, 41.0),
        ];
        let kept = nms(&d, 0.5, false);
        assert_eq!(kept, vec![d[3], d[0], d[2]], "kept by descending score");
        // At 0.6 the 0.5-overlap survives.
        assert_eq!(nms(&d, 0.6, false).len(), 4);
        // With "+1": tIoU = 6/11 < 0.6, kept too; at 0.5 it is dropped.
        assert_eq!(nms(&d, 0.6, true).len(), 4);
        assert_eq!(nms(&d, 0.5, true).len(), 3);
        assert!(nms(&[], 0.5, false).is_empty());
        // Above 1 disables NMS, even for exact duplicates.
        assert_eq!(nms(&[d[0], d[0]], 1.01, false).len(), 2);
        assert_eq!(nms(&[d[0], d[0]], 1.0, false).len(), 1);
    }

    #[test]
    fn fusion_and_seconds() {
        assert_eq!(fuse(&[1.0, 2.0], &[3.0, 4.0], 0.5, 0.5), vec![2.0, 3.0]);
        assert_eq!(fuse(&[1.0], &[3.0], 1.0, 0.0), vec![1.0]);
        assert_eq!(snippets_to_seconds(2, 5, 0.64, 1), (1.28, 3.2));
        let (s, e) = snippets_to_seconds(24, 48, 0.64, 24);
        assert!((s - 0.64).abs() < EPS && (e - 1.28).abs() < EPS);
    }

    #[test]
    #[should_panic(expected = "different lengths")]
    fn fusion_checks_lengths() {
        fuse(&[1.0], &[1.0, 2.0], 0.5, 0.5);
    }

    /// CAS [T=8, C=3], row-major.
    fn toy_cas() -> (Vec<f32>, Vec<f32>) {
        let col0 = [0.0, 0.1, 0.9, 1.0, 0.05, 0.0, 0.5, 0.6];
        let col1 = [0.3; 8];
        let col2 = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.8];
        let mut cas = Vec::new();
        for t in 0..8 {
            cas.extend([col0[t], col1[t], col2[t]]);
        }
        (cas, vec![0.9, 0.05, 0.5])
    }

    #[test]
    fn thumos_pipeline_by_hand() {
        let (cas, scores) = toy_cas();
        let d = localize(&cas, 8, 3, &scores, 0.64, &LocalizeConfig::thumos14());
        // Class 1 is rejected (0.05 < 0.1). Class 0: threshold 0.2 x 1.0 = 0.2: runs [2, 4) and
        // [6, 8), scores 0.95 and 0.55. Class 2: threshold 0.16: run [7, 8), score 0.8.
        assert_eq!(d.len(), 3);
        assert_eq!(d[0].class, 0);
        assert!((d[0].score - 0.95).abs() < 1e-6);
        assert!((d[0].start - 1.28).abs() < EPS && (d[0].end - 2.56).abs() < EPS);
        assert!((d[1].score - 0.55).abs() < 1e-6);
        assert!((d[1].start - 3.84).abs() < EPS && (d[1].end - 5.12).abs() < EPS);
        assert_eq!(d[2].class, 2);
        assert!((d[2].start - 4.48).abs() < EPS && (d[2].end - 5.12).abs() < EPS);
    }

    #[test]
    fn activitynet_pools_thresholds_then_nms() {
        let (cas, scores) = toy_cas();
        let mut cfg = LocalizeConfig::activitynet();
        cfg.nms_iou = 1.01; // NMS off: every pooled proposal survives
        let d = try_localize(&cas, 8, 3, &scores, 1.0, &cfg).unwrap();
        let c0: Vec<(f64, f64)> = d
            .iter()
            .filter(|d| d.class == 0)
            .map(|d| (d.start, d.end))
            .collect();
        // 0.2 and 0.15 x max: [2,4), [6,8); 0.1: [1,4), [6,8); 0.05: [1,5), [6,8).
        assert_eq!(c0.len(), 8);
        assert!(c0.contains(&(1.0, 5.0)) && c0.contains(&(1.0, 4.0)));
        // With the preset NMS (0.9), exact duplicates collapse: [2,4), [6,8), [1,4), [1,5)
        // ([1,4) vs [1,5): tIoU 0.75 < 0.9 is kept).
        let d = try_localize(&cas, 8, 3, &scores, 1.0, &LocalizeConfig::activitynet()).unwrap();
        assert_eq!(d.iter().filter(|d| d.class == 0).count(), 4);
        // Scores descend within a class.
        for w in d.windows(2) {
            if w[0].class == w[1].class {
                assert!(w[0].score >= w[1].score);
            }
        }
    }

    #[test]
    fn options_change_the_output() {
        let (cas, scores) = toy_cas();
        let mut cfg = LocalizeConfig::thumos14();
        cfg.min_length = 2;
        let d = try_localize(&cas, 8, 3, &scores, 1.0, &cfg).unwrap();
        assert_eq!(d.len(), 2, "the one-snippet run of class 2 is dropped");
        cfg.min_length = 1;
        cfg.thresholds = Thresholds::Absolute(vec![0.25]);
        cfg.class_threshold = 0.0;
        let d = try_localize(&cas, 8, 3, &scores, 1.0, &cfg).unwrap();
        // Class 1 (0.3 everywhere) is now one run over the whole video.
        assert!(d
            .iter()
            .any(|d| d.class == 1 && d.start == 0.0 && d.end == 8.0));
        cfg.score = ProposalScore::outer_inner();
        let d = try_localize(&cas, 8, 3, &scores, 1.0, &cfg).unwrap();
        let whole = d.iter().find(|d| d.class == 1).unwrap();
        // Inner 0.3, empty outer, + 0.2 x 0.05.
        assert!((whole.score - (0.3 + 0.01)).abs() < 1e-6, "{}", whole.score);
        cfg.upsample = 4;
        let d = try_localize(&cas, 8, 3, &scores, 1.0, &cfg).unwrap();
        assert!(d.iter().all(|d| d.end <= 8.0 + EPS));
    }

    #[test]
    fn bad_inputs_are_errors() {
        let (cas, scores) = toy_cas();
        let cfg = LocalizeConfig::thumos14();
        assert!(matches!(
            try_localize(&cas, 7, 3, &scores, 0.64, &cfg),
            Err(EvalError::Shape(_))
        ));
        assert!(try_localize(&cas, 8, 3, &scores[..2], 0.64, &cfg).is_err());
        assert!(try_localize(&cas, 8, 3, &scores, 0.0, &cfg).is_err());
        let mut nan = cas.clone();
        nan[4] = f32::NAN;
        assert!(matches!(
            try_localize(&nan, 8, 3, &scores, 0.64, &cfg),
            Err(EvalError::InvalidInput(_))
        ));
        let mut c = cfg.clone();
        c.upsample = 0;
        assert!(try_localize(&cas, 8, 3, &scores, 0.64, &c).is_err());
        assert!(try_localize(&[], 0, 3, &scores, 0.64, &cfg)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn config_serde_round_trip_and_labels() {
        for cfg in [
            LocalizeConfig::thumos14(),
            LocalizeConfig::activitynet(),
            LocalizeConfig::activitynet_long(),
            LocalizeConfig::thumos14_oic(),
            LocalizeConfig::activitynet_oic(),
        ] {
            let text = serde_json::to_string(&cfg).unwrap();
            let back: LocalizeConfig = serde_json::from_str(&text).unwrap();
            assert_eq!(back, cfg);
        }
        let classes = ClassList::thumos14();
        let d = to_detections(&[det(4, 0.5, 1.0, 2.0), det(99, 0.5, 1.0, 2.0)], &classes);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].label, "CliffDiving");
        assert_eq!(d[0].segment, [1.0, 2.0]);
    }

    /// The moving average equals a hand-computed one, window shrinking at the ends; window 0/1
    /// is the identity; an even window leans one sample forward.
    #[test]
    fn moving_average_by_hand() {
        let x = [0.0f32, 3.0, 6.0, 0.0, 3.0];
        assert_eq!(smooth_moving_average(&x, 1), x.to_vec());
        assert_eq!(smooth_moving_average(&x, 0), x.to_vec());
        let s = smooth_moving_average(&x, 3);
        let want = [1.5, 3.0, 3.0, 3.0, 1.5];
        for (a, b) in s.iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{s:?}");
        }
        // Window 2: [i, i+1].
        let s = smooth_moving_average(&x, 2);
        let want = [1.5, 4.5, 3.0, 1.5, 3.0];
        for (a, b) in s.iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{s:?}");
        }
        // A window wider than the signal: every output is a mean of a prefix/suffix, never
        // outside [min, max].
        let s = smooth_moving_average(&x, 99);
        assert!(
            s.iter().all(|v| (2.4 - 1e-6..=2.4 + 1e-6).contains(v)),
            "{s:?}"
        );
        assert!(smooth_moving_average(&[], 5).is_empty());
    }

    /// An ActivityNet-shaped video of 300 snippets with one instance over snippets 40..250:
    /// `(cas [300, 1], video score)` where the CAS inside the instance is `inside(t)` and 0.01
    /// outside.
    fn long_instance(inside: impl Fn(usize) -> f32) -> Vec<f32> {
        (0..300)
            .map(|t| {
                if (40..250).contains(&t) {
                    inside(t)
                } else {
                    0.01
                }
            })
            .collect()
    }

    /// The relative window is a share of the video: `smoothing_window` is the larger of the
    /// fixed window and `round(fraction · snippets)`, and localizing with a fraction gives
    /// exactly the detections of the fixed window it stands for, on videos of two lengths;
    /// a fraction outside [0, 1] is an error, not a silent clamp.
    #[test]
    fn relative_smoothing_is_the_fixed_window_of_that_share_of_the_video() {
        let cfg = LocalizeConfig {
            relative_smoothing: 0.1,
            ..LocalizeConfig::activitynet()
        };
        assert_eq!(cfg.smoothing_window(300), 30);
        assert_eq!(cfg.smoothing_window(84), 8);
        assert_eq!(cfg.smoothing_window(4), 1);
        let wide = LocalizeConfig {
            smoothing: 45,
            ..cfg.clone()
        };
        assert_eq!(wide.smoothing_window(300), 45);
        assert_eq!(LocalizeConfig::activitynet().smoothing_window(300), 1);
        let noisy = long_instance(|t| 0.05 + 0.5 * hash01(t));
        for n in [300usize, 120] {
            let cas = &noisy[..n];
            let fixed = LocalizeConfig {
                smoothing: cfg.smoothing_window(n),
                ..LocalizeConfig::activitynet()
            };
            let a = try_localize(cas, n, 1, &[0.9], 0.64, &cfg).unwrap();
            let b = try_localize(cas, n, 1, &[0.9], 0.64, &fixed).unwrap();
            assert_eq!(a, b, "{n} snippets");
            let plain = try_localize(cas, n, 1, &[0.9], 0.64, &LocalizeConfig::activitynet());
            assert_ne!(a, plain.unwrap(), "smoothing changes the detections");
        }
        for bad in [-0.1, 1.5, f64::NAN] {
            let cfg = LocalizeConfig {
                relative_smoothing: bad,
                ..LocalizeConfig::activitynet()
            };
            assert!(try_localize(&noisy, 300, 1, &[0.9], 0.64, &cfg).is_err());
        }
    }

    /// A deterministic pseudo-random value in [0, 1) per snippet (no RNG dependency).
    fn hash01(t: usize) -> f32 {
        let mut z = (t as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
        z = (z ^ (z >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        ((z >> 40) as f32) / (1u64 << 24) as f32
    }

    /// With the ActivityNet preset, a smooth CAS over one long instance gives exactly one
    /// detection (all four thresholds cut the same run; NMS merges them), and it matches the
    /// instance exactly.
    #[test]
    fn activitynet_smooth_long_instance_gives_one_matching_detection() {
        let cas =
            long_instance(|t| 0.6 + 0.3 * ((t - 40) as f32 / 210.0 * std::f32::consts::PI).sin());
        let d = try_localize(&cas, 300, 1, &[0.9], 0.64, &LocalizeConfig::activitynet()).unwrap();
        assert_eq!(d.len(), 1, "{d:?}");
        let iou = temporal_iou([d[0].start, d[0].end], [40.0 * 0.64, 250.0 * 0.64], false);
        assert!((iou - 1.0).abs() < 1e-9, "tIoU {iou}");
    }

    /// A CAS that jumps between about 0.02 and 0.5 from snippet to snippet inside a long
    /// instance (the fragmented CAS of MAAN on long actions): the paper's preset fragments it,
    /// and its best-scored detection misses the instance; the long-action preset (smoothing +
    /// outer-inner score) ranks a detection of tIoU >= 0.5 first, and every preset still
    /// contains one.
    #[test]
    fn activitynet_noisy_long_instance_still_gives_a_detection_of_tiou_half() {
        // Half of the snippets dip to ~0.02 (below 0.05 x max), so the paper preset's lowest
        // threshold breaks the instance into pieces.
        let cas = long_instance(|t| {
            let u = hash01(t);
            if u < 0.5 {
                0.02
            } else {
                0.1 + 0.4 * u
            }
        });
        let gt = [40.0 * 0.64, 250.0 * 0.64];
        let best_iou = |d: &[ClassDetection]| {
            d.iter()
                .map(|d| temporal_iou([d.start, d.end], gt, false))
                .fold(0.0, f64::max)
        };
        let paper =
            try_localize(&cas, 300, 1, &[0.9], 0.64, &LocalizeConfig::activitynet()).unwrap();
        assert!(
            paper.len() > 10,
            "the paper preset fragments: {}",
            paper.len()
        );
        let top = temporal_iou([paper[0].start, paper[0].end], gt, false);
        assert!(top < 0.5, "paper preset's top detection tIoU {top}");
        let long = try_localize(
            &cas,
            300,
            1,
            &[0.9],
            0.64,
            &LocalizeConfig {
                smoothing: 9,
                score: ProposalScore::outer_inner(),
                ..LocalizeConfig::activitynet()
            },
        )
        .unwrap();
        let top = temporal_iou([long[0].start, long[0].end], gt, false);
        assert!(top >= 0.5, "long-action preset's top detection tIoU {top}");
        assert!(best_iou(&long) >= 0.9, "{}", best_iou(&long));
        // Smoothing alone already gives a detection of tIoU >= 0.5.
        let mut smooth = LocalizeConfig::activitynet();
        smooth.smoothing = 9;
        let d = try_localize(&cas, 300, 1, &[0.9], 0.64, &smooth).unwrap();
        assert!(best_iou(&d) >= 0.5, "{}", best_iou(&d));
    }
    /// The localization pipeline as it was before attention proposals and soft-NMS existed,
    /// copied verbatim (only renamed): the oracle of the `paper` preset's bit-for-bit test.
    fn paper_oracle(
        cas: &[f32],
        num_snippets: usize,
        num_classes: usize,
        video_scores: &[f32],
        seconds_per_snippet: f64,
        cfg: &LocalizeConfig,
    ) -> Vec<ClassDetection> {
        let mut out = Vec::new();
        for c in reject_classes(video_scores, cfg.class_threshold) {
            let column = upsample_linear(
                &smooth_moving_average(
                    &class_column(cas, num_snippets, num_classes, c),
                    cfg.smoothing_window(num_snippets),
                ),
                cfg.upsample,
            );
            let mut proposals = Vec::new();
            for thr in threshold_values(&column, &cfg.thresholds) {
                for (s, e) in components_above(&column, thr) {
                    if e - s < cfg.min_length {
                        continue;
                    }
                    let score = match cfg.score {
                        ProposalScore::Mean => mean_score(&column, s, e),
                        ProposalScore::OuterInner { lambda, gamma } => {
                            outer_inner_score(&column, s, e, lambda, gamma, video_scores[c])
                        }
                    };
                    let (start, end) = snippets_to_seconds(s, e, seconds_per_snippet, cfg.upsample);
                    proposals.push(ClassDetection {
                        class: c,
                        score,
                        start,
                        end,
                    });
                }
            }
            out.extend(nms(&proposals, cfg.nms_iou, cfg.nms_plus_one));
        }
        out
    }

    /// A smooth-ish pseudo-random CAS `[t, c]` with bumps (so that thresholds cut several
    /// runs), video scores around the class threshold, and an attention `[t]`.
    fn random_video(t: usize, c: usize, seed: usize) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let mut cas = Vec::with_capacity(t * c);
        for i in 0..t {
            for k in 0..c {
                let bump = ((i as f32 / (3.0 + k as f32)).sin() * 0.5 + 0.5).powi(3);
                cas.push(bump * (0.3 + 0.7 * hash01(seed * 7919 + i * 31 + k)));
            }
        }
        let scores = (0..c)
            .map(|k| 0.02 + 0.5 * hash01(seed * 104_729 + k))
            .collect();
        let att = (0..t).map(|i| hash01(seed * 15_485_863 + i)).collect();
        (cas, scores, att)
    }

    /// The `paper` preset's detections equal, bit for bit (every field, `f64` compared by its
    /// bits), those of the pipeline before this change ([`paper_oracle`]), for both benchmarks
    /// and every earlier option (smoothing, outer-inner, upsampling, minimum length, "+1"),
    /// on 40 pseudo-random videos each, whether or not the video carries an attention (the
    /// paper presets cut none from it).
    #[test]
    fn paper_preset_detections_are_bit_for_bit_the_earlier_pipelines() {
        let mut configs = vec![
            LocalizeConfig::thumos14(),
            LocalizeConfig::activitynet(),
            LocalizeConfig {
                smoothing: 9,
                score: ProposalScore::outer_inner(),
                ..LocalizeConfig::activitynet()
            },
        ];
        let mut c = LocalizeConfig::thumos14();
        c.upsample = 4;
        c.min_length = 2;
        c.nms_plus_one = true;
        c.thresholds = Thresholds::RelativeToMax(vec![0.2, 0.1, 0.3]);
        configs.push(c);
        let mut compared = 0;
        for cfg in &configs {
            for seed in 0..40 {
                let (t, k) = (20 + seed * 7, 1 + seed % 5);
                let (cas, scores, att) = random_video(t, k, seed);
                let want = paper_oracle(&cas, t, k, &scores, 0.64, cfg);
                for attention in [None, Some(&att[..])] {
                    let got = try_localize_signals(
                        &VideoSignals {
                            cas: &cas,
                            attention,
                            num_snippets: t,
                            num_classes: k,
                            video_scores: &scores,
                            seconds_per_snippet: 0.64,
                        },
                        cfg,
                    )
                    .unwrap();
                    assert_eq!(got.len(), want.len());
                    for (a, b) in got.iter().zip(&want) {
                        assert_eq!(a.class, b.class);
                        assert_eq!(a.score.to_bits(), b.score.to_bits());
                        assert_eq!(a.start.to_bits(), b.start.to_bits());
                        assert_eq!(a.end.to_bits(), b.end.to_bits());
                    }
                    compared += got.len();
                }
            }
        }
        assert!(compared > 500, "too few detections compared: {compared}");
    }

    /// The outer-inner score by hand. Signal of 12 snippets, run `[4, 8)` (n = 4):
    /// inner = (0.8 + 1.0 + 0.6 + 0.8) / 4 = 0.8; λn = 0.25 × 4 = 1, so the flanks are
    /// `[int(4 − 1), 4) = [3, 4)` (0.4) and `[8, int(7 + 1)] = [8, 8]` (0.2): outer mean
    /// (0.4 + 0.2) / 2 = 0.3; with γ = 0.2 and class score 0.5: 0.8 − 0.3 + 0.1 = 0.6.
    /// Run `[1, 11)` (n = 10, λn = 2.5): flanks `[max(0, int(−1.5)), 1) = [0, 1)` (0.0) and
    /// `[11, min(11, int(10 + 2.5))] = [11, 11]` (0.1), outer mean 0.05; inner = sum of
    /// snippets 1..11 / 10 = (0.1 + 0.1 + 0.4 + 0.8 + 1.0 + 0.6 + 0.8 + 0.2 + 0.1 + 0.1) / 10
    /// = 0.42; with γ = 0: 0.42 − 0.05 = 0.37.
    #[test]
    fn outer_inner_score_by_hand() {
        let s = [0.0, 0.1, 0.1, 0.4, 0.8, 1.0, 0.6, 0.8, 0.2, 0.1, 0.1, 0.1];
        let v = outer_inner_score(&s, 4, 8, 0.25, 0.2, 0.5);
        assert!((v - 0.6).abs() < 1e-6, "{v}");
        let v = outer_inner_score(&s, 1, 11, 0.25, 0.0, 0.9);
        assert!((v - 0.37).abs() < 1e-6, "{v}");
    }

    /// Gaussian soft-NMS by hand (σ = 0.3, continuous tIoU). Detections A = [0, 10] score 0.9,
    /// B = [5, 15] score 0.8, C = [20, 30] score 0.7. A is taken first: tIoU(A, B) = 5 / 15 =
    /// 1/3, so B becomes 0.8 · exp(−(1/9) / 0.3) = 0.8 · exp(−0.37037) = 0.55238; tIoU(A, C) =
    /// 0, C stays 0.7. Next C (0.7 > 0.55238): tIoU(C, B) = 0, B stays. Result: A 0.9, C 0.7,
    /// B 0.55238. With "+1" lengths, tIoU(A, B) = 6 / 16 = 0.375: B = 0.8 · exp(−0.140625 /
    /// 0.3) = 0.8 · 0.62578 = 0.50062. Greedy NMS at 0.3 would drop B; soft-NMS keeps it.
    #[test]
    fn soft_nms_by_hand() {
        let d = [
            det(0, 0.8, 5.0, 15.0),
            det(0, 0.9, 0.0, 10.0),
            det(0, 0.7, 20.0, 30.0),
        ];
        let kept = soft_nms(&d, 0.3, false);
        assert_eq!(kept.len(), 3, "soft-NMS drops nothing");
        assert_eq!((kept[0].start, kept[0].score), (0.0, 0.9));
        assert_eq!((kept[1].start, kept[1].score), (20.0, 0.7));
        assert_eq!(kept[2].start, 5.0);
        let want = 0.8 * (-(1.0f64 / 9.0) / 0.3).exp();
        assert!((kept[2].score - want).abs() < 1e-12, "{}", kept[2].score);
        assert!((kept[2].score - 0.55238).abs() < 1e-5);
        let kept = soft_nms(&d, 0.3, true);
        assert!((kept[2].score - 0.50062).abs() < 1e-5, "{}", kept[2].score);
        assert_eq!(nms(&d, 0.3, false).len(), 2);
        // Exact duplicates decay by exp(−1 / σ); σ <= 0 leaves scores unchanged.
        let dup = soft_nms(&[d[1], d[1]], 0.3, false);
        assert!((dup[1].score - 0.9 * (-1.0f64 / 0.3).exp()).abs() < 1e-12);
        assert_eq!(soft_nms(&[d[1], d[1]], 0.0, false)[1].score, 0.9);
        assert!(soft_nms(&[], 0.3, false).is_empty());
    }

    /// Attention proposals on a hand-made video of 10 snippets, 2 classes, no upsampling.
    /// Attention [0.1, 0.9, 0.9, 0.2, 0.1, 0.6, 0.7, 0.6, 0.1, 0.1] at thresholds {0.5, 0.8}:
    /// 0.5 cuts [1, 3) and [5, 8); 0.8 cuts [1, 3) again. The CAS thresholds (absolute 2.0)
    /// cut nothing, so every proposal comes from the attention; both kept classes get the same
    /// runs, scored by the mean of their own column: class 0 (CAS = t / 10): [1, 3) 0.15,
    /// [5, 8) 0.6; class 1 (CAS 0.3 everywhere): 0.3 each. With NMS off (tIoU > 1) the
    /// duplicate [1, 3) stays: 3 proposals per class. Without an attention: none.
    #[test]
    fn attention_thresholds_cut_class_agnostic_runs_scored_per_class() {
        let att = [0.1f32, 0.9, 0.9, 0.2, 0.1, 0.6, 0.7, 0.6, 0.1, 0.1];
        let mut cas = Vec::new();
        for t in 0..10 {
            cas.extend([t as f32 / 10.0, 0.3]);
        }
        let mut cfg = LocalizeConfig::thumos14();
        cfg.thresholds = Thresholds::Absolute(vec![2.0]);
        cfg.attention_thresholds = Some(Thresholds::Absolute(vec![0.5, 0.8]));
        cfg.nms_iou = 1.01;
        let signals = VideoSignals {
            cas: &cas,
            attention: Some(&att),
            num_snippets: 10,
            num_classes: 2,
            video_scores: &[0.9, 0.4],
            seconds_per_snippet: 1.0,
        };
        let d = try_localize_signals(&signals, &cfg).unwrap();
        let of = |c: usize| -> Vec<(f64, f64, f64)> {
            d.iter()
                .filter(|d| d.class == c)
                .map(|d| (d.start, d.end, (d.score * 1e6).round() / 1e6))
                .collect()
        };
        assert_eq!(
            of(0),
            vec![(5.0, 8.0, 0.6), (1.0, 3.0, 0.15), (1.0, 3.0, 0.15)]
        );
        assert_eq!(of(1).len(), 3);
        assert!(of(1).iter().all(|x| x.2 == 0.3));
        // With NMS at 0.5 the duplicate goes.
        cfg.nms_iou = 0.5;
        let d = try_localize_signals(&signals, &cfg).unwrap();
        assert_eq!(d.iter().filter(|d| d.class == 0).count(), 2);
        // No attention: no proposal at all; a wrong-length attention is an error.
        let none = VideoSignals {
            attention: None,
            ..signals
        };
        assert!(try_localize_signals(&none, &cfg).unwrap().is_empty());
        let short = VideoSignals {
            attention: Some(&att[..9]),
            ..signals
        };
        assert!(matches!(
            try_localize_signals(&short, &cfg),
            Err(EvalError::Shape(_))
        ));
        let nan = [f32::NAN; 10];
        let bad = VideoSignals {
            attention: Some(&nan),
            ..signals
        };
        assert!(matches!(
            try_localize_signals(&bad, &cfg),
            Err(EvalError::InvalidInput(_))
        ));
        // Upsampling applies to the attention too: ×2 puts samples at t = 0, 0.5, 1, …; those
        // at 4.5 and 7.5 are (0.1 + 0.6) / 2 = 0.35 < 0.5, so the 0.5 run is samples 10..15,
        // [5.0, 7.5) s.
        cfg.upsample = 2;
        cfg.nms_iou = 1.01;
        let d = try_localize_signals(&signals, &cfg).unwrap();
        assert!(d
            .iter()
            .any(|d| d.class == 0 && d.start == 5.0 && d.end == 7.5));
    }

    /// The `oic` presets hold the published threshold sets (numpy `arange`: 10 CAS fractions
    /// 0 … 0.225 and 17 attention values 0.15 … 0.95), and the `paper` preset is exactly the
    /// earlier THUMOS14 / ActivityNet configuration; preset names parse and are recognised
    /// from a configuration.
    #[test]
    fn presets_hold_the_published_values() {
        let t = LocalizeConfig::thumos14_oic();
        let Thresholds::RelativeToMax(cas) = &t.thresholds else {
            panic!("relative CAS thresholds")
        };
        assert_eq!(cas.len(), 10);
        assert_eq!(cas[0], 0.0);
        assert!((cas[9] - 0.225).abs() < 1e-6);
        let Some(Thresholds::Absolute(att)) = &t.attention_thresholds else {
            panic!("absolute attention thresholds")
        };
        assert_eq!(att.len(), 17);
        assert!((att[0] - 0.15).abs() < 1e-6 && (att[16] - 0.95).abs() < 1e-6);
        assert_eq!(t.upsample, 24);
        assert_eq!(t.score, ProposalScore::outer_inner());
        assert_eq!((t.nms_iou, t.nms_plus_one), (0.6, true));
        let a = LocalizeConfig::activitynet_oic();
        assert_eq!((a.upsample, a.nms_iou), (20, 0.9));
        assert_eq!(arange(0.1, 0.925, 0.025).len(), 33);
        assert!(arange(0.1, 0.1, 0.025).is_empty() && arange(0.0, 1.0, 0.0).is_empty());
        assert_eq!(
            LocalizePreset::Paper.config(Benchmark::Thumos14),
            LocalizeConfig::thumos14()
        );
        assert_eq!(
            LocalizePreset::Paper.config(Benchmark::ActivityNet13),
            LocalizeConfig::activitynet()
        );
        assert_eq!("oic".parse::<LocalizePreset>(), Ok(LocalizePreset::Oic));
        assert!("fancy".parse::<LocalizePreset>().is_err());
        assert_eq!(
            LocalizePreset::identify(&LocalizeConfig::activitynet_oic(), Benchmark::ActivityNet13),
            Some(LocalizePreset::Oic)
        );
        assert_eq!(
            LocalizePreset::identify(
                &LocalizeConfig::activitynet_long(),
                Benchmark::ActivityNet13
            ),
            Some(LocalizePreset::Long)
        );
        assert_eq!("long".parse::<LocalizePreset>(), Ok(LocalizePreset::Long));
        let mut custom = LocalizeConfig::activitynet_long();
        custom.relative_smoothing = 0.2;
        assert_eq!(
            LocalizePreset::identify(&custom, Benchmark::ActivityNet13),
            None
        );
        assert_eq!(Suppression::default(), Suppression::Nms);
    }

    /// A configuration saved before `attention_thresholds` and `suppression` existed (a run's
    /// `config.json`) loads as the same procedure: no attention proposals, greedy NMS.
    #[test]
    fn configs_saved_before_the_new_fields_load_as_the_paper_procedure() {
        let old = r#"{"class_threshold":0.1,"thresholds":{"RelativeToMax":[0.2]},"smoothing":1,
            "upsample":1,"score":"Mean","nms_iou":0.5,"nms_plus_one":false,"min_length":1}"#;
        let cfg: LocalizeConfig = serde_json::from_str(old).unwrap();
        assert_eq!(cfg, LocalizeConfig::thumos14());
        let soft = LocalizeConfig {
            suppression: Suppression::soft_nms(),
            ..LocalizeConfig::thumos14_oic()
        };
        let back: LocalizeConfig =
            serde_json::from_str(&serde_json::to_string(&soft).unwrap()).unwrap();
        assert_eq!(back, soft);
    }

    /// The `oic` preset with soft-NMS keeps every proposal of a class (nothing dropped), with
    /// decayed scores, where greedy NMS drops the overlapping ones.
    #[test]
    fn soft_nms_option_keeps_every_proposal() {
        let (cas, scores, att) = random_video(60, 2, 3);
        let signals = VideoSignals {
            cas: &cas,
            attention: Some(&att),
            num_snippets: 60,
            num_classes: 2,
            video_scores: &scores,
            seconds_per_snippet: 0.64,
        };
        let mut cfg = LocalizeConfig::thumos14_oic();
        cfg.class_threshold = 0.0;
        let hard = try_localize_signals(&signals, &cfg).unwrap();
        cfg.nms_iou = 1.01;
        let all = try_localize_signals(&signals, &cfg).unwrap();
        cfg.suppression = Suppression::soft_nms();
        let soft = try_localize_signals(&signals, &cfg).unwrap();
        assert_eq!(soft.len(), all.len());
        assert!(hard.len() < soft.len(), "{} vs {}", hard.len(), soft.len());
    }
}
