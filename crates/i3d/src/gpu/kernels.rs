//! The CubeCL kernels of TV-L1 on the GPU, generic over the CubeCL runtime (the same source
//! compiles to WGSL for wgpu and to CUDA C++ for cuda).
//!
//! Each kernel repeats, operation for operation, a function of [`crate::flow`] (the CPU
//! implementation, itself OpenCV's `DualTVL1OpticalFlow`): [`resize_linear`] is
//! `flow::resize` (with the taps computed on the host in `f64`, exactly as there),
//! [`tvl1_level`] is `TvL1::one_scale` (warping with OpenCV's bicubic `remap`, the 5×5 median
//! filter by the same 99-comparator network, the primal-dual iterations and their stopping
//! rule) and [`i3d_flow_input`] is the centre crop with `Flow::to_i3d`'s scaling. Only the
//! order of the sum behind the stopping rule (a tree instead of a running sum) and `|∇u|`
//! (`f32` instead of `f64` rounded to `f32`) differ, by float rounding.
//!
//! [`tvl1_level`] runs one pyramid level of one frame pair per cube: all its warpings and
//! iterations in one launch, its units striding over the pixels and meeting at barriers
//! between the steps that read their neighbours' values, so that a whole chunk's flow takes a
//! few launches per level instead of one per iteration. The iteration counts are compile-time
//! constants and every barrier is reached by every unit of the cube (WGSL requires barriers in
//! uniform control flow); once a pair's iterations have converged (the stopping rule, decided
//! by one unit and shared through shared memory), its units skip the work and only meet at
//! the barriers.

// The `#[cube]` macro expands these functions into code that builds the kernels; its output
// is not ours to lint.
#![allow(missing_docs, clippy::all)]

use cubecl::prelude::*;

/// Fields of the per-pair work buffer of [`tvl1_level`], `n = width · height` values each.
pub(crate) const WORK_FIELDS: usize = 12;

/// A cube barrier for both the shared memory and the global buffers.
#[cube]
fn barrier() {
    sync_storage();
    sync_cube();
}

/// `src[base + yy · w + xx]`, or 0 outside the `w × h` image (`remap`'s constant border).
#[cube]
fn tap(src: &Array<f32>, base: usize, w: usize, h: usize, xx: i32, yy: i32) -> f32 {
    let mut value = 0.0f32;
    if xx >= 0 && yy >= 0 && xx < w as i32 && yy < h as i32 {
        value = src[base + (yy as usize) * w + xx as usize];
    }
    value
}

/// OpenCV's bicubic weight of the pixel at −1 for a fractional offset `x` (`flow::cubic_weights`).
#[cube]
fn cubic_w0(x: f32) -> f32 {
    let a = -0.75f32;
    ((a * (x + 1.0) - 5.0 * a) * (x + 1.0) + 8.0 * a) * (x + 1.0) - 4.0 * a
}

/// OpenCV's bicubic weight of the pixel at 0 (and, at `1 − x`, of the pixel at +1).
#[cube]
fn cubic_w1(x: f32) -> f32 {
    let a = -0.75f32;
    ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
}

/// `round(t)` with ties to even, as Rust's `round_ties_even` (WGSL's `round` does this, CUDA's
/// `roundf` rounds ties away from zero).
#[cube]
fn round_ties_even(t: f32) -> f32 {
    let mut r = (t + 0.5).floor();
    if r - t == 0.5 {
        let half = r * 0.5;
        if half.floor() != half {
            r = r - 1.0;
        }
    }
    r
}

