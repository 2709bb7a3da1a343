//! A training configuration from a recipe and overrides, in one place: [`Recipe`] (the
//! recommended settings or the paper's), [`TrainOverrides`] (single settings changed over a
//! base), the range of every setting (`Setting::check`, which [`TrainConfig::validate`] and
//! [`TrainOverrides::validate`] both use), and the overrides that disagree with a run being
//! resumed ([`TrainOverrides::resume`]).
//!
//! ```
//! use maan_model::{Recipe, TrainOverrides};
//! use maan_eval::Benchmark;
//! // The recommended recipe for MAAN on THUMOS14, with two changes.
//! let overrides = TrainOverrides {
//!     iterations: Some(2000),
//!     seed: Some(3),
//!     ..TrainOverrides::default()
//! };
//! let config = overrides.config(Recipe::Recommended, Benchmark::Thumos14).unwrap();
//! assert_eq!((config.iterations, config.seed), (2000, 3));
//! ```

use maa_core::Aggregator;
use maan_eval::localize::LocalizeOverrides;
use maan_eval::{Benchmark, LocalizePreset};

use super::config::{EraseFraction, EraseProbability, Streams, TrainConfig};
use crate::error::{ModelError, Result as ModelResult};
use crate::model::{Background, StreamModelConfig};
use crate::setting::{Conflict, Setting, SettingError};

/// Where a new run's settings start before the overrides: the recommended settings of the
/// benchmark and aggregator ([`TrainConfig::recommended`]) or the paper's procedure
/// ([`TrainConfig::new`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Recipe {
    /// [`TrainConfig::recommended`]: the paper's procedure except where a recipe measured on
    /// this project's benchmark-shaped data beats it (docs/recipe.md).
    #[default]
    Recommended,
    /// [`TrainConfig::new`]: the paper's procedure, whatever the benchmark and aggregator.
    Paper,
}

impl Recipe {
    /// The recipe's configuration for `aggregator` on `kind`.
    pub fn config(self, aggregator: Aggregator, kind: Benchmark) -> TrainConfig {
        let model = StreamModelConfig::new().with_aggregator(aggregator);
        match self {
            Recipe::Recommended => TrainConfig::recommended(model, kind),
            Recipe::Paper => TrainConfig::new(model),
        }
    }

    /// Whether the recommended recipe differs from the paper's procedure for `aggregator` on
    /// `kind`.
    pub fn recommended_departs_from_paper(aggregator: Aggregator, kind: Benchmark) -> bool {
        Recipe::Recommended.config(aggregator, kind) != Recipe::Paper.config(aggregator, kind)
    }
}

/// The default of a setting for a new run ([`Recipe::setting_default`]): its value under the
/// paper's procedure, and where the recommended recipe departs from it. `Display` writes
/// `16; 32 for MAAN, STPN on activitynet13`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingDefault {
    /// The value under the paper's procedure ([`TrainConfig::setting_value`]).
    pub paper: String,
    /// Where the recommended recipe gives another value, per benchmark in
    /// [`Benchmark::ALL`]'s order: the value, the aggregators that get it, the benchmark.
    pub departures: Vec<(String, Vec<Aggregator>, Benchmark)>,
}

impl std::fmt::Display for SettingDefault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.paper)?;
        for (value, aggregators, kind) in &self.departures {
            let names: Vec<&str> = aggregators.iter().map(|a| a.paper_name()).collect();
            write!(f, "; {value} for {} on {kind}", names.join(", "))?;
        }
        Ok(())
    }
}

impl Recipe {
    /// The default of `setting` for a new run of any aggregator on any benchmark: the paper's
    /// value (MAAN on the default benchmark; the aggregator's own default for
    /// [`Setting::Aggregator`], which picks the recipe rather than follows it) and each value
    /// the recommended recipe of a benchmark and aggregator gives instead.
    pub fn setting_default(setting: Setting) -> SettingDefault {
        if setting == Setting::Aggregator {
            let paper = StreamModelConfig::new().aggregator.to_string();
            let departures = Vec::new();
            return SettingDefault { paper, departures };
        }
        let kind = Benchmark::default();
        let paper = Recipe::Paper
            .config(Aggregator::Maa, kind)
            .setting_value(setting, kind);
        let mut departures: Vec<(String, Vec<Aggregator>, Benchmark)> = Vec::new();
        for kind in Benchmark::ALL {
            let first = departures.len();
            for agg in Aggregator::ALL {
                let value = Recipe::Recommended
                    .config(agg, kind)
                    .setting_value(setting, kind);
                if value == paper {
                    continue;
                }
                match departures[first..].iter_mut().find(|(v, _, _)| *v == value) {
                    Some((_, aggregators, _)) => aggregators.push(agg),
                    None => departures.push((value, vec![agg], kind)),
                }
            }
        }
        SettingDefault { paper, departures }
    }
}

