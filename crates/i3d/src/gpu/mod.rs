//! TV-L1 optical flow on the GPU (the `gpu` feature): [`crate::flow::TvL1`] as CubeCL kernels,
//! generic over the CubeCL runtime, so that wgpu (Vulkan, Metal, DX12; Mesa's lavapipe on a
//! CPU) and CUDA run the same source.
//!
//! - [`flow_sequence`]: the flows between consecutive frames on the device
//!   ([`DeviceFlows`], `[pairs, 2, H, W]`), all pairs at once; [`DeviceFlows::to_host`] reads
//!   them back as [`Flow`]s (tests, other uses).
//! - [`GpuFlow`]: the extraction's [`FlowEngine`] on Burn's CubeCL backends
//!   (`CubeBackend<R, f32, _, _>` and its fused form, e.g. `burn::backend::Wgpu` and
//!   `burn::backend::Cuda`): a chunk's flows become the flow network's input tensor
//!   `[1, 2, T, crop, crop]` on the device, never copied to the host.
//!
//! The arithmetic is that of the CPU implementation ([`crate::flow`], OpenCV's
//! `DualTVL1OpticalFlow`) step for step (see `kernels`); the flows agree with it, and with
//! OpenCV, within the OpenCV parity tests' tolerances (tests on the same fixtures). Memory: the
//! image pyramid of the frames and, per pair, the flow and 12 work images at the finest level
//! (`4 · (frames · 1.4 + pairs · 16) · H · W` bytes: 90 MB for a 16-frame chunk at 256×340).

mod kernels;

use burn::tensor::{DType, Shape, Tensor, TensorPrimitive};
use burn_cubecl::tensor::CubeTensor;
use burn_cubecl::{BoolElement, CubeBackend, CubeRuntime, IntElement};
use cubecl::prelude::*;
use video::Frame;

use crate::extract::{ExtractConfig, FlowEngine};
use crate::flow::{resize_taps, scaled_size, Flow, Image, SubPixel, TvL1, FLOW_BOUND};

/// Units per cube of the TV-L1 level kernel (one cube per frame pair) when none is chosen: 256,
/// the most every wgpu device allows.
pub const DEFAULT_THREADS: u32 = 256;

/// The flows of consecutive frame pairs, on the device: `[pairs, 2, height, width]` row-major
/// (`u` then `v` per pair), in pixels.
pub struct DeviceFlows<R: CubeRuntime> {
    /// The flows, contiguous `f32`.
    pub tensor: CubeTensor<R>,
    /// Frame pairs.
    pub pairs: usize,
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
}

impl<R: CubeRuntime> DeviceFlows<R> {
    /// The flows copied to the host, one [`Flow`] per pair.
    ///
    /// # Panics
    /// If the device fails to read the buffer back.
    pub fn to_host(&self) -> Vec<Flow> {
        let bytes = self
            .tensor
            .client
            .read_one(self.tensor.handle.clone())
            .expect("reading the flows back from the device");
        let values = f32::from_bytes(&bytes);
        let n = self.width * self.height;
        (0..self.pairs)
            .map(|p| {
                let at = |c: usize| values[(2 * p + c) * n..][..n].to_vec();
                Flow {
                    u: Image::new(self.width, self.height, at(0)),
                    v: Image::new(self.width, self.height, at(1)),
                }
            })
            .collect()
    }
}

/// A 1-D `f32`/`u32` device buffer as a contiguous [`CubeTensor`] (whose array argument is
/// safe to make: its length is its shape's).
fn buffer<R: CubeRuntime>(
    client: &ComputeClient<R>,
    device: &R::Device,
    bytes: &[u8],
    dtype: DType,
) -> CubeTensor<R> {
    let len = bytes.len() / dtype.size();
    let handle = client.create_from_slice(bytes);
    CubeTensor::new_contiguous(
        client.clone(),
        device.clone(),
        Shape::new([len]),
        handle,
        dtype,
    )
}

/// An uninitialised `f32` device buffer of `len` values.
fn empty<R: CubeRuntime>(
    client: &ComputeClient<R>,
    device: &R::Device,
    len: usize,
) -> CubeTensor<R> {
    let handle = client.empty(len * std::mem::size_of::<f32>());
    CubeTensor::new_contiguous(
        client.clone(),
        device.clone(),
        Shape::new([len]),
        handle,
        DType::F32,
    )
}

/// The array argument of a buffer (a cheap handle copy).
fn arg<R: CubeRuntime>(t: &CubeTensor<R>) -> ArrayArg<R> {
    t.clone().into_array_arg()
}

/// One unit per value, in cubes of 256.
fn elementwise<R: CubeRuntime>(client: &ComputeClient<R>, len: usize) -> (CubeCount, CubeDim) {
    let dim = CubeDim::new_1d(256);
    (cubecl::calculate_cube_count_elemwise(client, len, dim), dim)
}

