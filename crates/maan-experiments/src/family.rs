//! The ActivityNet-shaped family of synthetic datasets that `regimes` maps on
//! ActivityNet-shaped data: a base configuration and, per property, a low and a high value
//! ([`activitynet_family`]); each cell's results ([`FamilyResult`]), the diagnosis per
//! snippet role ([`RoleStats`]) and the family's heat map ([`family_heatmap`]).

use std::fmt::Write as _;

use dataset::synth::{I3dParams, Signal, SnippetRole, SynthConfig, VideoRoles};
use dataset::{Benchmark, WtalDataset};
use maa_core::Aggregator;
use maan_eval::localize::LocalizeConfig;
use serde::Serialize;

use crate::heatmap::HeatMap;
use crate::table1::{markdown, Table1};

/// One cell of the ActivityNet-shaped family: the base configuration with one property
/// changed (or none, for the base itself).
#[derive(Debug, Clone)]
pub struct FamilyCell {
    /// The property varied (`base` for the base cell).
    pub axis: &'static str,
    /// Its value in this cell, as printed.
    pub level: String,
    /// The data's configuration.
    pub config: SynthConfig,
}

impl FamilyCell {
    /// `axis=level`, the cell's name in tables and folder names.
    pub fn name(&self) -> String {
        if self.axis == "base" {
            "base".into()
        } else {
            format!("{}={}", self.axis, self.level)
        }
    }
}

/// The axes of the ActivityNet-shaped family, in table order, with their low and high values
/// around the base (`realistic` with class context on half of the shots outside the
/// instances): the dominance of the most discriminative part, the class context outside the
/// instances (the scene), the class-agnostic actionness inside them, the share of a video the
/// instances cover, and the correlation of the noise from snippet to snippet. The base has
/// [`FAMILY_CLASSES`] classes.
pub const FAMILY_AXES: [&str; 5] = [
    "dominance",
    "context",
    "actionness",
    "coverage",
    "noise-correlation",
];

/// Classes drawn by the family's videos: 20 of ActivityNet1.3's 200, so that each has about
/// 33 of the 667 training videos (ActivityNet1.3 has about 50 per class; with all 200 classes
/// the default 1,000 videos give 3 per class and no model classifies them).
pub const FAMILY_CLASSES: usize = 20;

/// The ActivityNet-shaped family at feature dimension `dim`: the base cell, then a low and a
/// high value of each of [`FAMILY_AXES`], everything else as in the base.
pub fn activitynet_family(dim: usize) -> Vec<FamilyCell> {
    let base_params = I3dParams {
        context_shots: 0.5,
        ..Default::default()
    };
    let base = SynthConfig {
        like: Benchmark::ActivityNet13,
        dim,
        signal: Signal::I3d(base_params),
        activitynet_classes: Some(FAMILY_CLASSES),
        ..SynthConfig::default()
    };
    let with = |axis: &'static str, level: String, f: &dyn Fn(&mut SynthConfig)| {
        let mut config = base.clone();
        f(&mut config);
        FamilyCell {
            axis,
            level,
            config,
        }
    };
    let i3d = |f: fn(&mut I3dParams, f32), v: f32| {
        move |c: &mut SynthConfig| {
            if let Signal::I3d(p) = &mut c.signal {
                f(p, v)
            }
        }
    };
    let mut cells = vec![with("base", String::new(), &|_| {})];
    for d in [1.0f32, 8.0] {
        cells.push(with(
            "dominance",
            d.to_string(),
            &i3d(|p, d| p.peak = d * p.rest, d),
        ));
    }
    for (c, shots) in [(0.0f32, 0.5), (2.5f32, 1.0)] {
        cells.push(with(
            "context",
            format!("{c}{}", if shots == 1.0 { " everywhere" } else { "" }),
            &move |cfg: &mut SynthConfig| {
                if let Signal::I3d(p) = &mut cfg.signal {
                    p.context = c;
                    p.context_shots = shots;
                }
            },
        ));
    }
    for a in [0.5f32, 3.0] {
        cells.push(with(
            "actionness",
            a.to_string(),
            &i3d(|p, a| p.actionness = a, a),
        ));
    }
    for (lo, hi) in [(0.3, 0.5), (0.7, 0.9)] {
        cells.push(with("coverage", format!("{lo}-{hi}"), &move |c| {
            c.coverage = (lo, hi)
        }));
    }
    for n in [0.0f32, 0.97] {
        cells.push(with(
            "noise-correlation",
            n.to_string(),
            &i3d(|p, n| p.noise_correlation = n, n),
        ));
    }
    cells
}

