//! `FlatAdam` against Burn's own Adam: same updates, interchangeable records.

use burn::module::Param;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Distribution, Tensor};

use super::model_params;
use super::TestAutodiffBackend;
use crate::optim::{BurnAdam, FlatAdam};
use crate::{StreamModel, StreamModelConfig};

type AD = TestAutodiffBackend;
type Inner = <AD as AutodiffBackend>::InnerBackend;

/// On the CPU test backends both optimizers run the same `f32` operations in the same order,
/// so they agree exactly; GPU backends may fuse (and contract into FMAs) the two differently.
const EXACT: bool = !super::super::GPU;

/// A small stream whose parameters are initialised (Burn initialises parameters lazily, and a
/// clone of a module that was never read draws its own values).
fn model() -> StreamModel<AD> {
    let m = StreamModelConfig::new()
        .with_feature_dim(12)
        .with_num_classes(3)
        .with_attention_hidden(5)
        .init::<AD>(&Default::default());
    // Reading every parameter initialises it, so that clones share the values.
    model_params(&m);
    m
}

/// The gradients of a random batch's loss, once per consumer (Burn's `GradientsParams` is
/// consumed by a step and cannot be cloned): every copy holds the same tensors.
fn gradients(m: &StreamModel<AD>, copies: usize) -> Vec<GradientsParams> {
    let device = Default::default();
    let x = Tensor::<AD, 3>::random([4, 7, 12], Distribution::Normal(0.0, 1.0), &device);
    let y = Tensor::<AD, 2>::random([4, 3], Distribution::Bernoulli(0.4), &device);
    let grads = GradientsParams::from_grads(m.forward_loss(x, y, None).backward(), m);
    let mut out: Vec<GradientsParams> = (0..copies).map(|_| GradientsParams::new()).collect();
    fn copy<const D: usize>(
        from: &GradientsParams,
        to: &mut [GradientsParams],
        p: &Param<Tensor<AD, D>>,
    ) {
        let g = from
            .get::<Inner, D>(p.id)
            .expect("every parameter has a gradient");
        for t in to.iter_mut() {
            t.register::<Inner, D>(p.id, g.clone());
        }
    }
    for l in [&m.attention_fc1, &m.attention_fc2, &m.classifier] {
        copy(&grads, &mut out, &l.weight);
        copy(&grads, &mut out, l.bias.as_ref().unwrap());
    }
    out
}

fn assert_same(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        if EXACT {
            assert_eq!(x.to_bits(), y.to_bits(), "{what}: element {i}: {x} vs {y}");
        } else {
            assert!(
                (x - y).abs() <= 1e-6 * (1.0 + x.abs()),
                "{what}: element {i}: {x} vs {y}"
            );
        }
    }
}

/// Six Adam steps on the same gradients move every parameter exactly as Burn's Adam does
/// (bit for bit on the CPU test backends), and the steps did move them.
#[test]
fn flat_adam_matches_burns_adam() {
    let _rng = super::rng_lock();
    let mut a = model();
    let mut b = a.clone();
    let start = model_params(&a);
    assert_same(&start, &model_params(&b), "clone");
    let mut burn: BurnAdam<StreamModel<AD>, AD> = AdamConfig::new().init();
    let mut flat = FlatAdam::<AD>::new();
    for step in 0..6 {
        let mut g = gradients(&a, 2);
        let (gb, ga) = (g.pop().unwrap(), g.pop().unwrap());
        a = burn.step(1e-2, a, ga);
        b = flat.step(1e-2, b, gb);
        assert_same(
            &model_params(&a),
            &model_params(&b),
            &format!("step {step}"),
        );
    }
    assert_eq!(flat.time(), 6);
    let moved = start
        .iter()
        .zip(model_params(&b))
        .filter(|(x, y)| *x != y)
        .count();
    assert_eq!(moved, start.len(), "every parameter moved");
}

/// A `FlatAdam` state saved in Burn's record format loads into Burn's Adam, and Burn's into a
/// `FlatAdam`; after the swap both continue exactly as the optimizers that were not swapped.
#[test]
fn flat_adam_records_are_burns_records() {
    let _rng = super::rng_lock();
    let mut a = model();
    let mut b = a.clone();
    let mut burn: BurnAdam<StreamModel<AD>, AD> = AdamConfig::new().init();
    let mut flat = FlatAdam::<AD>::new();
    for _ in 0..3 {
        let mut g = gradients(&a, 2);
        let (gb, ga) = (g.pop().unwrap(), g.pop().unwrap());
        a = burn.step(1e-2, a, ga);
        b = flat.step(1e-2, b, gb);
    }
    // Swapped: Burn's Adam from FlatAdam's record, FlatAdam from Burn's record.
    let mut burn_from_flat: BurnAdam<StreamModel<AD>, AD> = AdamConfig::new().init();
    burn_from_flat = burn_from_flat.load_record(flat.to_record());
    let mut flat_from_burn = FlatAdam::<AD>::new();
    flat_from_burn.load_record(burn.to_record(), &a).unwrap();
    assert_eq!(flat_from_burn.time(), 3);
    let (mut c, mut d) = (b.clone(), a.clone());
    for step in 0..3 {
        let mut g = gradients(&a, 4);
        let (g4, g3, g2, g1) = (
            g.pop().unwrap(),
            g.pop().unwrap(),
            g.pop().unwrap(),
            g.pop().unwrap(),
        );
        a = burn.step(1e-2, a, g1);
        b = flat.step(1e-2, b, g2);
        c = burn_from_flat.step(1e-2, c, g3);
        d = flat_from_burn.step(1e-2, d, g4);
        let reference = model_params(&a);
        assert_same(&reference, &model_params(&b), &format!("flat, step {step}"));
        assert_same(
            &reference,
            &model_params(&c),
            &format!("burn from flat record, step {step}"),
        );
        assert_same(
            &reference,
            &model_params(&d),
            &format!("flat from burn record, step {step}"),
        );
    }
    // An empty record (Burn's state before any step) resets the optimizer.
    let mut fresh = FlatAdam::<AD>::new();
    let empty: BurnAdam<StreamModel<AD>, AD> = AdamConfig::new().init();
    fresh.load_record(empty.to_record(), &a).unwrap();
    assert_eq!(fresh.time(), 0);
}
