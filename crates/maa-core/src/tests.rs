//! Numeric tests against the `f64` exhaustive oracle, finite differences and the paper's
//! propositions. They run once per test backend (`super::TestBackend`: flex, and ndarray / wgpu /
//! CUDA by feature).

use burn::backend::Autodiff;
use burn::tensor::{Bool, Tensor, TensorData};
use proptest::prelude::*;
use rand::{rngs::StdRng, Rng, SeedableRng};

use super::TestBackend;
use crate::{exhaustive, recurrence, Aggregator, MaaPoolConfig};

type B = TestBackend;

/// Factor on the tolerance of every check whose value goes through a matrix product (the
/// weighted sum `Σ_t λ_t x_t` and its gradients): 1, except on CUDA (`test-cuda`), where
/// Burn runs `f32` matrix products on tensor cores in TF32 (10-bit mantissa; on an H200 the
/// mean of `[1, 3, 5]` with `λ = 1/3` came out as `2.99927`). The weights `λ` and the context
/// factors are elementwise and keep their `f32` tolerances on every backend.
const MM: f64 = if super::TF32 { 500.0 } else { 1.0 };
type AB = Autodiff<TestBackend>;

fn device() -> burn::tensor::Device<B> {
    Default::default()
}

fn t2<Bk: burn::tensor::backend::Backend>(v: &[f64], shape: [usize; 2]) -> Tensor<Bk, 2> {
    let data: Vec<f32> = v.iter().map(|&x| x as f32).collect();
    Tensor::from_data(TensorData::new(data, shape), &Default::default())
}

fn t3<Bk: burn::tensor::backend::Backend>(v: &[f64], shape: [usize; 3]) -> Tensor<Bk, 3> {
    let data: Vec<f32> = v.iter().map(|&x| x as f32).collect();
    Tensor::from_data(TensorData::new(data, shape), &Default::default())
}

fn to_vec<Bk: burn::tensor::backend::Backend, const D: usize>(t: Tensor<Bk, D>) -> Vec<f64> {
    t.into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .unwrap()
        .into_iter()
        .map(f64::from)
        .collect()
}

/// Rounds to f32 and back, so that the f64 oracle sees exactly the inputs the op sees.
fn f32_round(v: Vec<f64>) -> Vec<f64> {
    v.into_iter().map(|x| x as f32 as f64).collect()
}

fn rel_err(got: &[f64], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len());
    let num: f64 = got.iter().zip(want).map(|(a, b)| (a - b).powi(2)).sum();
    let den: f64 = want.iter().map(|b| b * b).sum();
    (num / den.max(1e-30)).sqrt()
}

fn random_inputs(rng: &mut StdRng, t: usize, d: usize) -> (Vec<f64>, Vec<f64>) {
    let p = f32_round((0..t).map(|_| rng.random::<f64>()).collect());
    let x = f32_round((0..t * d).map(|_| rng.random_range(-1.0..1.0)).collect());
    (p, x)
}

#[test]
fn closed_form_recurrence_and_exhaustive_agree_for_t_1_to_14() {
    let mut rng = StdRng::seed_from_u64(7);
    let (batch, dim) = (2, 5);
    for t in 1..=14 {
        let mut p = Vec::new();
        let mut x = Vec::new();
        let mut want = Vec::new();
        for _ in 0..batch {
            let (pb, xb) = random_inputs(&mut rng, t, dim);
            want.extend(exhaustive::marginalized_average(&pb, &xb, dim));
            p.extend(pb);
            x.extend(xb);
        }
        let closed = to_vec(crate::marginalized_average(
            t2::<B>(&p, [batch, t]),
            t3::<B>(&x, [batch, t, dim]),
        ));
        let rec = to_vec(recurrence::marginalized_average(
            t2::<B>(&p, [batch, t]),
            t3::<B>(&x, [batch, t, dim]),
        ));
        assert!(
            rel_err(&closed, &want) < 1e-5 * MM,
            "closed form, T={t}: {}",
            rel_err(&closed, &want)
        );
        assert!(
            rel_err(&rec, &want) < 1e-5 * MM,
            "recurrence, T={t}: {}",
            rel_err(&rec, &want)
        );
    }
}