impl TrainConfig {
    /// The value of `setting` in this configuration as text: its `Display`, and for
    /// [`Setting::Localize`] the name of the localization's preset on `kind`
    /// (`LocalizePreset::name_of`: `custom` when it is none of them).
    pub fn setting_value(&self, setting: Setting, kind: Benchmark) -> String {
        let m = &self.model;
        match setting {
            Setting::Aggregator => m.aggregator.to_string(),
            Setting::Streams => self.streams.to_string(),
            Setting::Iterations => self.iterations.to_string(),
            Setting::BatchSize => self.batch_size.to_string(),
            Setting::Segments => self.num_segments.to_string(),
            Setting::LearningRate => self.learning_rate.to_string(),
            Setting::Seed => self.seed.to_string(),
            Setting::Sparsity => m.sparsity_weight.to_string(),
            Setting::Background => m.background.to_string(),
            Setting::Erase => self.erase.0.to_string(),
            Setting::EraseProbability => self.erase_probability.0.to_string(),
            Setting::AttentionErase => self.attention_erase.0.to_string(),
            Setting::EvalEvery => self.eval_every.to_string(),
            Setting::CheckpointEvery => self.checkpoint_every.to_string(),
            Setting::Localize => LocalizePreset::name_of(&self.localization(kind), kind).into(),
        }
    }
}

impl TrainConfig {
    /// Checks every numeric setting against its range ([`Setting::check`]).
    ///
    /// # Errors
    /// [`ModelError::Setting`] for the first setting out of range.
    pub fn validate(&self) -> ModelResult<()> {
        Setting::Iterations.check(self.iterations as f64)?;
        Setting::BatchSize.check(self.batch_size as f64)?;
        Setting::Segments.check(self.num_segments as f64)?;
        Setting::Erase.check(self.erase.0)?;
        Setting::EraseProbability.check(self.erase_probability.0)?;
        Setting::AttentionErase.check(self.attention_erase.0)?;
        Ok(())
    }
}

/// Single settings changed over a base configuration; `None` keeps the base's value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrainOverrides {
    /// The aggregator (also picks the recipe's settings in [`TrainOverrides::config`]).
    pub aggregator: Option<Aggregator>,
    /// The streams.
    pub streams: Option<Streams>,
    /// Training iterations; on a resumed run, the new total.
    pub iterations: Option<usize>,
    /// Videos per batch.
    pub batch_size: Option<usize>,
    /// Snippets sampled per video (T).
    pub segments: Option<usize>,
    /// Adam's learning rate.
    pub learning_rate: Option<f64>,
    /// The seed.
    pub seed: Option<u64>,
    /// STPN's sparsity weight.
    pub sparsity: Option<f64>,
    /// Background modelling.
    pub background: Option<Background>,
    /// The erased fraction of each sample.
    pub erase: Option<f64>,
    /// The probability a visit is erased.
    pub erase_probability: Option<f64>,
    /// The attention-erased fraction.
    pub attention_erase: Option<f64>,
    /// Evaluation interval (0: at the end only).
    pub eval_every: Option<usize>,
    /// Checkpoint interval (0: at the end only).
    pub checkpoint_every: Option<usize>,
    /// Changes to the localization of the evaluations.
    pub localize: LocalizeOverrides,
}

/// What resuming a run with overrides does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResumePlan {
    /// Train from iteration `from` to `to`.
    Continue {
        /// The iteration of the `last` checkpoint.
        from: usize,
        /// The total.
        to: usize,
    },
    /// The run has already reached its total and no larger one was given.
    Complete {
        /// The iteration of the `last` checkpoint.
        done: usize,
        /// The run's total.
        total: usize,
    },
}

