//! The paper's Algorithm 1 (Proposition 3), vectorized over the batch and over the subset
//! size `i`: `T` sequential tensor steps of `O(B·t·D)` each, `O(B·T²·D)` in all.
//!
//! With `q^t_i = P(Z_t = i)` and `m^t_i = E[1{Z_t = i} · Y_t / i]` (`Z_t = Σ_{k≤t} z_k`,
//! `Y_t = Σ_{k≤t} z_k x_k`), for `i = 0..=t+1`:
//!
//! ```text
//! m^{t+1}_i = p_{t+1} (b_{i-1} m^t_{i-1} + (1 - b_{i-1}) q^t_{i-1} x_{t+1}) + (1 - p_{t+1}) m^t_i
//! q^{t+1}_i = p_{t+1} q^t_{i-1} + (1 - p_{t+1}) q^t_i,          b_i = i / (i + 1)
//! ```
//!
//! and `MAA = Σ_i m^T_i`. Kept as the faithful reference and the benchmark baseline of the
//! closed form in [`crate::marginalized_average`].

use burn::tensor::{backend::Backend, Bool, Int, Tensor, TensorData};

use crate::closed_form::{apply_mask, check_shapes};

/// MAA by the paper's recurrence (Algorithm 1). Same result as
/// [`crate::marginalized_average`], in `T` sequential steps.
///
/// # Shapes
/// - `probs`: `[batch, time]`, values in `[0, 1]`
/// - `features`: `[batch, time, dim]`
/// - output: `[batch, dim]`
pub fn marginalized_average<B: Backend>(
    probs: Tensor<B, 2>,
    features: Tensor<B, 3>,
) -> Tensor<B, 2> {
    check_shapes(&probs, &features);
    let [batch, time, dim] = features.dims();
    let device = features.device();
    // State for t = 0: m^0 = [0], q^0 = [1].
    let mut m = Tensor::<B, 3>::zeros([batch, 1, dim], &device);
    let mut q = Tensor::<B, 2>::ones([batch, 1], &device);
    for t in 0..time {
        let n = t + 2; // sizes i = 0..=t+1
                       // `select` copies into fresh contiguous tensors; strided slices fed to the later
                       // reshape/broadcast gave wrong results on wgpu (Burn 0.21, lavapipe) for T ≥ 9.
        let index = Tensor::<B, 1, Int>::from_data(TensorData::new(vec![t as i64], [1]), &device);
        let p = probs.clone().select(1, index.clone()); // [batch, 1]
        let x = features.clone().select(1, index); // [batch, 1, dim]
                                                   // b_{i-1} and 1 - b_{i-1} for i = 0..n-1 (i = 0 multiplies zeros; use 0).
        let (b, one_minus_b): (Vec<f32>, Vec<f32>) = (0..n)
            .map(|i| {
                if i == 0 {
                    (0.0, 0.0)
                } else {
                    ((i - 1) as f32 / i as f32, 1.0 / i as f32)
                }
            })
            .unzip();
        let b = Tensor::<B, 3>::from_data(TensorData::new(b, [1, n, 1]), &device);
        let omb = Tensor::<B, 3>::from_data(TensorData::new(one_minus_b, [1, n, 1]), &device);
        let zeros_m = Tensor::<B, 3>::zeros([batch, 1, dim], &device);
        let zeros_q = Tensor::<B, 2>::zeros([batch, 1], &device);
        let m_shift = Tensor::cat(vec![zeros_m.clone(), m.clone()], 1); // m^t_{i-1}
        let m_same = Tensor::cat(vec![m, zeros_m], 1); // m^t_i
        let q_shift = Tensor::cat(vec![zeros_q.clone(), q.clone()], 1); // q^t_{i-1}
        let q_same = Tensor::cat(vec![q, zeros_q], 1); // q^t_i
        let p3 = p.clone().reshape([batch, 1, 1]);
        let taken = b * m_shift + omb * q_shift.clone().reshape([batch, n, 1]) * x;
        m = p3.clone() * taken + (p3.neg() + 1.0) * m_same;
        q = p.clone() * q_shift + (p.neg() + 1.0) * q_same;
    }
    m.sum_dim(1).reshape([batch, dim])
}

/// [`marginalized_average`] for a padded batch (positions where `mask` is `false` get `p = 0`).
///
/// # Shapes
/// - `probs`: `[batch, time]`
/// - `features`: `[batch, time, dim]`
/// - `mask`: `[batch, time]`
/// - output: `[batch, dim]`
pub fn marginalized_average_masked<B: Backend>(
    probs: Tensor<B, 2>,
    features: Tensor<B, 3>,
    mask: Tensor<B, 2, Bool>,
) -> Tensor<B, 2> {
    marginalized_average(apply_mask(probs, mask), features)
}
