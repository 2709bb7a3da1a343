//! From a video file to its two-stream I3D features, as the public WTAL feature files.
//!
//! [`extract_video`] decodes the video ([`video::for_each_frame_with`]: 25 fps, shorter side
//! 256, bilinear; within [`ExtractConfig::decode_time_limit`]), cuts it into non-overlapping chunks of 16 frames (one feature per 0.64 s at
//! 25 fps; a trailing partial chunk is dropped) and runs, per chunk:
//!
//! - the **RGB** stream on the 16 frames' centre 224×224 crops, `x / 255 · 2 − 1`;
//! - the **flow** stream on the 16 TV-L1 flows ([`crate::flow::TvL1`], OpenCV's defaults) from
//!   each of the chunk's frames to the next frame, computed on the grayscale frames at the
//!   resized size (as kinetics-i3d: flow before cropping; [`ExtractConfig::flow_on_crop`]
//!   computes it on the crops instead, faster and different only near the crop's border),
//!   then centre-cropped, truncated to ±20 px and divided by 20. The last chunk of a video
//!   with no frame after it repeats its 15th flow as its 16th.
//!
//! Frames are processed as they are decoded, in a pipeline whose stages overlap: decoding (the
//! `video` crate's worker thread), the RGB network, the flow ([`FlowEngine`]: TV-L1 on the
//! CPU, [`CpuFlow`], or on the device of a GPU backend, `crate::gpu::GpuFlow`) and the flow
//! network each run in their own thread, handing chunks on through channels of
//! [`PIPELINE_DEPTH`] chunks, so the slowest stage sets the rate and memory holds a few chunks,
//! not the video. [`ExtractConfig::overlap`] `false` runs the stages one after the other in the
//! calling thread instead (the same features, bit for bit: tests).

use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};

use burn::tensor::{backend::Backend, Tensor, TensorData};
use video::{Frame, FrameSettings, VideoError, VideoInfo};

use crate::flow::{i3d_clip, Flow, Image, TvL1};
use crate::{ConvEngine, HostI3d, I3d};

/// The settings of [`extract_video`]; the defaults are those of the public features.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExtractConfig {
    /// Frame rate and resizing (25 fps, shorter side 256).
    pub frames: FrameSettings,
    /// Side of the centre crop fed to the network (224).
    pub crop: usize,
    /// Frames per chunk, i.e. per feature (16).
    pub chunk: usize,
    /// TV-L1's parameters (OpenCV's defaults).
    pub tvl1: TvL1,
    /// Compute the flow on the cropped frames rather than the resized ones (false).
    pub flow_on_crop: bool,
    /// The longest the extraction of one video waits for decoded frames, in all (the time
    /// the networks and the flow take does not count), after which the video is an error
    /// ([`video::DecodeOptions::time_limit`]); `None` (the default): no limit.
    pub decode_time_limit: Option<std::time::Duration>,
    /// Run decoding, the flow and the two networks in overlapping threads (true), or one chunk
    /// at a time through every stage in the calling thread (false; for comparison).
    pub overlap: bool,
}

impl Default for ExtractConfig {
    fn default() -> Self {
        Self {
            frames: FrameSettings::default(),
            crop: 224,
            chunk: 16,
            tvl1: TvL1::default(),
            flow_on_crop: false,
            decode_time_limit: None,
            overlap: true,
        }
    }
}

impl ExtractConfig {
    /// The public features' settings with the flow on the crops when `flow_on_crop`, and the
    /// test options: a `crop` side (the shorter side then resized to `crop * 256 / 224`) and
    /// a cheap TV-L1 (`light_flow`: one level, one warping; not for real features).
    pub fn with_options(flow_on_crop: bool, crop: Option<usize>, light_flow: bool) -> Self {
        let mut config = ExtractConfig {
            flow_on_crop,
            ..ExtractConfig::default()
        };
        if let Some(c) = crop {
            config.crop = c;
            config.frames.short_side = (c * 256).div_ceil(224);
        }
        if light_flow {
            config.tvl1 = TvL1::light();
        }
        config
    }
}

