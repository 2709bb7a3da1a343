//! The feature aggregators compared in the paper's Table 1, as one enum.
//!
//! Every aggregator is a weighted sum `x̄ = Σ_t λ_t x_t` of the snippet features with weights
//! computed from the attention `p`; they differ only in the weights:
//!
//! | [`Aggregator`] | weights `λ_t` | paper |
//! |---|---|---|
//! | `Maa` | `p_t c_t` (marginalized average) | MAAN, eq. 3 |
//! | `WeightedSum` | `p_t` | STPN, eq. 1 |
//! | `Dropout` | `r_t p_t / 0.5`, `r_t ~ Bernoulli(0.5)`, while training; `p_t` otherwise | "Dropout" |
//! | `Norm` | `p_t / Σ_s p_s` | "Norm" |
//! | `SoftmaxNorm` | `exp(p_t) / Σ_s exp(p_s)` | "SoftMaxNorm" |
//! | `Mean` | `1 / T` | plain average pooling |
//!
//! `Dropout` uses inverted dropout (the kept weights are scaled by `1 / 0.5` while training, as
//! PyTorch's `nn.Dropout` does), so that the expected aggregate while training equals the
//! weighted sum used at test time; the paper's formula omits the scale. Masks give padded
//! positions weight 0 in every aggregator.

use std::fmt;
use std::str::FromStr;

use burn::tensor::{backend::Backend, Bool, Distribution, Tensor};
use serde::{Deserialize, Serialize};

use crate::closed_form::{apply_mask, marginalized_weights, weighted_sum};

/// Probability of dropping a snippet in [`Aggregator::Dropout`].
pub const DROPOUT_PROB: f64 = 0.5;

/// A feature aggregator of the paper's Table 1 (or plain mean pooling).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Aggregator {
    /// Marginalized average aggregation (MAAN).
    #[default]
    Maa,
    /// Attention-weighted sum (STPN, the paper's eq. 1).
    #[serde(alias = "stpn")]
    WeightedSum,
    /// Weighted sum with Bernoulli(0.5) dropout of snippets while training.
    Dropout,
    /// Weighted average normalised by the sum of the attention.
    Norm,
    /// Weighted average with the softmax of the attention as weights.
    SoftmaxNorm,
    /// Plain average of the snippets (attention ignored).
    Mean,
}

impl Aggregator {
    /// Every aggregator, MAA first, in the order of the paper's Table 1 after it.
    pub const ALL: [Aggregator; 6] = [
        Aggregator::Maa,
        Aggregator::WeightedSum,
        Aggregator::Dropout,
        Aggregator::Norm,
        Aggregator::SoftmaxNorm,
        Aggregator::Mean,
    ];

