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
//!
//! # Background modelling (`Background::Bas`)
//!
//! MAAN, like STPN, never says what a snippet that belongs to no action looks like: every
//! video of the training set holds some action, so the classifier can score background
//! snippets high for the classes of the videos they appear in. Later WTAL methods model the
//! background explicitly. [`Background`] adds one of them as a training option that composes
//! with every aggregator, MAA included; [`Background::None`] (the default) is the paper's
//! model, unchanged bit for bit.
//!
//! **What BaS-Net does** (Lee et al., *Background Suppression Network for Weakly-supervised
//! Temporal Action Localization*, AAAI 2020). Its classifier has `C + 1` outputs, the last one
//! an auxiliary *background* class, and it runs twice on every video with shared weights:
//!
//! - the *base branch* classifies the raw snippets; since every untrimmed video contains
//!   background, its video label is the action labels plus background = 1;
//! - the *suppression branch* first multiplies each snippet by a foreground weight from a
//!   filtering module (FC, LeakyReLU, FC, sigmoid: the same shape as MAAN's attention), then
//!   classifies; the filtering is meant to remove the background, so its label has background
//!   = 0. The filter learns to suppress background because that is the only way to satisfy
//!   both labels with one classifier.
//!
//! The loss is the sum of the two branches' cross-entropies plus `α · mean_b ‖w_b‖₁`
//! (`α = 1e-4`) on the foreground weights. At test time only the suppression branch is used:
//! its CAS and video scores without the background column.
//!
//! **What this crate does, adapted to MAAN.**
//!
//! - The filtering module is MAAN's attention module: `p_t` plays the foreground weight; no
//!   extra parameters besides the classifier's background row (`D + 1` numbers).
//! - The classifier is MAAN's FC `D × (C + 1)`, shared by both branches.
//! - The suppression branch is the model's own aggregator weighted by the attention (MAA's
//!   `x̄ = Σ_t λ_t x_t`, STPN's weighted sum, …), exactly the video-level logits of
//!   [`Background::None`], with background label 0. The base branch aggregates the valid
//!   snippets without the attention, by their uniform mean, with background label 1.
//! - Loss = `BCE(base logits, [y, 1]) + BCE(filtered logits, [y, 0])`, each the mean over the
//!   batch and the `C + 1` outputs like [`bce_with_logits`], plus STPN's sparsity term for the
//!   `stpn` aggregator only, as without background modelling.
//! - At test time the CAS, the video scores and so the detections come from the filtered
//!   branch exactly as without background modelling, with the background column dropped: the
//!   CAS keeps its `[time, C]` shape, and testing, localization and evaluation are unchanged.
//!
//! **Deviations from BaS-Net, and why.**
//!
//! - *Sigmoid, not softmax.* BaS-Net normalises the label vector to sum to 1 and applies a
//!   binary cross-entropy to a softmax over `C + 1`. MAAN's classifier is multi-label (eq. 10:
//!   one sigmoid per class); the background is one more independent sigmoid output, with 0/1
//!   labels. Dropping the background column at test time then leaves the other classes'
//!   probabilities untouched (no renormalisation needed).
//! - *Pooling.* BaS-Net pools each branch's CAS by the mean of its top `T/8` snippets; MAAN
//!   classifies an aggregated feature. The suppression branch therefore uses the model's
//!   aggregator (that is the point: background modelling composes with MAA), and the base
//!   branch the attention-free counterpart, the uniform mean (by linearity, the mean of the
//!   snippet logits: mean pooling rather than top-k pooling).
//! - *Filtering.* BaS-Net multiplies the features by the weights and still top-k pools; here
//!   the attention enters through the aggregator's weights `λ_t` (for STPN `λ_t = p_t`, the
//!   same product summed).
//! - *No extra L1 term.* BaS-Net's `α · ‖w‖₁` is not added for the other aggregators: MAAN has
//!   no sparsity loss (the paper's point is that MAA needs none), and STPN keeps its own, which
//!   is the same term up to normalisation (mean rather than sum over snippets).
//! - *Backbone.* BaS-Net's classifier is two temporal convolutions (kernel 3, 2048 channels,
//!   dropout 0.7) then a bias-free `1 × 1` convolution; MAAN's is one linear layer with a bias,
//!   kept as is. At test time BaS-Net min-max normalises the CAS; MAAN's localization presets
//!   (`maan-eval`) are kept.
//!
//! **Not implemented:** UM's magnitude loss and uncertainty modelling (Lee et al., AAAI 2021:
//! feature magnitudes of action snippets pushed above a margin, background snippets' towards
//! 0, and background pseudo-labels from the lowest-attention snippets), and BaS-Net's top-k
//! pooling.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{LeakyRelu, LeakyReluConfig, Linear, LinearConfig};
use burn::tensor::activation::{log_sigmoid, sigmoid};
use burn::tensor::backend::Backend;
use burn::tensor::{Bool, Tensor, TensorData};
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

