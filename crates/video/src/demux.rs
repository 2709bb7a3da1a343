//! A validating demuxer for MP4 (ISO base media) files: the boxes the built-in decoder reads,
//! and nothing trusted before it is checked.
//!
//! It reads the top-level boxes' headers (seeking past `mdat`), the `moov` box whole (only as
//! many bytes as the file holds, at most [`MAX_MOOV`]) and, in it, for every track `tkhd`
//! (its id) and `mdia`/`hdlr` (its kind); for the video track it reads
//! `mdia`/`mdhd` (timescale, duration), `minf`/`stbl`/`stsd` (the first sample entry: codec,
//! size and, for H.264, `avcC`), `stts`, `ctts`, `stsc`, `stsz`, `stco`/`co64`. It does not
//! read `stss` (every sample is decoded), `elst` (times count from the first frame shown) or
//! `dref` (the samples are taken to be in the file).
//!
//! Checks, each a [`DemuxError::Malformed`] naming the box and the value:
//! - every box fits in its parent and the file (a box that runs past the end of the file is
//!   a truncated file); the `moov` box exists;
//! - every table's entry count fits in its box's bytes; `stsc` starts at chunk 1, its chunks
//!   increase and hold at least one sample each; a uniform sample size times the sample count
//!   fits in the file;
//! - the time (`stts`, `ctts`) and chunk (`stsc`, `stco`) tables cover every sample of `stsz`,
//!   and every sample's bytes lie inside the file and within a bound set by the frame size;
//! - the media timescale is non-zero; the samples span at most [`MAX_SECONDS`], their
//!   durations add up to no more than twice the media header's duration (plus one second)
//!   and their composition offsets keep them within twice the track's duration.
//!
//! No allocation is sized from a declared count: tables are copied from the bytes of the
//! `moov` box and walked lazily ([`Samples`]), so memory is the `moov` box plus one sample.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

/// The largest `moov` box read (64 MiB: the index of a day of 30 fps video is a few MiB).
pub(crate) const MAX_MOOV: u64 = 64 << 20;

/// The longest video the built-in decoder accepts, in seconds (24 h).
pub(crate) const MAX_SECONDS: u64 = 24 * 3600;

/// The largest frame side accepted, in pixels.
pub(crate) const MAX_SIDE: u64 = 16384;

/// Why a file gave no video track.
#[derive(Debug)]
pub(crate) enum DemuxError {
    /// A value the file declares fails a check: the file is damaged.
    Malformed(String),
    /// A valid file this demuxer does not read (fragmented, an oversized `moov`, ...).
    Unsupported(String),
    /// Reading the file failed.
    Io(std::io::Error),
    /// The caller asked to stop.
    Cancelled,
}

type Result<T> = std::result::Result<T, DemuxError>;

fn bad<T>(message: impl Into<String>) -> Result<T> {
    Err(DemuxError::Malformed(message.into()))
}

impl From<std::io::Error> for DemuxError {
    fn from(e: std::io::Error) -> Self {
        DemuxError::Io(e)
    }
}

/// A box type as text: its four characters, non-printable bytes escaped.
pub(crate) fn fourcc(kind: [u8; 4]) -> String {
    kind.iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                (b as char).to_string()
            } else {
                format!("\\x{b:02x}")
            }
        })
        .collect()
}

/// A duration in words: seconds, hours or days.
pub(crate) fn human_seconds(s: f64) -> String {
    if s < 120.0 {
        format!("{s:.2} s")
    } else if s < 48.0 * 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.1} days", s / 86400.0)
    }
}

/// Big-endian `u32` at `at`; 0 past the end (callers index only what was checked).
fn be32(b: &[u8], at: usize) -> u32 {
    match b.get(at..at.saturating_add(4)) {
        Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]),
        _ => 0,
    }
}

/// Big-endian `u64` at `at`; 0 past the end.
fn be64(b: &[u8], at: usize) -> u64 {
    (u64::from(be32(b, at)) << 32) | u64::from(be32(b, at.saturating_add(4)))
}

