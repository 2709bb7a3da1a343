//! Adam over all parameters of a module at once ([`FlatAdam`]).
//!
//! Burn's `OptimizerAdaptor<Adam, …>` updates one parameter tensor at a time: about a dozen
//! tensor operations per parameter (two moments, bias corrections, square root, division,
//! update), each a kernel launch (or a fusion-tracing step) on a GPU backend. A MAAN stream
//! has six parameter tensors, so an Adam step is ~80 operations for ~283k numbers: on CUDA it
//! is launch- and host-bound, not arithmetic-bound. [`FlatAdam`] concatenates the parameters
//! and their gradients into one vector each, runs the same update once on the whole vector,
//! and slices the result back into the parameters: about a dozen element-wise operations plus
//! one concatenation and one slice per parameter, whatever the number of parameters.
//!
//! It computes exactly what Burn's `Adam` (with `AdamConfig`'s defaults: β₁ = 0.9,
//! β₂ = 0.999, ε = 1e-5, no weight decay, no AMSGrad, no gradient clipping) computes, with the
//! same operations in the same order on every element, so the two agree bit for bit on a
//! deterministic backend (a unit test checks it on ndarray). Its state is saved in Burn's
//! record format (`HashMap<ParamId, AdaptorRecord<Adam, B>>`, one record per parameter), so
//! checkpoints written with either optimizer load into the other.
//!
//! Unlike Burn's adaptor, every float parameter of the module must receive a gradient: a
//! parameter without one is an error (`FlatAdam::step` panics, naming it), since the flat
//! moments have a slot for every parameter. Every parameter of a [`crate::StreamModel`] takes
//! part in its loss, so training never meets that case.

use burn::module::{AutodiffModule, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::record::AdaptorRecord;
use burn::optim::{Adam, AdamState, AdaptiveMomentumState, GradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, TensorData};
use rayon::prelude::*;

/// Burn's own Adam over the module `M` (`AdamConfig::new().init()`).
pub type BurnAdam<M, B> = OptimizerAdaptor<Adam, M, B>;

/// The record of an Adam optimizer over a [`crate::StreamModel`], in Burn's format (a map from
/// parameter id to one `AdaptorRecord` per parameter): what [`BurnAdam`]'s `to_record` returns.
pub type AdamRecord<B> =
    <BurnAdam<crate::StreamModel<B>, B> as Optimizer<crate::StreamModel<B>, B>>::Record;

/// Where one parameter lives in the flat vector.
#[derive(Debug, Clone, PartialEq)]
struct Slot {
    id: ParamId,
    shape: Vec<usize>,
    offset: usize,
    len: usize,
}

/// Adam's moments over the flat parameter vector.
#[derive(Debug, Clone)]
struct FlatState<B: Backend> {
    time: usize,
    moments: Moments<B>,
}

/// Where the moments live: on the device ([`FlatAdam::step`]) or in host memory
/// ([`FlatAdam::step_host`]); each step converts them if the other kind of step ran last.
#[derive(Debug, Clone)]
enum Moments<B: Backend> {
    Device {
        /// First moment. Shape `[n]` (`n`: number of parameters' elements).
        moment_1: Tensor<B, 1>,
        /// Second moment. Shape `[n]`.
        moment_2: Tensor<B, 1>,
    },
    Host {
        /// First moment. Shape `[n]`.
        moment_1: Vec<f32>,
        /// Second moment. Shape `[n]`.
        moment_2: Vec<f32>,
        /// The device the parameters live on (where [`FlatAdam::to_record`] puts them).
        device: B::Device,
    },
}

impl<B: Backend> Moments<B> {
    /// The moments as device tensors.
    fn into_device(self) -> (Tensor<B, 1>, Tensor<B, 1>) {
        match self {
            Moments::Device { moment_1, moment_2 } => (moment_1, moment_2),
            Moments::Host {
                moment_1,
                moment_2,
                device,
            } => {
                let n = moment_1.len();
                (
                    Tensor::from_data(TensorData::new(moment_1, [n]), &device),
                    Tensor::from_data(TensorData::new(moment_2, [n]), &device),
                )
            }
        }
    }

    /// The moments in host memory, as `f32`.
    fn into_host(self) -> (Vec<f32>, Vec<f32>, B::Device) {
        match self {
            Moments::Host {
                moment_1,
                moment_2,
                device,
            } => (moment_1, moment_2, device),
            Moments::Device { moment_1, moment_2 } => {
                let device = moment_1.device();
                (host_vec(moment_1), host_vec(moment_2), device)
            }
        }
    }
}

/// A tensor's values as `f32` in host memory.
fn host_vec<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .into_vec::<f32>()
        .expect("a float tensor converts to f32")
}

