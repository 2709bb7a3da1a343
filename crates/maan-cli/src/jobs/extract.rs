//! `maan extract`: two-stream I3D features of video files, written as the feature folders
//! that `maan predict --features` reads; `maan predict --video` runs it first.
//!
//! For every video (a file, or the video files of a folder, sorted by name) it decodes the
//! frames (`video`: H.264 MP4 in process, other formats through `ffmpeg` when it is on
//! `PATH`), resamples them to 25 fps, resizes the shorter side to 256, crops the centre
//! 224×224, and runs pytorch-i3d's RGB network on the frames and its flow network on their
//! TV-L1 flow, one 1024-d feature per 16 frames (`i3d::extract`). The output is
//!
//! ```text
//! OUT/rgb/<video>.npy  [T, 1024] f32     --layout a (default)
//! OUT/flow/<video>.npy [T, 1024] f32
//! OUT/<video>.npy      [T, 2048] f32     --layout b (rgb then flow columns)
//! ```
//!
//! Each file is written to a temporary name and renamed, and a video whose outputs all exist
//! is skipped, so an interrupted run resumes where it stopped. `--shard K/N` processes the
//! videos whose index in the sorted list is `K` modulo `N`, so that `N` jobs (a Slurm array)
//! split the work without overlap. A video that fails (unreadable, damaged, too short, its
//! decoding past `--decode-timeout`, a panic caught while extracting it) is reported and the
//! others go on; the command then lists the failed videos with their errors and exits
//! non-zero.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use burn::tensor::backend::{AutodiffBackend, Backend};
use dataset::{feature_files, write_video_features, FeatureLayout};
use i3d::{extract_video_caught, init_stream, ExtractConfig, FlowEngine, Stream};
use indicatif::{ProgressBar, ProgressStyle};

use crate::backend::{BackendArg, BackendJob, BackendOpts};

/// The default of `--decode-timeout`, in seconds: an hour, over two hours of 30 fps 1080p
/// video at the decoding speed measured in docs/extract.md, after which a stuck decoder is
/// given up on.
pub const DEFAULT_DECODE_TIMEOUT: u64 = 3600;

/// Output layout of `maan extract`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LayoutArg {
    /// rgb/<video>.npy and flow/<video>.npy, [T, 1024] each.
    A,
    /// <video>.npy, [T, 2048]: rgb then flow columns.
    B,
}

/// Arguments of `maan extract`.
#[derive(Debug, clap::Args)]
pub struct ExtractArgs {
    /// A video file, or a folder whose video files (by extension: mp4, mkv, avi, ...) are all
    /// extracted.
    #[arg(long)]
    pub videos: PathBuf,
    /// pytorch-i3d RGB checkpoint (models/rgb_imagenet.pt, or a .safetensors file).
    #[arg(long)]
    pub weights_rgb: Option<PathBuf>,
    /// pytorch-i3d flow checkpoint (models/flow_imagenet.pt, or a .safetensors file).
    #[arg(long)]
    pub weights_flow: Option<PathBuf>,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Output layout: a = rgb/ and flow/ folders, b = one [T, 2048] file per video.
    #[arg(long, value_enum, default_value = "a")]
    pub layout: LayoutArg,
    /// Process only the K-th of N interleaved slices of the sorted video list (0 <= K < N),
    /// e.g. --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT.
    #[arg(long, value_parser = parse_shard)]
    pub shard: Option<(usize, usize)>,
    /// Compute the flow on the 224x224 crops rather than the resized frames (faster; differs
    /// from the public features near the crop's border).
    #[arg(long)]
    pub flow_on_crop: bool,
    /// The longest one video's decoding may take, in seconds: the time spent waiting for its
    /// frames (not computing features); past it the video fails and the next one starts.
    /// 0: no limit.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_DECODE_TIMEOUT)]
    pub decode_timeout: u64,
    /// Test option: divide every network width by this (the checkpoints are width 1); without
    /// weights, the networks are randomly initialised.
    #[arg(long, hide = true)]
    pub width_div: Option<usize>,
    /// Test option: crop side (the shorter side is resized to crop * 256 / 224).
    #[arg(long, hide = true)]
    pub crop: Option<usize>,
    /// Test option: a cheap TV-L1 (one level, one warping), not for real features.
    #[arg(long, hide = true)]
    pub light_flow: bool,
    /// Backend and device.
    #[command(flatten)]
    pub backend: BackendOpts,
}

