//! One stream of MAAN (or of a Table 1 baseline): attention module, aggregator, classifier.
//!
//! The architecture is the paper's section 2.4 / 3.1 (Figure 3):
//!
//! ```text
//! x_t [D] ──► FC D×256 ─► LeakyReLU ─► FC 256×1 ─► sigmoid ─► p_t          (attention module)
//! {x_t}, {p_t} ──► aggregator (MAA, weighted sum, …) ──► x̄ [D]           (maa_core::Aggregator)
//! x̄ ──► FC D×C ─► sigmoid ─► video-level class probabilities             (classifier)
//! ```
//!
//! The loss is the binary cross-entropy of eq. 10 over multi-hot labels (averaged over the
//! batch and the classes instead of summed: with Adam the scale barely matters, and the mean
//! keeps the loss comparable across batch sizes), plus, for STPN only, STPN's L1 sparsity term
//! `β · mean_b mean_t p_bt` (β = 1e-4).
//!
//! The class activation sequence (CAS) of a video is `s[t, c] = p_t · σ(w_c · x_t + b_c)` for
//! MAAN (eq. 14) and `s[t, c] = λ_t · σ(w_c · x_t + b_c)` for the other aggregators (eq. 12,
//! STPN's definition, which the paper contrasts with eq. 14), unless [`CasWeighting`] says
//! otherwise.
//!
//! The LeakyReLU slope is not given by the paper; the official implementation is PyTorch,
//! whose `nn.LeakyReLU()` default is 0.01, and that is our default too.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{LeakyRelu, LeakyReluConfig, Linear, LinearConfig};
use burn::tensor::activation::{log_sigmoid, sigmoid};
use burn::tensor::backend::Backend;
use burn::tensor::{Bool, Tensor};
use maa_core::Aggregator;
use serde::{Deserialize, Serialize};

/// Which per-snippet weight multiplies `σ(w_c · x_t)` in the CAS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CasWeighting {
    /// `p_t` for MAA (eq. 14), the aggregation weight `λ_t` for every other aggregator (eq. 12).
    #[default]
    Auto,
    /// Always the attention `p_t` (eq. 14).
    Attention,
    /// Always the aggregation weight `λ_t` (eq. 12).
    AggregationWeight,
}

/// Configuration of one stream (the paper's defaults for a 1024-d I3D stream).
#[derive(Config, Debug, PartialEq)]
pub struct StreamModelConfig {
    /// Dimension `D` of a snippet feature (1024 for one I3D stream).
    #[config(default = 1024)]
    pub feature_dim: usize,
    /// Number of action classes `C` (20 for THUMOS14, 200 for ActivityNet1.3).
    #[config(default = 20)]
    pub num_classes: usize,
    /// Width of the attention module's hidden layer (paper: FC 1024×256).
    #[config(default = 256)]
    pub attention_hidden: usize,
    /// Negative slope of the attention module's LeakyReLU (not in the paper; PyTorch's
    /// default, 0.01).
    #[config(default = 0.01)]
    pub leaky_relu_slope: f64,
    /// The feature aggregator: MAA for MAAN, or a Table 1 baseline.
    #[config(default = "Aggregator::Maa")]
    pub aggregator: Aggregator,
    /// Weight β of STPN's L1 sparsity loss on the attention; used only with the `stpn`
    /// aggregator (STPN's own loss). 0 disables it.
    #[config(default = 1e-4)]
    pub sparsity_weight: f64,
    /// Per-snippet weight of the CAS (eq. 14 vs eq. 12).
    #[config(default = "CasWeighting::Auto")]
    pub cas_weighting: CasWeighting,
}

impl StreamModelConfig {
    /// Builds the stream with Burn's default (Kaiming-uniform) initialisation on `device`.
    pub fn init<B: Backend>(&self, device: &B::Device) -> StreamModel<B> {
        StreamModel {
            attention_fc1: LinearConfig::new(self.feature_dim, self.attention_hidden).init(device),
            activation: LeakyReluConfig::new()
                .with_negative_slope(self.leaky_relu_slope)
                .init(),
            attention_fc2: LinearConfig::new(self.attention_hidden, 1).init(device),
            classifier: LinearConfig::new(self.feature_dim, self.num_classes).init(device),
            aggregator: self.aggregator,
            sparsity_weight: self.sparsity_weight,
            cas_weighting: self.cas_weighting,
        }
    }