/// What one trained model does on the snippets of each role (the diagnosis of the family's
/// base cell, first seed): means over the test videos' snippets of that role.
#[derive(Debug, Clone, Serialize)]
pub struct RoleStats {
    /// The model (and localization row) measured.
    pub model: String,
    /// Core, flank, context or background ([`dataset::synth::SnippetRole`]).
    pub role: String,
    /// Snippets of this role in the test videos.
    pub snippets: usize,
    /// Mean attention `p_t` (NaN for a model without one).
    pub attention: f64,
    /// Mean CAS of the video's class, divided by that column's maximum in the video, after
    /// the row's smoothing (none for the paper preset).
    pub cas: f64,
    /// Share of the snippets at or above 0.2 × that maximum (the paper's THUMOS14 threshold,
    /// the highest of its ActivityNet ones).
    pub above_0_2_max: f64,
}

/// One cell of the ActivityNet-shaped family and its table.
#[derive(Debug, Clone, Serialize)]
pub struct FamilyResult {
    /// The property varied (`base` for the base cell).
    pub axis: String,
    /// Its value in this cell.
    pub level: String,
    /// The data's whole configuration.
    pub config: SynthConfig,
    /// STPN and MAAN (or the plan's aggregators) with the paper preset, and with the
    /// localization variant when given (a second row per model).
    pub table: Table1,
    /// The base cell only: attention and CAS per snippet role, per model and localization
    /// row, for the first seed.
    pub roles: Vec<RoleStats>,
}

/// Attention and CAS of `outputs` (one per test video of `data`, in order; CAS `[T, C]` row
/// major, attention `[T]`) on the snippets of each role, the CAS smoothed as `cfg` says
/// ([`LocalizeConfig::smoothing_window`]).
pub fn role_stats(
    model: &str,
    data: &WtalDataset,
    outputs: &[maan_model::VideoOutput],
    roles: &[VideoRoles],
    cfg: &LocalizeConfig,
) -> Vec<RoleStats> {
    let by_id: std::collections::HashMap<&str, &[SnippetRole]> = roles
        .iter()
        .map(|r| (r.video.as_str(), r.roles.as_slice()))
        .collect();
    // Per role: count, attention sum, CAS sum, count above 0.2 × max.
    let mut acc = [(0usize, 0.0f64, 0.0f64, 0usize); 4];
    let mut has_attention = true;
    for (video, out) in data.test.iter().zip(outputs) {
        let (Some(roles), Some(&class)) = (by_id.get(video.id.as_str()), video.labels.first())
        else {
            continue;
        };
        let t_len = out.num_snippets.min(roles.len());
        let column: Vec<f32> = (0..out.num_snippets)
            .map(|t| out.cas[t * out.num_classes + class])
            .collect();
        let column = maan_eval::localize::smooth_moving_average(
            &column,
            cfg.smoothing_window(out.num_snippets),
        );
        let max = column.iter().copied().fold(0.0f32, f32::max).max(1e-12) as f64;
        for t in 0..t_len {
            let k = SnippetRole::ALL
                .iter()
                .position(|r| *r == roles[t])
                .expect("every role is listed");
            let a = &mut acc[k];
            a.0 += 1;
            match &out.attention {
                Some(p) => a.1 += p[t] as f64,
                None => has_attention = false,
            }
            let v = column[t] as f64 / max;
            a.2 += v;
            a.3 += usize::from(v >= 0.2);
        }
    }
    SnippetRole::ALL
        .iter()
        .zip(acc)
        .map(|(role, (n, att, cas, above))| {
            let n_f = n.max(1) as f64;
            RoleStats {
                model: model.to_string(),
                role: role.name().to_string(),
                snippets: n,
                attention: if has_attention { att / n_f } else { f64::NAN },
                cas: cas / n_f,
                above_0_2_max: above as f64 / n_f,
            }
        })
        .collect()
}

/// The best average mAP (fraction, mean over seeds) of the rows of `table` whose aggregator
/// is `agg` (the paper preset or the localization options, whichever is higher).
pub fn best_of(table: &Table1, agg: Aggregator) -> Option<f64> {
    table
        .rows
        .iter()
        .filter(|r| r.aggregator.as_deref() == Some(agg.name()))
        .map(|r| r.avg_map().0)
        .fold(None, |a: Option<f64>, v| Some(a.map_or(v, |a| a.max(v))))
}

