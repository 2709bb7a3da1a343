//! Errors of video decoding and encoding.

use std::path::PathBuf;

/// Why a video gave no frames. Every variant names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VideoError {
    /// A path does not name videos to process (see [`crate::list_videos`]).
    #[error("{path}: {message}")]
    Listing {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The file could not be opened or read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// The file is not an MP4 that the built-in demuxer reads, and no `ffmpeg` is on `PATH`
    /// for other formats.
    #[error("{path}: not a readable MP4 file ({message}); install ffmpeg to read other formats")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The demuxer's message.
        message: String,
    },
    /// The MP4 has no video track.
    #[error("{path}: no video track")]
    NoVideoTrack {
        /// The file.
        path: PathBuf,
    },
    /// The MP4's video is not H.264 and no `ffmpeg` is on `PATH` to decode it.
    #[error("{path}: the video track is {codec}, not H.264; install ffmpeg to read it")]
    NotH264 {
        /// The file.
        path: PathBuf,
        /// The track's codec, as the demuxer names it.
        codec: String,
    },
    /// The file is damaged: a value it declares fails a check (a box that runs past the end
    /// of the file, sample tables that disagree, a duration out of bounds, ...).
    #[error("{path}: damaged video file: {message}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The check that failed, with the values.
        message: String,
    },
    /// The H.264 video uses a profile or picture format that the built-in decoder (OpenH264:
    /// progressive 8-bit 4:2:0) does not decode, and no `ffmpeg` is available to decode it.
    #[error(
        "{path}: the video is H.264 {profile}, which the built-in decoder (OpenH264) does not \
         decode; install ffmpeg to read it"
    )]
    UnsupportedH264 {
        /// The file.
        path: PathBuf,
        /// The profile and what in it is not decoded, e.g. `High 10 profile (10-bit samples)`.
        profile: String,
    },
    /// Decoding took longer than the time limit ([`crate::DecodeOptions::time_limit`]).
    #[error("{path}: decoding took longer than the time limit of {} s", limit.as_secs_f64())]
    TimedOut {
        /// The file.
        path: PathBuf,
        /// The limit.
        limit: std::time::Duration,
    },
    /// A decoder panicked on the file (a bug, in this crate or a dependency, that the file
    /// triggers); the panic was caught.
    #[error("{path}: the decoder failed on this file (internal error: {message})")]
    Panicked {
        /// The file.
        path: PathBuf,
        /// The panic's message.
        message: String,
    },
    /// The H.264 stream could not be decoded.
    #[error("{path}: cannot decode H.264 (sample {sample}): {message}")]
    Decode {
        /// The file.
        path: PathBuf,
        /// The 1-based MP4 sample where decoding failed.
        sample: u32,
        /// The decoder's message.
        message: String,
    },
    /// `ffmpeg` failed on the file.
    #[error("{path}: ffmpeg failed: {message}")]
    Ffmpeg {
        /// The file.
        path: PathBuf,
        /// ffmpeg's last lines of output, or what went wrong reading its frames.
        message: String,
    },
    /// The video decoded to no frames.
    #[error("{path}: the video has no frames")]
    ZeroFrames {
        /// The file.
        path: PathBuf,
    },
    /// Encoding or writing an MP4 failed ([`crate::write_h264_mp4`]).
    #[error("{path}: cannot write H.264 MP4: {message}")]
    Encode {
        /// The file being written.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}