/// The features of one video: `snippets` rows of `dim` values per stream, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoFeatures {
    /// RGB features `[snippets, dim]`.
    pub rgb: Vec<f32>,
    /// Flow features `[snippets, dim]`.
    pub flow: Vec<f32>,
    /// Number of chunks (features per stream).
    pub snippets: usize,
    /// Feature size (1024 for the full network).
    pub dim: usize,
    /// What decoding found (frames, decoder, a note for the user).
    pub info: VideoInfo,
}

/// Progress of [`extract_video`], reported after every chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtractProgress {
    /// Frames (after resampling) that have gone through the networks.
    pub frames: usize,
    /// Chunks done (features per stream so far).
    pub chunks: usize,
}

/// Why a video gave no features. Every variant names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExtractError {
    /// The video could not be decoded.
    #[error(transparent)]
    Video(#[from] VideoError),
    /// The video has fewer frames than one chunk.
    #[error("{path}: {frames} frames at {fps} fps, shorter than one chunk of {chunk} frames")]
    TooShort {
        /// The file.
        path: PathBuf,
        /// Frames after resampling.
        frames: u64,
        /// The frame rate.
        fps: u32,
        /// Frames per chunk.
        chunk: usize,
    },
    /// The resized frames are smaller than the crop.
    #[error(
        "{path}: frames of {width}×{height} after resizing are smaller than the {crop}×{crop} crop"
    )]
    TooSmall {
        /// The file.
        path: PathBuf,
        /// Width after resizing.
        width: usize,
        /// Height after resizing.
        height: usize,
        /// The crop's side.
        crop: usize,
    },
    /// The device failed (while [`time_stages`] waited for it).
    #[error("the device failed: {message}")]
    Device {
        /// The backend's description of the failure.
        message: String,
    },
    /// The extraction panicked on this video (a bug that the file triggers); the panic was
    /// caught by [`extract_video_caught`].
    #[error("{path}: internal error while extracting (a bug): {message}")]
    Panicked {
        /// The file.
        path: PathBuf,
        /// The panic's message.
        message: String,
    },
}

/// [`extract_video_with`] with a panic caught and returned as [`ExtractError::Panicked`], so
/// that a bug one file triggers fails that file, not a whole folder.
pub fn extract_video_caught<B: Backend, E: FlowEngine<B> + ?Sized>(
    path: &Path,
    rgb: &I3d<B>,
    flow: &I3d<B>,
    flow_engine: &E,
    config: &ExtractConfig,
    device: &B::Device,
    progress: impl FnMut(ExtractProgress),
) -> Result<VideoFeatures, ExtractError> {
    let run = std::panic::AssertUnwindSafe(|| {
        extract_video_with(path, rgb, flow, flow_engine, config, device, progress)
    });
    std::panic::catch_unwind(run).unwrap_or_else(|payload| {
        let message = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_string()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "a panic without a message".into()
        };
        Err(ExtractError::Panicked {
            path: path.to_path_buf(),
            message,
        })
    })
}

/// Chunks each stage of the overlapped pipeline may hold waiting for the next (per channel):
/// memory holds at most about `3 · (PIPELINE_DEPTH + 1)` chunks of frames, flows or inputs.
pub const PIPELINE_DEPTH: usize = 2;

/// Where a chunk's TV-L1 flow is computed, and how it becomes the flow network's input.
///
/// [`CpuFlow`] computes it on the CPU for any backend; `crate::gpu::GpuFlow` (the `gpu`
/// feature) on the device of Burn's CubeCL backends, the flows never leaving it.
pub trait FlowEngine<B: Backend>: Sync {
    /// The flow network's input `[1, 2, config.chunk, config.crop, config.crop]` for one chunk:
    /// `frames` holds the chunk's `config.chunk` frames and, when the video has it, the next
    /// one (then the last flow is repeated). The flows are TV-L1 ([`ExtractConfig::tvl1`])
    /// between consecutive grayscale frames, at the frames' size (or on the centre crops with
    /// [`ExtractConfig::flow_on_crop`]), centre-cropped, truncated to ±20 px and divided by 20.
    fn flow_input(
        &self,
        frames: &[Frame],
        config: &ExtractConfig,
        device: &B::Device,
    ) -> Tensor<B, 5>;

    /// Whether the flow is computed on the device (true) or on the CPU (false).
    fn on_device(&self) -> bool;
}