impl TrainOverrides {
    /// Checks every numeric override against its range ([`Setting::check`]) and the
    /// localization overrides against theirs.
    ///
    /// # Errors
    /// [`ModelError::Setting`] or [`ModelError::Localization`].
    pub fn validate(&self) -> ModelResult<()> {
        let numbers = [
            (Setting::Iterations, self.iterations.map(|v| v as f64)),
            (Setting::BatchSize, self.batch_size.map(|v| v as f64)),
            (Setting::Segments, self.segments.map(|v| v as f64)),
            (Setting::Erase, self.erase),
            (Setting::EraseProbability, self.erase_probability),
            (Setting::AttentionErase, self.attention_erase),
        ];
        for (setting, value) in numbers {
            if let Some(v) = value {
                setting.check(v)?;
            }
        }
        Ok(self.localize.validate()?)
    }

    /// The configuration of a new run: `recipe`'s for the aggregator (the override's, else
    /// MAAN) on `kind`, with the overrides applied ([`TrainOverrides::apply`]).
    ///
    /// # Errors
    /// As [`TrainOverrides::apply`].
    pub fn config(&self, recipe: Recipe, kind: Benchmark) -> ModelResult<TrainConfig> {
        let aggregator = self
            .aggregator
            .unwrap_or(StreamModelConfig::new().aggregator);
        self.apply(recipe.config(aggregator, kind), kind)
    }

    /// `base` (a recipe's configuration, or a run's `config.json`) with the overrides applied,
    /// checked ([`TrainConfig::validate`]); localization overrides change the base's
    /// localization, or the paper preset of `kind` when the base has none.
    ///
    /// # Errors
    /// A value out of range or contradicting localization options.
    pub fn apply(&self, base: TrainConfig, kind: Benchmark) -> ModelResult<TrainConfig> {
        self.validate()?;
        let model = base
            .model
            .clone()
            .with_aggregator(self.aggregator.unwrap_or(base.model.aggregator))
            .with_sparsity_weight(self.sparsity.unwrap_or(base.model.sparsity_weight))
            .with_background(self.background.unwrap_or(base.model.background));
        let localize = match &base.localize {
            Some(own) if self.localize.is_set() => Some(self.localize.apply(own, kind)?),
            Some(own) => Some(own.clone()),
            None => self.localize.for_benchmark(kind)?,
        };
        let config = TrainConfig {
            model,
            streams: self.streams.unwrap_or(base.streams),
            iterations: self.iterations.unwrap_or(base.iterations),
            batch_size: self.batch_size.unwrap_or(base.batch_size),
            num_segments: self.segments.unwrap_or(base.num_segments),
            learning_rate: self.learning_rate.unwrap_or(base.learning_rate),
            seed: self.seed.unwrap_or(base.seed),
            eval_every: self.eval_every.unwrap_or(base.eval_every),
            checkpoint_every: self.checkpoint_every.unwrap_or(base.checkpoint_every),
            erase: self.erase.map_or(base.erase, EraseFraction),
            erase_probability: self
                .erase_probability
                .map_or(base.erase_probability, EraseProbability),
            attention_erase: self
                .attention_erase
                .map_or(base.attention_erase, EraseFraction),
            localize,
            ..base
        };
        config.validate()?;
        Ok(config)
    }

