//! Round trips through the H.264 encoder and decoder; nothing needs to be installed.

use super::*;
use crate::resample::Resampler;

/// A dark frame with a bright `s × s` square whose top-left corner is `(x, y)`.
fn square(w: usize, h: usize, x: usize, y: usize, s: usize) -> Frame {
    let mut data = vec![30u8; 3 * w * h];
    for yy in y..(y + s).min(h) {
        for xx in x..(x + s).min(w) {
            data[3 * (yy * w + xx)..][..3].copy_from_slice(&[230, 220, 210]);
        }
    }
    Frame::new(w, h, data)
}

/// Centroid of the pixels brighter than mid-grey.
fn bright_centroid(f: &Frame) -> (f64, f64) {
    let (mut sx, mut sy, mut n) = (0.0, 0.0, 0.0);
    for y in 0..f.height {
        for x in 0..f.width {
            if f.data[3 * (y * f.width + x)] > 128 {
                sx += x as f64;
                sy += y as f64;
                n += 1.0;
            }
        }
    }
    assert!(n > 0.0, "no bright pixel");
    (sx / n, sy / n)
}

#[test]
fn moving_square_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("square.mp4");
    // 30 frames of 128×96: the square moves 2 px right and 1 px down per frame.
    let frames: Vec<Frame> = (0..30)
        .map(|i| square(128, 96, 10 + 2 * i, 8 + i, 16))
        .collect();
    write_h264_mp4(&path, &frames, 25).unwrap();

    let settings = FrameSettings::default();
    let (out, info) = read_frames(&path, &settings).unwrap();
    assert_eq!(info.decoder, Decoder::OpenH264);
    assert_eq!(info.source_size, (128, 96));
    assert_eq!(info.decoded_frames, 30);
    assert_eq!(out.len(), 30, "25 fps in, 25 fps out");
    // Shorter side 96 → 256, 128 → 341.
    assert!(out.iter().all(|f| (f.width, f.height) == (341, 256)));
    let crop = out[0].centre_crop(224);
    assert_eq!(
        (crop.width, crop.height, crop.data.len()),
        (224, 224, 3 * 224 * 224)
    );

    // The square's centre, in the source and after decoding (scaled back by 96 / 256).
    let scale = 96.0 / 256.0;
    for (i, f) in out.iter().enumerate() {
        let (cx, cy) = bright_centroid(f);
        let (ex, ey) = (10.0 + 2.0 * i as f64 + 7.5, 8.0 + i as f64 + 7.5);
        let (gx, gy) = ((cx + 0.5) * scale - 0.5, (cy + 0.5) * scale - 0.5);
        assert!(
            (gx - ex).abs() < 0.6 && (gy - ey).abs() < 0.6,
            "frame {i}: square centre ({gx:.2}, {gy:.2}), encoded ({ex}, {ey})"
        );
    }
}

#[test]
fn resampling_to_25_fps() {
    let dir = tempfile::tempdir().unwrap();
    // 50 fps for 1 s: every other frame; 10 fps for 2 s: each frame 2 or 3 times.
    for (fps, n, expect) in [(50u32, 50usize, 25usize), (10, 20, 50)] {
        let path = dir.path().join(format!("{fps}.mp4"));
        // Frame i has the square at x = 2 i, so the output tells which frame it came from.
        let frames: Vec<Frame> = (0..n).map(|i| square(256, 64, 2 * i, 24, 8)).collect();
        write_h264_mp4(&path, &frames, fps).unwrap();
        let settings = FrameSettings {
            fps: 25,
            short_side: 0,
        };
        let (out, info) = read_frames(&path, &settings).unwrap();
        assert_eq!(info.decoded_frames, n as u64);
        assert_eq!(out.len(), expect, "{fps} fps");
        for (k, f) in out.iter().enumerate() {
            // Nearest source frame to k / 25 s (the earlier one on a tie).
            let t = k as f64 / 25.0 * fps as f64;
            let src = if (t - t.floor() - 0.5).abs() < 1e-9 {
                t.floor()
            } else {
                t.round()
            } as usize;
            let src = src.min(n - 1);
            let (cx, _) = bright_centroid(f);
            let x = (cx - 3.5) / 2.0;
            assert!(
                (x - src as f64).abs() < 0.3,
                "{fps} fps, output {k}: from source frame {x:.2}, expected {src}"
            );
        }
    }
}

#[test]
fn resampler_counts() {
    let frame = Frame::new(1, 1, vec![0; 3]);
    let mut n = 0;
    // 30 frames at 30 fps (timescale 30): 1 s → 25 frames.
    let mut r = Resampler::new(25, 30);
    for i in 0..30 {
        r.push(i, frame.clone(), &mut |_| n += 1);
    }
    assert_eq!(r.finish(30, &mut |_| n += 1), 25);
    assert_eq!(n, 25);
}

