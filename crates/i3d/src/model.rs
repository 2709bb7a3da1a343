//! The Inception-v1 I3D network up to `Mixed_5c`, and its 1024-d clip feature.
//!
//! Layer by layer the network of pytorch-i3d's `InceptionI3d` (the `Logits` layer left out):
//! every convolution is a [`Unit3d`] (TF-"SAME" padding computed from the input size,
//! bias-free `Conv3d`, `BatchNorm3d` with `eps = 0.001`, ReLU), every max pooling pads the
//! same way with zeros first, and the blocks are [`InceptionModule`]s. Field names are the
//! PyTorch module names in snake case (`Mixed_3b` is `mixed_3b`), so a state dict maps onto
//! the model with one rename of the first path segment ([`crate::weights`]).

use burn::module::Module;
use burn::nn::conv::{Conv3d, Conv3dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig3d};
use burn::tensor::backend::Backend;
use burn::tensor::module::{avg_pool2d, max_pool2d};
use burn::tensor::ops::PadMode;
use burn::tensor::{activation::relu, Tensor};

/// `BatchNorm3d` epsilon of pytorch-i3d (TensorFlow's default).
pub const BN_EPSILON: f64 = 0.001;
/// `BatchNorm3d` momentum of pytorch-i3d (only matters when training).
pub const BN_MOMENTUM: f64 = 0.01;
/// Frames per clip that the public I3D feature pipelines feed the network.
pub const CLIP_FRAMES: usize = 16;
/// Channels of the `Mixed_5c` output (and of the feature) of the full-width network.
pub const FEATURE_DIM: usize = 1024;
/// Kernel `[t, h, w]` of pytorch-i3d's `avg_pool` (`nn.AvgPool3d([2, 7, 7], stride=1)`).
pub const AVG_POOL_KERNEL: [usize; 3] = [2, 7, 7];

/// The output widths of one Inception block, in pytorch-i3d's order: `b0` (1×1×1),
/// `b1a` (1×1×1) → `b1b` (3×3×3), `b2a` (1×1×1) → `b2b` (3×3×3), `b3b` (1×1×1 after the
/// 3×3×3 max pooling `b3a`).
type Widths = [usize; 6];

/// The Inception blocks of I3D: name, input channels, branch widths (full width).
const MIXED: [(&str, usize, Widths); 9] = [
    ("Mixed_3b", 192, [64, 96, 128, 16, 32, 32]),
    ("Mixed_3c", 256, [128, 128, 192, 32, 96, 64]),
    ("Mixed_4b", 480, [192, 96, 208, 16, 48, 64]),
    ("Mixed_4c", 512, [160, 112, 224, 24, 64, 64]),
    ("Mixed_4d", 512, [128, 128, 256, 24, 64, 64]),
    ("Mixed_4e", 512, [112, 144, 288, 32, 64, 64]),
    ("Mixed_4f", 528, [256, 160, 320, 32, 128, 128]),
    ("Mixed_5b", 832, [256, 160, 320, 32, 128, 128]),
    ("Mixed_5c", 832, [384, 192, 384, 48, 128, 128]),
];

/// Which input an I3D stream takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    /// RGB frames, 3 channels in `[-1, 1]`.
    Rgb,
    /// TV-L1 optical flow, 2 channels (x, y) in `[-1, 1]` ([`crate::flow`]).
    Flow,
}

impl Stream {
    /// Input channels of the stream: 3 for RGB, 2 for flow.
    pub fn in_channels(self) -> usize {
        match self {
            Stream::Rgb => 3,
            Stream::Flow => 2,
        }
    }
}

/// The shape of an I3D network.
///
/// `width_div` divides every channel count of the network (not the input channels), so that
/// tests can run a narrow network with the same modules and key names; it must divide all
/// of them exactly, which holds for 1, 2, 4 and 8. The public checkpoints are
/// `width_div = 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct I3dConfig {
    /// Input channels: 3 (RGB) or 2 (flow).
    pub in_channels: usize,
    /// Divisor of every channel width (1 for the real network).
    pub width_div: usize,
}

impl I3dConfig {
    /// The full-width network for a stream.
    pub fn new(stream: Stream) -> Self {
        Self {
            in_channels: stream.in_channels(),
            width_div: 1,
        }
    }

    /// The same network with every channel width divided by `width_div`.
    pub fn with_width_div(self, width_div: usize) -> Self {
        Self { width_div, ..self }
    }

