//! Shapes, masks, Proposition 1 and the loss of one stream.

use burn::tensor::{Distribution, Tensor, TensorData};
use maa_core::{mask_from_lengths, Aggregator};

use super::{TestAutodiffBackend, TestBackend};
use crate::model::{bce_with_logits, StreamModelConfig};

type B = TestBackend;

fn config(aggregator: Aggregator) -> StreamModelConfig {
    StreamModelConfig::new()
        .with_feature_dim(12)
        .with_num_classes(5)
        .with_attention_hidden(8)
        .with_aggregator(aggregator)
}

fn features(batch: usize, time: usize, dim: usize) -> Tensor<B, 3> {
    <B as burn::tensor::backend::Backend>::seed(&Default::default(), 7);
    Tensor::random(
        [batch, time, dim],
        Distribution::Normal(0.0, 1.0),
        &Default::default(),
    )
}

#[test]
fn shapes_of_forward_and_predict() {
    let _rng = super::rng_lock();
    let device = Default::default();
    for agg in Aggregator::ALL {
        let model = config(agg).init::<B>(&device);
        let x = features(3, 7, 12);
        let out = model.forward(x.clone(), None, false);
        assert_eq!(out.attention.dims(), [3, 7]);
        assert_eq!(out.weights.dims(), [3, 7]);
        assert_eq!(out.aggregated.dims(), [3, 12]);
        assert_eq!(out.logits.dims(), [3, 5]);
        let pred = model.predict(x, None);
        assert_eq!(pred.cas.dims(), [3, 7, 5]);
        assert_eq!(pred.video_probs.dims(), [3, 5]);
        let cas: Vec<f32> = pred.cas.into_data().to_vec().unwrap();
        assert!(cas.iter().all(|v| v.is_finite() && *v >= 0.0), "{agg}");
    }
}

/// A padded batch gives each video exactly what it gets alone, and zero CAS on padding.
#[test]
fn padded_batch_equals_each_video_alone() {
    let _rng = super::rng_lock();
    let device = Default::default();
    let lengths = [7usize, 4, 1];
    for agg in [
        Aggregator::Maa,
        Aggregator::WeightedSum,
        Aggregator::Norm,
        Aggregator::SoftmaxNorm,
        Aggregator::Mean,
    ] {
        let model = config(agg).init::<B>(&device);
        let x = features(3, 7, 12);
        let mask = mask_from_lengths::<B>(&lengths, 7, &device);
        let batched = model.predict(x.clone(), Some(mask));
        for (b, &len) in lengths.iter().enumerate() {
            let alone = model.predict(x.clone().slice([b..b + 1, 0..len]), None);
            batched
                .video_probs
                .clone()
                .slice(b..b + 1)
                .into_data()
                .assert_approx_eq::<f32>(&alone.video_probs.into_data(), super::tol(1e-5, 1e-6));
            batched
                .cas
                .clone()
                .slice([b..b + 1, 0..len])
                .into_data()
                .assert_approx_eq::<f32>(&alone.cas.into_data(), super::tol(1e-5, 1e-6));
            if len < 7 {
                let pad: Vec<f32> = batched
                    .cas
                    .clone()
                    .slice([b..b + 1, len..7])
                    .into_data()
                    .to_vec()
                    .unwrap();
                assert!(pad.iter().all(|v| *v == 0.0), "{agg}: CAS on padding");
            }
        }
    }
}

/// Proposition 1 / eq. 11 and 13: the video score from the aggregated feature equals the sum
/// over snippets of `λ_t (w_c · x_t)` (plus the bias, which is not weighted).
#[test]
fn proposition_1_video_score_from_snippet_terms() {
    let _rng = super::rng_lock();
    let device = Default::default();
    for agg in [Aggregator::Maa, Aggregator::WeightedSum, Aggregator::Norm] {
        let model = config(agg).init::<B>(&device);
        let x = features(2, 9, 12);
        let out = model.forward(x.clone(), None, false);
        let weight = model.classifier.weight.val(); // [D, C]
        let bias = model.classifier.bias.as_ref().unwrap().val(); // [C]
        let per_snippet = x.reshape([18, 12]).matmul(weight).reshape([2, 9, 5]); // w_c·x_t
        let from_terms = (per_snippet * out.weights.clone().unsqueeze_dim::<3>(2))
            .sum_dim(1)
            .reshape([2, 5])
            + bias.unsqueeze::<2>();
        out.logits
            .into_data()
            .assert_approx_eq::<f32>(&from_terms.into_data(), super::tol(1e-4, 1e-5));
        // For MAA, λ_t = c_t p_t with c_t the context factor (eq. 3 / 13).
        if agg == Aggregator::Maa {
            let c = maa_core::context_factors(out.attention.clone());
            (c * out.attention)
                .into_data()
                .assert_approx_eq::<f32>(&out.weights.into_data(), super::tol(1e-5, 1e-6));
        }
    }
}

