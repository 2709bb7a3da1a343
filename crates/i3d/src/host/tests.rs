//! [`HostI3d`] against the Burn network (ndarray) on the same weights and input: single
//! layers of the real network at real channel counts, pooling, and whole networks.

use burn::backend::NdArray;
use burn::module::{Param, RunningState};
use burn::tensor::{Distribution, Tensor, TensorData};

use super::ops::{max_pool_same, Conv, Pool};
use super::{fold, ConvEngine, HostI3d};
use crate::model::{max_pool3d_same, I3d, I3dConfig, Stream, Unit3d};

type B = NdArray<f32>;

/// Replaces a unit's BatchNorm with random statistics and affine parameters (the fold must
/// use all four), deterministically from `seed`.
fn randomize_bn(unit: &mut Unit3d<B>, seed: u64) {
    let device = Default::default();
    let c = unit.bn.gamma.dims()[0];
    let values = |k: u64, lo: f32, hi: f32| -> Tensor<B, 1> {
        let v: Vec<f32> = (0..c as u64)
            .map(|i| {
                let x = ((seed * 7919 + k * 104_729 + i * 2_654_435_761) % 10_007) as f32;
                lo + (hi - lo) * x / 10_007.0
            })
            .collect();
        Tensor::from_data(TensorData::new(v, [c]), &device)
    };
    unit.bn.gamma = Param::from_tensor(values(1, 0.5, 1.5));
    unit.bn.beta = Param::from_tensor(values(2, -0.2, 0.2));
    unit.bn.running_mean = RunningState::new(values(3, -0.3, 0.3));
    unit.bn.running_var = RunningState::new(values(4, 0.5, 2.0));
}

/// Every unit of the network, in order.
fn units(model: &mut I3d<B>) -> Vec<&mut Unit3d<B>> {
    let mut all = vec![
        &mut model.conv3d_1a_7x7,
        &mut model.conv3d_2b_1x1,
        &mut model.conv3d_2c_3x3,
    ];
    for m in [
        &mut model.mixed_3b,
        &mut model.mixed_3c,
        &mut model.mixed_4b,
        &mut model.mixed_4c,
        &mut model.mixed_4d,
        &mut model.mixed_4e,
        &mut model.mixed_4f,
        &mut model.mixed_5b,
        &mut model.mixed_5c,
    ] {
        all.extend([
            &mut m.b0, &mut m.b1a, &mut m.b1b, &mut m.b2a, &mut m.b2b, &mut m.b3b,
        ]);
    }
    all
}

/// A network with Burn's random weights and random BatchNorm statistics.
fn random_network(stream: Stream, width_div: usize) -> I3d<B> {
    let mut model = I3dConfig::new(stream)
        .with_width_div(width_div)
        .init::<B>(&Default::default());
    for (i, unit) in units(&mut model).into_iter().enumerate() {
        randomize_bn(unit, i as u64);
    }
    model
}

fn random_input(shape: [usize; 5]) -> Tensor<B, 5> {
    Tensor::random(shape, Distribution::Uniform(-1.0, 1.0), &Default::default())
}

/// `max |a − b| <= tol · (1 + max |b|)`, with a message naming `what`.
fn assert_close(a: &[f32], b: &[f32], tol: f32, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let scale = 1.0 + b.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let worst = a
        .iter()
        .zip(b)
        .fold(0.0f32, |m, (x, y)| m.max((x - y).abs()));
    assert!(
        worst <= tol * scale,
        "{what}: max difference {worst} > {tol} × {scale}"
    );
}

fn to_vec<const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data().to_vec::<f32>().unwrap()
}

/// One unit, Burn (`Unit3d::forward`: padding, conv3d, BatchNorm, ReLU) against the folded
/// host convolution, on `input` (`[1, C, T, H, W]`).
fn check_unit(unit: &Unit3d<B>, input: [usize; 5], what: &str) {
    let x = random_input(input);
    let burn = unit.forward(x.clone());
    let conv: Conv = fold(unit);
    let [_, c, t, h, w] = input;
    let out_dims = conv.out_dims([c, t, h, w]);
    let [_, bc, bt, bh, bw] = burn.dims();
    assert_eq!(out_dims, [bc, bt, bh, bw], "{what}: output shape");
    let mut out = vec![f32::NAN; out_dims.iter().product()];
    conv.forward(&to_vec(x), [c, t, h, w], &mut out, &mut Vec::new());
    assert_close(&out, &to_vec(burn), 1e-5, what);
}

