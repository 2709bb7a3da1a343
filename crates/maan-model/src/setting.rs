//! The settings of a training configuration as values ([`Setting`]): their names, their ranges
//! ([`Setting::check`], [`SettingError`]) and a resumed run's disagreements ([`Conflict`]).
//! The command line words them in its flags.

/// One setting of a training configuration, as overrides, range checks and resume conflicts
/// name it (the command line words it as its flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setting {
    /// The model's aggregator.
    Aggregator,
    /// The streams trained.
    Streams,
    /// Training iterations.
    Iterations,
    /// Videos per batch.
    BatchSize,
    /// Snippets sampled per video (T).
    Segments,
    /// Adam's learning rate.
    LearningRate,
    /// The seed.
    Seed,
    /// STPN's sparsity weight.
    Sparsity,
    /// Background modelling.
    Background,
    /// The erased fraction of each sample.
    Erase,
    /// The probability a visit is erased.
    EraseProbability,
    /// The attention-erased fraction.
    AttentionErase,
    /// Evaluation interval.
    EvalEvery,
    /// Checkpoint interval.
    CheckpointEvery,
    /// The localization of the evaluations.
    Localize,
}

impl Setting {
    /// Every setting, in the order of [`TrainOverrides`]' fields.
    pub const ALL: [Setting; 15] = [
        Setting::Aggregator,
        Setting::Streams,
        Setting::Iterations,
        Setting::BatchSize,
        Setting::Segments,
        Setting::LearningRate,
        Setting::Seed,
        Setting::Sparsity,
        Setting::Background,
        Setting::Erase,
        Setting::EraseProbability,
        Setting::AttentionErase,
        Setting::EvalEvery,
        Setting::CheckpointEvery,
        Setting::Localize,
    ];

    /// The setting in words.
    pub fn name(self) -> &'static str {
        match self {
            Setting::Aggregator => "aggregator",
            Setting::Streams => "streams",
            Setting::Iterations => "iterations",
            Setting::BatchSize => "batch size",
            Setting::Segments => "snippets per video",
            Setting::LearningRate => "learning rate",
            Setting::Seed => "seed",
            Setting::Sparsity => "sparsity weight",
            Setting::Background => "background",
            Setting::Erase => "erased fraction",
            Setting::EraseProbability => "erasing probability",
            Setting::AttentionErase => "attention-erased fraction",
            Setting::EvalEvery => "evaluation interval",
            Setting::CheckpointEvery => "checkpoint interval",
            Setting::Localize => "localization",
        }
    }

    /// Checks a numeric value of this setting against its range: iterations, batch size and
    /// snippets per video at least 1, erased fractions in `[0, 1)`, the erasing probability in
    /// `(0, 1]`; other settings take any value.
    ///
    /// # Errors
    /// A [`SettingError`] naming the setting, the value and the rule.
    pub fn check(self, value: f64) -> Result<(), SettingError> {
        let rule = match self {
            Setting::Iterations | Setting::BatchSize | Setting::Segments if value < 1.0 => {
                "must be at least 1"
            }
            Setting::Erase if !(0.0..1.0).contains(&value) => {
                "the erased fraction must be in [0, 1)"
            }
            Setting::AttentionErase if !(0.0..1.0).contains(&value) => {
                "the attention-erased fraction must be in [0, 1)"
            }
            Setting::EraseProbability if !(value > 0.0 && value <= 1.0) => {
                "the probability must be in (0, 1]"
            }
            _ => return Ok(()),
        };
        Err(SettingError {
            setting: self,
            value: value.to_string(),
            rule: rule.into(),
        })
    }
}

impl std::fmt::Display for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A setting out of its range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting} {value}: {rule}")]
pub struct SettingError {
    /// The setting.
    pub setting: Setting,
    /// The value given.
    pub value: String,
    /// What the value must be.
    pub rule: String,
}

/// A setting given to a resumed run that disagrees with the run's own.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// The setting.
    pub setting: Setting,
    /// The value given.
    pub given: String,
    /// The run's value.
    pub saved: String,
}
