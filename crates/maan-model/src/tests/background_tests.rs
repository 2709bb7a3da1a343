//! Background modelling (`Background`): `none` is the paper's model bit for bit, `bas` is
//! BaS-Net's pair of cross-entropies, and a `bas` run saves, reloads and tests with `C`-column
//! CAS.

use burn::optim::GradientsParams;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Bool, Distribution, Tensor, TensorData};
use maa_core::{mask_from_lengths, Aggregator};

use super::{model_params, SLACK};
use super::{TestAutodiffBackend, TestBackend};
use crate::infer::run_videos;
use crate::model::{bce_with_logits, Background, StreamModel, StreamModelConfig};
use crate::run::{load_config, load_models};
use crate::run::{Which, CONFIG_FILE};
use crate::toy::{toy_dataset, ToyConfig};
use crate::train::{fit_config, NoObserver, TrainConfig, Trainer};

type AD = TestAutodiffBackend;
type Inner = <AD as AutodiffBackend>::InnerBackend;

fn config(aggregator: Aggregator, background: Background) -> StreamModelConfig {
    StreamModelConfig::new()
        .with_feature_dim(12)
        .with_num_classes(5)
        .with_attention_hidden(8)
        .with_aggregator(aggregator)
        .with_background(background)
}

fn labels<B: Backend>(device: &B::Device) -> Tensor<B, 2> {
    Tensor::from_data(
        TensorData::from([
            [1.0f32, 0.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0, 1.0],
            [0.0, 0.0, 0.0, 1.0, 0.0],
        ]),
        device,
    )
}

/// The loss of the model before background modelling existed, verbatim: BCE on the
/// video-level logits plus STPN's sparsity term.
fn todays_loss<B: Backend>(
    model: &StreamModel<B>,
    x: Tensor<B, 3>,
    labels: Tensor<B, 2>,
    mask: Option<Tensor<B, 2, Bool>>,
) -> Tensor<B, 1> {
    let output = model.forward(x, mask.clone(), true);
    let bce = bce_with_logits(output.logits.clone(), labels);
    let beta = if model.aggregator == Aggregator::WeightedSum {
        model.sparsity_weight
    } else {
        0.0
    };
    if beta == 0.0 {
        return bce;
    }
    let l1 = match mask {
        Some(mask) => {
            let count = mask.float().sum_dim(1).clamp_min(1.0);
            (output.attention.clone().sum_dim(1) / count).mean()
        }
        None => output.attention.clone().mean_dim(1).mean(),
    };
    bce + l1 * beta
}

/// Every parameter gradient of `loss` as f32 bits, in [`model_params`]' order.
fn gradient_bits(loss: Tensor<AD, 1>, model: &StreamModel<AD>) -> Vec<u32> {
    let grads = GradientsParams::from_grads(loss.backward(), model);
    let mut out = Vec::new();
    for l in [
        &model.attention_fc1,
        &model.attention_fc2,
        &model.classifier,
    ] {
        let w = grads.get::<Inner, 2>(l.weight.id).expect("weight gradient");
        let b = grads
            .get::<Inner, 1>(l.bias.as_ref().unwrap().id)
            .expect("bias gradient");
        for v in [w.into_data(), b.into_data()] {
            out.extend(v.to_vec::<f32>().unwrap().iter().map(|x| x.to_bits()));
        }
    }
    out
}

