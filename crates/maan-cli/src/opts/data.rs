//! The data option group: `--data-dir`, `--dataset` and how to read a dataset ([`LoadArgs`]),
//! loading a dataset or a run's dataset, the built-in synthetic data, and the `hint:` for
//! dataset problems a flag fixes.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
pub use dataset::synth::builtin_dir as builtin_data_dir;
use dataset::synth::{builtin_status, make_builtin, BuiltinStatus, SynthConfig};
use dataset::{
    Benchmark, DatasetError, Layout, LoadOptions, ProblemKind, SnippetTiming, WtalDataset,
};
use maan_model::TrainConfig;

/// `--data-dir` and `--dataset`, shared by `train`, `test` and `experiment`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DataOpts {
    /// Dataset directory (layout A, B or ActivityNet). Without it, the built-in synthetic
    /// dataset is used, generated on first use: data/synthetic/<dataset> inside the maan-rs
    /// repository, else $MAAN_DATA_DIR/synthetic/<dataset>, else
    /// ~/.local/share/maan/synthetic/<dataset>.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Benchmark the data follows: thumos14 (20 classes; tIoU 0.1:0.1:0.9) or activitynet
    /// (ActivityNet1.3: 200 classes; tIoU 0.5:0.05:0.95). It picks the class list, the
    /// localization preset and the built-in synthetic dataset [default: thumos14; for an
    /// existing run (`test`, `train --resume`), the run's].
    #[arg(long, value_name = "thumos14|activitynet")]
    pub dataset: Option<Benchmark>,
    /// How to read it (the options of `maan inspect`).
    #[command(flatten)]
    pub load: LoadArgs,
}

impl DataOpts {
    /// Loads the dataset (see [`load_data`]).
    pub fn load(&self) -> Result<WtalDataset> {
        load_data(
            self.data_dir.as_deref(),
            self.dataset.unwrap_or_default(),
            &self.load,
        )
    }

    /// The data of an existing run: `--data-dir` when given, else the folder the run was
    /// trained on (recorded in its config.json), else as [`DataOpts::load`] (runs from an
    /// older maan); checked to fit the run's models (feature dimensions, classes).
    pub fn load_for_run(&self, config: &TrainConfig) -> Result<WtalDataset> {
        if let (Some(given), Some(run)) = (self.dataset, &config.data) {
            if given != run.kind {
                bail!(
                    "--dataset {given}: the run was trained on {} data (in {})",
                    run.kind,
                    run.dir.display()
                );
            }
        }
        let data = match (&self.data_dir, &config.data) {
            (Some(dir), Some(run)) => {
                // The run's data elsewhere (moved or copied): the run's benchmark and snippet
                // timing unless flags say otherwise; the layout is detected again (or
                // --layout), as the copy may be laid out differently.
                let mut opts = self
                    .load
                    .options(Some(run.kind), Some((run.layout, run.timing)));
                opts.layout = self.load.layout;
                load_dir(dir, &opts)?
            }
            (None, Some(run)) => {
                let opts = self
                    .load
                    .options(Some(run.kind), Some((run.layout, run.timing)));
                WtalDataset::load(&run.dir, &opts).with_context(|| {
                    format!(
                        "loading the run's dataset in {} (moved? pass --data-dir)",
                        run.dir.display()
                    )
                })?
            }
            _ => self.load()?,
        };
        if let Some(run) = &config.data {
            run.check_fits(&data, config.streams)?;
        }
        Ok(data)
    }
}

/// Loads `--data-dir`, or the built-in synthetic dataset (generated on first use).
pub fn load_data(data_dir: Option<&Path>, kind: Benchmark, load: &LoadArgs) -> Result<WtalDataset> {
    let dir = match data_dir {
        Some(d) => d.to_path_buf(),
        None => {
            let dir = builtin_data_dir(kind);
            ensure_synthetic(&dir, kind, "no --data-dir: ")?;
            dir
        }
    };
    load_dir(&dir, &load.options(Some(kind), None))
}

/// Loads the dataset in `dir`; an empty training split is an error.
fn load_dir(dir: &Path, opts: &dataset::LoadOptions) -> Result<WtalDataset> {
    let data = WtalDataset::load(dir, opts)
        .with_context(|| format!("loading the dataset in {}", dir.display()))?;
    if data.train.is_empty() {
        bail!("{}: the training split has no videos", dir.display());
    }
    Ok(data)
}

