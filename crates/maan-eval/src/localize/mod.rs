//! From a class activation sequence (CAS) to detections: the MAAN test-time pipeline, and the
//! richer post-processing of later WTAL code as an option.
//!
//! Per video, with the CAS `[T, C]` (row-major), the video-level class scores `[C]`, optionally
//! the class-agnostic attention `[T]`, and the duration of one snippet in seconds,
//! [`try_localize_signals`], the one entry point, runs these steps (`proposals.rs`: rejection,
//! smoothing, upsampling, thresholds, components, seconds; `score.rs`: proposal scores;
//! `suppress.rs`: NMS and soft-NMS; `config.rs`: the settings and presets):
//!
//! 1. **class rejection** (`reject_classes`): classes whose video-level score is below
//!    [`LocalizeConfig::class_threshold`] (0.1, MAAN section 3.1) are dropped;
//! 2. optional **temporal smoothing** of each kept class's CAS column (and of the attention)
//!    ([`LocalizeConfig::smoothing`], a centred moving average, [`smooth_moving_average`]; off
//!    by default, see "Long actions" below);
//! 3. optional **linear upsampling** of the column (and of the attention) (`upsample_linear`,
//!    as scipy's `interp1d(..., fill_value="extrapolate")` on `arange(0, T, 1/factor)`);
//! 4. **thresholds** on the CAS column (`threshold_values`): relative to the maximum of the
//!    class's column (0.2 × max for THUMOS14; {0.2, 0.15, 0.1, 0.05} × max for ActivityNet1.3)
//!    or absolute; a snippet is active when its value is `>=` the threshold;
//! 5. optional **thresholds on the attention** ([`LocalizeConfig::attention_thresholds`]; off
//!    in the paper presets): see "Attention proposals" below;
//! 6. **1-D connected components** (`connected_components`) of the active snippets, for every
//!    threshold of both signals, all pooled (runs shorter than
//!    [`LocalizeConfig::min_length`] dropped);
//! 7. **proposal score** ([`ProposalScore`]) on the class's CAS column: the mean over the
//!    segment (default) or the outer-inner contrast (`outer_inner_score`);
//! 8. **per-class suppression** ([`LocalizeConfig::suppression`]): greedy NMS (`nms`, the
//!    default), dropping a proposal whose tIoU with a kept one is `>=`
//!    [`LocalizeConfig::nms_iou`], or Gaussian soft-NMS (`soft_nms`), which drops nothing and
//!    decays scores; the tIoU uses lengths `end - start` with **no "+1"** by default
//!    ([`LocalizeConfig::nms_plus_one`] switches to the "+1" convention of the public code);
//! 9. **snippet indices to seconds** (`snippets_to_seconds`): a run of snippets
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
//! [`LocalizeConfig::activitynet_oic`]): many thresholds on the CAS and on the attention,
//! upsampling, the outer-inner score and NMS with "+1" lengths. Where each value comes from
//! (the public code of those papers, and what is adapted to MAAN's outputs) is in
//! `docs/localization.md`, "Where the `oic` values come from". Gaussian soft-NMS is an option
//! of every preset, not part of one: [`Suppression::SoftNms`] with σ = 0.3
//! ([`SOFT_NMS_SIGMA`], the value of CO2-Net and DELU).
//!
//! **`long`** ([`LocalizeConfig::activitynet_long`]) is made for ActivityNet1.3's long
//! actions: see "Long actions" below.
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
//! The outer-inner (OIC) score (`outer_inner_score`) is scored on the CAS itself (as
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
//! strongly still covers the rest of it at a few percent of its maximum), adds the runs of
//! the class-agnostic attention above fractions of its maximum (a model's attention rates
//! the whole of an action more evenly than the class's CAS, which peaks on the most
//! discriminative part), and keeps the overlapping candidates with soft-NMS (σ = 0.5)
//! rather than dropping them.

mod config;
mod overrides;
mod proposals;
mod score;
mod suppress;
#[cfg(test)]
mod tests;

pub use config::{
    LocalizeConfig, LocalizePreset, ProposalScore, Suppression, Thresholds,
    LONG_ATTENTION_THRESHOLDS, LONG_SOFT_NMS_SIGMA, SOFT_NMS_SIGMA,
};
pub use overrides::{
    check_fraction, check_nms_iou, check_soft_nms_sigma, LocalizeOverrideError, LocalizeOverrides,
    ProposalScoreKind, SuppressionKind,
};
pub use proposals::smooth_moving_average;

use crate::error::{EvalError, Result};
use proposals::{
    class_column, components_above, reject_classes, snippets_to_seconds, threshold_values,
    upsample_linear,
};
use score::{mean_score, outer_inner_score};
use suppress::{nms, soft_nms};

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

/// The pipeline of the module docs on one video, with the attention proposals when both the
/// video has an attention and `cfg.attention_thresholds` is set. The result is ordered by
/// class, then by descending score.
///
/// # Errors
/// [`EvalError::Shape`] if `cas.len() != num_snippets * num_classes`,
/// `video_scores.len() != num_classes` or the attention's length is not `num_snippets`;
/// [`EvalError::InvalidInput`] for NaN in the CAS, the scores or the attention, a
/// `seconds_per_snippet` that is not finite and positive, `upsample == 0`, or a
/// `relative_smoothing` outside [0, 1].
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
