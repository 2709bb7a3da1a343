//! The localization option group (`--localize`, `--suppression`, `--nms-iou`,
//! `--soft-nms-sigma`, `--cas-smoothing`, `--cas-smoothing-fraction`, `--proposal-score`);
//! settings describe themselves in one line with `LocalizeConfig::describe` (maan-eval).

use anyhow::{bail, Result};
use dataset::{Benchmark, WtalDataset};
use maan_eval::localize::{LocalizeConfig, LocalizePreset, ProposalScore, Suppression};

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
    /// Gaussian soft-NMS (σ = 0.3 as CO2-Net and DELU, or the settings' own width when they
    /// already use soft-NMS): every proposal kept, overlapping ones' scores decayed.
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
    /// thresholds, proposals from the attention too, soft-NMS σ = 0.5) [default: `train`: the
    /// recommended settings of the benchmark and aggregator (paper, except long for MAAN and
    /// STPN on ActivityNet and oic for MAAN, STPN and Dropout on THUMOS14;
    /// --paper for the paper's);
    /// `test` / `predict`: the run's own settings].
    #[arg(long, value_name = "paper|oic|long")]
    pub localize: Option<LocalizePreset>,
    /// Greedy NMS (nms; the paper and oic presets) or Gaussian soft-NMS (soft-nms; σ = 0.3,
    /// or the settings' own width when they already use it, as `long` does: 0.5).
    #[arg(long, value_enum)]
    pub suppression: Option<SuppressionArg>,
    /// Greedy NMS: of two proposals of a class overlapping by more than this tIoU, the
    /// lower-scored one is dropped [default: the preset's: THUMOS14 paper 0.5, oic 0.6;
    /// ActivityNet1.3 0.9].
    #[arg(long, value_name = "TIOU", value_parser = parse_nms_iou, conflicts_with = "soft_nms_sigma")]
    pub nms_iou: Option<f64>,
    /// Soft-NMS: the width σ of its penalty exp(−tIoU² / σ); selects soft-NMS when
    /// --suppression is not given [default: the settings' own when they use soft-NMS (the
    /// `long` preset: 0.5), else 0.3].
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
            // Soft-NMS already (the `long` preset, σ = 0.5): keep its width.
            (Some(SuppressionArg::SoftNms), None) => {
                if !matches!(cfg.suppression, Suppression::SoftNms { .. }) {
                    cfg.suppression = Suppression::soft_nms()
                }
            }
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
        self.for_benchmark(data.kind)
    }

    /// The settings for data of benchmark `kind`: its preset with the options applied, or
    /// `None` (the preset itself) when no option was given.
    pub fn for_benchmark(&self, kind: Benchmark) -> Result<Option<LocalizeConfig>> {
        self.is_set()
            .then(|| self.apply(&kind.paper_localize(), kind))
            .transpose()
    }
}
