//! The built-in decoder on an H.264 High-profile MP4 with B-frames, the kind most cameras and
//! encoders write (the clips the tests make themselves are Baseline, without B-frames).
//! Fixture: `fixtures/bframes_high.mp4` (2 s, 64×48, 25 fps, libx264 `-profile:v high -bf 3`,
//! frames in decode order I P B B B ...) and ffmpeg's decoding of it, raw RGB, both made by
//! `fixtures/make_bframes.sh`.

use std::path::Path;

const W: usize = 64;
const H: usize = 48;

/// Every frame comes out, in presentation order and at its own time: as many frames as ffmpeg
/// decodes (50: none repeated to fill the B-frame delay that the file's edit list cancels),
/// each within 2 grey levels (mean absolute difference over its RGB bytes) of ffmpeg's frame
/// at the same index (the two differ only in YUV-to-RGB rounding; a frame shifted by one
/// differs by more than 5 on this moving test pattern).
#[test]
fn high_profile_with_b_frames_decodes_like_ffmpeg() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let reference = std::fs::read(dir.join("bframes_high.rgb")).unwrap();
    let size = 3 * W * H;
    assert_eq!(reference.len() % size, 0);
    let expected = reference.len() / size;
    assert_eq!(expected, 50);
    let settings = video::FrameSettings {
        fps: 25,
        short_side: 0,
    };
    let (frames, info) = video::read_frames(&dir.join("bframes_high.mp4"), &settings).unwrap();
    assert_eq!(info.decoder, video::Decoder::OpenH264);
    assert_eq!(info.source_size, (W, H));
    assert_eq!(frames.len(), expected);
    for (i, frame) in frames.iter().enumerate() {
        assert_eq!((frame.width, frame.height), (W, H));
        let want = &reference[i * size..(i + 1) * size];
        let diff = frame
            .data
            .iter()
            .zip(want)
            .map(|(a, b)| (*a as f64 - *b as f64).abs())
            .sum::<f64>()
            / size as f64;
        assert!(diff < 2.0, "frame {i}: mean |difference| {diff:.2}");
    }
}

/// The shifted-by-one control of the test above: ffmpeg's frames compared with their
/// neighbours differ by more than the 2-level bound, so that bound tells a misplaced frame
/// from rounding.
#[test]
fn neighbouring_frames_of_the_fixture_differ_by_more_than_the_bound() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let reference = std::fs::read(dir.join("bframes_high.rgb")).unwrap();
    let size = 3 * W * H;
    let n = reference.len() / size;
    for i in 1..n {
        let (a, b) = (
            &reference[(i - 1) * size..i * size],
            &reference[i * size..(i + 1) * size],
        );
        let diff = a
            .iter()
            .zip(b)
            .map(|(x, y)| (*x as f64 - *y as f64).abs())
            .sum::<f64>()
            / size as f64;
        assert!(diff > 2.0, "frames {} and {i}: {diff:.2}", i - 1);
    }
}
