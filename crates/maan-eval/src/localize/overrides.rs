//! Changes to a localization configuration ([`LocalizeOverrides`]): a named preset and single
//! options over a base (a run's settings, or a benchmark's paper preset), checked in one place.
//! Every command and experiment that takes localization options applies them through this type.

use crate::benchmark::Benchmark;

use super::config::{LocalizeConfig, LocalizePreset, ProposalScore, Suppression};

/// How the proposals of a class are pruned, as an override names it (the parameters come from
/// the settings or from [`LocalizeOverrides::soft_nms_sigma`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuppressionKind {
    /// Greedy NMS at [`LocalizeConfig::nms_iou`].
    Nms,
    /// Gaussian soft-NMS: σ = [`super::SOFT_NMS_SIGMA`], or the settings' own width when they
    /// already use soft-NMS.
    SoftNms,
}

impl std::fmt::Display for SuppressionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SuppressionKind::Nms => "nms",
            SuppressionKind::SoftNms => "soft-nms",
        })
    }
}

impl std::str::FromStr for SuppressionKind {
    type Err = String;
    /// `nms` or `soft-nms`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "nms" => Ok(SuppressionKind::Nms),
            "soft-nms" => Ok(SuppressionKind::SoftNms),
            other => Err(format!(
                "unknown suppression {other:?} (expected nms or soft-nms)"
            )),
        }
    }
}

/// How a proposal is scored, as an override names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProposalScoreKind {
    /// The mean CAS over the proposal.
    Mean,
    /// The outer-inner contrast with the published values ([`ProposalScore::outer_inner`]).
    OuterInner,
}

impl std::fmt::Display for ProposalScoreKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ProposalScoreKind::Mean => "mean",
            ProposalScoreKind::OuterInner => "outer-inner",
        })
    }
}

impl std::str::FromStr for ProposalScoreKind {
    type Err = String;
    /// `mean` or `outer-inner`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "mean" => Ok(ProposalScoreKind::Mean),
            "outer-inner" => Ok(ProposalScoreKind::OuterInner),
            other => Err(format!(
                "unknown proposal score {other:?} (expected mean or outer-inner)"
            )),
        }
    }
}

/// A contradiction between localization overrides, or between an override and its base, or a
/// value out of its range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LocalizeOverrideError {
    /// A soft-NMS width was given with greedy NMS chosen.
    #[error("a soft-NMS width applies to soft-NMS, not to greedy NMS")]
    SigmaWithNms,
    /// An NMS threshold was given where soft-NMS is used (it keeps every proposal).
    #[error("an NMS tIoU applies to greedy NMS; these settings use soft-NMS")]
    NmsIouWithSoftNms,
    /// An NMS threshold outside `(0, 1]`.
    #[error("{0} is not a tIoU in (0, 1]")]
    NmsIou(f64),
    /// A soft-NMS width that is not a positive finite number.
    #[error("{0} is not a positive number")]
    Sigma(f64),
    /// A smoothing fraction outside `[0, 1]`.
    #[error("{0} is not a fraction in [0, 1]")]
    Fraction(f64),
}

/// Checks an NMS tIoU: in `(0, 1]`.
pub fn check_nms_iou(v: f64) -> Result<f64, LocalizeOverrideError> {
    if v > 0.0 && v <= 1.0 {
        Ok(v)
    } else {
        Err(LocalizeOverrideError::NmsIou(v))
    }
}

/// Checks a soft-NMS width: finite and above 0.
pub fn check_soft_nms_sigma(v: f64) -> Result<f64, LocalizeOverrideError> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(LocalizeOverrideError::Sigma(v))
    }
}

/// Checks a smoothing fraction: in `[0, 1]`.
pub fn check_fraction(v: f64) -> Result<f64, LocalizeOverrideError> {
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(LocalizeOverrideError::Fraction(v))
    }
}

/// Changes to a localization configuration; `None` keeps the base's value. `preset` replaces
/// the base by that preset of the benchmark, then the other fields change it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LocalizeOverrides {
    /// A named preset in place of the base.
    pub preset: Option<LocalizePreset>,
    /// Greedy NMS or soft-NMS.
    pub suppression: Option<SuppressionKind>,
    /// Greedy NMS's tIoU ([`LocalizeConfig::nms_iou`]).
    pub nms_iou: Option<f64>,
    /// Soft-NMS's width; selects soft-NMS when `suppression` is not given.
    pub soft_nms_sigma: Option<f64>,
    /// CAS smoothing window in snippets ([`LocalizeConfig::smoothing`]).
    pub smoothing: Option<usize>,
    /// CAS smoothing window as a fraction of the video ([`LocalizeConfig::relative_smoothing`]).
    pub relative_smoothing: Option<f64>,
    /// How proposals are scored.
    pub score: Option<ProposalScoreKind>,
}

