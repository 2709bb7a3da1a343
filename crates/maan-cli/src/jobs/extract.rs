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

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use burn::tensor::backend::{AutodiffBackend, Backend};
use dataset::{write_features, NpyDtype};
use i3d::{extract_video_with, load_weights, ExtractConfig, FlowEngine, I3d, I3dConfig, Stream};
use indicatif::{ProgressBar, ProgressStyle};

use crate::backend::{BackendArg, BackendJob, BackendOpts};

/// File extensions taken as videos when `--videos` is a folder (lower case).
pub const VIDEO_EXTENSIONS: &[&str] = &[
    "mp4", "m4v", "mov", "mkv", "avi", "webm", "mpg", "mpeg", "flv", "wmv", "3gp", "ts",
];

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

/// The videos to extract: `path` itself, or the video files of the folder `path` sorted by
/// name, with their ids (file stems).
fn list_videos(path: &Path) -> Result<Vec<(String, PathBuf)>> {
    let files: Vec<PathBuf> = if path.is_dir() {
        let mut files = Vec::new();
        for entry in
            std::fs::read_dir(path).with_context(|| format!("listing {}", path.display()))?
        {
            let p = entry
                .with_context(|| format!("listing {}", path.display()))?
                .path();
            let is_video = p
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| VIDEO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
            if p.is_file() && is_video {
                files.push(p);
            }
        }
        if files.is_empty() {
            bail!(
                "{}: no video files (extensions {})",
                path.display(),
                VIDEO_EXTENSIONS.join(", ")
            );
        }
        files
    } else if path.is_file() {
        vec![path.to_path_buf()]
    } else {
        bail!("{}: no such file or folder", path.display());
    };
    let mut by_id: BTreeMap<String, PathBuf> = BTreeMap::new();
    for f in files {
        let id = f
            .file_stem()
            .and_then(|s| s.to_str())
            .with_context(|| format!("{}: file name is not UTF-8", f.display()))?
            .to_string();
        if let Some(other) = by_id.insert(id.clone(), f.clone()) {
            bail!(
                "{} and {} would both write the features of video {id}",
                other.display(),
                f.display()
            );
        }
    }
    Ok(by_id.into_iter().collect())
}

/// The output files of video `id`.
fn outputs(out: &Path, layout: LayoutArg, id: &str) -> Vec<PathBuf> {
    let name = format!("{id}.npy");
    match layout {
        LayoutArg::A => vec![out.join("rgb").join(&name), out.join("flow").join(name)],
        LayoutArg::B => vec![out.join(name)],
    }
}

/// Writes `[rows, cols]` f32 to `path` through a temporary file in the same folder and a
/// rename, so that `path` is either absent or complete. The temporary file is created
/// exclusively under a random name (`.<file>.<random>.tmp`), so writers that share a folder
/// never write into each other's temporary file: not even two pods of one Kubernetes shard,
/// whose processes may all have pid 1 (names made from the pid alone could collide there).
fn write_atomic(path: &Path, data: &[f32], rows: usize, cols: usize) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    write_features(tmp.path(), data, rows, cols, NpyDtype::F32)?;
    let tmp_path = tmp.path().to_path_buf();
    tmp.persist(path)
        .with_context(|| format!("renaming {} to {}", tmp_path.display(), path.display()))?;
    Ok(())
}

/// The extraction settings: the public features' (`ExtractConfig::default`), with the flow on
/// the crops when `flow_on_crop`, and the test options: a `crop` side (the shorter side then
/// resized to `crop * 256 / 224`) and a cheap TV-L1 (`light_flow`).
pub(crate) fn extract_config(
    flow_on_crop: bool,
    crop: Option<usize>,
    light_flow: bool,
) -> ExtractConfig {
    let mut config = ExtractConfig {
        flow_on_crop,
        ..ExtractConfig::default()
    };
    if let Some(c) = crop {
        config.crop = c;
        config.frames.short_side = (c * 256).div_ceil(224);
    }
    if light_flow {
        config.tvl1 = i3d::flow::TvL1::light();
    }
    config
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
    let all = list_videos(&args.videos)?;
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
            !outputs(&args.out, args.layout, id)
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

pub(crate) fn init_stream<B: Backend>(
    stream: Stream,
    width_div: usize,
    weights: Option<&Path>,
    device: &B::Device,
) -> Result<I3d<B>> {
    let mut model = I3dConfig::new(stream)
        .with_width_div(width_div)
        .init::<B>(device);
    if let Some(path) = weights {
        load_weights(&mut model, path)?;
    }
    Ok(model)
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
        let mut config = extract_config(args.flow_on_crop, args.crop, args.light_flow);
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
            let result = catch_unwind(AssertUnwindSafe(|| {
                extract_video_with(path, &rgb, &flow, &*engine, &config, &device, |p| {
                    let secs = video_start.elapsed().as_secs_f64().max(1e-9);
                    bar.set_message(format!(
                        "{id}: {} frames, {:.1} frames/s",
                        p.frames,
                        p.frames as f64 / secs
                    ));
                })
                .map_err(|e| e.to_string())
            }))
            .unwrap_or_else(|payload| {
                Err(format!(
                    "{}: internal error while extracting (a bug): {}",
                    path.display(),
                    panic_text(payload.as_ref())
                ))
            });
            let features = match result {
                Ok(f) => f,
                Err(e) => {
                    bar.suspend(|| eprintln!("error: {e}"));
                    failed.push(e);
                    bar.inc(1);
                    continue;
                }
            };
            if let Some(note) = &features.info.note {
                bar.suspend(|| eprintln!("note: {note}"));
            }
            let (t, d) = (features.snippets, features.dim);
            match args.layout {
                LayoutArg::A => {
                    let files = outputs(&args.out, args.layout, id);
                    write_atomic(&files[0], &features.rgb, t, d)?;
                    write_atomic(&files[1], &features.flow, t, d)?;
                }
                LayoutArg::B => {
                    let mut both = Vec::with_capacity(2 * t * d);
                    for i in 0..t {
                        both.extend_from_slice(&features.rgb[i * d..(i + 1) * d]);
                        both.extend_from_slice(&features.flow[i * d..(i + 1) * d]);
                    }
                    write_atomic(&outputs(&args.out, args.layout, id)[0], &both, t, 2 * d)?;
                }
            }
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

/// The message of a caught panic.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".into()
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

    /// `write_atomic` leaves a complete file and no temporary file, and never touches a file
    /// under the name the pid-based scheme used (`.<file>.<pid>.tmp`: another writer's, e.g. a
    /// pod of the same shard with the same pid).
    #[test]
    fn write_atomic_leaves_other_writers_temporary_files_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.npy");
        let other = dir
            .path()
            .join(format!(".v.npy.{}.tmp", std::process::id()));
        std::fs::write(&other, b"another writer").unwrap();
        let data: Vec<f32> = (0..6).map(|i| i as f32 * 0.5).collect();
        write_atomic(&path, &data, 2, 3).unwrap();
        assert_eq!(std::fs::read(&other).unwrap(), b"another writer");
        let back = dataset::npy::read_features(&path, "v").unwrap();
        assert_eq!(back.data, data);
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [other.file_name().unwrap().to_str().unwrap(), "v.npy"]
        );
    }

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