/// Reads fields of a box's payload in order, each checked against the payload's length.
struct Fields<'a> {
    data: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Fields<'a> {
    fn new(data: &'a [u8], what: &'static str) -> Self {
        Self { data, pos: 0, what }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        match self.data.get(self.pos..self.pos.saturating_add(n)) {
            Some(s) => {
                self.pos += n;
                Ok(s)
            }
            None => bad(format!(
                "the {} box is {} bytes, too short for its fields",
                self.what,
                self.data.len()
            )),
        }
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(be32(self.take(4)?, 0))
    }

    fn u64(&mut self) -> Result<u64> {
        Ok(be64(self.take(8)?, 0))
    }

    fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or_default()
    }

    /// A table of `count` entries of `size` bytes: the rest of the box must hold them.
    fn table(&mut self, count: u32, size: usize, what: &str) -> Result<Vec<u8>> {
        let need = count as u64 * size as u64;
        let have = self.rest().len() as u64;
        if need > have {
            return bad(format!(
                "{what} declares {count} entries ({need} bytes), its box holds {have} bytes"
            ));
        }
        Ok(self.take(need as usize)?.to_vec())
    }
}

/// A box inside a parent's payload.
struct Child<'a> {
    kind: [u8; 4],
    body: &'a [u8],
}

/// The boxes of a payload, each checked to fit in it. Up to 7 trailing bytes (too few for a
/// box header; some writers pad with zeros) are ignored.
fn children<'a>(data: &'a [u8], parent: &str) -> Result<Vec<Child<'a>>> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while data.len() - pos >= 8 {
        let rest = &data[pos..];
        let size32 = be32(rest, 0);
        let kind = [rest[4], rest[5], rest[6], rest[7]];
        let (header, size) = match size32 {
            0 => (8usize, rest.len() as u64),
            1 => {
                if rest.len() < 16 {
                    return bad(format!(
                        "box {} in {parent} has a truncated 64-bit size",
                        fourcc(kind)
                    ));
                }
                (16, be64(rest, 8))
            }
            n => (8, u64::from(n)),
        };
        if size < header as u64 || size > rest.len() as u64 {
            return bad(format!(
                "box {} in {parent} declares {size} bytes, but {} has {} bytes left",
                fourcc(kind),
                parent,
                rest.len()
            ));
        }
        out.push(Child {
            kind,
            body: &rest[header..size as usize],
        });
        pos += size as usize;
    }
    Ok(out)
}

/// The first child of type `kind`.
fn find<'a, 'b>(boxes: &'b [Child<'a>], kind: &[u8; 4]) -> Option<&'b Child<'a>> {
    boxes.iter().find(|b| &b.kind == kind)
}

/// The first child of type `kind`, which must exist.
fn need<'a, 'b>(boxes: &'b [Child<'a>], kind: &[u8; 4], parent: &str) -> Result<&'b Child<'a>> {
    find(boxes, kind)
        .ok_or_else(|| DemuxError::Malformed(format!("{parent} has no {} box", fourcc(*kind))))
}

/// The H.264 decoder configuration (`avcC`).
#[derive(Debug, Clone)]
pub(crate) struct AvcConfig {
    /// Bytes of each NAL unit's length prefix (1, 2 or 4).
    pub length_size: usize,
    /// Sequence parameter sets.
    pub sps: Vec<Vec<u8>>,
    /// Picture parameter sets.
    pub pps: Vec<Vec<u8>>,
}

fn parse_avcc(body: &[u8]) -> Result<AvcConfig> {
    let mut f = Fields::new(body, "avcC");
    let version = f.u8()?;
    if version != 1 {
        return bad(format!("avcC has configuration version {version}, not 1"));
    }
    f.take(3)?; // profile, compatibility, level: the SPS says the same
    let length_size = (f.u8()? & 3) as usize + 1;
    if length_size == 3 {
        return bad("avcC declares NAL unit lengths of 3 bytes (1, 2 or 4 are valid)");
    }
    let n_sps = (f.u8()? & 0x1f) as usize;
    let sps = parameter_sets(&mut f, n_sps)?;
    let n_pps = f.u8()? as usize;
    let pps = parameter_sets(&mut f, n_pps)?;
    Ok(AvcConfig {
        length_size,
        sps,
        pps,
    })
}