/// `src` at `(px, py)` by OpenCV's bicubic kernel, pixels outside the image counting as 0:
/// `flow::remap_cubic` for one pixel, the same products summed in the same order.
#[cube]
fn remap_at(
    src: &Array<f32>,
    base: usize,
    w: usize,
    h: usize,
    sx: i32,
    sy: i32,
    wx0: f32,
    wx1: f32,
    wx2: f32,
    wx3: f32,
    wy0: f32,
    wy1: f32,
    wy2: f32,
    wy3: f32,
) -> f32 {
    let mut sum = 0.0f32;
    sum += tap(src, base, w, h, sx, sy) * (wx0 * wy0);
    sum += tap(src, base, w, h, sx + 1, sy) * (wx1 * wy0);
    sum += tap(src, base, w, h, sx + 2, sy) * (wx2 * wy0);
    sum += tap(src, base, w, h, sx + 3, sy) * (wx3 * wy0);
    sum += tap(src, base, w, h, sx, sy + 1) * (wx0 * wy1);
    sum += tap(src, base, w, h, sx + 1, sy + 1) * (wx1 * wy1);
    sum += tap(src, base, w, h, sx + 2, sy + 1) * (wx2 * wy1);
    sum += tap(src, base, w, h, sx + 3, sy + 1) * (wx3 * wy1);
    sum += tap(src, base, w, h, sx, sy + 2) * (wx0 * wy2);
    sum += tap(src, base, w, h, sx + 1, sy + 2) * (wx1 * wy2);
    sum += tap(src, base, w, h, sx + 2, sy + 2) * (wx2 * wy2);
    sum += tap(src, base, w, h, sx + 3, sy + 2) * (wx3 * wy2);
    sum += tap(src, base, w, h, sx, sy + 3) * (wx0 * wy3);
    sum += tap(src, base, w, h, sx + 1, sy + 3) * (wx1 * wy3);
    sum += tap(src, base, w, h, sx + 2, sy + 3) * (wx2 * wy3);
    sum += tap(src, base, w, h, sx + 3, sy + 3) * (wx3 * wy3);
    sum
}

/// The pixel left of the sampling position `p` and the fraction past it: exact positions
/// (OpenCV 5.1), or rounded to 1/32 px (`table32`, older OpenCV), as `flow::remap_cubic`.
#[cube]
fn sample_position(p: f32, #[comptime] table32: bool) -> (i32, f32) {
    let floor = p.floor();
    let mut left = floor as i32 - 1;
    let mut frac = p - floor;
    if table32 {
        let q = round_ties_even(p * 32.0) as i32;
        left = (q >> 5) - 1;
        frac = (q & 31) as f32 / 32.0;
    }
    (left, frac)
}

/// Compare-exchange of two elements of the median window (comptime positions, so the
/// window stays in registers).
#[cube]
fn sort2(a: &mut Array<f32>, #[comptime] i: i32, #[comptime] j: i32) {
    let i = comptime!(i as usize);
    let j = comptime!(j as usize);
    let lo = min(a[i], a[j]);
    let hi = max(a[i], a[j]);
    a[i] = lo;
    a[j] = hi;
}

