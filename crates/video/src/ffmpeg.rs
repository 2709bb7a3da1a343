//! Decoding through an `ffmpeg` binary: it decodes and resamples (`fps` filter: the frame
//! nearest each output time) and writes PPM images to a pipe; the frames are resized here.
//! Bounded: at most `cap` frames (then ffmpeg is stopped), frames of at most
//! [`MAX_SIDE`] pixels a side, the last 4 KiB of its messages.

use std::ffi::OsStr;
use std::io::{BufReader, Read};
use std::process::{Command, Stdio};

use crate::demux::MAX_SIDE;
use crate::worker::{FrameSink, Job};
use crate::{Frame, VideoError};

/// How much of ffmpeg's messages is kept (the end).
const STDERR_TAIL: usize = 4096;

/// Runs `program` on the job's file and hands its frames to `sink`.
pub(crate) fn decode(
    program: &OsStr,
    job: &Job,
    cap: u64,
    sink: &mut FrameSink<'_>,
) -> Result<(), VideoError> {
    let fail = |message: String| VideoError::Ffmpeg {
        path: job.path.clone(),
        message,
    };
    let mut child = Command::new(program)
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(&job.path)
        .args(["-an", "-sn", "-vf"])
        .arg(format!("fps={}", job.settings.fps))
        .arg("-frames:v")
        .arg(cap.saturating_add(1).to_string())
        // 8-bit RGB whatever the source (ffmpeg writes 16-bit PPMs for 10-bit video).
        .args([
            "-pix_fmt",
            "rgb24",
            "-f",
            "image2pipe",
            "-vcodec",
            "ppm",
            "-",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot run {}: {e}", program.to_string_lossy())))?;
    let (Some(stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(fail("no pipes to ffmpeg".into()));
    };
    job.cancel.hold(child);
    let err_thread = std::thread::spawn(move || {
        let mut tail = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            tail.extend_from_slice(&buf[..n]);
            if tail.len() > 2 * STDERR_TAIL {
                tail.drain(..tail.len() - STDERR_TAIL);
            }
        }
        String::from_utf8_lossy(&tail).into_owned()
    });
    let mut stdout = BufReader::new(stdout);
    let mut frames = 0u64;
    let read = (|| -> Result<(), String> {
        while let Some((w, h, data)) = read_ppm(&mut stdout)? {
            if job.cancel.is_set() || !sink.alive {
                return Ok(());
            }
            frames += 1;
            if frames > cap {
                return Err(format!(
                    "it gave more than {cap} frames, more than the video's duration allows"
                ));
            }
            sink.check_size(w, h)?;
            sink.push(0, Frame::new(w, h, data));
        }
        Ok(())
    })();
    let mut child = job.cancel.release();
    if read.is_err() || job.cancel.is_set() || !sink.alive {
        if let Some(c) = child.as_mut() {
            let _ = c.kill();
        }
    }
    let status = child.map(|mut c| c.wait());
    let stderr = err_thread.join().unwrap_or_default();
    if job.cancel.is_set() || !sink.alive {
        return Err(job.stopped());
    }
    read.map_err(&fail)?;
    match status {
        Some(Ok(s)) if s.success() => Ok(()),
        Some(Ok(s)) => {
            let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            Err(fail(format!("{s}: {}", tail.join(" | "))))
        }
        Some(Err(e)) => Err(fail(e.to_string())),
        None => Err(fail("the ffmpeg process was lost".into())),
    }
}

/// One binary PPM (`P6`, maxval 255) from the stream; `None` at a clean end.
fn read_ppm(r: &mut impl Read) -> Result<Option<(usize, usize, Vec<u8>)>, String> {
    let mut fields = Vec::new();
    let mut token = Vec::new();
    let mut byte = [0u8; 1];
    while fields.len() < 4 {
        let n = r.read(&mut byte).map_err(|e| e.to_string())?;
        if n == 0 {
            if fields.is_empty() && token.is_empty() {
                return Ok(None);
            }
            return Err("truncated PPM header".into());
        }
        if byte[0].is_ascii_whitespace() {
            if !token.is_empty() {
                fields.push(String::from_utf8_lossy(&token).into_owned());
                token.clear();
            }
        } else {
            token.push(byte[0]);
            if token.len() > 16 {
                return Err("bad PPM header".into());
            }
        }
    }
    let parse = |s: &str| s.parse::<usize>().map_err(|_| format!("bad PPM field {s}"));
    if fields[0] != "P6" || parse(&fields[3])? != 255 {
        return Err(format!("unexpected PPM header {fields:?}"));
    }
    let (w, h) = (parse(&fields[1])?, parse(&fields[2])?);
    if w == 0 || h == 0 || w as u64 > MAX_SIDE || h as u64 > MAX_SIDE {
        return Err(format!("a frame of {w}×{h} pixels"));
    }
    let mut data = vec![0u8; 3 * w * h];
    r.read_exact(&mut data).map_err(|e| e.to_string())?;
    Ok(Some((w, h, data)))
}