/// Adam (Burn's defaults) applied to all float parameters of a module as one flat vector.
///
/// ```ignore
/// let mut optim = FlatAdam::new();
/// let grads = GradientsParams::from_grads(loss.backward(), &model);
/// model = optim.step(5e-4, model, grads);
/// ```
#[derive(Debug, Clone)]
pub struct FlatAdam<B: AutodiffBackend> {
    beta_1: f32,
    beta_2: f32,
    epsilon: f32,
    slots: Vec<Slot>,
    state: Option<FlatState<B::InnerBackend>>,
}

impl<B: AutodiffBackend> Default for FlatAdam<B> {
    fn default() -> Self {
        Self::new()
    }
}

/// Collects `(id, shape)` of every float parameter, in the module's visiting order.
struct Layout(Vec<(ParamId, Vec<usize>)>);

impl<B: Backend> ModuleVisitor<B> for Layout {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        self.0.push((param.id, param.val().dims().to_vec()));
    }
}

/// Collects every float parameter's value (inner backend, flattened) in visiting order.
struct Values<B: AutodiffBackend>(Vec<Tensor<B::InnerBackend, 1>>);

impl<B: AutodiffBackend> ModuleVisitor<B> for Values<B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let value = param.val().inner();
        let n = value.shape().num_elements();
        self.0.push(value.reshape([n]));
    }
}

/// Replaces every float parameter by its slice of the updated flat vector.
struct Assign<'a, B: AutodiffBackend> {
    flat: Tensor<B::InnerBackend, 1>,
    slots: std::slice::Iter<'a, Slot>,
}

impl<B: AutodiffBackend> ModuleMapper<B> for Assign<'_, B> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, tensor, mapper) = param.consume();
        let slot = self.slots.next().expect("the module's parameters changed");
        debug_assert_eq!(slot.id, id);
        let dims: [usize; D] = slot.shape.clone().try_into().expect("parameter rank");
        let value = self
            .flat
            .clone()
            .slice(slot.offset..slot.offset + slot.len)
            .reshape(dims);
        let mut value = Tensor::<B, D>::from_inner(value);
        if tensor.is_require_grad() {
            value = value.require_grad();
        }
        Param::from_mapped_value(id, value, mapper)
    }
}

impl<B: AutodiffBackend> FlatAdam<B> {
    /// Adam with `AdamConfig`'s defaults (β₁ = 0.9, β₂ = 0.999, ε = 1e-5).
    pub fn new() -> Self {
        FlatAdam {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-5,
            slots: Vec::new(),
            state: None,
        }
    }

    /// Steps taken so far (Adam's `t`).
    pub fn time(&self) -> usize {
        self.state.as_ref().map_or(0, |s| s.time)
    }

    fn layout<M: AutodiffModule<B>>(module: &M) -> Vec<Slot> {
        let mut layout = Layout(Vec::new());
        module.visit(&mut layout);
        let mut offset = 0;
        layout
            .0
            .into_iter()
            .map(|(id, shape)| {
                let len = shape.iter().product();
                let slot = Slot {
                    id,
                    shape,
                    offset,
                    len,
                };
                offset += len;
                slot
            })
            .collect()
    }

