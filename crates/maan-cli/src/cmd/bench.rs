//! `maan bench`: training iterations per second and whole-test-split inference time, per
//! backend, on in-memory synthetic data (no files).
//!
//! `maan bench train` times full training iterations of one stream (batch gathering, upload,
//! forward, backward, Adam step) at batch 16, T = 20, D = 1024, C = 20, reading the loss back
//! (a device sync) at every iteration so the timer sees finished work; then the training loop
//! itself (`Trainer::run`: batches gathered and uploaded on a second thread, the loss read back
//! every 10 iterations); then a per-phase profile, with the Adam step of `FlatAdam` (what
//! training uses) and of Burn's own Adam. `maan bench infer` times the two-stream inference (CAS of every snippet,
//! fusion, localization) on a THUMOS14-shaped test split: 210 videos of 50 to 650 snippets
//! (mean 350, about THUMOS14's 217 s at 0.64 s per snippet). `maan bench extract` times
//! feature extraction from a video file (`maan extract`'s pipeline), whole and per stage, on a
//! synthetic clip it writes (or `--video`); `crates/i3d/benches/extract_side_by_side.sh` runs
//! it beside the PyTorch + OpenCV pipeline on the same clip.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burn::tensor::backend::AutodiffBackend;
use maa_core::Aggregator;
use maan_model::bench;
use maan_model::infer::Batching;
use maan_model::StepEngine;

use crate::backend::{run_on, BackendArg, BackendJob};

/// Arguments of `maan bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// What to measure.
    #[command(subcommand)]
    pub what: BenchWhat,
}

/// Benchmarks.
#[derive(Debug, clap::Subcommand)]
pub enum BenchWhat {
    /// Training iterations per second (one stream: forward, backward, Adam step).
    Train(TrainBench),
    /// Time to run inference (two streams, CAS, localization) on a THUMOS14-shaped test split.
    Infer(InferBench),
    /// Frames per second of feature extraction from a video (decode, TV-L1 flow, both I3D
    /// streams), whole and per stage.
    Extract(ExtractBench),
}