/// The family's heat map: one row per axis of [`FAMILY_AXES`] (low value, base, high
/// value), MAAN's best row minus STPN's best row, in average mAP points.
pub fn family_heatmap(family: &[FamilyResult]) -> Option<HeatMap> {
    let base = family.iter().find(|c| c.axis == "base")?;
    let diff = |t: &Table1| {
        Some((best_of(t, Aggregator::Maa)? - best_of(t, Aggregator::WeightedSum)?) * 100.0)
    };
    let mut values = Vec::new();
    let mut y_ticks = Vec::new();
    for axis in FAMILY_AXES {
        let cells: Vec<&FamilyResult> = family.iter().filter(|c| c.axis == axis).collect();
        if cells.len() != 2 {
            continue;
        }
        values.push(vec![
            diff(&cells[0].table)?,
            diff(&base.table)?,
            diff(&cells[1].table)?,
        ]);
        // Short labels: the plot's left margin holds about 20 characters.
        let short = |level: &str| level.replace(" everywhere", "").replace("0.", ".");
        let name = match axis {
            "noise-correlation" => "noise corr.",
            other => other,
        };
        y_ticks.push(format!(
            "{name} {}|{}",
            short(&cells[0].level),
            short(&cells[1].level)
        ));
    }
    Some(HeatMap {
        title: "MAAN minus STPN (best rows), mAP points".into(),
        x_label: "value of the property".into(),
        y_label: String::new(),
        x_ticks: vec!["low".into(), "base".into(), "high".into()],
        y_ticks,
        values,
        format: |v| format!("{v:+.1}"),
    })
}

