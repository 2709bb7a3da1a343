//! `maan experiment ablation`: paper-faithful MAAN against the additions of later WTAL code,
//! each alone and both together, on the regimes of the synthetic benchmark
//! ([`maan_experiments::ablation`]).
//!
//! For every regime (`--regimes`, default all five) the THUMOS14-shaped data is generated at
//! `--dim` (64 by default) and, per seed, MAAN is trained without and with BaS-Net's
//! background class (`--background bas` of `maan train`), each model tested with the paper's
//! localization and with the later code's (the `oic` preset; `--localize`, `--suppression`,
//! `--cas-smoothing`, `--proposal-score` change it): four rows per regime. Outputs in `--run`
//! (default `runs/ablation`): `ablation.md`, `ablation.json`.

use std::path::PathBuf;

use anyhow::Result;
use burn::tensor::backend::AutodiffBackend;
use dataset::synth::Regime;
use maan_experiments::ablation::{self, report_markdown, AblationPlan, AblationReport};
use maan_experiments::regimes::{DEFAULT_DIM, DEFAULT_ITERATIONS};

use super::{flag_error, plan_error, session, write_report, Bar, TrainingArgs};
use crate::backend::{BackendArg, BackendJob};
use crate::opts::LocalizeOpts;

/// Arguments of `maan experiment ablation`.
#[derive(Debug, clap::Args)]
pub struct AblationArgs {
    /// Seeds, iterations, batch, backend, run directory.
    #[command(flatten)]
    pub common: TrainingArgs,
    /// The regimes to run, comma-separated [default: realistic, peaked, uniform, clutter,
    /// legacy].
    #[arg(long, value_delimiter = ',')]
    pub regimes: Vec<Regime>,
    /// Feature dimension of the generated data [default: 64].
    #[arg(long)]
    pub dim: Option<usize>,
    /// Localization options: they change the `oic` preset of the later-code rows.
    #[command(flatten)]
    pub localize: LocalizeOpts,
}

struct AblationJob {
    plan: AblationPlan,
    localize: LocalizeOpts,
    quiet: bool,
    data_root: PathBuf,
}

impl BackendJob for AblationJob {
    type Output = AblationReport;

    fn run<B: AutodiffBackend>(
        self,
        device: B::Device,
        backend: BackendArg,
    ) -> Result<AblationReport> {
        let mut plan = self.plan;
        let mut bar = Bar::new(self.quiet, 12, false);
        if self.localize.is_set() {
            // The options given replace the `oic` preset's where set.
            plan.oic = self.localize.apply(&plan.oic, ablation::BENCHMARK)?;
        }
        let session = session::<B>(device, backend);
        let report =
            ablation::run(&plan, &self.data_root, &session, &mut bar).map_err(flag_error)?;
        bar.finish();
        Ok(report)
    }
}

/// Runs `maan experiment ablation`.
pub fn run(args: AblationArgs) -> Result<()> {
    args.common.check()?;
    let schedule = args.common.schedule(DEFAULT_ITERATIONS);
    let plan = AblationPlan::new(&args.regimes, args.dim.unwrap_or(DEFAULT_DIM), schedule)
        .map_err(plan_error)?;
    args.common.backend.check()?;
    let run = args.common.run_dir("ablation")?;
    eprintln!(
        "ablation: {} regime(s) x 2 trainings (background none, bas) x {} seed(s), each tested with the paper's and the OIC localization; {} iterations, dim {}, backend {}",
        plan.regimes.len(),
        args.common.seeds,
        schedule.iterations,
        plan.dim,
        args.common.backend.backend
    );
    let report = args.common.backend.run(AblationJob {
        plan,
        localize: args.localize,
        quiet: args.common.quiet,
        data_root: run.artifact("data"),
    })?;
    let md = report_markdown(&report);
    println!("{md}");
    let (md_path, json_path) = write_report(&run, "ablation", &report, &md)?;
    eprintln!("wrote {} and {}", md_path.display(), json_path.display());
    Ok(())
}
