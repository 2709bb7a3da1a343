//! Option groups shared by several commands, and the remedies the CLI suggests for library
//! errors (libraries describe values; flags are the CLI's business).

use std::path::PathBuf;

use dataset::{Benchmark, DatasetError, Layout, LoadOptions, ProblemKind, SnippetTiming};

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
    /// (an existing run's), else are detected / the I3D default (16 frames at 25 fps).
    pub fn options(
        &self,
        kind: Option<Benchmark>,
        base: Option<(Layout, SnippetTiming)>,
    ) -> LoadOptions {
        let default_timing = base.map(|b| b.1).unwrap_or_default();
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
