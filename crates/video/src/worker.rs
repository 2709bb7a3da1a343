//! The decoder thread: what it decodes ([`Job`]), how it is told to stop ([`Cancel`]), where
//! its frames go ([`FrameSink`]: checked, resampled, resized, counted), and how the caller
//! waits on it within a time limit ([`run_worker`]); with the public types that describe a
//! decode ([`DecodeOptions`], [`Ffmpeg`], [`Decoder`], [`VideoInfo`]). The decoders
//! themselves (module `decode`: the built-in one; module `ffmpeg`) use these and not each
//! other's internals.

use std::ffi::OsString;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::demux::{DemuxError, MAX_SIDE};
use crate::resample::Resampler;
use crate::{Frame, FrameSettings, VideoError};

/// Which decoder read a video.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoder {
    /// The built-in MP4 demuxer and OpenH264.
    OpenH264,
    /// An `ffmpeg` binary (for what the built-in decoder does not read).
    Ffmpeg,
}

/// What reading a video found.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoInfo {
    /// The decoder that ran.
    pub decoder: Decoder,
    /// Size of the decoded frames (before resizing).
    pub source_size: (usize, usize),
    /// Frames decoded from the file (for ffmpeg: after its own resampling to the output rate).
    pub decoded_frames: u64,
    /// Frames handed on after resampling to [`FrameSettings::fps`].
    pub frames: u64,
    /// A note for the user when one is due (e.g. that ffmpeg decoded the file), else `None`.
    pub note: Option<String>,
}

/// Which `ffmpeg` decodes what the built-in decoder does not read (other formats and codecs,
/// fragmented MP4, the H.264 profiles OpenH264 does not decode).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Ffmpeg {
    /// The `ffmpeg` on `PATH`, if one runs ([`ffmpeg_available`]).
    #[default]
    OnPath,
    /// This program.
    Program(PathBuf),
    /// None: what the built-in decoder does not read is an error.
    Never,
}

/// How [`for_each_frame_with`] decodes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodeOptions {
    /// The longest the caller waits for decoded frames, over the whole video (the time its
    /// own frame callback takes does not count), after which decoding is abandoned with
    /// [`VideoError::TimedOut`]. `None` (the default): no limit.
    pub time_limit: Option<Duration>,
    /// The `ffmpeg` for what the built-in decoder does not read.
    pub ffmpeg: Ffmpeg,
}

/// The name of the thread that decodes (a panic hook may recognise it: its panics are caught
/// and become [`VideoError::Panicked`]).
pub const DECODER_THREAD: &str = "video decoder";