/// Generates the built-in synthetic dataset shaped like `kind` in `dir` unless it is there
/// (`dataset::synth::builtin_status`), saying so; `why` starts the message. A folder made by
/// `maan synth` with other settings than the built-in default is made again; a folder with a
/// `gt.json` and no `synth.json` is the user's and is left alone.
pub fn ensure_synthetic(dir: &Path, kind: Benchmark, why: &str) -> Result<()> {
    let cfg = SynthConfig {
        like: kind,
        ..SynthConfig::default()
    };
    let status = builtin_status(dir, &cfg);
    match status {
        BuiltinStatus::Ready => return Ok(()),
        BuiltinStatus::Stale => eprintln!(
            "{why}the synthetic dataset in {} was made with other settings than the built-in \
             {} regime; making it again...",
            dir.display(),
            cfg.regime
        ),
        BuiltinStatus::Missing => eprintln!(
            "{why}generating the synthetic {}-shaped dataset ({} regime) in {} (first use)...",
            cfg.like,
            cfg.regime,
            dir.display()
        ),
    }
    make_builtin(dir, &cfg, status)
        .with_context(|| format!("generating the synthetic dataset in {}", dir.display()))
}

/// How to read a feature dataset: every option `maan inspect` takes besides the folder, so
/// that any dataset `inspect` accepts can be trained and tested on.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LoadArgs {
    /// Layout: A (features/{train,test}/{rgb,flow}/<video>.npy), B ({train,test}/<video>.npy,
    /// rgb then flow) or activitynet (activity_net.v1-3.min.json). [default: detected; for an
    /// existing run, the run's]
    #[arg(long)]
    pub layout: Option<Layout>,
    /// Annotation file. [default: DIR/gt.json, or DIR/activity_net.v1-3.min.json]
    #[arg(long)]
    pub annotations: Option<PathBuf>,
    /// Class list, one name per line. [default: DIR/classes.txt if present, else built in]
    #[arg(long)]
    pub classes: Option<PathBuf>,
    /// Crop rgb and flow to the shorter stream when their lengths differ (a warning) instead of
    /// failing.
    #[arg(long)]
    pub crop_to_shorter: bool,
    /// Frames per feature snippet. [default: 16; for an existing run, the run's]
    #[arg(long)]
    pub frames_per_snippet: Option<f64>,
    /// Frame rate the features were extracted at. [default: 25; for an existing run, the
    /// run's]
    #[arg(long)]
    pub fps: Option<f64>,
    /// Threads reading feature files (0: one per CPU).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

impl LoadArgs {
    /// The loader options for benchmark `kind`; absent layout and timing come from `base`
    /// (an existing run's), else are detected / the benchmark's snippet timing
    /// ([`Benchmark::snippet_timing`]: 16 frames at 25 fps).
    pub fn options(
        &self,
        kind: Option<Benchmark>,
        base: Option<(Layout, SnippetTiming)>,
    ) -> LoadOptions {
        let default_timing = base
            .map(|b| b.1)
            .unwrap_or_else(|| kind.unwrap_or_default().snippet_timing());
        LoadOptions {
            layout: self.layout.or(base.map(|b| b.0)),
            kind,
            timing: SnippetTiming {
                frames_per_snippet: self
                    .frames_per_snippet
                    .unwrap_or(default_timing.frames_per_snippet),
                fps: self.fps.unwrap_or(default_timing.fps),
            },
            crop_to_shorter: self.crop_to_shorter,
            annotations: self.annotations.clone(),
            classes: self.classes.clone(),
            num_threads: self.threads,
        }
    }
}

/// The flag that remedies a dataset problem of kind `kind`, for commands that take
/// [`LoadArgs`].
pub fn load_hint(kind: ProblemKind) -> Option<&'static str> {
    match kind {
        ProblemKind::UnknownLayout => Some("give the layout with --layout A|B|activitynet"),
        ProblemKind::StreamLengths => {
            Some("--crop-to-shorter crops rgb and flow to the shorter of the two (a warning)")
        }
        _ => None,
    }
}

/// The remedy to print under an error of a command that takes [`LoadArgs`], if its cause
/// chain holds a dataset error that one of those options fixes.
/// A dataset with several problems gets the command that lists them all.
pub fn hint(err: &anyhow::Error) -> Option<&'static str> {
    let e = err.chain().find_map(|e| e.downcast_ref::<DatasetError>())?;
    load_hint(e.problem_kind()).or_else(|| {
        matches!(e, DatasetError::Many { .. })
            .then_some("`maan inspect --data-dir DIR` lists every problem of the dataset")
    })
}
