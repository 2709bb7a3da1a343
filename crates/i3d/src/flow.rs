//! TV-L1 optical flow for I3D's flow stream (no Burn; plain `f32` images, rayon over frame
//! pairs).
//!
//! The duality-based TV-L1 of Zach, Pock and Bischof ("A Duality Based Approach for
//! Realtime TV-L1 Optical Flow", DAGM 2007), step for step as OpenCV's
//! `DualTVL1OpticalFlow` (`tvl1flow.cpp`, CPU path, `gamma = 0`, no initial flow) with its
//! defaults ([`TvL1::default`]): an image pyramid of `scales` levels (each `scale_step`
//! times the previous, bilinear `resize`, stopping before a side under 16 pixels), and per
//! level `warps` warpings of the second image (bicubic `remap`, zero outside the image), each
//! with at most `outer_iterations` × `inner_iterations` steps of the primal-dual scheme,
//! stopped when the squared update of the flow summed over the image falls to
//! `epsilon² · area`; the flow is median-filtered (5×5) before each outer step.
//!
//! Parity with OpenCV 5.1 (`opencv-contrib-python-headless`, fixtures made by
//! `fixtures/make_tvl1_fixtures.py`): on one pyramid level the flows agree to float
//! rounding (mean difference under 1e-4 px); with the default five levels, rounding changes
//! when a few iterations stop, and the flows differ by a median of 0.002-0.003 px inside the
//! image (at most 0.1 px; more on the outermost pixels). Older OpenCV releases round the
//! warping positions to 1/32 px ([`SubPixel::Table32`]), which moves flows by about 0.01 px.
//!
//! Conventions:
//!
//! - Frames are grayscale, row-major, with intensities in `[0, 255]` (OpenCV's scale for
//!   8-bit input; OpenCV multiplies `f32` input by 255, so this is OpenCV on `u8` frames or
//!   on `f32` frames in `[0, 1]`). `lambda = 0.15` is tuned for that scale.
//! - The flow `(u, v)` maps the first frame onto the second: `I₀(x, y) ≈ I₁(x + u, y + v)`,
//!   in pixels, `u` horizontal (OpenCV's channel 0) and `v` vertical.
//! - [`Flow::to_i3d`] (one flow) and [`i3d_clip`] (a clip) prepare the flow for I3D as the
//!   public pipelines do: values truncated to `[-20, 20]` and rescaled to `[-1, 1]`
//!   (DeepMind's kinetics-i3d README: "pixel values are truncated to the range [-20, 20],
//!   then rescaled between -1 and 1"; pipelines that store the flow as JPEGs, e.g.
//!   `(f + 20) · 255 / 40` rounded to 8 bits, add a quantisation step of 40/255 px that
//!   these functions leave out).
//!
//! Accuracy: OpenCV's bicubic kernel (`A = −0.75`) does not reproduce a linear ramp between
//! pixels (at a fraction of 5/16 it samples 0.040 px further), and TV-L1 converges to where
//! the interpolated `I₁` matches `I₀`; a translation with a fractional part of 0.3 px comes
//! out about 0.04 px short on each axis, in OpenCV as here (tests).
//!
//! OpenCV's default `scale_step` is 0.8 (`OpticalFlowDual_TVL1`'s constructor and
//! `DualTVL1OpticalFlow::create`), not 0.5; [`TvL1::default`] follows OpenCV.

use rayon::prelude::*;

/// A grayscale image (frame or flow component), row-major: pixel `(x, y)` is
/// `data[y * width + x]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// `width * height` values, row by row.
    pub data: Vec<f32>,
}

impl Image {
    /// An image of `width × height` values taken row by row from `data`.
    ///
    /// # Panics
    /// If `data.len() != width * height`.
    pub fn new(width: usize, height: usize, data: Vec<f32>) -> Self {
        assert_eq!(
            data.len(),
            width * height,
            "image of {width}×{height} needs {} values",
            width * height
        );
        Self {
            width,
            height,
            data,
        }
    }

    /// An image of zeros.
    pub fn zeros(width: usize, height: usize) -> Self {
        Self::new(width, height, vec![0.0; width * height])
    }

    /// An image whose pixel `(x, y)` is `f(x, y)`.
    pub fn from_fn(width: usize, height: usize, f: impl Fn(usize, usize) -> f32) -> Self {
        let mut data = Vec::with_capacity(width * height);
        for y in 0..height {
            for x in 0..width {
                data.push(f(x, y));
            }
        }
        Self::new(width, height, data)
    }

    #[inline]
    fn at(&self, x: usize, y: usize) -> f32 {
        self.data[y * self.width + x]
    }
}

/// A dense optical flow field: `u` (horizontal) and `v` (vertical), in pixels, each
/// `width × height`.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    /// Horizontal displacement.
    pub u: Image,
    /// Vertical displacement.
    pub v: Image,
}

/// Bound of the flow values fed to I3D, in pixels ([`Flow::to_i3d`]).
pub const FLOW_BOUND: f32 = 20.0;

impl Flow {
    /// The flow as I3D's input channels: `[2, H, W]` row-major (`u` then `v`), each value
    /// `clamp(f, -20, 20) / 20` in `[-1, 1]`.
    pub fn to_i3d(&self) -> Vec<f32> {
        self.u
            .data
            .iter()
            .chain(&self.v.data)
            .map(|f| f.clamp(-FLOW_BOUND, FLOW_BOUND) / FLOW_BOUND)
            .collect()
    }
}

