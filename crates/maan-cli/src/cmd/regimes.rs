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
//! Outputs in `--out` (default `runs/regimes`): `regimes.md`, `regimes.json`,
//! `heatmap.png`, `heatmap.svg`. The generated data is written to `--out/data/<name>` and
//! removed once its models are trained.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use burn::tensor::backend::AutodiffBackend;
use dataset::synth::{generate, Regime, Signal, SynthConfig};
use dataset::{DatasetKind, LoadOptions, WtalDataset};
use indicatif::ProgressBar;
use maa_core::Aggregator;
use maan_model::EvalMetrics;
use serde::Serialize;

use super::experiment::{
    aggregators, markdown, mean_std, progress_bar, tiou_label, train_and_evaluate, ExperimentArgs,
    Row, Table1,
};
use crate::backend::{BackendArg, BackendJob};
use crate::heatmap::{self, HeatMap};

/// Default feature dimension of the generated data.
pub const DEFAULT_DIM: usize = 64;
/// Default training iterations per model.
pub const DEFAULT_ITERATIONS: usize = 4000;
/// Default dominance values of the heat map (most discriminative part ÷ rest).
pub const DEFAULT_DOMINANCE: [f32; 4] = [1.0, 2.0, 4.0, 8.0];
/// Default specificity values of the heat map (how class-specific the rest is).
pub const DEFAULT_SPECIFICITY: [f32; 4] = [0.0, 0.33, 0.67, 1.0];

/// Options of `maan experiment regimes` (ignored by `table1`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RegimesArgs {
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

/// Everything `regimes` measured.
#[derive(Debug, Clone, Serialize)]
pub struct RegimesReport {
    /// Backend used.
    pub backend: String,
    /// Benchmark the data imitates.
    pub dataset: String,
    /// Feature dimension of the generated data.
    pub dim: usize,
    /// Iterations per model.
    pub iterations: usize,
    /// Batch size.
    pub batch_size: usize,
    /// Seeds per model in the regime tables.
    pub seeds: u64,
    /// One result per regime.
    pub regimes: Vec<RegimeResult>,
    /// The heat map (absent when the grid is empty).
    pub grid: Option<GridResult>,
    /// Wall time of the whole experiment, seconds.
    pub seconds: f64,
}

struct Plan {
    kind: DatasetKind,
    dim: usize,
    iterations: usize,
    regimes: Vec<Regime>,
    aggregators: Vec<Aggregator>,
    dominance: Vec<f32>,
    specificity: Vec<f32>,
    grid_seeds: u64,
}

impl Plan {
    fn of(args: &ExperimentArgs) -> Result<Plan> {
        let r = &args.regimes;
        if args.data.data_dir.is_some() {
            bail!("experiment regimes generates its own data: --data-dir does not apply");
        }
        let plan = Plan {
            kind: args.data.dataset.unwrap_or(DatasetKind::Thumos14),
            dim: r.dim.unwrap_or(DEFAULT_DIM),
            iterations: args.iterations.unwrap_or(DEFAULT_ITERATIONS),
            regimes: if r.regimes.is_empty() {
                Regime::ALL.to_vec()
            } else {
                r.regimes.clone()
            },
            aggregators: aggregators(args),
            dominance: if r.dominance.is_empty() {
                DEFAULT_DOMINANCE.to_vec()
            } else {
                r.dominance.clone()
            },
            specificity: if r.specificity.is_empty() {
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
        let table = self.regimes.len() as u64 * self.aggregators.len() as u64 * seeds;
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

struct RegimesJob {
    args: ExperimentArgs,
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
        let mut out = Vec::new();
        for &agg in aggregators {
            let mut runs = Vec::new();
            for seed in 0..seeds {
                bar.set_prefix(agg.paper_name());
                bar.set_message(format!("{label}, seed {seed}"));
                let (_, m) = train_and_evaluate::<B>(
                    data,
                    agg,
                    seed,
                    self.plan.iterations,
                    self.args.batch_size,
                    device,
                    backend,
                    bar,
                )?;
                bar.println(format!(
                    "{label:>28} {:>12} seed {seed}: avg mAP {:.1}%, mAP@0.5 {:.1}%, cls mAP {:.1}%",
                    agg.paper_name(),
                    m.average_map * 100.0,
                    m.map_at(0.5).unwrap_or(f64::NAN) * 100.0,
                    m.classification_map * 100.0
                ));
                runs.push(m);
            }
            out.push((agg, runs));
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
        let bar = progress_bar(plan.total_iterations(self.args.seeds), self.args.quiet);
        let data_root = self.out.join("data");
        let mut regimes = Vec::new();
        for &regime in &plan.regimes {
            let cfg = plan.config(regime);
            let data = generate_and_load(&data_root.join(regime.name()), &cfg)?;
            let preset = maan_model::infer::localize_preset(&data);
            let rows = self
                .rows::<B>(
                    &data,
                    &plan.aggregators,
                    self.args.seeds,
                    regime.name(),
                    &device,
                    backend,
                    &bar,
                )?
                .into_iter()
                .map(|(agg, runs)| {
                    Row::new(agg, None, super::train::describe_localize(&preset), &runs)
                })
                .collect();
            regimes.push(RegimeResult {
                regime: regime.name().to_string(),
                signal: cfg.signal.clone(),
                table: Table1 {
                    data_dir: format!("generated: {regime} regime, dim {}", plan.dim),
                    backend: backend.to_string(),
                    seeds: self.args.seeds,
                    iterations: plan.iterations,
                    batch_size: self.args.batch_size,
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
            backend: backend.to_string(),
            dataset: plan.kind.to_string(),
            dim: plan.dim,
            iterations: plan.iterations,
            batch_size: self.args.batch_size,
            seeds: self.args.seeds,
            regimes,
            grid,
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
        r.dataset, r.dim, r.iterations, r.batch_size, r.seeds, r.backend, r.seconds
    );
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

/// Runs `maan experiment regimes`.
pub fn run(args: ExperimentArgs) -> Result<()> {
    let plan = Plan::of(&args)?;
    args.backend.check()?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs/regimes"));
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    eprintln!(
        "regimes: {} regime(s) x {} model(s) x {} seed(s), heat map {} x {} x 2 models x {} seed(s); {} iterations each, dim {}, backend {}",
        plan.regimes.len(),
        plan.aggregators.len(),
        args.seeds,
        plan.dominance.len(),
        plan.specificity.len(),
        plan.grid_seeds,
        plan.iterations,
        plan.dim,
        args.backend.backend
    );
    let opts = args.backend;
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
    eprintln!("wrote {} and {}", md_path.display(), json_path.display());
    Ok(())
}