    /// Channels of the `Mixed_5c` output, hence of [`I3d::features`]: `1024 / width_div`.
    pub fn feature_dim(&self) -> usize {
        FEATURE_DIM / self.width_div
    }

    fn width(&self, channels: usize) -> usize {
        assert!(
            self.width_div > 0 && channels.is_multiple_of(self.width_div),
            "I3D width divisor {} does not divide the width {channels}",
            self.width_div
        );
        channels / self.width_div
    }

    /// Builds the network with Burn's default random weights and BatchNorm statistics of the
    /// identity (mean 0, variance 1); load real weights with [`crate::weights`].
    ///
    /// # Panics
    /// If `in_channels` is 0 or `width_div` does not divide every width of the network.
    pub fn init<B: Backend>(&self, device: &B::Device) -> I3d<B> {
        assert!(self.in_channels > 0, "I3D needs at least one input channel");
        let w = |c| self.width(c);
        let mixed = |i: usize| {
            let (_, input, widths) = MIXED[i];
            InceptionModule::new(w(input), widths.map(w), device)
        };
        I3d {
            conv3d_1a_7x7: Unit3d::new(self.in_channels, w(64), [7, 7, 7], [2, 2, 2], device),
            conv3d_2b_1x1: Unit3d::new(w(64), w(64), [1, 1, 1], [1, 1, 1], device),
            conv3d_2c_3x3: Unit3d::new(w(64), w(192), [3, 3, 3], [1, 1, 1], device),
            mixed_3b: mixed(0),
            mixed_3c: mixed(1),
            mixed_4b: mixed(2),
            mixed_4c: mixed(3),
            mixed_4d: mixed(4),
            mixed_4e: mixed(5),
            mixed_4f: mixed(6),
            mixed_5b: mixed(7),
            mixed_5c: mixed(8),
        }
    }
}

/// TF-"SAME" padding of one dimension, `(before, after)`, exactly as pytorch-i3d's
/// `compute_pad`: the total is `max(k - s, 0)` if `s` divides `size`, else
/// `max(k - size % s, 0)`, and the odd element goes after.
pub fn same_padding(kernel: usize, stride: usize, size: usize) -> (usize, usize) {
    let total = if size.is_multiple_of(stride) {
        kernel.saturating_sub(stride)
    } else {
        kernel.saturating_sub(size % stride)
    };
    (total / 2, total - total / 2)
}

/// Zero-pads `[N, C, T, H, W]` to TF-"SAME" for a window `kernel` with `stride`.
fn pad_same<B: Backend>(x: Tensor<B, 5>, kernel: [usize; 3], stride: [usize; 3]) -> Tensor<B, 5> {
    let [_, _, t, h, w] = x.dims();
    let pads = [
        same_padding(kernel[0], stride[0], t),
        same_padding(kernel[1], stride[1], h),
        same_padding(kernel[2], stride[2], w),
    ];
    if pads.iter().all(|&(a, b)| a == 0 && b == 0) {
        return x;
    }
    x.pad(pads, PadMode::Constant(0.0))
}

/// 3-D max pooling of `[N, C, T, H, W]` without padding (floor mode), as two separable 2-D
/// poolings: the maximum over a box is the maximum over time of the spatial maxima.
fn max_pool3d<B: Backend>(x: Tensor<B, 5>, kernel: [usize; 3], stride: [usize; 3]) -> Tensor<B, 5> {
    let [n, c, t, h, w] = x.dims();
    let x = if kernel[1..] == [1, 1] && stride[1..] == [1, 1] {
        x.reshape([n, c * t, h, w])
    } else {
        max_pool2d(
            x.reshape([n, c * t, h, w]),
            [kernel[1], kernel[2]],
            [stride[1], stride[2]],
            [0, 0],
            [1, 1],
            false,
        )
    };
    let [_, _, ho, wo] = x.dims();
    if kernel[0] == 1 && stride[0] == 1 {
        return x.reshape([n, c, t, ho, wo]);
    }
    let x = max_pool2d(
        x.reshape([n, c, t, ho * wo]),
        [kernel[0], 1],
        [stride[0], 1],
        [0, 0],
        [1, 1],
        false,
    );
    let to = x.dims()[2];
    x.reshape([n, c, to, ho, wo])
}

/// pytorch-i3d's `MaxPool3dSamePadding`: zero padding to TF-"SAME", then max pooling.
///
/// `x`: `[N, C, T, H, W]` → `[N, C, ⌈T/sₜ⌉, ⌈H/sₕ⌉, ⌈W/s_w⌉]`.
pub fn max_pool3d_same<B: Backend>(
    x: Tensor<B, 5>,
    kernel: [usize; 3],
    stride: [usize; 3],
) -> Tensor<B, 5> {
    max_pool3d(pad_same(x, kernel, stride), kernel, stride)
}