#[test]
fn weights_and_context_factors_match_the_oracle() {
    let mut rng = StdRng::seed_from_u64(11);
    for t in [1usize, 2, 3, 7, 12] {
        let (p, _) = random_inputs(&mut rng, t, 1);
        let w = to_vec(crate::marginalized_weights(t2::<B>(&p, [1, t])));
        let c = to_vec(crate::context_factors(t2::<B>(&p, [1, t])));
        assert!(
            rel_err(&w, &exhaustive::marginalized_weights(&p)) < 1e-5,
            "T={t}"
        );
        assert!(
            rel_err(&c, &exhaustive::context_factors(&p)) < 1e-5,
            "T={t}"
        );
    }
}

/// Loss `Σ_d g_d MAA_d(x, p)` computed by the f64 oracle.
fn oracle_loss(p: &[f64], x: &[f64], g: &[f64]) -> f64 {
    let out = exhaustive::marginalized_average(p, x, g.len());
    out.iter().zip(g).map(|(a, b)| a * b).sum()
}

fn check_gradients(f: impl Fn(Tensor<AB, 2>, Tensor<AB, 3>) -> Tensor<AB, 2>, name: &str) {
    let mut rng = StdRng::seed_from_u64(3);
    for t in [1usize, 2, 5, 9] {
        let dim = 3;
        let (mut p, x) = random_inputs(&mut rng, t, dim);
        // Keep p away from the boundary so central differences stay inside [0, 1].
        p.iter_mut().for_each(|v| *v = 0.05 + 0.9 * *v);
        let p = f32_round(p);
        let g = f32_round((0..dim).map(|_| rng.random_range(-1.0..1.0)).collect());
        let pt = t2::<AB>(&p, [1, t]).require_grad();
        let xt = t3::<AB>(&x, [1, t, dim]).require_grad();
        let out = f(pt.clone(), xt.clone());
        let loss = (out * t2::<AB>(&g, [1, dim])).sum();
        let grads = loss.backward();
        let gp = to_vec(pt.grad(&grads).unwrap());
        let gx = to_vec(xt.grad(&grads).unwrap());
        let h = 1e-6;
        let fd = |v: &mut Vec<f64>, i: usize, is_p: bool| {
            let orig = v[i];
            v[i] = orig + h;
            let up = if is_p {
                oracle_loss(v, &x, &g)
            } else {
                oracle_loss(&p, v, &g)
            };
            v[i] = orig - h;
            let down = if is_p {
                oracle_loss(v, &x, &g)
            } else {
                oracle_loss(&p, v, &g)
            };
            v[i] = orig;
            (up - down) / (2.0 * h)
        };
        let mut pv = p.clone();
        let want_p: Vec<f64> = (0..t).map(|i| fd(&mut pv, i, true)).collect();
        let mut xv = x.clone();
        let want_x: Vec<f64> = (0..t * dim).map(|i| fd(&mut xv, i, false)).collect();
        assert!(
            rel_err(&gp, &want_p) < 1e-4 * MM,
            "{name} dL/dp, T={t}: {gp:?} vs {want_p:?}"
        );
        assert!(
            rel_err(&gx, &want_x) < 1e-4 * MM,
            "{name} dL/dx, T={t}: {gx:?} vs {want_x:?}"
        );
    }
}

#[test]
fn closed_form_gradients_match_finite_differences_of_the_oracle() {
    check_gradients(crate::marginalized_average, "closed form");
}

#[test]
fn recurrence_gradients_match_finite_differences_of_the_oracle() {
    check_gradients(recurrence::marginalized_average, "recurrence");
}