#[test]
fn cas_uses_attention_for_maan_and_lambda_for_stpn() {
    let _rng = super::rng_lock();
    let device = Default::default();
    let x = features(1, 6, 12);
    for (agg, uses_p) in [
        (Aggregator::Maa, true),
        (Aggregator::WeightedSum, false),
        (Aggregator::Norm, false),
    ] {
        let model = config(agg).init::<B>(&device);
        assert_eq!(model.uses_attention_for_cas(), uses_p);
        let out = model.forward(x.clone(), None, false);
        let pred = model.predict(x.clone(), None);
        let snippet = burn::tensor::activation::sigmoid(model.classifier.forward(x.clone()));
        let w = if uses_p { out.attention } else { out.weights };
        (snippet * w.unsqueeze_dim::<3>(2))
            .into_data()
            .assert_approx_eq::<f32>(&pred.cas.into_data(), super::tol(1e-5, 1e-6));
    }
}

#[test]
fn bce_matches_the_definition() {
    let _rng = super::rng_lock();
    let device = Default::default();
    let logits =
        Tensor::<B, 2>::from_data(TensorData::from([[2.0f32, -1.0], [0.5, 30.0]]), &device);
    let labels = Tensor::<B, 2>::from_data(TensorData::from([[1.0f32, 0.0], [0.0, 1.0]]), &device);
    let got = bce_with_logits(logits, labels).into_scalar();
    let s = |z: f64| 1.0 / (1.0 + (-z).exp());
    let want = -((s(2.0)).ln() + (1.0 - s(-1.0)).ln() + (1.0 - s(0.5)).ln() + (s(30.0)).ln()) / 4.0;
    assert!((got as f64 - want).abs() < 1e-5, "{got} vs {want}");
}

#[test]
fn sparsity_only_for_stpn() {
    let _rng = super::rng_lock();
    assert_eq!(
        config(Aggregator::WeightedSum).effective_sparsity_weight(),
        1e-4
    );
    assert_eq!(config(Aggregator::Maa).effective_sparsity_weight(), 0.0);
    let device = Default::default();
    let x = features(2, 5, 12);
    let labels = Tensor::<B, 2>::zeros([2, 5], &device);
    let model = config(Aggregator::WeightedSum)
        .with_sparsity_weight(10.0)
        .init::<B>(&device);
    let out = model.forward(x, None, true);
    let with = model.loss(&out, labels.clone(), None).into_scalar();
    let bce = bce_with_logits(out.logits.clone(), labels).into_scalar();
    let l1 = out.attention.mean().into_scalar();
    assert!((with - (bce + 10.0 * l1)).abs() < 1e-5);
}

/// Gradients reach every parameter and an Adam step lowers the loss on a fixed batch.
#[test]
fn adam_step_lowers_the_loss() {
    let _rng = super::rng_lock();
    use burn::optim::{AdamConfig, GradientsParams, Optimizer};
    type AD = TestAutodiffBackend;
    let device = Default::default();
    <AD as burn::tensor::backend::Backend>::seed(&device, 3);
    let mut model = config(Aggregator::Maa).init::<AD>(&device);
    let x = Tensor::<AD, 3>::random([4, 6, 12], Distribution::Normal(0.0, 1.0), &device);
    let labels = Tensor::<AD, 2>::from_data(
        TensorData::from([
            [1.0f32, 0.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0, 1.0],
            [0.0, 0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 0.0, 1.0, 0.0],
        ]),
        &device,
    );
    let mut optim = AdamConfig::new().init();
    let first = model.forward_loss(x.clone(), labels.clone(), None);
    let l0 = first.clone().into_scalar();
    // Every weight and bias has a non-zero gradient.
    type Inner = <AD as burn::tensor::backend::AutodiffBackend>::InnerBackend;
    let grads = GradientsParams::from_grads(first.backward(), &model);
    for (name, layer) in [
        ("attention_fc1", &model.attention_fc1),
        ("attention_fc2", &model.attention_fc2),
        ("classifier", &model.classifier),
    ] {
        let w = grads
            .get::<Inner, 2>(layer.weight.id)
            .unwrap_or_else(|| panic!("{name}.weight has no gradient"));
        let b = grads
            .get::<Inner, 1>(layer.bias.as_ref().unwrap().id)
            .unwrap_or_else(|| panic!("{name}.bias has no gradient"));
        assert!(
            w.abs().sum().into_scalar() > 0.0,
            "{name}.weight: zero gradient"
        );
        assert!(
            b.abs().sum().into_scalar() > 0.0,
            "{name}.bias: zero gradient"
        );
    }
    for _ in 0..60 {
        let loss = model.forward_loss(x.clone(), labels.clone(), None);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(5e-3, model, grads);
    }
    let l1 = model.forward_loss(x, labels, None).into_scalar();
    assert!(l1 < l0 * 0.8, "loss {l0} -> {l1}");
}

