//! Where MAA helps on the synthetic benchmark.
//!
//! 1. For every regime of the generator (`realistic`, `peaked`, `uniform`, `clutter`,
//!    `legacy`), generate the THUMOS14-shaped data and train Table 1's five models (each
//!    seed, both streams), reporting mean ± std as Table 1 does.
//! 2. Over a grid of the two knobs the paper's argument turns on, with everything else as in
//!    `realistic` (how many times stronger the most discriminative part is than the rest ×
//!    how class-specific the rest is), train MAAN and STPN and report MAAN's minus STPN's
//!    average mAP ([`GridResult`], drawn as a heat map).
//! 3. On ActivityNet-shaped data, instead of both: the family of datasets of
//!    [`crate::family`], each cell with its models, the localization variant, the
//!    localization `maan train` recommends, and MAAN trained as it recommends.
//!
//! The generated data is written under the runner's data folder and removed once its models
//! are trained.

use std::fmt::Write as _;
use std::path::Path;

use burn::tensor::backend::AutodiffBackend;
use dataset::synth::{Regime, Signal, SynthConfig, VideoRoles};
use dataset::{Benchmark, WtalDataset};
use maa_core::Aggregator;
use maan_eval::localize::LocalizeConfig;
use maan_model::{EvalMetrics, StreamModelConfig, TrainConfig};
use serde::Serialize;

use crate::error::{PlanError, Result};
use crate::family::{
    activitynet_family, family_markdown, role_stats, FamilyCell, FamilyResult, RoleStats,
};
use crate::heatmap::HeatMap;
use crate::report::{aggregators, mean_std, tiou_label, ReportHeader, Row};
use crate::table1::{markdown, Table1};
use crate::train::{
    generate_and_load, train_and_evaluate, train_config_and_evaluate, Observer, Schedule, Session,
};

/// Default feature dimension of the generated data.
pub const DEFAULT_DIM: usize = 64;
/// Default training iterations per model.
pub const DEFAULT_ITERATIONS: usize = 4000;
/// Default dominance values of the heat map (most discriminative part ÷ rest).
pub const DEFAULT_DOMINANCE: [f32; 4] = [1.0, 2.0, 4.0, 8.0];
/// Default specificity values of the heat map (how class-specific the rest is).
pub const DEFAULT_SPECIFICITY: [f32; 4] = [0.0, 0.33, 0.67, 1.0];

/// What a [`RegimesPlan`] is asked for; empty lists and `None` take the defaults.
#[derive(Debug, Clone, Default)]
pub struct RegimesOptions {
    /// Benchmark the generated data imitates [default: THUMOS14].
    pub dataset: Option<Benchmark>,
    /// The aggregators [default: Table 1's five; STPN and MAAN on ActivityNet-shaped data].
    pub aggregators: Vec<Aggregator>,
    /// The regimes [default: all five; none on ActivityNet-shaped data, where giving any is
    /// an error].
    pub regimes: Vec<Regime>,
    /// Feature dimension of the generated data [default: [`DEFAULT_DIM`]].
    pub dim: Option<usize>,
    /// Dominance values of the heat map [default: [`DEFAULT_DOMINANCE`]].
    pub dominance: Vec<f32>,
    /// Specificity values of the heat map [default: [`DEFAULT_SPECIFICITY`]].
    pub specificity: Vec<f32>,
    /// Seeds per heat-map cell [default: 1].
    pub grid_seeds: Option<u64>,
    /// The first seed: models are trained with seeds `first_seed .. first_seed + seeds`.
    pub first_seed: u64,
}

/// Everything `regimes` trains.
#[derive(Debug, Clone)]
pub struct RegimesPlan {
    /// The first seed of every table's models.
    pub first_seed: u64,
    /// The ActivityNet-shaped family's cells (empty on THUMOS14-shaped data).
    pub family: Vec<FamilyCell>,
    /// Benchmark the generated data imitates.
    pub kind: Benchmark,
    /// Feature dimension of the generated data.
    pub dim: usize,
    /// Seeds per model in the tables, iterations per model and stream, batch size.
    pub schedule: Schedule,
    /// The regimes (THUMOS14-shaped data).
    pub regimes: Vec<Regime>,
    /// The aggregators of every table.
    pub aggregators: Vec<Aggregator>,
    /// Dominance values of the heat map (empty: no heat map).
    pub dominance: Vec<f32>,
    /// Specificity values of the heat map (empty: no heat map).
    pub specificity: Vec<f32>,
    /// Seeds per heat-map cell.
    pub grid_seeds: u64,
}