#[test]
fn sizes_and_values() {
    assert_eq!(Frame::resized_size(320, 240, 256), (341, 256));
    assert_eq!(Frame::resized_size(240, 320, 256), (256, 341));
    assert_eq!(Frame::resized_size(1920, 1080, 256), (455, 256));
    assert_eq!(Frame::resized_size(50, 40, 0), (50, 40));
    // A constant image stays constant; a 2×1 ramp resized to 4×1 follows OpenCV.
    let ramp = Frame::new(2, 1, vec![0, 0, 0, 100, 100, 100]);
    let r = ramp.resize(4, 1);
    let reds: Vec<u8> = r.data.chunks(3).map(|p| p[0]).collect();
    assert_eq!(reds, vec![0, 25, 75, 100]);
    let f = Frame::new(1, 1, vec![0, 255, 51]);
    assert_eq!(f.to_i3d(), vec![-1.0, 1.0, 51.0 / 255.0 * 2.0 - 1.0]);
    assert_eq!(f.gray(), vec![(0.587f32 * 255.0 + 0.114 * 51.0).round()]);
}

#[test]
fn errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a video").unwrap();
    let settings = FrameSettings::default();
    if !ffmpeg_available() {
        let e = read_frames(&text, &settings).unwrap_err();
        assert!(matches!(e, VideoError::Unreadable { .. }), "{e:?}");
        assert!(e.to_string().contains("notes.txt"), "{e}");
    }
    let missing = dir.path().join("missing.mp4");
    let e = read_frames(&missing, &settings).unwrap_err();
    assert!(matches!(e, VideoError::Io { .. }), "{e:?}");
    assert!(e.to_string().contains("missing.mp4"), "{e}");
    let e = write_h264_mp4(
        &dir.path().join("odd.mp4"),
        &[Frame::new(3, 2, vec![0; 18])],
        25,
    )
    .unwrap_err();
    assert!(e.to_string().contains("odd.mp4"), "{e}");
}

/// The settings of the tests below: 25 fps, frames at their decoded size.
fn native() -> FrameSettings {
    FrameSettings {
        fps: 25,
        short_side: 0,
    }
}

/// A panic in the decoder thread is caught at the thread's boundary and becomes an error
/// naming the file and carrying the panic's message.
#[test]
fn a_panic_in_the_decoder_is_an_error_naming_the_file() {
    fn work(
        _: &crate::worker::Job,
        _: &mut dyn FnMut(Frame) -> bool,
    ) -> Result<VideoInfo, VideoError> {
        panic!("a bug in a dependency");
    }
    let path = std::path::Path::new("some/clip.mp4");
    let e = crate::worker::run_worker(path, &native(), &DecodeOptions::default(), |_| {}, work)
        .unwrap_err();
    assert!(
        matches!(&e, VideoError::Panicked { message, .. } if message == "a bug in a dependency"),
        "{e:?}"
    );
    assert!(e.to_string().contains("some/clip.mp4"), "{e}");
}