/// TV-L1 on the CPU ([`TvL1::flow_sequence`]: rayon over the frame pairs), the flows then
/// uploaded as the flow network's input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuFlow;

impl<B: Backend> FlowEngine<B> for CpuFlow {
    fn flow_input(
        &self,
        frames: &[Frame],
        config: &ExtractConfig,
        device: &B::Device,
    ) -> Tensor<B, 5> {
        let (n, crop) = (config.chunk, config.crop);
        let gray: Vec<Image> = if config.flow_on_crop {
            frames
                .iter()
                .map(|f| gray_image(&f.centre_crop(crop)))
                .collect()
        } else {
            frames.iter().map(gray_image).collect()
        };
        let mut flows: Vec<Flow> = config.tvl1.flow_sequence(&gray);
        if flows.len() < n {
            let last = flows
                .last()
                .expect("a chunk has at least two frames")
                .clone();
            flows.push(last);
        }
        if !config.flow_on_crop {
            flows = flows.iter().map(|f| crop_flow(f, crop)).collect();
        }
        Tensor::from_data(
            TensorData::new(i3d_clip(&flows), [1, 2, n, crop, crop]),
            device,
        )
    }

    fn on_device(&self) -> bool {
        false
    }
}

/// Two-stream I3D features of the video at `path`: `rgb_model` on the RGB frames,
/// `flow_model` on their TV-L1 flow computed on the CPU ([`CpuFlow`]), one feature per chunk
/// of `config.chunk` frames (see the [module docs](self)). `progress` is called after every
/// chunk. [`extract_video_with`] chooses where the flow is computed.
///
/// # Errors
/// [`ExtractError`] naming the file: the video cannot be read, it is shorter than one chunk,
/// or its frames are smaller than the crop.
///
/// # Panics
/// If the two networks differ in feature size, or `config.chunk < 2`.
pub fn extract_video<B: Backend>(
    path: &Path,
    rgb_model: &I3d<B>,
    flow_model: &I3d<B>,
    config: &ExtractConfig,
    device: &B::Device,
    progress: impl FnMut(ExtractProgress),
) -> Result<VideoFeatures, ExtractError> {
    extract_video_with(
        path, rgb_model, flow_model, &CpuFlow, config, device, progress,
    )
}