#[test]
fn boundary_probabilities() {
    let dim = 2;
    let x = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    // All p = 0: the empty subset only, output 0.
    let out = to_vec(crate::marginalized_average(
        t2::<B>(&[0.0; 3], [1, 3]),
        t3::<B>(&x, [1, 3, dim]),
    ));
    assert!(out.iter().all(|v| v.abs() < 1e-7), "{out:?}");
    // All p = 1: the plain mean.
    let out = to_vec(crate::marginalized_average(
        t2::<B>(&[1.0; 3], [1, 3]),
        t3::<B>(&x, [1, 3, dim]),
    ));
    assert!(rel_err(&out, &[3.0, 4.0]) < 1e-6 * MM, "{out:?}");
    // Mixed 0 and 1: the mean of the certain ones.
    let p = [1.0, 0.0, 1.0];
    let out = to_vec(crate::marginalized_average(
        t2::<B>(&p, [1, 3]),
        t3::<B>(&x, [1, 3, dim]),
    ));
    assert!(rel_err(&out, &[3.0, 4.0]) < 1e-6 * MM, "{out:?}");
    // T = 1: p · x.
    let out = to_vec(crate::marginalized_average(
        t2::<B>(&[0.3], [1, 1]),
        t3::<B>(&[2.0, -4.0], [1, 1, 2]),
    ));
    assert!(rel_err(&out, &[0.6, -1.2]) < 1e-6 * MM, "{out:?}");
    // Gradients stay finite at the boundary.
    let pt = t2::<AB>(&[0.0, 1.0, 1.0, 0.0], [1, 4]).require_grad();
    let xt = t3::<AB>(&[1.0, 2.0, 3.0, 4.0], [1, 4, 1]).require_grad();
    let grads = crate::marginalized_average(pt.clone(), xt).sum().backward();
    assert!(to_vec(pt.grad(&grads).unwrap())
        .iter()
        .all(|v| v.is_finite()));
}

#[test]
fn long_sequences_stay_finite_and_exact_on_all_ones_features() {
    let mut rng = StdRng::seed_from_u64(5);
    for t in [4096usize, 8000] {
        let dim = 2;
        // Mostly small probabilities with a few confident snippets, as a real CAS looks.
        let p: Vec<f64> = f32_round(
            (0..t)
                .map(|i| {
                    if i % 97 == 0 {
                        0.95
                    } else {
                        rng.random::<f64>() * 0.02
                    }
                })
                .collect(),
        );
        let out = to_vec(crate::marginalized_average(
            t2::<B>(&p, [1, t]),
            Tensor::<B, 3>::ones([1, t, dim], &device()),
        ));
        let want = 1.0 - p.iter().map(|p| 1.0 - p).product::<f64>();
        for v in &out {
            assert!(v.is_finite());
            assert!((v - want).abs() < 1e-3 * want, "T={t}: {v} vs {want}");
        }
        // And with every p = 0.5 (a dense, hard case): 1 - 2^-T = 1.
        let out = to_vec(crate::marginalized_average(
            Tensor::<B, 2>::full([1, t], 0.5, &device()),
            Tensor::<B, 3>::ones([1, t, 1], &device()),
        ));
        assert!((out[0] - 1.0).abs() < 1e-3, "T={t}: {}", out[0]);
    }
}

