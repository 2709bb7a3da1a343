//! The I3D network on host memory, for the CPU backends: [`HostI3d`] and [`ConvEngine`].
//!
//! On flex and ndarray, Burn's 3-D convolution builds its im2col with a scattered write-back
//! and the network makes a new tensor for every padding, BatchNorm, ReLU and concatenation.
//! [`HostI3d`] runs the same network on plain `f32` buffers, one clip at a time, channels
//! first (`[C, T, H, W]`): BatchNorm becomes a per-channel scale and bias applied with the
//! ReLU in one pass over the convolution's output (inference only), a 3×3×3 or 7×7×7 convolution is an im2col of a tile of output rows and
//! one matrix product (the `gemm` crate, every core), a 1×1×1 convolution is the matrix
//! product alone, bias and ReLU are one pass, each Inception branch writes straight into its
//! channels of the block's output (no concatenation), and pooling is separable. The features
//! equal the Burn network's to float rounding (the tests check both against each other and
//! against pytorch-i3d). GPU backends keep Burn's `conv3d`.

mod matmul;
mod ops;

use burn::tensor::backend::Backend;
use burn::tensor::{DType, Element, Tensor, TensorData};

use crate::model::{I3d, InceptionModule, Unit3d, AVG_POOL_KERNEL};
use ops::{avg_pool_mean, max_pool_same, Conv, Dims, Pool};

/// How [`I3d::features`] computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConvEngine {
    /// Burn's tensor operations on the model's backend (every backend).
    Burn,
    /// [`HostI3d`]: the network on host buffers with im2col and `gemm` (CPU backends).
    Host,
}

impl ConvEngine {
    /// The default for backend `B` on `device`: [`ConvEngine::Host`] on flex and ndarray
    /// with `f32` floats, else [`ConvEngine::Burn`] (GPU backends, autodiff, other floats).
    pub fn default_for<B: Backend>(device: &B::Device) -> Self {
        let name = B::name(device);
        let cpu = name == "flex" || name == "ndarray";
        if cpu && <B::FloatElem as Element>::dtype() == DType::F32 {
            ConvEngine::Host
        } else {
            ConvEngine::Burn
        }
    }
}

/// A [`Unit3d`] on the host: its convolution weights as they are, and its BatchNorm (the
/// inference one: running statistics) as the per-channel `s = γ/√(σ² + ε)` and
/// `b = β − μ · s` of `y = relu(s · conv(x) + b)`.
fn fold<B: Backend>(unit: &Unit3d<B>) -> Conv {
    let values = |t: Tensor<B, 1>| -> Vec<f64> {
        t.into_data()
            .convert::<f64>()
            .into_vec::<f64>()
            .expect("f64 BatchNorm values")
    };
    let [cout, cin, _, _, _] = unit.conv3d.weight.dims();
    let gamma = values(unit.bn.gamma.val());
    let beta = values(unit.bn.beta.val());
    let mean = values(unit.bn.running_mean.value());
    let var = values(unit.bn.running_var.value());
    let scale: Vec<f64> = gamma
        .iter()
        .zip(&var)
        .map(|(g, v)| g / (v + unit.bn.epsilon).sqrt())
        .collect();
    let weight = unit
        .conv3d
        .weight
        .val()
        .into_data()
        .convert::<f32>()
        .into_vec::<f32>()
        .expect("f32 convolution weights");
    Conv {
        cin,
        cout,
        kernel: unit.conv3d.kernel_size,
        stride: unit.conv3d.stride,
        weight,
        scale: scale.iter().map(|&s| s as f32).collect(),
        bias: (0..cout)
            .map(|o| (beta[o] - mean[o] * scale[o]) as f32)
            .collect(),
    }
}

/// An [`InceptionModule`] on the host: its six units.
#[derive(Debug, Clone)]
struct Inception {
    b0: Conv,
    b1a: Conv,
    b1b: Conv,
    b2a: Conv,
    b2b: Conv,
    b3b: Conv,
}

impl Inception {
    fn new<B: Backend>(m: &InceptionModule<B>) -> Self {
        Self {
            b0: fold(&m.b0),
            b1a: fold(&m.b1a),
            b1b: fold(&m.b1b),
            b2a: fold(&m.b2a),
            b2b: fold(&m.b2b),
            b3b: fold(&m.b3b),
        }
    }

