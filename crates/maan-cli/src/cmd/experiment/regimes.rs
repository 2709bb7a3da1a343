//! `maan experiment regimes`: where MAA helps on the synthetic benchmark.
//!
//! 1. For every regime of the generator (`realistic`, `peaked`, `uniform`, `clutter`,
//!    `legacy`), generate the THUMOS14-shaped data at `--dim` and train Table 1's five models
//!    (`--seeds` seeds each, both streams), reporting mean ± std as Table 1 does.
//! 2. Over a grid of the two knobs the paper's argument turns on, with everything else as in
//!    `realistic` (how many times stronger the most discriminative part is than the rest ×
//!    how class-specific the rest is), train MAAN and STPN (`--grid-seeds` seeds) and draw
//!    MAAN's minus STPN's average mAP as a heat map (PNG + SVG, values in the cells).
//!
//! Outputs in `--run` (default `runs/regimes`): `regimes.md`, `regimes.json`,
//! `heatmap.png`, `heatmap.svg`. The generated data is written to `--run/data/<name>` and
//! removed once its models are trained.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use burn::tensor::backend::AutodiffBackend;
use dataset::synth::{generate, Regime, Signal, SynthConfig};
use dataset::{Benchmark, LoadOptions, WtalDataset};
use indicatif::ProgressBar;
use maa_core::Aggregator;
use maan_eval::localize::LocalizeConfig;
use maan_model::{EvalMetrics, StreamModelConfig, TrainConfig};
use serde::Serialize;

use super::table1::{markdown, Table1};
use super::{
    aggregators, mean_std, progress_bar, tiou_label, train_and_evaluate, train_config_and_evaluate,
    ReportHeader, Row, TrainingArgs,
};
use crate::backend::{BackendArg, BackendJob};
use crate::heatmap::{self, HeatMap};
use crate::opts::LocalizeOpts;