#[test]
fn masked_batch_equals_each_video_alone() {
    let mut rng = StdRng::seed_from_u64(9);
    let lengths = [5usize, 2, 8, 1];
    let time = 8;
    let dim = 3;
    let batch = lengths.len();
    let mut p = vec![0.0; batch * time];
    let mut x = vec![0.0; batch * time * dim];
    // Padding holds garbage on purpose: it must not matter.
    for v in p.iter_mut() {
        *v = rng.random::<f64>();
    }
    for v in x.iter_mut() {
        *v = rng.random_range(-10.0..10.0);
    }
    let (p, x) = (f32_round(p), f32_round(x));
    let mask = crate::mask_from_lengths::<B>(&lengths, time, &device());
    for agg in Aggregator::ALL
        .into_iter()
        .filter(|a| *a != Aggregator::Dropout)
    {
        let batched = to_vec(agg.aggregate(
            t2::<B>(&p, [batch, time]),
            t3::<B>(&x, [batch, time, dim]),
            Some(mask.clone()),
            false,
        ));
        for (b, &len) in lengths.iter().enumerate() {
            let pb = &p[b * time..b * time + len];
            let xb = &x[b * time * dim..(b * time + len) * dim];
            let alone = to_vec(agg.aggregate(
                t2::<B>(pb, [1, len]),
                t3::<B>(xb, [1, len, dim]),
                None,
                false,
            ));
            let got = &batched[b * dim..(b + 1) * dim];
            assert!(
                rel_err(got, &alone) < 1e-5 * MM,
                "{agg} video {b}: {got:?} vs {alone:?}"
            );
            if agg == Aggregator::Maa {
                let oracle = exhaustive::marginalized_average(pb, xb, dim);
                assert!(rel_err(got, &oracle) < 1e-5 * MM);
            }
        }
    }
    // The masked recurrence agrees too.
    let rec = to_vec(recurrence::marginalized_average_masked(
        t2::<B>(&p, [batch, time]),
        t3::<B>(&x, [batch, time, dim]),
        mask,
    ));
    for (b, &len) in lengths.iter().enumerate() {
        let oracle = exhaustive::marginalized_average(
            &p[b * time..b * time + len],
            &x[b * time * dim..(b * time + len) * dim],
            dim,
        );
        assert!(rel_err(&rec[b * dim..(b + 1) * dim], &oracle) < 1e-5 * MM);
    }
}

#[test]
fn baseline_aggregators_match_their_formulas() {
    let p = [0.1, 0.7, 0.4, 0.0];
    let x = [1.0, -2.0, 3.0, 5.0];
    let run = |agg: Aggregator| to_vec(agg.weights(t2::<B>(&p, [1, 4]), None, false));
    let sum: f64 = p.iter().sum();
    let esum: f64 = p.iter().map(|v: &f64| v.exp()).sum();
    let cases: Vec<(Aggregator, Vec<f64>)> = vec![
        (Aggregator::WeightedSum, p.to_vec()),
        (Aggregator::Dropout, p.to_vec()),
        (Aggregator::Norm, p.iter().map(|v| v / sum).collect()),
        (
            Aggregator::SoftmaxNorm,
            p.iter().map(|v| v.exp() / esum).collect(),
        ),
        (Aggregator::Mean, vec![0.25; 4]),
        (
            Aggregator::Maa,
            exhaustive::marginalized_weights(&f32_round(p.to_vec())),
        ),
    ];
    for (agg, want) in cases {
        let got = run(agg);
        assert!(
            rel_err(&got, &want) < 1e-5 * MM,
            "{agg}: {got:?} vs {want:?}"
        );
        let pooled =
            to_vec(agg.aggregate(t2::<B>(&p, [1, 4]), t3::<B>(&x, [1, 4, 1]), None, false));
        let want_pooled: f64 = want.iter().zip(&x).map(|(w, x)| w * x).sum();
        assert!((pooled[0] - want_pooled).abs() < 1e-5 * MM, "{agg}");
    }
}

/// The host weights of inference (`Aggregator::inference_weights`, MAA by
/// `marginalized_weights_host` in f64) equal the exhaustive f64 oracle for T = 1..12 (with p
/// of exactly 0 and 1 included) and, for every aggregator, the device weights of
/// `Aggregator::weights` at inference on sequences up to 300 snippets.
#[test]
fn host_inference_weights_match_the_oracle_and_the_device() {
    let mut rng = StdRng::seed_from_u64(5);
    for t in 1usize..=12 {
        let (mut p, _) = random_inputs(&mut rng, t, 1);
        if t > 3 {
            p[0] = 0.0;
            p[1] = 1.0;
        }
        let host = crate::marginalized_weights_host(&p);
        assert!(
            rel_err(&host, &exhaustive::marginalized_weights(&p)) < 1e-12,
            "T={t}"
        );
    }
    for t in [1usize, 5, 64, 300] {
        let (p, _) = random_inputs(&mut rng, t, 1);
        let p32: Vec<f32> = p.iter().map(|&v| v as f32).collect();
        let p = f32_round(p);
        for agg in Aggregator::ALL {
            let host: Vec<f64> = agg
                .inference_weights(&p32)
                .into_iter()
                .map(f64::from)
                .collect();
            let device = to_vec(agg.weights(t2::<B>(&p, [1, t]), None, false));
            assert!(
                rel_err(&host, &device) < 1e-5 * MM,
                "{agg} T={t}: {:?} vs {:?}",
                &host[..t.min(4)],
                &device[..t.min(4)]
            );
        }
    }
    assert!(Aggregator::Maa.inference_weights(&[]).is_empty());
}

