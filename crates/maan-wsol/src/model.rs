//! The WSOL model: convolutional backbone, grid, pooling (GAP, weighted sum or MAA), linear
//! classifier, and its class activation maps.

use std::path::Path;

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{LeakyRelu, LeakyReluConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::backend::Backend;
use burn::tensor::module::{adaptive_avg_pool2d, max_pool2d};
use burn::tensor::{Int, Tensor};
use burn_store::{ModuleSnapshot, PyTorchToBurnAdapter, SafetensorsStore};
use maa_core::{Aggregator, MaaPoolConfig};
use serde::{Deserialize, Serialize};

use crate::error::WsolError;

/// How the grid of features is reduced to one vector per image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pooling {
    /// Global average pooling: the CAM model (no attention head).
    Gap,
    /// Attention-weighted average, weights `p / Σ p` (weighted-CAM).
    WeightedSum,
    /// Marginalized average aggregation of the attention probabilities (MAAN).
    Maa,
}

impl Pooling {
    /// The three poolings, in the row order of the paper's Table 4.
    pub const ALL: [Pooling; 3] = [Pooling::Gap, Pooling::WeightedSum, Pooling::Maa];

    /// Short machine name (`gap`, `weighted-sum`, `maa`).
    pub fn name(&self) -> &'static str {
        match self {
            Pooling::Gap => "gap",
            Pooling::WeightedSum => "weighted-sum",
            Pooling::Maa => "maa",
        }
    }

    /// The paper's name of the model using this pooling.
    pub fn paper_name(&self) -> &'static str {
        match self {
            Pooling::Gap => "CAM (GAP)",
            Pooling::WeightedSum => "weighted-CAM",
            Pooling::Maa => "MAAN",
        }
    }

    /// The `maa-core` aggregator applied to the attention probabilities (`None` for GAP).
    pub fn aggregator(&self) -> Option<Aggregator> {
        match self {
            Pooling::Gap => None,
            Pooling::WeightedSum => Some(Aggregator::Norm),
            Pooling::Maa => Some(Aggregator::Maa),
        }
    }
}

/// A VGG-style backbone: 3×3 convolutions (padding 1) each followed by ReLU, with a 2×2 max
/// pool after the convolutions listed in `pool_after`.
#[derive(Config, Debug)]
pub struct BackboneConfig {
    /// Output channels of each convolution, in order.
    pub channels: Vec<usize>,
    /// Indices (into `channels`) of the convolutions followed by a 2×2 max pool.
    pub pool_after: Vec<usize>,
    /// Input channels (3 for RGB).
    #[config(default = 3)]
    pub in_channels: usize,
}

impl BackboneConfig {
    /// The small backbone trained from scratch on the synthetic data: 16-32-64 channels, two
    /// pools (stride 4).
    pub fn small() -> Self {
        Self::new(vec![16, 32, 64], vec![0, 1])
    }

    /// VGG16's 13 convolutions with its first four pools (stride 16, 512 channels), the
    /// layout of the CAM papers' VGG (the fifth pool removed). Its weights load from a
    /// torchvision `vgg16` state dict saved as safetensors (see [`load_backbone_weights`]).
    pub fn vgg16() -> Self {
        Self::new(
            vec![
                64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512,
            ],
            vec![1, 3, 6, 9],
        )
    }

    /// Channels of the output feature map.
    pub fn out_channels(&self) -> usize {
        *self
            .channels
            .last()
            .expect("a backbone needs a convolution")
    }

    /// Ratio of the image side to the feature-map side.
    pub fn stride(&self) -> usize {
        1 << self.pool_after.len()
    }

    /// Builds the backbone with random weights.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Backbone<B> {
        let mut c_in = self.in_channels;
        let convs = self
            .channels
            .iter()
            .map(|&c| {
                let conv = Conv2dConfig::new([c_in, c], [3, 3])
                    .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                    .init(device);
                c_in = c;
                conv
            })
            .collect();
        Backbone {
            convs,
            pool_after: self.pool_after.clone(),
        }
    }
}

/// See [`BackboneConfig`]. Parameters are named `convs.<i>.weight` / `convs.<i>.bias`.
#[derive(Module, Debug)]
pub struct Backbone<B: Backend> {
    /// The convolutions.
    pub convs: Vec<Conv2d<B>>,
    /// Indices of the convolutions followed by a max pool.
    #[module(skip)]
    pub pool_after: Vec<usize>,
}

impl<B: Backend> Backbone<B> {
    /// # Shapes
    /// - `images`: `[batch, in_channels, height, width]`
    /// - output: `[batch, out_channels, height / stride, width / stride]`
    pub fn forward(&self, images: Tensor<B, 4>) -> Tensor<B, 4> {
        let mut x = images;
        for (i, conv) in self.convs.iter().enumerate() {
            x = relu(conv.forward(x));
            if self.pool_after.contains(&i) {
                x = max_pool2d(x, [2, 2], [2, 2], [0, 0], [1, 1], false);
            }
        }
        x
    }
}

