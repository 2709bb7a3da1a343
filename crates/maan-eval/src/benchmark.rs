//! The benchmark a dataset is, or imitates: THUMOS14 or ActivityNet1.3.
//!
//! [`Benchmark`] is the one type for this concept in every crate (loader, synthetic generator,
//! training defaults, localization presets, evaluation, CLI). Everything that differs between
//! the two benchmarks is a method here: the class list, the annotation subsets that are
//! training and test data, the tIoU thresholds of the detection mAP, the snippet timing of the
//! public I3D features, the folder name of its built-in synthetic data, and which benchmark a
//! ground truth is ([`Benchmark::infer_from`]). THUMOS14 is the default
//! ([`Benchmark::default`]), decided here only. Its localization presets are
//! `crate::localize`'s (`Benchmark::localize`, `Benchmark::paper_localize`).

use crate::annotations::{ClassList, GroundTruth};
use crate::timing::SnippetTiming;

/// Which benchmark a dataset is, or imitates. Parsed from `thumos14` / `thumos` and
/// `activitynet` / `activitynet13` / `activitynet1.3` / `anet`; serialized as `Thumos14` /
/// `ActivityNet13` (`ActivityNet` is read too).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum Benchmark {
    /// THUMOS14: 20 classes; train on `validation` (or `train`), test on `test`. The default
    /// wherever no benchmark is given or recorded.
    #[default]
    Thumos14,
    /// ActivityNet1.3: 200 classes; train on `training` (or `train`), test on `validation` (or
    /// `val`).
    #[serde(alias = "ActivityNet")]
    ActivityNet13,
}

impl std::fmt::Display for Benchmark {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Benchmark {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "thumos14" | "thumos" => Ok(Benchmark::Thumos14),
            "activitynet13" | "activitynet" | "anet" | "activitynet1.3" => {
                Ok(Benchmark::ActivityNet13)
            }
            other => Err(format!(
                "unknown benchmark {other:?} (expected thumos14 or activitynet13)"
            )),
        }
    }
}

impl Benchmark {
    /// Both benchmarks, THUMOS14 first.
    pub const ALL: [Benchmark; 2] = [Benchmark::Thumos14, Benchmark::ActivityNet13];

