//! Decoding: H.264 in MP4 in process, anything else through `ffmpeg` when it is on `PATH`; in
//! a worker thread (module `worker`), which the caller waits on within a time limit.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use openh264::decoder::{DecodedYUV, Decoder as H264Decoder, DecoderConfig, Flush};
use openh264::formats::YUVSource;
use openh264::OpenH264API;

use crate::demux::{self, fourcc, DemuxError, Movie, VideoTrack, MAX_SECONDS, MAX_SIDE};
use crate::h264::{self, AnnexB};
use crate::resample::Resampler;
use crate::worker::{run_worker, DecodeOptions, Decoder, FrameSink, Job, VideoInfo};
use crate::{Frame, FrameSettings, VideoError};

/// Decodes `path`, resamples it to `settings.fps` and resizes every frame's shorter side to
/// `settings.short_side`, handing the frames to `on_frame` in order, one at a time (memory
/// does not grow with the video's length). With the default [`DecodeOptions`]: no time
/// limit, `ffmpeg` from `PATH`.
///
/// # Errors
/// As [`for_each_frame_with`].
pub fn for_each_frame(
    path: &Path,
    settings: &FrameSettings,
    on_frame: impl FnMut(Frame),
) -> Result<VideoInfo, VideoError> {
    for_each_frame_with(path, settings, &DecodeOptions::default(), on_frame)
}

/// [`for_each_frame`] with options: a time limit and the choice of `ffmpeg`.
///
/// The file is decoded in a worker thread ([`DECODER_THREAD`]) and the frames come back to
/// the calling thread, which runs `on_frame`. A panic in the decoder is caught and becomes
/// [`VideoError::Panicked`]; when the time limit passes, the worker is told to stop (an
/// `ffmpeg` it runs is killed) and the call returns [`VideoError::TimedOut`] without waiting
/// for it, so a decoder that never returns holds up neither the caller nor the process's exit.
///
/// # Errors
/// [`VideoError`] naming the file: unreadable, damaged (a declared value fails a check), not
/// H.264 or an H.264 profile the built-in decoder does not read (without ffmpeg), no video
/// track, decoding failure, no frames, past the time limit.
pub fn for_each_frame_with(
    path: &Path,
    settings: &FrameSettings,
    options: &DecodeOptions,
    on_frame: impl FnMut(Frame),
) -> Result<VideoInfo, VideoError> {
    run_worker(path, settings, options, on_frame, decode)
}

/// All frames of `path` ([`for_each_frame`]) in a vector: `3 · W · H` bytes each
/// (196 KB for 340×256), so prefer [`for_each_frame`] for long videos.
///
/// # Errors
/// As [`for_each_frame`].
pub fn read_frames(
    path: &Path,
    settings: &FrameSettings,
) -> Result<(Vec<Frame>, VideoInfo), VideoError> {
    let mut frames = Vec::new();
    let info = for_each_frame(path, settings, |f| frames.push(f))?;
    Ok((frames, info))
}

/// Why a file goes to ffmpeg; without ffmpeg, the error.
enum Fallback {
    /// Not an ISO-BMFF file, or one the demuxer does not read.
    Unreadable(String),
    NoVideoTrack,
    NotH264(String),
    /// An H.264 format OpenH264 does not decode.
    Profile(String),
    /// OpenH264 failed before handing on a frame.
    OpenH264(VideoError),
}

impl Fallback {
    fn into_error(self, path: PathBuf) -> VideoError {
        match self {
            Fallback::Unreadable(message) => VideoError::Unreadable { path, message },
            Fallback::NoVideoTrack => VideoError::NoVideoTrack { path },
            Fallback::NotH264(codec) => VideoError::NotH264 { path, codec },
            Fallback::Profile(profile) => VideoError::UnsupportedH264 { path, profile },
            Fallback::OpenH264(e) => e,
        }
    }
}