/// [`extract_video`] with the flow computed by `flow_engine` (e.g. `crate::gpu::GpuFlow` on a
/// GPU backend, so that the flow is computed on the device and stays there).
///
/// # Errors
/// As [`extract_video`].
///
/// # Panics
/// As [`extract_video`]; a panic in a stage (a bug, a device failure) is re-raised here once
/// the other stages have stopped.
pub fn extract_video_with<B: Backend, E: FlowEngine<B> + ?Sized>(
    path: &Path,
    rgb_model: &I3d<B>,
    flow_model: &I3d<B>,
    flow_engine: &E,
    config: &ExtractConfig,
    device: &B::Device,
    mut progress: impl FnMut(ExtractProgress),
) -> Result<VideoFeatures, ExtractError> {
    assert!(config.chunk >= 2, "a chunk needs at least two frames");
    // Burn initialises parameters lazily, on first use, from the backend's one random
    // generator: left to the stages' threads, the two networks' random weights would depend on
    // how the threads interleave. Initialise them here, RGB then flow (the order of the
    // sequential pipeline's first chunk).
    materialize(rgb_model);
    materialize(flow_model);
    // On the CPU backends the networks run on host copies of their weights, made once here
    // rather than at every chunk (49 MB for the RGB network).
    let (rgb_model, flow_model) = (&Net::new(rgb_model, device), &Net::new(flow_model, device));
    let options = video::DecodeOptions {
        time_limit: config.decode_time_limit,
        ..video::DecodeOptions::default()
    };
    let mut results = Results::default();
    let mut chunker = Chunker::new(config);
    let info = if config.overlap {
        std::thread::scope(|scope| {
            let (rgb_tx, rgb_rx) = mpsc::sync_channel::<Arc<[Frame]>>(PIPELINE_DEPTH);
            let (flow_tx, flow_rx) = mpsc::sync_channel::<Arc<[Frame]>>(PIPELINE_DEPTH);
            let (input_tx, input_rx) = mpsc::sync_channel::<Tensor<B, 5>>(PIPELINE_DEPTH);
            let (out_tx, out_rx) = mpsc::channel::<(StreamOut, Vec<f32>)>();
            let rgb_out = out_tx.clone();
            let workers = [
                scope.spawn(move || {
                    for frames in rgb_rx {
                        let f = rgb_features(&frames, rgb_model, config, device);
                        if rgb_out.send((StreamOut::Rgb, f)).is_err() {
                            break;
                        }
                    }
                }),
                scope.spawn(move || {
                    for frames in flow_rx {
                        let x = flow_engine.flow_input(&frames, config, device);
                        if input_tx.send(x).is_err() {
                            break;
                        }
                    }
                }),
                scope.spawn(move || {
                    for x in input_rx {
                        if out_tx
                            .send((StreamOut::Flow, flow_model.features(x)))
                            .is_err()
                        {
                            break;
                        }
                    }
                }),
            ];
            // A stage that stopped (a panic) dropped its receiver: the chunks after that are
            // not sent, and the panic is raised below.
            let mut broken = false;
            let mut send = |frames: Arc<[Frame]>| {
                broken = broken
                    || rgb_tx.send(Arc::clone(&frames)).is_err()
                    || flow_tx.send(frames).is_err();
            };
            let info = video::for_each_frame_with(path, &config.frames, &options, |frame| {
                if let Some(frames) = chunker.push(frame) {
                    send(frames);
                }
                while let Ok(out) = out_rx.try_recv() {
                    results.add(out, config.chunk, &mut progress);
                }
            });
            if let (Ok(_), Some(frames)) = (&info, chunker.tail()) {
                send(frames);
            }
            drop((rgb_tx, flow_tx));
            for out in out_rx {
                results.add(out, config.chunk, &mut progress);
            }
            for worker in workers {
                if let Err(panic) = worker.join() {
                    std::panic::resume_unwind(panic);
                }
            }
            info
        })?
    } else {
        let mut run = |frames: Arc<[Frame]>| {
            let r = rgb_features(&frames, rgb_model, config, device);
            results.add((StreamOut::Rgb, r), config.chunk, &mut progress);
            let x = flow_engine.flow_input(&frames, config, device);
            let f = flow_model.features(x);
            results.add((StreamOut::Flow, f), config.chunk, &mut progress);
        };
        let info = video::for_each_frame_with(path, &config.frames, &options, |frame| {
            if let Some(frames) = chunker.push(frame) {
                run(frames);
            }
        })?;
        if let Some(frames) = chunker.tail() {
            run(frames);
        }
        info
    };
    if let Some((width, height)) = chunker.too_small {
        return Err(ExtractError::TooSmall {
            path: path.to_path_buf(),
            width,
            height,
            crop: config.crop,
        });
    }
    let Results {
        rgb,
        flow,
        chunks,
        dim,
        ..
    } = results;
    if chunks == 0 {
        return Err(ExtractError::TooShort {
            path: path.to_path_buf(),
            frames: info.frames,
            fps: config.frames.fps,
            chunk: config.chunk,
        });
    }
    Ok(VideoFeatures {
        rgb,
        flow,
        snippets: chunks,
        dim,
        info,
    })
}

/// Cuts the decoded frames into chunks of `chunk + 1` frames (the chunk and the next frame),
/// consecutive chunks sharing one frame.
struct Chunker {
    pending: Vec<Frame>,
    chunk: usize,
    crop: usize,
    /// The size of the first frame smaller than the crop, after which frames are ignored.
    too_small: Option<(usize, usize)>,
}

impl Chunker {
    fn new(config: &ExtractConfig) -> Self {
        Self {
            pending: Vec::with_capacity(config.chunk + 1),
            chunk: config.chunk,
            crop: config.crop,
            too_small: None,
        }
    }

    /// Takes the next frame; returns a chunk when one is complete.
    fn push(&mut self, frame: Frame) -> Option<Arc<[Frame]>> {
        if self.too_small.is_some() {
            return None;
        }
        if frame.width < self.crop || frame.height < self.crop {
            self.too_small = Some((frame.width, frame.height));
            return None;
        }
        self.pending.push(frame);
        (self.pending.len() == self.chunk + 1).then(|| {
            let frames = Arc::from(self.pending.as_slice());
            self.pending.drain(..self.chunk);
            frames
        })
    }

