//! Decoding: H.264 in MP4 in process, anything else through `ffmpeg` when it is on `PATH`.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use openh264::decoder::{Decoder as H264Decoder, DecoderConfig};
use openh264::formats::YUVSource;
use openh264::OpenH264API;

use crate::resample::Resampler;
use crate::{Frame, FrameSettings, VideoError};

/// Which decoder read a video.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoder {
    /// The built-in MP4 demuxer and OpenH264.
    OpenH264,
    /// An `ffmpeg` binary found on `PATH` (for formats the built-in decoder does not read).
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

/// Whether an `ffmpeg` binary runs from `PATH`.
pub fn ffmpeg_available() -> bool {
    Command::new("ffmpeg")
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Decodes `path`, resamples it to `settings.fps` and resizes every frame's shorter side to
/// `settings.short_side`, handing the frames to `on_frame` in order, one at a time (memory
/// does not grow with the video's length).
///
/// # Errors
/// [`VideoError`] naming the file: unreadable, not H.264 (without ffmpeg), no video track,
/// decoding failure, no frames.
pub fn for_each_frame(
    path: &Path,
    settings: &FrameSettings,
    mut on_frame: impl FnMut(Frame),
) -> Result<VideoInfo, VideoError> {
    let info = match open_mp4(path)? {
        Mp4Probe::H264(reader) => decode_mp4(path, *reader, settings, &mut on_frame)?,
        Mp4Probe::Other(reason) => {
            if ffmpeg_available() {
                let mut info = decode_ffmpeg(path, settings, &mut on_frame)?;
                info.note = Some(format!(
                    "{}: decoded with ffmpeg ({reason})",
                    path.display()
                ));
                info
            } else {
                return Err(reason.into_error(path.to_path_buf()));
            }
        }
    };
    if info.frames == 0 {
        return Err(VideoError::ZeroFrames {
            path: path.to_path_buf(),
        });
    }
    Ok(info)
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

type Mp4File = mp4::Mp4Reader<BufReader<File>>;

/// Why the built-in decoder does not take a file.
enum NotBuiltIn {
    Unreadable(String),
    NoVideoTrack,
    NotH264(String),
}

impl NotBuiltIn {
    fn into_error(self, path: PathBuf) -> VideoError {
        match self {
            NotBuiltIn::Unreadable(message) => VideoError::Unreadable { path, message },
            NotBuiltIn::NoVideoTrack => VideoError::NoVideoTrack { path },
            NotBuiltIn::NotH264(codec) => VideoError::NotH264 { path, codec },
        }
    }
}

impl std::fmt::Display for NotBuiltIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotBuiltIn::Unreadable(m) => write!(f, "not an MP4 the built-in decoder reads: {m}"),
            NotBuiltIn::NoVideoTrack => write!(f, "no MP4 video track"),
            NotBuiltIn::NotH264(c) => write!(f, "MP4 video is {c}, not H.264"),
        }
    }
}

enum Mp4Probe {
    H264(Box<(Mp4File, u32)>),
    Other(NotBuiltIn),
}

fn open_mp4(path: &Path) -> Result<Mp4Probe, VideoError> {
    let io = |source| VideoError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    // A quick look at the first box: an MP4 starts with a box whose type is `ftyp` (or, in
    // old QuickTime files, another top-level box); anything else goes straight to ffmpeg.
    let mut head = [0u8; 8];
    let mut probe = File::open(path).map_err(io)?;
    if probe.read_exact(&mut head).is_err() || !looks_like_iso_bmff(&head) {
        return Ok(Mp4Probe::Other(NotBuiltIn::Unreadable(
            "no ISO-BMFF box header".into(),
        )));
    }
    let reader = match mp4::Mp4Reader::read_header(BufReader::new(file), size) {
        Ok(r) => r,
        Err(e) => return Ok(Mp4Probe::Other(NotBuiltIn::Unreadable(e.to_string()))),
    };
    let mut video: Vec<(u32, Result<mp4::MediaType, String>)> = reader
        .tracks()
        .values()
        .filter(|t| matches!(t.track_type(), Ok(mp4::TrackType::Video)))
        .map(|t| (t.track_id(), t.media_type().map_err(|e| e.to_string())))
        .collect();
    video.sort_by_key(|(id, _)| *id);
    if let Some((id, _)) = video
        .iter()
        .find(|(_, m)| matches!(m, Ok(mp4::MediaType::H264)))
    {
        let id = *id;
        return Ok(Mp4Probe::H264(Box::new((reader, id))));
    }
    Ok(Mp4Probe::Other(match video.first() {
        None => NotBuiltIn::NoVideoTrack,
        Some((_, Ok(m))) => NotBuiltIn::NotH264(m.to_string()),
        Some((_, Err(e))) => NotBuiltIn::NotH264(e.clone()),
    }))
}