/// A clip of flows as one I3D input: `[2, T, H, W]` row-major (channel `u` then `v`, then
/// time), each value `clamp(f, -20, 20) / 20`, ready to be the `[2, T, H, W]` slice of a
/// `[N, 2, T, H, W]` tensor (T = 16 for the public pipelines).
///
/// # Panics
/// If the flows differ in size.
pub fn i3d_clip(flows: &[Flow]) -> Vec<f32> {
    let Some(first) = flows.first() else {
        return Vec::new();
    };
    let (w, h) = (first.u.width, first.u.height);
    assert!(
        flows
            .iter()
            .all(|f| (f.u.width, f.u.height, f.v.width, f.v.height) == (w, h, w, h)),
        "flows of one clip must have one size"
    );
    let scale = |f: &f32| f.clamp(-FLOW_BOUND, FLOW_BOUND) / FLOW_BOUND;
    let mut out = Vec::with_capacity(2 * flows.len() * w * h);
    out.extend(flows.iter().flat_map(|f| f.u.data.iter().map(scale)));
    out.extend(flows.iter().flat_map(|f| f.v.data.iter().map(scale)));
    out
}

/// The parameters of OpenCV's `DualTVL1OpticalFlow` (with `gamma = 0`, no initial flow).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TvL1 {
    /// Time step of the numerical scheme (0.25).
    pub tau: f64,
    /// Weight of the data term (0.15): larger follows the images more closely, smaller gives
    /// a smoother flow.
    pub lambda: f64,
    /// Coupling between the two sub-problems (0.3).
    pub theta: f64,
    /// Pyramid levels (5).
    pub scales: usize,
    /// Warpings per level (5).
    pub warps: usize,
    /// Stopping threshold on the flow update (0.01).
    pub epsilon: f64,
    /// Inner iterations per outer iteration (30).
    pub inner_iterations: usize,
    /// Outer iterations per warping (10).
    pub outer_iterations: usize,
    /// Size ratio between pyramid levels (0.8).
    pub scale_step: f64,
    /// Side of the median filter applied to the flow before each outer iteration (5);
    /// 0 or 1 turns it off.
    pub median_filtering: usize,
    /// Sampling positions of the warping (OpenCV 5.1: exact; older OpenCV: 1/32 px).
    pub sub_pixel: SubPixel,
}

impl Default for TvL1 {
    /// OpenCV's defaults (`cv::optflow::DualTVL1OpticalFlow::create()`).
    fn default() -> Self {
        Self {
            tau: 0.25,
            lambda: 0.15,
            theta: 0.3,
            scales: 5,
            warps: 5,
            epsilon: 0.01,
            inner_iterations: 30,
            outer_iterations: 10,
            scale_step: 0.8,
            median_filtering: 5,
            sub_pixel: SubPixel::Exact,
        }
    }
}

impl TvL1 {
    /// A cheap setting for tests and previews, not for features: one pyramid level, one
    /// warping, 2 outer and 5 inner iterations, no median filter.
    pub fn light() -> Self {
        Self {
            scales: 1,
            warps: 1,
            outer_iterations: 2,
            inner_iterations: 5,
            median_filtering: 0,
            ..Self::default()
        }
    }

    /// The flow from `i0` to `i1` (`I₀(x) ≈ I₁(x + flow(x))`), intensities in `[0, 255]`.
    ///
    /// # Panics
    /// If the frames differ in size, or a side is under 3 pixels, or `median_filtering` is
    /// neither 0, 1, 3 nor 5 (OpenCV's float median sizes).
    pub fn flow(&self, i0: &Image, i1: &Image) -> Flow {
        assert!(
            i0.width == i1.width && i0.height == i1.height,
            "TV-L1 needs two frames of one size, got {}×{} and {}×{}",
            i0.width,
            i0.height,
            i1.width,
            i1.height
        );
        assert!(
            i0.width >= 3 && i0.height >= 3,
            "TV-L1 needs frames of at least 3×3 pixels"
        );
        assert!(
            matches!(self.median_filtering, 0 | 1 | 3 | 5),
            "median filter side must be 0, 1, 3 or 5, got {}",
            self.median_filtering
        );
        let mut pyramid = vec![(i0.clone(), i1.clone())];
        for _ in 1..self.scales.max(1) {
            let (a, b) = pyramid.last().unwrap();
            let w = scaled_size(a.width, self.scale_step);
            let h = scaled_size(a.height, self.scale_step);
            let scale = 1.0 / self.scale_step;
            let (a, b) = (resize(a, w, h, scale, scale), resize(b, w, h, scale, scale));
            if w < 16 || h < 16 {
                break;
            }
            pyramid.push((a, b));
        }
        let coarsest = pyramid.last().unwrap();
        let mut flow = Flow {
            u: Image::zeros(coarsest.0.width, coarsest.0.height),
            v: Image::zeros(coarsest.0.width, coarsest.0.height),
        };
        for level in (0..pyramid.len()).rev() {
            let (a, b) = &pyramid[level];
            self.one_scale(a, b, &mut flow);
            if level == 0 {
                break;
            }
            let (w, h) = (pyramid[level - 1].0.width, pyramid[level - 1].0.height);
            let zoom = 1.0 / self.scale_step as f32;
            let up = |c: &Image| {
                let sx = c.width as f64 / w as f64;
                let sy = c.height as f64 / h as f64;
                let mut r = resize(c, w, h, sx, sy);
                r.data.iter_mut().for_each(|x| *x *= zoom);
                r
            };
            flow = Flow {
                u: up(&flow.u),
                v: up(&flow.v),
            };
        }
        flow
    }

