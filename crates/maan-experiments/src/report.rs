//! What every temporal experiment reports: one row type for a model's results over seeds
//! ([`Row`]), the settings a report states ([`ReportHeader`]), and the statistics over seeds.

use maa_core::Aggregator;
use maan_model::EvalMetrics;
use serde::Serialize;

use crate::train::{Schedule, Session};
use burn::tensor::backend::Backend;
use maan_model::Background;

/// The settings every report of `table1`, `regimes` and `ablation` states (flattened into
/// its JSON: the keys `backend`, `commit`, `seeds`, `iterations`, `batch_size`).
#[derive(Debug, Clone, Serialize)]
pub struct ReportHeader {
    /// Backend used.
    pub backend: String,
    /// The commit of the code that made the report ([`Session::commit`]).
    pub commit: String,
    /// Seeds per model.
    pub seeds: u64,
    /// Iterations per model and stream.
    pub iterations: usize,
    /// Batch size.
    pub batch_size: usize,
}

impl ReportHeader {
    /// The header of a report of models trained in `session` with `schedule`.
    pub fn new<B: Backend>(session: &Session<B>, schedule: Schedule) -> ReportHeader {
        ReportHeader {
            backend: session.backend.clone(),
            commit: session.commit.clone(),
            seeds: schedule.seeds,
            iterations: schedule.iterations,
            batch_size: schedule.batch_size,
        }
    }
}

/// The aggregators of Table 1, in the paper's row order.
pub const TABLE1_ROWS: [Aggregator; 5] = [
    Aggregator::WeightedSum,
    Aggregator::Dropout,
    Aggregator::Norm,
    Aggregator::SoftmaxNorm,
    Aggregator::Maa,
];

/// The aggregators to train: `given`, or Table 1's five in the paper's order when empty.
pub fn aggregators(given: &[Aggregator]) -> Vec<Aggregator> {
    if given.is_empty() {
        TABLE1_ROWS.to_vec()
    } else {
        given.to_vec()
    }
}

/// One configuration of the ablation (`crate::ablation`): a training option and a
/// localization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Variant {
    /// Background modelling during training.
    pub background: Background,
    /// Whether the later code's localization (`oic`) is used instead of the paper's.
    pub oic: bool,
}

impl Variant {
    /// The four rows, in table order: the paper, each addition alone, both.
    pub const ALL: [Variant; 4] = [
        Variant {
            background: Background::None,
            oic: false,
        },
        Variant {
            background: Background::None,
            oic: true,
        },
        Variant {
            background: Background::Bas,
            oic: false,
        },
        Variant {
            background: Background::Bas,
            oic: true,
        },
    ];

    /// The row's name.
    pub fn name(&self) -> &'static str {
        match (self.background, self.oic) {
            (Background::None, false) => "MAAN (paper)",
            (Background::None, true) => "+ OIC localization",
            (Background::Bas, false) => "+ background class (BaS)",
            (Background::Bas, true) => "+ both",
        }
    }
}

/// What a [`Row`] measures; flattened into the row's JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum RowLabel {
    /// A model of a Table 1-shaped table (`table1`, `regimes`): the key `method`.
    Model {
        /// The paper's name of the model, with the localization or training variant when not
        /// the preset ("MAAN (localization options)").
        method: String,
    },
    /// A configuration of the ablation: the keys `variant` and `name`.
    Variant {
        /// The configuration.
        variant: Variant,
        /// Its name ([`Variant::name`]).
        name: String,
    },
}

/// The statistics over seeds a Table 1-shaped row adds to its JSON (flattened into it; the
/// ablation's rows leave them out).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeedSummary {
    /// Average mAP over the tIoU thresholds (fraction) per seed.
    pub avg_map_per_seed: Vec<f64>,
    /// Mean of the average mAP over seeds.
    pub avg_map_mean: f64,
    /// Standard deviation of the average mAP over seeds.
    pub avg_map_std: f64,
    /// Mean over seeds at each threshold.
    pub map_mean: Vec<f64>,
    /// Sample standard deviation over seeds at each threshold (0 for one seed).
    pub map_std: Vec<f64>,
    /// Mean classification mAP.
    pub cls_map_mean: f64,
    /// Standard deviation of the classification mAP.
    pub cls_map_std: f64,
}