    /// One Adam step with learning rate `lr` on every float parameter of `module`, which must
    /// all have a gradient in `grads`. Returns the updated module.
    ///
    /// # Panics
    /// When a parameter has no gradient, or the module's parameters (ids or shapes) differ
    /// from those of the previous steps.
    pub fn step<M: AutodiffModule<B>>(
        &mut self,
        lr: f64,
        module: M,
        mut grads: GradientsParams,
    ) -> M {
        let slots = Self::layout(&module);
        if self.slots.is_empty() {
            self.slots = slots;
        } else {
            assert_eq!(
                self.slots, slots,
                "FlatAdam: the module's parameters changed"
            );
        }
        let mut values = Values::<B>(Vec::with_capacity(self.slots.len()));
        module.visit(&mut values);
        let grads: Vec<Tensor<B::InnerBackend, 1>> = self
            .slots
            .iter()
            .map(|slot| grad_flat::<B>(&mut grads, slot))
            .collect();
        let grad = Tensor::cat(grads, 0);
        let param = Tensor::cat(values.0, 0);

        // Burn's `AdaptiveMomentum::transform`, operation for operation.
        let (b1, b2) = (self.beta_1, self.beta_2);
        let (time, moment_1, moment_2) = match self.state.take() {
            Some(s) => {
                let (m1, m2) = s.moments.into_device();
                (
                    s.time + 1,
                    m1.mul_scalar(b1).add(grad.clone().mul_scalar(1.0 - b1)),
                    m2.mul_scalar(b2).add(grad.square().mul_scalar(1.0 - b2)),
                )
            }
            None => (
                1,
                grad.clone().mul_scalar(1.0 - b1),
                grad.square().mul_scalar(1.0 - b2),
            ),
        };
        let (combined_factor, epsilon) = self.factors(time);
        let update = moment_1
            .clone()
            .mul_scalar(combined_factor)
            .div(moment_2.clone().sqrt().add_scalar(epsilon));
        // Burn's `Adam::step`: `tensor - grad.mul_scalar(lr)`.
        let param = param - update.mul_scalar(lr);
        self.state = Some(FlatState {
            time,
            moments: Moments::Device { moment_1, moment_2 },
        });
        module.map(&mut Assign::<B> {
            flat: param,
            slots: self.slots.iter(),
        })
    }

    /// Adam's bias-corrected step factor and denominator offset at step `time` (1-based):
    /// `√(1 − β₂ᵗ) / (1 − β₁ᵗ)` and `ε √(1 − β₂ᵗ)`, as Burn computes them (in `f32`).
    fn factors(&self, time: usize) -> (f32, f32) {
        let time = time as i32;
        let bias_correction2_sqrt = (1.0 - self.beta_2.powi(time)).sqrt();
        (
            bias_correction2_sqrt / (1.0 - self.beta_1.powi(time)),
            self.epsilon * bias_correction2_sqrt,
        )
    }

    /// [`FlatAdam::step`] on parameters and gradients in host memory, in one pass: the same
    /// element operations in the same order, so the result is the same, bit for bit, as a
    /// device step on a CPU backend. `params` and `grad` are the flat vectors of `module`'s
    /// float parameters in its visiting order ([`read_params`]); `module` only fixes the
    /// layout (checked against the previous steps) and the device of the saved state.
    ///
    /// # Shapes
    /// - `params` (updated in place), `grad`: `[n]`, `n` the number of parameter elements
    ///
    /// # Panics
    /// If the lengths differ from the module's parameter count, or the module's parameters
    /// differ from those of the previous steps.
    pub fn step_host<M: AutodiffModule<B>>(
        &mut self,
        lr: f64,
        module: &M,
        params: &mut [f32],
        grad: &[f32],
    ) {
        let slots = Self::layout(module);
        if self.slots.is_empty() {
            self.slots = slots;
        } else {
            assert_eq!(
                self.slots, slots,
                "FlatAdam: the module's parameters changed"
            );
        }
        let n: usize = self.slots.iter().map(|s| s.len).sum();
        assert!(
            params.len() == n && grad.len() == n,
            "FlatAdam::step_host: {} parameters and {} gradients for a module of {n}",
            params.len(),
            grad.len()
        );
        let (b1, b2) = (self.beta_1, self.beta_2);
        let (c1, c2) = (1.0 - b1, 1.0 - b2);
        let (time, mut m1, mut m2, device) = match self.state.take() {
            Some(s) => {
                let (m1, m2, device) = s.moments.into_host();
                (s.time + 1, m1, m2, device)
            }
            None => {
                let device = module
                    .devices()
                    .into_iter()
                    .next()
                    .expect("a module with parameters has a device");
                (1, Vec::new(), Vec::new(), device)
            }
        };
        let first = m1.is_empty();
        if first {
            m1 = vec![0.0; n];
            m2 = vec![0.0; n];
        }
        let (combined_factor, epsilon) = self.factors(time);
        let lr = lr as f32;
        // One pass over every element, in chunks spread over the cores: the same operations
        // as `step`'s tensors, element by element.
        const CHUNK: usize = 1 << 14;
        params
            .par_chunks_mut(CHUNK)
            .zip(m1.par_chunks_mut(CHUNK))
            .zip(m2.par_chunks_mut(CHUNK))
            .zip(grad.par_chunks(CHUNK))
            .for_each(move |(((p, m1), m2), g)| {
                let constants = AdamConstants {
                    b1,
                    b2,
                    c1,
                    c2,
                    combined_factor,
                    epsilon,
                    lr,
                };
                if first {
                    adam_chunk::<true>(p, m1, m2, g, constants);
                } else {
                    adam_chunk::<false>(p, m1, m2, g, constants);
                }
            });
        self.state = Some(FlatState {
            time,
            moments: Moments::Host {
                moment_1: m1,
                moment_2: m2,
                device,
            },
        });
    }

