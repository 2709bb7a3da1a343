//! A plain-Rust `f64` oracle for MAA that sums over all `2^T` subsets (`T ≤ 20`).
//!
//! It implements the definition directly — `E[Σ_i z_i x_i / Σ_i z_i]` with the empty subset
//! contributing 0 — and uses none of the identities that the fast implementations rest on,
//! so it can check them (Proposition 1 included).

/// Largest `T` the oracle accepts (`2^20` subsets).
pub const MAX_TIME: usize = 20;

fn check(probs: &[f64]) {
    assert!(
        probs.len() <= MAX_TIME,
        "the exhaustive oracle sums over 2^T subsets; T = {} exceeds {MAX_TIME}",
        probs.len()
    );
}

/// Calls `f(subset_bits, probability, size)` for every non-empty subset.
fn for_each_subset(probs: &[f64], mut f: impl FnMut(u32, f64, usize)) {
    let t = probs.len();
    for bits in 1u32..(1u32 << t) {
        let mut prob = 1.0;
        for (i, &p) in probs.iter().enumerate() {
            prob *= if bits >> i & 1 == 1 { p } else { 1.0 - p };
        }
        if prob != 0.0 {
            f(bits, prob, bits.count_ones() as usize);
        }
    }
}

/// `E[Σ_i z_i x_i / Σ_i z_i]` by enumeration.
///
/// # Shapes
/// - `probs`: `[time]`
/// - `features`: `[time, dim]`, row-major
/// - output: `[dim]`
pub fn marginalized_average(probs: &[f64], features: &[f64], dim: usize) -> Vec<f64> {
    check(probs);
    assert_eq!(
        features.len(),
        probs.len() * dim,
        "features must be [time, dim]"
    );
    let mut out = vec![0.0; dim];
    let mut mean = vec![0.0; dim];
    for_each_subset(probs, |bits, prob, size| {
        mean.iter_mut().for_each(|m| *m = 0.0);
        for i in 0..probs.len() {
            if bits >> i & 1 == 1 {
                for (m, x) in mean.iter_mut().zip(&features[i * dim..(i + 1) * dim]) {
                    *m += x;
                }
            }
        }
        for (o, m) in out.iter_mut().zip(&mean) {
            *o += prob * m / size as f64;
        }
    });
    out
}

/// The weights `λ_i = E[z_i / Σ_k z_k]` by enumeration.
///
/// # Shapes
/// - `probs`: `[time]`
/// - output: `[time]`
pub fn marginalized_weights(probs: &[f64]) -> Vec<f64> {
    check(probs);
    let mut out = vec![0.0; probs.len()];
    for_each_subset(probs, |bits, prob, size| {
        for (i, o) in out.iter_mut().enumerate() {
            if bits >> i & 1 == 1 {
                *o += prob / size as f64;
            }
        }
    });
    out
}

/// The contextual factors `c_i = E[1 / (1 + Σ_{k≠i} z_k)]` by enumeration over the other
/// snippets.
///
/// # Shapes
/// - `probs`: `[time]`
/// - output: `[time]`
pub fn context_factors(probs: &[f64]) -> Vec<f64> {
    check(probs);
    (0..probs.len())
        .map(|i| {
            let others: Vec<f64> = probs
                .iter()
                .enumerate()
                .filter(|&(k, _)| k != i)
                .map(|(_, &p)| p)
                .collect();
            let mut c = 1.0 * others.iter().map(|p| 1.0 - p).product::<f64>(); // empty subset
            for_each_subset(&others, |_, prob, size| c += prob / (1.0 + size as f64));
            c
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_two_snippets() {
        // p = (0.5, 0.5): subsets {1}, {2}, {1,2} each 1/4 -> (x1 + x2)/4 + (x1+x2)/8.
        let out = marginalized_average(&[0.5, 0.5], &[1.0, 3.0], 1);
        assert!((out[0] - (4.0 / 4.0 + 4.0 / 8.0)).abs() < 1e-15);
        let w = marginalized_weights(&[0.5, 0.5]);
        assert!((w[0] - 0.375).abs() < 1e-15 && (w[1] - 0.375).abs() < 1e-15);
        let c = context_factors(&[0.5, 0.5]);
        assert!((c[0] - 0.75).abs() < 1e-15);
    }

    #[test]
    fn single_certain_snippet_gives_its_feature() {
        let out = marginalized_average(&[0.0, 1.0, 0.0], &[5.0, 7.0, 9.0], 1);
        assert_eq!(out, vec![7.0]);
    }
}
