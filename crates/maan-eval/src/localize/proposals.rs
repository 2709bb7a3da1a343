//! Proposal steps: class rejection, smoothing and upsampling of a class's CAS column,
//! thresholds, 1-D connected components, and snippet runs to seconds.

use super::config::Thresholds;

/// Indices of the classes whose score is `>= threshold` (a class is rejected when its score is
/// below the threshold), in increasing order. NaN scores are rejected.
pub(crate) fn reject_classes(video_scores: &[f32], threshold: f32) -> Vec<usize> {
    video_scores
        .iter()
        .enumerate()
        .filter(|(_, s)| **s >= threshold)
        .map(|(c, _)| c)
        .collect()
}

/// Column `class` of a row-major `[num_snippets, num_classes]` CAS.
///
/// # Panics
/// If `cas` is shorter than `num_snippets * num_classes` or `class >= num_classes`.
pub(crate) fn class_column(
    cas: &[f32],
    num_snippets: usize,
    num_classes: usize,
    class: usize,
) -> Vec<f32> {
    assert!(
        class < num_classes,
        "class {class} out of range ({num_classes} classes)"
    );
    (0..num_snippets)
        .map(|t| cas[t * num_classes + class])
        .collect()
}

/// Linear upsampling by an integer `factor`: `T · factor` values at positions `j / factor`,
/// `j = 0..T·factor`, linearly interpolated between snippets and linearly *extrapolated* past
/// the last one from the last two (scipy `interp1d(arange(T), x, fill_value="extrapolate")`
/// evaluated on `arange(0, T, 1/factor)`). A single snippet is repeated. `factor <= 1` returns
/// the input.
pub(crate) fn upsample_linear(signal: &[f32], factor: usize) -> Vec<f32> {
    let n = signal.len();
    if factor <= 1 || n == 0 {
        return signal.to_vec();
    }
    if n == 1 {
        return vec![signal[0]; factor];
    }
    let mut out = Vec::with_capacity(n * factor);
    for j in 0..n * factor {
        let pos = j as f64 / factor as f64;
        let i = (pos.floor() as usize).min(n - 2);
        let frac = pos - i as f64;
        let (a, b) = (signal[i] as f64, signal[i + 1] as f64);
        out.push((a + frac * (b - a)) as f32);
    }
    out
}

/// Centred moving average over `window` samples: output `i` is the mean of
/// `signal[i - h ..= i + h']` clipped to the signal, with `h = (window - 1) / 2` before and
/// `h' = window - 1 - h` after (so an even window leans one sample forward). At the ends the
/// window shrinks to the samples that exist (no padding, so an action touching the start or the
/// end of a video is not faded). `window <= 1` returns the input.
pub fn smooth_moving_average(signal: &[f32], window: usize) -> Vec<f32> {
    let n = signal.len();
    if window <= 1 || n == 0 {
        return signal.to_vec();
    }
    let before = (window - 1) / 2;
    let after = window - 1 - before;
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0.0f64);
    for v in signal {
        prefix.push(prefix.last().copied().unwrap_or(0.0) + *v as f64);
    }
    (0..n)
        .map(|i| {
            let lo = i.saturating_sub(before);
            let hi = (i + after + 1).min(n);
            ((prefix[hi] - prefix[lo]) / (hi - lo) as f64) as f32
        })
        .collect()
}

/// The threshold values for one class column: each fraction times the column's maximum
/// (empty when the maximum is not positive), or the absolute values as given.
pub(crate) fn threshold_values(signal: &[f32], thresholds: &Thresholds) -> Vec<f32> {
    match thresholds {
        Thresholds::Absolute(v) => v.clone(),
        Thresholds::RelativeToMax(fracs) => {
            let max = signal.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            if max > 0.0 {
                fracs.iter().map(|f| f * max).collect()
            } else {
                Vec::new()
            }
        }
    }
}

/// Maximal runs of `true` in `mask`, as half-open index ranges `(start, end)`, in order.
pub(crate) fn connected_components(mask: &[bool]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &m) in mask.iter().enumerate() {
        match (m, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, mask.len()));
    }
    out
}

/// Runs of `signal >= threshold`, as half-open ranges.
pub(crate) fn components_above(signal: &[f32], threshold: f32) -> Vec<(usize, usize)> {
    let mask: Vec<bool> = signal.iter().map(|v| *v >= threshold).collect();
    connected_components(&mask)
}

/// A half-open run `[start, end)` of (upsampled) snippets in seconds:
/// `(start · d, end · d)` with `d = seconds_per_snippet / upsample`.
pub(crate) fn snippets_to_seconds(
    start: usize,
    end: usize,
    seconds_per_snippet: f64,
    upsample: usize,
) -> (f64, f64) {
    let d = seconds_per_snippet / upsample.max(1) as f64;
    (start as f64 * d, end as f64 * d)
}