    /// The optimizer state in Burn's record format (one `AdaptorRecord` per parameter), as
    /// `OptimizerAdaptor<Adam, M, B>::to_record` gives it; empty before the first step.
    pub fn to_record(&self) -> AdamRecord<B> {
        let mut record = AdamRecord::<B>::new();
        let Some(state) = &self.state else {
            return record;
        };
        let (moment_1, moment_2) = state.moments.clone().into_device();
        for slot in &self.slots {
            let range = slot.offset..slot.offset + slot.len;
            let m = moment_1.clone().slice(range.clone());
            let v = moment_2.clone().slice(range);
            let entry = match slot.shape.len() {
                1 => adaptor_record::<B, 1>(state.time, m, v, &slot.shape),
                2 => adaptor_record::<B, 2>(state.time, m, v, &slot.shape),
                3 => adaptor_record::<B, 3>(state.time, m, v, &slot.shape),
                4 => adaptor_record::<B, 4>(state.time, m, v, &slot.shape),
                r => panic!("FlatAdam: parameters of rank {r} are not supported"),
            };
            record.insert(slot.id, entry);
        }
        record
    }

    /// Loads a state saved by [`FlatAdam::to_record`] or by Burn's `OptimizerAdaptor<Adam>`
    /// for the same `module`. An empty record resets the optimizer. A record that lacks a
    /// parameter of `module`, or whose parameters disagree in step count, is an error.
    pub fn load_record<M: AutodiffModule<B>>(
        &mut self,
        mut record: AdamRecord<B>,
        module: &M,
    ) -> Result<(), String> {
        self.slots = Self::layout(module);
        if record.is_empty() {
            self.state = None;
            return Ok(());
        }
        let mut time = None;
        let mut m = Vec::with_capacity(self.slots.len());
        let mut v = Vec::with_capacity(self.slots.len());
        for slot in &self.slots {
            let entry = record.remove(&slot.id).ok_or_else(|| {
                format!("the optimizer state has no entry for parameter {}", slot.id)
            })?;
            let (t, m1, m2) = match slot.shape.len() {
                1 => moments::<B, 1>(entry),
                2 => moments::<B, 2>(entry),
                3 => moments::<B, 3>(entry),
                4 => moments::<B, 4>(entry),
                r => return Err(format!("parameters of rank {r} are not supported")),
            };
            if *time.get_or_insert(t) != t {
                return Err("the optimizer state's parameters disagree on the step count".into());
            }
            m.push(m1);
            v.push(m2);
        }
        self.state = Some(FlatState {
            time: time.unwrap_or(0),
            moments: Moments::Device {
                moment_1: Tensor::cat(m, 0),
                moment_2: Tensor::cat(v, 0),
            },
        });
        Ok(())
    }
}

/// The scalars of one Adam step (`c1 = 1 − β₁`, `c2 = 1 − β₂`).
#[derive(Clone, Copy)]
struct AdamConstants {
    b1: f32,
    b2: f32,
    c1: f32,
    c2: f32,
    combined_factor: f32,
    epsilon: f32,
    lr: f32,
}

/// Adam on one chunk of the flat vectors (`FIRST`: the first step, moments from zero). The
/// constants are values, not references, so the loop vectorizes.
fn adam_chunk<const FIRST: bool>(
    params: &mut [f32],
    moment_1: &mut [f32],
    moment_2: &mut [f32],
    grad: &[f32],
    k: AdamConstants,
) {
    let n = params.len();
    let (moment_1, moment_2, grad) = (&mut moment_1[..n], &mut moment_2[..n], &grad[..n]);
    for i in 0..n {
        let g = grad[i];
        let (m1, m2) = if FIRST {
            (g * k.c1, (g * g) * k.c2)
        } else {
            (
                moment_1[i] * k.b1 + g * k.c1,
                moment_2[i] * k.b2 + (g * g) * k.c2,
            )
        };
        moment_1[i] = m1;
        moment_2[i] = m2;
        let update = (m1 * k.combined_factor) / (m2.sqrt() + k.epsilon);
        params[i] -= update * k.lr;
    }
}