/// `ModelError` keeps the `maan-eval` and `dataset` errors it wraps as its `source()`, so that a
/// "caused by:" chain reaches the message that names the file and the video.
#[test]
fn model_errors_keep_their_sources() {
    use std::error::Error as _;
    let eval = maan_eval::EvalError::Json {
        file: "gt.json".into(),
        line: 3,
        column: 7,
        message: "expected value".into(),
    };
    let err = crate::ModelError::Localize {
        video: "video_test_0000004".into(),
        source: eval,
    };
    assert!(err.to_string().contains("video_test_0000004"), "{err}");
    let source = err.source().expect("source kept");
    assert!(source.to_string().contains("gt.json"), "{source}");
    let metric = crate::ModelError::from(maan_eval::EvalError::Json {
        file: "det.json".into(),
        line: 1,
        column: 1,
        message: "eof".into(),
    });
    assert!(metric.source().unwrap().to_string().contains("det.json"));
    let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
    let data = crate::ModelError::from(dataset::DatasetError::Io {
        path: "rgb/v.npy".into(),
        source: io,
    });
    assert!(data.source().unwrap().to_string().contains("rgb/v.npy"));
}

/// `erase_highest` against an exhaustive oracle on random rows: in each row exactly
/// `min(round(f·n), n − 1)` of the `n` valid positions are hidden, only valid ones, and no kept
/// valid position scores above a hidden one (with ties going to the earlier position).
#[test]
fn erase_highest_hides_the_top_fraction_of_each_rows_valid_positions() {
    use rand::{rngs::StdRng, Rng, SeedableRng};
    let mut rng = StdRng::seed_from_u64(11);
    for case in 0..500 {
        let (rows, time) = (rng.random_range(1..4), rng.random_range(1..12));
        // Few distinct values, so that ties occur.
        let scores: Vec<f32> = (0..rows * time)
            .map(|_| rng.random_range(0..6) as f32 / 5.0)
            .collect();
        let valid: Vec<bool> = (0..rows * time).map(|_| rng.random_bool(0.8)).collect();
        let f = [0.0, 0.2, 0.3, 0.5, 0.9][case % 5];
        let kept = crate::erase_highest(&scores, &valid, time, f);
        for r in 0..rows {
            let idx: Vec<usize> = (r * time..(r + 1) * time).filter(|&i| valid[i]).collect();
            let n = idx.len();
            let want = ((f * n as f64).round() as usize).min(n.saturating_sub(1));
            let hidden: Vec<usize> = idx.iter().copied().filter(|&i| !kept[i]).collect();
            assert_eq!(hidden.len(), want, "case {case} row {r}");
            for i in r * time..(r + 1) * time {
                if !valid[i] {
                    assert!(!kept[i], "a padded position stays padded");
                }
            }
            for &h in &hidden {
                for &k in idx.iter().filter(|&&i| kept[i]) {
                    assert!(
                        scores[h] > scores[k] || (scores[h] == scores[k] && h < k),
                        "case {case}: hidden {h} ({}) vs kept {k} ({})",
                        scores[h],
                        scores[k]
                    );
                }
            }
        }
    }
}

/// `attention_erasing_mask` hides, in each video of a padded batch, the real snippets with
/// the highest attention `p_t` (as `StreamModel::attention` computes it) and keeps padding
/// hidden: equal to `erase_highest` on the attention read back.
#[test]
fn attention_erasing_mask_hides_the_snippets_the_attention_rates_highest() {
    let _rng = super::rng_lock();
    let device = Default::default();
    let model = config(Aggregator::Maa).init::<B>(&device);
    let x = features(3, 7, 12);
    let mask = mask_from_lengths::<B>(&[7, 5, 2], 7, &device);
    let got = model
        .attention_erasing_mask(x.clone(), Some(mask.clone()), 0.4)
        .into_data()
        .iter::<bool>()
        .collect::<Vec<bool>>();
    let p = model
        .attention(x, Some(mask.clone()))
        .into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .unwrap();
    let valid: Vec<bool> = mask.into_data().iter::<bool>().collect();
    // 0.4 of 7, 5 and 2 real snippets: 3, 2 and 1 hidden.
    let hidden: Vec<usize> = (0..3)
        .map(|r| {
            (0..7)
                .filter(|&t| valid[r * 7 + t] && !got[r * 7 + t])
                .count()
        })
        .collect();
    assert_eq!(hidden, [3, 2, 1]);
    let mut want = valid.clone();
    for r in 0..3 {
        let mut real: Vec<usize> = (0..7).filter(|&t| valid[r * 7 + t]).collect();
        real.sort_by(|&a, &b| p[r * 7 + b].total_cmp(&p[r * 7 + a]));
        for &t in &real[..hidden[r]] {
            want[r * 7 + t] = false;
        }
    }
    assert_eq!(got, want);
}