/// 3-D average pooling of `[N, C, T, H, W]`, stride 1, no padding, with the kernel clamped
/// to the input in each dimension; separable like [`max_pool3d`].
fn avg_pool3d_stride1<B: Backend>(x: Tensor<B, 5>, kernel: [usize; 3]) -> Tensor<B, 5> {
    let [n, c, t, h, w] = x.dims();
    let [kt, kh, kw] = [kernel[0].min(t), kernel[1].min(h), kernel[2].min(w)];
    let x = avg_pool2d(
        x.reshape([n, c * t, h, w]),
        [kh, kw],
        [1, 1],
        [0, 0],
        true,
        false,
    );
    let [_, _, ho, wo] = x.dims();
    let x = avg_pool2d(
        x.reshape([n, c, t, ho * wo]),
        [kt, 1],
        [1, 1],
        [0, 0],
        true,
        false,
    );
    let to = x.dims()[2];
    x.reshape([n, c, to, ho, wo])
}

/// pytorch-i3d's `Unit3D` as the network uses it up to `Mixed_5c`: TF-"SAME" zero padding,
/// a bias-free `Conv3d` (`conv3d`), `BatchNorm3d` (`bn`, eps 0.001) and ReLU.
#[derive(Module, Debug)]
pub struct Unit3d<B: Backend> {
    /// The convolution, weight `[out, in, kₜ, kₕ, k_w]`.
    pub conv3d: Conv3d<B>,
    /// The batch normalisation over the `out` channels.
    pub bn: BatchNorm<B>,
}

impl<B: Backend> Unit3d<B> {
    fn new(
        input: usize,
        output: usize,
        kernel: [usize; 3],
        stride: [usize; 3],
        device: &B::Device,
    ) -> Self {
        Self {
            conv3d: Conv3dConfig::new([input, output], kernel)
                .with_stride(stride)
                .with_padding(PaddingConfig3d::Valid)
                .with_bias(false)
                .init(device),
            bn: BatchNormConfig::new(output)
                .with_epsilon(BN_EPSILON)
                .with_momentum(BN_MOMENTUM)
                .init(device),
        }
    }

    /// `x`: `[N, in, T, H, W]` → `[N, out, ⌈T/sₜ⌉, ⌈H/sₕ⌉, ⌈W/s_w⌉]`.
    pub fn forward(&self, x: Tensor<B, 5>) -> Tensor<B, 5> {
        let x = pad_same(x, self.conv3d.kernel_size, self.conv3d.stride);
        relu(self.bn.forward(self.conv3d.forward(x)))
    }
}

/// pytorch-i3d's `InceptionModule`: four branches concatenated on the channels,
/// `b0 | b1a→b1b | b2a→b2b | b3a (3×3×3 max pooling, stride 1)→b3b`.
#[derive(Module, Debug)]
pub struct InceptionModule<B: Backend> {
    /// Branch 0, 1×1×1.
    pub b0: Unit3d<B>,
    /// Branch 1, 1×1×1.
    pub b1a: Unit3d<B>,
    /// Branch 1, 3×3×3.
    pub b1b: Unit3d<B>,
    /// Branch 2, 1×1×1.
    pub b2a: Unit3d<B>,
    /// Branch 2, 3×3×3.
    pub b2b: Unit3d<B>,
    /// Branch 3, 1×1×1 after the max pooling.
    pub b3b: Unit3d<B>,
}

impl<B: Backend> InceptionModule<B> {
    fn new(input: usize, o: Widths, device: &B::Device) -> Self {
        let one = [1, 1, 1];
        let three = [3, 3, 3];
        Self {
            b0: Unit3d::new(input, o[0], one, one, device),
            b1a: Unit3d::new(input, o[1], one, one, device),
            b1b: Unit3d::new(o[1], o[2], three, one, device),
            b2a: Unit3d::new(input, o[3], one, one, device),
            b2b: Unit3d::new(o[3], o[4], three, one, device),
            b3b: Unit3d::new(input, o[5], one, one, device),
        }
    }

