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
//! Frames are processed as they are decoded: memory holds one chunk, not the video.

use std::path::{Path, PathBuf};

use burn::tensor::{backend::Backend, Tensor, TensorData};
use video::{Frame, FrameSettings, VideoError, VideoInfo};

use crate::flow::{i3d_clip, Flow, Image, TvL1};
use crate::I3d;

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

/// [`extract_video`] with a panic caught and returned as [`ExtractError::Panicked`], so that
/// a bug one file triggers fails that file, not a whole folder.
pub fn extract_video_caught<B: Backend>(
    path: &Path,
    rgb: &I3d<B>,
    flow: &I3d<B>,
    config: &ExtractConfig,
    device: &B::Device,
    progress: impl FnMut(ExtractProgress),
) -> Result<VideoFeatures, ExtractError> {
    let run =
        std::panic::AssertUnwindSafe(|| extract_video(path, rgb, flow, config, device, progress));
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

/// Two-stream I3D features of the video at `path`: `rgb_model` on the RGB frames,
/// `flow_model` on their TV-L1 flow, one feature per chunk of `config.chunk` frames (see the
/// [module docs](self)). `progress` is called after every chunk.
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
    mut progress: impl FnMut(ExtractProgress),
) -> Result<VideoFeatures, ExtractError> {
    assert!(config.chunk >= 2, "a chunk needs at least two frames");
    let mut rgb = Vec::new();
    let mut flow = Vec::new();
    let mut dim = 0;
    let mut pending: Vec<Frame> = Vec::with_capacity(config.chunk + 1);
    let mut chunks = 0usize;
    let mut too_small = None;
    let mut run = |frames: &[Frame], rgb: &mut Vec<f32>, flow: &mut Vec<f32>| {
        let (r, f) = chunk_features(frames, rgb_model, flow_model, config, device);
        assert_eq!(
            r.len(),
            f.len(),
            "the RGB and flow networks differ in width"
        );
        dim = r.len();
        rgb.extend(r);
        flow.extend(f);
        chunks += 1;
        progress(ExtractProgress {
            frames: chunks * config.chunk,
            chunks,
        });
    };
    let options = video::DecodeOptions {
        time_limit: config.decode_time_limit,
        ..video::DecodeOptions::default()
    };
    let info = video::for_each_frame_with(path, &config.frames, &options, |frame| {
        if too_small.is_some() {
            return;
        }
        if frame.width < config.crop || frame.height < config.crop {
            too_small = Some((frame.width, frame.height));
            return;
        }
        pending.push(frame);
        if pending.len() == config.chunk + 1 {
            run(&pending, &mut rgb, &mut flow);
            pending.drain(..config.chunk);
        }
    })?;
    if let Some((width, height)) = too_small {
        return Err(ExtractError::TooSmall {
            path: path.to_path_buf(),
            width,
            height,
            crop: config.crop,
        });
    }
    if pending.len() == config.chunk {
        run(&pending, &mut rgb, &mut flow);
    }
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

/// The RGB and flow features of one chunk: `frames` holds the chunk's frames and, if the
/// video has it, the next frame.
fn chunk_features<B: Backend>(
    frames: &[Frame],
    rgb_model: &I3d<B>,
    flow_model: &I3d<B>,
    config: &ExtractConfig,
    device: &B::Device,
) -> (Vec<f32>, Vec<f32>) {
    let (n, crop) = (config.chunk, config.crop);
    let crops: Vec<Frame> = frames.iter().map(|f| f.centre_crop(crop)).collect();

    // RGB: [1, 3, T, H, W] from the chunk's T frames ([3, H, W] each).
    let plane = crop * crop;
    let mut rgb_in = vec![0.0f32; 3 * n * plane];
    for (t, f) in crops[..n].iter().enumerate() {
        let x = f.to_i3d();
        for c in 0..3 {
            rgb_in[(c * n + t) * plane..][..plane].copy_from_slice(&x[c * plane..][..plane]);
        }
    }
    let rgb = features(rgb_model, rgb_in, [1, 3, n, crop, crop], device);

    // Flow: T flows between consecutive frames, cropped.
    let gray: Vec<Image> = if config.flow_on_crop {
        crops.iter().map(gray_image).collect()
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
    let flow = features(flow_model, i3d_clip(&flows), [1, 2, n, crop, crop], device);
    (rgb, flow)
}

fn features<B: Backend>(
    model: &I3d<B>,
    input: Vec<f32>,
    shape: [usize; 5],
    device: &B::Device,
) -> Vec<f32> {
    let x = Tensor::<B, 5>::from_data(TensorData::new(input, shape), device);
    model
        .features(x)
        .into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .expect("f32 features")
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

/// The time of each stage of [`extract_video`] on one video, in seconds (what `maan bench
/// extract` reports).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StageTimes {
    /// Frames in the chunks extracted.
    pub frames: usize,
    /// Chunks (features) extracted.
    pub chunks: usize,
    /// The whole pipeline, first run (GPU backends compile their kernels then).
    pub whole: f64,
    /// The whole pipeline again.
    pub whole_warm: f64,
    /// Decoding, resampling and resizing.
    pub decode: f64,
    /// TV-L1 on the decoded frames, chunk by chunk.
    pub tvl1: f64,
    /// The RGB network on every chunk.
    pub rgb_net: f64,
    /// The flow network on every chunk.
    pub flow_net: f64,
}

/// Times [`extract_video`] on `path`, whole (twice) and stage by stage: decoding (with
/// resampling and resizing), TV-L1 on the decoded frames (17 frames a chunk, as the pipeline
/// does), each network on as many chunks as the video has.
pub fn time_stages<B: Backend>(
    path: &Path,
    rgb: &I3d<B>,
    flow: &I3d<B>,
    config: &ExtractConfig,
    device: &B::Device,
) -> Result<StageTimes, ExtractError> {
    use std::time::Instant;
    let t0 = Instant::now();
    let features = extract_video(path, rgb, flow, config, device, |_| {})?;
    let whole = t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    extract_video(path, rgb, flow, config, device, |_| {})?;
    let whole_warm = t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    let (decoded, _) = video::read_frames(path, &config.frames)?;
    let decode = t0.elapsed().as_secs_f64();
    let gray: Vec<Image> = decoded
        .iter()
        .map(|f| Image::new(f.width, f.height, f.gray()))
        .collect();
    let chunks = features.snippets;
    let t0 = Instant::now();
    for c in 0..chunks {
        let end = ((c + 1) * config.chunk + 1).min(gray.len());
        let _ = config.tvl1.flow_sequence(&gray[c * config.chunk..end]);
    }
    let tvl1 = t0.elapsed().as_secs_f64();
    let net = |model: &I3d<B>, channels: usize| -> f64 {
        let shape = [1, channels, config.chunk, config.crop, config.crop];
        let input = || {
            Tensor::<B, 5>::from_data(
                TensorData::new(vec![0.1f32; shape.iter().product()], shape),
                device,
            )
        };
        let _ = model.features(input()).into_data();
        let t0 = Instant::now();
        for _ in 0..chunks {
            let _ = model.features(input()).into_data();
        }
        t0.elapsed().as_secs_f64()
    };
    Ok(StageTimes {
        frames: chunks * config.chunk,
        chunks,
        whole,
        whole_warm,
        decode,
        tvl1,
        rgb_net: net(rgb, 3),
        flow_net: net(flow, 2),
    })
}