/// `count` parameter sets, each a 16-bit length and its bytes.
fn parameter_sets(f: &mut Fields<'_>, count: usize) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for _ in 0..count {
        let len = f.u16()? as usize;
        out.push(f.take(len)?.to_vec());
    }
    Ok(out)
}

/// The sample tables of a track, copied from its `stbl` box (each as many bytes as its
/// entries, checked against the box).
#[derive(Debug, Clone)]
pub(crate) struct SampleTables {
    /// Samples (`stsz`).
    pub count: u32,
    /// The size of every sample, or 0 when `sizes` lists them.
    uniform_size: u32,
    /// 4 bytes per sample (when `uniform_size == 0`).
    sizes: Vec<u8>,
    /// `stts`: 8 bytes per entry (sample count, delta).
    stts: Vec<u8>,
    /// `ctts`: 8 bytes per entry (sample count, signed offset).
    ctts: Option<Vec<u8>>,
    /// `stsc`: 12 bytes per entry (first chunk, samples per chunk, description).
    stsc: Vec<u8>,
    /// `stco` (4 bytes per chunk) or `co64` (8).
    chunk_offsets: Vec<u8>,
    /// 4 or 8.
    offset_size: usize,
}

/// One sample, as the tables place it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sample {
    /// 1-based.
    pub number: u32,
    /// Byte offset in the file.
    pub offset: u64,
    /// Bytes.
    pub size: u32,
    /// Presentation time (decode time plus composition offset), in timescale units.
    pub pts: i128,
    /// Duration in timescale units.
    pub duration: u32,
}

/// The samples of a track in decode order, walked through its tables without allocating;
/// an item is an error when the tables run out or a sample lies outside the file.
pub(crate) struct Samples<'a> {
    t: &'a SampleTables,
    file_size: u64,
    max_size: u32,
    next: u32,
    dts: u128,
    stts_i: usize,
    stts_left: u32,
    delta: u32,
    ctts_i: usize,
    ctts_left: u32,
    cto: i32,
    chunk: usize,
    stsc_i: usize,
    chunk_left: u32,
    pos: u64,
}

impl Samples<'_> {
    /// The sum of the durations of the samples given so far.
    pub(crate) fn decode_end(&self) -> u128 {
        self.dts
    }

    fn step(&mut self) -> std::result::Result<Sample, String> {
        let t = self.t;
        let i = self.next as usize;
        let size = if t.uniform_size != 0 {
            t.uniform_size
        } else {
            be32(&t.sizes, 4 * i)
        };
        while self.stts_left == 0 {
            if self.stts_i >= t.stts.len() / 8 {
                return Err(format!(
                    "the time-to-sample table (stts) covers {i} of the {} samples the sample \
                     size table (stsz) declares",
                    t.count
                ));
            }
            self.stts_left = be32(&t.stts, 8 * self.stts_i);
            self.delta = be32(&t.stts, 8 * self.stts_i + 4);
            self.stts_i += 1;
        }
        self.stts_left -= 1;
        if let Some(ctts) = &t.ctts {
            while self.ctts_left == 0 {
                if self.ctts_i >= ctts.len() / 8 {
                    return Err(format!(
                        "the composition offset table (ctts) covers {i} of the {} samples the \
                         sample size table (stsz) declares",
                        t.count
                    ));
                }
                self.ctts_left = be32(ctts, 8 * self.ctts_i);
                self.cto = be32(ctts, 8 * self.ctts_i + 4) as i32;
                self.ctts_i += 1;
            }
            self.ctts_left -= 1;
        }
        while self.chunk_left == 0 {
            if self.chunk >= t.chunk_offsets.len() / t.offset_size {
                return Err(format!(
                    "the chunk tables (stsc, stco) place {i} of the {} samples the sample size \
                     table (stsz) declares",
                    t.count
                ));
            }
            let number = self.chunk as u64 + 1;
            let entries = t.stsc.len() / 12;
            while self.stsc_i + 1 < entries
                && u64::from(be32(&t.stsc, 12 * (self.stsc_i + 1))) <= number
            {
                self.stsc_i += 1;
            }
            self.chunk_left = be32(&t.stsc, 12 * self.stsc_i + 4);
            self.pos = if t.offset_size == 8 {
                be64(&t.chunk_offsets, 8 * self.chunk)
            } else {
                u64::from(be32(&t.chunk_offsets, 4 * self.chunk))
            };
            self.chunk += 1;
        }
        self.chunk_left -= 1;
        let number = self.next + 1;
        let end = self.pos.saturating_add(u64::from(size));
        if end > self.file_size {
            return Err(format!(
                "sample {number} of {} (bytes {}..{end}) lies past the end of the file \
                 ({} bytes): the file is truncated or its chunk offsets are damaged",
                t.count, self.pos, self.file_size
            ));
        }
        if size > self.max_size {
            return Err(format!(
                "sample {number} declares {size} bytes, more than the {} bytes a frame of \
                 this size can take",
                self.max_size
            ));
        }
        let sample = Sample {
            number,
            offset: self.pos,
            size,
            pts: self.dts as i128 + i128::from(self.cto),
            duration: self.delta,
        };
        self.pos = end;
        self.dts += u128::from(self.delta);
        self.next += 1;
        Ok(sample)
    }
}