    /// `x`: `[N, in, T, H, W]` → `[N, o₀ + o₂ + o₄ + o₅, T, H, W]`.
    pub fn forward(&self, x: Tensor<B, 5>) -> Tensor<B, 5> {
        let b0 = self.b0.forward(x.clone());
        let b1 = self.b1b.forward(self.b1a.forward(x.clone()));
        let b2 = self.b2b.forward(self.b2a.forward(x.clone()));
        let b3 = self.b3b.forward(max_pool3d_same(x, [3, 3, 3], [1, 1, 1]));
        Tensor::cat(vec![b0, b1, b2, b3], 1)
    }
}

/// The I3D network (pytorch-i3d's `InceptionI3d`) from `Conv3d_1a_7x7` to `Mixed_5c`.
///
/// Input `[N, C, T, H, W]` with `C` = 3 (RGB) or 2 (flow), values in `[-1, 1]`; the
/// public pipelines use `T = 16`, `H = W = 224`.
#[derive(Module, Debug)]
pub struct I3d<B: Backend> {
    /// `Conv3d_1a_7x7`: 7×7×7, stride 2, 64 channels.
    pub conv3d_1a_7x7: Unit3d<B>,
    /// `Conv3d_2b_1x1`: 1×1×1, 64 channels.
    pub conv3d_2b_1x1: Unit3d<B>,
    /// `Conv3d_2c_3x3`: 3×3×3, 192 channels.
    pub conv3d_2c_3x3: Unit3d<B>,
    /// `Mixed_3b` (256 channels out).
    pub mixed_3b: InceptionModule<B>,
    /// `Mixed_3c` (480).
    pub mixed_3c: InceptionModule<B>,
    /// `Mixed_4b` (512).
    pub mixed_4b: InceptionModule<B>,
    /// `Mixed_4c` (512).
    pub mixed_4c: InceptionModule<B>,
    /// `Mixed_4d` (512).
    pub mixed_4d: InceptionModule<B>,
    /// `Mixed_4e` (528).
    pub mixed_4e: InceptionModule<B>,
    /// `Mixed_4f` (832).
    pub mixed_4f: InceptionModule<B>,
    /// `Mixed_5b` (832).
    pub mixed_5b: InceptionModule<B>,
    /// `Mixed_5c` (1024).
    pub mixed_5c: InceptionModule<B>,
}

impl<B: Backend> I3d<B> {
    /// Runs every end point up to `Mixed_5c`.
    ///
    /// `x`: `[N, C, T, H, W]` → `[N, 1024 / width_div, T', H', W']` with
    /// `T' = ⌈⌈T/2⌉/4⌉`, `H' = ⌈H/32⌉`, `W' = ⌈W/32⌉` (`[N, 1024, 2, 7, 7]` for 16×224×224).
    pub fn forward_mixed_5c(&self, x: Tensor<B, 5>) -> Tensor<B, 5> {
        let x = self.conv3d_1a_7x7.forward(x);
        let x = max_pool3d_same(x, [1, 3, 3], [1, 2, 2]); // MaxPool3d_2a_3x3
        let x = self.conv3d_2b_1x1.forward(x);
        let x = self.conv3d_2c_3x3.forward(x);
        let x = max_pool3d_same(x, [1, 3, 3], [1, 2, 2]); // MaxPool3d_3a_3x3
        let x = self.mixed_3b.forward(x);
        let x = self.mixed_3c.forward(x);
        let x = max_pool3d_same(x, [3, 3, 3], [2, 2, 2]); // MaxPool3d_4a_3x3
        let x = self.mixed_4b.forward(x);
        let x = self.mixed_4c.forward(x);
        let x = self.mixed_4d.forward(x);
        let x = self.mixed_4e.forward(x);
        let x = self.mixed_4f.forward(x);
        let x = max_pool3d_same(x, [2, 2, 2], [2, 2, 2]); // MaxPool3d_5a_2x2
        let x = self.mixed_5b.forward(x);
        self.mixed_5c.forward(x)
    }

    /// pytorch-i3d's `extract_features`: [`Self::forward_mixed_5c`] then
    /// `AvgPool3d([2, 7, 7], stride 1)`.
    ///
    /// `x`: `[N, C, T, H, W]` → `[N, 1024 / width_div, T' - 1, H' - 6, W' - 6]` (with the
    /// kernel clamped to the `Mixed_5c` map in a dimension where it is smaller, so that
    /// small test inputs work; PyTorch would refuse them).
    pub fn extract_features(&self, x: Tensor<B, 5>) -> Tensor<B, 5> {
        avg_pool3d_stride1(self.forward_mixed_5c(x), AVG_POOL_KERNEL)
    }
}
