//! Video frames for I3D feature extraction, with no system library.
//!
//! - [`read_frames`] / [`for_each_frame`]: decode a video, resample it to 25 fps and resize
//!   its shorter side to 256 pixels ([`FrameSettings`]), giving RGB [`Frame`]s;
//!   [`Frame::centre_crop`] then takes the 224×224 centre that I3D sees.
//! - H.264 in MP4 (`.mp4`, `.m4v`, `.mov` with an `avc1` track) is decoded in process: the
//!   `mp4` crate demuxes (pure Rust), Cisco's OpenH264 decodes (C++ source bundled in the
//!   `openh264` crate and compiled with the crate, so nothing needs to be installed): the
//!   Baseline, Main and High profiles, B-frames included (frames come out in presentation
//!   order; times count from the first frame shown, which is what the edit list of a
//!   B-frame file says and the `mp4` crate does not apply). Checked against ffmpeg's decoding
//!   of a libx264 High-profile file with B-frames (`tests/bframes.rs`).
//! - Any other format (or an MP4 whose video is not H.264) is decoded by an `ffmpeg` binary
//!   if one is on `PATH` (raw frames through a pipe; [`VideoInfo::decoder`] says which
//!   decoder ran); without one it is an error naming the file.
//! - [`write_h264_mp4`] encodes RGB frames to an H.264 MP4 (OpenH264's encoder + the `mp4`
//!   writer): the tests make their videos with it.
//!
//! # The settings of the public features
//!
//! The I3D features that THUMOS14 / ActivityNet weakly-supervised localization methods
//! train on follow the preprocessing of DeepMind's kinetics-i3d (README, "Sample data and
//! preprocessing", <https://github.com/deepmind/kinetics-i3d>): videos **sampled at 25 fps**;
//! RGB **resized preserving aspect ratio so that the smallest side is 256 pixels, with
//! bilinear interpolation**, pixel values **rescaled to `[-1, 1]`**, and at test time the
//! **centre 224×224 crop**; flow computed with TV-L1 on the grayscale frames, truncated to
//! `[-20, 20]` and rescaled to `[-1, 1]` (see the `i3d` crate). The WTAL feature files
//! (STPN, W-TALC and those after them) take one feature per **16 non-overlapping frames**
//! (0.64 s at 25 fps). These are the defaults of [`FrameSettings`].
//!
//! Resampling takes, for each output time `k / fps`, the decoded frame whose presentation
//! time is nearest (the earlier one on a tie), as ffmpeg's `fps` filter does; the number of
//! output frames is the number of output times before the end of the last frame. Resizing
//! is bilinear with half-pixel centres and no antialiasing (OpenCV's `INTER_LINEAR`),
//! rounding to 8 bits.
//!
//! The crate never prints: what a caller may want to tell the user is in [`VideoInfo`].

mod decode;
mod encode;
mod error;
mod frame;
mod resample;

pub use decode::{ffmpeg_available, for_each_frame, read_frames, Decoder, VideoInfo};
pub use encode::write_h264_mp4;
pub use error::VideoError;
pub use frame::{Frame, FrameSettings};

#[cfg(test)]
mod tests;