impl std::fmt::Display for Fallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fallback::Unreadable(m) => write!(f, "not an MP4 the built-in decoder reads: {m}"),
            Fallback::NoVideoTrack => write!(f, "no MP4 video track"),
            Fallback::NotH264(c) => write!(f, "MP4 video is {c}, not H.264"),
            Fallback::Profile(p) => {
                write!(f, "H.264 {p}, which the built-in decoder does not read")
            }
            Fallback::OpenH264(e) => write!(f, "the built-in decoder failed: {e}"),
        }
    }
}

/// The worker: reads the file and hands its frames to `emit` (false: the caller has gone).
fn decode(job: &Job, emit: &mut dyn FnMut(Frame) -> bool) -> Result<VideoInfo, VideoError> {
    let path = job.path.as_path();
    let io = |source| VideoError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    if size == 0 {
        return Err(job.malformed("the file is empty (0 bytes)"));
    }
    // A quick look at the first box: an MP4 starts with a box whose type is `ftyp` (or, in
    // old QuickTime files, another top-level box); anything else goes to ffmpeg.
    let mut head = [0u8; 8];
    if file.read_exact(&mut head).is_err() || !looks_like_iso_bmff(&head) {
        let reason = Fallback::Unreadable("no ISO-BMFF box header".into());
        return via_ffmpeg(job, reason, None, emit);
    }
    let cancelled = || job.cancel.is_set();
    let track = match demux::open(&mut file, size, &cancelled) {
        Ok(Movie::Video(track)) => track,
        Ok(Movie::NoVideoTrack) => return via_ffmpeg(job, Fallback::NoVideoTrack, None, emit),
        Ok(Movie::Fragmented) => {
            let reason = Fallback::Unreadable("a fragmented MP4 (moof boxes)".into());
            return via_ffmpeg(job, reason, None, emit);
        }
        Err(DemuxError::Unsupported(m)) => {
            return via_ffmpeg(job, Fallback::Unreadable(m), None, emit)
        }
        Err(e) => return Err(job.demux_error(e)),
    };
    let format = track
        .avcc
        .as_ref()
        .and_then(|a| a.sps.first())
        .and_then(|sps| h264::parse_sps(sps));
    let (w, h) = format.map_or((u64::from(track.width), u64::from(track.height)), |f| {
        (f.width, f.height)
    });
    if w > MAX_SIDE || h > MAX_SIDE {
        return Err(job.malformed(format!(
            "frames of {w}×{h} pixels, more than {MAX_SIDE} on a side"
        )));
    }
    let max_sample = if track.is_h264() {
        max_sample_bytes(w, h)
    } else {
        u32::MAX
    };
    let timing = match track.check(max_sample, &cancelled) {
        Ok(t) => t,
        Err(DemuxError::Unsupported(m)) => {
            return via_ffmpeg(job, Fallback::Unreadable(m), None, emit)
        }
        Err(e) => return Err(job.demux_error(e)),
    };
    let cap = frame_cap(timing.span, track.timescale, job.settings.fps);
    if !track.is_h264() {
        return via_ffmpeg(job, Fallback::NotH264(fourcc(track.codec)), Some(cap), emit);
    }
    if let Some(why) = format.and_then(|f| f.unsupported()) {
        return via_ffmpeg(job, Fallback::Profile(why), Some(cap), emit);
    }
    let mut sink = FrameSink::new(
        job.settings,
        &mut *emit,
        Some(Resampler::new(job.settings.fps, track.timescale)),
    );
    let result = decode_h264(job, &mut file, &track, timing, max_sample, &mut sink);
    // OpenH264 failed, or gave no frame, before anything was handed on: ffmpeg may still
    // read the file.
    let untouched = sink.emitted == 0 && sink.alive && !job.cancel.is_set();
    let info = sink.info(Decoder::OpenH264);
    drop(sink);
    let failure = match result {
        Ok(()) if info.frames > 0 => return Ok(info),
        Ok(()) => VideoError::ZeroFrames {
            path: job.path.clone(),
        },
        Err(e) => e,
    };
    let damaged = matches!(failure, VideoError::Malformed { .. });
    if untouched && !damaged && job.ffmpeg_program().is_some() {
        via_ffmpeg(job, Fallback::OpenH264(failure), Some(cap), emit)
    } else {
        Err(failure)
    }
}

