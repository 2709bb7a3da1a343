//! `maan experiment regimes`: where MAA helps on the synthetic benchmark
//! ([`maan_experiments::regimes`]).
//!
//! 1. For every regime of the generator (`--regimes`), generate the THUMOS14-shaped data at
//!    `--dim` and train Table 1's five models (`--seeds` seeds each, both streams), reporting
//!    mean ± std as Table 1 does.
//! 2. Over a grid of `--dominance` × `--specificity`, train MAAN and STPN (`--grid-seeds`
//!    seeds) and draw MAAN's minus STPN's average mAP as a heat map (PNG + SVG, values in the
//!    cells).
//! 3. With `--dataset activitynet`, instead: the ActivityNet-shaped family of datasets, each
//!    cell's models also evaluated with the localization options when given, and its heat map.
//!
//! Outputs in `--run` (default `runs/regimes`): `regimes.md`, `regimes.json`,
//! `heatmap.png`, `heatmap.svg` (`family-heatmap.*` for the family). The generated data is
//! written to `--run/data/<name>` and removed once its models are trained.

use std::path::PathBuf;

use anyhow::Result;
use burn::tensor::backend::AutodiffBackend;
use dataset::synth::Regime;
use dataset::Benchmark;
use maa_core::Aggregator;
use maan_experiments::family::family_heatmap;
use maan_experiments::regimes::{
    self, report_markdown, RegimesOptions, RegimesPlan, RegimesReport, DEFAULT_ITERATIONS,
};

use super::{flag_error, plan_error, session, write_report, Bar, TrainingArgs};
use crate::backend::{BackendArg, BackendJob};
use crate::opts::LocalizeOpts;

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

struct RegimesJob {
    plan: RegimesPlan,
    localize: LocalizeOpts,
    quiet: bool,
    data_root: PathBuf,
}

impl BackendJob for RegimesJob {
    type Output = RegimesReport;

    fn run<B: AutodiffBackend>(
        self,
        device: B::Device,
        backend: BackendArg,
    ) -> Result<RegimesReport> {
        let plan = &self.plan;
        // The localization options apply to the family's tables only.
        let variant = if plan.family.is_empty() {
            None
        } else {
            self.localize.for_benchmark(plan.kind)?
        };
        let mut bar = Bar::new(self.quiet, 12, false);
        let session = session::<B>(device, backend);
        let report = regimes::run(plan, variant.as_ref(), &self.data_root, &session, &mut bar)
            .map_err(flag_error)?;
        bar.finish();
        Ok(report)
    }
}

/// Runs `maan experiment regimes`.
pub fn run(args: RegimesArgs) -> Result<()> {
    args.common.check()?;
    let k = &args.knobs;
    let options = RegimesOptions {
        dataset: args.dataset,
        aggregators: args.aggregators.clone(),
        regimes: k.regimes.clone(),
        dim: k.dim,
        dominance: k.dominance.clone(),
        specificity: k.specificity.clone(),
        grid_seeds: k.grid_seeds,
        first_seed: k.first_seed,
    };
    let plan =
        RegimesPlan::new(options, args.common.schedule(DEFAULT_ITERATIONS)).map_err(plan_error)?;
    args.common.backend.check()?;
    let run = args.common.run_dir("regimes")?;
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
        plan.schedule.iterations,
        plan.dim,
        args.common.backend.backend
    );
    let report = args.common.backend.run(RegimesJob {
        plan,
        localize: args.localize,
        quiet: args.common.quiet,
        data_root: run.artifact("data"),
    })?;
    let md = report_markdown(&report);
    println!("{md}");
    let (md_path, json_path) = write_report(&run, "regimes", &report, &md)?;
    if let Some(grid) = &report.grid {
        let (png, svg) = maan_plot::render_heatmap(&grid.heatmap(), &run.artifact("heatmap"))?;
        eprintln!("heat map: {} and {}", png.display(), svg.display());
    }
    if let Some(map) = family_heatmap(&report.family) {
        let (png, svg) = maan_plot::render_heatmap(&map, &run.artifact("family-heatmap"))?;
        eprintln!("family heat map: {} and {}", png.display(), svg.display());
    }
    eprintln!("wrote {} and {}", md_path.display(), json_path.display());
    Ok(())
}