/// One model's results over seeds: a row of Table 1, of each table of `regimes`, and of the
/// ablation (one configuration of MAAN on one regime). Its JSON keys are, in order, `method`
/// (or `variant` and `name`), `localization`, `aggregator` (Table 1-shaped rows),
/// `tiou_thresholds`, `map_per_seed`, `cls_map_per_seed`, the [`SeedSummary`] keys (Table
/// 1-shaped rows) and `averages`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// What the row measures.
    #[serde(flatten)]
    pub label: RowLabel,
    /// Localization settings of this row (one line).
    pub localization: String,
    /// The `--aggregator` name of the model (Table 1-shaped rows; the ablation's are all
    /// MAAN).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aggregator: Option<String>,
    /// tIoU thresholds.
    pub tiou_thresholds: Vec<f64>,
    /// AP (fraction) at each threshold, one vector per seed.
    pub map_per_seed: Vec<Vec<f64>>,
    /// Classification mAP (fraction) per seed.
    pub cls_map_per_seed: Vec<f64>,
    /// Means and standard deviations over seeds (Table 1-shaped rows).
    #[serde(flatten)]
    pub summary: Option<SeedSummary>,
    /// The averages papers report that apply to the tIoU set (THUMOS14: `0.1:0.5`, `0.1:0.7`,
    /// `0.1:0.9`; ActivityNet1.3: `0.5:0.95`): label, mean and standard deviation over seeds
    /// (fractions).
    pub averages: Vec<(String, f64, f64)>,
}

impl Row {
    /// The row of a Table 1-shaped table: model `agg` (named with `variant` in parentheses
    /// when given), localized with `localization`, evaluated once per seed in `runs`.
    pub fn new(
        agg: Aggregator,
        variant: Option<&str>,
        localization: String,
        runs: &[EvalMetrics],
    ) -> Row {
        let method = match variant {
            Some(v) => format!("{} ({v})", agg.paper_name()),
            None => agg.paper_name().to_string(),
        };
        let mut row = Row::of_runs(RowLabel::Model { method }, localization, runs);
        let tious = row.tiou_thresholds.len();
        let (map_mean, map_std) = (0..tious)
            .map(|i| mean_std(&row.map_per_seed.iter().map(|m| m[i]).collect::<Vec<_>>()))
            .unzip();
        let (cls_map_mean, cls_map_std) = mean_std(&row.cls_map_per_seed);
        let avg: Vec<f64> = runs.iter().map(|m| m.average_map).collect();
        let (avg_map_mean, avg_map_std) = mean_std(&avg);
        row.aggregator = Some(agg.name().to_string());
        row.summary = Some(SeedSummary {
            avg_map_per_seed: avg,
            avg_map_mean,
            avg_map_std,
            map_mean,
            map_std,
            cls_map_mean,
            cls_map_std,
        });
        row
    }

    /// The row of the ablation's configuration `variant` (MAAN), localized with
    /// `localization`, evaluated once per seed in `runs`.
    pub fn of_variant(variant: Variant, localization: String, runs: &[EvalMetrics]) -> Row {
        let label = RowLabel::Variant {
            variant,
            name: variant.name().to_string(),
        };
        Row::of_runs(label, localization, runs)
    }

    /// The fields every row has.
    fn of_runs(label: RowLabel, localization: String, runs: &[EvalMetrics]) -> Row {
        Row {
            label,
            localization,
            aggregator: None,
            tiou_thresholds: runs
                .first()
                .map(|m| m.tiou_thresholds.clone())
                .unwrap_or_default(),
            map_per_seed: runs.iter().map(|m| m.map.clone()).collect(),
            cls_map_per_seed: runs.iter().map(|m| m.classification_map).collect(),
            summary: None,
            averages: seed_averages(runs),
        }
    }

    /// The row's name: the model's (`method`) or the ablation configuration's (`name`).
    pub fn name(&self) -> &str {
        match &self.label {
            RowLabel::Model { method } => method,
            RowLabel::Variant { name, .. } => name,
        }
    }

    /// Mean and standard deviation over seeds of the average mAP over all thresholds (NaN for
    /// a row without a [`SeedSummary`]).
    pub fn avg_map(&self) -> (f64, f64) {
        self.summary
            .as_ref()
            .map_or((f64::NAN, f64::NAN), |s| (s.avg_map_mean, s.avg_map_std))
    }

    /// Mean and standard deviation of the average over `label` (e.g. `0.1:0.5`).
    pub fn average(&self, label: &str) -> Option<(f64, f64)> {
        self.averages
            .iter()
            .find(|(l, _, _)| l == label)
            .map(|(_, m, s)| (*m, *s))
    }
}