/// Leaves the median of `a[0..25]` in `a[12]`: the compare-exchanges of `flow::MEDIAN25`, in
/// its order (the test `gpu_median_network_is_the_cpu_one` checks this list against it).
#[cube]
fn median25(a: &mut Array<f32>) {
    sort2(a, 0, 1);
    sort2(a, 3, 4);
    sort2(a, 2, 4);
    sort2(a, 2, 3);
    sort2(a, 6, 7);
    sort2(a, 5, 7);
    sort2(a, 5, 6);
    sort2(a, 9, 10);
    sort2(a, 8, 10);
    sort2(a, 8, 9);
    sort2(a, 12, 13);
    sort2(a, 11, 13);
    sort2(a, 11, 12);
    sort2(a, 15, 16);
    sort2(a, 14, 16);
    sort2(a, 14, 15);
    sort2(a, 18, 19);
    sort2(a, 17, 19);
    sort2(a, 17, 18);
    sort2(a, 21, 22);
    sort2(a, 20, 22);
    sort2(a, 20, 21);
    sort2(a, 23, 24);
    sort2(a, 2, 5);
    sort2(a, 3, 6);
    sort2(a, 0, 6);
    sort2(a, 0, 3);
    sort2(a, 4, 7);
    sort2(a, 1, 7);
    sort2(a, 1, 4);
    sort2(a, 11, 14);
    sort2(a, 8, 14);
    sort2(a, 8, 11);
    sort2(a, 12, 15);
    sort2(a, 9, 15);
    sort2(a, 9, 12);
    sort2(a, 13, 16);
    sort2(a, 10, 16);
    sort2(a, 10, 13);
    sort2(a, 20, 23);
    sort2(a, 17, 23);
    sort2(a, 17, 20);
    sort2(a, 21, 24);
    sort2(a, 18, 24);
    sort2(a, 18, 21);
    sort2(a, 19, 22);
    sort2(a, 8, 17);
    sort2(a, 9, 18);
    sort2(a, 0, 18);
    sort2(a, 0, 9);
    sort2(a, 10, 19);
    sort2(a, 1, 19);
    sort2(a, 1, 10);
    sort2(a, 11, 20);
    sort2(a, 2, 20);
    sort2(a, 2, 11);
    sort2(a, 12, 21);
    sort2(a, 3, 21);
    sort2(a, 3, 12);
    sort2(a, 13, 22);
    sort2(a, 4, 22);
    sort2(a, 4, 13);
    sort2(a, 14, 23);
    sort2(a, 5, 23);
    sort2(a, 5, 14);
    sort2(a, 15, 24);
    sort2(a, 6, 24);
    sort2(a, 6, 15);
    sort2(a, 7, 16);
    sort2(a, 7, 19);
    sort2(a, 13, 21);
    sort2(a, 15, 23);
    sort2(a, 7, 13);
    sort2(a, 7, 15);
    sort2(a, 1, 9);
    sort2(a, 3, 11);
    sort2(a, 5, 17);
    sort2(a, 11, 17);
    sort2(a, 9, 17);
    sort2(a, 4, 10);
    sort2(a, 6, 12);
    sort2(a, 7, 14);
    sort2(a, 4, 6);
    sort2(a, 4, 7);
    sort2(a, 12, 14);
    sort2(a, 10, 14);
    sort2(a, 6, 7);
    sort2(a, 10, 12);
    sort2(a, 6, 10);
    sort2(a, 6, 17);
    sort2(a, 12, 17);
    sort2(a, 7, 17);
    sort2(a, 7, 10);
    sort2(a, 12, 18);
    sort2(a, 7, 12);
    sort2(a, 10, 18);
    sort2(a, 12, 20);
    sort2(a, 10, 20);
    sort2(a, 10, 12);
}

/// The 5×5 median (edge pixels replicated) of the image at `base` around `(x, y)`:
/// `flow::median_blur_5` for one pixel.
#[cube]
fn median_at(
    src: &Array<f32>,
    base: usize,
    w: usize,
    h: usize,
    x: usize,
    y: usize,
    window: &mut Array<f32>,
) -> f32 {
    #[unroll]
    for dy in 0..5usize {
        // Rows y − 2 .. y + 2, clamped to the image.
        let yy = min(max(y + dy, 2) - 2, h - 1);
        #[unroll]
        for dx in 0..5usize {
            let xx = min(max(x + dx, 2) - 2, w - 1);
            window[5 * dy + dx] = src[base + yy * w + xx];
        }
    }
    median25(window);
    window[12]
}