impl LocalizeOverrides {
    /// Whether any override is given.
    pub fn is_set(&self) -> bool {
        *self != LocalizeOverrides::default()
    }

    /// Checks each value against its range (NMS tIoU in `(0, 1]`, soft-NMS width above 0,
    /// smoothing fraction in `[0, 1]`).
    ///
    /// # Errors
    /// The first value out of range.
    pub fn validate(&self) -> Result<(), LocalizeOverrideError> {
        self.nms_iou.map(check_nms_iou).transpose()?;
        self.soft_nms_sigma.map(check_soft_nms_sigma).transpose()?;
        self.relative_smoothing.map(check_fraction).transpose()?;
        Ok(())
    }

    /// `base` with the overrides applied: `preset` replaces it by that preset of benchmark
    /// `kind`, then the other fields change it.
    ///
    /// # Errors
    /// A value out of its range, a soft-NMS width with greedy NMS chosen, or an NMS tIoU where
    /// soft-NMS is used.
    pub fn apply(
        &self,
        base: &LocalizeConfig,
        kind: Benchmark,
    ) -> Result<LocalizeConfig, LocalizeOverrideError> {
        self.validate()?;
        let mut cfg = match self.preset {
            Some(preset) => preset.config(kind),
            None => base.clone(),
        };
        match (self.suppression, self.soft_nms_sigma) {
            (Some(SuppressionKind::Nms), Some(_)) => {
                return Err(LocalizeOverrideError::SigmaWithNms)
            }
            (Some(SuppressionKind::Nms), None) => cfg.suppression = Suppression::Nms,
            (_, Some(sigma)) => cfg.suppression = Suppression::SoftNms { sigma },
            // Soft-NMS already (the `long` preset, σ = 0.5): keep its width.
            (Some(SuppressionKind::SoftNms), None) => {
                if !matches!(cfg.suppression, Suppression::SoftNms { .. }) {
                    cfg.suppression = Suppression::soft_nms()
                }
            }
            (None, None) => {}
        }
        if let Some(iou) = self.nms_iou {
            if !matches!(cfg.suppression, Suppression::Nms) {
                return Err(LocalizeOverrideError::NmsIouWithSoftNms);
            }
            cfg.nms_iou = iou;
        }
        if let Some(k) = self.smoothing {
            cfg.smoothing = k;
        }
        if let Some(f) = self.relative_smoothing {
            cfg.relative_smoothing = f;
        }
        match self.score {
            Some(ProposalScoreKind::Mean) => cfg.score = ProposalScore::Mean,
            Some(ProposalScoreKind::OuterInner) => cfg.score = ProposalScore::outer_inner(),
            None => {}
        }
        Ok(cfg)
    }