/// The family's part of a report of `seeds` seeds from `first_seed`: a summary (every row's
/// average mAP in every cell) and each cell's table.
pub(crate) fn family_markdown(
    family: &[FamilyResult],
    first_seed: u64,
    seeds: u64,
    s: &mut String,
) {
    let Some(first) = family.first() else {
        return;
    };
    let _ = writeln!(
        s,
        "ActivityNet-shaped family, seeds {}-{}. Average mAP over tIoU 0.5:0.95 (%), mean ± std over seeds:\n",
        first_seed,
        first_seed + seeds.max(1) - 1
    );
    let _ = write!(s, "| cell |");
    for row in &first.table.rows {
        let _ = write!(s, " {} |", row.name());
    }
    let _ = writeln!(s, " MAAN − STPN (best rows) |");
    let _ = writeln!(s, "|---|{}---|", "---|".repeat(first.table.rows.len()));
    for cell in family {
        let name = if cell.axis == "base" {
            "base".to_string()
        } else {
            format!("{} = {}", cell.axis, cell.level)
        };
        let _ = write!(s, "| {name} |");
        for row in &cell.table.rows {
            let (m, sd) = row.avg_map();
            let _ = write!(s, " {:.1} ± {:.1} |", m * 100.0, sd * 100.0);
        }
        match (
            best_of(&cell.table, Aggregator::Maa),
            best_of(&cell.table, Aggregator::WeightedSum),
        ) {
            (Some(m), Some(p)) => {
                let _ = writeln!(s, " {:+.1} |", (m - p) * 100.0);
            }
            _ => {
                let _ = writeln!(s, " - |");
            }
        }
    }
    for cell in family.iter().filter(|c| !c.roles.is_empty()) {
        let _ = writeln!(
            s,
            "\nDiagnosis ({} cell, seed {}): per snippet role, the mean attention p_t, the mean \
             CAS of the video's class ÷ its maximum in the video, and the share of snippets at \
             or above 0.2 × that maximum:\n",
            cell.axis, first_seed
        );
        let _ = writeln!(
            s,
            "| model | role | snippets | p_t | CAS / max | ≥ 0.2 × max |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|---|");
        for st in &cell.roles {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {:.3} | {:.3} | {:.3} |",
                st.model, st.role, st.snippets, st.attention, st.cas, st.above_0_2_max
            );
        }
    }
    let _ = writeln!(s, "\nLocalization of each row:\n");
    for row in &first.table.rows {
        let _ = writeln!(s, "- {}: {}", row.name(), row.localization);
    }
    for cell in family {
        let _ = writeln!(
            s,
            "\n### {} {}\n\n{}",
            cell.axis,
            cell.level,
            markdown(&cell.table)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{ReportHeader, Row};

    fn params(cell: &FamilyCell) -> I3dParams {
        match cell.config.signal {
            Signal::I3d(p) => p,
            Signal::Legacy(_) => panic!("{} is I3D-like", cell.name()),
        }
    }

    /// The ActivityNet-shaped family is a base and, per axis, a low and a high cell that
    /// differ from the base in that property alone (the configuration with the axis's fields
    /// put back to the base's values equals the base), on either side of the base's value.
    #[test]
    fn family_cells_differ_from_the_base_in_their_axis_only() {
        let cells = activitynet_family(16);
        assert_eq!(cells.len(), 1 + 2 * FAMILY_AXES.len());
        let base = &cells[0];
        assert_eq!(base.axis, "base");
        assert_eq!(base.config.like, Benchmark::ActivityNet13);
        assert_eq!(base.config.activitynet_classes, Some(FAMILY_CLASSES));
        let b = params(base);
        assert_eq!(b.context_shots, 0.5);
        for axis in FAMILY_AXES {
            let pair: Vec<&FamilyCell> = cells.iter().filter(|c| c.axis == axis).collect();
            assert_eq!(pair.len(), 2, "{axis}");
            for cell in &pair {
                let mut restored = cell.config.clone();
                let mut p = params(cell);
                let (value, base_value) = match axis {
                    "dominance" => (p.peak / p.rest, b.peak / b.rest),
                    "context" => (p.context, b.context),
                    "actionness" => (p.actionness, b.actionness),
                    "noise-correlation" => (p.noise_correlation, b.noise_correlation),
                    "coverage" => (
                        (cell.config.coverage.0 + cell.config.coverage.1) as f32,
                        (base.config.coverage.0 + base.config.coverage.1) as f32,
                    ),
                    other => panic!("untested axis {other}"),
                };
                assert_ne!(value, base_value, "{}", cell.name());
                p.peak = b.peak;
                p.context = b.context;
                p.context_shots = b.context_shots;
                p.actionness = b.actionness;
                p.noise_correlation = b.noise_correlation;
                restored.signal = Signal::I3d(p);
                restored.coverage = base.config.coverage;
                assert_eq!(restored, base.config, "{}", cell.name());
            }
        }
    }

    /// The family's heat map puts MAAN's best row minus STPN's best row of each cell, in
    /// points, at (axis, low | base | high).
    #[test]
    fn family_heatmap_is_maan_minus_stpn_per_axis_and_level() {
        let metrics = |avg: f64| maan_model::EvalMetrics {
            iteration: 0,
            tiou_thresholds: vec![0.5],
            map: vec![avg],
            average_map: avg,
            classification_map: 0.9,
            warnings: Vec::new(),
        };
        let table = |maan: f64, stpn: f64| Table1 {
            data_dir: String::new(),
            header: ReportHeader {
                backend: "flex".into(),
                commit: "unknown".into(),
                seeds: 1,
                iterations: 1,
                batch_size: 1,
            },
            rows: vec![
                Row::new(
                    Aggregator::WeightedSum,
                    None,
                    String::new(),
                    &[metrics(stpn)],
                ),
                Row::new(Aggregator::Maa, None, String::new(), &[metrics(maan)]),
                Row::new(
                    Aggregator::Maa,
                    Some("x"),
                    String::new(),
                    &[metrics(maan + 0.1)],
                ),
            ],
        };
        let family: Vec<FamilyResult> = activitynet_family(4)
            .into_iter()
            .enumerate()
            .map(|(i, c)| FamilyResult {
                axis: c.axis.to_string(),
                level: c.level,
                config: c.config,
                table: table(0.3 + 0.01 * i as f64, 0.2),
                roles: Vec::new(),
            })
            .collect();
        let map = family_heatmap(&family).unwrap();
        assert_eq!(map.values.len(), FAMILY_AXES.len());
        // Base (index 0): 0.3 + 0.1 - 0.2 = 0.2 -> 20 points; dominance low (index 1): +1.
        assert!((map.values[0][1] - 20.0).abs() < 1e-9, "{:?}", map.values);
        assert!((map.values[0][0] - 21.0).abs() < 1e-9, "{:?}", map.values);
        assert!((map.values[0][2] - 22.0).abs() < 1e-9, "{:?}", map.values);
        assert!(map.y_ticks[0].starts_with("dominance"));
    }
}