impl Iterator for Samples<'_> {
    type Item = std::result::Result<Sample, String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.t.count {
            return None;
        }
        let r = self.step();
        if r.is_err() {
            // One error ends the walk.
            self.next = self.t.count;
        }
        Some(r)
    }
}

/// The video track the decoder reads.
#[derive(Debug, Clone)]
pub(crate) struct VideoTrack {
    /// Its sample entry's type (`avc1`, `hvc1`, ...).
    pub codec: [u8; 4],
    /// Size declared by the sample entry.
    pub width: u16,
    /// Size declared by the sample entry.
    pub height: u16,
    /// For `avc1` / `avc3`: the decoder configuration.
    pub avcc: Option<AvcConfig>,
    /// Time units per second (non-zero).
    pub timescale: u32,
    /// The media header's duration (0 or all ones: unknown).
    pub media_duration: u64,
    /// The sample tables.
    pub tables: SampleTables,
    /// The file's size in bytes.
    pub file_size: u64,
}

/// The times of a track's samples, once all are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timing {
    /// The earliest presentation time (times count from it).
    pub first_pts: i128,
    /// From the first presentation time to the end of the last frame, in timescale units
    /// (at most [`MAX_SECONDS`]).
    pub span: u64,
}

impl VideoTrack {
    /// Whether the track is H.264.
    pub(crate) fn is_h264(&self) -> bool {
        &self.codec == b"avc1" || &self.codec == b"avc3"
    }

    /// The samples in decode order, none larger than `max_size` bytes.
    pub(crate) fn samples(&self, max_size: u32) -> Samples<'_> {
        Samples {
            t: &self.tables,
            file_size: self.file_size,
            max_size,
            next: 0,
            dts: 0,
            stts_i: 0,
            stts_left: 0,
            delta: 0,
            ctts_i: 0,
            ctts_left: 0,
            cto: 0,
            chunk: 0,
            stsc_i: 0,
            chunk_left: 0,
            pos: 0,
        }
    }

    /// Walks every sample once and checks the tables against each other, the file and the
    /// time bounds (see the module docs). `cancelled` is asked now and then.
    pub(crate) fn check(&self, max_size: u32, cancelled: &dyn Fn() -> bool) -> Result<Timing> {
        let ts = i128::from(self.timescale);
        let mut first = i128::MAX;
        let mut end = i128::MIN;
        let mut samples = self.samples(max_size);
        let mut k = 0u32;
        for s in samples.by_ref() {
            let s = s.map_err(DemuxError::Malformed)?;
            first = first.min(s.pts);
            end = end.max(s.pts + i128::from(s.duration));
            k = k.wrapping_add(1);
            if k.is_multiple_of(4096) && cancelled() {
                return Err(DemuxError::Cancelled);
            }
        }
        if self.tables.count == 0 {
            return bad("the video track has no samples");
        }
        let span = end - first;
        let max = i128::from(MAX_SECONDS) * ts;
        if span > max {
            return bad(format!(
                "its {} samples span {} (timescale {}/s), more than the {} h a video may last",
                self.tables.count,
                human_seconds(span as f64 / ts as f64),
                self.timescale,
                MAX_SECONDS / 3600
            ));
        }
        let sum = samples.decode_end() as i128;
        let known = |d: u64| d != 0 && d != u64::from(u32::MAX) && d != u64::MAX;
        let mut duration = sum;
        if known(self.media_duration) {
            let declared = i128::from(self.media_duration);
            if sum > 2 * declared + ts {
                return bad(format!(
                    "the sample durations (stts) add up to {}, the media header (mdhd) says {}",
                    human_seconds(sum as f64 / ts as f64),
                    human_seconds(declared as f64 / ts as f64)
                ));
            }
            duration = duration.max(declared);
        }
        if span > 2 * duration + ts {
            return bad(format!(
                "the composition offsets (ctts) spread the frames over {}, the samples last {}",
                human_seconds(span as f64 / ts as f64),
                human_seconds(duration as f64 / ts as f64)
            ));
        }
        Ok(Timing {
            first_pts: first,
            span: span as u64,
        })
    }
}

