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
