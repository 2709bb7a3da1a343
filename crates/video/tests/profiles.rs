//! Valid videos the built-in decoder (OpenH264: progressive 8-bit 4:2:0 H.264) does not
//! decode: H.264 High 10, High 4:2:2, High 4:4:4 and interlaced, and an MPEG-4 Part 2 video.
//! Without ffmpeg each is an error naming the profile (or codec) and the remedy; with ffmpeg
//! each is decoded by it, with a note saying why. Fixtures: `fixtures/*.mp4`, made by
//! `fixtures/make_profiles.sh` (8 frames, 64×48, 25 fps each).
//!
//! CI has no ffmpeg (Debian's package installs 94 packages, left out of CI's tight time
//! budget): there the check with a real ffmpeg says it is skipped, and the hand-over to ffmpeg
//! is tested with a stand-in ffmpeg (`src/tests.rs`) and end to end in the CLI's tests.

use std::path::{Path, PathBuf};

use video::{DecodeOptions, Decoder, Ffmpeg, FrameSettings, VideoError};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The fixtures and what the error or note must name.
const CASES: &[(&str, &str)] = &[
    ("high10.mp4", "High 10 profile (10-bit samples)"),
    ("high422.mp4", "High 4:2:2 profile (4:2:2 chroma)"),
    (
        "high444.mp4",
        "High 4:4:4 Predictive profile (4:4:4 chroma)",
    ),
    ("interlaced.mp4", "High profile (interlaced coding)"),
];

fn native_size() -> FrameSettings {
    FrameSettings {
        fps: 25,
        short_side: 0,
    }
}

/// Without ffmpeg, every H.264 fixture is `UnsupportedH264` naming the file, its profile and
/// the remedy (install ffmpeg), before OpenH264 sees it.
#[test]
fn unsupported_h264_profiles_name_the_profile_without_ffmpeg() {
    let options = DecodeOptions {
        ffmpeg: Ffmpeg::Never,
        ..DecodeOptions::default()
    };
    for (name, profile) in CASES {
        let e = video::for_each_frame_with(&fixture(name), &native_size(), &options, |_| {})
            .unwrap_err();
        assert!(
            matches!(&e, VideoError::UnsupportedH264 { profile: p, .. } if p == profile),
            "{name}: {e:?}"
        );
        let text = e.to_string();
        assert!(
            text.contains(name) && text.contains(profile) && text.contains("install ffmpeg"),
            "{text}"
        );
    }
}

/// Without ffmpeg, a video in another codec is `NotH264` naming its sample entry.
#[test]
fn another_codec_is_named_without_ffmpeg() {
    let options = DecodeOptions {
        ffmpeg: Ffmpeg::Never,
        ..DecodeOptions::default()
    };
    let e = video::for_each_frame_with(&fixture("mpeg4.mp4"), &native_size(), &options, |_| {})
        .unwrap_err();
    assert!(
        matches!(&e, VideoError::NotH264 { codec, .. } if codec == "mp4v"),
        "{e:?}"
    );
    assert!(e.to_string().contains("mpeg4.mp4"), "{e}");
}

/// With ffmpeg on `PATH`, every fixture is decoded by it: 8 frames of 64×48, and a note
/// naming the file and the reason (the profile, or the codec). Skipped, saying so, without
/// ffmpeg.
#[test]
fn ffmpeg_decodes_what_openh264_does_not() {
    if !video::ffmpeg_available() {
        // Written to the process's stderr, past the test harness's capture, so that the skip
        // shows in the log.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "ffmpeg_decodes_what_openh264_does_not: skipped, no ffmpeg on PATH (the tests \
             above check the error without it)"
        );
        return;
    }
    let mut cases: Vec<(&str, &str)> = CASES.to_vec();
    cases.push(("mpeg4.mp4", "MP4 video is mp4v, not H.264"));
    for (name, reason) in cases {
        let (frames, info) = video::read_frames(&fixture(name), &native_size()).unwrap();
        assert_eq!(info.decoder, Decoder::Ffmpeg, "{name}");
        assert_eq!(frames.len(), 8, "{name}");
        assert_eq!(info.source_size, (64, 48), "{name}");
        let note = info.note.unwrap_or_default();
        assert!(
            note.contains(name) && note.contains("decoded with ffmpeg") && note.contains(reason),
            "{note}"
        );
    }
}
