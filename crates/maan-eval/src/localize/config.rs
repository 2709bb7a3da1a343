//! The settings of the localization pipeline: [`LocalizeConfig`], its parts ([`Thresholds`],
//! [`ProposalScore`], [`Suppression`]) and the named presets ([`LocalizePreset`]).

use crate::benchmark::Benchmark;

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
    /// the outer region `lambda × length` on each side (see `outer_inner_score` in the score step).
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
    /// Greedy NMS at [`LocalizeConfig::nms_iou`] (the paper presets, and BaS-Net,
    /// UM, CoLA, ACM-Net, ASM-Loc).
    #[default]
    Nms,
    /// Gaussian soft-NMS (Bodla et al., 2017): no proposal is dropped, each
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

/// The soft-NMS width of the `long` preset ([`LocalizeConfig::activitynet_long`]): 0.5, wider
/// than [`SOFT_NMS_SIGMA`], so that a long proposal keeps more of its score beside the
/// shorter ones it overlaps (measured on the ActivityNet-shaped family: +1.2 points of
/// average mAP for MAAN, +0.4 for STPN over σ = 0.3, seeds 0-2).
pub const LONG_SOFT_NMS_SIGMA: f64 = 0.5;

/// The attention thresholds of the `long` preset, fractions of the attention's maximum in
/// the video: runs of snippets the model finds action-like whatever their class, which on
/// long actions cover more of an instance than the class's CAS does.
pub const LONG_ATTENTION_THRESHOLDS: [f32; 4] = [0.5, 0.3, 0.2, 0.1];

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

impl Benchmark {
    /// The benchmark's configuration of a named localization preset.
    pub fn localize(self, preset: LocalizePreset) -> LocalizeConfig {
        preset.config(self)
    }

    /// The paper's localization (MAAN section 3.1) on this benchmark: [`LocalizePreset::Paper`].
    pub fn paper_localize(self) -> LocalizeConfig {
        self.localize(LocalizePreset::Paper)
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
pub(crate) fn arange(start: f64, stop: f64, step: f64) -> Vec<f32> {
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
    /// (and to the attention) before thresholding ([`smooth_moving_average`](super::smooth_moving_average); 0 or 1 = none,
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
    /// video (`relative_smoothing` 0.1), lower thresholds {0.1, 0.05, 0.02} × max, proposals
    /// also cut from the class-agnostic attention at {0.5, 0.3, 0.2, 0.1} × its maximum in
    /// the video ([`LONG_ATTENTION_THRESHOLDS`]), and Gaussian soft-NMS with σ = 0.5
    /// ([`LONG_SOFT_NMS_SIGMA`]). Chosen on the ActivityNet-shaped family with seeds 0-2, for
    /// MAAN and STPN alike, among the candidates of docs/results/activitynet.md (second
    /// round, 2026-12-04; the first round's `long` had no attention proposals and σ = 0.3);
    /// the localization of `TrainConfig::recommended` for both there.
    pub fn activitynet_long() -> Self {
        LocalizeConfig {
            relative_smoothing: 0.1,
            thresholds: Thresholds::RelativeToMax(vec![0.1, 0.05, 0.02]),
            attention_thresholds: Some(Thresholds::RelativeToMax(
                LONG_ATTENTION_THRESHOLDS.to_vec(),
            )),
            suppression: Suppression::SoftNms {
                sigma: LONG_SOFT_NMS_SIGMA,
            },
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

impl Thresholds {
    /// The set in one line: `{0.2, 0.15} x max`, `{0.5}`; sets of more than five values as
    /// `{first, second, …, last} (n values)`.
    pub fn describe(&self) -> String {
        let (v, suffix) = match self {
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
}

impl LocalizeConfig {
    /// The settings in one line, for logs and tables: `thresholds {0.2} x max, mean score, NMS
    /// 0.5`.
    pub fn describe(&self) -> String {
        let thresholds = self.thresholds.describe();
        let attention = match &self.attention_thresholds {
            Some(t) => format!(", attention thresholds {}", t.describe()),
            None => String::new(),
        };
        let upsample = if self.upsample > 1 {
            format!(", upsampled x{}", self.upsample)
        } else {
            String::new()
        };
        let plus_one = if self.nms_plus_one { " (+1)" } else { "" };
        let suppression = match self.suppression {
            Suppression::Nms => format!("NMS {}{plus_one}", self.nms_iou),
            Suppression::SoftNms { sigma } => format!("soft-NMS sigma {sigma}{plus_one}"),
        };
        let score = match self.score {
            ProposalScore::Mean => "mean score".to_string(),
            ProposalScore::OuterInner { .. } => "outer-inner score".to_string(),
        };
        let smoothing = match (self.smoothing > 1, self.relative_smoothing > 0.0) {
            (true, true) => format!(
                ", CAS smoothed over max({} snippets, {} of the video)",
                self.smoothing, self.relative_smoothing
            ),
            (true, false) => format!(", CAS smoothed over {} snippets", self.smoothing),
            (false, true) => format!(
                ", CAS smoothed over {} of the video",
                self.relative_smoothing
            ),
            (false, false) => String::new(),
        };
        format!("thresholds {thresholds}{attention}{upsample}, {score}, {suppression}{smoothing}")
    }
}
