//! Tests of [`crate::host`]: the host weights and their vector-Jacobian products equal
//! autodiff of the tensor code (flex) for every aggregator, and MAA's analytic gradient equals
//! finite differences of the `f64` exhaustive oracle.

use burn::backend::{Autodiff, Flex};
use burn::tensor::{Bool, Tensor, TensorData};
use proptest::prelude::*;
use rand::{rngs::StdRng, Rng, SeedableRng};

use crate::host::{self, Workspace};
use crate::{exhaustive, Aggregator};

type AB = Autodiff<Flex>;

fn rel_err(got: &[f32], want: &[f32]) -> f64 {
    assert_eq!(got.len(), want.len());
    let num: f64 = got
        .iter()
        .zip(want)
        .map(|(&a, &b)| (a as f64 - b as f64).powi(2))
        .sum();
    let den: f64 = want.iter().map(|&b| (b as f64).powi(2)).sum();
    (num / den.max(1e-30)).sqrt()
}

/// Every element within `atol + rtol · |want|` (the gradients may be exactly 0 in the tensor
/// code and a rounding error on the host, e.g. Norm with one snippet).
fn assert_close(got: &[f32], want: &[f32], atol: f32, rtol: f32, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (&a, &b)) in got.iter().zip(want).enumerate() {
        assert!(
            (a - b).abs() <= atol + rtol * b.abs(),
            "{what}: element {i}: host {a} vs autodiff {b}\nhost {got:?}\nautodiff {want:?}"
        );
    }
}

/// The tensor code's weights and `∂(Σ r·λ)/∂p` by autodiff, for a `[batch, time]` batch.
fn autodiff_weights_and_grad(
    aggregator: Aggregator,
    training: bool,
    probs: &[f32],
    valid: &[bool],
    r: &[f32],
    shape: [usize; 2],
) -> (Vec<f32>, Vec<f32>) {
    let device = Default::default();
    let p =
        Tensor::<AB, 2>::from_data(TensorData::new(probs.to_vec(), shape), &device).require_grad();
    let mask = Tensor::<AB, 2, Bool>::from_data(TensorData::new(valid.to_vec(), shape), &device);
    let r = Tensor::<AB, 2>::from_data(TensorData::new(r.to_vec(), shape), &device);
    let w = aggregator.weights(p.clone(), Some(mask), training);
    let grads = (w.clone() * r).sum().backward();
    // Mean ignores the attention: no gradient reaches it.
    let g = p.grad(&grads).map_or(vec![0.0; probs.len()], |g| {
        g.into_data().to_vec::<f32>().unwrap()
    });
    (w.into_data().to_vec::<f32>().unwrap(), g)
}

/// The host functions row by row on the same batch (masking `p` first, as the tensor code).
fn host_weights_and_grad(
    aggregator: Aggregator,
    training: bool,
    probs: &[f32],
    valid: &[bool],
    r: &[f32],
    time: usize,
) -> (Vec<f32>, Vec<f32>) {
    let mut ws = Workspace::new();
    let mut weights = vec![0.0; probs.len()];
    let mut grad = vec![0.0; probs.len()];
    for (row, ((p, v), r)) in probs
        .chunks(time)
        .zip(valid.chunks(time))
        .zip(r.chunks(time))
        .enumerate()
    {
        let p: Vec<f32> = p
            .iter()
            .zip(v)
            .map(|(&p, &v)| if v { p } else { 0.0 })
            .collect();
        let span = row * time..(row + 1) * time;
        host::weights_row(
            aggregator,
            training,
            &p,
            v,
            &mut weights[span.clone()],
            &mut ws,
        );
        host::weights_vjp_row(aggregator, training, &p, v, r, &mut grad[span], &mut ws);
    }
    (weights, grad)
}

fn random_batch(rng: &mut StdRng, batch: usize, time: usize) -> (Vec<f32>, Vec<bool>, Vec<f32>) {
    let probs = (0..batch * time).map(|_| rng.random::<f32>()).collect();
    let mut valid = Vec::with_capacity(batch * time);
    for b in 0..batch {
        // The first row is full; the others keep 1..=time snippets.
        let len = if b == 0 {
            time
        } else {
            rng.random_range(1..=time)
        };
        valid.extend((0..time).map(|t| t < len));
    }
    let r = (0..batch * time)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    (probs, valid, r)
}