    /// `thumos14` or `activitynet13`.
    pub fn name(self) -> &'static str {
        match self {
            Benchmark::Thumos14 => "thumos14",
            Benchmark::ActivityNet13 => "activitynet13",
        }
    }

    /// The benchmark's built-in class list (THUMOS14's 20 in the public code's order,
    /// ActivityNet1.3's 200).
    pub fn classes(self) -> ClassList {
        match self {
            Benchmark::Thumos14 => ClassList::thumos14(),
            Benchmark::ActivityNet13 => ClassList::activitynet13(),
        }
    }

    /// The tIoU thresholds of the benchmark's detection mAP (THUMOS14 0.1:0.1:0.9,
    /// ActivityNet1.3 0.5:0.05:0.95).
    pub fn tiou_thresholds(self) -> Vec<f64> {
        match self {
            Benchmark::Thumos14 => crate::eval::thumos14_tiou_thresholds(),
            Benchmark::ActivityNet13 => crate::eval::activitynet_tiou_thresholds(),
        }
    }

    /// The annotation subset of the official test videos (THUMOS14 `test`, ActivityNet1.3
    /// `validation`).
    pub fn official_test_subset(self) -> &'static str {
        match self {
            Benchmark::Thumos14 => "test",
            Benchmark::ActivityNet13 => "validation",
        }
    }

    /// Whether an annotation subset name holds training videos for this benchmark.
    pub fn is_train_subset(self, subset: &str) -> bool {
        match self {
            Benchmark::Thumos14 => matches!(subset, "train" | "validation" | "training"),
            Benchmark::ActivityNet13 => matches!(subset, "train" | "training"),
        }
    }

    /// Whether an annotation subset name holds test videos for this benchmark.
    pub fn is_test_subset(self, subset: &str) -> bool {
        match self {
            Benchmark::Thumos14 => subset == "test",
            Benchmark::ActivityNet13 => matches!(subset, "val" | "validation"),
        }
    }

    /// The snippet timing of the public I3D features of both benchmarks: 16 frames at 25 fps
    /// (0.64 s per snippet).
    pub fn snippet_timing(self) -> SnippetTiming {
        SnippetTiming::default()
    }

    /// The folder name of the benchmark's built-in synthetic data (`thumos14`, `activitynet`),
    /// under a `synthetic/` folder.
    pub fn dir_name(self) -> &'static str {
        match self {
            Benchmark::Thumos14 => "thumos14",
            Benchmark::ActivityNet13 => "activitynet",
        }
    }

    /// The benchmark a ground truth follows, from its labels: ActivityNet1.3 when more of
    /// them are ActivityNet1.3 classes than THUMOS14 classes, else the default (THUMOS14).
    /// The one inference of a benchmark from labels (the dataset loader and `maan eval`).
    pub fn infer_from(gt: &GroundTruth) -> Benchmark {
        let labels = gt.labels();
        let count = |cl: &ClassList| labels.iter().filter(|l| cl.index_of(l).is_some()).count();
        if count(&ClassList::activitynet13()) > count(&ClassList::thumos14()) {
            Benchmark::ActivityNet13
        } else {
            Benchmark::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every spelling the CLI accepts parses to the benchmark, and the name round-trips.
    #[test]
    fn parses_every_spelling_and_round_trips_its_name() {
        for s in ["thumos14", "THUMOS", " thumos "] {
            assert_eq!(s.parse::<Benchmark>(), Ok(Benchmark::Thumos14));
        }
        for s in ["activitynet", "ActivityNet13", "anet", "activitynet1.3"] {
            assert_eq!(s.parse::<Benchmark>(), Ok(Benchmark::ActivityNet13));
        }
        assert!("kinetics"
            .parse::<Benchmark>()
            .unwrap_err()
            .contains("kinetics"));
        for b in Benchmark::ALL {
            assert_eq!(b.name().parse::<Benchmark>(), Ok(b));
        }
    }

    /// THUMOS14 is the default; the built-in data folders are `thumos14` and `activitynet`; a
    /// ground truth of THUMOS14 labels is THUMOS14, one of mostly ActivityNet1.3 labels
    /// ActivityNet1.3, one of neither (or none) the default.
    #[test]
    fn default_folder_names_and_inference_from_labels() {
        assert_eq!(Benchmark::default(), Benchmark::Thumos14);
        assert_eq!(Benchmark::Thumos14.dir_name(), "thumos14");
        assert_eq!(Benchmark::ActivityNet13.dir_name(), "activitynet");
        let gt = |labels: &[&str]| {
            let segments: Vec<String> = labels
                .iter()
                .map(|l| format!("{{\"label\": \"{l}\", \"segment\": [1, 2]}}"))
                .collect();
            GroundTruth::from_json_str(
                &format!(
                    "{{\"database\": {{\"v\": {{\"subset\": \"test\", \"annotations\": [{}]}}}}}}",
                    segments.join(",")
                ),
                "gt",
            )
            .unwrap()
        };
        assert_eq!(
            Benchmark::infer_from(&gt(&["HammerThrow", "PoleVault"])),
            Benchmark::Thumos14
        );
        assert_eq!(
            Benchmark::infer_from(&gt(&["HammerThrow", "Walking the dog", "Long jump"])),
            Benchmark::ActivityNet13
        );
        assert_eq!(
            Benchmark::infer_from(&gt(&["HammerThrow", "Walking the dog"])),
            Benchmark::Thumos14
        );
        assert_eq!(
            Benchmark::infer_from(&gt(&["my class"])),
            Benchmark::Thumos14
        );
        assert_eq!(Benchmark::infer_from(&gt(&[])), Benchmark::Thumos14);
    }

    /// Serialized as the variant name (the format of existing run configurations), and the
    /// older `ActivityNet` spelling is read.
    #[test]
    fn serde_names_are_stable() {
        assert_eq!(
            serde_json::to_string(&Benchmark::ActivityNet13).unwrap(),
            "\"ActivityNet13\""
        );
        let b: Benchmark = serde_json::from_str("\"ActivityNet\"").unwrap();
        assert_eq!(b, Benchmark::ActivityNet13);
    }

    /// Each subset is training or test data for at most one role, and the official test
    /// subset is a test subset.
    #[test]
    fn subsets_are_train_or_test_not_both() {
        for b in Benchmark::ALL {
            assert!(b.is_test_subset(b.official_test_subset()));
            for s in ["train", "training", "validation", "val", "test", "testing"] {
                assert!(!(b.is_train_subset(s) && b.is_test_subset(s)), "{b} {s}");
            }
        }
        assert!(Benchmark::Thumos14.is_train_subset("validation"));
        assert!(Benchmark::ActivityNet13.is_test_subset("validation"));
    }

    /// The class lists and thresholds are the benchmarks' (20 / 200 classes; 9 / 10 tIoU).
    #[test]
    fn classes_and_thresholds_match_the_benchmark() {
        assert_eq!(Benchmark::Thumos14.classes().len(), 20);
        assert_eq!(Benchmark::ActivityNet13.classes().len(), 200);
        assert_eq!(Benchmark::Thumos14.tiou_thresholds().len(), 9);
        assert_eq!(Benchmark::ActivityNet13.tiou_thresholds().len(), 10);
    }
}