/// `images` images of `sw × sh` in `src` resized to `dw × dh` (OpenCV's `INTER_LINEAR` with
/// source steps `scale_x`, `scale_y` per destination pixel, as `flow::resize`), times
/// `factor`.
#[allow(clippy::too_many_arguments)]
fn resize<R: CubeRuntime>(
    client: &ComputeClient<R>,
    device: &R::Device,
    src: &CubeTensor<R>,
    images: usize,
    (sw, sh): (usize, usize),
    (dw, dh): (usize, usize),
    (scale_x, scale_y): (f64, f64),
    factor: f32,
) -> CubeTensor<R> {
    let table = |d: usize, scale: f64, s: usize| {
        let taps = resize_taps(d, scale, s);
        let index: Vec<u32> = taps
            .iter()
            .flat_map(|&(a, b, _)| [a as u32, b as u32])
            .collect();
        let frac: Vec<f32> = taps.iter().map(|&(_, _, f)| f).collect();
        (
            buffer(client, device, u32::as_bytes(&index), DType::U32),
            buffer(client, device, f32::as_bytes(&frac), DType::F32),
        )
    };
    let (taps_x, frac_x) = table(dw, scale_x, sw);
    let (taps_y, frac_y) = table(dh, scale_y, sh);
    let len = images * dw * dh;
    let dst = empty(client, device, len);
    let (count, dim) = elementwise(client, len);
    kernels::resize_linear::launch::<R>(
        client,
        count,
        dim,
        arg(src),
        arg(&dst),
        arg(&taps_x),
        arg(&frac_x),
        arg(&taps_y),
        arg(&frac_y),
        sw as u32,
        sh as u32,
        dw as u32,
        dh as u32,
        factor,
    );
    dst
}

/// The TV-L1 flows between consecutive `frames` (`frames.len() - 1` pairs; intensities in
/// `[0, 255]`, as [`TvL1::flow`]) on `device`, computed by `params` with `threads` units per
/// cube (one cube per pair and pyramid level; at most what the device allows, 256 on wgpu).
/// The same flows as [`TvL1::flow_sequence`] to float rounding.
///
/// # Panics
/// If fewer than two frames are given, they differ in size, a side is under 3 pixels,
/// `params.median_filtering` is neither 0, 1 nor 5 (3 is CPU-only), or `threads` is 0.
pub fn flow_sequence<R: CubeRuntime>(
    params: &TvL1,
    threads: u32,
    device: &R::Device,
    frames: &[Image],
) -> DeviceFlows<R> {
    assert!(frames.len() >= 2, "TV-L1 needs at least two frames");
    let (w, h) = (frames[0].width, frames[0].height);
    assert!(
        frames.iter().all(|f| (f.width, f.height) == (w, h)),
        "TV-L1 needs frames of one size"
    );
    assert!(
        w >= 3 && h >= 3,
        "TV-L1 needs frames of at least 3×3 pixels"
    );
    assert!(
        matches!(params.median_filtering, 0 | 1 | 5),
        "the GPU TV-L1 filters with a 5×5 median or none, not {}",
        params.median_filtering
    );
    assert!(threads > 0, "a cube needs at least one unit");
    let client = R::client(device);
    let pairs = frames.len() - 1;
    let data: Vec<f32> = frames.iter().flat_map(|f| f.data.iter().copied()).collect();

    // The image pyramid of every frame: each level resized from the previous one, stopping
    // before a side under 16 pixels (`TvL1::flow`).
    let mut pyramid = vec![(
        w,
        h,
        buffer(&client, device, f32::as_bytes(&data), DType::F32),
    )];
    for _ in 1..params.scales.max(1) {
        let (pw, ph, prev) = pyramid.last().expect("the finest level");
        let (nw, nh) = (
            scaled_size(*pw, params.scale_step),
            scaled_size(*ph, params.scale_step),
        );
        if nw < 16 || nh < 16 {
            break;
        }
        let scale = 1.0 / params.scale_step;
        let level = resize(
            &client,
            device,
            prev,
            frames.len(),
            (*pw, *ph),
            (nw, nh),
            (scale, scale),
            1.0,
        );
        pyramid.push((nw, nh, level));
    }

    let (cw, ch, _) = pyramid.last().expect("the coarsest level");
    let zeros = vec![0.0f32; pairs * 2 * cw * ch];
    let mut flow = buffer(&client, device, f32::as_bytes(&zeros), DType::F32);
    let largest = w * h;
    let work = empty(&client, device, pairs * kernels::WORK_FIELDS * largest);
    let zoom = 1.0 / params.scale_step as f32;
    for level in (0..pyramid.len()).rev() {
        let (lw, lh, images) = &pyramid[level];
        let n = lw * lh;
        // Constants as OpenCV computes them: in double, then rounded to float.
        let scaled_epsilon = (params.epsilon * params.epsilon * n as f64) as f32;
        kernels::tvl1_level::launch::<R>(
            &client,
            CubeCount::Static(pairs as u32, 1, 1),
            CubeDim::new_1d(threads),
            arg(images),
            arg(&flow),
            arg(&work),
            *lw as u32,
            *lh as u32,
            scaled_epsilon,
            (params.lambda * params.theta) as f32,
            (params.tau / params.theta) as f32,
            params.theta as f32,
            threads as usize,
            params.warps,
            params.outer_iterations,
            params.inner_iterations,
            params.median_filtering > 1,
            params.sub_pixel == SubPixel::Table32,
        );
        if level > 0 {
            let (fw, fh, _) = &pyramid[level - 1];
            flow = resize(
                &client,
                device,
                &flow,
                2 * pairs,
                (*lw, *lh),
                (*fw, *fh),
                (*lw as f64 / *fw as f64, *lh as f64 / *fh as f64),
                zoom,
            );
        }
    }
    DeviceFlows {
        tensor: flow,
        pairs,
        width: w,
        height: h,
    }
}