/// A decoder that never returns (and never looks at the cancel flag) turns into
/// `TimedOut` once the time limit has passed, after the frames it gave: the caller is not held
/// up by the thread, which is left behind.
#[test]
fn a_decoder_that_never_returns_times_out() {
    fn work(
        _: &crate::worker::Job,
        emit: &mut dyn FnMut(Frame) -> bool,
    ) -> Result<VideoInfo, VideoError> {
        emit(Frame::new(1, 1, vec![0; 3]));
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
    let options = DecodeOptions {
        time_limit: Some(std::time::Duration::from_millis(200)),
        ..DecodeOptions::default()
    };
    let mut frames = 0;
    let e = crate::worker::run_worker(
        std::path::Path::new("stuck.mp4"),
        &native(),
        &options,
        |_| frames += 1,
        work,
    )
    .unwrap_err();
    assert!(matches!(e, VideoError::TimedOut { .. }), "{e:?}");
    assert!(e.to_string().contains("stuck.mp4"), "{e}");
    assert_eq!(frames, 1);
}

/// A stand-in for ffmpeg: a shell script that answers `-version` and otherwise runs `body`.
/// Returns its path once it runs (a freshly written executable can be briefly "busy" while
/// another thread of the test process forks).
#[cfg(unix)]
fn fake_ffmpeg(dir: &std::path::Path, body: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("ffmpeg");
    std::fs::write(
        &path,
        format!("#!/bin/sh\nif [ \"$1\" = -version ]; then exit 0; fi\n{body}\n"),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    for _ in 0..100 {
        match std::process::Command::new(&path).arg("-version").status() {
            Ok(s) if s.success() => return path,
            _ => std::thread::sleep(std::time::Duration::from_millis(20)),
        }
    }
    panic!("{} does not run", path.display());
}

/// The B-frame fixture with its codec renamed `hvc1`: a valid-looking 2 s MP4 that goes to
/// ffmpeg, whose frames are then capped by that duration.
#[cfg(unix)]
fn renamed_codec(dir: &std::path::Path) -> std::path::PathBuf {
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bframes_high.mp4");
    let mut data = std::fs::read(fixture).unwrap();
    // The sample entry's type (the first `avc1` after `stsd`; the file type box names the
    // brand `avc1` too).
    let stsd = data.windows(4).position(|w| w == b"stsd").unwrap();
    let at = stsd + data[stsd..].windows(4).position(|w| w == b"avc1").unwrap();
    data[at..at + 4].copy_from_slice(b"hvc1");
    let path = dir.join("renamed.mp4");
    std::fs::write(&path, data).unwrap();
    path
}

/// An ffmpeg that hangs is killed when the time limit passes: the call returns `TimedOut`
/// and the process goes away.
#[cfg(unix)]
#[test]
fn a_hanging_ffmpeg_is_killed_at_the_time_limit() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let program = fake_ffmpeg(
        dir.path(),
        &format!("echo $$ > '{}'\nexec sleep 600", pid_file.display()),
    );
    let options = DecodeOptions {
        time_limit: Some(std::time::Duration::from_secs(2)),
        ffmpeg: Ffmpeg::Program(program),
    };
    let e =
        for_each_frame_with(&renamed_codec(dir.path()), &native(), &options, |_| {}).unwrap_err();
    assert!(matches!(e, VideoError::TimedOut { .. }), "{e:?}");
    assert!(e.to_string().contains("renamed.mp4"), "{e}");
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let proc = std::path::Path::new("/proc").join(pid.trim());
    // Killed at once, reaped by the decoder thread soon after.
    for _ in 0..300 {
        if !proc.exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the stand-in ffmpeg (pid {}) still runs", pid.trim());
}

/// An ffmpeg that gives more frames than the file's checked duration allows (2 s at 25 fps:
/// at most 2 × 50 + 50) is stopped with an error, not followed for ever.
#[cfg(unix)]
#[test]
fn ffmpeg_output_is_capped_by_the_checked_duration() {
    let dir = tempfile::tempdir().unwrap();
    let program = fake_ffmpeg(
        dir.path(),
        "while :; do printf 'P6\\n2 2\\n255\\n'; head -c 12 /dev/zero; done",
    );
    let options = DecodeOptions {
        time_limit: Some(std::time::Duration::from_secs(120)),
        ffmpeg: Ffmpeg::Program(program),
    };
    let mut frames = 0;
    let e = for_each_frame_with(&renamed_codec(dir.path()), &native(), &options, |_| {
        frames += 1
    })
    .unwrap_err();
    assert!(
        matches!(&e, VideoError::Ffmpeg { message, .. } if message.contains("more than 150 frames")),
        "{e:?}"
    );
    assert_eq!(frames, 150);
}

/// An H.264 file that OpenH264 fails on before its first frame (here: every sample's bytes
/// garbled) goes to ffmpeg when there is one, with a note saying so; without one it is the
/// decoding error naming the file.
#[cfg(unix)]
#[test]
fn openh264_failing_before_a_frame_hands_over_to_ffmpeg() {
    let dir = tempfile::tempdir().unwrap();
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bframes_high.mp4");
    let mut data = std::fs::read(fixture).unwrap();
    // In the mdat box (one NAL unit a sample in this fixture: a 4-byte length, then the
    // unit), every NAL unit's bytes after its header byte are set to 0xff.
    let mdat = data.windows(4).position(|w| w == b"mdat").unwrap() - 4;
    let end = mdat + u32::from_be_bytes(data[mdat..mdat + 4].try_into().unwrap()) as usize;
    let mut at = mdat + 8;
    while at + 4 <= end {
        let len = u32::from_be_bytes(data[at..at + 4].try_into().unwrap()) as usize;
        let stop = (at + 4 + len).min(end);
        data[at + 5..stop].fill(0xff);
        at = stop;
    }
    let path = dir.path().join("garbled.mp4");
    std::fs::write(&path, data).unwrap();
    let never = DecodeOptions {
        ffmpeg: Ffmpeg::Never,
        ..DecodeOptions::default()
    };
    let e = for_each_frame_with(&path, &native(), &never, |_| {}).unwrap_err();
    assert!(
        matches!(&e, VideoError::Decode { sample: 1, message, .. }
            if message.starts_with("OpenH264 reports bitstream error")),
        "{e:?}"
    );
    assert!(e.to_string().contains("garbled.mp4"), "{e}");

    let program = fake_ffmpeg(
        dir.path(),
        "for i in 1 2 3; do printf 'P6\\n2 2\\n255\\n'; head -c 12 /dev/zero; done",
    );
    let options = DecodeOptions {
        ffmpeg: Ffmpeg::Program(program),
        ..DecodeOptions::default()
    };
    let mut frames = 0;
    let info = for_each_frame_with(&path, &native(), &options, |_| frames += 1).unwrap();
    assert_eq!((info.decoder, info.frames, frames), (Decoder::Ffmpeg, 3, 3));
    let note = info.note.unwrap();
    assert!(
        note.contains("garbled.mp4") && note.contains("the built-in decoder failed"),
        "{note}"
    );
}