    /// The command-line name: `maa`, `stpn`, `dropout`, `norm`, `softmax-norm`, `mean`.
    pub fn name(&self) -> &'static str {
        match self {
            Aggregator::Maa => "maa",
            Aggregator::WeightedSum => "stpn",
            Aggregator::Dropout => "dropout",
            Aggregator::Norm => "norm",
            Aggregator::SoftmaxNorm => "softmax-norm",
            Aggregator::Mean => "mean",
        }
    }

    /// The name used in the paper's Table 1 (`MAAN`, `STPN`, `Dropout`, `Norm`, `SoftMaxNorm`).
    pub fn paper_name(&self) -> &'static str {
        match self {
            Aggregator::Maa => "MAAN",
            Aggregator::WeightedSum => "STPN",
            Aggregator::Dropout => "Dropout",
            Aggregator::Norm => "Norm",
            Aggregator::SoftmaxNorm => "SoftMaxNorm",
            Aggregator::Mean => "Mean",
        }
    }

    /// [`Aggregator::weights`] of one whole sequence at inference (`training = false`) on the
    /// host: `Maa` by [`crate::closed_form::marginalized_weights_host`] in `f64`, the others by
    /// their formulas (`Dropout` is the weighted sum at inference). Empty for an empty input.
    ///
    /// # Shapes
    /// - `probs`: `[time]`, values in `[0, 1]`
    /// - output: `[time]`
    pub fn inference_weights(&self, probs: &[f32]) -> Vec<f32> {
        let p: Vec<f64> = probs.iter().map(|&x| x as f64).collect();
        let w: Vec<f64> = match self {
            Aggregator::Maa => crate::closed_form::marginalized_weights_host(&p),
            Aggregator::WeightedSum | Aggregator::Dropout => p,
            Aggregator::Norm => {
                let total = p.iter().sum::<f64>().max(f32::MIN_POSITIVE as f64);
                p.iter().map(|x| x / total).collect()
            }
            Aggregator::SoftmaxNorm => {
                let e: Vec<f64> = p.iter().map(|x| x.exp()).collect();
                let total: f64 = e.iter().sum();
                e.iter().map(|x| x / total).collect()
            }
            Aggregator::Mean => vec![1.0 / p.len().max(1) as f64; p.len()],
        };
        w.into_iter().map(|x| x as f32).collect()
    }

    /// The weights `λ` such that the aggregate is `Σ_t λ_t x_t` (table in the module docs).
    /// `training` only matters for `Dropout`, whose mask comes from the backend's RNG
    /// (seed it with `B::seed`).
    ///
    /// # Shapes
    /// - `probs`: `[batch, time]`, values in `[0, 1]`
    /// - `mask`: `[batch, time]`, `true` for real snippets (`None`: all real)
    /// - output: `[batch, time]`
    pub fn weights<B: Backend>(
        &self,
        probs: Tensor<B, 2>,
        mask: Option<Tensor<B, 2, Bool>>,
        training: bool,
    ) -> Tensor<B, 2> {
        let probs = match mask.clone() {
            Some(mask) => apply_mask(probs, mask),
            None => probs,
        };
        let valid = |probs: &Tensor<B, 2>| match mask.clone() {
            Some(mask) => mask.float(),
            None => probs.ones_like(),
        };
        match self {
            Aggregator::Maa => marginalized_weights(probs),
            Aggregator::WeightedSum => probs,
            Aggregator::Dropout => {
                if training {
                    let keep = probs.random_like(Distribution::Bernoulli(1.0 - DROPOUT_PROB));
                    probs * keep * (1.0 / (1.0 - DROPOUT_PROB))
                } else {
                    probs
                }
            }
            Aggregator::Norm => {
                let total = probs.clone().sum_dim(1).clamp_min(f32::MIN_POSITIVE);
                probs / total
            }
            Aggregator::SoftmaxNorm => {
                // p ∈ [0, 1], so exp(p) cannot overflow; padded positions are zeroed.
                let v = valid(&probs);
                let e = probs.exp() * v;
                let total = e.clone().sum_dim(1);
                e / total
            }
            Aggregator::Mean => {
                let v = valid(&probs);
                let count = v.clone().sum_dim(1).clamp_min(1.0);
                v / count
            }
        }
    }

    /// The aggregated feature `Σ_t λ_t x_t`.
    ///
    /// # Shapes
    /// - `probs`: `[batch, time]`
    /// - `features`: `[batch, time, dim]`
    /// - `mask`: `[batch, time]` (`None`: all real)
    /// - output: `[batch, dim]`
    pub fn aggregate<B: Backend>(
        &self,
        probs: Tensor<B, 2>,
        features: Tensor<B, 3>,
        mask: Option<Tensor<B, 2, Bool>>,
        training: bool,
    ) -> Tensor<B, 2> {
        crate::closed_form::check_shapes(&probs, &features);
        weighted_sum(self.weights(probs, mask, training), features)
    }
}

impl fmt::Display for Aggregator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error of [`Aggregator::from_str`] for an unknown name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownAggregator(pub String);

impl fmt::Display for UnknownAggregator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown aggregator '{}': expected one of maa, stpn, dropout, norm, softmax-norm, mean",
            self.0
        )
    }
}

impl std::error::Error for UnknownAggregator {}

impl FromStr for Aggregator {
    type Err = UnknownAggregator;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "maa" | "maan" => Ok(Aggregator::Maa),
            "stpn" | "weighted-sum" | "weightedsum" => Ok(Aggregator::WeightedSum),
            "dropout" => Ok(Aggregator::Dropout),
            "norm" => Ok(Aggregator::Norm),
            "softmax-norm" | "softmaxnorm" => Ok(Aggregator::SoftmaxNorm),
            "mean" | "avg" | "average" => Ok(Aggregator::Mean),
            _ => Err(UnknownAggregator(s.to_string())),
        }
    }
}