    /// The last chunk when the video ends with exactly one chunk's frames left (its last flow
    /// then repeats the one before).
    fn tail(&mut self) -> Option<Arc<[Frame]>> {
        (self.pending.len() == self.chunk && self.too_small.is_none())
            .then(|| Arc::from(std::mem::take(&mut self.pending).as_slice()))
    }
}

/// Initialises every parameter of `model` that Burn has not initialised yet (a no-op for
/// loaded weights and after the first call).
fn materialize<B: Backend>(model: &I3d<B>) {
    struct Touch;
    impl<B: Backend> burn::module::ModuleVisitor<B> for Touch {
        fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<B, D>>) {
            let _ = param.val();
        }
    }
    burn::module::Module::visit(model, &mut Touch);
}

/// Which network a feature comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StreamOut {
    Rgb,
    Flow,
}

/// The features gathered so far; each stream's arrive in chunk order.
#[derive(Default)]
struct Results {
    rgb: Vec<f32>,
    flow: Vec<f32>,
    rgb_chunks: usize,
    flow_chunks: usize,
    /// Chunks with both features.
    chunks: usize,
    dim: usize,
}

impl Results {
    /// Adds one chunk's feature of one stream and reports every chunk now complete.
    fn add(
        &mut self,
        (stream, feature): (StreamOut, Vec<f32>),
        chunk: usize,
        progress: &mut impl FnMut(ExtractProgress),
    ) {
        if self.dim == 0 {
            self.dim = feature.len();
        }
        assert_eq!(
            feature.len(),
            self.dim,
            "the RGB and flow networks differ in width"
        );
        match stream {
            StreamOut::Rgb => {
                self.rgb.extend(feature);
                self.rgb_chunks += 1;
            }
            StreamOut::Flow => {
                self.flow.extend(feature);
                self.flow_chunks += 1;
            }
        }
        while self.chunks < self.rgb_chunks.min(self.flow_chunks) {
            self.chunks += 1;
            progress(ExtractProgress {
                frames: self.chunks * chunk,
                chunks: self.chunks,
            });
        }
    }
}

/// The RGB feature of one chunk: the network on the centre crops of its first
/// `config.chunk` frames, `[1, 3, T, crop, crop]`.
fn rgb_features<B: Backend>(
    frames: &[Frame],
    model: &Net<'_, B>,
    config: &ExtractConfig,
    device: &B::Device,
) -> Vec<f32> {
    let (n, crop) = (config.chunk, config.crop);
    let plane = crop * crop;
    let mut input = vec![0.0f32; 3 * n * plane];
    for (t, f) in frames[..n].iter().enumerate() {
        let x = f.centre_crop(crop).to_i3d();
        for c in 0..3 {
            input[(c * n + t) * plane..][..plane].copy_from_slice(&x[c * plane..][..plane]);
        }
    }
    let x = Tensor::<B, 5>::from_data(TensorData::new(input, [1, 3, n, crop, crop]), device);
    model.features(x)
}

/// A network of the pipeline: the model, and on the backends whose default engine is
/// [`ConvEngine::Host`] its host copy, made once for the whole video.
struct Net<'a, B: Backend> {
    model: &'a I3d<B>,
    host: Option<HostI3d>,
}

impl<'a, B: Backend> Net<'a, B> {
    fn new(model: &'a I3d<B>, device: &B::Device) -> Self {
        let host =
            (ConvEngine::default_for::<B>(device) == ConvEngine::Host).then(|| HostI3d::new(model));
        Self { model, host }
    }

    /// The clip features of `x` (`[N, C, T, H, W]` → `N · 1024 / width_div` values), as
    /// [`I3d::features`].
    fn features(&self, x: Tensor<B, 5>) -> Vec<f32> {
        fn values<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
            t.into_data()
                .convert::<f32>()
                .to_vec::<f32>()
                .expect("f32 values")
        }
        match &self.host {
            Some(host) => {
                let shape = x.dims();
                host.features(&values(x), shape)
            }
            None => values(self.model.features_with(x, ConvEngine::Burn)),
        }
    }
}

