//! What the built-in decoder needs to know of an H.264 stream: the format its sequence
//! parameter set declares (to send the profiles OpenH264 does not decode elsewhere), and the
//! conversion of MP4 samples to the Annex B byte stream OpenH264 reads.

use crate::demux::AvcConfig;

/// The picture format of a sequence parameter set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Format {
    /// `profile_idc`.
    pub profile: u8,
    /// `constraint_set3_flag` (the Intra variants of the High profiles).
    pub constraint3: bool,
    /// 0 = monochrome, 1 = 4:2:0, 2 = 4:2:2, 3 = 4:4:4.
    pub chroma_format: u32,
    /// Bits per luma sample.
    pub bit_depth_luma: u32,
    /// Bits per chroma sample.
    pub bit_depth_chroma: u32,
    /// Whether every picture is a frame (no field or MBAFF coding).
    pub frame_mbs_only: bool,
    /// Coded width in pixels (macroblocks × 16).
    pub width: u64,
    /// Coded height in pixels.
    pub height: u64,
}

impl Format {
    /// The profile's name.
    pub(crate) fn profile_name(&self) -> String {
        let name = match (self.profile, self.constraint3) {
            (66, _) => "Baseline",
            (77, _) => "Main",
            (88, _) => "Extended",
            (100, _) => "High",
            (110, false) => "High 10",
            (110, true) => "High 10 Intra",
            (122, false) => "High 4:2:2",
            (122, true) => "High 4:2:2 Intra",
            (244, false) => "High 4:4:4 Predictive",
            (244, true) => "High 4:4:4 Intra",
            (44, _) => "CAVLC 4:4:4 Intra",
            (83, _) => "Scalable Baseline",
            (86, _) => "Scalable High",
            (118, _) => "Multiview High",
            (128, _) => "Stereo High",
            (p, _) => return format!("profile_idc {p}"),
        };
        name.to_string()
    }

    /// Why OpenH264 does not decode this format (it decodes the Baseline, Main and High
    /// profiles' progressive 8-bit 4:2:0 pictures), or `None` when it does.
    pub(crate) fn unsupported(&self) -> Option<String> {
        let chroma = match self.chroma_format {
            0 => "4:0:0",
            1 => "4:2:0",
            2 => "4:2:2",
            _ => "4:4:4",
        };
        let known = matches!(self.profile, 66 | 77 | 100 | 110 | 122 | 244);
        let mut why = Vec::new();
        if !known {
            why.push("a profile it does not implement".to_string());
        }
        if self.bit_depth_luma != 8 || self.bit_depth_chroma != 8 {
            why.push(format!("{}-bit samples", self.bit_depth_luma));
        }
        if self.chroma_format != 1 {
            why.push(format!("{chroma} chroma"));
        }
        if !self.frame_mbs_only {
            why.push("interlaced coding".to_string());
        }
        if why.is_empty() {
            None
        } else {
            Some(format!(
                "{} profile ({})",
                self.profile_name(),
                why.join(", ")
            ))
        }
    }
}

/// Reads bits of an RBSP (emulation prevention bytes removed), most significant first.
struct Bits {
    data: Vec<u8>,
    pos: usize,
}

impl Bits {
    fn new(nal: &[u8]) -> Self {
        // Drop each 0x03 that follows two zero bytes.
        let mut data = Vec::with_capacity(nal.len());
        let mut zeros = 0;
        for &b in nal {
            if zeros >= 2 && b == 3 {
                zeros = 0;
                continue;
            }
            zeros = if b == 0 { zeros + 1 } else { 0 };
            data.push(b);
        }
        Self { data, pos: 0 }
    }

    fn bit(&mut self) -> Option<u32> {
        let byte = *self.data.get(self.pos / 8)?;
        let b = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Some(u32::from(b))
    }

    fn bits(&mut self, n: u32) -> Option<u32> {
        let mut v = 0;
        for _ in 0..n {
            v = (v << 1) | self.bit()?;
        }
        Some(v)
    }

