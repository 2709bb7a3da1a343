//! `maan experiment table1`: the paper's Table 1 ([`maan_experiments::table1`]) on the
//! synthetic THUMOS14-shaped benchmark (or, with `--dataset activitynet`, on the
//! ActivityNet-shaped one), or on any dataset.
//!
//! Trains MAAN and the four baseline aggregators (or those named by `--aggregators`) with
//! identical settings and reports mean ± standard deviation over seeds in the layout of the
//! paper's Table 1, as Markdown and JSON (`table1.md`, `table1.json` in `--run`). When
//! localization options are given (`--localize oic`, `--suppression`, `--cas-smoothing`,
//! `--proposal-score`), each trained model is also evaluated with them, as a second row.

use anyhow::Result;
use burn::tensor::backend::AutodiffBackend;
use dataset::WtalDataset;
use maa_core::Aggregator;
use maan_experiments::report::aggregators;
use maan_experiments::table1::{self, markdown, Table1, Table1Plan, TABLE1_ITERATIONS};

use super::{flag_error, session, write_report, Bar, TrainingArgs};
use crate::backend::{BackendArg, BackendJob};
use crate::opts::{DataOpts, LocalizeOpts};

/// Arguments of `maan experiment table1`.
#[derive(Debug, clap::Args)]
pub struct Table1Args {
    /// Seeds, iterations, batch, backend, run directory.
    #[command(flatten)]
    pub common: TrainingArgs,
    /// Dataset (default: the built-in synthetic THUMOS14-shaped dataset).
    #[command(flatten)]
    pub data: DataOpts,
    /// The aggregators to train, comma-separated, in table order [default: the paper's five:
    /// stpn,dropout,norm,softmax-norm,maa].
    #[arg(long, value_delimiter = ',')]
    pub aggregators: Vec<Aggregator>,
    /// Localization options: each model is also evaluated with them (a second row).
    #[command(flatten)]
    pub localize: LocalizeOpts,
}

struct Table1Job {
    args: Table1Args,
    data: WtalDataset,
}

impl BackendJob for Table1Job {
    type Output = Table1;

    fn run<B: AutodiffBackend>(self, device: B::Device, backend: BackendArg) -> Result<Table1> {
        let Table1Job { args, data } = self;
        let plan = Table1Plan {
            aggregators: aggregators(&args.aggregators),
            schedule: args.common.schedule(TABLE1_ITERATIONS),
            variant: args.localize.for_benchmark(data.kind)?,
        };
        let mut bar = Bar::new(args.common.quiet, 12, false);
        let table = table1::run(&data, &plan, &session::<B>(device, backend), &mut bar)
            .map_err(flag_error)?;
        bar.finish();
        Ok(table)
    }
}

/// Runs `maan experiment table1`.
pub fn run(args: Table1Args) -> Result<()> {
    args.common.check()?;
    args.common.backend.check()?;
    let data = args.data.load()?;
    let run = args.common.run_dir("table1")?;
    let opts = args.common.backend;
    eprintln!(
        "Table 1: {} models x {} seeds x {} iterations (both streams) on {}, backend {}",
        aggregators(&args.aggregators).len(),
        args.common.seeds,
        args.common.iterations.unwrap_or(TABLE1_ITERATIONS),
        data.dir.display(),
        opts.backend
    );
    let table = opts.run(Table1Job { args, data })?;
    let md = markdown(&table);
    println!("{md}");
    let (md_path, json_path) = write_report(&run, "table1", &table, &md)?;
    eprintln!("wrote {} and {}", md_path.display(), json_path.display());
    Ok(())
}