/// Default feature dimension of the generated data.
pub const DEFAULT_DIM: usize = 64;
/// Default training iterations per model.
pub const DEFAULT_ITERATIONS: usize = 4000;
/// Default dominance values of the heat map (most discriminative part ÷ rest).
pub const DEFAULT_DOMINANCE: [f32; 4] = [1.0, 2.0, 4.0, 8.0];
/// Default specificity values of the heat map (how class-specific the rest is).
pub const DEFAULT_SPECIFICITY: [f32; 4] = [0.0, 0.33, 0.67, 1.0];

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
    let base_params = dataset::synth::I3dParams {
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
    let i3d = |f: fn(&mut dataset::synth::I3dParams, f32), v: f32| {
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

/// Arguments of `maan experiment regimes`.
#[derive(Debug, clap::Args)]
pub struct RegimesArgs {
    /// Seeds, iterations, batch, backend, run directory.
    #[command(flatten)]
    pub common: TrainingArgs,
    /// Benchmark the generated data imitates: thumos14 (the regimes and the heat map) or
    /// activitynet (the ActivityNet-shaped family).
    #[arg(long, value_name = "thumos14|activitynet")]
    pub dataset: Option<Benchmark>,
    /// The aggregators to train, comma-separated [default: the paper's five; STPN and MAAN on
    /// the ActivityNet-shaped family].
    #[arg(long, value_delimiter = ',')]
    pub aggregators: Vec<Aggregator>,
    /// Localization options: each model is also evaluated with them (a second row).
    #[command(flatten)]
    pub localize: LocalizeOpts,
    /// The generator's knobs.
    #[command(flatten)]
    pub knobs: RegimeKnobs,
}

/// The generator's knobs of `maan experiment regimes`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RegimeKnobs {
    /// regimes: the regimes to run, comma-separated [default: realistic, peaked, uniform,
    /// clutter, legacy].
    #[arg(long, value_delimiter = ',')]
    pub regimes: Vec<Regime>,
    /// regimes: feature dimension of the generated data [default: 64].
    #[arg(long)]
    pub dim: Option<usize>,
    /// regimes: dominance values of the heat map, comma-separated [default: 1,2,4,8].
    #[arg(long, value_delimiter = ',')]
    pub dominance: Vec<f32>,
    /// regimes: specificity values of the heat map, comma-separated [default:
    /// 0,0.33,0.67,1].
    #[arg(long, value_delimiter = ',')]
    pub specificity: Vec<f32>,
    /// regimes: seeds per heat-map cell [default: 1].
    #[arg(long)]
    pub grid_seeds: Option<u64>,
    /// regimes: the first seed; models are trained with seeds first-seed .. first-seed +
    /// seeds (e.g. 3 to report on seeds 3-5 after choosing on 0-2) [default: 0].
    #[arg(long, default_value_t = 0)]
    pub first_seed: u64,
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
    /// STPN and MAAN (or `--aggregators`) with the paper preset, and with the localization
    /// options when given (a second row per model).
    pub table: Table1,
    /// The base cell only: attention and CAS per snippet role, per model and localization
    /// row, for the first seed.
    pub roles: Vec<RoleStats>,
}

/// Attention and CAS of `outputs` on the snippets of each role, the CAS smoothed as `cfg`
/// says ([`LocalizeConfig::smoothing_window`]).
fn role_stats(
    model: &str,
    data: &WtalDataset,
    outputs: &[maan_model::VideoOutput],
    roles: &[dataset::synth::VideoRoles],
    cfg: &LocalizeConfig,
) -> Vec<RoleStats> {
    use dataset::synth::SnippetRole;
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

struct Plan {
    first_seed: u64,
    family: Vec<FamilyCell>,
    kind: Benchmark,
    dim: usize,
    iterations: usize,
    regimes: Vec<Regime>,
    aggregators: Vec<Aggregator>,
    dominance: Vec<f32>,
    specificity: Vec<f32>,
    grid_seeds: u64,
}

impl Plan {
    fn of(args: &RegimesArgs) -> Result<Plan> {
        let r = &args.knobs;
        let kind = args.dataset.unwrap_or(Benchmark::Thumos14);
        let activitynet = kind == Benchmark::ActivityNet13;
        let plan = Plan {
            first_seed: r.first_seed,
            family: if activitynet {
                activitynet_family(r.dim.unwrap_or(DEFAULT_DIM))
            } else {
                Vec::new()
            },
            kind,
            dim: r.dim.unwrap_or(DEFAULT_DIM),
            iterations: args.common.iterations.unwrap_or(DEFAULT_ITERATIONS),
            regimes: if activitynet {
                if !r.regimes.is_empty() {
                    bail!(
                        "--regimes: on ActivityNet-shaped data the experiment maps its own \
                         family of datasets"
                    );
                }
                Vec::new()
            } else if r.regimes.is_empty() {
                Regime::ALL.to_vec()
            } else {
                r.regimes.clone()
            },
            aggregators: if activitynet && args.aggregators.is_empty() {
                vec![Aggregator::WeightedSum, Aggregator::Maa]
            } else {
                aggregators(&args.aggregators)
            },
            dominance: if activitynet {
                Vec::new()
            } else if r.dominance.is_empty() {
                DEFAULT_DOMINANCE.to_vec()
            } else {
                r.dominance.clone()
            },
            specificity: if activitynet {
                Vec::new()
            } else if r.specificity.is_empty() {
                DEFAULT_SPECIFICITY.to_vec()
            } else {
                r.specificity.clone()
            },
            grid_seeds: r.grid_seeds.unwrap_or(1),
        };
        if plan.dim == 0 {
            bail!("--dim must be at least 1");
        }
        if plan.dominance.iter().any(|d| !(d.is_finite() && *d >= 0.0)) {
            bail!("--dominance values must be finite and >= 0");
        }
        if plan.specificity.iter().any(|s| !(0.0..=1.0).contains(s)) {
            bail!("--specificity values must be in [0, 1]");
        }
        Ok(plan)
    }

    fn total_iterations(&self, seeds: u64) -> u64 {
        let cells = (self.regimes.len() + self.family.len()) as u64;
        let recipe =
            u64::from(!self.family.is_empty() && self.aggregators.contains(&Aggregator::Maa));
        let table = cells * (self.aggregators.len() as u64 + recipe) * seeds;
        let grid = (self.dominance.len() * self.specificity.len()) as u64 * 2 * self.grid_seeds;
        (table + grid) * self.iterations as u64
    }

    fn config(&self, regime: Regime) -> SynthConfig {
        SynthConfig {
            like: self.kind,
            dim: self.dim,
            ..SynthConfig::default()
        }
        .with_regime(regime)
    }
}

/// Generates `cfg` into `dir`, loads it, and removes the files (the loaded dataset is in
/// memory).
pub(crate) fn generate_and_load(dir: &Path, cfg: &SynthConfig) -> Result<WtalDataset> {
    generate(dir, cfg).with_context(|| format!("generating {}", dir.display()))?;
    let data = WtalDataset::load(dir, &LoadOptions::default())
        .with_context(|| format!("loading {}", dir.display()))?;
    std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    Ok(data)
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

struct RegimesJob {
    args: RegimesArgs,
    plan: Plan,
    out: PathBuf,
}

impl RegimesJob {
    /// Trains `aggregators` × `seeds` on `data`, one row per aggregator.
    fn rows<B: AutodiffBackend>(
        &self,
        data: &WtalDataset,
        aggregators: &[Aggregator],
        seeds: u64,
        label: &str,
        device: &B::Device,
        backend: BackendArg,
        bar: &ProgressBar,
    ) -> Result<Vec<(Aggregator, Vec<EvalMetrics>)>> {
        Ok(self
            .rows_with::<B>(
                data,
                aggregators,
                seeds,
                self.plan.first_seed,
                None,
                label,
                device,
                backend,
                bar,
            )?
            .into_iter()
            .map(|(agg, runs, _)| (agg, runs))
            .collect())
    }

    /// [`Self::rows`] with seeds `first_seed ..`, and each trained model also evaluated with
    /// `variant` when given (the third element: one metrics per seed).
    #[allow(clippy::type_complexity)]
    fn rows_with<B: AutodiffBackend>(
        &self,
        data: &WtalDataset,
        aggregators: &[Aggregator],
        seeds: u64,
        first_seed: u64,
        variant: Option<&LocalizeConfig>,
        label: &str,
        device: &B::Device,
        backend: BackendArg,
        bar: &ProgressBar,
    ) -> Result<Vec<(Aggregator, Vec<EvalMetrics>, Vec<EvalMetrics>)>> {
        self.rows_and_roles::<B>(
            data,
            aggregators,
            seeds,
            first_seed,
            variant,
            None,
            label,
            device,
            backend,
            bar,
        )
        .map(|(rows, _)| {
            rows.into_iter()
                .map(|t| (t.aggregator, t.runs, t.variant_runs))
                .collect()
        })
    }

    /// [`Self::rows_with`], and with `roles` the role diagnosis of each model's first seed
    /// (with the paper preset's CAS, and with the variant's smoothing when given).
    #[allow(clippy::type_complexity)]
    fn rows_and_roles<B: AutodiffBackend>(
        &self,
        data: &WtalDataset,
        aggregators: &[Aggregator],
        seeds: u64,
        first_seed: u64,
        variant: Option<&LocalizeConfig>,
        roles: Option<&[dataset::synth::VideoRoles]>,
        label: &str,
        device: &B::Device,
        backend: BackendArg,
        bar: &ProgressBar,
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
                bar.set_prefix(agg.paper_name());
                bar.set_message(format!("{label}, seed {seed}"));
                let (trainer, m) = train_and_evaluate::<B>(
                    data,
                    agg,
                    seed,
                    self.plan.iterations,
                    self.args.common.batch_size,
                    device,
                    backend,
                    bar,
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
                    bar.println(format!(
                        "{label:>28} {:>12} seed {seed} (localization options): avg mAP {:.1}%",
                        agg.paper_name(),
                        v.average_map * 100.0,
                    ));
                    variant_runs.push(v);
                }
                bar.println(format!(
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
    fn recipe_rows<B: AutodiffBackend>(
        &self,
        data: &WtalDataset,
        roles: Option<&[dataset::synth::VideoRoles]>,
        label: &str,
        device: &B::Device,
        backend: BackendArg,
        bar: &ProgressBar,
    ) -> Result<Option<(Row, Vec<RoleStats>)>> {
        let model = StreamModelConfig::new().with_aggregator(Aggregator::Maa);
        let recipe = TrainConfig::recommended(model.clone(), data.kind);
        if recipe == TrainConfig::new(model) {
            return Ok(None);
        }
        let localize = recipe.localization(data.kind);
        let (mut runs, mut stats) = (Vec::new(), Vec::new());
        let first = self.plan.first_seed;
        for seed in first..first + self.args.common.seeds {
            bar.set_prefix("MAAN recipe");
            bar.set_message(format!("{label}, seed {seed}"));
            let config = recipe
                .clone()
                .with_iterations(self.plan.iterations)
                .with_batch_size(self.args.common.batch_size)
                .with_seed(seed);
            let (trainer, m) = train_config_and_evaluate::<B>(data, config, device, backend, bar)?;
            bar.println(format!(
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
                "recipe: T = {}, erasing {}",
                recipe.num_segments, recipe.erase.0
            )),
            crate::opts::describe_localize(&localize),
            &runs,
        );
        Ok(Some((row, stats)))
    }

    /// The ActivityNet-shaped family: every cell's data, its models and their rows.
    fn family<B: AutodiffBackend>(
        &self,
        data_root: &Path,
        device: &B::Device,
        backend: BackendArg,
        bar: &ProgressBar,
    ) -> Result<Vec<FamilyResult>> {
        let plan = &self.plan;
        let mut out = Vec::new();
        for cell in &plan.family {
            let name = cell.name();
            let data = generate_and_load(&data_root.join(name.replace(' ', "-")), &cell.config)?;
            let preset = data.kind.paper_localize();
            let variant = self.args.localize.for_data(&data)?;
            let roles = if cell.axis == "base" {
                dataset::synth::snippet_roles(&cell.config)?
            } else {
                None
            };
            let mut rows = Vec::new();
            let (trained, role_rows) = self.rows_and_roles::<B>(
                &data,
                &plan.aggregators,
                self.args.common.seeds,
                plan.first_seed,
                variant.as_ref(),
                roles.as_deref(),
                &name,
                device,
                backend,
                bar,
            )?;
            let mut role_rows = role_rows;
            let recipe_rows = if plan.aggregators.contains(&Aggregator::Maa) {
                self.recipe_rows::<B>(&data, roles.as_deref(), &name, device, backend, bar)?
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
                rows.push(Row::new(
                    agg,
                    None,
                    crate::opts::describe_localize(&preset),
                    &runs,
                ));
                if let Some(cfg) = &variant {
                    rows.push(Row::new(
                        agg,
                        Some("localization options"),
                        crate::opts::describe_localize(cfg),
                        &variant_runs,
                    ));
                }
                if let Some((cfg, runs)) = recommended {
                    rows.push(Row::new(
                        agg,
                        Some("recommended localization"),
                        crate::opts::describe_localize(&cfg),
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
                    header: ReportHeader {
                        backend: backend.to_string(),
                        seeds: self.args.common.seeds,
                        iterations: plan.iterations,
                        batch_size: self.args.common.batch_size,
                    },
                    rows,
                },
                roles: role_rows,
            });
        }
        Ok(out)
    }
}

impl BackendJob for RegimesJob {
    type Output = RegimesReport;

    fn run<B: AutodiffBackend>(
        self,
        device: B::Device,
        backend: BackendArg,
    ) -> Result<RegimesReport> {
        let start = std::time::Instant::now();
        let plan = &self.plan;
        let bar = progress_bar(
            plan.total_iterations(self.args.common.seeds),
            self.args.common.quiet,
        );
        let data_root = self.out.join("data");
        let family = self.family::<B>(&data_root, &device, backend, &bar)?;
        let mut regimes = Vec::new();
        for &regime in &plan.regimes {
            let cfg = plan.config(regime);
            let data = generate_and_load(&data_root.join(regime.name()), &cfg)?;
            let preset = data.kind.paper_localize();
            let rows = self
                .rows::<B>(
                    &data,
                    &plan.aggregators,
                    self.args.common.seeds,
                    regime.name(),
                    &device,
                    backend,
                    &bar,
                )?
                .into_iter()
                .map(|(agg, runs)| {
                    Row::new(agg, None, crate::opts::describe_localize(&preset), &runs)
                })
                .collect();
            regimes.push(RegimeResult {
                regime: regime.name().to_string(),
                signal: cfg.signal.clone(),
                table: Table1 {
                    data_dir: format!("generated: {regime} regime, dim {}", plan.dim),
                    header: ReportHeader {
                        backend: backend.to_string(),
                        seeds: self.args.common.seeds,
                        iterations: plan.iterations,
                        batch_size: self.args.common.batch_size,
                    },
                    rows,
                },
            });
        }
        let grid = if plan.dominance.is_empty() || plan.specificity.is_empty() {
            None
        } else {
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
                    let runs = self.rows::<B>(
                        &data,
                        &[Aggregator::WeightedSum, Aggregator::Maa],
                        plan.grid_seeds,
                        &label,
                        &device,
                        backend,
                        &bar,
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
            Some(GridResult {
                dominance: plan.dominance.clone(),
                specificity: plan.specificity.clone(),
                seeds: plan.grid_seeds,
                maan,
                stpn,
                difference_points,
            })
        };
        bar.finish_and_clear();
        let _ = std::fs::remove_dir(&data_root);
        Ok(RegimesReport {
            header: ReportHeader {
                backend: backend.to_string(),
                seeds: self.args.common.seeds,
                iterations: plan.iterations,
                batch_size: self.args.common.batch_size,
            },
            dataset: plan.kind.to_string(),
            dim: plan.dim,
            regimes,
            grid,
            family,
            first_seed: plan.first_seed,
            seconds: start.elapsed().as_secs_f64(),
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
    family_markdown(r, &mut s);
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
        .map(|g| g.table.rows.iter().map(|row| row.method.clone()).collect())
        .unwrap_or_default();
    for (i, method) in methods.iter().enumerate() {
        let _ = write!(s, "| {method} |");
        for g in &r.regimes {
            match g.table.rows.get(i) {
                Some(row) => {
                    let _ = write!(
                        s,
                        " {:.1} ± {:.1} |",
                        row.avg_map_mean * 100.0,
                        row.avg_map_std * 100.0
                    );
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

/// The best average mAP (fraction, mean over seeds) of the rows of `table` whose aggregator
/// is `agg` (the paper preset or the localization options, whichever is higher).
fn best_of(table: &Table1, agg: Aggregator) -> Option<f64> {
    table
        .rows
        .iter()
        .filter(|r| r.aggregator == agg.name())
        .map(|r| r.avg_map_mean)
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

/// The family's part of the report: a summary (every row's average mAP in every cell) and
/// each cell's table.
fn family_markdown(r: &RegimesReport, s: &mut String) {
    let Some(first) = r.family.first() else {
        return;
    };
    let _ = writeln!(
        s,
        "ActivityNet-shaped family, seeds {}-{}. Average mAP over tIoU 0.5:0.95 (%), mean ± std over seeds:\n",
        r.first_seed,
        r.first_seed + r.header.seeds.max(1) - 1
    );
    let _ = write!(s, "| cell |");
    for row in &first.table.rows {
        let _ = write!(s, " {} |", row.method);
    }
    let _ = writeln!(s, " MAAN − STPN (best rows) |");
    let _ = writeln!(s, "|---|{}---|", "---|".repeat(first.table.rows.len()));
    for cell in &r.family {
        let name = if cell.axis == "base" {
            "base".to_string()
        } else {
            format!("{} = {}", cell.axis, cell.level)
        };
        let _ = write!(s, "| {name} |");
        for row in &cell.table.rows {
            let _ = write!(
                s,
                " {:.1} ± {:.1} |",
                row.avg_map_mean * 100.0,
                row.avg_map_std * 100.0
            );
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
    for cell in r.family.iter().filter(|c| !c.roles.is_empty()) {
        let _ = writeln!(
            s,
            "\nDiagnosis ({} cell, seed {}): per snippet role, the mean attention p_t, the mean \
             CAS of the video's class ÷ its maximum in the video, and the share of snippets at \
             or above 0.2 × that maximum:\n",
            cell.axis, r.first_seed
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
        let _ = writeln!(s, "- {}: {}", row.method, row.localization);
    }
    for cell in &r.family {
        let _ = writeln!(
            s,
            "\n### {} {}\n\n{}",
            cell.axis,
            cell.level,
            markdown(&cell.table)
        );
    }
}

/// Runs `maan experiment regimes`.
pub fn run(args: RegimesArgs) -> Result<()> {
    args.common.check()?;
    let plan = Plan::of(&args)?;
    args.common.backend.check()?;
    let out = args
        .common
        .run
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs/regimes"));
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    if !plan.family.is_empty() {
        eprintln!(
            "regimes: the ActivityNet-shaped family, {} cells x {} model(s) and MAAN's recipe x {} seed(s) from seed {}",
            plan.family.len(),
            plan.aggregators.len(),
            args.common.seeds,
            plan.first_seed
        );
    }
    eprintln!(
        "regimes: {} regime(s) x {} model(s) x {} seed(s), heat map {} x {} x 2 models x {} seed(s); {} iterations each, dim {}, backend {}",
        plan.regimes.len(),
        plan.aggregators.len(),
        args.common.seeds,
        plan.dominance.len(),
        plan.specificity.len(),
        plan.grid_seeds,
        plan.iterations,
        plan.dim,
        args.common.backend.backend
    );
    let opts = args.common.backend;
    let report = opts.run(RegimesJob {
        args,
        plan,
        out: out.clone(),
    })?;
    let md = report_markdown(&report);
    println!("{md}");
    let json_path = out.join("regimes.json");
    std::fs::write(&json_path, serde_json::to_string_pretty(&report)?)
        .with_context(|| format!("cannot write {}", json_path.display()))?;
    let md_path = out.join("regimes.md");
    std::fs::write(&md_path, &md).with_context(|| format!("cannot write {}", md_path.display()))?;
    if let Some(grid) = &report.grid {
        let (png, svg) = heatmap::render(
            &HeatMap {
                title: "MAAN minus STPN, average mAP points".into(),
                x_label: "dominance of the most discriminative part (× the rest)".into(),
                y_label: "specificity of the rest".into(),
                x_ticks: grid.dominance.iter().map(|d| d.to_string()).collect(),
                y_ticks: grid.specificity.iter().map(|s| s.to_string()).collect(),
                values: grid.difference_points.clone(),
                format: |v| format!("{v:+.1}"),
            },
            &out.join("heatmap"),
        )?;
        eprintln!("heat map: {} and {}", png.display(), svg.display());
    }
    if let Some(map) = family_heatmap(&report.family) {
        let (png, svg) = heatmap::render(&map, &out.join("family-heatmap"))?;
        eprintln!("family heat map: {} and {}", png.display(), svg.display());
    }
    eprintln!("wrote {} and {}", md_path.display(), json_path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataset::synth::I3dParams;

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
