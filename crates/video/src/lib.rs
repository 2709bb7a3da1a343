//! Video frames for I3D feature extraction, with no system library.
//!
//! - [`read_frames`] / [`for_each_frame`]: decode a video, resample it to 25 fps and resize
//!   its shorter side to 256 pixels ([`FrameSettings`]), giving RGB [`Frame`]s;
//!   [`Frame::centre_crop`] then takes the 224×224 centre that I3D sees.
//! - H.264 in MP4 (`.mp4`, `.m4v`, `.mov` with an `avc1` track) is decoded in process: the
//!   crate's own demuxer reads the MP4 and checks every value it reads before using it (see
//!   "Damaged files" below), Cisco's OpenH264 decodes (C++ source bundled in the `openh264`
//!   crate and compiled with the crate, so nothing needs to be installed): the Baseline, Main
//!   and High profiles' progressive 8-bit 4:2:0 pictures, B-frames included (frames come out
//!   in presentation order; times count from the first frame shown, which is what the edit
//!   list of a B-frame file says). Checked against ffmpeg's decoding of a libx264
//!   High-profile file with B-frames (`tests/bframes.rs`).
//! - Anything else (another format or codec, a fragmented MP4, an H.264 profile or format
//!   OpenH264 does not decode: High 10, High 4:2:2, High 4:4:4, interlaced) is decoded by an
//!   `ffmpeg` binary if one is on `PATH` ([`Ffmpeg`]; raw frames through a pipe;
//!   [`VideoInfo::decoder`] says which decoder ran and [`VideoInfo::note`] why); so is an
//!   H.264 file OpenH264 fails on before its first frame. Without one it is an error naming
//!   the file (for an H.264 profile: naming the profile).
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
//! # Damaged files
//!
//! A file is data from outside: no value it declares is trusted before it is checked, and no
//! file may crash, abort or hang the caller. The demuxer (module `demux`) checks box sizes
//! against their parent and the file, table entry counts against their box, the sample count
//! against the other sample tables and the file's size, every sample's bytes against the end
//! of the file and a bound set by the frame size, the timescale (non-zero) and the time the
//! samples span (at most 24 h, and consistent with the media header's duration); a file that
//! fails a check is [`VideoError::Malformed`] naming the check. No allocation is sized from a
//! declared count: memory holds the `moov` box (at most 64 MiB), one sample and a few frames.
//! Decoding runs in a worker thread: a panic there (in OpenH264's wrapper, say) is caught
//! and becomes [`VideoError::Panicked`], and [`DecodeOptions::time_limit`] bounds how long the
//! caller waits ([`VideoError::TimedOut`]); ffmpeg's output is bounded by the checked
//! duration when there is one.
//!
//! The crate never prints: what a caller may want to tell the user is in [`VideoInfo`].

mod clip;
mod decode;
mod demux;
mod encode;
mod error;
mod ffmpeg;
mod files;
mod frame;
mod h264;
mod resample;

pub use clip::panning_clip;
pub use decode::{
    ffmpeg_available, for_each_frame, for_each_frame_with, read_frames, DecodeOptions, Decoder,
    Ffmpeg, VideoInfo, DECODER_THREAD,
};
pub use encode::write_h264_mp4;
pub use error::VideoError;
pub use files::{list_videos, VIDEO_EXTENSIONS};
pub use frame::{Frame, FrameSettings};

#[cfg(test)]
mod tests;