    /// The flows between consecutive frames, `frames.len() - 1` of them (none for fewer than
    /// two frames), computed in parallel over the pairs (rayon).
    pub fn flow_sequence(&self, frames: &[Image]) -> Vec<Flow> {
        frames
            .par_windows(2)
            .map(|pair| self.flow(&pair[0], &pair[1]))
            .collect()
    }

    /// `procOneScale`: refines `flow` (already at this level's size) for one level.
    fn one_scale(&self, i0: &Image, i1: &Image, flow: &mut Flow) {
        let (w, h) = (i0.width, i0.height);
        let n = w * h;
        // Constants as OpenCV computes them: in double, then rounded to float.
        let scaled_epsilon = (self.epsilon * self.epsilon * n as f64) as f32;
        let theta = self.theta as f32;
        let (i1x, i1y) = centered_gradient(i1);
        let l_t = (self.lambda * self.theta) as f32;
        let taut = (self.tau / self.theta) as f32;
        let mut p11 = vec![0.0f32; n];
        let mut p12 = vec![0.0f32; n];
        let mut p21 = vec![0.0f32; n];
        let mut p22 = vec![0.0f32; n];
        let mut v1 = vec![0.0f32; n];
        let mut v2 = vec![0.0f32; n];
        let mut div1 = vec![0.0f32; n];
        let mut div2 = vec![0.0f32; n];
        let mut u1x = vec![0.0f32; n];
        let mut u1y = vec![0.0f32; n];
        let mut u2x = vec![0.0f32; n];
        let mut u2y = vec![0.0f32; n];
        for _ in 0..self.warps {
            let i1w = remap_cubic(i1, &flow.u, &flow.v, self.sub_pixel);
            let i1wx = remap_cubic(&i1x, &flow.u, &flow.v, self.sub_pixel);
            let i1wy = remap_cubic(&i1y, &flow.u, &flow.v, self.sub_pixel);
            // |∇I₁(x + u₀)|² and the constant part of ρ(u) = I₁(x+u₀) + ∇I₁·(u − u₀) − I₀.
            let grad: Vec<f32> = (0..n)
                .map(|k| i1wx.data[k] * i1wx.data[k] + i1wy.data[k] * i1wy.data[k])
                .collect();
            let rho_c: Vec<f32> = (0..n)
                .map(|k| {
                    i1w.data[k]
                        - i1wx.data[k] * flow.u.data[k]
                        - i1wy.data[k] * flow.v.data[k]
                        - i0.data[k]
                })
                .collect();
            let mut error = f32::MAX;
            let mut outer = 0;
            while error > scaled_epsilon && outer < self.outer_iterations {
                outer += 1;
                if self.median_filtering > 1 {
                    flow.u = median_blur(&flow.u, self.median_filtering);
                    flow.v = median_blur(&flow.v, self.median_filtering);
                }
                let mut inner = 0;
                while error > scaled_epsilon && inner < self.inner_iterations {
                    inner += 1;
                    // Thresholding step: v = u + TH(ρ(u)).
                    for k in 0..n {
                        let (gx, gy) = (i1wx.data[k], i1wy.data[k]);
                        let (u, v) = (flow.u.data[k], flow.v.data[k]);
                        let rho = rho_c[k] + (gx * u + gy * v);
                        let g = grad[k];
                        let (d1, d2) = if rho < -l_t * g {
                            (l_t * gx, l_t * gy)
                        } else if rho > l_t * g {
                            (-l_t * gx, -l_t * gy)
                        } else if g > f32::EPSILON {
                            let fi = -rho / g;
                            (fi * gx, fi * gy)
                        } else {
                            (0.0, 0.0)
                        };
                        v1[k] = u + d1;
                        v2[k] = v + d2;
                    }
                    divergence(w, h, &p11, &p12, &mut div1);
                    divergence(w, h, &p21, &p22, &mut div2);
                    // u = v + θ div p, and the squared update.
                    let mut err = 0.0f32;
                    for k in 0..n {
                        let u = v1[k] + theta * div1[k];
                        let v = v2[k] + theta * div2[k];
                        let du = u - flow.u.data[k];
                        let dv = v - flow.v.data[k];
                        err += du * du + dv * dv;
                        flow.u.data[k] = u;
                        flow.v.data[k] = v;
                    }
                    error = err;
                    forward_gradient(&flow.u, &mut u1x, &mut u1y);
                    forward_gradient(&flow.v, &mut u2x, &mut u2y);
                    // Dual step: p = (p + τ/θ ∇u) / (1 + τ/θ |∇u|).
                    for k in 0..n {
                        // |∇u| in double, as OpenCV's `hypot`.
                        let g1 = norm_f64(u1x[k], u1y[k]);
                        let g2 = norm_f64(u2x[k], u2y[k]);
                        let ng1 = 1.0 + taut * g1;
                        let ng2 = 1.0 + taut * g2;
                        p11[k] = (p11[k] + taut * u1x[k]) / ng1;
                        p12[k] = (p12[k] + taut * u1y[k]) / ng1;
                        p21[k] = (p21[k] + taut * u2x[k]) / ng2;
                        p22[k] = (p22[k] + taut * u2y[k]) / ng2;
                    }
                }
            }
        }
    }
}

/// `hypot(x, y)` of two floats, computed in double and rounded to float, as OpenCV's
/// `static_cast<float>(hypot(x, y))`, without libm's `hypot` (a fifth of the flow's time):
/// the squares of floats are exact in double and nothing over- or underflows, so
/// `sqrt(x² + y²)` in double rounds to the same float (up to a double rounding, a chance
/// of about 2⁻²⁸ per call, one float ulp).
#[inline]
fn norm_f64(x: f32, y: f32) -> f32 {
    let (x, y) = (x as f64, y as f64);
    (x * x + y * y).sqrt() as f32
}