/// `K/N` with `N > 0` and `K < N`.
fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let (k, n) = s
        .split_once('/')
        .ok_or_else(|| format!("expected K/N (e.g. 0/4), got {s:?}"))?;
    let k: usize = k
        .trim()
        .parse()
        .map_err(|_| format!("bad shard index {k:?}"))?;
    let n: usize = n
        .trim()
        .parse()
        .map_err(|_| format!("bad shard count {n:?}"))?;
    if n == 0 || k >= n {
        return Err(format!("shard {k}/{n}: need 0 <= K < N"));
    }
    Ok((k, n))
}

/// The library's layout of a feature folder.
fn feature_layout(layout: LayoutArg) -> FeatureLayout {
    match layout {
        LayoutArg::A => FeatureLayout::A,
        LayoutArg::B => FeatureLayout::B,
    }
}

struct ExtractJob {
    args: ExtractArgs,
    videos: Vec<(String, PathBuf)>,
}

/// Runs `maan extract`.
pub fn run(args: ExtractArgs) -> Result<()> {
    if args.width_div.is_none() && (args.weights_rgb.is_none() || args.weights_flow.is_none()) {
        bail!(
            "--weights-rgb and --weights-flow are required (pytorch-i3d's models/rgb_imagenet.pt \
             and models/flow_imagenet.pt)"
        );
    }
    for w in [&args.weights_rgb, &args.weights_flow]
        .into_iter()
        .flatten()
    {
        if !w.is_file() {
            bail!("{}: missing checkpoint", w.display());
        }
    }
    if let Some(c) = args.crop {
        if c < 32 {
            bail!("--crop must be at least 32");
        }
    }
    let all = video::list_videos(&args.videos)?;
    let total = all.len();
    let mine: Vec<(String, PathBuf)> = match args.shard {
        Some((k, n)) => all
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % n == k)
            .map(|(_, v)| v)
            .collect(),
        None => all,
    };
    let count = mine.len();
    let videos: Vec<_> = mine
        .into_iter()
        .filter(|(id, _)| {
            !feature_files(&args.out, feature_layout(args.layout), id)
                .iter()
                .all(|p| p.is_file())
        })
        .collect();
    let skipped = count - videos.len();
    if let Some((k, n)) = args.shard {
        eprintln!("shard {k}/{n}: {count} of {total} videos");
    }
    if skipped > 0 {
        eprintln!(
            "{skipped} videos already extracted in {}",
            args.out.display()
        );
    }
    if videos.is_empty() {
        return Ok(());
    }
    args.backend.check()?;
    args.backend.run(ExtractJob { args, videos })
}

/// Where `maan extract` computes the TV-L1 flow on backend `B`: on the device for the GPU
/// backends (`i3d::gpu::GpuFlow`: the flows go from the TV-L1 kernels to the flow network
/// without leaving the device), on the CPU for the others (`i3d::CpuFlow`).
pub(crate) fn flow_engine<B: Backend>() -> Box<dyn FlowEngine<B>> {
    #[cfg(feature = "wgpu")]
    if let Some(engine) = gpu_flow_engine::<B, burn::backend::Wgpu>() {
        return engine;
    }
    #[cfg(feature = "cuda")]
    if let Some(engine) = gpu_flow_engine::<B, burn::backend::Cuda>() {
        return engine;
    }
    Box::new(i3d::CpuFlow)
}

/// `GpuFlow` as the flow engine of `B` when `B` is the GPU backend `G`, else `None` (a type
/// comparison through `Any`: `BackendJob::run` is generic over every backend).
#[cfg(any(feature = "wgpu", feature = "cuda"))]
fn gpu_flow_engine<B: Backend, G: Backend>() -> Option<Box<dyn FlowEngine<B>>>
where
    i3d::gpu::GpuFlow: FlowEngine<G>,
{
    let engine: Box<dyn FlowEngine<G>> = Box::new(i3d::gpu::GpuFlow::default());
    let any: Box<dyn std::any::Any> = Box::new(engine);
    any.downcast::<Box<dyn FlowEngine<B>>>().ok().map(|e| *e)
}