impl RegimesPlan {
    /// The plan for `options` with `schedule`; an error for a feature dimension of 0,
    /// dominance values below 0, specificity values outside [0, 1], or regimes asked of
    /// ActivityNet-shaped data.
    pub fn new(options: RegimesOptions, schedule: Schedule) -> Result<RegimesPlan, PlanError> {
        let r = options;
        let kind = r.dataset.unwrap_or_default();
        let activitynet = kind == Benchmark::ActivityNet13;
        let dim = r.dim.unwrap_or(DEFAULT_DIM);
        let plan = RegimesPlan {
            first_seed: r.first_seed,
            family: if activitynet {
                activitynet_family(dim)
            } else {
                Vec::new()
            },
            kind,
            dim,
            schedule,
            regimes: if activitynet {
                if !r.regimes.is_empty() {
                    return Err(PlanError::RegimesOnActivityNet);
                }
                Vec::new()
            } else if r.regimes.is_empty() {
                Regime::ALL.to_vec()
            } else {
                r.regimes
            },
            aggregators: if activitynet && r.aggregators.is_empty() {
                vec![Aggregator::WeightedSum, Aggregator::Maa]
            } else {
                aggregators(&r.aggregators)
            },
            dominance: if activitynet {
                Vec::new()
            } else if r.dominance.is_empty() {
                DEFAULT_DOMINANCE.to_vec()
            } else {
                r.dominance
            },
            specificity: if activitynet {
                Vec::new()
            } else if r.specificity.is_empty() {
                DEFAULT_SPECIFICITY.to_vec()
            } else {
                r.specificity
            },
            grid_seeds: r.grid_seeds.unwrap_or(1),
        };
        if plan.dim == 0 {
            return Err(PlanError::ZeroDim);
        }
        if plan.dominance.iter().any(|d| !(d.is_finite() && *d >= 0.0)) {
            return Err(PlanError::Dominance);
        }
        if plan.specificity.iter().any(|s| !(0.0..=1.0).contains(s)) {
            return Err(PlanError::Specificity);
        }
        Ok(plan)
    }

    /// Training iterations of the whole experiment.
    pub fn total_iterations(&self) -> u64 {
        let cells = (self.regimes.len() + self.family.len()) as u64;
        let recipe =
            u64::from(!self.family.is_empty() && self.aggregators.contains(&Aggregator::Maa));
        let table = cells * (self.aggregators.len() as u64 + recipe) * self.schedule.seeds;
        let grid = (self.dominance.len() * self.specificity.len()) as u64 * 2 * self.grid_seeds;
        (table + grid) * self.schedule.iterations as u64
    }

    /// The generator's configuration of `regime` at the plan's benchmark and dimension.
    pub fn config(&self, regime: Regime) -> SynthConfig {
        SynthConfig {
            like: self.kind,
            dim: self.dim,
            ..SynthConfig::default()
        }
        .with_regime(regime)
    }
}

/// The results of one regime.
#[derive(Debug, Clone, Serialize)]
pub struct RegimeResult {
    /// The regime.
    pub regime: String,
    /// Its signal model and every parameter.
    pub signal: Signal,
    /// Table 1 on its data.
    pub table: Table1,
}

/// The heat map's numbers.
#[derive(Debug, Clone, Serialize)]
pub struct GridResult {
    /// Dominance values (columns).
    pub dominance: Vec<f32>,
    /// Specificity values (rows, bottom to top).
    pub specificity: Vec<f32>,
    /// Seeds per cell.
    pub seeds: u64,
    /// MAAN's average mAP (fraction), mean over seeds, `[specificity][dominance]`.
    pub maan: Vec<Vec<f64>>,
    /// STPN's average mAP (fraction), mean over seeds, `[specificity][dominance]`.
    pub stpn: Vec<Vec<f64>>,
    /// MAAN minus STPN, in mAP points, `[specificity][dominance]`.
    pub difference_points: Vec<Vec<f64>>,
}