/// Every float parameter of `module`, flattened and concatenated in its visiting order (the
/// layout of [`FlatAdam`]), as `f32` in host memory: the `params` of [`FlatAdam::step_host`].
///
/// # Shapes
/// - output: `[n]`, `n` the number of parameter elements
pub fn read_params<B: AutodiffBackend, M: AutodiffModule<B>>(module: &M) -> Vec<f32> {
    let mut values = Values::<B>(Vec::new());
    module.visit(&mut values);
    let mut out = Vec::with_capacity(values.0.iter().map(|v| v.shape().num_elements()).sum());
    for v in values.0 {
        out.extend(host_vec(v));
    }
    out
}

/// `module` with its float parameters replaced, in visiting order, by consecutive slices of
/// `params` (the inverse of [`read_params`]); each keeps its id and whether it requires a
/// gradient.
///
/// # Shapes
/// - `params`: `[n]`, `n` the number of parameter elements
///
/// # Panics
/// If `params` holds fewer elements than the module's parameters.
pub fn write_params<B: AutodiffBackend, M: AutodiffModule<B>>(module: M, params: &[f32]) -> M {
    module.map(&mut HostAssign::<B> {
        params,
        offset: 0,
        _backend: std::marker::PhantomData,
    })
}

/// Replaces every float parameter by its slice of a host vector.
struct HostAssign<'a, B> {
    params: &'a [f32],
    offset: usize,
    _backend: std::marker::PhantomData<B>,
}

impl<B: AutodiffBackend> ModuleMapper<B> for HostAssign<'_, B> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, tensor, mapper) = param.consume();
        let shape = tensor.shape();
        let len = shape.num_elements();
        let values = self.params[self.offset..self.offset + len].to_vec();
        self.offset += len;
        let device = tensor.device();
        let inner =
            Tensor::<B::InnerBackend, D>::from_data(TensorData::new(values, shape), &device);
        let mut value = Tensor::<B, D>::from_inner(inner);
        if tensor.is_require_grad() {
            value = value.require_grad();
        }
        Param::from_mapped_value(id, value, mapper)
    }
}

fn grad_flat<B: AutodiffBackend>(
    grads: &mut GradientsParams,
    slot: &Slot,
) -> Tensor<B::InnerBackend, 1> {
    macro_rules! take {
        ($d:literal) => {
            grads
                .remove::<B::InnerBackend, $d>(slot.id)
                .map(|g| g.reshape([slot.len]))
        };
    }
    let grad = match slot.shape.len() {
        1 => take!(1),
        2 => take!(2),
        3 => take!(3),
        4 => take!(4),
        r => panic!("FlatAdam: parameters of rank {r} are not supported"),
    };
    grad.unwrap_or_else(|| panic!("FlatAdam: parameter {} has no gradient", slot.id))
}

fn adaptor_record<B: AutodiffBackend, const D: usize>(
    time: usize,
    m: Tensor<B::InnerBackend, 1>,
    v: Tensor<B::InnerBackend, 1>,
    shape: &[usize],
) -> AdaptorRecord<Adam, B> {
    let dims: [usize; D] = shape.to_vec().try_into().expect("parameter rank");
    AdaptorRecord::from_state::<D>(AdamState::new(AdaptiveMomentumState::new(
        time,
        m.reshape(dims),
        v.reshape(dims),
    )))
}

fn moments<B: AutodiffBackend, const D: usize>(
    entry: AdaptorRecord<Adam, B>,
) -> (
    usize,
    Tensor<B::InnerBackend, 1>,
    Tensor<B::InnerBackend, 1>,
) {
    let state: AdamState<B::InnerBackend, D> = entry.into_state::<D>();
    let m = state.momentum;
    let n = m.moment_1.shape().num_elements();
    (m.time, m.moment_1.reshape([n]), m.moment_2.reshape([n]))
}