impl BackendJob for ExtractJob {
    type Output = ();

    fn run<B: AutodiffBackend>(self, device: B::Device, _backend: BackendArg) -> Result<()> {
        type Inner<B> = <B as AutodiffBackend>::InnerBackend;
        let ExtractJob { args, videos } = self;
        let width_div = args.width_div.unwrap_or(1);
        if args.width_div.is_some() {
            Inner::<B>::seed(&device, 0);
        }
        let rgb =
            init_stream::<Inner<B>>(Stream::Rgb, width_div, args.weights_rgb.as_deref(), &device)?;
        let flow = init_stream::<Inner<B>>(
            Stream::Flow,
            width_div,
            args.weights_flow.as_deref(),
            &device,
        )?;
        let engine = flow_engine::<Inner<B>>();
        let mut config = ExtractConfig::with_options(args.flow_on_crop, args.crop, args.light_flow);
        config.decode_time_limit =
            (args.decode_timeout > 0).then(|| Duration::from_secs(args.decode_timeout));
        quiet_decoder_panics();

        let bar = ProgressBar::new(videos.len() as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>8} [{bar:30}] {pos}/{len} videos ({elapsed}, eta {eta}) {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_prefix("extract");
        let start = Instant::now();
        let mut frames_total = 0usize;
        let mut failed = Vec::new();
        for (id, path) in &videos {
            let video_start = Instant::now();
            // A panic while extracting one video (a bug) fails that video, not the folder.
            let result = extract_video_caught(path, &rgb, &flow, &*engine, &config, &device, |p| {
                let secs = video_start.elapsed().as_secs_f64().max(1e-9);
                bar.set_message(format!(
                    "{id}: {} frames, {:.1} frames/s",
                    p.frames,
                    p.frames as f64 / secs
                ));
            })
            .map_err(|e| e.to_string());
            let features = match result {
                Ok(f) => f,
                Err(e) => {
                    // Told at once when other videos follow (the list at the end repeats
                    // it); a single video's error is told once, by the list.
                    if videos.len() > 1 {
                        bar.suspend(|| eprintln!("failed: {e}"));
                    }
                    failed.push(e);
                    bar.inc(1);
                    continue;
                }
            };
            if let Some(note) = &features.info.note {
                bar.suspend(|| eprintln!("note: {note}"));
            }
            let (t, d) = (features.snippets, features.dim);
            let layout = feature_layout(args.layout);
            write_video_features(&args.out, layout, id, &features.rgb, &features.flow, t, d)?;
            frames_total += t * config.chunk;
            bar.inc(1);
        }
        bar.finish_and_clear();
        let secs = start.elapsed().as_secs_f64();
        let done = videos.len() - failed.len();
        eprintln!(
            "extracted {done} videos to {} ({frames_total} frames in {secs:.1} s, {:.1} frames/s)",
            args.out.display(),
            frames_total as f64 / secs.max(1e-9)
        );
        if !failed.is_empty() {
            bail!(
                "{} of {} videos failed:\n  {}",
                failed.len(),
                videos.len(),
                failed.join("\n  ")
            );
        }
        Ok(())
    }
}

/// Installs a panic hook that prints nothing for panics of the video decoder's thread: the
/// `video` crate catches them and the video's error (naming the file, with the panic's
/// message) is printed instead. Other panics print as before.
fn quiet_decoder_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().name() != Some(video::DECODER_THREAD) {
            previous(info);
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse() {
        assert_eq!(parse_shard("0/2"), Ok((0, 2)));
        assert_eq!(parse_shard("3/4"), Ok((3, 4)));
        assert!(parse_shard("2/2").is_err());
        assert!(parse_shard("0/0").is_err());
        assert!(parse_shard("1").is_err());
        assert!(parse_shard("a/2").is_err());
    }
}
