//! Encoding RGB frames to an H.264 MP4 (OpenH264's encoder, the `mp4` writer).

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use openh264::encoder::{BitRate, Encoder, EncoderConfig, FrameRate, RateControlMode};
use openh264::formats::{RgbSliceU8, YUVBuffer};
use openh264::OpenH264API;

use crate::{Frame, VideoError};

/// Encodes `frames` (all of one size, even width and height) as H.264 (constrained baseline,
/// OpenH264's encoder at a high bit rate, no skipped frames) and writes them as an MP4 with one
/// video track at `fps` frames per second.
///
/// Meant for tests and examples: small synthetic videos that every decoder reads.
///
/// # Errors
/// [`VideoError::Encode`] naming `path`: no frames, frames of different or odd sizes, an
/// encoder failure, or a write failure.
pub fn write_h264_mp4(path: &Path, frames: &[Frame], fps: u32) -> Result<(), VideoError> {
    let fail = |message: String| VideoError::Encode {
        path: path.to_path_buf(),
        message,
    };
    let first = frames.first().ok_or_else(|| fail("no frames".into()))?;
    let (w, h) = (first.width, first.height);
    if w % 2 == 1
        || h % 2 == 1
        || w == 0
        || h == 0
        || w > u16::MAX as usize
        || h > u16::MAX as usize
    {
        return Err(fail(format!(
            "frame size {w}×{h} must be even and non-zero"
        )));
    }
    if fps == 0 {
        return Err(fail("fps must be positive".into()));
    }
    let config = EncoderConfig::new()
        .bitrate(BitRate::from_bps(20_000_000))
        .max_frame_rate(FrameRate::from_hz(fps as f32))
        .rate_control_mode(RateControlMode::Off)
        .skip_frames(false);
    let mut encoder = Encoder::with_api_config(OpenH264API::from_source(), config)
        .map_err(|e| fail(e.to_string()))?;

    let mut sps = None;
    let mut pps = None;
    let mut samples: Vec<(Vec<u8>, bool)> = Vec::with_capacity(frames.len());
    for (i, frame) in frames.iter().enumerate() {
        if (frame.width, frame.height) != (w, h) {
            return Err(fail(format!(
                "frame {i} is {}×{}, the first is {w}×{h}",
                frame.width, frame.height
            )));
        }
        let yuv = YUVBuffer::from_rgb8_source(RgbSliceU8::new(&frame.data, (w, h)));
        let stream = encoder
            .encode(&yuv)
            .map_err(|e| fail(format!("frame {i}: {e}")))?;
        let mut sample = Vec::new();
        let mut sync = false;
        for l in 0..stream.num_layers() {
            let layer = stream.layer(l).expect("layer index in range");
            for n in 0..layer.nal_count() {
                let nal = strip_start_code(layer.nal_unit(n).expect("NAL index in range"));
                let Some(&header) = nal.first() else {
                    continue;
                };
                match header & 0x1f {
                    7 => sps = sps.or_else(|| Some(nal.to_vec())),
                    8 => pps = pps.or_else(|| Some(nal.to_vec())),
                    kind => {
                        sync |= kind == 5;
                        sample.extend_from_slice(&(nal.len() as u32).to_be_bytes());
                        sample.extend_from_slice(nal);
                    }
                }
            }
        }
        if sample.is_empty() {
            return Err(fail(format!("the encoder skipped frame {i}")));
        }
        samples.push((sample, sync));
    }
    let (Some(sps), Some(pps)) = (sps, pps) else {
        return Err(fail("the encoder gave no SPS/PPS".into()));
    };

    let file = File::create(path).map_err(|e| fail(e.to_string()))?;
    let mp4_err = |e: mp4::Error| fail(e.to_string());
    let brand = |s: &str| s.parse::<mp4::FourCC>().expect("four characters");
    let mut writer = mp4::Mp4Writer::write_start(
        BufWriter::new(file),
        &mp4::Mp4Config {
            major_brand: brand("isom"),
            minor_version: 512,
            compatible_brands: vec![brand("isom"), brand("iso2"), brand("avc1"), brand("mp41")],
            timescale: 1000,
        },
    )
    .map_err(mp4_err)?;
    // A timescale of 1000 ticks per frame keeps every timestamp exact.
    let ticks = 1000u32;
    writer
        .add_track(&mp4::TrackConfig {
            track_type: mp4::TrackType::Video,
            timescale: fps * ticks,
            language: "und".into(),
            media_conf: mp4::MediaConfig::AvcConfig(mp4::AvcConfig {
                width: w as u16,
                height: h as u16,
                seq_param_set: sps,
                pic_param_set: pps,
            }),
        })
        .map_err(mp4_err)?;
    for (i, (bytes, is_sync)) in samples.into_iter().enumerate() {
        writer
            .write_sample(
                1,
                &mp4::Mp4Sample {
                    start_time: i as u64 * ticks as u64,
                    duration: ticks,
                    rendering_offset: 0,
                    is_sync,
                    bytes: bytes::Bytes::from(bytes),
                },
            )
            .map_err(mp4_err)?;
    }
    writer.write_end().map_err(mp4_err)?;
    use std::io::Write;
    writer
        .into_writer()
        .flush()
        .map_err(|e| fail(e.to_string()))?;
    Ok(())
}

fn strip_start_code(nal: &[u8]) -> &[u8] {
    if nal.starts_with(&[0, 0, 0, 1]) {
        &nal[4..]
    } else if nal.starts_with(&[0, 0, 1]) {
        &nal[3..]
    } else {
        nal
    }
}