    /// The overrides that disagree with `saved`, the configuration of a run to resume on data
    /// of benchmark `kind` (`iterations` never does: it extends the run).
    ///
    /// # Errors
    /// Contradicting localization options.
    pub fn conflicts(&self, saved: &TrainConfig, kind: Benchmark) -> ModelResult<Vec<Conflict>> {
        fn check<T: PartialEq + std::fmt::Debug>(
            out: &mut Vec<Conflict>,
            setting: Setting,
            given: Option<T>,
            saved: T,
        ) {
            if let Some(g) = given {
                if g != saved {
                    out.push(Conflict {
                        setting,
                        given: format!("{g:?}"),
                        saved: format!("{saved:?}"),
                    });
                }
            }
        }
        let mut out = Vec::new();
        let m = &saved.model;
        check(&mut out, Setting::Aggregator, self.aggregator, m.aggregator);
        check(&mut out, Setting::Streams, self.streams, saved.streams);
        check(
            &mut out,
            Setting::BatchSize,
            self.batch_size,
            saved.batch_size,
        );
        check(
            &mut out,
            Setting::Segments,
            self.segments,
            saved.num_segments,
        );
        let lr = self.learning_rate;
        check(&mut out, Setting::LearningRate, lr, saved.learning_rate);
        check(&mut out, Setting::Seed, self.seed, saved.seed);
        check(
            &mut out,
            Setting::Sparsity,
            self.sparsity,
            m.sparsity_weight,
        );
        check(&mut out, Setting::Background, self.background, m.background);
        check(&mut out, Setting::Erase, self.erase, saved.erase.0);
        let p = self.erase_probability;
        check(
            &mut out,
            Setting::EraseProbability,
            p,
            saved.erase_probability.0,
        );
        let a = self.attention_erase;
        check(
            &mut out,
            Setting::AttentionErase,
            a,
            saved.attention_erase.0,
        );
        check(
            &mut out,
            Setting::EvalEvery,
            self.eval_every,
            saved.eval_every,
        );
        let c = self.checkpoint_every;
        check(
            &mut out,
            Setting::CheckpointEvery,
            c,
            saved.checkpoint_every,
        );
        if self.localize.is_set() {
            let own = saved.localization(kind);
            let given = self.localize.apply(&own, kind)?;
            if given != own {
                out.push(Conflict {
                    setting: Setting::Localize,
                    given: given.describe(),
                    saved: own.describe(),
                });
            }
        }
        Ok(out)
    }