impl GridResult {
    /// The heat map of MAAN minus STPN over dominance (columns) and specificity (rows).
    pub fn heatmap(&self) -> HeatMap {
        HeatMap {
            title: "MAAN minus STPN, average mAP points".into(),
            x_label: "dominance of the most discriminative part (× the rest)".into(),
            y_label: "specificity of the rest".into(),
            x_ticks: self.dominance.iter().map(|d| d.to_string()).collect(),
            y_ticks: self.specificity.iter().map(|s| s.to_string()).collect(),
            values: self.difference_points.clone(),
            format: |v| format!("{v:+.1}"),
        }
    }
}

/// Everything `regimes` measured.
#[derive(Debug, Clone, Serialize)]
pub struct RegimesReport {
    /// Backend, seeds per model in the regime tables, iterations per model, batch size.
    #[serde(flatten)]
    pub header: ReportHeader,
    /// Benchmark the data imitates.
    pub dataset: String,
    /// Feature dimension of the generated data.
    pub dim: usize,
    /// One result per regime.
    pub regimes: Vec<RegimeResult>,
    /// The heat map (absent when the grid is empty).
    pub grid: Option<GridResult>,
    /// ActivityNet-shaped data: the family's cells (empty for THUMOS14-shaped data).
    pub family: Vec<FamilyResult>,
    /// The first seed of every model (seeds `first_seed .. first_seed + seeds`).
    pub first_seed: u64,
    /// Wall time of the whole experiment, seconds.
    pub seconds: f64,
}

