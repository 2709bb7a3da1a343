//! Proposal scores: the mean CAS over a run, or the outer-inner contrast.

/// Mean of `signal[start..end]` (0 for an empty range).
pub(crate) fn mean_score(signal: &[f32], start: usize, end: usize) -> f64 {
    let end = end.min(signal.len());
    if end <= start {
        return 0.0;
    }
    signal[start..end].iter().map(|v| *v as f64).sum::<f64>() / (end - start) as f64
}

/// Outer-inner contrast of the run `[start, end)` (BaSNet `utils.get_proposal_oic`):
/// `mean(inner) − mean(outer) + gamma · class_score`, where with `n = end − start`,
/// `last = end − 1` and `N = signal.len()` the outer region is
/// `[max(0, int(start − λn)), start) ∪ [end, min(N − 1, int(last + λn))]` (`int` truncates
/// toward zero, as Python's does); an empty outer region has mean 0.
pub(crate) fn outer_inner_score(
    signal: &[f32],
    start: usize,
    end: usize,
    lambda: f32,
    gamma: f32,
    class_score: f32,
) -> f64 {
    let n_sig = signal.len();
    if end <= start || end > n_sig {
        return 0.0;
    }
    let inner = mean_score(signal, start, end);
    let len = (end - start) as f64;
    let lambda = lambda as f64;
    let outer_s = ((start as f64 - lambda * len) as i64).max(0) as usize;
    let outer_e = (((end - 1) as f64 + lambda * len) as i64).min(n_sig as i64 - 1) as usize;
    let (mut sum, mut count) = (0.0f64, 0usize);
    for t in outer_s..start {
        sum += signal[t] as f64;
        count += 1;
    }
    if outer_e >= end {
        for t in end..=outer_e {
            sum += signal[t] as f64;
            count += 1;
        }
    }
    let outer = if count == 0 { 0.0 } else { sum / count as f64 };
    inner - outer + gamma as f64 * class_score as f64
}
