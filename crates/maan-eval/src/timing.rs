//! Snippet timing: conversions between seconds and snippet indices.

/// How long one feature snippet lasts: `frames_per_snippet / fps` seconds (16 / 25 = 0.64 s by
/// default, the I3D convention of BaSNet, UM, CoLA, ACM-Net and ASM-Loc).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SnippetTiming {
    /// Frames per snippet (16 for I3D).
    pub frames_per_snippet: f64,
    /// Frame rate the features were extracted at (25).
    pub fps: f64,
}

impl Default for SnippetTiming {
    fn default() -> Self {
        SnippetTiming {
            frames_per_snippet: 16.0,
            fps: 25.0,
        }
    }
}

impl SnippetTiming {
    /// Seconds covered by one snippet (0.64 by default).
    pub fn seconds_per_snippet(&self) -> f64 {
        self.frames_per_snippet / self.fps
    }

    /// Snippets per second (1.5625 by default).
    pub fn snippets_per_second(&self) -> f64 {
        self.fps / self.frames_per_snippet
    }

    /// The snippet index of a time: `round(sec * fps / frames_per_snippet)` (BaSNet, W-TALC),
    /// clamped at 0 for negative or non-finite input.
    pub fn seconds_to_snippet(&self, sec: f64) -> usize {
        let x = (sec * self.snippets_per_second()).round();
        if x.is_finite() && x > 0.0 {
            x as usize
        } else {
            0
        }
    }

    /// The time in seconds at which (fractional) snippet `idx` starts:
    /// `idx * frames_per_snippet / fps`. A proposal covering snippets `first..=last` spans
    /// `[snippet_to_seconds(first), snippet_to_seconds(last + 1)]`.
    pub fn snippet_to_seconds(&self, idx: f64) -> f64 {
        idx * self.seconds_per_snippet()
    }

    /// The number of snippets of a video lasting `duration` seconds: `floor(duration * fps /
    /// frames_per_snippet)`, at least 1 for a positive duration.
    pub fn snippets_in(&self, duration: f64) -> usize {
        let n = (duration * self.snippets_per_second()).floor();
        if n.is_finite() && n >= 1.0 {
            n as usize
        } else if duration > 0.0 {
            1
        } else {
            0
        }
    }

    /// Checks that both numbers are positive and finite; the error says which values are not.
    pub fn validate(&self) -> Result<(), String> {
        let ok = |v: f64| v.is_finite() && v > 0.0;
        if ok(self.frames_per_snippet) && ok(self.fps) {
            Ok(())
        } else {
            Err(format!(
                "snippet timing needs positive frames per snippet and fps, got {} and {}",
                self.frames_per_snippet, self.fps
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn defaults() {
        let t = SnippetTiming::default();
        assert!((t.seconds_per_snippet() - 0.64).abs() < 1e-12);
        assert_eq!(t.seconds_to_snippet(0.64), 1);
        assert_eq!(t.seconds_to_snippet(18.6), 29); // 29.06
        assert_eq!(t.seconds_to_snippet(-3.0), 0);
        assert!((t.snippet_to_seconds(29.0) - 18.56).abs() < 1e-9);
        assert_eq!(t.snippets_in(226.633), 354);
        let stpn = SnippetTiming {
            frames_per_snippet: 16.0,
            fps: 10.0,
        };
        assert!((stpn.seconds_per_snippet() - 1.6).abs() < 1e-12);
    }

    proptest! {
        #[test]
        fn snippet_seconds_snippet(idx in 0usize..100_000, fps in 5.0f64..60.0, fr in 1.0f64..64.0) {
            let t = SnippetTiming { frames_per_snippet: fr, fps };
            prop_assert_eq!(t.seconds_to_snippet(t.snippet_to_seconds(idx as f64)), idx);
        }

        #[test]
        fn seconds_snippet_seconds(sec in 0.0f64..10_000.0) {
            let t = SnippetTiming::default();
            let back = t.snippet_to_seconds(t.seconds_to_snippet(sec) as f64);
            prop_assert!((back - sec).abs() <= t.seconds_per_snippet() / 2.0 + 1e-9);
        }
    }
}
