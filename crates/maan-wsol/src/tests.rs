//! Model-level tests: pooling swap, MAA against `maa-core`'s exhaustive reference, weight
//! import, training.

use std::collections::BTreeMap;

use burn::backend::Autodiff;
use burn::tensor::{Distribution, Tensor};
use burn_store::ModuleSnapshot;

use crate::model::{load_backbone_weights, BackboneConfig, Pooling, WsolModelConfig};
use crate::{synth, train, TestBackend, WsolTrainConfig};

type B = TestBackend;

fn params(pooling: Pooling) -> BTreeMap<String, Vec<usize>> {
    let device = Default::default();
    let model = WsolModelConfig::new(5, BackboneConfig::new(vec![4, 8], vec![0]), pooling)
        .with_grid(4)
        .init::<B>(&device);
    model
        .collect(None, None, false)
        .into_iter()
        .map(|s| (s.full_path(), s.shape.to_vec()))
        .collect()
}

#[test]
fn pooling_swap_changes_only_the_attention_head() {
    let gap = params(Pooling::Gap);
    let ws = params(Pooling::WeightedSum);
    let maa = params(Pooling::Maa);
    assert_eq!(ws, maa, "weighted sum and MAA have the same parameters");
    let head: BTreeMap<_, _> = maa
        .iter()
        .filter(|(k, _)| k.starts_with("attention."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(head["attention.conv1.weight"], vec![256, 8, 1, 1]);
    assert_eq!(head["attention.conv2.weight"], vec![1, 256, 1, 1]);
    let rest: BTreeMap<_, _> = maa
        .into_iter()
        .filter(|(k, _)| !k.starts_with("attention."))
        .collect();
    assert_eq!(gap, rest, "GAP has everything but the head");
    assert!(gap.contains_key("backbone.convs.1.weight") && gap.contains_key("classifier.weight"));
}

#[test]
fn maa_pooling_matches_the_exhaustive_reference_on_the_grid() {
    let device = Default::default();
    let g = 3; // 9 cells: 512 subsets.
    let c = 4;
    let model = WsolModelConfig::new(2, BackboneConfig::new(vec![c], vec![]), Pooling::Maa)
        .with_grid(g)
        .with_attention_units(8)
        .init::<B>(&device);
    // A feature map already at grid size: the adaptive pool is the identity.
    let f = Tensor::<B, 4>::random([1, c, g, g], Distribution::Uniform(-1.0, 1.0), &device);
    let (pooled, probs) = model.pool(f.clone());
    let probs: Vec<f64> = probs
        .expect("MAA has attention")
        .into_data()
        .to_vec::<f32>()
        .unwrap()
        .into_iter()
        .map(f64::from)
        .collect();
    let feats: Vec<f64> = f
        .clone()
        .permute([0, 2, 3, 1])
        .into_data()
        .to_vec::<f32>()
        .unwrap()
        .into_iter()
        .map(f64::from)
        .collect();
    let want = maa_core::exhaustive::marginalized_average(&probs, &feats, c);
    let got: Vec<f32> = pooled.into_data().to_vec().unwrap();
    for (a, b) in got.iter().zip(&want) {
        assert!((*a as f64 - b).abs() < 1e-4, "{got:?} vs {want:?}");
    }
    // GAP of the same map is the plain mean of the cells.
    let gap = WsolModelConfig::new(2, BackboneConfig::new(vec![c], vec![]), Pooling::Gap)
        .with_grid(g)
        .init::<B>(&device);
    let (mean, none) = gap.pool(f.clone());
    assert!(none.is_none());
    let want: Vec<f32> = f.mean_dim(3).mean_dim(2).into_data().to_vec().unwrap();
    let got: Vec<f32> = mean.into_data().to_vec().unwrap();
    for (a, b) in got.iter().zip(&want) {
        assert!((a - b).abs() < 1e-5);
    }
}

/// Writes a safetensors file by hand: f32 tensors, PyTorch names.
fn write_safetensors(path: &std::path::Path, tensors: &[(&str, Vec<usize>, Vec<f32>)]) {
    let mut header = String::from("{");
    let mut data = Vec::new();
    for (i, (name, shape, values)) in tensors.iter().enumerate() {
        let start = data.len();
        for v in values {
            data.extend_from_slice(&v.to_le_bytes());
        }
        if i > 0 {
            header.push(',');
        }
        header += &format!(
            "\"{name}\":{{\"dtype\":\"F32\",\"shape\":{shape:?},\"data_offsets\":[{start},{}]}}",
            data.len()
        );
    }
    header.push('}');
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend(data);
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn pretrained_weights_import_through_burn_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vgg_like.safetensors");
    let ramp = |n: usize, k: f32| (0..n).map(|i| i as f32 * k - 0.3).collect::<Vec<f32>>();
    // torchvision naming: convolutions at Sequential indices 0 and 2 (ReLU at 1), plus a
    // classifier the backbone does not use.
    let tensors = vec![
        ("features.0.weight", vec![4, 3, 3, 3], ramp(108, 0.01)),
        ("features.0.bias", vec![4], ramp(4, 0.1)),
        ("features.2.weight", vec![6, 4, 3, 3], ramp(216, -0.002)),
        ("features.2.bias", vec![6], ramp(6, 0.05)),
        ("classifier.0.weight", vec![2, 6], ramp(12, 1.0)),
    ];
    write_safetensors(&path, &tensors);
    let device = Default::default();
    let config = BackboneConfig::new(vec![4, 6], vec![0]);
    let mut backbone = config.init::<B>(&device);
    let report = load_backbone_weights(&mut backbone, &path).unwrap();
    assert_eq!(report.applied.len(), 4, "{report:?}");
    let loaded: Vec<Vec<f32>> = vec![
        backbone.convs[0].weight.val().into_data().to_vec().unwrap(),
        backbone.convs[0]
            .bias
            .as_ref()
            .unwrap()
            .val()
            .into_data()
            .to_vec()
            .unwrap(),
        backbone.convs[1].weight.val().into_data().to_vec().unwrap(),
        backbone.convs[1]
            .bias
            .as_ref()
            .unwrap()
            .val()
            .into_data()
            .to_vec()
            .unwrap(),
    ];
    for (got, (_, _, want)) in loaded.iter().zip(&tensors) {
        assert_eq!(got, want);
    }
    // A file without the second convolution, or with a wrong shape, is an error naming it.
    write_safetensors(&path, &tensors[..2]);
    let e = load_backbone_weights(&mut config.init::<B>(&device), &path)
        .unwrap_err()
        .to_string();
    assert!(e.contains("convs.1.weight"), "{e}");
    let wrong = vec![("features.0.weight", vec![4, 3, 1, 1], ramp(12, 0.1))];
    write_safetensors(&path, &wrong);
    assert!(load_backbone_weights(&mut config.init::<B>(&device), &path).is_err());
    let missing = dir.path().join("none.safetensors");
    let e = load_backbone_weights(&mut config.init::<B>(&device), &missing).unwrap_err();
    assert!(e.to_string().contains("missing file"), "{e}");
}

#[test]
fn a_short_training_run_lowers_the_loss_and_evaluates() {
    let device = Default::default();
    let data = synth::generate(1, 32, 32);
    let model = WsolModelConfig::new(
        synth::NUM_CLASSES,
        BackboneConfig::new(vec![8, 16], vec![0, 1]),
        Pooling::Maa,
    )
    .with_grid(4)
    .with_attention_units(32);
    let config = WsolTrainConfig::new(model)
        .with_iterations(60)
        .with_batch_size(16)
        .with_learning_rate(3e-3);
    let mut losses = Vec::new();
    let trained = train::train::<Autodiff<B>>(&config, &data, &device, true, &mut |_, l| {
        losses.push(l.unwrap())
    });
    let first: f32 = losses[..5].iter().sum::<f32>() / 5.0;
    let last: f32 = losses[losses.len() - 5..].iter().sum::<f32>() / 5.0;
    assert!(last < first - 0.1, "loss {first} -> {last}");
    let eval = train::evaluate_trained(&trained, &data, &device, 16, 2);
    assert_eq!(eval.records.len(), 32);
    assert_eq!(eval.examples.len(), 2);
    assert_eq!(eval.examples[0].cam.len(), 32 * 32);
    let e = eval.errors;
    assert!((0.0..=1.0).contains(&e.top1_loc) && e.top5_loc <= e.top1_loc);
    assert!(e.top1_cls <= e.top1_loc);
}