fn gray_image(f: &Frame) -> Image {
    Image::new(f.width, f.height, f.gray())
}

fn crop_image(img: &Image, size: usize) -> Image {
    let (x0, y0) = ((img.width - size) / 2, (img.height - size) / 2);
    Image::from_fn(size, size, |x, y| img.data[(y0 + y) * img.width + x0 + x])
}

/// The centre crop of a flow field, as [`Frame::centre_crop`] crops the frames.
fn crop_flow(f: &Flow, size: usize) -> Flow {
    Flow {
        u: crop_image(&f.u, size),
        v: crop_image(&f.v, size),
    }
}

/// The time of each stage of [`extract_video_with`] on one video, in seconds (what `maan bench
/// extract` reports).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StageTimes {
    /// Frames in the chunks extracted.
    pub frames: usize,
    /// Chunks (features) extracted.
    pub chunks: usize,
    /// The whole pipeline (stages overlapping), first run (GPU backends compile their kernels
    /// then).
    pub whole: f64,
    /// The whole pipeline again.
    pub whole_warm: f64,
    /// The whole pipeline with its stages one after the other ([`ExtractConfig::overlap`]
    /// `false`), after the two runs above.
    pub whole_sequential: f64,
    /// Decoding, resampling and resizing.
    pub decode: f64,
    /// The flow on the decoded frames as the pipeline computes it (TV-L1 chunk by chunk, 17
    /// frames each, to the flow network's input; on the device for a GPU engine, waited for).
    pub tvl1: f64,
    /// The RGB network on every chunk.
    pub rgb_net: f64,
    /// The flow network on every chunk.
    pub flow_net: f64,
}

/// Times [`extract_video_with`] on `path`: whole (twice with its stages overlapping, once
/// one after the other) and stage by stage: decoding (with resampling and resizing), the flow
/// by `flow_engine` on the decoded frames (17 frames a chunk, as the pipeline does), each
/// network on as many chunks as the video has.
///
/// # Errors
/// As [`extract_video`]; [`ExtractError::Device`] if the device fails while waiting for it.
pub fn time_stages<B: Backend, E: FlowEngine<B> + ?Sized>(
    path: &Path,
    rgb: &I3d<B>,
    flow: &I3d<B>,
    flow_engine: &E,
    config: &ExtractConfig,
    device: &B::Device,
) -> Result<StageTimes, ExtractError> {
    use std::time::Instant;
    let extract = |config: &ExtractConfig| {
        extract_video_with(path, rgb, flow, flow_engine, config, device, |_| {})
    };
    let t0 = Instant::now();
    let features = extract(config)?;
    let whole = t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    extract(config)?;
    let whole_warm = t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    extract(&ExtractConfig {
        overlap: false,
        ..*config
    })?;
    let whole_sequential = t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    let (decoded, _) = video::read_frames(path, &config.frames)?;
    let decode = t0.elapsed().as_secs_f64();
    let chunks = features.snippets;
    let sync = || {
        B::sync(device).map_err(|e| ExtractError::Device {
            message: format!("{e:?}"),
        })
    };
    let t0 = Instant::now();
    for c in 0..chunks {
        let end = ((c + 1) * config.chunk + 1).min(decoded.len());
        let _ = flow_engine.flow_input(&decoded[c * config.chunk..end], config, device);
    }
    sync()?;
    let tvl1 = t0.elapsed().as_secs_f64();
    let net = |model: &I3d<B>, channels: usize| -> f64 {
        let model = Net::new(model, device);
        let shape = [1, channels, config.chunk, config.crop, config.crop];
        let input = || {
            Tensor::<B, 5>::from_data(
                TensorData::new(vec![0.1f32; shape.iter().product()], shape),
                device,
            )
        };
        let _ = model.features(input());
        let t0 = Instant::now();
        for _ in 0..chunks {
            let _ = model.features(input());
        }
        t0.elapsed().as_secs_f64()
    };
    Ok(StageTimes {
        frames: chunks * config.chunk,
        chunks,
        whole,
        whole_warm,
        whole_sequential,
        decode,
        tvl1,
        rgb_net: net(rgb, 3),
        flow_net: net(flow, 2),
    })
}
