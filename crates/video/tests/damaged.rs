//! Damaged videos: each ends in features or in an error naming the file, never in a panic
//! (caught or not), an abort or a hang. The corpus is made here from the High-profile B-frame
//! fixture (`fixtures/bframes_high.mp4`: ftyp, free, mdat, then moov; 50 frames, 2 s) and a
//! "fast start" copy of it with the moov first (made here too: the moov moved before the
//! media data, its chunk offsets shifted): the cases of issue 37 (a time table that covers
//! too few samples, a uniform sample size with a count of 4.29e9, a sample delta of
//! 0x7FFFFFFF, a timescale of 0, truncations at 10/50/95 %, an empty file, a text file, a
//! renamed codec, random byte flips in moov and in mdat), byte flips in every box the
//! demuxer reads, truncation at every box boundary, and a property test of random damage.
//!
//! "Never hangs": every decode runs with a time limit of 120 s and must not reach it (the
//! corpus decodes in milliseconds a file: the limit turns a hang into a failure instead of a
//! stuck test run).

use std::path::Path;
use std::time::Duration;

use proptest::prelude::*;
use video::{DecodeOptions, Ffmpeg, FrameSettings, VideoError};

const FIXTURE_FRAMES: usize = 50;

fn fixture() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bframes_high.mp4"))
        .unwrap()
}

/// A box of the file: its path of types (`moov/trak/mdia/mdhd`), where it starts, its header
/// length and where it ends.
#[derive(Debug, Clone)]
struct BoxAt {
    path: String,
    start: usize,
    header: usize,
    end: usize,
}

fn be32(d: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(d[at..at + 4].try_into().unwrap())
}