/// OpenCV's `resize` output side for a factor: `round(size · factor)` (ties to even).
pub(crate) fn scaled_size(size: usize, factor: f64) -> usize {
    ((size as f64) * factor).round_ties_even() as usize
}

/// The taps of OpenCV's `INTER_LINEAR` along one axis of `dst` destination pixels from `src`
/// source pixels: for each destination pixel, the two source pixels and the weight of the
/// second, at source position `(d + 0.5) · scale − 0.5` (in `f64`, rounded to `f32`), clamped to
/// the image (the edge pixel repeats). [`resize`] and the GPU's resize kernel use these.
pub(crate) fn resize_taps(dst: usize, scale: f64, src: usize) -> Vec<(usize, usize, f32)> {
    (0..dst)
        .map(|d| {
            let f = ((d as f64 + 0.5) * scale - 0.5) as f32;
            let mut s = f.floor() as isize;
            let mut frac = f - s as f32;
            if s < 0 {
                s = 0;
                frac = 0.0;
            }
            if s as usize >= src - 1 {
                s = src as isize - 1;
                frac = 0.0;
            }
            let s = s as usize;
            (s, (s + 1).min(src - 1), frac)
        })
        .collect()
}

/// OpenCV's `INTER_LINEAR` resize of a float image: source position
/// `(d + 0.5) · scale − 0.5`, clamped to the image (the edge pixel repeats). `scale` is the
/// source step per destination pixel (`1 / fx` when OpenCV is given a factor, the ratio of
/// the sizes when given a size).
fn resize(src: &Image, width: usize, height: usize, scale_x: f64, scale_y: f64) -> Image {
    let xs = resize_taps(width, scale_x, src.width);
    let ys = resize_taps(height, scale_y, src.height);
    Image::from_fn(width, height, |x, y| {
        let (x0, x1, fx) = xs[x];
        let (y0, y1, fy) = ys[y];
        let top = src.at(x0, y0) * (1.0 - fx) + src.at(x1, y0) * fx;
        let bottom = src.at(x0, y1) * (1.0 - fx) + src.at(x1, y1) * fx;
        top * (1.0 - fy) + bottom * fy
    })
}

/// OpenCV's bicubic kernel (`A = −0.75`) at fractional offset `x ∈ [0, 1)`: the weights of
/// the pixels at −1, 0, +1, +2.
fn cubic_weights(x: f32) -> [f32; 4] {
    const A: f32 = -0.75;
    let w0 = ((A * (x + 1.0) - 5.0 * A) * (x + 1.0) + 8.0 * A) * (x + 1.0) - 4.0 * A;
    let w1 = ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0;
    let w2 = ((A + 2.0) * (1.0 - x) - (A + 3.0)) * (1.0 - x) * (1.0 - x) + 1.0;
    [w0, w1, w2, 1.0 - w0 - w1 - w2]
}

/// How `remap` places the sampling positions between pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SubPixel {
    /// At the exact position `x + u`, as OpenCV 5.1's `remap` does (the
    /// `opencv-contrib-python-headless` wheel the parity fixtures were made with).
    #[default]
    Exact,
    /// Rounded to a multiple of 1/32 pixel (`INTER_TAB_SIZE`), as older OpenCV releases do
    /// (the 2.4 / 3.x of the public I3D pipelines); flows differ from [`SubPixel::Exact`] by
    /// about 0.01 px.
    Table32,
}

/// `remap(src, x + u, y + v, INTER_CUBIC, BORDER_CONSTANT 0)`: `src` sampled at the flowed
/// positions, pixels outside the image counting as 0.
fn remap_cubic(src: &Image, u: &Image, v: &Image, positions: SubPixel) -> Image {
    let (w, h) = (src.width as isize, src.height as isize);
    let table: Vec<[f32; 4]> = (0..32).map(|k| cubic_weights(k as f32 / 32.0)).collect();
    // The pixel left of `p` and the weights of the four pixels around it.
    let taps = |p: f32| -> (isize, [f32; 4]) {
        match positions {
            SubPixel::Exact => {
                let floor = p.floor();
                (floor as isize - 1, cubic_weights(p - floor))
            }
            SubPixel::Table32 => {
                let q = (p * 32.0).round_ties_even() as i64;
                ((q >> 5) as isize - 1, table[(q & 31) as usize])
            }
        }
    };
    Image::from_fn(src.width, src.height, |x, y| {
        let k = y * src.width + x;
        let (sx, wx) = taps(x as f32 + u.data[k]);
        let (sy, wy) = taps(y as f32 + v.data[k]);
        let mut sum = 0.0f32;
        for (j, wyj) in wy.iter().enumerate() {
            let yy = sy + j as isize;
            if yy < 0 || yy >= h {
                continue;
            }
            let row = &src.data[yy as usize * src.width..][..src.width];
            for (i, wxi) in wx.iter().enumerate() {
                let xx = sx + i as isize;
                if xx >= 0 && xx < w {
                    sum += row[xx as usize] * (wxi * wyj);
                }
            }
        }
        sum
    })
}

/// OpenCV's `centeredGradient`: central differences `(f(x+1) − f(x−1)) / 2` inside,
/// one-sided differences halved on the border.
fn centered_gradient(src: &Image) -> (Image, Image) {
    let (w, h) = (src.width, src.height);
    let dx = Image::from_fn(w, h, |x, y| {
        let (a, b) = (x.saturating_sub(1), (x + 1).min(w - 1));
        0.5 * (src.at(b, y) - src.at(a, y))
    });
    let dy = Image::from_fn(w, h, |x, y| {
        let (a, b) = (y.saturating_sub(1), (y + 1).min(h - 1));
        0.5 * (src.at(x, b) - src.at(x, a))
    });
    (dx, dy)
}