#[test]
fn dropout_keeps_or_drops_each_snippet_while_training() {
    <B as burn::tensor::backend::Backend>::seed(&device(), 1234);
    let t = 400;
    let p: Vec<f64> = (0..t).map(|i| 0.1 + 0.8 * (i as f64 / t as f64)).collect();
    let p = f32_round(p);
    let w = to_vec(Aggregator::Dropout.weights(t2::<B>(&p, [1, t]), None, true));
    let mut kept = 0;
    for (w, p) in w.iter().zip(&p) {
        if *w == 0.0 {
            continue;
        }
        kept += 1;
        assert!(
            (w - 2.0 * p).abs() < 1e-6,
            "a kept snippet is scaled by 1/0.5"
        );
    }
    // Bernoulli(0.5) over 400 snippets: 200 ± 4.5σ.
    assert!((110..=290).contains(&kept), "kept {kept} of {t}");
}

#[test]
fn pool_layer_1d_2d_and_masked() {
    let mut rng = StdRng::seed_from_u64(2);
    let (h, w, d) = (3, 4, 5);
    let (p, x) = random_inputs(&mut rng, h * w, d);
    let pool = MaaPoolConfig::new().init::<B>();
    let one = to_vec(pool.forward(t2::<B>(&p, [1, h * w]), t3::<B>(&x, [1, h * w, d])));
    let data: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let x4 = Tensor::<B, 4>::from_data(TensorData::new(data, [1, h, w, d]), &device());
    let pd: Vec<f32> = p.iter().map(|&v| v as f32).collect();
    let p3 = Tensor::<B, 3>::from_data(TensorData::new(pd, [1, h, w]), &device());
    let two = to_vec(pool.forward_2d(p3, x4));
    assert!(rel_err(&two, &one) < 1e-6 * MM);
    assert!(rel_err(&one, &exhaustive::marginalized_average(&p, &x, d)) < 1e-5 * MM);
    let mask: Tensor<B, 2, Bool> = crate::mask_from_lengths(&[h * w], h * w, &device());
    let masked =
        to_vec(pool.forward_masked(t2::<B>(&p, [1, h * w]), t3::<B>(&x, [1, h * w, d]), mask));
    assert!(rel_err(&masked, &one) < 1e-6 * MM);
    let lam = to_vec(pool.weights(t2::<B>(&p, [1, h * w])));
    assert!(rel_err(&lam, &exhaustive::marginalized_weights(&p)) < 1e-5);
}

#[test]
fn aggregator_names_round_trip() {
    for agg in Aggregator::ALL {
        assert_eq!(agg.name().parse::<Aggregator>().unwrap(), agg);
        assert_eq!(agg.to_string(), agg.name());
    }
    assert!("bogus".parse::<Aggregator>().is_err());
}