/// Decodes the file with `ffmpeg` when there is one, else returns `reason`'s error. `cap`:
/// the most frames the file's checked duration allows (none known: [`MAX_SECONDS`]).
fn via_ffmpeg(
    job: &Job,
    reason: Fallback,
    cap: Option<u64>,
    emit: &mut dyn FnMut(Frame) -> bool,
) -> Result<VideoInfo, VideoError> {
    let Some(program) = job.ffmpeg_program() else {
        return Err(reason.into_error(job.path.clone()));
    };
    let cap = cap.unwrap_or(MAX_SECONDS * u64::from(job.settings.fps.max(1)));
    let mut sink = FrameSink::new(job.settings, emit, None);
    let result = crate::ffmpeg::decode(&program, job, cap, &mut sink);
    match result {
        Ok(()) => {
            let mut info = sink.info(Decoder::Ffmpeg);
            info.note = Some(format!(
                "{}: decoded with ffmpeg ({reason})",
                job.path.display()
            ));
            Ok(info)
        }
        Err(VideoError::Ffmpeg { path, message }) if matches!(reason, Fallback::OpenH264(_)) => {
            Err(VideoError::Ffmpeg {
                path,
                message: format!("{message} (tried after {reason})"),
            })
        }
        Err(e) => Err(e),
    }
}

/// The most bytes a sample of a `w × h` H.264 stream may take: 8 bytes a pixel and 1 MiB
/// (an uncompressed 4:2:0 frame is 1.5 bytes a pixel); 64 MiB when the size is unknown.
fn max_sample_bytes(w: u64, h: u64) -> u32 {
    if w == 0 || h == 0 {
        return 64 << 20;
    }
    (8 * w * h + (1 << 20)).min(u64::from(u32::MAX)) as u32
}

/// The most frames ffmpeg may give for a video of `span` timescale units: twice the count at
/// `fps`, and two seconds more.
fn frame_cap(span: u64, timescale: u32, fps: u32) -> u64 {
    let fps = u128::from(fps.max(1));
    let expected = (u128::from(span) * fps).div_ceil(u128::from(timescale.max(1)));
    (2 * expected + 2 * fps).min(u128::from(u64::MAX)) as u64
}

/// Frames a sample's time may wait in the decoder's reorder buffer before it is taken as a
/// frame that never came (H.264 holds at most 16).
const MAX_PENDING: usize = 32;