/// Explicit background modelling during training (see the module docs, "Background
/// modelling"). Saved in the run's `config.json` (`model.background`); a configuration written
/// before the option existed reads as [`Background::None`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Background {
    /// No background modelling: the paper's model and loss (classifier `D × C`).
    #[default]
    None,
    /// BaS-Net's background class with filtering, adapted to MAAN's sigmoid classifier: a
    /// `D × (C + 1)` classifier, an attention-free base branch trained with background = 1
    /// and the model's aggregator as the filtered branch, trained with background = 0.
    Bas,
}

impl std::str::FromStr for Background {
    type Err = String;
    /// `none` or `bas` (any case).
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let s = s.trim().to_ascii_lowercase();
        Background::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .ok_or_else(|| format!("unknown background {s:?} (expected none or bas)"))
    }
}

impl Background {
    /// Every option, `none` first.
    pub const ALL: [Background; 2] = [Background::None, Background::Bas];

    /// The option's name in `config.json` and on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Background::None => "none",
            Background::Bas => "bas",
        }
    }

    /// Outputs the classifier has beyond the `C` action classes (1 for the background class
    /// of [`Background::Bas`], else 0).
    pub fn extra_outputs(&self) -> usize {
        match self {
            Background::None => 0,
            Background::Bas => 1,
        }
    }
}

impl std::fmt::Display for Background {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The serialized names of [`Background`].
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
enum BackgroundName {
    None,
    Bas,
}

impl<'de> Deserialize<'de> for Background {
    /// `"none"`, `"bas"`, or `null`/absent for [`Background::None`]. Burn's `Config` derive
    /// passes no `#[serde(default)]` to its fields, so the field's type reads itself as an
    /// option: serde gives a missing field to `deserialize_option` as "none", which is what
    /// lets `config.json` files written before the option existed still load.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<BackgroundName>::deserialize(deserializer)? {
            None | Some(BackgroundName::None) => Background::None,
            Some(BackgroundName::Bas) => Background::Bas,
        })
    }
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
    /// Background modelling during training (default: none, the paper). With
    /// [`Background::Bas`] the classifier has `num_classes + 1` outputs.
    #[config(default = "Background::None")]
    pub background: Background,
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
            classifier: LinearConfig::new(
                self.feature_dim,
                self.num_classes + self.background.extra_outputs(),
            )
            .init(device),
            aggregator: self.aggregator,
            sparsity_weight: self.sparsity_weight,
            cas_weighting: self.cas_weighting,
            background: self.background,
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
    /// FC `D×C` classifier (its weights are the `w_c` of eq. 10-14); `D×(C+1)` with
    /// [`Background::Bas`], the last output being the background class.
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
    /// Background modelling of the training loss (see [`Background`]).
    #[module(skip)]
    pub background: Background,
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
    /// Video-level logits `w_c · x̄ + b_c`. Shape `[batch, classes]`, `[batch, classes + 1]`
    /// with [`Background::Bas`] (background last): the filtered branch.
    pub logits: Tensor<B, 2>,
    /// With [`Background::Bas`] only: the logits of BaS-Net's base branch, the classifier on
    /// the uniform mean of the valid snippets (no attention). Shape `[batch, classes + 1]`.
    pub base_logits: Option<Tensor<B, 2>>,
}