#[test]
fn host_weights_and_gradients_equal_autodiff_for_every_aggregator() {
    let mut rng = StdRng::seed_from_u64(11);
    for aggregator in Aggregator::ALL {
        for training in [true, false] {
            if !host::supported(aggregator, training) {
                continue;
            }
            for time in [1, 2, 5, 20, 33] {
                let batch = 4;
                let (p, v, r) = random_batch(&mut rng, batch, time);
                let (w_ref, g_ref) =
                    autodiff_weights_and_grad(aggregator, training, &p, &v, &r, [batch, time]);
                let (w, g) = host_weights_and_grad(aggregator, training, &p, &v, &r, time);
                let what = format!("{aggregator} training={training} T={time}");
                assert_close(&w, &w_ref, 1e-6, 1e-5, &format!("{what}: weights"));
                assert_close(&g, &g_ref, 1e-5, 1e-4, &format!("{what}: gradient"));
            }
        }
    }
}

#[test]
fn dropout_while_training_is_the_one_unsupported_case() {
    for aggregator in Aggregator::ALL {
        assert!(host::supported(aggregator, false));
        assert_eq!(
            host::supported(aggregator, true),
            aggregator != Aggregator::Dropout
        );
    }
}

#[test]
fn maa_gradient_matches_finite_differences_of_the_exhaustive_oracle() {
    let mut rng = StdRng::seed_from_u64(5);
    let mut ws = Workspace::new();
    for time in 1..=12 {
        let p: Vec<f64> = (0..time)
            .map(|_| rng.random_range(0.05..0.95f32) as f64)
            .collect();
        let r: Vec<f64> = (0..time)
            .map(|_| rng.random_range(-1.0..1.0f32) as f64)
            .collect();
        let objective = |p: &[f64]| -> f64 {
            exhaustive::marginalized_weights(p)
                .iter()
                .zip(&r)
                .map(|(l, r)| l * r)
                .sum()
        };
        let h = 1e-6;
        let fd: Vec<f32> = (0..time)
            .map(|j| {
                let (mut up, mut down) = (p.clone(), p.clone());
                up[j] += h;
                down[j] -= h;
                ((objective(&up) - objective(&down)) / (2.0 * h)) as f32
            })
            .collect();
        let p32: Vec<f32> = p.iter().map(|&x| x as f32).collect();
        let r32: Vec<f32> = r.iter().map(|&x| x as f32).collect();
        let mut grad = vec![0.0; time];
        host::weights_vjp_row(
            Aggregator::Maa,
            true,
            &p32,
            &vec![true; time],
            &r32,
            &mut grad,
            &mut ws,
        );
        let e = rel_err(&grad, &fd);
        assert!(
            e < 1e-5,
            "T={time}: analytic {grad:?} vs finite differences {fd:?} ({e:e})"
        );
    }
}

#[test]
fn maa_gradient_is_finite_and_equals_autodiff_at_boundaries_and_for_long_sequences() {
    let mut rng = StdRng::seed_from_u64(3);
    for time in [4, 64, 1000] {
        // A mix of exact 0s and 1s and random values.
        let p: Vec<f32> = (0..time)
            .map(|i| match i % 4 {
                0 => 0.0,
                1 => 1.0,
                _ => rng.random::<f32>(),
            })
            .collect();
        let v = vec![true; time];
        let r: Vec<f32> = (0..time).map(|_| rng.random_range(-1.0..1.0)).collect();
        let (w_ref, g_ref) =
            autodiff_weights_and_grad(Aggregator::Maa, true, &p, &v, &r, [1, time]);
        let (w, g) = host_weights_and_grad(Aggregator::Maa, true, &p, &v, &r, time);
        assert!(
            g.iter().all(|x| x.is_finite()),
            "T={time}: non-finite gradient"
        );
        assert!(rel_err(&w, &w_ref) < 1e-5, "T={time}: weights");
        assert!(
            rel_err(&g, &g_ref) < 1e-4,
            "T={time}: gradient {:e}",
            rel_err(&g, &g_ref)
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// For any probabilities, mask and upstream gradient, MAA's host gradient equals autodiff.
    #[test]
    fn maa_host_gradient_equals_autodiff(
        rows in proptest::collection::vec(
            (proptest::collection::vec(0.0f32..=1.0, 24), 1usize..=24,
             proptest::collection::vec(-1.0f32..1.0, 24)),
            1..4,
        ),
    ) {
        let time = 24;
        let batch = rows.len();
        let mut p = Vec::new();
        let mut v = Vec::new();
        let mut r = Vec::new();
        for (pr, len, rr) in rows {
            p.extend(pr);
            v.extend((0..time).map(|t| t < len));
            r.extend(rr);
        }
        let (_, g_ref) = autodiff_weights_and_grad(Aggregator::Maa, true, &p, &v, &r, [batch, time]);
        let (_, g) = host_weights_and_grad(Aggregator::Maa, true, &p, &v, &r, time);
        // Absolute and relative: the gradient may be ~0 for some rows.
        for (a, b) in g.iter().zip(&g_ref) {
            prop_assert!((a - b).abs() <= 1e-4 + 1e-4 * b.abs(), "host {a} vs autodiff {b}");
        }
    }
}