/// Bilinear resize of every image of `src` (OpenCV's `INTER_LINEAR`, `flow::resize`), times
/// `factor`: destination pixel `(x, y)` mixes source columns `taps_x[2x]`, `taps_x[2x + 1]`
/// with weights `1 − frac_x[x]`, `frac_x[x]`, and rows likewise. Images are
/// `src_w × src_h` in, `dst_w × dst_h` out, one after the other; one unit per output value.
#[cube(launch)]
pub(crate) fn resize_linear(
    src: &Array<f32>,
    dst: &mut Array<f32>,
    taps_x: &Array<u32>,
    frac_x: &Array<f32>,
    taps_y: &Array<u32>,
    frac_y: &Array<f32>,
    src_w: u32,
    src_h: u32,
    dst_w: u32,
    dst_h: u32,
    factor: f32,
) {
    let pos = ABSOLUTE_POS;
    if pos >= dst.len() {
        terminate!();
    }
    let (sw, dw) = (src_w as usize, dst_w as usize);
    let dn = dw * dst_h as usize;
    let image = pos / dn;
    let k = pos % dn;
    let x = k % dw;
    let y = k / dw;
    let base = image * sw * src_h as usize;
    let x0 = taps_x[2 * x] as usize;
    let x1 = taps_x[2 * x + 1] as usize;
    let fx = frac_x[x];
    let y0 = taps_y[2 * y] as usize;
    let y1 = taps_y[2 * y + 1] as usize;
    let fy = frac_y[y];
    let top = src[base + y0 * sw + x0] * (1.0 - fx) + src[base + y0 * sw + x1] * fx;
    let bottom = src[base + y1 * sw + x0] * (1.0 - fx) + src[base + y1 * sw + x1] * fx;
    dst[pos] = (top * (1.0 - fy) + bottom * fy) * factor;
}