    /// What resuming a run whose configuration is `saved` and whose `last` checkpoint is at
    /// iteration `done` does with these overrides: every setting but `iterations` must agree
    /// with the run's, and `iterations`, when given, is the new total and must exceed `done`.
    ///
    /// # Errors
    /// [`ModelError::ResumeConflicts`] listing the disagreeing settings;
    /// [`ModelError::Setting`] for an `iterations` total the run has already reached.
    pub fn resume(
        &self,
        saved: &TrainConfig,
        kind: Benchmark,
        done: usize,
    ) -> ModelResult<ResumePlan> {
        let conflicts = self.conflicts(saved, kind)?;
        if !conflicts.is_empty() {
            return Err(ModelError::ResumeConflicts(conflicts));
        }
        let total = self.iterations.unwrap_or(saved.iterations);
        if total > done {
            return Ok(ResumePlan::Continue {
                from: done,
                to: total,
            });
        }
        if self.iterations.is_some() {
            return Err(SettingError {
                setting: Setting::Iterations,
                value: total.to_string(),
                rule: format!(
                    "the run is already at iteration {done}; give a larger total to extend it"
                ),
            }
            .into());
        }
        Ok(ResumePlan::Complete { done, total })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use maan_eval::localize::{LocalizeConfig, LocalizePreset};

    fn none() -> TrainOverrides {
        TrainOverrides::default()
    }

    /// No override gives the recipe itself; the recommended recipe is MAAN's ActivityNet
    /// recipe there and the paper's procedure under `Recipe::Paper`; each override changes its
    /// one setting and nothing else.
    #[test]
    fn recipe_plus_overrides_changes_only_what_is_given() {
        let anet = Benchmark::ActivityNet13;
        let recommended = none().config(Recipe::Recommended, anet).unwrap();
        assert_eq!(
            recommended,
            TrainConfig::recommended(StreamModelConfig::new(), anet)
        );
        assert_eq!(recommended.batch_size, 32);
        assert_eq!(
            none().config(Recipe::Paper, anet).unwrap(),
            TrainConfig::new(StreamModelConfig::new())
        );
        let o = TrainOverrides {
            seed: Some(7),
            attention_erase: Some(0.5),
            background: Some(Background::None),
            ..none()
        };
        let changed = o.config(Recipe::Recommended, anet).unwrap();
        assert_eq!(
            changed,
            TrainConfig {
                seed: 7,
                attention_erase: EraseFraction(0.5),
                model: recommended.model.clone().with_background(Background::None),
                ..recommended.clone()
            }
        );
        // The aggregator picks the recipe: STPN on THUMOS14 localizes with `oic`.
        let stpn = TrainOverrides {
            aggregator: Some(Aggregator::WeightedSum),
            ..none()
        };
        let c = stpn
            .config(Recipe::Recommended, Benchmark::Thumos14)
            .unwrap();
        assert_eq!(c.model.aggregator, Aggregator::WeightedSum);
        assert_eq!(c.localize, Some(LocalizeConfig::thumos14_oic()));
        assert!(Recipe::recommended_departs_from_paper(
            Aggregator::WeightedSum,
            Benchmark::Thumos14
        ));
        assert!(!Recipe::recommended_departs_from_paper(
            Aggregator::Norm,
            Benchmark::Thumos14
        ));
    }

    /// A setting's default is the paper's value, then each value the recommended recipe gives
    /// instead, with the aggregators that get it (docs/recipe.md: ActivityNet1.3's batch for
    /// MAAN and STPN, MAAN's snippets and background there, THUMOS14's `oic` localization for
    /// MAAN, STPN and Dropout); settings no recipe changes have no departures.
    #[test]
    fn setting_defaults_name_where_the_recipe_departs_from_the_paper() {
        use crate::train::{ACTIVITYNET_BATCH_SIZE, ACTIVITYNET_MAAN_SEGMENTS};
        let anet = Benchmark::ActivityNet13;
        let batch = Recipe::setting_default(Setting::BatchSize);
        let maan_stpn = vec![Aggregator::Maa, Aggregator::WeightedSum];
        assert_eq!(
            batch.paper,
            TrainConfig::new(StreamModelConfig::new())
                .batch_size
                .to_string()
        );
        assert_eq!(
            batch.departures,
            [(ACTIVITYNET_BATCH_SIZE.to_string(), maan_stpn, anet)]
        );
        assert_eq!(
            batch.to_string(),
            format!("16; {ACTIVITYNET_BATCH_SIZE} for MAAN, STPN on activitynet13")
        );
        let segments = Recipe::setting_default(Setting::Segments);
        assert_eq!(
            segments.to_string(),
            format!("20; {ACTIVITYNET_MAAN_SEGMENTS} for MAAN on activitynet13")
        );
        assert_eq!(
            Recipe::setting_default(Setting::Background).to_string(),
            "none; bas for MAAN on activitynet13"
        );
        let localize = Recipe::setting_default(Setting::Localize);
        assert_eq!(localize.paper, "paper");
        let (_, aggregators, kind) = &localize.departures[0];
        assert_eq!(*kind, Benchmark::Thumos14);
        assert!(aggregators.contains(&Aggregator::Maa) && !aggregators.contains(&Aggregator::Norm));
        for setting in [Setting::Iterations, Setting::LearningRate, Setting::Seed] {
            assert!(Recipe::setting_default(setting).departures.is_empty());
        }
        let aggregator = Recipe::setting_default(Setting::Aggregator);
        assert_eq!(
            (aggregator.paper.as_str(), aggregator.departures.len()),
            ("maa", 0)
        );
        // Each value is the configuration's own.
        let c = Recipe::Recommended.config(Aggregator::Maa, anet);
        assert_eq!(
            c.setting_value(Setting::Segments, anet),
            c.num_segments.to_string()
        );
        assert_eq!(c.setting_value(Setting::Background, anet), "bas");
    }

    /// Localization overrides change the base's own localization; without one, the paper
    /// preset of the benchmark, and nothing given leaves `None`.
    #[test]
    fn localization_overrides_change_the_base_localization() {
        let smooth = TrainOverrides {
            localize: LocalizeOverrides {
                smoothing: Some(5),
                ..LocalizeOverrides::default()
            },
            ..none()
        };
        let base = Recipe::Recommended.config(Aggregator::Maa, Benchmark::Thumos14);
        let mut want = LocalizeConfig::thumos14_oic();
        want.smoothing = 5;
        let got = smooth.apply(base, Benchmark::Thumos14).unwrap();
        assert_eq!(got.localize, Some(want));
        let paper = TrainConfig::new(StreamModelConfig::new());
        assert_eq!(
            none()
                .apply(paper.clone(), Benchmark::Thumos14)
                .unwrap()
                .localize,
            None
        );
        let mut want = LocalizeConfig::thumos14();
        want.smoothing = 5;
        assert_eq!(
            smooth.apply(paper, Benchmark::Thumos14).unwrap().localize,
            Some(want)
        );
        let preset = TrainOverrides {
            localize: LocalizeOverrides {
                preset: Some(LocalizePreset::Long),
                ..LocalizeOverrides::default()
            },
            ..none()
        };
        let c = preset.config(Recipe::Paper, Benchmark::Thumos14).unwrap();
        assert_eq!(c.localize, Some(LocalizeConfig::activitynet_long()));
    }

    /// Every range is checked where it is defined: zero iterations, batch or T, erased
    /// fractions outside [0, 1), a probability outside (0, 1]; the error names the setting
    /// and the value; a configuration out of range is refused by `validate` alike.
    #[test]
    fn ranges_are_checked_and_name_the_setting() {
        let cases = [
            (
                TrainOverrides {
                    iterations: Some(0),
                    ..none()
                },
                Setting::Iterations,
                "0",
            ),
            (
                TrainOverrides {
                    batch_size: Some(0),
                    ..none()
                },
                Setting::BatchSize,
                "0",
            ),
            (
                TrainOverrides {
                    segments: Some(0),
                    ..none()
                },
                Setting::Segments,
                "0",
            ),
            (
                TrainOverrides {
                    erase: Some(1.0),
                    ..none()
                },
                Setting::Erase,
                "1",
            ),
            (
                TrainOverrides {
                    attention_erase: Some(-0.1),
                    ..none()
                },
                Setting::AttentionErase,
                "-0.1",
            ),
            (
                TrainOverrides {
                    erase_probability: Some(0.0),
                    ..none()
                },
                Setting::EraseProbability,
                "0",
            ),
        ];
        for (o, want, value) in cases {
            match o.config(Recipe::Paper, Benchmark::Thumos14) {
                Err(ModelError::Setting(SettingError {
                    setting, value: v, ..
                })) => {
                    assert_eq!((setting, v.as_str()), (want, value))
                }
                other => panic!("{want:?}: {other:?}"),
            }
        }
        let bad = TrainConfig {
            erase_probability: EraseProbability(2.0),
            ..TrainConfig::new(StreamModelConfig::new())
        };
        assert!(matches!(
            bad.validate(),
            Err(ModelError::Setting(SettingError {
                setting: Setting::EraseProbability,
                ..
            }))
        ));
        let nms = TrainOverrides {
            localize: LocalizeOverrides {
                nms_iou: Some(2.0),
                ..LocalizeOverrides::default()
            },
            ..none()
        };
        assert!(matches!(nms.validate(), Err(ModelError::Localization(_))));
    }

    /// A resumed run: equal values are no conflict, different ones are (each naming its
    /// setting and both values), `iterations` never is; the plan continues to the new total,
    /// says a finished run is complete, and refuses a total the run has reached.
    #[test]
    fn resume_conflicts_and_plan() {
        let kind = Benchmark::Thumos14;
        let saved = Recipe::Recommended.config(Aggregator::Maa, kind);
        let same = TrainOverrides {
            seed: Some(saved.seed),
            batch_size: Some(saved.batch_size),
            iterations: Some(1),
            ..none()
        };
        assert_eq!(same.conflicts(&saved, kind).unwrap(), vec![]);
        let differ = TrainOverrides {
            seed: Some(saved.seed + 1),
            background: Some(Background::Bas),
            localize: LocalizeOverrides {
                preset: Some(LocalizePreset::Paper),
                ..LocalizeOverrides::default()
            },
            ..none()
        };
        let c = differ.conflicts(&saved, kind).unwrap();
        let settings: Vec<Setting> = c.iter().map(|c| c.setting).collect();
        assert_eq!(
            settings,
            [Setting::Seed, Setting::Background, Setting::Localize]
        );
        assert_eq!((c[0].given.as_str(), c[0].saved.as_str()), ("1", "0"));
        assert!(matches!(
            differ.resume(&saved, kind, 10),
            Err(ModelError::ResumeConflicts(list)) if list.len() == 3
        ));
        let total = saved.iterations;
        assert_eq!(
            none().resume(&saved, kind, 10).unwrap(),
            ResumePlan::Continue {
                from: 10,
                to: total
            }
        );
        assert_eq!(
            none().resume(&saved, kind, total).unwrap(),
            ResumePlan::Complete { done: total, total }
        );
        let more = TrainOverrides {
            iterations: Some(total + 5),
            ..none()
        };
        assert_eq!(
            more.resume(&saved, kind, total).unwrap(),
            ResumePlan::Continue {
                from: total,
                to: total + 5
            }
        );
        let fewer = TrainOverrides {
            iterations: Some(total),
            ..none()
        };
        assert!(matches!(
            fewer.resume(&saved, kind, total),
            Err(ModelError::Setting(SettingError {
                setting: Setting::Iterations,
                ..
            }))
        ));
    }
}