/// CAS and video-level probabilities of whole videos.
#[derive(Debug, Clone)]
pub struct VideoPrediction<B: Backend> {
    /// Class activation sequence `s[b, t, c]`, 0 at padded positions. Shape
    /// `[batch, time, classes]` (the action classes only: a background class is dropped).
    pub cas: Tensor<B, 3>,
    /// Video-level class probabilities `σ(w_c · x̄ + b_c)`. Shape `[batch, classes]` (the
    /// action classes only).
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

    /// The mask of attention-guided erasing (adversarial erasing, as ACoL's and the
    /// step-by-step erasing of weakly-supervised localization do it): in each video, the
    /// `round(fraction × n)` of its `n` real snippets that this model's attention rates
    /// highest (at most `n − 1`) are hidden (`false`), the others keep `mask`'s value. The
    /// attention is read back to the host, detached: the choice carries no gradient.
    ///
    /// # Shapes
    /// - `features`: `[batch, time, dim]`
    /// - `mask`: `[batch, time]`, `true` for real snippets (`None`: all real)
    /// - output: `[batch, time]`
    pub fn attention_erasing_mask(
        &self,
        features: Tensor<B, 3>,
        mask: Option<Tensor<B, 2, Bool>>,
        fraction: f64,
    ) -> Tensor<B, 2, Bool> {
        let [batch, time, _] = features.dims();
        let device = features.device();
        let valid = match &mask {
            // `iter`, not `to_vec`: GPU backends store booleans as u8 or u32.
            Some(m) => m.clone().into_data().iter::<bool>().collect(),
            None => vec![true; batch * time],
        };
        let attention = self
            .attention(features.detach(), mask)
            .into_data()
            .convert::<f32>()
            .to_vec::<f32>()
            .expect("the attention reads back as f32");
        let kept = erase_highest(&attention, &valid, time, fraction);
        Tensor::from_data(TensorData::new(kept, [batch, time]), &device)
    }