fn looks_like_iso_bmff(head: &[u8; 8]) -> bool {
    let kind = &head[4..8];
    [b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"]
        .iter()
        .any(|k| kind == *k)
}

fn decode_mp4(
    path: &Path,
    (mut reader, track_id): (Mp4File, u32),
    settings: &FrameSettings,
    on_frame: &mut impl FnMut(Frame),
) -> Result<VideoInfo, VideoError> {
    let err = |sample: u32, message: String| VideoError::Decode {
        path: path.to_path_buf(),
        sample,
        message,
    };
    let track = &reader.tracks()[&track_id];
    let timescale = track.timescale();
    let count = track.sample_count();
    let mut converter = AnnexB::for_track(track).map_err(|m| err(0, m))?;

    // No flush after each packet: a stream with B-frames (Main and High profiles, what most
    // cameras and encoders write) keeps frames in the decoder's reorder buffer until the frames
    // they are shown after have arrived; flushing them early failed on such files (OpenH264
    // reported an error at the first B-frame). The frames left at the end are flushed below.
    let config = DecoderConfig::new().flush_after_decode(openh264::decoder::Flush::NoFlush);
    let mut decoder = H264Decoder::with_api_config(OpenH264API::from_source(), config)
        .map_err(|e| err(0, e.to_string()))?;
    // Presentation times of all samples: the decoder hands frames out in presentation order,
    // so the k-th decoded frame gets the k-th smallest time.
    let mut times = Vec::with_capacity(count as usize);
    let mut end = 0u64;
    let mut packets = Vec::with_capacity(count as usize);
    for i in 1..=count {
        let Some(sample) = reader
            .read_sample(track_id, i)
            .map_err(|e| err(i, e.to_string()))?
        else {
            continue;
        };
        let pts = (sample.start_time as i64 + sample.rendering_offset as i64).max(0) as u64;
        times.push(pts);
        end = end.max(pts + sample.duration as u64);
        packets.push((i, sample.bytes));
    }
    times.sort_unstable();
    // The first frame shown starts the video. Encoders that write B-frames delay every
    // presentation time by the reorder depth (libx264: two frame durations) and cancel it with
    // an edit list, which the `mp4` crate does not apply; without this shift the resampler
    // would repeat the first frame to fill the delay and every later frame would be late.
    let first = times.first().copied().unwrap_or(0);
    for t in &mut times {
        *t -= first;
    }
    end = end.saturating_sub(first);

    let mut resampler = Resampler::new(settings.fps, timescale);
    let mut emitted = 0u64;
    let mut emit = |f: Frame| {
        emitted += 1;
        on_frame(f)
    };
    let mut decoded = 0usize;
    let mut source_size = (0, 0);
    let mut buffer = Vec::new();
    let mut rgb = Vec::new();
    let mut take = |yuv: &openh264::decoder::DecodedYUV<'_>,
                    decoded: &mut usize,
                    resampler: &mut Resampler,
                    emit: &mut dyn FnMut(Frame)| {
        let (w, h) = yuv.dimensions();
        source_size = (w, h);
        rgb.resize(3 * w * h, 0);
        yuv.write_rgb8(&mut rgb);
        let frame = Frame::new(w, h, rgb.clone()).resize_short_side(settings.short_side);
        let pts = times
            .get(*decoded)
            .copied()
            .unwrap_or_else(|| times.last().copied().unwrap_or(0));
        *decoded += 1;
        resampler.push(pts, frame, &mut |f| emit(f));
    };
    for (i, bytes) in &packets {
        converter
            .convert(bytes, &mut buffer)
            .map_err(|m| err(*i, m))?;
        match decoder.decode(&buffer) {
            Ok(Some(yuv)) => take(&yuv, &mut decoded, &mut resampler, &mut emit),
            Ok(None) => {}
            Err(e) => return Err(err(*i, e.to_string())),
        }
    }
    for yuv in decoder
        .flush_remaining()
        .map_err(|e| err(count, e.to_string()))?
    {
        take(&yuv, &mut decoded, &mut resampler, &mut emit);
    }
    resampler.finish(end, &mut emit);
    Ok(VideoInfo {
        decoder: Decoder::OpenH264,
        source_size,
        decoded_frames: decoded as u64,
        frames: emitted,
        note: None,
    })
}

/// MP4 (length-prefixed NAL units, parameter sets in the `avcC` box) to the Annex B byte
/// stream OpenH264 reads (start codes, parameter sets in band).
struct AnnexB {
    length_size: usize,
    parameter_sets: Vec<u8>,
    sent_parameter_sets: bool,
}

impl AnnexB {
    fn for_track(track: &mp4::Mp4Track) -> Result<Self, String> {
        let avcc = &track
            .trak
            .mdia
            .minf
            .stbl
            .stsd
            .avc1
            .as_ref()
            .ok_or("the track has no avc1 configuration")?
            .avcc;
        let mut parameter_sets = Vec::new();
        for nal in avcc
            .sequence_parameter_sets
            .iter()
            .chain(&avcc.picture_parameter_sets)
        {
            parameter_sets.extend_from_slice(&[0, 0, 0, 1]);
            parameter_sets.extend_from_slice(&nal.bytes);
        }
        Ok(Self {
            length_size: avcc.length_size_minus_one as usize + 1,
            parameter_sets,
            sent_parameter_sets: false,
        })
    }

    fn convert(&mut self, mut packet: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        out.clear();
        if !self.sent_parameter_sets {
            out.extend_from_slice(&self.parameter_sets);
            self.sent_parameter_sets = true;
        }
        while !packet.is_empty() {
            if packet.len() < self.length_size {
                return Err("truncated NAL unit length".into());
            }
            let len = packet[..self.length_size]
                .iter()
                .fold(0usize, |n, &b| (n << 8) | b as usize);
            packet = &packet[self.length_size..];
            if len > packet.len() {
                return Err(format!(
                    "NAL unit of {len} bytes in {} remaining",
                    packet.len()
                ));
            }
            out.extend_from_slice(&[0, 0, 0, 1]);
            out.extend_from_slice(&packet[..len]);
            packet = &packet[len..];
        }
        Ok(())
    }
}

/// ffmpeg decodes and resamples (`fps` filter: nearest frame by timestamp) and writes PPM
/// images to a pipe; we resize.
fn decode_ffmpeg(
    path: &Path,
    settings: &FrameSettings,
    on_frame: &mut impl FnMut(Frame),
) -> Result<VideoInfo, VideoError> {
    let fail = |message: String| VideoError::Ffmpeg {
        path: path.to_path_buf(),
        message,
    };
    let mut child = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(path)
        .args(["-an", "-sn", "-vf"])
        .arg(format!("fps={}", settings.fps))
        .args(["-f", "image2pipe", "-vcodec", "ppm", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(e.to_string()))?;
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut stderr = child.stderr.take().expect("piped stderr");
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut frames = 0u64;
    let mut source_size = (0, 0);
    let result = (|| -> Result<(), String> {
        while let Some((w, h, data)) = read_ppm(&mut stdout)? {
            source_size = (w, h);
            on_frame(Frame::new(w, h, data).resize_short_side(settings.short_side));
            frames += 1;
        }
        Ok(())
    })();
    let status = child.wait().map_err(|e| fail(e.to_string()))?;
    let stderr = err_thread.join().unwrap_or_default();
    if !status.success() {
        let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(fail(format!("{status}: {}", tail.join(" | "))));
    }
    result.map_err(fail)?;
    Ok(VideoInfo {
        decoder: Decoder::Ffmpeg,
        source_size,
        decoded_frames: frames,
        frames,
        note: None,
    })
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
        }
    }
    let parse = |s: &str| s.parse::<usize>().map_err(|_| format!("bad PPM field {s}"));
    if fields[0] != "P6" || parse(&fields[3])? != 255 {
        return Err(format!("unexpected PPM header {fields:?}"));
    }
    let (w, h) = (parse(&fields[1])?, parse(&fields[2])?);
    let mut data = vec![0u8; 3 * w * h];
    r.read_exact(&mut data).map_err(|e| e.to_string())?;
    Ok(Some((w, h, data)))
}