/// Decodes the H.264 track into `sink`: each sample read on its own (memory holds one), the
/// k-th frame out of the decoder shown at the k-th earliest presentation time.
fn decode_h264(
    job: &Job,
    file: &mut File,
    track: &VideoTrack,
    timing: demux::Timing,
    max_sample: u32,
    sink: &mut FrameSink<'_>,
) -> Result<(), VideoError> {
    let err = |sample: u32, message: String| VideoError::Decode {
        path: job.path.clone(),
        sample,
        message,
    };
    let avcc = track
        .avcc
        .as_ref()
        .ok_or_else(|| err(0, "the track has no avcC configuration".into()))?;
    let mut converter = AnnexB::new(avcc);
    // No flush after each packet: a stream with B-frames keeps frames in the decoder's reorder
    // buffer until the frames they are shown after have arrived; flushing them early failed
    // on such files. The frames left at the end are flushed below.
    let config = DecoderConfig::new().flush_after_decode(Flush::NoFlush);
    let mut decoder = H264Decoder::with_api_config(OpenH264API::from_source(), config)
        .map_err(|e| err(0, openh264_message(&e)))?;
    // Presentation times (from the first, in timescale units) of the samples given to the
    // decoder whose frames have not come out: frames come out in presentation order, so
    // each takes the earliest. Encoders that write B-frames delay every presentation time by
    // the reorder depth and cancel it with an edit list; counting from the first frame shown
    // does the same.
    let mut pending: BinaryHeap<Reverse<u64>> = BinaryHeap::new();
    let mut last_time = 0u64;
    let mut next_time = |pending: &mut BinaryHeap<Reverse<u64>>| {
        if let Some(Reverse(t)) = pending.pop() {
            last_time = t;
        }
        last_time
    };
    let mut bytes = Vec::new();
    let mut annexb = Vec::new();
    let mut rgb = Vec::new();
    let mut last_sample = 0;
    let mut take = |yuv: &DecodedYUV<'_>, time: u64, sample: u32, sink: &mut FrameSink<'_>| {
        let (w, h) = yuv.dimensions();
        sink.check_size(w, h).map_err(|m| err(sample, m))?;
        rgb.resize(3 * w * h, 0);
        yuv.write_rgb8(&mut rgb);
        sink.push(time, Frame::new(w, h, rgb.clone()));
        Ok::<(), VideoError>(())
    };
    for sample in track.samples(max_sample) {
        let s = sample.map_err(|m| job.malformed(m))?;
        if job.cancel.is_set() || !sink.alive {
            return Err(job.stopped());
        }
        last_sample = s.number;
        if s.size == 0 {
            continue;
        }
        bytes.resize(s.size as usize, 0);
        file.seek(SeekFrom::Start(s.offset))
            .and_then(|_| file.read_exact(&mut bytes))
            .map_err(|e| {
                err(
                    s.number,
                    format!("cannot read its {} bytes at byte {}: {e}", s.size, s.offset),
                )
            })?;
        pending.push(Reverse(
            u64::try_from(s.pts - timing.first_pts).unwrap_or(0),
        ));
        if pending.len() > MAX_PENDING {
            pending.pop();
        }
        converter
            .convert(&bytes, &mut annexb)
            .map_err(|m| err(s.number, m))?;
        match decoder.decode(&annexb) {
            Ok(Some(yuv)) => {
                let time = next_time(&mut pending);
                take(&yuv, time, s.number, sink)?;
            }
            Ok(None) => {}
            Err(e) => return Err(err(s.number, openh264_message(&e))),
        }
    }
    for yuv in decoder
        .flush_remaining()
        .map_err(|e| err(last_sample, openh264_message(&e)))?
    {
        if job.cancel.is_set() || !sink.alive {
            return Err(job.stopped());
        }
        let time = next_time(&mut pending);
        take(&yuv, time, last_sample, sink)?;
    }
    sink.finish(timing.span);
    if !sink.alive {
        return Err(job.stopped());
    }
    Ok(())
}

/// OpenH264's error in words: the decoding state's flags it reports (its `DECODING_STATE`).
fn openh264_message(e: &openh264::Error) -> String {
    let code = e.native_code();
    if code == 0 {
        return format!(
            "OpenH264: {}",
            e.to_string().trim_end_matches(" Backtraces enabled.")
        );
    }
    const FLAGS: [(i64, &str); 11] = [
        (0x1, "frame pending"),
        (0x2, "reference frame lost"),
        (0x4, "bitstream error"),
        (0x8, "dependent layer lost"),
        (0x10, "no usable parameter sets"),
        (0x20, "data error concealed"),
        (0x40, "reference list missing"),
        (0x1000, "invalid argument"),
        (0x2000, "decoder not initialised"),
        (0x4000, "out of memory"),
        (0x8000, "output buffer too small"),
    ];
    let what: Vec<&str> = FLAGS
        .iter()
        .filter(|(bit, _)| code & bit != 0)
        .map(|(_, name)| *name)
        .collect();
    format!(
        "OpenH264 reports {} (state {code}): the stream is damaged or uses a feature it does \
         not decode",
        if what.is_empty() {
            "an error".to_string()
        } else {
            what.join(", ")
        }
    )
}

fn looks_like_iso_bmff(head: &[u8; 8]) -> bool {
    let kind = &head[4..8];
    [b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"]
        .iter()
        .any(|k| kind == *k)
}