/// Runs `plan`: the family's cells, the regimes and the heat map, generating their data
/// under `data_root` (removed once done). The family's tables also evaluate every model with
/// `variant` when given (a second row per model).
pub fn run<B: AutodiffBackend>(
    plan: &RegimesPlan,
    variant: Option<&LocalizeConfig>,
    data_root: &Path,
    session: &Session<B>,
    observer: &mut dyn Observer,
) -> Result<RegimesReport> {
    let start = std::time::Instant::now();
    observer.on_start(plan.total_iterations());
    let mut runner = Runner {
        plan,
        session,
        observer,
    };
    let family = runner.family(data_root, variant)?;
    let mut regimes = Vec::new();
    for &regime in &plan.regimes {
        let cfg = plan.config(regime);
        let data = generate_and_load(&data_root.join(regime.name()), &cfg)?;
        let preset = data.kind.paper_localize();
        let rows = runner
            .rows(&data, &plan.aggregators, plan.schedule.seeds, regime.name())?
            .into_iter()
            .map(|(agg, runs)| Row::new(agg, None, preset.describe(), &runs))
            .collect();
        regimes.push(RegimeResult {
            regime: regime.name().to_string(),
            signal: cfg.signal.clone(),
            table: Table1 {
                data_dir: format!("generated: {regime} regime, dim {}", plan.dim),
                header: ReportHeader::new(session, plan.schedule),
                rows,
            },
        });
    }
    let grid = if plan.dominance.is_empty() || plan.specificity.is_empty() {
        None
    } else {
        Some(runner.grid(data_root)?)
    };
    let _ = std::fs::remove_dir(data_root);
    Ok(RegimesReport {
        header: ReportHeader::new(session, plan.schedule),
        dataset: plan.kind.to_string(),
        dim: plan.dim,
        regimes,
        grid,
        family,
        first_seed: plan.first_seed,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// One model trained over seeds: its evaluations with the paper preset, with the variant
/// localization (empty without one), and with the localization `maan train` recommends for it
/// when that is neither.
struct Trained {
    aggregator: Aggregator,
    runs: Vec<EvalMetrics>,
    variant_runs: Vec<EvalMetrics>,
    recommended: Option<(LocalizeConfig, Vec<EvalMetrics>)>,
}

/// The plan being run, where, and who hears about it.
struct Runner<'a, B: AutodiffBackend> {
    plan: &'a RegimesPlan,
    session: &'a Session<B>,
    observer: &'a mut dyn Observer,
}

impl<B: AutodiffBackend> Runner<'_, B> {
    /// Trains `aggregators` × `seeds` on `data`, one row per aggregator.
    fn rows(
        &mut self,
        data: &WtalDataset,
        aggregators: &[Aggregator],
        seeds: u64,
        label: &str,
    ) -> Result<Vec<(Aggregator, Vec<EvalMetrics>)>> {
        let first_seed = self.plan.first_seed;
        let (trained, _) =
            self.rows_and_roles(data, aggregators, seeds, first_seed, None, None, label)?;
        Ok(trained
            .into_iter()
            .map(|t| (t.aggregator, t.runs))
            .collect())
    }

    /// [`Self::rows`] with seeds `first_seed ..`, each trained model also evaluated with
    /// `variant` when given, and with `roles` the role diagnosis of each model's first seed
    /// (with the paper preset's CAS, and with the variant's smoothing when given).
    #[allow(clippy::too_many_arguments)]
    fn rows_and_roles(
        &mut self,
        data: &WtalDataset,
        aggregators: &[Aggregator],
        seeds: u64,
        first_seed: u64,
        variant: Option<&LocalizeConfig>,
        roles: Option<&[VideoRoles]>,
        label: &str,
    ) -> Result<(Vec<Trained>, Vec<RoleStats>)> {
        let mut stats = Vec::new();
        let mut out = Vec::new();
        for &agg in aggregators {
            let mut runs = Vec::new();
            let mut variant_runs = Vec::new();
            let mut recommended_runs = Vec::new();
            // The localization `maan train` recommends for this model and benchmark, when it is
            // neither the paper preset nor the variant.
            let recommended =
                TrainConfig::recommended(StreamModelConfig::new().with_aggregator(agg), data.kind)
                    .localize
                    .filter(|l| Some(l) != variant);
            for seed in first_seed..first_seed + seeds {
                self.observer
                    .on_model(agg.paper_name(), &format!("{label}, seed {seed}"));
                let (trainer, m) = train_and_evaluate::<B>(
                    data,
                    agg,
                    seed,
                    self.plan.schedule.iterations,
                    self.plan.schedule.batch_size,
                    self.session,
                    self.observer,
                )?;
                if let (Some(roles), true) = (roles, seed == first_seed) {
                    let outputs = trainer.test_outputs(data)?;
                    let preset = data.kind.paper_localize();
                    stats.extend(role_stats(agg.paper_name(), data, &outputs, roles, &preset));
                    if let Some(cfg) = variant {
                        let name = format!("{} (localization options)", agg.paper_name());
                        stats.extend(role_stats(&name, data, &outputs, roles, cfg));
                    }
                }
                if let Some(cfg) = &recommended {
                    recommended_runs.push(trainer.evaluate_with(data, Some(cfg))?);
                }
                if let Some(cfg) = variant {
                    let v = trainer.evaluate_with(data, Some(cfg))?;
                    self.observer.on_result(&format!(
                        "{label:>28} {:>12} seed {seed} (localization options): avg mAP {:.1}%",
                        agg.paper_name(),
                        v.average_map * 100.0,
                    ));
                    variant_runs.push(v);
                }
                self.observer.on_result(&format!(
                    "{label:>28} {:>12} seed {seed}: avg mAP {:.1}%, mAP@0.5 {:.1}%, cls mAP {:.1}%",
                    agg.paper_name(),
                    m.average_map * 100.0,
                    m.map_at(0.5).unwrap_or(f64::NAN) * 100.0,
                    m.classification_map * 100.0
                ));
                runs.push(m);
            }
            out.push(Trained {
                aggregator: agg,
                runs,
                variant_runs,
                recommended: recommended.map(|cfg| (cfg, recommended_runs)),
            });
        }
        Ok((out, stats))
    }

    /// MAAN trained and localized as `maan train` recommends on this benchmark
    /// ([`TrainConfig::recommended`]), seeds as the other rows: its row, and its role
    /// diagnosis for the first seed when `roles` is given. `None` when the recommendation is
    /// the paper's procedure (nothing new to train).
    fn recipe_rows(
        &mut self,
        data: &WtalDataset,
        roles: Option<&[VideoRoles]>,
        label: &str,
    ) -> Result<Option<(Row, Vec<RoleStats>)>> {
        let model = StreamModelConfig::new().with_aggregator(Aggregator::Maa);
        let recipe = TrainConfig::recommended(model.clone(), data.kind);
        if recipe == TrainConfig::new(model) {
            return Ok(None);
        }
        let localize = recipe.localization(data.kind);
        let (mut runs, mut stats) = (Vec::new(), Vec::new());
        let first = self.plan.first_seed;
        for seed in first..first + self.plan.schedule.seeds {
            self.observer
                .on_model("MAAN recipe", &format!("{label}, seed {seed}"));
            let config = recipe
                .clone()
                .with_iterations(self.plan.schedule.iterations)
                .with_batch_size(self.plan.schedule.batch_size)
                .with_seed(seed);
            let (trainer, m) =
                train_config_and_evaluate::<B>(data, config, self.session, self.observer)?;
            self.observer.on_result(&format!(
                "{label:>28} {:>12} seed {seed}: avg mAP {:.1}%, cls mAP {:.1}%",
                "MAAN recipe",
                m.average_map * 100.0,
                m.classification_map * 100.0
            ));
            if let (Some(roles), true) = (roles, seed == first) {
                let outputs = trainer.test_outputs(data)?;
                stats.extend(role_stats(
                    "MAAN (recipe)",
                    data,
                    &outputs,
                    roles,
                    &localize,
                ));
            }
            runs.push(m);
        }
        let row = Row::new(
            Aggregator::Maa,
            Some(&format!(
                "recipe: T = {}, erasing {}, attention erasing {}, background {}",
                recipe.num_segments,
                recipe.erase.0,
                recipe.attention_erase.0,
                recipe.model.background
            )),
            localize.describe(),
            &runs,
        );
        Ok(Some((row, stats)))
    }

    /// The ActivityNet-shaped family: every cell's data, its models and their rows.
    fn family(
        &mut self,
        data_root: &Path,
        variant: Option<&LocalizeConfig>,
    ) -> Result<Vec<FamilyResult>> {
        let plan = self.plan;
        let mut out = Vec::new();
        for cell in &plan.family {
            let name = cell.name();
            let data = generate_and_load(&data_root.join(name.replace(' ', "-")), &cell.config)?;
            let preset = data.kind.paper_localize();
            let roles = if cell.axis == "base" {
                dataset::synth::snippet_roles(&cell.config)?
            } else {
                None
            };
            let mut rows = Vec::new();
            let (trained, mut role_rows) = self.rows_and_roles(
                &data,
                &plan.aggregators,
                plan.schedule.seeds,
                plan.first_seed,
                variant,
                roles.as_deref(),
                &name,
            )?;
            let recipe_rows = if plan.aggregators.contains(&Aggregator::Maa) {
                self.recipe_rows(&data, roles.as_deref(), &name)?
            } else {
                None
            };
            for Trained {
                aggregator: agg,
                runs,
                variant_runs,
                recommended,
            } in trained
            {
                rows.push(Row::new(agg, None, preset.describe(), &runs));
                if let Some(cfg) = variant {
                    rows.push(Row::new(
                        agg,
                        Some("localization options"),
                        cfg.describe(),
                        &variant_runs,
                    ));
                }
                if let Some((cfg, runs)) = recommended {
                    rows.push(Row::new(
                        agg,
                        Some("recommended localization"),
                        cfg.describe(),
                        &runs,
                    ));
                }
            }
            if let Some((row, stats)) = recipe_rows {
                rows.push(row);
                role_rows.extend(stats);
            }
            out.push(FamilyResult {
                axis: cell.axis.to_string(),
                level: cell.level.clone(),
                config: cell.config.clone(),
                table: Table1 {
                    data_dir: format!(
                        "generated: ActivityNet-shaped family, {name}, dim {}",
                        plan.dim
                    ),
                    header: ReportHeader::new(self.session, plan.schedule),
                    rows,
                },
                roles: role_rows,
            });
        }
        Ok(out)
    }

    /// The heat map: MAAN and STPN on every (specificity, dominance) cell of the grid.
    fn grid(&mut self, data_root: &Path) -> Result<GridResult> {
        let plan = self.plan;
        let (mut maan, mut stpn) = (Vec::new(), Vec::new());
        for &s in &plan.specificity {
            let (mut m_row, mut s_row) = (Vec::new(), Vec::new());
            for &d in &plan.dominance {
                let mut cfg = plan.config(Regime::Realistic);
                if let Signal::I3d(p) = &mut cfg.signal {
                    *p = p.with_dominance(d);
                    p.rest_specificity = s;
                }
                let name = format!("grid-d{d}-s{s}");
                let data = generate_and_load(&data_root.join(&name), &cfg)?;
                let label = format!("dominance {d}, specificity {s}");
                let runs = self.rows(
                    &data,
                    &[Aggregator::WeightedSum, Aggregator::Maa],
                    plan.grid_seeds,
                    &label,
                )?;
                let avg = |i: usize| {
                    mean_std(&runs[i].1.iter().map(|m| m.average_map).collect::<Vec<_>>()).0
                };
                s_row.push(avg(0));
                m_row.push(avg(1));
            }
            maan.push(m_row);
            stpn.push(s_row);
        }
        let difference_points = maan
            .iter()
            .zip(&stpn)
            .map(|(m, s)| m.iter().zip(s).map(|(a, b)| (a - b) * 100.0).collect())
            .collect();
        Ok(GridResult {
            dominance: plan.dominance.clone(),
            specificity: plan.specificity.clone(),
            seeds: plan.grid_seeds,
            maan,
            stpn,
            difference_points,
        })
    }
}

/// The report as Markdown: a summary (average mAP of every model in every regime), each
/// regime's Table 1, and the heat map's values.
pub fn report_markdown(r: &RegimesReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Synthetic {}-shaped data, dim {}, {} iterations, batch {}, {} seed(s) per model, backend {} ({:.0} s).\n",
        r.dataset,
        r.dim,
        r.header.iterations,
        r.header.batch_size,
        r.header.seeds,
        r.header.backend,
        r.seconds
    );
    family_markdown(&r.family, r.first_seed, r.header.seeds, &mut s);
    if r.regimes.is_empty() && r.grid.is_none() {
        return s;
    }
    let range = r
        .regimes
        .first()
        .and_then(|g| g.table.rows.first())
        .and_then(|row| Some((row.tiou_thresholds.first()?, row.tiou_thresholds.last()?)))
        .map(|(lo, hi)| format!(" over tIoU {}:{}", tiou_label(*lo), tiou_label(*hi)))
        .unwrap_or_default();
    let _ = writeln!(s, "Average mAP{range} (%), mean ± std over seeds:\n");
    let _ = write!(s, "| Method |");
    for g in &r.regimes {
        let _ = write!(s, " {} |", g.regime);
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "|---|{}", "---|".repeat(r.regimes.len()));
    let methods: Vec<String> = r
        .regimes
        .first()
        .map(|g| {
            g.table
                .rows
                .iter()
                .map(|row| row.name().to_string())
                .collect()
        })
        .unwrap_or_default();
    for (i, method) in methods.iter().enumerate() {
        let _ = write!(s, "| {method} |");
        for g in &r.regimes {
            match g.table.rows.get(i) {
                Some(row) => {
                    let (m, sd) = row.avg_map();
                    let _ = write!(s, " {:.1} ± {:.1} |", m * 100.0, sd * 100.0);
                }
                None => s.push_str(" - |"),
            }
        }
        let _ = writeln!(s);
    }
    for g in &r.regimes {
        let _ = writeln!(s, "\n### {}\n\n{}", g.regime, markdown(&g.table));
    }
    if let Some(grid) = &r.grid {
        let _ = writeln!(
            s,
            "\n### MAAN minus STPN, average mAP points ({} seed(s) per cell)\n",
            grid.seeds
        );
        let _ = write!(s, "| specificity \\ dominance |");
        for d in &grid.dominance {
            let _ = write!(s, " {d} |");
        }
        let _ = writeln!(s);
        let _ = writeln!(s, "|---|{}", "---|".repeat(grid.dominance.len()));
        for (i, spec) in grid.specificity.iter().enumerate().rev() {
            let _ = write!(s, "| {spec} |");
            for j in 0..grid.dominance.len() {
                let _ = write!(
                    s,
                    " {:+.1} ({:.1} vs {:.1}) |",
                    grid.difference_points[i][j],
                    grid.maan[i][j] * 100.0,
                    grid.stpn[i][j] * 100.0
                );
            }
            let _ = writeln!(s);
        }
    }
    s
}