/// One pyramid level of TV-L1 for one frame pair per cube (`TvL1::one_scale`): cube `c`
/// refines the flow of `frames` `c` → `c + 1` (`width × height` images one after the other)
/// held in `flow` (`[pairs, 2, n]`: `u` then `v`), using `work` (`[pairs, WORK_FIELDS, n]`)
/// as scratch. `threads` is the cube's size; the iteration counts are those of `TvL1`.
#[cube(launch)]
pub(crate) fn tvl1_level(
    frames: &Array<f32>,
    flow: &mut Array<f32>,
    work: &mut Array<f32>,
    width: u32,
    height: u32,
    scaled_epsilon: f32,
    l_t: f32,
    taut: f32,
    theta: f32,
    #[comptime] threads: usize,
    #[comptime] warps: usize,
    #[comptime] outer_iterations: usize,
    #[comptime] inner_iterations: usize,
    #[comptime] median: bool,
    #[comptime] table32: bool,
) {
    let pair = CUBE_POS as usize;
    let w = width as usize;
    let h = height as usize;
    let n = w * h;
    let tid = UNIT_POS as usize;
    let step = CUBE_DIM as usize;
    let i0 = pair * n;
    let i1 = i0 + n;
    let fu = 2 * pair * n;
    let fv = fu + n;
    // Work fields: ∂x I₁, ∂y I₁ (0, 1); the warped ∂x I₁, ∂y I₁ (2, 3); |∇I₁(x + u₀)|² (4);
    // the constant part of ρ (5); p11, p12, p21, p22 (6..9); the median-filtered u, v (10, 11).
    let wb = 12 * pair * n;
    let (gx_at, gy_at, wx_at, wy_at, grad_at, rho_at) =
        (wb, wb + n, wb + 2 * n, wb + 3 * n, wb + 4 * n, wb + 5 * n);
    let (p11_at, p12_at, p21_at, p22_at) = (wb + 6 * n, wb + 7 * n, wb + 8 * n, wb + 9 * n);
    let (mu_at, mv_at) = (wb + 10 * n, wb + 11 * n);
    // Per-unit partial sums of the squared update, then the "converged" flag.
    let mut shared = SharedMemory::<f32>::new(threads + 1);
    let mut window = Array::<f32>::new(25usize);

    // ∇I₁ (centred differences, halved one-sided ones at the border: `centered_gradient`),
    // and p = 0.
    let mut k = tid;
    while k < n {
        let x = k % w;
        let y = k / w;
        let xa = max(x, 1) - 1;
        let xb = min(x + 1, w - 1);
        let ya = max(y, 1) - 1;
        let yb = min(y + 1, h - 1);
        work[gx_at + k] = 0.5 * (frames[i1 + y * w + xb] - frames[i1 + y * w + xa]);
        work[gy_at + k] = 0.5 * (frames[i1 + yb * w + x] - frames[i1 + ya * w + x]);
        work[p11_at + k] = 0.0;
        work[p12_at + k] = 0.0;
        work[p21_at + k] = 0.0;
        work[p22_at + k] = 0.0;
        k += step;
    }
    barrier();

    for _warp in 0..warps {
        // I₁ and ∇I₁ at x + u₀ (bicubic), |∇I₁(x + u₀)|² and ρ's constant part
        // I₁(x + u₀) − ∇I₁(x + u₀)·u₀ − I₀.
        let mut k = tid;
        while k < n {
            let x = k % w;
            let y = k / w;
            let u = flow[fu + k];
            let v = flow[fv + k];
            let (sx, tx) = sample_position(x as f32 + u, table32);
            let (sy, ty) = sample_position(y as f32 + v, table32);
            let wx0 = cubic_w0(tx);
            let wx1 = cubic_w1(tx);
            let wx2 = cubic_w1(1.0 - tx);
            let wx3 = 1.0 - wx0 - wx1 - wx2;
            let wy0 = cubic_w0(ty);
            let wy1 = cubic_w1(ty);
            let wy2 = cubic_w1(1.0 - ty);
            let wy3 = 1.0 - wy0 - wy1 - wy2;
            let i1w = remap_at(
                frames, i1, w, h, sx, sy, wx0, wx1, wx2, wx3, wy0, wy1, wy2, wy3,
            );
            let gx = remap_at(
                work, gx_at, w, h, sx, sy, wx0, wx1, wx2, wx3, wy0, wy1, wy2, wy3,
            );
            let gy = remap_at(
                work, gy_at, w, h, sx, sy, wx0, wx1, wx2, wx3, wy0, wy1, wy2, wy3,
            );
            work[wx_at + k] = gx;
            work[wy_at + k] = gy;
            work[grad_at + k] = gx * gx + gy * gy;
            work[rho_at + k] = i1w - gx * u - gy * v - frames[i0 + k];
            k += step;
        }
        if tid == 0 {
            shared[threads] = 0.0;
        }
        barrier();

        for _outer in 0..outer_iterations {
            // Every unit reads the flag after the same barrier: the loops stay uniform.
            if shared[threads] != 0.0 {
                break;
            }
            if median {
                let mut k = tid;
                while k < n {
                    let x = k % w;
                    let y = k / w;
                    work[mu_at + k] = median_at(flow, fu, w, h, x, y, &mut window);
                    work[mv_at + k] = median_at(flow, fv, w, h, x, y, &mut window);
                    k += step;
                }
                barrier();
                let mut k = tid;
                while k < n {
                    flow[fu + k] = work[mu_at + k];
                    flow[fv + k] = work[mv_at + k];
                    k += step;
                }
                barrier();
            }
            for _inner in 0..inner_iterations {
                if shared[threads] != 0.0 {
                    break;
                }
                // v = u + TH(ρ(u)), then u = v + θ div p, and the squared update.
                let mut err = 0.0f32;
                let mut k = tid;
                while k < n {
                    let x = k % w;
                    let y = k / w;
                    let gx = work[wx_at + k];
                    let gy = work[wy_at + k];
                    let u = flow[fu + k];
                    let v = flow[fv + k];
                    let rho = work[rho_at + k] + (gx * u + gy * v);
                    let g = work[grad_at + k];
                    let mut d1 = 0.0f32;
                    let mut d2 = 0.0f32;
                    if rho < -l_t * g {
                        d1 = l_t * gx;
                        d2 = l_t * gy;
                    } else if rho > l_t * g {
                        d1 = -l_t * gx;
                        d2 = -l_t * gy;
                    } else if g > 1.1920929e-7 {
                        let fi = -rho / g;
                        d1 = fi * gx;
                        d2 = fi * gy;
                    }
                    let v1 = u + d1;
                    let v2 = v + d2;
                    // div p: backward differences, the terms before the first column / row
                    // taken as 0 (`divergence`).
                    let mut dx1 = work[p11_at + k];
                    let mut dx2 = work[p21_at + k];
                    if x > 0 {
                        dx1 = dx1 - work[p11_at + k - 1];
                        dx2 = dx2 - work[p21_at + k - 1];
                    }
                    let mut dy1 = work[p12_at + k];
                    let mut dy2 = work[p22_at + k];
                    if y > 0 {
                        dy1 = dy1 - work[p12_at + k - w];
                        dy2 = dy2 - work[p22_at + k - w];
                    }
                    let un = v1 + theta * (dx1 + dy1);
                    let vn = v2 + theta * (dx2 + dy2);
                    let du = un - u;
                    let dv = vn - v;
                    err += du * du + dv * dv;
                    flow[fu + k] = un;
                    flow[fv + k] = vn;
                    k += step;
                }
                shared[tid] = err;
                barrier();
                // The stopping rule on the update summed over the image, decided by one unit
                // and read by all after the next barrier.
                if tid == 0 {
                    let mut total = 0.0f32;
                    for t in 0..threads {
                        total += shared[t];
                    }
                    if !(total > scaled_epsilon) {
                        shared[threads] = 1.0;
                    }
                }
                // p = (p + τ/θ ∇u) / (1 + τ/θ |∇u|), ∇ by forward differences (0 on the last
                // column / row: `forward_gradient`).
                let mut k = tid;
                while k < n {
                    let x = k % w;
                    let y = k / w;
                    let u = flow[fu + k];
                    let v = flow[fv + k];
                    let mut u1x = 0.0f32;
                    let mut u2x = 0.0f32;
                    if x + 1 < w {
                        u1x = flow[fu + k + 1] - u;
                        u2x = flow[fv + k + 1] - v;
                    }
                    let mut u1y = 0.0f32;
                    let mut u2y = 0.0f32;
                    if y + 1 < h {
                        u1y = flow[fu + k + w] - u;
                        u2y = flow[fv + k + w] - v;
                    }
                    let ng1 = 1.0 + taut * (u1x * u1x + u1y * u1y).sqrt();
                    let ng2 = 1.0 + taut * (u2x * u2x + u2y * u2y).sqrt();
                    work[p11_at + k] = (work[p11_at + k] + taut * u1x) / ng1;
                    work[p12_at + k] = (work[p12_at + k] + taut * u1y) / ng1;
                    work[p21_at + k] = (work[p21_at + k] + taut * u2x) / ng2;
                    work[p22_at + k] = (work[p22_at + k] + taut * u2y) / ng2;
                    k += step;
                }
                barrier();
            }
        }
    }
}

/// The flow network's input from `flows` flows (`[flows, 2, n]` of `width × height`): the
/// `crop × crop` window at `(x0, y0)` of each, truncated to `±bound` and divided by `bound`,
/// as `[2, chunk, crop, crop]` (channel `u` then `v`, then time); times past the last flow
/// repeat it (`flow::i3d_clip` after `Flow`'s crop). One unit per output value.
#[cube(launch)]
pub(crate) fn i3d_flow_input(
    flow: &Array<f32>,
    out: &mut Array<f32>,
    width: u32,
    height: u32,
    x0: u32,
    y0: u32,
    crop: u32,
    flows: u32,
    chunk: u32,
    bound: f32,
) {
    let pos = ABSOLUTE_POS;
    if pos >= out.len() {
        terminate!();
    }
    let (w, c) = (width as usize, crop as usize);
    let n = w * height as usize;
    let xx = pos % c;
    let yy = (pos / c) % c;
    let t = (pos / (c * c)) % chunk as usize;
    let channel = pos / (c * c * chunk as usize);
    let src = min(t, flows as usize - 1);
    let value = flow[(2 * src + channel) * n + (y0 as usize + yy) * w + x0 as usize + xx];
    out[pos] = clamp(value, -bound, bound) / bound;
}
