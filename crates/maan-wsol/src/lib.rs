//! Weakly-supervised object localization (WSOL) with marginalized average aggregation as a
//! 2-D pooling layer: the image experiment of the MAAN paper (ICLR 2019, Appendix F, Table 4
//! and Figure 6), built on `maa-core` the way any outside Burn model would use it.
//!
//! # The model
//!
//! A class activation map (CAM) network: a convolutional backbone gives a feature map
//! `f` of `C` channels; the map is average-pooled to a `g × g` grid (the paper's 4×4 or 7×7);
//! the grid is reduced to one `C`-vector by one of three poolings ([`Pooling`]), and a linear
//! layer scores the classes:
//!
//! - **GAP** (the CAM model): the mean of the grid cells;
//! - **weighted sum** (weighted-CAM): an attention head gives each cell a probability `p`
//!   (1×1 convolution with 256 units, LeakyReLU, 1×1 convolution with one unit, sigmoid) and
//!   the cells are averaged with weights `p / Σ p`;
//! - **MAA** (MAAN): the same head, and the cells are combined with the marginalized average
//!   weights of `p` (`maa_core::MaaPool::forward_2d`): the expected average of the cells
//!   kept when each is kept independently with its probability. Cells that are only
//!   moderately discriminative keep a substantial weight, which is what spreads the CAM over
//!   more of the object than the single most discriminative part.
//!
//! Everything but the pooling is shared: the three models have the same backbone and
//! classifier parameters, and only weighted sum and MAA have the attention head.
//!
//! # The protocol
//!
//! Models are trained from image labels alone (cross-entropy). At test time the CAM of a
//! class `k`, `M_k = Σ_c w_{c,k} f_c` on the backbone's feature map, is upsampled to the
//! image and thresholded at 20% of its maximum, and the bounding box of the
//! largest connected component is the predicted box ([`localize::cam_to_box`]). An image is
//! a top-1 localization error when its top class is wrong or that class's box has IoU < 0.5
//! with the ground truth; a top-5 error when the true class is not among the top five or
//! its box has IoU < 0.5 ([`localize::localization_errors`]).
//!
//! # Data
//!
//! - [`synth`]: an offline dataset of objects whose class is given by a body (shape and
//!   texture) and a small most-discriminative part, on clutter, with exact boxes. Small
//!   enough to train the three poolings at both grid sizes on a CPU in minutes.
//! - [`cub`]: CUB-200-2011 in its official on-disk format. WSOL on CUB is only meaningful
//!   from an ImageNet-pretrained backbone (200 fine-grained classes from 6k images do not
//!   train a CNN from scratch): [`BackboneConfig::vgg16`] with [`load_backbone_weights`]
//!   reads torchvision's VGG16 weights from a safetensors file through Burn's importer
//!   (`burn-store`). Users bring the file.
//!
//! The crate chooses no backend and prints nothing; `maan experiment wsol` runs it.

pub mod cub;
pub mod error;
pub mod localize;
pub mod model;
pub mod synth;
pub mod train;

pub use error::WsolError;
pub use localize::{cam_to_box, iou, localization_errors, BBox, LocErrors, LocRecord};
pub use model::{
    load_backbone_weights, AttentionHead, Backbone, BackboneConfig, LoadReport, Pooling, WsolModel,
    WsolModelConfig, WsolOutput,
};
pub use train::{
    evaluate, evaluate_trained, train, train_from, Evaluation, Example, ImageSet, WsolTrainConfig,
};

/// Backend of the unit tests: flex (the CLI's default CPU backend), or ndarray with the
/// `test-ndarray` feature.
#[cfg(all(test, not(feature = "test-ndarray")))]
pub type TestBackend = burn::backend::Flex;
/// Backend of the unit tests (ndarray).
#[cfg(all(test, feature = "test-ndarray"))]
pub type TestBackend = burn::backend::NdArray;

#[cfg(test)]
mod tests;