    /// `x` (`[in, T, H, W]`) → `[o₀ + o₂ + o₄ + o₅, T, H, W]`, each branch written into its
    /// channels.
    fn forward(
        &self,
        x: &[f32],
        dims: Dims,
        pool: &mut Pool,
        scratch: &mut Vec<f32>,
    ) -> (Vec<f32>, Dims) {
        let [_, t, h, w] = dims;
        let s = t * h * w;
        let widths = [self.b0.cout, self.b1b.cout, self.b2b.cout, self.b3b.cout];
        let mut out = pool.take(widths.iter().sum::<usize>() * s);
        let (o0, rest) = out.split_at_mut(widths[0] * s);
        let (o1, rest) = rest.split_at_mut(widths[1] * s);
        let (o2, o3) = rest.split_at_mut(widths[2] * s);
        self.b0.forward(x, dims, o0, scratch);
        for (a, b, o) in [(&self.b1a, &self.b1b, o1), (&self.b2a, &self.b2b, o2)] {
            let mid_dims = a.out_dims(dims);
            let mut mid = pool.take(a.cout * s);
            a.forward(x, dims, &mut mid, scratch);
            b.forward(&mid, mid_dims, o, scratch);
            pool.give(mid);
        }
        let (pooled, _) = max_pool_same(x, dims, [3, 3, 3], [1, 1, 1], pool);
        self.b3b.forward(&pooled, dims, o3, scratch);
        pool.give(pooled);
        (out, [widths.iter().sum(), t, h, w])
    }
}

/// [`I3d`] on host memory: the same network from `Conv3d_1a_7x7` to the clip feature, with
/// BatchNorm as a scale and bias after each convolution (see the [module docs](self)). Made
/// from a model with [`HostI3d::new`]; holds a copy of its weights (49 MB for the RGB
/// network), so a caller that runs many clips saves a copy per call by keeping one.
#[derive(Debug, Clone)]
pub struct HostI3d {
    stem: [Conv; 3],
    mixed: Vec<Inception>,
}

impl HostI3d {
    /// Copies `model`'s weights to the host, with each BatchNorm (its running statistics:
    /// inference) as a scale and bias.
    pub fn new<B: Backend>(model: &I3d<B>) -> Self {
        let m = model;
        Self {
            stem: [
                fold(&m.conv3d_1a_7x7),
                fold(&m.conv3d_2b_1x1),
                fold(&m.conv3d_2c_3x3),
            ],
            mixed: [
                &m.mixed_3b,
                &m.mixed_3c,
                &m.mixed_4b,
                &m.mixed_4c,
                &m.mixed_4d,
                &m.mixed_4e,
                &m.mixed_4f,
                &m.mixed_5b,
                &m.mixed_5c,
            ]
            .into_iter()
            .map(Inception::new)
            .collect(),
        }
    }

    /// Input channels (3 for RGB, 2 for flow).
    pub fn in_channels(&self) -> usize {
        self.stem[0].cin
    }

    /// Channels of the feature (`1024 / width_div`).
    pub fn feature_dim(&self) -> usize {
        self.mixed
            .last()
            .map_or(0, |m| m.b0.cout + m.b1b.cout + m.b2b.cout + m.b3b.cout)
    }

    /// The `Mixed_5c` output of one clip `x` (`[C, T, H, W]`, row-major, `dims`) and its
    /// shape `[1024 / width_div, T', H', W']`, as [`I3d::forward_mixed_5c`].
    pub fn forward_mixed_5c(&self, x: &[f32], dims: [usize; 4]) -> (Vec<f32>, [usize; 4]) {
        self.forward_pooled(x, dims, &mut Pool::default())
    }