/// OpenCV's `forwardGradient`: forward differences, 0 on the last column (x) / row (y).
fn forward_gradient(src: &Image, dx: &mut [f32], dy: &mut [f32]) {
    let (w, h) = (src.width, src.height);
    for y in 0..h {
        for x in 0..w {
            let k = y * w + x;
            dx[k] = if x + 1 < w {
                src.data[k + 1] - src.data[k]
            } else {
                0.0
            };
            dy[k] = if y + 1 < h {
                src.data[k + w] - src.data[k]
            } else {
                0.0
            };
        }
    }
}

/// OpenCV's `divergence` (backward differences, the adjoint of [`forward_gradient`]):
/// `v1(x) − v1(x−1) + v2(y) − v2(y−1)`, with the terms before the first column / row
/// taken as 0.
fn divergence(w: usize, h: usize, v1: &[f32], v2: &[f32], div: &mut [f32]) {
    for y in 0..h {
        for x in 0..w {
            let k = y * w + x;
            let d1 = if x > 0 { v1[k] - v1[k - 1] } else { v1[k] };
            let d2 = if y > 0 { v2[k] - v2[k - w] } else { v2[k] };
            div[k] = d1 + d2;
        }
    }
}

/// OpenCV's `medianBlur` of a float image (side 3 or 5), edge pixels replicated.
fn median_blur(src: &Image, side: usize) -> Image {
    if side == 5 {
        return median_blur_5(src);
    }
    median_blur_select(src, side)
}

/// Comparators of a sorting network that leaves the median of 25 values in position 12
/// (N. Devillard's `opt_med25`, 99 compare-exchanges, each `(a, b)` with `a < b`); the test
/// `median_network_selects_the_median_of_every_0_1_input` checks it on all 2²⁵ inputs of
/// zeros and ones, which by the 0-1 principle proves it for every input.
#[rustfmt::skip]
pub(crate) const MEDIAN25: [(u8, u8); 99] = [
    (0, 1), (3, 4), (2, 4), (2, 3), (6, 7), (5, 7), (5, 6), (9, 10), (8, 10), (8, 9), (12, 13),
    (11, 13), (11, 12), (15, 16), (14, 16), (14, 15), (18, 19), (17, 19), (17, 18), (21, 22),
    (20, 22), (20, 21), (23, 24), (2, 5), (3, 6), (0, 6), (0, 3), (4, 7), (1, 7), (1, 4),
    (11, 14), (8, 14), (8, 11), (12, 15), (9, 15), (9, 12), (13, 16), (10, 16), (10, 13),
    (20, 23), (17, 23), (17, 20), (21, 24), (18, 24), (18, 21), (19, 22), (8, 17), (9, 18),
    (0, 18), (0, 9), (10, 19), (1, 19), (1, 10), (11, 20), (2, 20), (2, 11), (12, 21), (3, 21),
    (3, 12), (13, 22), (4, 22), (4, 13), (14, 23), (5, 23), (5, 14), (15, 24), (6, 24), (6, 15),
    (7, 16), (7, 19), (13, 21), (15, 23), (7, 13), (7, 15), (1, 9), (3, 11), (5, 17), (11, 17),
    (9, 17), (4, 10), (6, 12), (7, 14), (4, 6), (4, 7), (12, 14), (10, 14), (6, 7), (10, 12),
    (6, 10), (6, 17), (12, 17), (7, 17), (7, 10), (12, 18), (7, 12), (10, 18), (12, 20),
    (10, 20), (10, 12),
];

/// [`median_blur`] with a 5×5 window: the same values as [`median_blur_select`] (finite
/// inputs). Row by row, the 25 shifted copies of the window's rows are 25 planes, and each
/// compare-exchange of [`MEDIAN25`] is a min / max over two planes (vectorised by the
/// compiler); the median plane is the output row.
fn median_blur_5(src: &Image) -> Image {
    let (w, h) = (src.width, src.height);
    let clamp = |i: isize, n: usize| i.clamp(0, n as isize - 1) as usize;
    let mut planes = vec![0.0f32; 25 * w];
    let mut out = Image::zeros(w, h);
    for y in 0..h {
        for dy in 0..5 {
            let yy = clamp(y as isize + dy as isize - 2, h);
            let row = &src.data[yy * w..(yy + 1) * w];
            for dx in 0..5 {
                let plane = &mut planes[(5 * dy + dx) * w..][..w];
                for (x, p) in plane.iter_mut().enumerate() {
                    *p = row[clamp(x as isize + dx as isize - 2, w)];
                }
            }
        }
        for &(a, b) in MEDIAN25.iter() {
            let (a, b) = (a as usize, b as usize);
            let (low, high) = planes.split_at_mut(b * w);
            let (pa, pb) = (&mut low[a * w..(a + 1) * w], &mut high[..w]);
            for (va, vb) in pa.iter_mut().zip(pb.iter_mut()) {
                let (lo, hi) = (va.min(*vb), va.max(*vb));
                *va = lo;
                *vb = hi;
            }
        }
        out.data[y * w..(y + 1) * w].copy_from_slice(&planes[12 * w..13 * w]);
    }
    out
}

