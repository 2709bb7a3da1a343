//! `maan experiment wsol`: the paper's Appendix F (Table 4, Figure 6), weakly-supervised
//! object localization with GAP, weighted-sum and MAA pooling over a 4×4 or 7×7 grid
//! ([`maan_experiments::wsol`]).
//!
//! On the built-in synthetic dataset (`maan_wsol::synth`) by default: three poolings × two
//! grid sizes × `--seeds` seeds, scored by top-1 / top-5 localization error at IoU 0.5 and
//! top-1 classification error, mean ± standard deviation over seeds. `--quick` runs one seed
//! on fewer images and iterations. With `--data-dir`, CUB-200-2011 in its official format,
//! with the VGG16 backbone initialised from `--backbone-weights` (ImageNet-pretrained, a
//! safetensors file); without weights the small backbone is trained from scratch, which is
//! not a meaningful WSOL result on CUB and is said so.
//!
//! The sizes and schedule are presets (`Preset`, recorded in `wsol.json`); the flags are
//! [`WsolArgs`]'s.
//!
//! Writes `wsol.md`, `wsol.json` and `wsol.png` (Figure 6: heat maps of the predicted class
//! with the ground-truth box in red and the predicted box in green) into `--run`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burn::tensor::backend::AutodiffBackend;
use maan_experiments::wsol::{self, markdown, Preset, Size, WsolData, WsolRun, GRIDS};

use super::{flag_error, open_run, session, write_report, Bar};
use crate::backend::{BackendArg, BackendJob, BackendOpts};

/// Arguments of `maan experiment wsol`.
#[derive(Debug, clap::Args)]
pub struct WsolArgs {
    /// Number of seeds per model (0, 1, ... n-1).
    #[arg(long, default_value_t = 3)]
    pub seeds: u64,
    /// CUB-200-2011 in its official format (default: the synthetic WSOL data).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Backend and device.
    #[command(flatten)]
    pub backend: BackendOpts,
    /// Run directory of the experiment: its table, JSON and figure [default: runs/wsol].
    #[arg(long, aliases = ["out", "output"], value_name = "RUN_DIR")]
    pub run: Option<PathBuf>,
    /// One seed, fewer images and iterations (a few minutes on a CPU).
    #[arg(long)]
    pub quick: bool,
    /// ImageNet-pretrained VGG16 backbone weights (safetensors, torchvision names) for
    /// CUB-200-2011 (`--data-dir`).
    #[arg(long)]
    pub backbone_weights: Option<PathBuf>,
    /// Tiny sizes, for tests.
    #[arg(long, hide = true)]
    pub tiny: bool,
    /// Hide the progress bar.
    #[arg(long)]
    pub quiet: bool,
}

struct WsolJob<'a> {
    data: &'a WsolData,
    preset: &'a Preset,
    weights: Option<&'a Path>,
    quiet: bool,
}

impl BackendJob for WsolJob<'_> {
    type Output = WsolRun;

    fn run<B: AutodiffBackend>(self, device: B::Device, backend: BackendArg) -> Result<WsolRun> {
        // Without a terminal the bar is hidden and drops its lines: they are printed.
        let mut bar = Bar::new(self.quiet, 18, true);
        let session = session::<B>(device, backend);
        let run = wsol::run(self.data, self.preset, self.weights, &session, &mut bar)
            .map_err(flag_error)?;
        bar.finish();
        Ok(run)
    }
}

/// Runs `maan experiment wsol`.
pub fn run(args: WsolArgs) -> Result<()> {
    if args.seeds == 0 {
        anyhow::bail!("--seeds must be at least 1");
    }
    args.backend.check()?;
    let size = match (args.tiny, args.quick) {
        (true, _) => Size::Tiny,
        (false, true) => Size::Quick,
        (false, false) => Size::Full,
    };
    let cub = args.data_dir.is_some();
    let p = Preset::new(size, args.seeds, cub, args.backbone_weights.is_some());
    let run = open_run(args.run.as_deref(), "wsol")?;
    let data = match &args.data_dir {
        Some(dir) => {
            if args.backbone_weights.is_none() {
                eprintln!(
                    "warning: no --backbone-weights: training the small backbone from scratch \
                     on CUB, which does not give meaningful localization (the paper starts \
                     from ImageNet-pretrained weights)"
                );
            }
            let cub = maan_wsol::cub::Cub::open(dir)
                .with_context(|| format!("cannot read CUB-200-2011 from {}", dir.display()))?;
            eprintln!(
                "CUB-200-2011: {} images, {} classes; decoding at {}×{} ...",
                cub.images.len(),
                cub.num_classes,
                p.image_size,
                p.image_size
            );
            WsolData::cub(&cub, &p)?
        }
        None => {
            if args.backbone_weights.is_some() {
                anyhow::bail!(
                    "--backbone-weights needs --data-dir (CUB): the synthetic data trains the \
                     small backbone from scratch"
                );
            }
            WsolData::synthetic(&p)
        }
    };
    let backend = args.backend.backend;
    eprintln!(
        "WSOL (Appendix F): 3 poolings x {} grids x {} seeds x {} iterations on {} \
         ({} train / {} test images, {}×{}), backend {backend}",
        GRIDS.len(),
        p.seeds,
        p.iterations,
        data.name,
        data.train.len(),
        data.test.len(),
        p.image_size,
        p.image_size
    );
    let WsolRun { table, examples } = args.backend.run(WsolJob {
        data: &data,
        preset: &p,
        weights: args.backbone_weights.as_deref(),
        quiet: args.quiet,
    })?;
    let md = markdown(&table);
    println!("{md}");
    eprintln!("training and evaluation took {:.0} s", table.seconds);
    let (md_path, json_path) = write_report(&run, "wsol", &table, &md)?;
    let png = run.artifact("wsol.png");
    maan_plot::wsol::figure6(&data.test, &examples, data.mean, data.std, &png)?;
    eprintln!(
        "wrote {}, {} and {}",
        md_path.display(),
        json_path.display(),
        png.display()
    );
    Ok(())
}
