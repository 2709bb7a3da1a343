//! The layers of I3D on host buffers of one clip, channels first: `[C, T, H, W]` row-major.
//!
//! A convolution is an im2col (built a tile of output rows at a time, rows in parallel) and
//! one matrix product with the weights, BatchNorm folded into the weights and a bias, then
//! the bias and ReLU in one pass; a 1×1×1 convolution multiplies the input as it is. Pooling
//! is separable: one pass per axis, each vectorised over the axes after it.

use rayon::prelude::*;

use super::matmul::matmul;
use crate::model::same_padding;

/// Freed activation buffers, reused for later layers of the same pass: fresh large
/// allocations are zeroed page by page by the OS, a cost comparable to the layer itself.
#[derive(Debug, Default)]
pub(crate) struct Pool(Vec<Vec<f32>>);

impl Pool {
    /// A buffer of `len` elements (their values unspecified: every user overwrites them).
    pub fn take(&mut self, len: usize) -> Vec<f32> {
        // The smallest free buffer that is large enough, else the largest (it grows).
        let pick = self
            .0
            .iter()
            .enumerate()
            .filter(|(_, b)| b.capacity() >= len)
            .min_by_key(|(_, b)| b.capacity())
            .or_else(|| self.0.iter().enumerate().max_by_key(|(_, b)| b.capacity()))
            .map(|(i, _)| i);
        let mut buf = pick.map(|i| self.0.swap_remove(i)).unwrap_or_default();
        buf.resize(len, 0.0);
        buf
    }

    /// Returns a buffer for reuse.
    pub fn give(&mut self, buf: Vec<f32>) {
        self.0.push(buf);
    }
}

/// im2col tiles hold about this many floats (4 MiB), whole output rows at a time (on the
/// 2-core development machine, `maan bench extract` with 1 Mi took about 5 % less CPU time
/// than with 4 Mi and 15-20 % less than with 256 Ki: two runs each, under load).
const TILE_FLOATS: usize = 1 << 20;

/// A clip's `[C, T, H, W]` shape.
pub(crate) type Dims = [usize; 4];

/// One convolution with its BatchNorm as a per-channel affine map: `y = relu(s · (W ∗ x) + b)`
/// with TF-"SAME" zero padding.
#[derive(Debug, Clone)]
pub(crate) struct Conv {
    /// Input channels.
    pub cin: usize,
    /// Output channels.
    pub cout: usize,
    /// `[kₜ, kₕ, k_w]`.
    pub kernel: [usize; 3],
    /// `[sₜ, sₕ, s_w]`.
    pub stride: [usize; 3],
    /// `[cout, cin·kₜ·kₕ·k_w]` row-major, the columns in `(c, dt, dh, dw)` order.
    pub weight: Vec<f32>,
    /// `[cout]`: BatchNorm's `γ/√(σ² + ε)`.
    pub scale: Vec<f32>,
    /// `[cout]`: BatchNorm's `β − μ · γ/√(σ² + ε)`.
    pub bias: Vec<f32>,
}

/// Output size of TF-"SAME" padding then a window `k` with stride `s` (floor mode).
fn same_out(size: usize, k: usize, s: usize) -> (usize, usize) {
    let (before, after) = same_padding(k, s, size);
    (before, (size + before + after - k) / s + 1)
}

impl Conv {
    /// The output shape for an input of shape `dims`.
    pub fn out_dims(&self, [_, t, h, w]: Dims) -> Dims {
        let [kt, kh, kw] = self.kernel;
        let [st, sh, sw] = self.stride;
        [
            self.cout,
            same_out(t, kt, st).1,
            same_out(h, kh, sh).1,
            same_out(w, kw, sw).1,
        ]
    }

    /// Writes `relu(s · conv(x) + b)` into `out` (`[cout, T', H', W']`, exactly that long);
    /// `scratch` is reused for the im2col tiles.
    pub fn forward(&self, x: &[f32], dims: Dims, out: &mut [f32], scratch: &mut Vec<f32>) {
        let [c, t, h, w] = dims;
        assert_eq!(
            c, self.cin,
            "conv: {c} input channels, expected {}",
            self.cin
        );
        assert_eq!(x.len(), c * t * h * w, "conv: input is not {dims:?}");
        let [_, to, ho, wo] = self.out_dims(dims);
        let s_out = to * ho * wo;
        assert_eq!(out.len(), self.cout * s_out, "conv: output size");
        let k_len = self.weight.len() / self.cout;
        if self.kernel == [1, 1, 1] && self.stride == [1, 1, 1] {
            matmul(out, s_out, &self.weight, x, [self.cout, s_out, k_len]);
        } else {
            self.forward_im2col(x, dims, out, scratch);
        }
        out.par_chunks_mut(s_out.max(1))
            .zip(self.scale.par_iter().zip(self.bias.par_iter()))
            .for_each(|(row, (&s, &b))| {
                for v in row {
                    *v = (*v * s + b).max(0.0);
                }
            });
    }