/// What the demuxer found.
#[derive(Debug)]
pub(crate) enum Movie {
    /// A video track (the first H.264 one by track id, else the first video track).
    Video(Box<VideoTrack>),
    /// No track whose handler is `vide`.
    NoVideoTrack,
    /// A fragmented MP4 (`moof` boxes): the samples are not in `moov`'s tables.
    Fragmented,
}

/// Reads the box structure of `file` (`file_size` bytes) and its video track.
pub(crate) fn open(file: &mut File, file_size: u64, cancelled: &dyn Fn() -> bool) -> Result<Movie> {
    let mut pos = 0u64;
    let mut moov: Option<Vec<u8>> = None;
    let mut fragmented = false;
    let mut seen_mdat = false;
    let mut boxes = 0u64;
    while pos < file_size {
        boxes += 1;
        if boxes.is_multiple_of(4096) && cancelled() {
            return Err(DemuxError::Cancelled);
        }
        let left = file_size - pos;
        if left < 8 {
            if moov.is_some() {
                break;
            }
            return bad(format!(
                "the file ends {left} bytes after byte {pos}, inside a box header: the file \
                 is truncated"
            ));
        }
        file.seek(SeekFrom::Start(pos))?;
        let mut head = [0u8; 16];
        file.read_exact(&mut head[..8])?;
        let kind = [head[4], head[5], head[6], head[7]];
        let (header, size) = match be32(&head, 0) {
            0 => (8u64, left),
            1 => {
                if left < 16 {
                    return bad(format!(
                        "box {} at byte {pos} has a truncated 64-bit size",
                        fourcc(kind)
                    ));
                }
                file.read_exact(&mut head[8..16])?;
                (16, be64(&head, 8))
            }
            n => (8, u64::from(n)),
        };
        let essential = matches!(&kind, b"moov" | b"mdat" | b"moof") || moov.is_none();
        if size < header || size > left {
            if !essential {
                // Trailing bytes after the index that are no box: ignored.
                break;
            }
            return bad(format!(
                "box {} at byte {pos} declares {size} bytes, but the file ends {left} bytes \
                 after its start: the file is truncated or damaged",
                fourcc(kind)
            ));
        }
        match &kind {
            b"moov" if moov.is_none() => {
                let len = size - header;
                if len > MAX_MOOV {
                    return Err(DemuxError::Unsupported(format!(
                        "its moov box is {len} bytes, more than the {} MiB the built-in demuxer \
                         reads",
                        MAX_MOOV >> 20
                    )));
                }
                // `len` fits in the file (checked above) and in MAX_MOOV.
                let mut data = vec![0u8; len as usize];
                file.read_exact(&mut data)?;
                moov = Some(data);
            }
            b"moof" => fragmented = true,
            b"mdat" => seen_mdat = true,
            _ => {}
        }
        pos += size;
    }
    let Some(moov) = moov else {
        return bad(if seen_mdat {
            "no moov box (the index of the samples) after the media data: the file is \
             truncated (an incomplete download or recording?)"
        } else {
            "no moov box (the index of the samples)"
        });
    };
    parse_moov(&moov, file_size, fragmented)
}