    /// The sparsity weight actually applied: β for STPN, 0 for every other aggregator.
    pub fn effective_sparsity_weight(&self) -> f64 {
        effective_sparsity(self.aggregator, self.sparsity_weight)
    }
}

fn effective_sparsity(aggregator: Aggregator, weight: f64) -> f64 {
    if aggregator == Aggregator::WeightedSum {
        weight
    } else {
        0.0
    }
}

/// One stream of MAAN: attention module, aggregator and classifier.
#[derive(Module, Debug)]
pub struct StreamModel<B: Backend> {
    /// FC `D×256` of the attention module.
    pub attention_fc1: Linear<B>,
    /// LeakyReLU of the attention module.
    pub activation: LeakyRelu,
    /// FC `256×1` of the attention module.
    pub attention_fc2: Linear<B>,
    /// FC `D×C` classifier (its weights are the `w_c` of eq. 10-14).
    pub classifier: Linear<B>,
    /// The feature aggregator.
    #[module(skip)]
    pub aggregator: Aggregator,
    /// β of the STPN sparsity loss (as configured; see [`StreamModelConfig::sparsity_weight`]).
    #[module(skip)]
    pub sparsity_weight: f64,
    /// CAS weighting.
    #[module(skip)]
    pub cas_weighting: CasWeighting,
}

/// Everything a training forward pass produces.
#[derive(Debug, Clone)]
pub struct StreamOutput<B: Backend> {
    /// Attention `p`, 0 at padded positions. Shape `[batch, time]`.
    pub attention: Tensor<B, 2>,
    /// Aggregation weights `λ` (`x̄ = Σ_t λ_t x_t`). Shape `[batch, time]`.
    pub weights: Tensor<B, 2>,
    /// Aggregated video feature `x̄`. Shape `[batch, dim]`.
    pub aggregated: Tensor<B, 2>,
    /// Video-level logits `w_c · x̄ + b_c`. Shape `[batch, classes]`.
    pub logits: Tensor<B, 2>,
}

/// CAS and video-level probabilities of whole videos.
#[derive(Debug, Clone)]
pub struct VideoPrediction<B: Backend> {
    /// Class activation sequence `s[b, t, c]`, 0 at padded positions. Shape
    /// `[batch, time, classes]`.
    pub cas: Tensor<B, 3>,
    /// Video-level class probabilities `σ(w_c · x̄ + b_c)`. Shape `[batch, classes]`.
    pub video_probs: Tensor<B, 2>,
    /// Attention `p`. Shape `[batch, time]`.
    pub attention: Tensor<B, 2>,
}

impl<B: Backend> StreamModel<B> {
    /// The attention `p_t = σ(FC(LeakyReLU(FC(x_t))))`, 0 at padded positions.
    ///
    /// # Shapes
    /// - `features`: `[batch, time, dim]`
    /// - `mask`: `[batch, time]`, `true` for real snippets (`None`: all real)
    /// - output: `[batch, time]`
    pub fn attention(
        &self,
        features: Tensor<B, 3>,
        mask: Option<Tensor<B, 2, Bool>>,
    ) -> Tensor<B, 2> {
        let [batch, time, dim] = features.dims();
        // A 2-D matmul is faster than the broadcast 3-D one on CPU backends.
        let flat = features.reshape([batch * time, dim]);
        let hidden = self.activation.forward(self.attention_fc1.forward(flat));
        let probs = sigmoid(self.attention_fc2.forward(hidden)).reshape([batch, time]);
        match mask {
            Some(mask) => probs.mask_fill(mask.bool_not(), 0.0),
            None => probs,
        }
    }

    /// Forward pass for training or video-level classification.
    ///
    /// `training` only matters for the Dropout aggregator.
    ///
    /// # Shapes
    /// - `features`: `[batch, time, dim]`
    /// - `mask`: `[batch, time]` (`None`: all real)
    /// - output: see [`StreamOutput`]
    pub fn forward(
        &self,
        features: Tensor<B, 3>,
        mask: Option<Tensor<B, 2, Bool>>,
        training: bool,
    ) -> StreamOutput<B> {
        let attention = self.attention(features.clone(), mask.clone());
        let weights = self.aggregator.weights(attention.clone(), mask, training);
        let aggregated = maa_core::weighted_sum(weights.clone(), features);
        let logits = self.classifier.forward(aggregated.clone());
        StreamOutput {
            attention,
            weights,
            aggregated,
            logits,
        }
    }