    fn forward_im2col(&self, x: &[f32], dims: Dims, out: &mut [f32], scratch: &mut Vec<f32>) {
        let [_, t, h, w] = dims;
        let [kt, kh, kw] = self.kernel;
        let [st, sh, sw] = self.stride;
        let (pt, to) = same_out(t, kt, st);
        let (ph, ho) = same_out(h, kh, sh);
        let (pw, wo) = same_out(w, kw, sw);
        let s_out = to * ho * wo;
        let k_len = self.cin * kt * kh * kw;
        // Output rows (t', h') per tile.
        let rows = to * ho;
        let tile_rows = (TILE_FLOATS / (k_len * wo)).clamp(1, rows);
        // With a stride along W, each input row is first split into its `s_w` phases
        // (`phases[.., p, j] = x[.., j·s_w + p]`, zeros past the row's end), so that every
        // im2col row is a contiguous copy: output w' reads phase `(dw − p_w) mod s_w` at
        // `w' + ⌊(dw − p_w) / s_w⌋`.
        let wp = w.div_ceil(sw);
        let phases: Vec<f32> = if sw == 1 {
            Vec::new()
        } else {
            let mut v = vec![0.0f32; x.len() / w * sw * wp];
            v.par_chunks_mut(sw * wp)
                .zip(x.par_chunks(w))
                .for_each(|(dst, row)| {
                    for (i, &value) in row.iter().enumerate() {
                        dst[(i % sw) * wp + i / sw] = value;
                    }
                });
            v
        };
        let mut row0 = 0;
        while row0 < rows {
            let n_rows = tile_rows.min(rows - row0);
            let cols = n_rows * wo;
            scratch.resize(k_len * cols, 0.0);
            let col = &mut scratch[..k_len * cols];
            col.par_chunks_mut(cols).enumerate().for_each(|(kk, dst)| {
                // Column-matrix row kk = ((c·kₜ + dt)·kₕ + dh)·k_w + dw.
                let dw = kk % kw;
                let dh = (kk / kw) % kh;
                let dt = (kk / (kw * kh)) % kt;
                let c = kk / (kw * kh * kt);
                for (r, dst) in dst.chunks_mut(wo).enumerate() {
                    let (ot, oh) = ((row0 + r) / ho, (row0 + r) % ho);
                    let it = (ot * st + dt) as isize - pt as isize;
                    let ih = (oh * sh + dh) as isize - ph as isize;
                    if it < 0 || it >= t as isize || ih < 0 || ih >= h as isize {
                        dst.fill(0.0);
                        continue;
                    }
                    let row = (c * t + it as usize) * h + ih as usize;
                    // Output w' reads input w'·s_w + dw − p_w: in phase `phase` at w' + off.
                    let shift = dw as isize - pw as isize;
                    let (src, off) = if sw == 1 {
                        (&x[row * w..][..w], shift)
                    } else {
                        let phase = shift.rem_euclid(sw as isize) as usize;
                        (
                            &phases[(row * sw + phase) * wp..][..wp],
                            shift.div_euclid(sw as isize),
                        )
                    };
                    // Valid w' are those with 0 <= w' + off < src.len().
                    let len = src.len() as isize;
                    let lo = (-off).clamp(0, wo as isize) as usize;
                    let hi = (len - off).clamp(lo as isize, wo as isize) as usize;
                    dst[..lo].fill(0.0);
                    dst[lo..hi].copy_from_slice(
                        &src[(lo as isize + off) as usize..(hi as isize + off) as usize],
                    );
                    dst[hi..].fill(0.0);
                }
            });
            matmul(
                &mut out[row0 * wo..],
                s_out,
                &self.weight,
                col,
                [self.cout, cols, k_len],
            );
            row0 += n_rows;
        }
    }
}