    /// [`Self::forward_mixed_5c`] with the buffers of `pool`.
    fn forward_pooled(&self, x: &[f32], dims: Dims, pool: &mut Pool) -> (Vec<f32>, Dims) {
        let mut scratch = Vec::new();
        let conv = |c: &Conv, x: Vec<f32>, dims: Dims, pool: &mut Pool, scratch: &mut Vec<f32>| {
            let out_dims = c.out_dims(dims);
            let mut out = pool.take(out_dims.iter().product());
            c.forward(&x, dims, &mut out, scratch);
            pool.give(x);
            (out, out_dims)
        };
        let max_pool = |x: Vec<f32>, dims: Dims, k, s, pool: &mut Pool| {
            let y = max_pool_same(&x, dims, k, s, pool);
            pool.give(x);
            y
        };
        let mut input = pool.take(x.len());
        input.copy_from_slice(x);
        let (x, d) = conv(&self.stem[0], input, dims, pool, &mut scratch);
        let (x, d) = max_pool(x, d, [1, 3, 3], [1, 2, 2], pool); // MaxPool3d_2a_3x3
        let (x, d) = conv(&self.stem[1], x, d, pool, &mut scratch);
        let (x, d) = conv(&self.stem[2], x, d, pool, &mut scratch);
        let (mut x, mut d) = max_pool(x, d, [1, 3, 3], [1, 2, 2], pool); // MaxPool3d_3a_3x3
        for (i, block) in self.mixed.iter().enumerate() {
            (x, d) = match i {
                2 => max_pool(x, d, [3, 3, 3], [2, 2, 2], pool), // MaxPool3d_4a_3x3
                7 => max_pool(x, d, [2, 2, 2], [2, 2, 2], pool), // MaxPool3d_5a_2x2
                _ => (x, d),
            };
            let (y, dy) = block.forward(&x, d, pool, &mut scratch);
            pool.give(x);
            (x, d) = (y, dy);
        }
        (x, d)
    }

    /// The clip features of `x`: `[N, C, T, H, W]` row-major (`shape`) → `[N, 1024 /
    /// width_div]` row-major, as [`I3d::features`].
    ///
    /// # Panics
    /// If `x` does not hold `shape`'s elements or `C` is not the network's input channels.
    pub fn features(&self, x: &[f32], shape: [usize; 5]) -> Vec<f32> {
        let [n, c, t, h, w] = shape;
        assert_eq!(
            x.len(),
            shape.iter().product::<usize>(),
            "input is not {shape:?}"
        );
        assert_eq!(
            c,
            self.in_channels(),
            "{c} input channels, expected {}",
            self.in_channels()
        );
        let clip = c * t * h * w;
        let mut pool = Pool::default();
        (0..n)
            .flat_map(|i| {
                let (y, d) = self.forward_pooled(&x[i * clip..][..clip], [c, t, h, w], &mut pool);
                let feature = avg_pool_mean(&y, d, AVG_POOL_KERNEL);
                pool.give(y);
                feature
            })
            .collect()
    }

    /// [`HostI3d::features`] of a tensor: `[N, C, T, H, W]` → `[N, 1024 / width_div]` on the
    /// same device.
    pub fn features_tensor<B: Backend>(&self, x: Tensor<B, 5>) -> Tensor<B, 2> {
        let device = x.device();
        let shape = x.dims();
        let values = x
            .into_data()
            .convert::<f32>()
            .to_vec::<f32>()
            .expect("f32 input");
        let features = self.features(&values, shape);
        let dim = self.feature_dim();
        Tensor::from_data(TensorData::new(features, [shape[0], dim]), &device)
    }
}

/// The clip feature, by the engine of the backend (here, beside the host engine, so that the
/// model module does not depend on this one).
impl<B: Backend> I3d<B> {
    /// The clip feature of the WTAL pipelines: [`Self::extract_features`] averaged over the
    /// remaining time and space.
    ///
    /// `x`: `[N, C, 16, 224, 224]` (any `T, H, W` work) → `[N, 1024 / width_div]`. For
    /// 16×224×224 the average pooling leaves a single position, so this is exactly
    /// pytorch-i3d's `extract_features(x)[:, :, 0, 0, 0]`.
    ///
    /// Computed by [`ConvEngine::default_for`] the backend: on flex and ndarray by
    /// [`HostI3d`] (made from the model's weights at each call, a small cost beside the
    /// network), elsewhere by Burn's operations; [`Self::features_with`] chooses.
    pub fn features(&self, x: Tensor<B, 5>) -> Tensor<B, 2> {
        let engine = ConvEngine::default_for::<B>(&x.device());
        self.features_with(x, engine)
    }

    /// [`Self::features`] computed by `engine`: `[N, C, T, H, W]` → `[N, 1024 / width_div]`.
    /// [`ConvEngine::Host`] works on any backend (through host memory) and uses BatchNorm's
    /// running statistics, as an eval-mode model does.
    pub fn features_with(&self, x: Tensor<B, 5>, engine: ConvEngine) -> Tensor<B, 2> {
        if engine == ConvEngine::Host {
            return HostI3d::new(self).features_tensor(x);
        }
        let pooled = self.extract_features(x);
        let [n, c, t, h, w] = pooled.dims();
        pooled
            .reshape([n, c, t * h * w])
            .mean_dim(2)
            .reshape([n, c])
    }
}

#[cfg(test)]
mod tests;
