//! Nearest-timestamp resampling to a constant frame rate, one frame at a time.

use crate::Frame;

/// Emits, for every output time `k / fps`, the pushed frame whose presentation time is
/// nearest (the earlier on a tie). Times are exact rationals `pts / timescale`.
pub(crate) struct Resampler {
    fps: u128,
    timescale: u128,
    next: u128,
    prev: Option<(u64, Frame)>,
}

impl Resampler {
    pub(crate) fn new(fps: u32, timescale: u32) -> Self {
        Self {
            fps: fps as u128,
            timescale: timescale.max(1) as u128,
            next: 0,
            prev: None,
        }
    }

    /// A frame presented at `pts` (in `1 / timescale` s; frames in presentation order).
    pub(crate) fn push(&mut self, pts: u64, frame: Frame, emit: &mut impl FnMut(Frame)) {
        if let Some((prev_pts, prev)) = &self.prev {
            // k / fps <= (prev_pts + pts) / (2 timescale)
            let mid = (*prev_pts as u128 + pts as u128) * self.fps;
            while 2 * self.next * self.timescale <= mid {
                emit(prev.clone());
                self.next += 1;
            }
        }
        self.prev = Some((pts, frame));
    }

    /// Ends the stream at `end` (in `1 / timescale` s, the end of the last frame): the last
    /// frame fills the output times before it. Returns the number of frames emitted in all.
    pub(crate) fn finish(mut self, end: u64, emit: &mut impl FnMut(Frame)) -> u64 {
        if let Some((_, last)) = self.prev.take() {
            // k / fps < end / timescale
            while self.next * self.timescale < end as u128 * self.fps {
                emit(last.clone());
                self.next += 1;
            }
        }
        self.next as u64
    }
}
