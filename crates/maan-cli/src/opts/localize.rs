//! The localization option group (`--localize`, `--suppression`, `--nms-iou`,
//! `--soft-nms-sigma`, `--cas-smoothing`, `--cas-smoothing-fraction`, `--proposal-score`);
//! settings describe themselves in one line with `LocalizeConfig::describe` (maan-eval).

use anyhow::{anyhow, Result};
use dataset::Benchmark;
use maan_eval::localize::{
    check_fraction, check_nms_iou, check_soft_nms_sigma, LocalizeConfig, LocalizeOverrideError,
    LocalizeOverrides, LocalizePreset, ProposalScoreKind, SuppressionKind,
};

/// Localization options shared by `train` (its evaluations; saved in the run's config.json),
/// `test`, `predict`, `demo` and `experiment`, mapped onto the library's
/// [`LocalizeOverrides`]: unset options keep the base (the recipe's localization for `train`
/// and `demo`, the run's own for `test` and `predict`, the dataset's paper preset for the
/// experiments); `--localize` replaces the base by a named preset; the other options then
/// change it.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LocalizeOpts {
    /// Localization preset: paper (MAAN section 3.1: thresholds on the CAS, mean score), oic
    /// (many thresholds on the CAS and on the attention p_t, outer-inner score, upsampling,
    /// NMS; the post-processing of BaS-Net/UM/CoLA/ACM-Net: maan-eval's `localize` docs) or
    /// long (ActivityNet's long actions: the CAS smoothed over a tenth of the video, lower
    /// thresholds, proposals from the attention too, soft-NMS σ = 0.5). On `test` and
    /// `predict`, unset options keep the run's own settings.
    #[arg(long, value_name = "paper|oic|long")]
    pub localize: Option<LocalizePreset>,
    /// Greedy NMS (nms; the paper and oic presets) or Gaussian soft-NMS (soft-nms; σ = 0.3,
    /// or the settings' own width when they already use it, as `long` does: 0.5).
    #[arg(long, value_name = "nms|soft-nms")]
    pub suppression: Option<SuppressionKind>,
    /// Greedy NMS: of two proposals of a class overlapping by more than this tIoU, the
    /// lower-scored one is dropped.
    #[arg(long, value_name = "TIOU", value_parser = checked(check_nms_iou), conflicts_with = "soft_nms_sigma")]
    pub nms_iou: Option<f64>,
    /// Soft-NMS: the width σ of its penalty exp(−tIoU² / σ); selects soft-NMS when
    /// --suppression is not given.
    #[arg(long, value_name = "SIGMA", value_parser = checked(check_soft_nms_sigma))]
    pub soft_nms_sigma: Option<f64>,
    /// Average each class's CAS over a centred window of N snippets before thresholding
    /// (1: none, the paper). Long actions (ActivityNet) fragment without it; 9 is a good
    /// start there.
    #[arg(long, value_name = "N")]
    pub cas_smoothing: Option<usize>,
    /// Average each class's CAS (and the attention) over a centred window of this fraction of
    /// the video's snippets (the window is the larger of this and --cas-smoothing), for
    /// actions that last a share of a video rather than a fixed time (ActivityNet); 0: none.
    #[arg(long, value_name = "FRACTION", value_parser = checked(check_fraction))]
    pub cas_smoothing_fraction: Option<f64>,
    /// How a proposal is scored (the paper does not say; default: mean): mean (the mean CAS
    /// over the proposal) or outer-inner (the contrast of BaSNet/UM/CoLA, λ = 0.25, γ = 0.2:
    /// the mean inside minus the mean of the flanks, plus 0.2 × the video-level class score).
    #[arg(long, value_name = "mean|outer-inner")]
    pub proposal_score: Option<ProposalScoreKind>,
}

/// A value parser that parses an `f64` and checks it with a library check.
fn checked(
    check: fn(f64) -> Result<f64, LocalizeOverrideError>,
) -> impl Fn(&str) -> Result<f64, String> + Clone + Send + Sync + 'static {
    move |s: &str| {
        let v = s
            .parse::<f64>()
            .map_err(|_| format!("'{s}' is not a number"))?;
        check(v).map_err(|e| e.to_string())
    }
}

impl LocalizeOpts {
    /// The options as the library's overrides.
    pub fn overrides(&self) -> LocalizeOverrides {
        LocalizeOverrides {
            preset: self.localize,
            suppression: self.suppression,
            nms_iou: self.nms_iou,
            soft_nms_sigma: self.soft_nms_sigma,
            smoothing: self.cas_smoothing,
            relative_smoothing: self.cas_smoothing_fraction,
            score: self.proposal_score,
        }
    }

    /// Whether any option was given.
    pub fn is_set(&self) -> bool {
        self.overrides().is_set()
    }

    /// `base` with the options applied ([`LocalizeOverrides::apply`]), its errors in the
    /// words of the flags.
    pub fn apply(&self, base: &LocalizeConfig, kind: Benchmark) -> Result<LocalizeConfig> {
        self.overrides().apply(base, kind).map_err(localize_error)
    }

    /// The settings for data of benchmark `kind` ([`LocalizeOverrides::for_benchmark`]).
    pub fn for_benchmark(&self, kind: Benchmark) -> Result<Option<LocalizeConfig>> {
        self.overrides().for_benchmark(kind).map_err(localize_error)
    }
}

/// A localization override error in the words of the flags.
pub fn localize_error(err: LocalizeOverrideError) -> anyhow::Error {
    match err {
        LocalizeOverrideError::SigmaWithNms => {
            anyhow!("--soft-nms-sigma applies to soft-NMS, not to --suppression nms")
        }
        LocalizeOverrideError::NmsIouWithSoftNms => anyhow!(
            "--nms-iou applies to greedy NMS; these settings use soft-NMS (give --suppression \
             nms to switch)"
        ),
        LocalizeOverrideError::NmsIou(_) => anyhow!("--nms-iou {err}"),
        LocalizeOverrideError::Sigma(_) => anyhow!("--soft-nms-sigma {err}"),
        LocalizeOverrideError::Fraction(_) => anyhow!("--cas-smoothing-fraction {err}"),
    }
}