/// The paper's attention module: 1×1 convolution with 256 units, LeakyReLU, 1×1 convolution
/// with one unit, sigmoid.
#[derive(Module, Debug)]
pub struct AttentionHead<B: Backend> {
    /// 1×1 convolution, `channels → units`.
    pub conv1: Conv2d<B>,
    /// LeakyReLU (slope 0.01).
    pub act: LeakyRelu,
    /// 1×1 convolution, `units → 1`.
    pub conv2: Conv2d<B>,
}

impl<B: Backend> AttentionHead<B> {
    /// Builds the head for `channels` input channels and `units` hidden units.
    pub fn new(channels: usize, units: usize, device: &B::Device) -> Self {
        AttentionHead {
            conv1: Conv2dConfig::new([channels, units], [1, 1]).init(device),
            act: LeakyReluConfig::new().init(),
            conv2: Conv2dConfig::new([units, 1], [1, 1]).init(device),
        }
    }

    /// Per-cell probability that the cell is discriminative.
    ///
    /// # Shapes
    /// - `grid`: `[batch, channels, g, g]`
    /// - output: `[batch, g, g]`, values in `(0, 1)`
    pub fn forward(&self, grid: Tensor<B, 4>) -> Tensor<B, 3> {
        let [b, _, h, w] = grid.dims();
        let x = self.act.forward(self.conv1.forward(grid));
        sigmoid(self.conv2.forward(x)).reshape([b, h, w])
    }
}

/// Configuration of [`WsolModel`].
#[derive(Config, Debug)]
pub struct WsolModelConfig {
    /// Number of object classes.
    pub num_classes: usize,
    /// The backbone.
    pub backbone: BackboneConfig,
    /// The pooling.
    pub pooling: Pooling,
    /// Side of the grid the feature map is average-pooled to before pooling (the paper's 4
    /// or 7).
    #[config(default = 7)]
    pub grid: usize,
    /// Hidden units of the attention head (the paper's 256).
    #[config(default = 256)]
    pub attention_units: usize,
}

impl WsolModelConfig {
    /// Builds the model with random weights.
    pub fn init<B: Backend>(&self, device: &B::Device) -> WsolModel<B> {
        let c = self.backbone.out_channels();
        WsolModel {
            backbone: self.backbone.init(device),
            attention: self
                .pooling
                .aggregator()
                .map(|_| AttentionHead::new(c, self.attention_units, device)),
            classifier: LinearConfig::new(c, self.num_classes).init(device),
            pooling: self.pooling,
            grid: self.grid,
        }
    }
}

/// What [`WsolModel::forward_maps`] returns.
#[derive(Debug, Clone)]
pub struct WsolOutput<B: Backend> {
    /// Class scores, `[batch, classes]`.
    pub logits: Tensor<B, 2>,
    /// The backbone's feature map, `[batch, channels, h, w]` (the CAMs are computed on it).
    pub features: Tensor<B, 4>,
    /// Attention probabilities on the grid, `[batch, g, g]` (`None` for GAP).
    pub attention: Option<Tensor<B, 3>>,
}

/// Backbone → adaptive average pool to a `g × g` grid → pooling → linear classifier.
///
/// Only the pooling (and the attention head it needs) differs between the three models: the
/// backbone and classifier have the same parameters whichever pooling is chosen.
#[derive(Module, Debug)]
pub struct WsolModel<B: Backend> {
    /// The convolutional backbone.
    pub backbone: Backbone<B>,
    /// The attention head (weighted sum and MAA only).
    pub attention: Option<AttentionHead<B>>,
    /// The classifier, `channels → classes`.
    pub classifier: Linear<B>,
    /// The pooling.
    #[module(skip)]
    pub pooling: Pooling,
    /// Grid side.
    #[module(skip)]
    pub grid: usize,
}

impl<B: Backend> WsolModel<B> {
    /// Class scores.
    ///
    /// # Shapes
    /// - `images`: `[batch, 3, height, width]`
    /// - output: `[batch, classes]`
    pub fn forward(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        self.forward_maps(images).logits
    }

    /// Class scores with the feature map and attention behind them.
    ///
    /// # Shapes
    /// - `images`: `[batch, 3, height, width]`; the feature map must be at least `grid`
    ///   cells on each side
    pub fn forward_maps(&self, images: Tensor<B, 4>) -> WsolOutput<B> {
        let features = self.backbone.forward(images);
        let (pooled, attention) = self.pool(features.clone());
        WsolOutput {
            logits: self.classifier.forward(pooled),
            features,
            attention,
        }
    }