/// Arguments of `maan bench train`.
#[derive(Debug, clap::Args)]
pub struct TrainBench {
    /// Backends to measure, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = crate::backend::DEFAULT_BACKEND)]
    pub backend: Vec<BackendArg>,
    /// GPU number for wgpu / cuda.
    #[arg(long, default_value_t = 0)]
    pub device: usize,
    /// Aggregator.
    #[arg(long, default_value = "maa")]
    pub aggregator: Aggregator,
    /// Timed iterations.
    #[arg(long, default_value_t = 300)]
    pub iterations: usize,
    /// Untimed warm-up iterations (at least 1; the first is timed apart: kernel compilation).
    #[arg(long, default_value_t = 30)]
    pub warmup: usize,
    /// Batch size.
    #[arg(long, default_value_t = 16)]
    pub batch_size: usize,
    /// Snippets per video (T).
    #[arg(long, default_value_t = 20)]
    pub segments: usize,
    /// Feature dimension D.
    #[arg(long, default_value_t = 1024)]
    pub dim: usize,
    /// Classes C.
    #[arg(long, default_value_t = 20)]
    pub classes: usize,
    /// Training-step engines to measure, comma-separated: `autodiff` (Burn's autodiff, every
    /// backend) and `fused` (the fused CPU step, flex and ndarray). Default: both where the
    /// backend has both, else `autodiff`.
    #[arg(long, value_delimiter = ',')]
    pub engine: Vec<StepEngine>,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// Arguments of `maan bench infer`.
#[derive(Debug, clap::Args)]
pub struct InferBench {
    /// Backends to measure, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = crate::backend::DEFAULT_BACKEND)]
    pub backend: Vec<BackendArg>,
    /// GPU number for wgpu / cuda.
    #[arg(long, default_value_t = 0)]
    pub device: usize,
    /// Test videos.
    #[arg(long, default_value_t = 210)]
    pub videos: usize,
    /// Feature dimension D per stream.
    #[arg(long, default_value_t = 1024)]
    pub dim: usize,
    /// Classes C.
    #[arg(long, default_value_t = 20)]
    pub classes: usize,
    /// Timed repetitions (the first, untimed pass warms up).
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// How videos are batched: auto (shape-stable chunks on GPU backends, exact lengths on
    /// CPU backends, as `maan test` does), chunks, buckets, or exact.
    #[arg(long, value_enum, default_value = "auto")]
    pub batching: BatchingArg,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// Arguments of `maan bench extract`.
#[derive(Debug, clap::Args)]
pub struct ExtractBench {
    /// Backends to measure, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = crate::backend::DEFAULT_BACKEND)]
    pub backend: Vec<BackendArg>,
    /// GPU number for wgpu / cuda.
    #[arg(long, default_value_t = 0)]
    pub device: usize,
    /// The video to extract. Without it, a synthetic clip (a textured scene panning behind a
    /// moving square, `--seconds` long, 320×240 at 25 fps, H.264) is written to `--clip` and
    /// used, so that another pipeline can be timed on the same file.
    #[arg(long)]
    pub video: Option<PathBuf>,
    /// Where the synthetic clip is written (without `--video`).
    #[arg(long, default_value = "maan-bench-clip.mp4")]
    pub clip: PathBuf,
    /// Length of the synthetic clip in seconds (at least 1: one 16-frame chunk).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..))]
    pub seconds: u64,
    /// pytorch-i3d RGB checkpoint; random weights of the full network without it (the same
    /// work: speed does not depend on the weights).
    #[arg(long)]
    pub weights_rgb: Option<PathBuf>,
    /// pytorch-i3d flow checkpoint (random weights without it).
    #[arg(long)]
    pub weights_flow: Option<PathBuf>,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Test option (as `maan extract`'s): divide every network width by this.
    #[arg(long, hide = true, default_value_t = 1)]
    pub width_div: usize,
    /// Test option (as `maan extract`'s): crop side.
    #[arg(long, hide = true)]
    pub crop: Option<usize>,
    /// Test option (as `maan extract`'s): a cheap TV-L1.
    #[arg(long, hide = true)]
    pub light_flow: bool,
}

/// `maan bench infer --batching`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BatchingArg {
    /// What `maan test` uses on the backend.
    Auto,
    /// Snippets of all videos in fixed-size chunks, aggregation on the host (GPU default).
    Chunks,
    /// Whole videos padded to power-of-two buckets, batched (the GPU default before chunks).
    Buckets,
    /// One video a batch at its exact length (CPU default).
    Exact,
}

/// Runs `maan bench`.
pub fn run(args: BenchArgs) -> Result<()> {
    // Every backend asked for is built (under `cargo run`) before anything is printed.
    crate::backend::ensure_built(match &args.what {
        BenchWhat::Train(a) => &a.backend,
        BenchWhat::Infer(a) => &a.backend,
        BenchWhat::Extract(a) => &a.backend,
    })?;
    match args.what {
        BenchWhat::Train(a) => {
            let bench = bench::TrainBench {
                aggregator: a.aggregator,
                iterations: a.iterations,
                warmup: a.warmup,
                batch_size: a.batch_size,
                segments: a.segments,
                dim: a.dim,
                classes: a.classes,
            };
            println!("maan bench train: {}", bench.describe());
            let job = || TrainBenchJob(bench, &a.engine);
            run_and_report(&a.backend, a.device, a.json.as_deref(), bench.record(), job)?;
        }
        BenchWhat::Infer(a) => {
            let bench = bench::InferBench {
                videos: a.videos,
                dim: a.dim,
                classes: a.classes,
                repeats: a.repeats,
                // Chosen per backend by the job.
                batching: Batching::default(),
            };
            println!("maan bench infer: {}", bench.describe());
            let job = || InferBenchJob(bench, a.batching);
            run_and_report(&a.backend, a.device, a.json.as_deref(), bench.record(), job)?;
        }
        BenchWhat::Extract(a) => {
            let video = match &a.video {
                Some(v) => v.clone(),
                None => {
                    video::write_h264_mp4(&a.clip, &video::panning_clip(a.seconds), 25)
                        .with_context(|| {
                            format!("cannot write the benchmark clip {}", a.clip.display())
                        })?;
                    println!(
                        "synthetic clip written to {} ({} s, 320x240, 25 fps, H.264)",
                        a.clip.display(),
                        a.seconds
                    );
                    a.clip.clone()
                }
            };
            println!(
                "maan bench extract: {} (decode, resize to 256, TV-L1 flow with OpenCV's defaults, \
                 I3D RGB and flow on 16-frame 224x224 chunks), {} threads",
                video.display(),
                cpu_threads()
            );
            let setup = serde_json::json!({
                "benchmark": "extract",
                "video": video.display().to_string(),
                "threads": cpu_threads(),
            });
            run_and_report(&a.backend, a.device, a.json.as_deref(), setup, || {
                ExtractBenchJob {
                    args: &a,
                    video: &video,
                }
            })?;
        }
    }
    Ok(())
}

/// Runs the job made by `job` on each backend in turn and, with `--json PATH`, writes `setup`
/// with the backends' rows under `"results"` to `PATH` (the file named in errors).
fn run_and_report<J: BackendJob<Output = serde_json::Value>>(
    backends: &[BackendArg],
    device: usize,
    json: Option<&Path>,
    mut setup: serde_json::Value,
    job: impl Fn() -> J,
) -> Result<()> {
    // A job returns one row, or an array of rows (one per training-step engine).
    let mut rows = Vec::new();
    for &b in backends {
        match run_on(b, device, job())? {
            serde_json::Value::Array(many) => rows.extend(many),
            one => rows.push(one),
        }
    }
    if let Some(path) = json {
        setup["results"] = serde_json::Value::Array(rows);
        let text = serde_json::to_string_pretty(&setup)?;
        maan_eval::atomic::write_atomic(path, (text + "\n").as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("results written to {}", path.display());
    }
    Ok(())
}

/// `maan bench train` on one backend: the setting and the `--engine`s asked for.
struct TrainBenchJob<'a>(bench::TrainBench, &'a [StepEngine]);

impl BackendJob for TrainBenchJob<'_> {
    type Output = serde_json::Value;