/// One pass of a pooling along the middle axis of `x` viewed as `[outer, len, inner]`:
/// window `k`, stride `s`, `pad` positions of value 0 before (and enough after), `out_len`
/// outputs; `max` takes the maximum (zeros of the padding included), else the mean over `k`.
fn pool_axis(
    x: &[f32],
    [outer, len, inner]: [usize; 3],
    k: usize,
    s: usize,
    pad: usize,
    out_len: usize,
    max: bool,
    pool: &mut Pool,
) -> Vec<f32> {
    assert_eq!(x.len(), outer * len * inner);
    let mut out = pool.take(outer * out_len * inner);
    if out.is_empty() {
        return out;
    }
    out.par_chunks_mut(out_len * inner)
        .zip(x.par_chunks(len * inner))
        .for_each(|(dst, src)| {
            for (o, d) in dst.chunks_mut(inner).enumerate() {
                let start = (o * s) as isize - pad as isize;
                let (lo, hi) = (
                    start.max(0) as usize,
                    ((start + k as isize).max(0) as usize).min(len),
                );
                let padded = lo as isize > start || hi < (start + k as isize) as usize;
                if max {
                    d.fill(if padded { 0.0 } else { f32::NEG_INFINITY });
                    for i in lo..hi {
                        for (d, &v) in d.iter_mut().zip(&src[i * inner..][..inner]) {
                            *d = d.max(v);
                        }
                    }
                } else {
                    d.fill(0.0);
                    for i in lo..hi {
                        for (d, &v) in d.iter_mut().zip(&src[i * inner..][..inner]) {
                            *d += v;
                        }
                    }
                    let inv = 1.0 / k as f32;
                    d.iter_mut().for_each(|d| *d *= inv);
                }
            }
        });
    out
}

/// pytorch-i3d's `MaxPool3dSamePadding` on `x` (`dims`): zero padding to TF-"SAME", then max
/// pooling with `kernel` and `stride`.
/// `pool` lends the buffers (the input's is the caller's).
pub(crate) fn max_pool_same(
    x: &[f32],
    dims: Dims,
    kernel: [usize; 3],
    stride: [usize; 3],
    pool: &mut Pool,
) -> (Vec<f32>, Dims) {
    let [c, t, h, w] = dims;
    let (pt, to) = same_out(t, kernel[0], stride[0]);
    let (ph, ho) = same_out(h, kernel[1], stride[1]);
    let (pw, wo) = same_out(w, kernel[2], stride[2]);
    // The three axes, W then H then T, leaving out those with a 1-wide window and stride 1.
    let passes = [
        (kernel[2], stride[2], pw, [c * t * h, w, 1], wo),
        (kernel[1], stride[1], ph, [c * t, h, wo], ho),
        (kernel[0], stride[0], pt, [c, t, ho * wo], to),
    ];
    let mut y: Option<Vec<f32>> = None;
    for (k, s, p, shape, out_len) in passes {
        if k == 1 && s == 1 {
            continue;
        }
        let next = pool_axis(
            y.as_deref().unwrap_or(x),
            shape,
            k,
            s,
            p,
            out_len,
            true,
            pool,
        );
        if let Some(old) = y.replace(next) {
            pool.give(old);
        }
    }
    let y = y.unwrap_or_else(|| {
        let mut copy = pool.take(x.len());
        copy.copy_from_slice(x);
        copy
    });
    (y, [c, to, ho, wo])
}

/// The clip feature: average pooling with `kernel` (clamped to the map), stride 1, no
/// padding, then the mean over the positions left; `[C]`.
pub(crate) fn avg_pool_mean(x: &[f32], dims: Dims, kernel: [usize; 3]) -> Vec<f32> {
    let [c, t, h, w] = dims;
    let [kt, kh, kw] = [kernel[0].min(t), kernel[1].min(h), kernel[2].min(w)];
    let (to, ho, wo) = (t - kt + 1, h - kh + 1, w - kw + 1);
    let pool = &mut Pool::default();
    let y = pool_axis(x, [c * t * h, w, 1], kw, 1, 0, wo, false, pool);
    let y = pool_axis(&y, [c * t, h, wo], kh, 1, 0, ho, false, pool);
    let y = pool_axis(&y, [c, t, ho * wo], kt, 1, 0, to, false, pool);
    let n = to * ho * wo;
    y.chunks(n)
        .map(|p| (p.iter().map(|&v| v as f64).sum::<f64>() / n as f64) as f32)
        .collect()
}