/// `--background none` (and a configuration written before the option existed) is today's
/// model: same initialisation (bit for bit), a `D × C` classifier, no base branch, and the same
/// loss and gradients as the loss code before the option (copied verbatim in `todays_loss`),
/// on a padded batch, for MAA and STPN (with its sparsity term), to the rounding of threaded
/// reductions: the workspace build turns on ndarray's threads (feature unification), whose
/// matrix products round differently from run to run, so the comparison is a relative L2
/// error of at most 1e-5 (a few float ulps; a different loss or a missing term is off by
/// orders of magnitude more).
#[test]
fn background_none_is_todays_model() {
    let _rng = super::rng_lock();
    let device = Default::default();
    for agg in [Aggregator::Maa, Aggregator::WeightedSum] {
        // A config.json of an older run has no `background` field.
        let mut json = serde_json::to_value(config(agg, Background::None)).unwrap();
        assert_eq!(json["background"], "none");
        json.as_object_mut().unwrap().remove("background");
        let old: StreamModelConfig = serde_json::from_value(json).unwrap();
        assert_eq!(old, config(agg, Background::None));

        // Parameters initialise lazily: read each model's right after seeding.
        <AD as Backend>::seed(&device, 11);
        let model = old.init::<AD>(&device);
        let params = model_params(&model);
        <AD as Backend>::seed(&device, 11);
        let default = config(agg, Background::None).init::<AD>(&device);
        assert_eq!(params, model_params(&default));
        assert_eq!(model.classifier.weight.dims(), [12, 5]);

        let x = Tensor::<AD, 3>::random([3, 6, 12], Distribution::Normal(0.0, 1.0), &device);
        let mask = mask_from_lengths::<AD>(&[6, 4, 2], 6, &device);
        assert!(model
            .forward(x.clone(), Some(mask.clone()), true)
            .base_logits
            .is_none());
        let new = model.forward_loss(x.clone(), labels(&device), Some(mask.clone()));
        let old = todays_loss(&model, x, labels(&device), Some(mask));
        let value = |l: &Tensor<AD, 1>| l.clone().into_scalar() as f64;
        let (new_loss, old_loss) = (value(&new), value(&old));
        assert!(
            (new_loss - old_loss).abs() <= 1e-6 * SLACK * old_loss.abs().max(1e-3),
            "{agg}: loss {new_loss} vs {old_loss}"
        );
        let (new_grads, old_grads) = (gradient_bits(new, &model), gradient_bits(old, &model));
        let as_f64 =
            |g: &[u32]| -> Vec<f64> { g.iter().map(|b| f32::from_bits(*b) as f64).collect() };
        let (a, b) = (as_f64(&new_grads), as_f64(&old_grads));
        let num: f64 = a.iter().zip(&b).map(|(x, y)| (x - y).powi(2)).sum();
        let den: f64 = b.iter().map(|y| y * y).sum();
        let rel = (num / den.max(1e-30)).sqrt();
        assert!(
            rel <= 1e-5 * SLACK,
            "{agg}: gradients differ (relative L2 {rel:e})"
        );
    }
}

#[test]
fn background_names_round_trip_through_json() {
    for bg in Background::ALL {
        let json = serde_json::to_string(&bg).unwrap();
        assert_eq!(json, format!("\"{}\"", bg.name()));
        assert_eq!(serde_json::from_str::<Background>(&json).unwrap(), bg);
    }
    assert_eq!(
        serde_json::from_str::<Background>("null").unwrap(),
        Background::None
    );
    assert!(serde_json::from_str::<Background>("\"um\"").is_err());
}

fn host(t: Tensor<TestBackend, 2>) -> Vec<Vec<f64>> {
    let [rows, cols] = t.dims();
    let v: Vec<f32> = t.into_data().convert::<f32>().to_vec().unwrap();
    (0..rows)
        .map(|r| (0..cols).map(|c| v[r * cols + c] as f64).collect())
        .collect()
}