    /// Unsigned Exp-Golomb (at most 32 bits of value).
    fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        let rest = self.bits(zeros)?;
        Some(((1u64 << zeros) - 1 + u64::from(rest)).min(u64::from(u32::MAX)) as u32)
    }

    /// Signed Exp-Golomb.
    fn se(&mut self) -> Option<i64> {
        let k = i64::from(self.ue()?);
        Some(if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) })
    }
}

/// The format of a sequence parameter set NAL unit (header byte included), or `None` when it
/// cannot be read (then the decoder decides).
pub(crate) fn parse_sps(nal: &[u8]) -> Option<Format> {
    if nal.first()? & 0x1f != 7 {
        return None;
    }
    let mut r = Bits::new(nal.get(1..)?);
    let profile = r.bits(8)? as u8;
    let constraints = r.bits(8)?;
    let _level = r.bits(8)?;
    let _id = r.ue()?;
    let (mut chroma_format, mut depth_luma, mut depth_chroma) = (1, 8, 8);
    if matches!(
        profile,
        100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135
    ) {
        chroma_format = r.ue()?;
        if chroma_format > 3 {
            return None;
        }
        if chroma_format == 3 {
            let _separate_planes = r.bit()?;
        }
        depth_luma = r.ue()?.checked_add(8)?;
        depth_chroma = r.ue()?.checked_add(8)?;
        let _bypass = r.bit()?;
        if r.bit()? == 1 {
            // Scaling lists: read to skip them.
            let lists = if chroma_format == 3 { 12 } else { 8 };
            for i in 0..lists {
                if r.bit()? == 1 {
                    let size = if i < 6 { 16 } else { 64 };
                    let (mut last, mut next) = (8i64, 8i64);
                    for _ in 0..size {
                        if next != 0 {
                            next = (last + r.se()? + 256).rem_euclid(256);
                        }
                        if next != 0 {
                            last = next;
                        }
                    }
                }
            }
        }
    }
    let _log2_max_frame_num = r.ue()?;
    match r.ue()? {
        0 => {
            let _log2_max_poc_lsb = r.ue()?;
        }
        1 => {
            let _always_zero = r.bit()?;
            let _non_ref = r.se()?;
            let _top_bottom = r.se()?;
            let cycle = r.ue()?;
            if cycle > 255 {
                return None;
            }
            for _ in 0..cycle {
                r.se()?;
            }
        }
        2 => {}
        _ => return None,
    }
    let _refs = r.ue()?;
    let _gaps = r.bit()?;
    let width_mbs = u64::from(r.ue()?) + 1;
    let height_units = u64::from(r.ue()?) + 1;
    let frame_mbs_only = r.bit()? == 1;
    Some(Format {
        profile,
        constraint3: constraints & 0x10 != 0,
        chroma_format,
        bit_depth_luma: depth_luma,
        bit_depth_chroma: depth_chroma,
        frame_mbs_only,
        width: width_mbs * 16,
        height: height_units * 16 * if frame_mbs_only { 1 } else { 2 },
    })
}

/// MP4 samples (length-prefixed NAL units, parameter sets in the `avcC` box) to the Annex B
/// byte stream OpenH264 reads (start codes, parameter sets in band).
pub(crate) struct AnnexB {
    length_size: usize,
    parameter_sets: Vec<u8>,
    sent_parameter_sets: bool,
}

impl AnnexB {
    pub(crate) fn new(avcc: &AvcConfig) -> Self {
        let mut parameter_sets = Vec::new();
        for nal in avcc.sps.iter().chain(&avcc.pps) {
            parameter_sets.extend_from_slice(&[0, 0, 0, 1]);
            parameter_sets.extend_from_slice(nal);
        }
        Self {
            length_size: avcc.length_size,
            parameter_sets,
            sent_parameter_sets: false,
        }
    }

    /// One sample to Annex B in `out` (cleared first).
    pub(crate) fn convert(&mut self, mut packet: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
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