/// Whether an `ffmpeg` binary runs from `PATH`.
pub fn ffmpeg_available() -> bool {
    Command::new("ffmpeg")
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The work of a decoder thread: decodes the job's file, handing its frames to the function
/// (which returns false once the caller has gone).
pub(crate) type Work = fn(&Job, &mut dyn FnMut(Frame) -> bool) -> Result<VideoInfo, VideoError>;

/// Runs `work` in a decoder thread and `on_frame` on its frames here ([`for_each_frame_with`]).
pub(crate) fn run_worker(
    path: &Path,
    settings: &FrameSettings,
    options: &DecodeOptions,
    mut on_frame: impl FnMut(Frame),
    work: Work,
) -> Result<VideoInfo, VideoError> {
    let cancel = Arc::new(Cancel::default());
    let job = Job {
        path: path.to_path_buf(),
        settings: *settings,
        ffmpeg: options.ffmpeg.clone(),
        cancel: Arc::clone(&cancel),
    };
    // A few frames in flight: the decoder runs ahead of `on_frame`, memory stays bounded.
    let (tx, rx) = mpsc::sync_channel::<Message>(2);
    let worker = std::thread::Builder::new()
        .name(DECODER_THREAD.into())
        .spawn(move || {
            let frames = tx.clone();
            let mut emit = |f: Frame| frames.send(Message::Frame(f)).is_ok();
            let result = catch_unwind(AssertUnwindSafe(|| work(&job, &mut emit))).unwrap_or_else(
                |payload| {
                    Err(VideoError::Panicked {
                        path: job.path.clone(),
                        message: panic_message(payload.as_ref()),
                    })
                },
            );
            let _ = tx.send(Message::Done(result));
        })
        .map_err(|source| VideoError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    let mut waited = Duration::ZERO;
    loop {
        let message = match options.time_limit {
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(limit) => {
                let start = Instant::now();
                let m = rx.recv_timeout(limit.saturating_sub(waited));
                waited += start.elapsed();
                m
            }
        };
        match message {
            Ok(Message::Frame(frame)) => on_frame(frame),
            Ok(Message::Done(result)) => {
                let _ = worker.join();
                let info = result?;
                if info.frames == 0 {
                    return Err(VideoError::ZeroFrames {
                        path: path.to_path_buf(),
                    });
                }
                return Ok(info);
            }
            Err(RecvTimeoutError::Timeout) => {
                cancel.cancel();
                return Err(VideoError::TimedOut {
                    path: path.to_path_buf(),
                    limit: options.time_limit.unwrap_or_default(),
                });
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(VideoError::Panicked {
                    path: path.to_path_buf(),
                    message: "the decoder thread ended without a result".into(),
                })
            }
        }
    }
}

enum Message {
    Frame(Frame),
    Done(Result<VideoInfo, VideoError>),
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".into()
    }
}

/// Tells the worker to stop: a flag it checks between samples and frames, and the `ffmpeg`
/// it runs, killed.
#[derive(Default)]
pub(crate) struct Cancel {
    flag: AtomicBool,
    child: Mutex<Option<Child>>,
}

impl Cancel {
    pub(crate) fn is_set(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }

    fn cancel(&self) {
        self.flag.store(true, Ordering::Relaxed);
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = child.as_mut() {
            let _ = c.kill();
        }
    }

    /// Holds `child` so that [`Self::cancel`] can kill it (at once if already cancelled).
    pub(crate) fn hold(&self, mut child: Child) {
        let mut slot = self.child.lock().unwrap_or_else(|e| e.into_inner());
        if self.is_set() {
            let _ = child.kill();
        }
        *slot = Some(child);
    }

    /// The child given to [`Self::hold`].
    pub(crate) fn release(&self) -> Option<Child> {
        self.child.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// What the worker decodes.
pub(crate) struct Job {
    pub path: PathBuf,
    pub settings: FrameSettings,
    pub ffmpeg: Ffmpeg,
    pub cancel: Arc<Cancel>,
}

impl Job {
    pub(crate) fn ffmpeg_program(&self) -> Option<OsString> {
        match &self.ffmpeg {
            Ffmpeg::OnPath => ffmpeg_available().then(|| "ffmpeg".into()),
            Ffmpeg::Program(p) => Some(p.clone().into_os_string()),
            Ffmpeg::Never => None,
        }
    }

    /// The error of a worker told to stop (the caller has gone and never sees it).
    pub(crate) fn stopped(&self) -> VideoError {
        VideoError::TimedOut {
            path: self.path.clone(),
            limit: Duration::ZERO,
        }
    }

    /// A demuxer's error: damaged files, read errors; what it does not read (normally sent
    /// to ffmpeg first) as unreadable.
    pub(crate) fn demux_error(&self, e: DemuxError) -> VideoError {
        let path = self.path.clone();
        match e {
            DemuxError::Malformed(message) => VideoError::Malformed { path, message },
            DemuxError::Unsupported(message) => VideoError::Unreadable { path, message },
            DemuxError::Io(source) => VideoError::Io { path, source },
            DemuxError::Cancelled => self.stopped(),
        }
    }

    pub(crate) fn malformed(&self, message: impl Into<String>) -> VideoError {
        VideoError::Malformed {
            path: self.path.clone(),
            message: message.into(),
        }
    }
}

/// Frames on their way to the caller: checked to keep one size, resampled (for the built-in
/// decoder), resized, counted.
pub(crate) struct FrameSink<'a> {
    settings: FrameSettings,
    emit: &'a mut dyn FnMut(Frame) -> bool,
    resampler: Option<Resampler>,
    pub source_size: Option<(usize, usize)>,
    pub decoded: u64,
    pub emitted: u64,
    /// Whether the caller still takes frames.
    pub alive: bool,
}

impl<'a> FrameSink<'a> {
    pub(crate) fn new(
        settings: FrameSettings,
        emit: &'a mut dyn FnMut(Frame) -> bool,
        resampler: Option<Resampler>,
    ) -> Self {
        Self {
            settings,
            emit,
            resampler,
            source_size: None,
            decoded: 0,
            emitted: 0,
            alive: true,
        }
    }

    /// Checks a decoded frame's size: non-zero, at most [`MAX_SIDE`], the same as the first.
    pub(crate) fn check_size(&mut self, w: usize, h: usize) -> Result<(), String> {
        if w == 0 || h == 0 || w as u64 > MAX_SIDE || h as u64 > MAX_SIDE {
            return Err(format!("a decoded frame of {w}×{h} pixels"));
        }
        match self.source_size {
            None => self.source_size = Some((w, h)),
            Some((w0, h0)) if (w0, h0) != (w, h) => {
                return Err(format!(
                    "the frame size changes from {w0}×{h0} to {w}×{h} (one size per video is read)"
                ))
            }
            Some(_) => {}
        }
        Ok(())
    }

    /// A decoded frame (its size checked) shown at `time`: resized, and resampled when the
    /// sink resamples.
    pub(crate) fn push(&mut self, time: u64, frame: Frame) {
        let frame = frame.resize_short_side(self.settings.short_side);
        self.decoded += 1;
        let (emit, emitted, alive) = (&mut self.emit, &mut self.emitted, &mut self.alive);
        let mut out = |f: Frame| {
            if *alive {
                if emit(f) {
                    *emitted += 1;
                } else {
                    *alive = false;
                }
            }
        };
        match &mut self.resampler {
            Some(r) => r.push(time, frame, &mut out),
            None => out(frame),
        }
    }

    /// Ends the stream at `end` (timescale units; for a resampling sink).
    pub(crate) fn finish(&mut self, end: u64) {
        let (emit, emitted, alive) = (&mut self.emit, &mut self.emitted, &mut self.alive);
        let mut out = |f: Frame| {
            if *alive {
                if emit(f) {
                    *emitted += 1;
                } else {
                    *alive = false;
                }
            }
        };
        if let Some(r) = self.resampler.take() {
            r.finish(end, &mut out);
        }
    }

    pub(crate) fn info(&self, decoder: Decoder) -> VideoInfo {
        VideoInfo {
            decoder,
            source_size: self.source_size.unwrap_or((0, 0)),
            decoded_frames: self.decoded,
            frames: self.emitted,
            note: None,
        }
    }
}