/// TV-L1 on the device of a Burn CubeCL backend, as an extraction's [`FlowEngine`]: the
/// flows of a chunk ([`flow_sequence`] with the extraction's [`TvL1`]) become the flow
/// network's input `[1, 2, T, crop, crop]` by one more kernel (crop, truncation to ±20 px,
/// division by 20), on the device. For `CubeBackend<R, f32, _, _>` and `Fusion` of it
/// (`burn::backend::Wgpu`, `burn::backend::Cuda`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GpuFlow {
    /// Units per cube of the level kernel ([`DEFAULT_THREADS`]).
    pub threads: u32,
}

impl Default for GpuFlow {
    fn default() -> Self {
        Self {
            threads: DEFAULT_THREADS,
        }
    }
}

impl GpuFlow {
    /// The flow network's input for one chunk as a device tensor `[1, 2, chunk, crop, crop]`
    /// on a device of runtime `R` (see [`FlowEngine::flow_input`]).
    pub fn flow_input_tensor<R: CubeRuntime>(
        &self,
        frames: &[Frame],
        config: &ExtractConfig,
        device: &R::Device,
    ) -> CubeTensor<R> {
        let (chunk, crop) = (config.chunk, config.crop);
        let gray: Vec<Image> = frames
            .iter()
            .map(|f| {
                let f = if config.flow_on_crop {
                    f.centre_crop(crop)
                } else {
                    f.clone()
                };
                Image::new(f.width, f.height, f.gray())
            })
            .collect();
        let flows = flow_sequence::<R>(&config.tvl1, self.threads, device, &gray);
        let (w, h) = (flows.width, flows.height);
        let client = R::client(device);
        let len = 2 * chunk * crop * crop;
        let out = empty(&client, device, len);
        let (count, dim) = elementwise(&client, len);
        kernels::i3d_flow_input::launch::<R>(
            &client,
            count,
            dim,
            arg(&flows.tensor),
            arg(&out),
            w as u32,
            h as u32,
            ((w - crop) / 2) as u32,
            ((h - crop) / 2) as u32,
            crop as u32,
            flows.pairs as u32,
            chunk as u32,
            FLOW_BOUND,
        );
        CubeTensor::new_contiguous(
            client,
            device.clone(),
            Shape::new([1, 2, chunk, crop, crop]),
            out.handle,
            DType::F32,
        )
    }
}

impl<R, I, BT> FlowEngine<CubeBackend<R, f32, I, BT>> for GpuFlow
where
    R: CubeRuntime,
    I: IntElement,
    BT: BoolElement,
{
    fn flow_input(
        &self,
        frames: &[Frame],
        config: &ExtractConfig,
        device: &R::Device,
    ) -> Tensor<CubeBackend<R, f32, I, BT>, 5> {
        let t = self.flow_input_tensor::<R>(frames, config, device);
        Tensor::from_primitive(TensorPrimitive::Float(t))
    }

    fn on_device(&self) -> bool {
        true
    }
}

impl<R, I, BT> FlowEngine<burn_fusion::Fusion<CubeBackend<R, f32, I, BT>>> for GpuFlow
where
    R: CubeRuntime,
    I: IntElement,
    BT: BoolElement,
{
    fn flow_input(
        &self,
        frames: &[Frame],
        config: &ExtractConfig,
        device: &R::Device,
    ) -> Tensor<burn_fusion::Fusion<CubeBackend<R, f32, I, BT>>, 5> {
        use burn_fusion::stream::OperationStreams;
        use burn_fusion::NoOp;
        use burn_ir::{BackendIr, InitOperationIr, OperationIr, OperationOutput};
        type Inner<R, I, BT> = CubeBackend<R, f32, I, BT>;
        let t = self.flow_input_tensor::<R>(frames, config, device);
        let shape = t.meta.shape().clone();
        // As Fusion's `float_from_data`: the device buffer registered as an initialised
        // tensor of the fusion stream.
        let client = burn_fusion::get_client::<Inner<R, I, BT>>(device);
        let handle = <Inner<R, I, BT> as BackendIr>::float_tensor_handle(t);
        let desc =
            InitOperationIr::create(shape, DType::F32, || client.register_tensor_handle(handle));
        let out = client
            .register(
                OperationStreams::default(),
                OperationIr::Init(desc),
                NoOp::<Inner<R, I, BT>>::new(),
            )
            .output();
        Tensor::from_primitive(TensorPrimitive::Float(out))
    }

    fn on_device(&self) -> bool {
        true
    }
}

#[cfg(all(test, any(feature = "test-wgpu", feature = "test-cuda")))]
mod tests;