/// [`median_blur`] for any odd `side`, by selection (the window's middle element).
fn median_blur_select(src: &Image, side: usize) -> Image {
    let r = (side / 2) as isize;
    let (w, h) = (src.width as isize, src.height as isize);
    let mut window = Vec::with_capacity(side * side);
    let mut out = Image::zeros(src.width, src.height);
    for y in 0..h {
        for x in 0..w {
            window.clear();
            for dy in -r..=r {
                let yy = (y + dy).clamp(0, h - 1) as usize;
                for dx in -r..=r {
                    let xx = (x + dx).clamp(0, w - 1) as usize;
                    window.push(src.at(xx, yy));
                }
            }
            let mid = window.len() / 2;
            let (_, median, _) = window.select_nth_unstable_by(mid, f32::total_cmp);
            out.data[(y * w + x) as usize] = *median;
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A smooth texture in `[0, 255]` with several frequencies and orientations, defined
    /// everywhere so that shifted copies are exact.
    fn texture(x: f64, y: f64) -> f32 {
        let v = 128.0
            + 40.0 * (0.35 * x + 0.2 * y).sin()
            + 30.0 * (0.23 * y - 0.41 * x + 1.0).sin()
            + 25.0 * (0.57 * x).sin() * (0.49 * y + 0.3).cos()
            + 15.0 * (0.9 * y - 0.15 * x).cos();
        v as f32
    }

    /// The median network on every input of zeros and ones (2²⁵ of them): by the 0-1
    /// principle of sorting networks, it then selects the median of any 25 values.
    #[test]
    fn median_network_selects_the_median_of_every_0_1_input() {
        let mut wrong = 0u32;
        for m in 0u32..(1 << 25) {
            let mut p: [u8; 25] = std::array::from_fn(|i| ((m >> i) & 1) as u8);
            for &(a, b) in MEDIAN25.iter() {
                let (a, b) = (a as usize, b as usize);
                if p[a] > p[b] {
                    p.swap(a, b);
                }
            }
            let median = u8::from(m.count_ones() >= 13);
            if p[12] != median {
                wrong += 1;
            }
        }
        assert_eq!(wrong, 0, "inputs whose median the network misses");
        assert!(MEDIAN25.iter().all(|&(a, b)| a < b && b < 25));
    }

    /// The 5×5 median filter by the network equals the one by selection, on images with
    /// many ties (values from a small set) and at every border.
    #[test]
    fn median_blur_5_equals_selection() {
        let mut state = 12345u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u32
        };
        for (w, h, levels) in [(7, 5, 3), (23, 17, 1000), (5, 9, 2), (40, 31, 7)] {
            let data = (0..w * h).map(|_| (next() % levels) as f32 - 1.5).collect();
            let img = Image::new(w, h, data);
            assert_eq!(median_blur_5(&img), median_blur_select(&img, 5), "{w}x{h}");
        }
    }

    const W: usize = 80;
    const H: usize = 64;
    /// Pixels left out of the error at each border (flow leaving the frame is ill-posed).
    const MARGIN: usize = 6;

    /// Mean end-point error against a field `(gu, gv)` over the interior.
    fn mean_epe(flow: &Flow, truth: impl Fn(usize, usize) -> (f32, f32)) -> f32 {
        let mut sum = 0.0;
        let mut count = 0;
        for y in MARGIN..H - MARGIN {
            for x in MARGIN..W - MARGIN {
                let (gu, gv) = truth(x, y);
                sum += (flow.u.at(x, y) - gu).hypot(flow.v.at(x, y) - gv);
                count += 1;
            }
        }
        sum / count as f32
    }

    #[test]
    fn zero_motion_gives_zero_flow() {
        let frame = Image::from_fn(W, H, |x, y| texture(x as f64, y as f64));
        let flow = TvL1::default().flow(&frame, &frame);
        let worst = flow
            .u
            .data
            .iter()
            .chain(&flow.v.data)
            .fold(0.0f32, |m, f| m.max(f.abs()));
        assert!(worst < 1e-3, "largest flow {worst} on identical frames");
    }

    #[test]
    fn a_subpixel_translation_is_recovered() {
        // OpenCV's bicubic kernel (A = -0.75) does not reproduce linear functions: between
        // pixels it samples up to ~0.04 px off (0 at fractions 0 and 1/2), and TV-L1
        // converges to where the interpolated I₁ matches I₀, so shifts with a fraction of
        // 0.3 come out ~0.04 px short per axis, as in OpenCV; half-pixel shifts are exact.
        for (du, dv, bound) in [
            (1.3f64, -0.7f64, 0.08),
            (-2.6, 1.8, 0.08),
            (1.5, -0.5, 0.02),
        ] {
            let i0 = Image::from_fn(W, H, |x, y| texture(x as f64, y as f64));
            // I₁(x) = I₀(x − d): the content moves by d, so I₀(x) = I₁(x + d).
            let i1 = Image::from_fn(W, H, |x, y| texture(x as f64 - du, y as f64 - dv));
            let flow = TvL1::default().flow(&i0, &i1);
            let epe = mean_epe(&flow, |_, _| (du as f32, dv as f32));
            assert!(
                epe < bound,
                "shift ({du}, {dv}): mean end-point error {epe}"
            );
        }
    }

    #[test]
    fn opencv_cubic_kernel_samples_off_between_pixels() {
        // The documented bias: at fraction 5/16 the kernel reproduces a ramp at 0.3528,
        // 0.040 past 5/16.
        let w = cubic_weights(5.0 / 16.0);
        let sampled = -w[0] + w[2] + 2.0 * w[3];
        assert!((sampled - 0.3528).abs() < 1e-4, "{sampled}");
        let w = cubic_weights(0.5);
        assert!((-w[0] + w[2] + 2.0 * w[3] - 0.5).abs() < 1e-6);
    }

    #[test]
    fn a_smooth_field_is_recovered() {
        // A smooth, non-uniform displacement d(x, y).
        let d = |x: f64, y: f64| {
            let tau = std::f64::consts::TAU;
            (
                0.8 + 0.6 * (tau * y / H as f64).sin(),
                -0.5 + 0.5 * (tau * x / W as f64).cos(),
            )
        };
        let i0 = Image::from_fn(W, H, |x, y| texture(x as f64, y as f64));
        // I₁(p) = I₀(p − d(p)); the flow at x solves x + u = p with p − d(p) = x.
        let i1 = Image::from_fn(W, H, |x, y| {
            let (dx, dy) = d(x as f64, y as f64);
            texture(x as f64 - dx, y as f64 - dy)
        });
        let truth = |x: usize, y: usize| {
            let (x, y) = (x as f64, y as f64);
            let mut u = (0.0, 0.0);
            for _ in 0..50 {
                u = d(x + u.0, y + u.1);
            }
            (u.0 as f32, u.1 as f32)
        };
        for median in [5, 0] {
            let params = TvL1 {
                median_filtering: median,
                ..TvL1::default()
            };
            let flow = params.flow(&i0, &i1);
            let epe = mean_epe(&flow, truth);
            assert!(epe < 0.1, "median {median}: mean end-point error {epe}");
        }
    }

    /// Reads a `make_tvl1_fixtures.py` case: the two frames and OpenCV's flow.
    pub(crate) fn opencv_case(name: &str) -> (Image, Image, Flow) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let frames = std::fs::read(dir.join(format!("tvl1_{name}_frames.u8"))).unwrap();
        let flow: Vec<f32> = std::fs::read(dir.join(format!("tvl1_{name}_opencv.f32")))
            .unwrap()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let n = W * H;
        assert_eq!((frames.len(), flow.len()), (2 * n, 2 * n));
        let image = |px: &[u8]| Image::new(W, H, px.iter().map(|&v| v as f32).collect());
        let flow = Flow {
            u: Image::new(W, H, flow[..n].to_vec()),
            v: Image::new(W, H, flow[n..].to_vec()),
        };
        (image(&frames[..n]), image(&frames[n..]), flow)
    }

    /// End-point differences between two flows, sorted.
    pub(crate) fn sorted_differences(a: &Flow, b: &Flow) -> Vec<f32> {
        let mut d: Vec<f32> = (0..a.u.data.len())
            .map(|k| (a.u.data[k] - b.u.data[k]).hypot(a.v.data[k] - b.v.data[k]))
            .collect();
        d.sort_by(f32::total_cmp);
        d
    }

    /// The one-level parity with OpenCV (`field_1scale`): mean end-point difference under
    /// 1e-4 px, largest under 0.01 px. Shared by the CPU and GPU tests.
    pub(crate) fn assert_matches_opencv_one_scale(ours: &Flow, opencv: &Flow) {
        let d = sorted_differences(ours, opencv);
        let mean = d.iter().sum::<f32>() / d.len() as f32;
        assert!(mean < 1e-4, "mean difference from OpenCV {mean}");
        assert!(
            d[d.len() - 1] < 1e-2,
            "largest difference {}",
            d[d.len() - 1]
        );
    }

    /// The default-parameter parity with OpenCV: mean end-point difference under 0.025 px;
    /// pixels at least 4 from the border: median under 0.006 px, largest under 0.2 px. Shared
    /// by the CPU and GPU tests.
    pub(crate) fn assert_matches_opencv_default(name: &str, ours: &Flow, opencv: &Flow) {
        let all = sorted_differences(ours, opencv);
        let mean = all.iter().sum::<f32>() / all.len() as f32;
        let mut inner: Vec<f32> = (4..H - 4)
            .flat_map(|y| (4..W - 4).map(move |x| y * W + x))
            .map(|k| (ours.u.data[k] - opencv.u.data[k]).hypot(ours.v.data[k] - opencv.v.data[k]))
            .collect();
        inner.sort_by(f32::total_cmp);
        let (median, max) = (inner[inner.len() / 2], inner[inner.len() - 1]);
        assert!(
            mean < 0.025 && median < 0.006 && max < 0.2,
            "{name}: mean {mean}; inside: median {median}, max {max}"
        );
    }

    #[test]
    fn matches_opencv_on_one_scale() {
        // One pyramid level, 5 warps, median filter: the same arithmetic as OpenCV 5.1 up to
        // float rounding.
        let (i0, i1, opencv) = opencv_case("field_1scale");
        let params = TvL1 {
            scales: 1,
            ..TvL1::default()
        };
        assert_matches_opencv_one_scale(&params.flow(&i0, &i1), &opencv);
    }

    #[test]
    fn matches_opencv_with_default_parameters() {
        // With the pyramid and the stopping rule, float rounding (OpenCV's remap and resize
        // sum in another order) changes when some iterations stop; the flows then differ by
        // about one iteration's update, most at the borders. These differences are a fifth
        // of what the stopping rule itself changes (default epsilon vs none: median 0.019
        // px on `field`).
        for name in ["field", "shift"] {
            let (i0, i1, opencv) = opencv_case(name);
            assert_matches_opencv_default(name, &TvL1::default().flow(&i0, &i1), &opencv);
        }
    }

    /// The GPU kernels' median filter (`gpu/kernels.rs`, `median25`: one `sort2(a, i, j);` line
    /// per compare-exchange) is [`MEDIAN25`], comparator for comparator and in order, so the
    /// proof above covers it too. Reads the kernel's source: runs without the `gpu` feature.
    #[test]
    fn gpu_median_network_is_the_cpu_one() {
        let source = include_str!("gpu/kernels.rs");
        let body = &source[source.find("fn median25(").unwrap()..];
        let body = &body[..body.find("\n}").unwrap()];
        let pairs: Vec<(u8, u8)> = body
            .lines()
            .filter_map(|l| l.trim().strip_prefix("sort2(a, "))
            .map(|l| {
                let (a, b) = l.trim_end_matches(");").split_once(", ").unwrap();
                (a.parse().unwrap(), b.parse().unwrap())
            })
            .collect();
        assert_eq!(pairs, MEDIAN25.to_vec());
    }

    #[test]
    fn older_opencv_positions_move_the_flow_by_about_a_hundredth() {
        let (i0, i1, _) = opencv_case("field");
        let exact = TvL1::default().flow(&i0, &i1);
        let table = TvL1 {
            sub_pixel: SubPixel::Table32,
            ..TvL1::default()
        }
        .flow(&i0, &i1);
        let d = sorted_differences(&exact, &table);
        let median = d[d.len() / 2];
        assert!(median > 1e-4 && median < 0.03, "median difference {median}");
    }

    #[test]
    fn sequences_are_the_pairwise_flows() {
        let frames: Vec<Image> = (0..4)
            .map(|t| Image::from_fn(W, H, |x, y| texture(x as f64 - 0.5 * t as f64, y as f64)))
            .collect();
        let params = TvL1 {
            scales: 2,
            warps: 2,
            ..TvL1::default()
        };
        let flows = params.flow_sequence(&frames);
        assert_eq!(flows.len(), 3);
        assert_eq!(flows[1], params.flow(&frames[1], &frames[2]));
        assert!(params.flow_sequence(&frames[..1]).is_empty());
    }

    #[test]
    fn i3d_input_is_clipped_to_20_pixels_and_scaled() {
        let flow = Flow {
            u: Image::new(2, 1, vec![-30.0, 10.0]),
            v: Image::new(2, 1, vec![0.0, 25.0]),
        };
        assert_eq!(flow.to_i3d(), vec![-1.0, 0.5, 0.0, 1.0]);
    }

    #[test]
    fn clips_are_channel_then_time() {
        let flow = |t: f32| Flow {
            u: Image::new(2, 1, vec![t, 40.0]),
            v: Image::new(2, 1, vec![-t, -40.0]),
        };
        let clip = i3d_clip(&[flow(2.0), flow(4.0)]);
        // [2 channels, 2 frames, 1 row, 2 columns]
        assert_eq!(clip, vec![0.1, 1.0, 0.2, 1.0, -0.1, -1.0, -0.2, -1.0]);
        assert_eq!(flow(2.0).to_i3d(), i3d_clip(&[flow(2.0)]));
        assert!(i3d_clip(&[]).is_empty());
    }

    #[test]
    fn helpers_match_opencv_on_small_cases() {
        // Cubic weights sum to 1 and interpolate: offset 0 is the pixel itself.
        assert_eq!(cubic_weights(0.0), [0.0, 1.0, 0.0, 0.0]);
        let w = cubic_weights(0.3);
        assert!((w.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        // Remap at zero flow is the identity; outside pixels are 0.
        let img = Image::from_fn(5, 4, |x, y| (x * 10 + y) as f32);
        let zero = Image::zeros(5, 4);
        assert_eq!(remap_cubic(&img, &zero, &zero, SubPixel::Exact), img);
        let far = Image::new(5, 4, vec![100.0; 20]);
        assert!(remap_cubic(&img, &far, &zero, SubPixel::Table32)
            .data
            .iter()
            .all(|&v| v == 0.0));
        // A half-size resize averages pixel pairs (position 2d + 0.5).
        let row = Image::new(4, 1, vec![0.0, 2.0, 4.0, 6.0]);
        assert_eq!(resize(&row, 2, 1, 2.0, 1.0).data, vec![1.0, 5.0]);
        assert_eq!(scaled_size(64, 0.8), 51);
        assert_eq!(scaled_size(40, 0.8), 32);
        // Divergence is minus the adjoint of the forward gradient.
        let (w, h) = (4, 3);
        let f = Image::from_fn(w, h, |x, y| ((x * 7 + y * 3) % 5) as f32);
        // Dual fields as TV-L1 makes them: zero where the forward gradient is (last column
        // for p1, last row for p2).
        let p1: Vec<f32> = (0..w * h)
            .map(|k| {
                if k % w == w - 1 {
                    0.0
                } else {
                    (k % 3) as f32 - 1.0
                }
            })
            .collect();
        let p2: Vec<f32> = (0..w * h)
            .map(|k| {
                if k / w == h - 1 {
                    0.0
                } else {
                    (k % 4) as f32 * 0.5
                }
            })
            .collect();
        let (mut gx, mut gy) = (vec![0.0; w * h], vec![0.0; w * h]);
        forward_gradient(&f, &mut gx, &mut gy);
        let mut div = vec![0.0; w * h];
        divergence(w, h, &p1, &p2, &mut div);
        let lhs: f32 = (0..w * h).map(|k| gx[k] * p1[k] + gy[k] * p2[k]).sum();
        let rhs: f32 = (0..w * h).map(|k| -f.data[k] * div[k]).sum();
        assert!((lhs - rhs).abs() < 1e-4, "{lhs} vs {rhs}");
        // Median of a 5×5 window with one outlier ignores it.
        let mut spike = Image::zeros(7, 7);
        spike.data[3 * 7 + 3] = 100.0;
        assert!(median_blur(&spike, 5).data.iter().all(|&v| v == 0.0));
    }
}