fn arb_probs(max_t: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(0.0f64..=1.0, 2..=max_t).prop_map(f32_round)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Σ_i λ_i = 1 - Π_i (1 - p_i): every non-empty subset's weights sum to one.
    #[test]
    fn weights_sum_to_one_minus_prob_of_empty_subset(p in arb_probs(40)) {
        let t = p.len();
        let w = to_vec(crate::marginalized_weights(t2::<B>(&p, [1, t])));
        let want = 1.0 - p.iter().map(|p| 1.0 - p).product::<f64>();
        let got: f64 = w.iter().sum();
        prop_assert!((got - want).abs() < 2e-5, "{} vs {}", got, want);
    }

    /// Proposition 1: p_i ≥ p_j ⇔ c_i ≥ c_j ⇔ λ_i ≥ λ_j (strict orders, with a margin).
    #[test]
    fn proposition_1_order_is_preserved(p in arb_probs(16)) {
        let t = p.len();
        let c = to_vec(crate::context_factors(t2::<B>(&p, [1, t])));
        let w = to_vec(crate::marginalized_weights(t2::<B>(&p, [1, t])));
        let c64 = exhaustive::context_factors(&p);
        for i in 0..t {
            for j in 0..t {
                if p[i] > p[j] + 1e-3 {
                    // Larger p_i: the others exclude i and include the weaker j, so the
                    // competitor count is smaller and c_i is larger; λ_i follows.
                    prop_assert!(c[i] >= c[j] - 1e-6, "c not ordered");
                    prop_assert!(c64[i] >= c64[j]);
                    prop_assert!(w[i] >= w[j] - 1e-6, "λ not ordered: {:?} {:?}", p, w);
                }
            }
        }
    }

    /// Proposition 2, with the empty subset accounted for: with `S = Σλ = 1 - Π(1 - p)`,
    /// `I = {i : c_i ≥ S / Σp}` is non-empty and for `i ∈ I` and every `j` the normalised λ
    /// spread is at least the normalised p spread. (The paper's statement uses `1 / Σp`, which
    /// is the same when some `p_i = 1`; it can fail otherwise, e.g. `p = (0.01, 0.01)` gives
    /// `c_i < 1 / Σp` for all `i`. The literal form is checked below with `p_0 = 1`.)
    #[test]
    fn proposition_2_dominant_response_suppression(
        p in prop::collection::vec(0.01f64..=1.0, 2..=12).prop_map(f32_round),
        certain in any::<bool>(),
    ) {
        let mut p = p;
        if certain {
            p[0] = 1.0;
        }
        let t = p.len();
        let c = exhaustive::context_factors(&p);
        let lam: Vec<f64> = p.iter().zip(&c).map(|(p, c)| p * c).collect();
        let sp: f64 = p.iter().sum();
        let sl: f64 = lam.iter().sum();
        let s_exact = 1.0 - p.iter().map(|p| 1.0 - p).product::<f64>();
        prop_assert!((sl - s_exact).abs() < 1e-12);
        let set: Vec<usize> = (0..t).filter(|&i| c[i] >= s_exact / sp).collect();
        prop_assert!(!set.is_empty());
        if certain {
            // The paper's literal index set.
            let literal: Vec<usize> = (0..t).filter(|&i| c[i] >= 1.0 / sp).collect();
            prop_assert_eq!(&literal, &set);
        }
        // The same with the backend's λ.
        let lam_b = to_vec(crate::marginalized_weights(t2::<B>(&p, [1, t])));
        let sl_b: f64 = lam_b.iter().sum();
        for &i in &set {
            for j in 0..t {
                let dp = (p[i] / sp - p[j] / sp).abs();
                prop_assert!(dp <= (lam[i] / sl - lam[j] / sl).abs() + 1e-12);
                prop_assert!(dp <= (lam_b[i] / sl_b - lam_b[j] / sl_b).abs() + 1e-5);
            }
        }
    }

    /// Equal probabilities give equal weights; closed form = recurrence for random inputs.
    #[test]
    fn uniform_probs_give_equal_weights(v in 0.01f64..=1.0, t in 1usize..30) {
        let p = f32_round(vec![v; t]);
        let w = to_vec(crate::marginalized_weights(t2::<B>(&p, [1, t])));
        for x in &w {
            prop_assert!((x - w[0]).abs() < 1e-6);
        }
    }
}