/// A `trak` box, read as far as choosing the video track needs.
struct TrakInfo<'a> {
    id: u32,
    video: bool,
    mdia: Vec<Child<'a>>,
}

fn parse_moov(moov: &[u8], file_size: u64, fragmented: bool) -> Result<Movie> {
    let boxes = children(moov, "moov")?;
    let fragmented = fragmented || find(&boxes, b"mvex").is_some();
    let mut traks = Vec::new();
    for b in boxes.iter().filter(|b| &b.kind == b"trak") {
        let kids = children(b.body, "trak")?;
        let tkhd = need(&kids, b"tkhd", "trak")?;
        let mut f = Fields::new(tkhd.body, "tkhd");
        let version = f.u8()?;
        f.take(3)?;
        let id = match version {
            0 => {
                f.take(8)?;
                f.u32()?
            }
            1 => {
                f.take(16)?;
                f.u32()?
            }
            v => return bad(format!("tkhd has version {v} (0 or 1 are defined)")),
        };
        let mdia = children(need(&kids, b"mdia", "trak")?.body, "mdia")?;
        let hdlr = need(&mdia, b"hdlr", "mdia")?;
        let mut f = Fields::new(hdlr.body, "hdlr");
        f.take(8)?;
        let handler = f.take(4)?;
        traks.push(TrakInfo {
            id,
            video: handler == b"vide",
            mdia,
        });
    }
    traks.retain(|t| t.video);
    traks.sort_by_key(|t| t.id);
    if traks.is_empty() {
        return Ok(if fragmented {
            Movie::Fragmented
        } else {
            Movie::NoVideoTrack
        });
    }
    // The first H.264 video track, else the first video track.
    let mut chosen = None;
    for (i, t) in traks.iter().enumerate() {
        let codec = sample_entry_type(&t.mdia)?;
        if &codec == b"avc1" || &codec == b"avc3" {
            chosen = Some(i);
            break;
        }
    }
    let trak = &traks[chosen.unwrap_or(0)];
    let track = parse_video_track(&trak.mdia, file_size)?;
    if track.tables.count == 0 && fragmented {
        return Ok(Movie::Fragmented);
    }
    Ok(Movie::Video(Box::new(track)))
}

/// The `stbl` box's children of a track's `mdia` children.
fn stbl<'a>(mdia: &[Child<'a>]) -> Result<Vec<Child<'a>>> {
    let minf = children(need(mdia, b"minf", "mdia")?.body, "minf")?;
    children(need(&minf, b"stbl", "minf")?.body, "stbl")
}

/// The first sample entry of a track's `stsd` box: its type and its body.
fn sample_entry<'a>(stbl: &[Child<'a>]) -> Result<([u8; 4], &'a [u8])> {
    let stsd = need(stbl, b"stsd", "stbl")?;
    let mut f = Fields::new(stsd.body, "stsd");
    f.take(4)?;
    let count = f.u32()?;
    if count == 0 {
        return bad("the sample description box (stsd) has no entries");
    }
    let entries = children(f.rest(), "stsd")?;
    let first = entries
        .first()
        .ok_or_else(|| DemuxError::Malformed("stsd declares entries but holds none".into()))?;
    Ok((first.kind, first.body))
}