    /// The training loss: mean binary cross-entropy of eq. 10 on the video-level logits, plus
    /// STPN's sparsity term for the `stpn` aggregator. Returns a one-element tensor.
    ///
    /// # Shapes
    /// - `output`: from [`Self::forward`] on `[batch, time, dim]`
    /// - `labels`: `[batch, classes]`, multi-hot in {0, 1}
    /// - `mask`: `[batch, time]` (`None`: all real); used by the sparsity term
    /// - output: `[1]`
    pub fn loss(
        &self,
        output: &StreamOutput<B>,
        labels: Tensor<B, 2>,
        mask: Option<Tensor<B, 2, Bool>>,
    ) -> Tensor<B, 1> {
        let bce = bce_with_logits(output.logits.clone(), labels);
        let beta = effective_sparsity(self.aggregator, self.sparsity_weight);
        if beta == 0.0 {
            return bce;
        }
        // Attention is already 0 at padded positions; average over the real snippets.
        let l1 = match mask {
            Some(mask) => {
                let count = mask.float().sum_dim(1).clamp_min(1.0);
                (output.attention.clone().sum_dim(1) / count).mean()
            }
            None => output.attention.clone().mean_dim(1).mean(),
        };
        bce + l1 * beta
    }

    /// Forward pass and loss in one call (see [`Self::forward`] and [`Self::loss`]).
    ///
    /// # Shapes
    /// - `features`: `[batch, time, dim]`; `labels`: `[batch, classes]`; `mask`: `[batch, time]`
    /// - output: `[1]`
    pub fn forward_loss(
        &self,
        features: Tensor<B, 3>,
        labels: Tensor<B, 2>,
        mask: Option<Tensor<B, 2, Bool>>,
    ) -> Tensor<B, 1> {
        let output = self.forward(features, mask.clone(), true);
        self.loss(&output, labels, mask)
    }

    /// CAS and video-level class probabilities of whole videos (all their snippets), in
    /// evaluation mode.
    ///
    /// # Shapes
    /// - `features`: `[batch, time, dim]`
    /// - `mask`: `[batch, time]` (`None`: all real)
    /// - output: see [`VideoPrediction`]
    pub fn predict(
        &self,
        features: Tensor<B, 3>,
        mask: Option<Tensor<B, 2, Bool>>,
    ) -> VideoPrediction<B> {
        let [batch, time, dim] = features.dims();
        let output = self.forward(features.clone(), mask.clone(), false);
        let snippet_logits = self
            .classifier
            .forward(features.reshape([batch * time, dim]));
        let classes = snippet_logits.dims()[1];
        let snippet_probs = sigmoid(snippet_logits).reshape([batch, time, classes]);
        let weight = if self.uses_attention_for_cas() {
            output.attention.clone()
        } else {
            output.weights
        };
        let mut cas = snippet_probs * weight.unsqueeze_dim::<3>(2);
        if let Some(mask) = mask {
            cas = cas.mask_fill(mask.bool_not().unsqueeze_dim::<3>(2), 0.0);
        }
        VideoPrediction {
            cas,
            video_probs: sigmoid(output.logits),
            attention: output.attention,
        }
    }

    /// Whether the CAS is weighted by `p_t` (eq. 14) rather than `λ_t` (eq. 12).
    pub fn uses_attention_for_cas(&self) -> bool {
        match self.cas_weighting {
            CasWeighting::Auto => self.aggregator == Aggregator::Maa,
            CasWeighting::Attention => true,
            CasWeighting::AggregationWeight => false,
        }
    }
}

/// Mean binary cross-entropy between `σ(logits)` and `labels`, computed stably from the
/// logits: `-(y log σ(z) + (1 - y) log σ(-z))`.
///
/// # Shapes
/// - `logits`, `labels`: `[batch, classes]`
/// - output: `[1]`
pub fn bce_with_logits<B: Backend>(logits: Tensor<B, 2>, labels: Tensor<B, 2>) -> Tensor<B, 1> {
    let pos = log_sigmoid(logits.clone()) * labels.clone();
    let neg = log_sigmoid(logits.neg()) * (labels.neg() + 1.0);
    (pos + neg).mean().neg()
}