    /// Pools a feature map to one vector per image: the grid (adaptive average pool), then
    /// GAP over it, or the attention head and `maa-core`'s [`maa_core::MaaPool::forward_2d`]
    /// with the pooling's aggregator.
    ///
    /// # Shapes
    /// - `features`: `[batch, channels, h, w]`, `h, w ≥ grid`
    /// - output: `([batch, channels], Some([batch, g, g]) or None)`
    pub fn pool(&self, features: Tensor<B, 4>) -> (Tensor<B, 2>, Option<Tensor<B, 3>>) {
        let [b, c, h, w] = features.dims();
        assert!(
            h >= self.grid && w >= self.grid,
            "feature map {h}×{w} is smaller than the {g}×{g} grid: use larger images",
            g = self.grid
        );
        let g = self.grid;
        let grid = adaptive_avg_pool2d(features, [g, g]);
        match (&self.attention, self.pooling.aggregator()) {
            (Some(head), Some(agg)) => {
                let probs = head.forward(grid.clone());
                let feats = grid.permute([0, 2, 3, 1]);
                let pool = MaaPoolConfig::new().with_aggregator(agg).init::<B>();
                (pool.forward_2d(probs.clone(), feats), Some(probs))
            }
            _ => (
                grid.reshape([b, c, g * g]).mean_dim(2).reshape([b, c]),
                None,
            ),
        }
    }

    /// Class activation maps `M_k(x, y) = Σ_c w_{c,k} f_c(x, y)` of one class per image, on
    /// the backbone's feature map.
    ///
    /// # Shapes
    /// - `features`: `[batch, channels, h, w]`
    /// - `classes`: `batch` class indices
    /// - output: `[batch, h, w]`
    pub fn cam(&self, features: Tensor<B, 4>, classes: &[usize]) -> Tensor<B, 3> {
        let [b, c, h, w] = features.dims();
        assert_eq!(classes.len(), b, "one class per image");
        let device = features.device();
        let idx = Tensor::<B, 1, Int>::from_ints(
            classes
                .iter()
                .map(|&k| k as i64)
                .collect::<Vec<_>>()
                .as_slice(),
            &device,
        );
        // Linear weight is [channels, classes]: take one column per image.
        let weights = self.classifier.weight.val().select(1, idx); // [c, b]
        let weights = weights.transpose().reshape([b, c, 1, 1]);
        (features * weights).sum_dim(1).reshape([b, h, w])
    }
}

/// What [`load_backbone_weights`] applied.
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// Parameters loaded, by path in the backbone (`convs.0.weight`, ...).
    pub applied: Vec<String>,
    /// Tensors of the file that the backbone does not use (e.g. a classifier).
    pub unused: Vec<String>,
}

/// Loads pretrained backbone weights from a safetensors file with Burn's importer
/// (`burn-store`), with PyTorch's naming and layout.
///
/// Tensor names are matched after two rewrites, so that a torchvision `vgg16` state dict
/// (`features.0.weight`, `features.2.weight`, `features.5.weight`, ...) loads into
/// [`BackboneConfig::vgg16`] as it is: any prefix up to `features.` or `convs.` becomes
/// `convs.`, and the layer indices are renumbered contiguously (0, 2, 5 → 0, 1, 2). Tensors
/// the backbone has no place for (the classifier) are ignored; every backbone parameter
/// must be found, with its shape. A PyTorch `.pth` converts to safetensors with
/// `safetensors.torch.save_file(torch.load(p), "vgg16.safetensors")`.
pub fn load_backbone_weights<B: Backend>(
    backbone: &mut Backbone<B>,
    path: &Path,
) -> Result<LoadReport, WsolError> {
    if !path.is_file() {
        return Err(WsolError::MissingFile {
            path: path.to_path_buf(),
        });
    }
    let mut store = SafetensorsStore::from_file(path)
        .with_key_remapping(r"^(?:.*\.)?(?:features|convs)\.(\d+)\.", "convs.$1.")
        .map_indices_contiguous(true)
        .with_from_adapter(PyTorchToBurnAdapter)
        .allow_partial(true)
        .validate(true);
    let result = backbone
        .load_from(&mut store)
        .map_err(|e| WsolError::Weights {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    if !result.errors.is_empty() || !result.missing.is_empty() {
        let mut problems: Vec<String> = result.errors.iter().map(|e| format!("{e:?}")).collect();
        problems.extend(
            result
                .missing
                .iter()
                .map(|(p, _)| format!("no tensor for {p}")),
        );
        return Err(WsolError::Weights {
            path: path.to_path_buf(),
            message: problems.join("; "),
        });
    }
    Ok(LoadReport {
        applied: result.applied,
        unused: result.unused,
    })
}