    /// The settings for data of benchmark `kind` with no base of its own: the benchmark's
    /// paper preset with the overrides applied, or `None` (the preset itself) when none is
    /// given.
    ///
    /// # Errors
    /// As [`LocalizeOverrides::apply`].
    pub fn for_benchmark(
        &self,
        kind: Benchmark,
    ) -> Result<Option<LocalizeConfig>, LocalizeOverrideError> {
        self.is_set()
            .then(|| self.apply(&kind.paper_localize(), kind))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn over() -> LocalizeOverrides {
        LocalizeOverrides::default()
    }

    /// No override keeps the base; a preset replaces it on the given benchmark; the single
    /// options then change it.
    #[test]
    fn preset_replaces_the_base_and_options_change_it() {
        let base = LocalizeConfig::thumos14_oic();
        assert!(!over().is_set());
        assert_eq!(over().apply(&base, Benchmark::Thumos14).unwrap(), base);
        let paper = LocalizeOverrides {
            preset: Some(LocalizePreset::Paper),
            ..over()
        };
        assert!(paper.is_set());
        assert_eq!(
            paper.apply(&base, Benchmark::ActivityNet13).unwrap(),
            LocalizeConfig::activitynet()
        );
        let changed = LocalizeOverrides {
            smoothing: Some(5),
            relative_smoothing: Some(0.1),
            score: Some(ProposalScoreKind::OuterInner),
            nms_iou: Some(0.7),
            ..paper
        }
        .apply(&base, Benchmark::Thumos14)
        .unwrap();
        let mut want = LocalizeConfig::thumos14();
        want.smoothing = 5;
        want.relative_smoothing = 0.1;
        want.score = ProposalScore::outer_inner();
        want.nms_iou = 0.7;
        assert_eq!(changed, want);
    }

    /// Soft-NMS named on settings that already use it keeps their width (the `long` preset's
    /// 0.5); on greedy settings it takes σ = 0.3; a width alone selects soft-NMS.
    #[test]
    fn soft_nms_keeps_the_settings_own_width() {
        let soft = LocalizeOverrides {
            suppression: Some(SuppressionKind::SoftNms),
            ..over()
        };
        let long = LocalizeConfig::activitynet_long();
        assert_eq!(soft.apply(&long, Benchmark::ActivityNet13).unwrap(), long);
        let paper = LocalizeConfig::thumos14();
        assert_eq!(
            soft.apply(&paper, Benchmark::Thumos14).unwrap().suppression,
            Suppression::SoftNms { sigma: 0.3 }
        );
        let sigma = LocalizeOverrides {
            soft_nms_sigma: Some(0.5),
            ..over()
        };
        assert_eq!(
            sigma
                .apply(&paper, Benchmark::Thumos14)
                .unwrap()
                .suppression,
            Suppression::SoftNms { sigma: 0.5 }
        );
    }

    /// Contradictions and out-of-range values are errors, each its own.
    #[test]
    fn contradictions_and_ranges_are_errors() {
        let paper = LocalizeConfig::thumos14();
        let cases = [
            (
                LocalizeOverrides {
                    suppression: Some(SuppressionKind::Nms),
                    soft_nms_sigma: Some(0.5),
                    ..over()
                },
                LocalizeOverrideError::SigmaWithNms,
            ),
            (
                LocalizeOverrides {
                    suppression: Some(SuppressionKind::SoftNms),
                    nms_iou: Some(0.7),
                    ..over()
                },
                LocalizeOverrideError::NmsIouWithSoftNms,
            ),
            (
                LocalizeOverrides {
                    nms_iou: Some(1.5),
                    ..over()
                },
                LocalizeOverrideError::NmsIou(1.5),
            ),
            (
                LocalizeOverrides {
                    soft_nms_sigma: Some(0.0),
                    ..over()
                },
                LocalizeOverrideError::Sigma(0.0),
            ),
            (
                LocalizeOverrides {
                    relative_smoothing: Some(-0.1),
                    ..over()
                },
                LocalizeOverrideError::Fraction(-0.1),
            ),
        ];
        for (o, want) in cases {
            assert_eq!(o.apply(&paper, Benchmark::Thumos14), Err(want));
        }
        // NMS's threshold on the `long` preset (soft-NMS) is refused too.
        let iou = LocalizeOverrides {
            nms_iou: Some(0.7),
            ..over()
        };
        assert_eq!(
            iou.apply(
                &LocalizeConfig::activitynet_long(),
                Benchmark::ActivityNet13
            ),
            Err(LocalizeOverrideError::NmsIouWithSoftNms)
        );
    }

    /// The kinds parse from and print as their command-line names.
    #[test]
    fn kinds_round_trip_their_names() {
        for k in [SuppressionKind::Nms, SuppressionKind::SoftNms] {
            assert_eq!(k.to_string().parse::<SuppressionKind>(), Ok(k));
        }
        for k in [ProposalScoreKind::Mean, ProposalScoreKind::OuterInner] {
            assert_eq!(k.to_string().parse::<ProposalScoreKind>(), Ok(k));
        }
        assert!("greedy".parse::<SuppressionKind>().is_err());
    }

    /// Without a base: nothing given is `None` (the benchmark's preset); anything given starts
    /// from the benchmark's paper preset.
    #[test]
    fn for_benchmark_starts_from_the_paper_preset() {
        assert_eq!(over().for_benchmark(Benchmark::Thumos14), Ok(None));
        let o = LocalizeOverrides {
            smoothing: Some(3),
            ..over()
        };
        let mut want = LocalizeConfig::activitynet();
        want.smoothing = 3;
        assert_eq!(o.for_benchmark(Benchmark::ActivityNet13), Ok(Some(want)));
    }
}