fn set32(d: &mut [u8], at: usize, v: u32) {
    d[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

/// The boxes of an intact file, depth first (containers and the sample entry's boxes
/// included).
fn boxes(d: &[u8]) -> Vec<BoxAt> {
    fn walk(d: &[u8], start: usize, end: usize, parent: &str, out: &mut Vec<BoxAt>) {
        let mut p = start;
        while p + 8 <= end {
            let size = be32(d, p) as usize;
            let kind = String::from_utf8_lossy(&d[p + 4..p + 8]).into_owned();
            let path = if parent.is_empty() {
                kind.clone()
            } else {
                format!("{parent}/{kind}")
            };
            out.push(BoxAt {
                path: path.clone(),
                start: p,
                header: 8,
                end: p + size,
            });
            match kind.as_str() {
                "moov" | "trak" | "mdia" | "minf" | "stbl" | "edts" | "dinf" | "udta" => {
                    walk(d, p + 8, p + size, &path, out)
                }
                // Version and flags, the entry count, then the sample entries.
                "stsd" => walk(d, p + 16, p + size, &path, out),
                // A visual sample entry's 78 bytes of fields, then its boxes.
                "avc1" => walk(d, p + 86, p + size, &path, out),
                _ => {}
            }
            p += size;
        }
    }
    let mut out = Vec::new();
    walk(d, 0, d.len(), "", &mut out);
    out
}

fn find(d: &[u8], path: &str) -> BoxAt {
    boxes(d)
        .into_iter()
        .find(|b| b.path == path)
        .unwrap_or_else(|| panic!("no box {path}"))
}

/// The file with its moov before the media data (chunk offsets shifted by the moov's size).
fn fast_start(d: &[u8]) -> Vec<u8> {
    let top = boxes(d);
    let moov = top.iter().find(|b| b.path == "moov").unwrap();
    let ftyp = top.iter().find(|b| b.path == "ftyp").unwrap();
    let mut moved = d[moov.start..moov.end].to_vec();
    let stco = find(d, "moov/trak/mdia/minf/stbl/stco");
    let at = stco.start - moov.start;
    let n = be32(&moved, at + 12) as usize;
    for i in 0..n {
        let o = at + 16 + 4 * i;
        let v = be32(&moved, o) + moved.len() as u32;
        set32(&mut moved, o, v);
    }
    let mut out = d[..ftyp.end].to_vec();
    out.extend_from_slice(&moved);
    out.extend_from_slice(&d[ftyp.end..moov.start]);
    out.extend_from_slice(&d[moov.end..]);
    out
}

/// Writes `data` as `name` in `dir` and decodes it (120 s limit), counting the frames.
fn decode(
    dir: &Path,
    name: &str,
    data: &[u8],
    ffmpeg: Ffmpeg,
) -> (std::path::PathBuf, Result<usize, VideoError>) {
    let path = dir.join(name);
    std::fs::write(&path, data).unwrap();
    let options = DecodeOptions {
        time_limit: Some(Duration::from_secs(120)),
        ffmpeg,
    };
    let settings = FrameSettings {
        fps: 25,
        short_side: 0,
    };
    let mut frames = 0;
    let r = video::for_each_frame_with(&path, &settings, &options, |_| frames += 1);
    (path, r.map(|_| frames))
}

/// Features or an error naming the file; not a caught panic, not the time limit.
fn assert_handled(path: &Path, r: &Result<usize, VideoError>, what: &str) {
    if let Err(e) = r {
        assert!(
            !matches!(e, VideoError::Panicked { .. } | VideoError::TimedOut { .. }),
            "{what}: {e}"
        );
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(e.to_string().contains(name), "{what}: {e}");
    }
}

/// A damaged copy decoded with ffmpeg off (the built-in path) and, when it is on `PATH`,
/// on: handled both ways; the built-in result is returned.
fn check(dir: &Path, name: &str, data: &[u8]) -> Result<usize, VideoError> {
    let (path, builtin) = decode(dir, name, data, Ffmpeg::Never);
    assert_handled(&path, &builtin, name);
    if video::ffmpeg_available() {
        let (path, with) = decode(dir, name, data, Ffmpeg::OnPath);
        assert_handled(&path, &with, &format!("{name} (with ffmpeg)"));
    }
    builtin
}

/// `Malformed`, its message containing `words`.
fn assert_malformed(r: Result<usize, VideoError>, words: &str, what: &str) {
    match r {
        Err(VideoError::Malformed { message, .. }) => {
            assert!(message.contains(words), "{what}: {message}")
        }
        other => panic!("{what}: expected a damaged-file error with {words:?}, got {other:?}"),
    }
}

/// A deterministic generator for the "random" flips (no dependency).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// Both layouts decode intact: 50 frames each (the fast-start copy is a valid file, so its
/// damaged copies test the damage only).
#[test]
fn both_layouts_decode_intact() {
    let dir = tempfile::tempdir().unwrap();
    let d = fixture();
    assert_eq!(check(dir.path(), "intact.mp4", &d).unwrap(), FIXTURE_FRAMES);
    let f = fast_start(&d);
    assert_eq!(boxes(&f)[1].path, "moov");
    assert_eq!(
        check(dir.path(), "faststart.mp4", &f).unwrap(),
        FIXTURE_FRAMES
    );
}

/// The damaged files of issue 37, each an error naming the file and the problem (with
/// ffmpeg off; with it on, handled too): the ones that crashed, aborted or hung before, the
/// truncations, an empty and a text file, a renamed codec; and random byte flips in moov and
/// mdat, which give features or an error.
#[test]
fn issue_cases_end_in_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let d = fixture();
    let stbl = "moov/trak/mdia/minf/stbl";

    // The time-to-sample table's first (only) entry covers 1 sample of 50 (was: a panic in
    // the `mp4` crate).
    let mut x = d.clone();
    set32(&mut x, find(&d, &format!("{stbl}/stts")).start + 16, 1);
    assert_malformed(
        check(dir, "stts_short.mp4", &x),
        "(stts) covers 1 of the 50 samples",
        "stts",
    );

    // A uniform sample size with a count of 4.29e9 (was: an abort allocating 34 GB).
    let mut x = d.clone();
    let stsz = find(&d, &format!("{stbl}/stsz")).start;
    set32(&mut x, stsz + 12, 2000);
    set32(&mut x, stsz + 16, u32::MAX);
    assert_malformed(
        check(dir, "stsz_count.mp4", &x),
        "4294967295 samples",
        "stsz",
    );

    // A sample delta of 0x7FFFFFFF (was: years of frames).
    let mut x = d.clone();
    set32(
        &mut x,
        find(&d, &format!("{stbl}/stts")).start + 20,
        0x7FFF_FFFF,
    );
    assert_malformed(
        check(dir, "stts_delta.mp4", &x),
        "more than the 24 h",
        "delta",
    );

    // A timescale of 0 (was: a hang).
    let mut x = d.clone();
    set32(&mut x, find(&d, "moov/trak/mdia/mdhd").start + 20, 0);
    assert_malformed(
        check(dir, "timescale0.mp4", &x),
        "timescale of 0",
        "timescale",
    );

    // Truncated at 10, 50 and 95 %, moov last (no moov) and first (samples cut off).
    for (layout, file) in [("moovlast", d.clone()), ("faststart", fast_start(&d))] {
        for percent in [10, 50, 95] {
            let name = format!("{layout}_{percent}.mp4");
            let cut = &file[..file.len() * percent / 100];
            assert_malformed(check(dir, &name, cut), "truncated", &name);
        }
    }

    // An empty file; a text file; the codec renamed.
    assert_malformed(check(dir, "empty.mp4", &[]), "empty", "empty");
    let r = check(dir, "text.mp4", b"This is not a video, just some text.\n");
    assert!(matches!(r, Err(VideoError::Unreadable { .. })), "{r:?}");
    let mut x = d.clone();
    let avc1 = find(&d, &format!("{stbl}/stsd/avc1")).start;
    x[avc1 + 4..avc1 + 8].copy_from_slice(b"hvc1");
    let r = check(dir, "renamed_codec.mp4", &x);
    assert!(
        matches!(&r, Err(VideoError::NotH264 { codec, .. }) if codec == "hvc1"),
        "{r:?}"
    );

    // Random byte flips: eight copies with 1 to 8 flipped bytes in moov, eight in mdat.
    let moov = find(&d, "moov");
    let mdat = find(&d, "mdat");
    let mut rng = Lcg(37);
    for (region, b) in [("moov", &moov), ("mdat", &mdat)] {
        for seed in 0..8 {
            let mut x = d.clone();
            for _ in 0..=seed {
                let at = b.start + rng.next() as usize % (b.end - b.start);
                x[at] ^= 1 << (rng.next() % 8);
            }
            let _ = check(dir, &format!("flip_{region}_{seed}.mp4"), &x);
        }
    }
}

/// The boxes whose fields the demuxer reads (of the others it reads the size and type).
const READ: &[&str] = &[
    "moov/trak/tkhd",
    "moov/trak/mdia/mdhd",
    "moov/trak/mdia/hdlr",
    "moov/trak/mdia/minf/stbl/stsd",
    "moov/trak/mdia/minf/stbl/stts",
    "moov/trak/mdia/minf/stbl/ctts",
    "moov/trak/mdia/minf/stbl/stsc",
    "moov/trak/mdia/minf/stbl/stsz",
    "moov/trak/mdia/minf/stbl/stco",
];

/// Every byte of every box the demuxer reads flipped (all eight bits), one at a time: every
/// byte of the boxes whose fields it reads (tkhd, mdhd, hdlr, stsd with avc1 and avcC, stts,
/// ctts, stsc, stsz, stco) and the header (size and type) of every other box, containers and
/// top-level boxes included. Each copy gives features or an error naming the file (the
/// built-in path).
#[test]
fn byte_flips_in_every_box_the_demuxer_reads() {
    let dir = tempfile::tempdir().unwrap();
    let d = fixture();
    let all = boxes(&d);
    for name in READ {
        assert!(all.iter().any(|b| b.path == *name), "{name}");
    }
    let mut positions = Vec::new();
    for b in &all {
        if READ.contains(&b.path.as_str()) {
            positions.extend(b.start..b.end);
        } else if !READ.iter().any(|r| b.path.starts_with(&format!("{r}/"))) {
            positions.extend(b.start..b.start + b.header);
        }
    }
    assert!(positions.len() > 900, "{} bytes", positions.len());
    let mut errors = 0;
    for &at in &positions {
        let mut x = d.clone();
        x[at] ^= 0xff;
        let (path, r) = decode(dir.path(), "flip.mp4", &x, Ffmpeg::Never);
        assert_handled(&path, &r, &format!("byte {at} flipped"));
        errors += usize::from(r.is_err());
    }
    // Most flips of these bytes are caught (the rest change values the decoder copes with,
    // e.g. a sample's presentation time or the frame size the sample entry declares).
    assert!(
        2 * errors > positions.len(),
        "{errors} errors in {}",
        positions.len()
    );
}

/// The file cut at every box boundary (each box's start, the end of its size field, the end
/// of its header, its last byte), in both layouts: each is an error naming the file.
#[test]
fn truncation_at_every_box_boundary() {
    let dir = tempfile::tempdir().unwrap();
    let d = fixture();
    for (layout, file) in [("moovlast", d.clone()), ("faststart", fast_start(&d))] {
        let mut cuts: Vec<usize> = boxes(&file)
            .iter()
            .flat_map(|b| [b.start, b.start + 4, b.start + b.header, b.end - 1])
            .collect();
        cuts.sort_unstable();
        cuts.dedup();
        for cut in cuts {
            let what = format!("{layout} cut at {cut} of {}", file.len());
            let (path, r) = decode(dir.path(), "cut.mp4", &file[..cut], Ffmpeg::Never);
            assert_handled(&path, &r, &what);
            assert!(r.is_err(), "{what}: decoded");
        }
    }
}

/// One change to a file: a byte flipped, a 32-bit value set, or the file cut.
#[derive(Debug, Clone)]
enum Damage {
    /// `byte ^= mask` at this fraction of the moov box (or of the file: `in_moov == false`).
    Flip { in_moov: bool, at: f64, mask: u8 },
    /// A big-endian `u32` written at this fraction of the moov box.
    Set { at: f64, value: u32 },
    /// The file cut to this fraction of its length.
    Cut { at: f64 },
}

fn damage() -> impl Strategy<Value = Damage> {
    let value = prop_oneof![
        Just(0u32),
        Just(1),
        Just(0x7fff_ffff),
        Just(0x8000_0000),
        Just(u32::MAX),
        any::<u32>(),
    ];
    prop_oneof![
        4 => (any::<bool>(), 0.0..1.0f64, 1..=255u8)
            .prop_map(|(in_moov, at, mask)| Damage::Flip { in_moov, at, mask }),
        4 => (0.0..1.0f64, value).prop_map(|(at, value)| Damage::Set { at, value }),
        1 => (0.0..1.0f64).prop_map(|at| Damage::Cut { at }),
    ]
}

fn apply(file: &[u8], damages: &[Damage]) -> Vec<u8> {
    let moov = boxes(file).into_iter().find(|b| b.path == "moov").unwrap();
    let mut x = file.to_vec();
    let in_moov =
        |at: f64, len: usize| moov.start + ((moov.end - moov.start - len) as f64 * at) as usize;
    for d in damages {
        match *d {
            Damage::Flip {
                in_moov: true,
                at,
                mask,
            } => {
                let i = in_moov(at, 1);
                if i < x.len() {
                    x[i] ^= mask;
                }
            }
            Damage::Flip {
                in_moov: false,
                at,
                mask,
            } => {
                let i = ((x.len() - 1) as f64 * at) as usize;
                x[i] ^= mask;
            }
            Damage::Set { at, value } => {
                let i = in_moov(at, 4);
                if i + 4 <= x.len() {
                    set32(&mut x, i, value);
                }
            }
            Damage::Cut { at } => {
                let n = (x.len() as f64 * at) as usize;
                x.truncate(n);
            }
        }
    }
    x
}

proptest! {
    // Bounded so that CI stays fast (PROPTEST_CASES overrides it for a longer search).
    #![proptest_config(ProptestConfig {
        cases: 96,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Any one to four changes to either layout: features or an error naming the file, never
    /// a panic, an abort or the time limit (the built-in path).
    #[test]
    fn random_damage_is_handled(faststart in any::<bool>(), damages in prop::collection::vec(damage(), 1..=4)) {
        let dir = tempfile::tempdir().unwrap();
        let d = fixture();
        let file = if faststart { fast_start(&d) } else { d };
        let x = apply(&file, &damages);
        let (path, r) = decode(dir.path(), "random.mp4", &x, Ffmpeg::Never);
        assert_handled(&path, &r, &format!("{damages:?}"));
    }
}