    fn run<B: AutodiffBackend>(
        self,
        device: B::Device,
        backend: BackendArg,
    ) -> Result<serde_json::Value> {
        let TrainBenchJob(bench, engines) = self;
        let setup = bench.setup()?;
        let engines = match engines {
            [] => bench::engines_to_measure(StepEngine::default_for::<B>(
                &device,
                &setup.config.model,
            )),
            given => given.to_vec(),
        };
        // The machine's practical limit: one large product on this backend.
        let size = bench::LIMIT_PRODUCT_SIZE;
        let limit = bench::large_product_gflops::<B::InnerBackend>(&device, size);
        println!("{backend}: {}", setup.describe_limit(limit));
        let mut rows = Vec::new();
        for engine in engines {
            let r = bench::train_speed::<B>(&bench, &setup, engine, limit, &device)?;
            r.lines(&format!("{backend} {engine}"))
                .iter()
                .for_each(|line| println!("{line}"));
            rows.push(with_backend(&r, backend)?);
        }
        Ok(serde_json::Value::Array(rows))
    }
}

/// A result as a JSON row with the key `backend` added.
fn with_backend<T: serde::Serialize>(result: &T, backend: BackendArg) -> Result<serde_json::Value> {
    let mut row = serde_json::to_value(result)?;
    row["backend"] = backend.to_string().into();
    Ok(row)
}

/// `maan bench infer` on one backend: the setting and `--batching`.
struct InferBenchJob(bench::InferBench, BatchingArg);

impl BackendJob for InferBenchJob {
    type Output = serde_json::Value;

    fn run<B: AutodiffBackend>(
        self,
        device: B::Device,
        backend: BackendArg,
    ) -> Result<serde_json::Value> {
        let InferBenchJob(bench, batching) = self;
        let batching = match batching {
            BatchingArg::Auto => backend.batching(),
            BatchingArg::Chunks => Batching::default(),
            BatchingArg::Buckets => Batching::buckets(),
            BatchingArg::Exact => Batching::exact(),
        };
        let bench = bench::InferBench { batching, ..bench };
        let r = bench.run::<B::InnerBackend>(&device)?;
        r.lines(backend.name(), bench.videos)
            .iter()
            .for_each(|line| println!("{line}"));
        with_backend(&r, backend)
    }
}

/// The CPU threads available (rayon's pool size: TV-L1 and flex run on it).
fn cpu_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

struct ExtractBenchJob<'a> {
    args: &'a ExtractBench,
    video: &'a Path,
}

impl BackendJob for ExtractBenchJob<'_> {
    type Output = serde_json::Value;

    fn run<B: AutodiffBackend>(
        self,
        device: B::Device,
        backend: BackendArg,
    ) -> Result<serde_json::Value> {
        use i3d::Stream;
        type Inner<B> = <B as AutodiffBackend>::InnerBackend;
        let a = self.args;
        let rgb = i3d::init_stream::<Inner<B>>(
            Stream::Rgb,
            a.width_div,
            a.weights_rgb.as_deref(),
            &device,
        )?;
        let flow = i3d::init_stream::<Inner<B>>(
            Stream::Flow,
            a.width_div,
            a.weights_flow.as_deref(),
            &device,
        )?;
        let config = i3d::ExtractConfig::with_options(false, a.crop, a.light_flow);
        // The flow where `maan extract` computes it: on the device for GPU backends.
        let engine = crate::jobs::extract::flow_engine::<Inner<B>>();

        let t = i3d::extract::time_stages(self.video, &rgb, &flow, &*engine, &config, &device)?;
        let (frames, chunks) = (t.frames, t.chunks);
        let (whole, whole_warm, whole_sequential, decode, tvl1, rgb_net, flow_net) = (
            t.whole,
            t.whole_warm,
            t.whole_sequential,
            t.decode,
            t.tvl1,
            t.rgb_net,
            t.flow_net,
        );
        let fps = |secs: f64| frames as f64 / secs.max(1e-9);
        println!(
            "{backend:>8}: {frames} frames ({chunks} chunks): whole {:.1} frames/s ({whole:.1} s; \
             again {:.1} frames/s; stages one after the other {:.1} frames/s) | decode {:.0} \
             frames/s, TV-L1 {:.1}, I3D rgb {:.1}, I3D flow {:.1}",
            fps(whole),
            fps(whole_warm),
            fps(whole_sequential),
            fps(decode),
            fps(tvl1),
            fps(rgb_net),
            fps(flow_net),
        );
        Ok(serde_json::json!({
            "backend": backend.name(),
            "frames": frames,
            "chunks": chunks,
            "whole_s": whole,
            "whole_warm_s": whole_warm,
            "whole_fps": fps(whole),
            "whole_warm_fps": fps(whole_warm),
            "whole_sequential_s": whole_sequential,
            "whole_sequential_fps": fps(whole_sequential),
            "flow_on_device": engine.on_device(),
            "decode_s": decode,
            "tvl1_s": tvl1,
            "i3d_rgb_s": rgb_net,
            "i3d_flow_s": flow_net,
        }))
    }
}
