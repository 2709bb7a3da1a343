//! Which snippets of a video a training or test pass sees.

use rand::Rng;

/// SplitMix64-style mixing of a seed and two words into one seed: the seeds of the training
/// sampler (epoch permutations, per-video snippet draws) and of the dropout masks are
/// `mix_seed(seed, epoch_or_iteration, index_or_salt)`, so every random choice is a pure
/// function of the run's seed and the iteration.
pub fn mix_seed(seed: u64, a: u64, b: u64) -> u64 {
    mix_from(seed ^ 0x9E37_79B9_7F4A_7C15, a, b)
}

/// The mixing of [`mix_seed`] from an already salted state `z` (the synthetic generator salts
/// the seed with its own constant, so its random streams differ from the sampler's).
pub fn mix_from(mut z: u64, a: u64, b: u64) -> u64 {
    for w in [a, b] {
        z = z.wrapping_add(w.wrapping_add(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
    }
    z
}

/// The training-time sampling of STPN, BaSNet, CoLA, UM and CO2-Net (`random_perturb`): divide
/// the video into `t` uniform segments and draw one snippet in each.
///
/// With `s_i = i·len/t` (computed exactly in integers): if `len == t` the result is `0..len`.
/// Otherwise, for `i < t-1`, index `i` is uniform in `[⌊s_i⌋, ⌊s_{i+1}⌋]` **inclusive** when the
/// two differ (the public code's bound, so an index may sit on the first snippet of the next
/// segment), else `⌊s_i⌋`; the last index is uniform in `[⌊s_{t-1}⌋, len-1]`. The result is
/// sorted, has exactly `t` entries in `[0, len)`, and repeats indices when `len < t` (no
/// padding). Returns an empty vector when `len == 0` or `t == 0`.
pub fn random_perturb<R: Rng + ?Sized>(len: usize, t: usize, rng: &mut R) -> Vec<usize> {
    if len == 0 || t == 0 {
        return Vec::new();
    }
    if len == t {
        return (0..len).collect();
    }
    let floor_s = |i: usize| i * len / t;
    (0..t)
        .map(|i| {
            let lo = floor_s(i);
            let hi = if i + 1 < t { floor_s(i + 1) } else { len - 1 };
            if hi > lo {
                rng.random_range(lo..=hi)
            } else {
                lo
            }
        })
        .collect()
}

/// The deterministic counterpart: `⌊i·len/t⌋` for `i` in `0..t` (STPN/BaSNet test-time
/// sampling). Always `t` entries (repeats when `len < t`); empty when `len == 0`. To use every
/// snippet at test time, use `0..len` instead (what [`crate::TrainItem::whole`] does).
pub fn uniform_indices(len: usize, t: usize) -> Vec<usize> {
    if len == 0 {
        return Vec::new();
    }
    (0..t).map(|i| i * len / t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::{rngs::StdRng, SeedableRng};

    fn check(len: usize, t: usize, seed: u64) -> Result<(), TestCaseError> {
        let mut rng = StdRng::seed_from_u64(seed);
        let idx = random_perturb(len, t, &mut rng);
        prop_assert_eq!(idx.len(), t);
        prop_assert!(
            idx.windows(2).all(|w| w[0] <= w[1]),
            "not sorted: {:?}",
            idx
        );
        prop_assert!(idx.iter().all(|&i| i < len));
        for (i, &x) in idx.iter().enumerate() {
            let lo = i * len / t;
            let hi = if i + 1 < t {
                (i + 1) * len / t
            } else {
                len - 1
            };
            prop_assert!(
                lo <= x && x <= hi.max(lo),
                "index {} = {} outside [{}, {}]",
                i,
                x,
                lo,
                hi
            );
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn shorter_than_t(t in 2usize..60, seed in any::<u64>(), frac in 0.0f64..1.0) {
            let len = 1 + ((t - 2) as f64 * frac) as usize;
            check(len, t, seed)?;
        }

        #[test]
        fn equal_to_t(t in 1usize..60, seed in any::<u64>()) {
            check(t, t, seed)?;
            let mut rng = StdRng::seed_from_u64(seed);
            prop_assert_eq!(random_perturb(t, t, &mut rng), (0..t).collect::<Vec<_>>());
        }

        #[test]
        fn longer_than_t(t in 1usize..60, extra in 1usize..2000, seed in any::<u64>()) {
            check(t + extra, t, seed)?;
        }

        #[test]
        fn uniform_is_floor(len in 1usize..3000, t in 1usize..100) {
            let u = uniform_indices(len, t);
            prop_assert_eq!(u.len(), t);
            for (i, &x) in u.iter().enumerate() {
                prop_assert_eq!(x, ((i as f64) * len as f64 / t as f64).floor() as usize);
            }
        }
    }

    #[test]
    fn covers_inclusive_range_and_repeats_short() {
        // len = 40, t = 20: segment i is {2i, 2i+1} plus the inclusive bound 2i+2.
        let mut seen = [false; 41];
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..2000 {
            let idx = random_perturb(40, 20, &mut rng);
            seen[idx[0]] = true;
        }
        assert_eq!(&seen[..4], &[true, true, true, false]);
        let idx = random_perturb(3, 20, &mut rng);
        assert_eq!(idx.len(), 20);
        assert!(idx.contains(&0) && idx.iter().all(|&i| i < 3));
        assert!(random_perturb(0, 20, &mut rng).is_empty());
    }
}