    /// Forward pass for training or video-level classification.
    ///
    /// `training` only matters for the Dropout aggregator. With [`Background::Bas`] it also
    /// computes the base branch's logits ([`StreamOutput::base_logits`]).
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
        self.forward_branches(features, mask, training, true)
    }

    /// [`Self::forward`], with the base branch only when `with_base` (and
    /// [`Background::Bas`]).
    fn forward_branches(
        &self,
        features: Tensor<B, 3>,
        mask: Option<Tensor<B, 2, Bool>>,
        training: bool,
        with_base: bool,
    ) -> StreamOutput<B> {
        let attention = self.attention(features.clone(), mask.clone());
        let base_logits = (with_base && self.background == Background::Bas).then(|| {
            // The uniform mean of the valid snippets: the attention does not enter.
            let uniform = Aggregator::Mean.weights(attention.clone(), mask.clone(), training);
            self.classifier
                .forward(maa_core::weighted_sum(uniform, features.clone()))
        });
        let weights = self.aggregator.weights(attention.clone(), mask, training);
        let aggregated = maa_core::weighted_sum(weights.clone(), features);
        let logits = self.classifier.forward(aggregated.clone());
        StreamOutput {
            attention,
            weights,
            aggregated,
            logits,
            base_logits,
        }
    }

    /// Number of action classes `C` (the classifier's outputs without a background class).
    pub fn num_classes(&self) -> usize {
        self.classifier.weight.dims()[1] - self.background.extra_outputs()
    }

    /// The training loss: mean binary cross-entropy of eq. 10 on the video-level logits, plus
    /// STPN's sparsity term for the `stpn` aggregator. Returns a one-element tensor.
    ///
    /// With [`Background::Bas`] the cross-entropy is BaS-Net's pair (module docs):
    /// `BCE(base_logits, [labels, 1]) + BCE(logits, [labels, 0])`.
    ///
    /// # Shapes
    /// - `output`: from [`Self::forward`] on `[batch, time, dim]`
    /// - `labels`: `[batch, classes]`, multi-hot in {0, 1} (action classes only)
    /// - `mask`: `[batch, time]` (`None`: all real); used by the sparsity term
    /// - output: `[1]`
    ///
    /// # Panics
    /// With [`Background::Bas`], when `output` has no base branch (it must come from
    /// [`Self::forward`] of this model).
    pub fn loss(
        &self,
        output: &StreamOutput<B>,
        labels: Tensor<B, 2>,
        mask: Option<Tensor<B, 2, Bool>>,
    ) -> Tensor<B, 1> {
        let bce = match self.background {
            Background::None => bce_with_logits(output.logits.clone(), labels),
            Background::Bas => {
                let base = output.base_logits.clone().expect(
                    "a Background::Bas output has base-branch logits (StreamModel::forward)",
                );
                let [batch, _] = labels.dims();
                let device = labels.device();
                let with_background = |value: f32| {
                    Tensor::cat(
                        vec![
                            labels.clone(),
                            Tensor::<B, 2>::full([batch, 1], value, &device),
                        ],
                        1,
                    )
                };
                bce_with_logits(base, with_background(1.0))
                    + bce_with_logits(output.logits.clone(), with_background(0.0))
            }
        };
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
    /// evaluation mode. With [`Background::Bas`] they come from the filtered branch (the
    /// model's aggregator, as without background modelling) and the background column is
    /// dropped.
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
        let mut output = self.forward_branches(features.clone(), mask.clone(), false, false);
        let mut snippet_logits = self
            .classifier
            .forward(features.reshape([batch * time, dim]));
        let classes = self.num_classes();
        if self.background.extra_outputs() > 0 {
            snippet_logits = snippet_logits.slice([0..batch * time, 0..classes]);
            output.logits = output.logits.slice([0..batch, 0..classes]);
        }
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

    /// The per-snippet outputs that inference needs, for snippets of any videos stacked in one
    /// matrix: the attention `p_t` and the classifier's logits `W x_t + b` (all its outputs,
    /// the background class of [`Background::Bas`] included). Everything else of
    /// [`StreamModel::predict`] follows from them per video, on the host: the aggregator's
    /// weights `w` from `p`, the video logits `Σ_t w_t (W x_t) + b` (the classifier is
    /// linear), and the CAS `σ(W x_t + b) · p_t` (or `· w_t`).
    ///
    /// # Shapes
    /// - `features`: `[snippets, dim]`
    /// - output: `p` `[snippets]`, logits `[snippets, C (+1)]`
    pub fn snippet_scores(&self, features: Tensor<B, 2>) -> (Tensor<B, 1>, Tensor<B, 2>) {
        let [n, dim] = features.dims();
        let p = self
            .attention(features.clone().reshape([1, n, dim]), None)
            .reshape([n]);
        (p, self.classifier.forward(features))
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

/// `valid` (row-major `[rows, time]`) with, in each row, the `round(fraction × n)` of its `n`
/// valid positions with the highest `scores` (at most `n − 1`; ties go to the earlier
/// position) set to `false`: the host half of [`StreamModel::attention_erasing_mask`].
pub fn erase_highest(scores: &[f32], valid: &[bool], time: usize, fraction: f64) -> Vec<bool> {
    let mut out = valid.to_vec();
    // `chunks(0)` would panic; with no columns there is nothing to hide.
    for (scores, row) in scores.chunks(time.max(1)).zip(out.chunks_mut(time.max(1))) {
        let mut real: Vec<usize> = (0..row.len()).filter(|&t| row[t]).collect();
        let hide =
            ((fraction * real.len() as f64).round() as usize).min(real.len().saturating_sub(1));
        // Stable sort: equal scores keep their order, the earlier position first.
        real.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
        for &t in &real[..hide] {
            row[t] = false;
        }
    }
    out
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