/// The averages papers report ([`maan_eval::eval::reported_averages`]) of each seed's run,
/// as (label, mean, sample standard deviation over seeds), in the order of that function.
pub fn seed_averages(runs: &[EvalMetrics]) -> Vec<(String, f64, f64)> {
    let per_seed: Vec<Vec<(String, f64)>> = runs
        .iter()
        .map(|m| {
            maan_eval::eval::reported_averages(&m.tiou_thresholds, &m.map)
                .into_iter()
                .map(|a| (a.label(), a.map))
                .collect()
        })
        .collect();
    let Some(first) = per_seed.first() else {
        return Vec::new();
    };
    first
        .iter()
        .enumerate()
        .map(|(i, (label, _))| {
            let v: Vec<f64> = per_seed
                .iter()
                .filter_map(|s| s.get(i))
                .map(|a| a.1)
                .collect();
            let (m, sd) = mean_std(&v);
            (label.clone(), m, sd)
        })
        .collect()
}

/// Mean and sample standard deviation (NaN for no values, standard deviation 0 for one).
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mean = values.iter().sum::<f64>() / n;
    let var = if values.len() > 1 {
        values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var.sqrt())
}

/// A tIoU threshold as a column label: two decimals when needed (0.55), else one (0.5).
pub fn tiou_label(t: f64) -> String {
    let two = format!("{t:.2}");
    if two.ends_with('0') {
        format!("{t:.1}")
    } else {
        two
    }
}

/// One seed's metrics for tests: AP `map` at `tious`, its mean as the average, Cls mAP `cls`.
#[cfg(test)]
pub(crate) fn metrics(tious: &[f64], map: Vec<f64>, cls: f64) -> EvalMetrics {
    EvalMetrics {
        iteration: 0,
        tiou_thresholds: tious.to_vec(),
        average_map: map.iter().sum::<f64>() / map.len() as f64,
        map,
        classification_map: cls,
        warnings: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use maan_model::Background;

    #[test]
    fn mean_and_sample_std() {
        let (m, s) = mean_std(&[1.0, 2.0, 3.0, 4.0]);
        assert!((m - 2.5).abs() < 1e-12);
        assert!((s - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(mean_std(&[0.7]), (0.7, 0.0));
    }

    #[test]
    fn tiou_labels_keep_the_second_decimal_when_needed() {
        assert_eq!(tiou_label(0.5), "0.5");
        assert_eq!(tiou_label(0.55), "0.55");
        assert_eq!(tiou_label(0.8999999999999999), "0.9");
        assert_eq!(tiou_label(0.95), "0.95");
    }

    /// Checks that the JSON of `row` has the keys `expected`, in that order.
    fn assert_keys(row: &Row, expected: &[&str]) {
        let serde_json::Value::Object(map) = serde_json::to_value(row).unwrap() else {
            panic!("a row is a JSON object");
        };
        let mut sorted: Vec<&str> = expected.to_vec();
        sorted.sort_unstable();
        let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, sorted);
        let text = serde_json::to_string(row).unwrap();
        let at: Vec<usize> = expected
            .iter()
            .map(|k| text.find(&format!("\"{k}\":")).unwrap())
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
    }

    /// A Table 1-shaped row and an ablation row write the keys (in the order) that
    /// `table1.json` / `regimes.json` and `ablation.json` have always had.
    #[test]
    fn rows_write_the_keys_of_their_reports() {
        let runs = [
            metrics(&[0.1, 0.5], vec![0.6, 0.3], 0.9),
            metrics(&[0.1, 0.5], vec![0.4, 0.2], 0.8),
        ];
        let table = Row::new(Aggregator::Maa, None, "preset".into(), &runs);
        assert_keys(
            &table,
            &[
                "method",
                "localization",
                "aggregator",
                "tiou_thresholds",
                "map_per_seed",
                "cls_map_per_seed",
                "avg_map_per_seed",
                "avg_map_mean",
                "avg_map_std",
                "map_mean",
                "map_std",
                "cls_map_mean",
                "cls_map_std",
                "averages",
            ],
        );
        assert_eq!(table.name(), "MAAN");
        let variant = Variant {
            background: Background::Bas,
            oic: true,
        };
        let cell = Row::of_variant(variant, "oic".into(), &runs);
        assert_keys(
            &cell,
            &[
                "variant",
                "name",
                "localization",
                "tiou_thresholds",
                "map_per_seed",
                "cls_map_per_seed",
                "averages",
            ],
        );
        let json = serde_json::to_value(&cell).unwrap();
        assert_eq!(json["variant"]["background"], "bas");
        assert_eq!(json["name"], "+ both");
        assert_eq!(cell.name(), "+ both");
        assert_eq!(cell.map_per_seed, table.map_per_seed);
        assert_eq!(cell.averages, table.averages);
    }
}
