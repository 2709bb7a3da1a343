//! [`MaaPool`]: any [`Aggregator`] as a parameter-free Burn pooling layer.

use core::marker::PhantomData;

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{backend::Backend, Bool, Tensor};

use crate::Aggregator;

/// Configuration of [`MaaPool`].
#[derive(Config, Debug)]
pub struct MaaPoolConfig {
    /// The aggregator: marginalized average (the default) or a Table 1 baseline.
    #[config(default = "Aggregator::Maa")]
    pub aggregator: Aggregator,
}

impl MaaPoolConfig {
    /// Builds the layer. It has no parameters, so no device is needed.
    pub fn init<B: Backend>(&self) -> MaaPool<B> {
        MaaPool {
            aggregator: self.aggregator,
            _backend: PhantomData,
        }
    }
}

/// Attention-driven pooling: reduces the time axis of `[B, T, D]` features (1-D) or the
/// spatial axes of `[B, H, W, D]` feature maps (2-D, the paper's Appendix F) to `[B, D]`,
/// weighting each position by the [`Aggregator`] applied to per-position probabilities.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use maa_core::{MaaPoolConfig, Aggregator};
///
/// let device = Default::default();
/// let pool = MaaPoolConfig::new().init::<NdArray>();
/// let probs = Tensor::<NdArray, 2>::from_floats([[0.9, 0.1, 0.5]], &device);
/// let feats = Tensor::<NdArray, 3>::ones([1, 3, 8], &device);
/// let pooled = pool.forward(probs, feats); // [1, 8]
/// // All-ones features pool to 1 - Π(1 - p) = 1 - 0.1 · 0.9 · 0.5 = 0.955.
/// let v: Vec<f32> = pooled.into_data().to_vec().unwrap();
/// assert!((v[0] - 0.955).abs() < 1e-5);
/// assert_eq!(MaaPoolConfig::new().with_aggregator(Aggregator::Norm).aggregator, Aggregator::Norm);
/// ```
#[derive(Module, Debug)]
pub struct MaaPool<B: Backend> {
    /// The aggregator this layer applies.
    #[module(skip)]
    pub aggregator: Aggregator,
    _backend: PhantomData<B>,
}

impl<B: Backend> MaaPool<B> {
    /// Pools over time. `Dropout` drops snippets only when autodiff is enabled on the
    /// device (training), like Burn's own `Dropout`.
    ///
    /// # Shapes
    /// - `probs`: `[batch, time]`, values in `[0, 1]`
    /// - `features`: `[batch, time, dim]`
    /// - output: `[batch, dim]`
    pub fn forward(&self, probs: Tensor<B, 2>, features: Tensor<B, 3>) -> Tensor<B, 2> {
        let training = B::ad_enabled(&probs.device());
        self.aggregator.aggregate(probs, features, None, training)
    }

    /// [`MaaPool::forward`] for a padded batch.
    ///
    /// # Shapes
    /// - `probs`: `[batch, time]`
    /// - `features`: `[batch, time, dim]`
    /// - `mask`: `[batch, time]`, `true` for real positions
    /// - output: `[batch, dim]`
    pub fn forward_masked(
        &self,
        probs: Tensor<B, 2>,
        features: Tensor<B, 3>,
        mask: Tensor<B, 2, Bool>,
    ) -> Tensor<B, 2> {
        let training = B::ad_enabled(&probs.device());
        self.aggregator
            .aggregate(probs, features, Some(mask), training)
    }

    /// Pools over the two spatial axes of a feature map (Appendix F), by flattening them
    /// into one axis of `H·W` positions.
    ///
    /// # Shapes
    /// - `probs`: `[batch, height, width]`
    /// - `features`: `[batch, height, width, dim]`
    /// - output: `[batch, dim]`
    pub fn forward_2d(&self, probs: Tensor<B, 3>, features: Tensor<B, 4>) -> Tensor<B, 2> {
        let [b, h, w] = probs.dims();
        let [_, _, _, d] = features.dims();
        self.forward(probs.reshape([b, h * w]), features.reshape([b, h * w, d]))
    }

    /// The pooling weights `λ` (e.g. for a class activation map).
    ///
    /// # Shapes
    /// - `probs`: `[batch, time]`
    /// - output: `[batch, time]`
    pub fn weights(&self, probs: Tensor<B, 2>) -> Tensor<B, 2> {
        let training = B::ad_enabled(&probs.device());
        self.aggregator.weights(probs, None, training)
    }
}