/// The layers of the full-width RGB network with every kind of convolution (7×7×7 stride 2,
/// 1×1×1, 3×3×3), at their real channel counts, at the real sizes of a 16×224×224 clip where
/// that is cheap (`Conv3d_2b_1x1`, `Mixed_5c`), smaller ones elsewhere, and odd sizes where
/// "SAME" padding is uneven.
#[test]
fn host_convolutions_equal_burns_unit3d_on_real_i3d_layers() {
    let mut model = random_network(Stream::Rgb, 1);
    for (i, unit) in units(&mut model).into_iter().enumerate() {
        randomize_bn(unit, 100 + i as u64);
    }
    let m = &model;
    check_unit(
        &m.conv3d_1a_7x7,
        [1, 3, 16, 64, 64],
        "Conv3d_1a_7x7 16x64x64",
    );
    check_unit(
        &m.conv3d_1a_7x7,
        [1, 3, 15, 37, 41],
        "Conv3d_1a_7x7 15x37x41",
    );
    check_unit(
        &m.conv3d_2b_1x1,
        [1, 64, 8, 56, 56],
        "Conv3d_2b_1x1 8x56x56 (real size)",
    );
    check_unit(
        &m.conv3d_2c_3x3,
        [1, 64, 4, 20, 20],
        "Conv3d_2c_3x3 4x20x20",
    );
    check_unit(&m.mixed_3c.b1b, [1, 128, 4, 12, 12], "Mixed_3c/b1b 4x12x12");
    check_unit(&m.mixed_4b.b2b, [1, 16, 4, 14, 14], "Mixed_4b/b2b 4x14x14");
    check_unit(&m.mixed_5c.b0, [1, 832, 2, 7, 7], "Mixed_5c/b0 2x7x7");
    check_unit(&m.mixed_5c.b1b, [1, 192, 2, 7, 7], "Mixed_5c/b1b 2x7x7");
    check_unit(&m.mixed_5b.b2b, [1, 32, 1, 3, 5], "Mixed_5b/b2b 1x3x5");
}

/// Every max pooling of the network, and odd sizes, against `max_pool3d_same` (zero padding
/// included: the inputs here are signed, unlike the network's after ReLU).
#[test]
fn host_max_pooling_equals_burns() {
    for (kernel, stride, dims) in [
        ([1, 3, 3], [1, 2, 2], [4, 8, 56, 56]),
        ([1, 3, 3], [1, 2, 2], [3, 5, 27, 30]),
        ([3, 3, 3], [2, 2, 2], [5, 8, 28, 28]),
        ([3, 3, 3], [1, 1, 1], [6, 4, 14, 14]),
        ([2, 2, 2], [2, 2, 2], [7, 4, 14, 14]),
        ([3, 3, 3], [2, 2, 2], [2, 3, 7, 9]),
    ] {
        let [c, t, h, w] = dims;
        let x = random_input([1, c, t, h, w]);
        let burn = max_pool3d_same(x.clone(), kernel, stride);
        let (host, d) = max_pool_same(&to_vec(x), dims, kernel, stride, &mut Pool::default());
        let [_, bc, bt, bh, bw] = burn.dims();
        assert_eq!(d, [bc, bt, bh, bw], "{kernel:?} {stride:?} {dims:?}");
        assert_eq!(host, to_vec(burn), "{kernel:?} {stride:?} {dims:?}");
    }
}

/// The whole network (random weights and BatchNorm statistics) on small clips: the features
/// of both engines (RGB at full width; flow at a quarter width, two clips in a batch), and
/// the `Mixed_5c` map (flow).
#[test]
fn host_network_equals_the_burn_network_on_small_clips() {
    for (stream, width_div, shape) in [
        (Stream::Rgb, 1, [1, 3, 16, 56, 56]),
        (Stream::Flow, 4, [2, 2, 16, 48, 72]),
    ] {
        let model = random_network(stream, width_div);
        let x = random_input(shape);
        let burn = model.features_with(x.clone(), ConvEngine::Burn);
        let host = model.features_with(x.clone(), ConvEngine::Host);
        assert_eq!(host.dims(), [shape[0], 1024 / width_div]);
        assert_close(&to_vec(host), &to_vec(burn), 1e-4, "features");
        if width_div == 1 {
            continue; // Burn's full-width network is slow in debug builds: once is enough.
        }
        let net = HostI3d::new(&model);
        let [_, c, t, h, w] = shape;
        let clip0 = to_vec(x.clone().narrow(0, 0, 1));
        let (mixed, dims) = net.forward_mixed_5c(&clip0, [c, t, h, w]);
        let burn_mixed = model.forward_mixed_5c(x.narrow(0, 0, 1));
        let [_, bc, bt, bh, bw] = burn_mixed.dims();
        assert_eq!(dims, [bc, bt, bh, bw]);
        assert_close(&mixed, &to_vec(burn_mixed), 1e-4, "Mixed_5c");
    }
}

/// ndarray with `f32` floats gets the host engine, with `f64` floats Burn's.
#[test]
fn f32_cpu_backends_default_to_the_host_engine() {
    let device = Default::default();
    assert_eq!(ConvEngine::default_for::<B>(&device), ConvEngine::Host);
    assert_eq!(
        ConvEngine::default_for::<NdArray<f64>>(&device),
        ConvEngine::Burn
    );
}