fn sample_entry_type(mdia: &[Child<'_>]) -> Result<[u8; 4]> {
    Ok(sample_entry(&stbl(mdia)?)?.0)
}

fn parse_video_track(mdia: &[Child<'_>], file_size: u64) -> Result<VideoTrack> {
    let mdhd = need(mdia, b"mdhd", "mdia")?;
    let mut f = Fields::new(mdhd.body, "mdhd");
    let version = f.u8()?;
    f.take(3)?;
    let (timescale, media_duration) = match version {
        0 => {
            f.take(8)?;
            (f.u32()?, u64::from(f.u32()?))
        }
        1 => {
            f.take(16)?;
            (f.u32()?, f.u64()?)
        }
        v => return bad(format!("mdhd has version {v} (0 or 1 are defined)")),
    };
    if timescale == 0 {
        return bad("the media header (mdhd) declares a timescale of 0 units per second");
    }
    let stbl = stbl(mdia)?;
    let (codec, entry) = sample_entry(&stbl)?;
    // A visual sample entry: 78 bytes of fields (width and height at 24 and 26), then boxes.
    let mut f = Fields::new(entry, "visual sample entry");
    f.take(24)?;
    let width = f.u16()?;
    let height = f.u16()?;
    f.take(50)?;
    let avcc = if &codec == b"avc1" || &codec == b"avc3" {
        let kids = children(f.rest(), "avc1")?;
        Some(parse_avcc(
            need(&kids, b"avcC", "the avc1 sample entry")?.body,
        )?)
    } else {
        None
    };

    let stsz = find(&stbl, b"stsz");
    let Some(stsz) = stsz else {
        if find(&stbl, b"stz2").is_some() {
            return Err(DemuxError::Unsupported(
                "compact sample sizes (stz2) are not read by the built-in demuxer".into(),
            ));
        }
        return bad("stbl has no sample size box (stsz)");
    };
    let mut f = Fields::new(stsz.body, "stsz");
    f.take(4)?;
    let uniform_size = f.u32()?;
    let count = f.u32()?;
    let sizes = if uniform_size == 0 {
        f.table(count, 4, "the sample size table (stsz)")?
    } else {
        if u128::from(uniform_size) * u128::from(count) > u128::from(file_size) {
            return bad(format!(
                "the sample size table (stsz) declares {count} samples of {uniform_size} bytes, \
                 more than the file's {file_size} bytes"
            ));
        }
        Vec::new()
    };

    let mut f = Fields::new(need(&stbl, b"stts", "stbl")?.body, "stts");
    f.take(4)?;
    let n = f.u32()?;
    let stts = f.table(n, 8, "the time-to-sample table (stts)")?;

    let ctts = match find(&stbl, b"ctts") {
        Some(b) => {
            let mut f = Fields::new(b.body, "ctts");
            f.take(4)?;
            let n = f.u32()?;
            Some(f.table(n, 8, "the composition offset table (ctts)")?)
        }
        None => None,
    };

    let mut f = Fields::new(need(&stbl, b"stsc", "stbl")?.body, "stsc");
    f.take(4)?;
    let n = f.u32()?;
    let stsc = f.table(n, 12, "the sample-to-chunk table (stsc)")?;
    let mut previous = 0u32;
    for e in 0..stsc.len() / 12 {
        let first = be32(&stsc, 12 * e);
        let per_chunk = be32(&stsc, 12 * e + 4);
        if e == 0 && first != 1 {
            return bad(format!(
                "the sample-to-chunk table (stsc) starts at chunk {first}, not 1"
            ));
        }
        if e > 0 && first <= previous {
            return bad(format!(
                "the sample-to-chunk table (stsc) goes back from chunk {previous} to {first}"
            ));
        }
        if per_chunk == 0 {
            return bad(format!(
                "the sample-to-chunk table (stsc) puts 0 samples in chunk {first}"
            ));
        }
        previous = first;
    }

    let (chunk_offsets, offset_size) = if let Some(b) = find(&stbl, b"stco") {
        let mut f = Fields::new(b.body, "stco");
        f.take(4)?;
        let n = f.u32()?;
        (f.table(n, 4, "the chunk offset table (stco)")?, 4)
    } else if let Some(b) = find(&stbl, b"co64") {
        let mut f = Fields::new(b.body, "co64");
        f.take(4)?;
        let n = f.u32()?;
        (f.table(n, 8, "the chunk offset table (co64)")?, 8)
    } else {
        return bad("stbl has no chunk offset box (stco or co64)");
    };

    Ok(VideoTrack {
        codec,
        width,
        height,
        avcc,
        timescale,
        media_duration,
        tables: SampleTables {
            count,
            uniform_size,
            sizes,
            stts,
            ctts,
            stsc,
            chunk_offsets,
            offset_size,
        },
        file_size,
    })
}