fn host1(t: Tensor<TestBackend, 1>) -> Vec<f64> {
    let v: Vec<f32> = t.into_data().convert::<f32>().to_vec().unwrap();
    v.into_iter().map(f64::from).collect()
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Mean BCE of `σ(z)` against `y`, in f64.
fn bce64(z: &[Vec<f64>], y: &[Vec<f64>]) -> f64 {
    let mut sum = 0.0;
    let mut n = 0.0;
    for (zr, yr) in z.iter().zip(y) {
        for (&z, &y) in zr.iter().zip(yr) {
            sum -= y * sigmoid(z).ln() + (1.0 - y) * (1.0 - sigmoid(z)).ln();
            n += 1.0;
        }
    }
    sum / n
}

/// The `bas` loss is `BCE(base, [y, 1]) + BCE(filtered, [y, 0])` (+ STPN's sparsity term),
/// recomputed in f64 from the model's weights on a tiny padded batch: the base branch is the
/// uniform mean of the valid snippets, the filtered branch the aggregator's weighted sum (for
/// STPN, `λ = p` computed by hand; for MAA, `λ` read from the model).
#[test]
fn bas_loss_matches_a_float64_computation() {
    let _rng = super::rng_lock();
    type B = TestBackend;
    let device = Default::default();
    let (d, c, h) = (3usize, 2usize, 2usize);
    let lengths = [3usize, 2];
    for (agg, beta) in [(Aggregator::WeightedSum, 0.5), (Aggregator::Maa, 0.5)] {
        <B as Backend>::seed(&device, 21);
        let model = StreamModelConfig::new()
            .with_feature_dim(d)
            .with_num_classes(c)
            .with_attention_hidden(h)
            .with_aggregator(agg)
            .with_sparsity_weight(beta)
            .with_background(Background::Bas)
            .init::<B>(&device);
        assert_eq!(model.classifier.weight.dims(), [d, c + 1]);
        assert_eq!(model.num_classes(), c);
        let x = Tensor::<B, 3>::random([2, 3, d], Distribution::Normal(0.0, 1.0), &device);
        let mask = mask_from_lengths::<B>(&lengths, 3, &device);
        let y = Tensor::<B, 2>::from_data(TensorData::from([[1.0f32, 0.0], [1.0, 1.0]]), &device);
        let out = model.forward(x.clone(), Some(mask.clone()), true);
        let got = model.loss(&out, y, Some(mask)).into_scalar() as f64;

        let w1 = host(model.attention_fc1.weight.val());
        let b1 = host1(model.attention_fc1.bias.as_ref().unwrap().val());
        let w2 = host(model.attention_fc2.weight.val());
        let b2 = host1(model.attention_fc2.bias.as_ref().unwrap().val());
        let wc = host(model.classifier.weight.val());
        let bc = host1(model.classifier.bias.as_ref().unwrap().val());
        let xs: Vec<f32> = x.into_data().to_vec().unwrap();
        let feat = |b: usize, t: usize| -> Vec<f64> {
            (0..d).map(|k| xs[(b * 3 + t) * d + k] as f64).collect()
        };
        let model_lambda = host(out.weights.clone());
        let classify = |v: &[f64]| -> Vec<f64> {
            (0..=c)
                .map(|j| bc[j] + (0..d).map(|k| v[k] * wc[k][j]).sum::<f64>())
                .collect()
        };
        let (mut base, mut filtered, mut l1) = (Vec::new(), Vec::new(), 0.0);
        for (b, &len) in lengths.iter().enumerate() {
            let mut mean = vec![0.0; d];
            let mut agg_feat = vec![0.0; d];
            let mut p_sum = 0.0;
            for t in 0..len {
                let xt = feat(b, t);
                let hidden: Vec<f64> = (0..h)
                    .map(|j| {
                        let z = b1[j] + (0..d).map(|k| xt[k] * w1[k][j]).sum::<f64>();
                        if z >= 0.0 {
                            z
                        } else {
                            0.01 * z
                        }
                    })
                    .collect();
                let p = sigmoid(b2[0] + (0..h).map(|j| hidden[j] * w2[j][0]).sum::<f64>());
                p_sum += p;
                let lambda = if agg == Aggregator::WeightedSum {
                    p
                } else {
                    model_lambda[b][t]
                };
                for k in 0..d {
                    mean[k] += xt[k] / len as f64;
                    agg_feat[k] += lambda * xt[k];
                }
            }
            l1 += p_sum / len as f64 / lengths.len() as f64;
            base.push(classify(&mean));
            filtered.push(classify(&agg_feat));
        }
        let y_base = vec![vec![1.0, 0.0, 1.0], vec![1.0, 1.0, 1.0]];
        let y_filtered = vec![vec![1.0, 0.0, 0.0], vec![1.0, 1.0, 0.0]];
        let sparsity = if agg == Aggregator::WeightedSum {
            beta * l1
        } else {
            0.0
        };
        let want = bce64(&base, &y_base) + bce64(&filtered, &y_filtered) + sparsity;
        assert!(
            (got - want).abs() <= 1e-5 * super::SLACK * want.abs().max(1.0),
            "{agg}: loss {got} vs f64 {want}"
        );
    }
}

/// A `bas` model's CAS and video scores have the `C` action classes only: the first `C`
/// columns of the filtered branch, as without background modelling.
#[test]
fn bas_cas_has_c_columns_from_the_filtered_branch() {
    let _rng = super::rng_lock();
    type B = TestBackend;
    let device = Default::default();
    <B as Backend>::seed(&device, 5);
    for agg in [Aggregator::Maa, Aggregator::WeightedSum] {
        let model = config(agg, Background::Bas).init::<B>(&device);
        let x = Tensor::<B, 3>::random([2, 7, 12], Distribution::Normal(0.0, 1.0), &device);
        let out = model.forward(x.clone(), None, false);
        assert_eq!(out.logits.dims(), [2, 6]);
        assert_eq!(out.base_logits.as_ref().unwrap().dims(), [2, 6]);
        let pred = model.predict(x.clone(), None);
        assert_eq!(pred.cas.dims(), [2, 7, 5]);
        assert_eq!(pred.video_probs.dims(), [2, 5]);
        let snippet = burn::tensor::activation::sigmoid(model.classifier.forward(x)).slice([
            0..2,
            0..7,
            0..5,
        ]);
        let w = if agg == Aggregator::Maa {
            out.attention
        } else {
            out.weights
        };
        (snippet * w.unsqueeze_dim::<3>(2))
            .into_data()
            .assert_approx_eq::<f32>(&pred.cas.into_data(), super::tol(1e-5, 1e-6));
        burn::tensor::activation::sigmoid(out.logits.slice([0..2, 0..5]))
            .into_data()
            .assert_approx_eq::<f32>(&pred.video_probs.into_data(), super::tol(1e-5, 1e-6));
    }
}

/// A `bas` run trains, records `background: bas` in its config.json, and its checkpoint
/// reloads from the run directory alone to the same CAS (C columns) and video scores; a
/// config.json edited to another background option no longer fits the checkpoint, which is
/// an error, not a CAS of the wrong width.
#[test]
fn bas_run_round_trips_through_config_and_checkpoint() {
    let _rng = super::rng_lock();
    let data = toy_dataset(&ToyConfig {
        train_videos: 8,
        test_videos: 3,
        len_range: (10, 20),
        ..ToyConfig::default()
    });
    let model = StreamModelConfig::new()
        .with_attention_hidden(16)
        .with_background(Background::Bas);
    let config = TrainConfig::new(model)
        .with_iterations(4)
        .with_batch_size(4)
        .with_eval_every(0)
        .with_checkpoint_every(0)
        .with_seed(2);
    let config = fit_config(&config, &data).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let mut trainer = Trainer::<AD>::new(
        config,
        &data,
        Some(crate::RunDir::create(&dir).unwrap()),
        Default::default(),
    )
    .unwrap();
    let device = Default::default();
    let summary = trainer.run(&data, &mut NoObserver).unwrap();
    assert!(summary.last_losses.iter().all(|l| l.is_finite()));

    let text = std::fs::read_to_string(dir.join(CONFIG_FILE)).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["model"]["background"], "bas");
    assert_eq!(load_config(&dir).unwrap().model.background, Background::Bas);

    // Save -> load gives the live model's outputs, and the run evaluates.
    super::train_tests::check_reload(&dir, &trainer, &data);
    let (loaded_config, models) =
        load_models::<TestBackend>(&dir, Which::Last, None, &device).unwrap();
    assert_eq!(loaded_config.model.background, Background::Bas);
    let c = data.num_classes();
    for (_, m) in &models {
        assert_eq!(m.background, Background::Bas);
        assert_eq!(m.classifier.weight.dims()[1], c + 1);
    }
    let refs: Vec<_> = models.iter().map(|(k, m)| (*k, m)).collect();
    let loaded = run_videos(&refs, &data.test, 0.5, &device).unwrap();
    for v in &loaded {
        assert_eq!(v.num_classes, c);
        assert_eq!(v.cas.len(), v.num_snippets * c);
        assert_eq!(v.video_probs.len(), c);
    }

    // The same checkpoint under a config.json edited to `none`.
    let edited = text.replace("\"background\": \"bas\"", "\"background\": \"none\"");
    assert_ne!(edited, text);
    std::fs::write(dir.join(CONFIG_FILE), edited).unwrap();
    let err = load_models::<TestBackend>(&dir, Which::Last, None, &device).unwrap_err();
    assert!(err.to_string().contains("classifier"), "{err}");
}
