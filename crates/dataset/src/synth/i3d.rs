//! The I3D-like signal model of the synthetic benchmark (see the crate docs, "The synthetic
//! benchmark", for the properties it has and why).
//!
//! Per stream, a latent `z_t ∈ R^dim` is built from a fixed per-dimension bias, the video's
//! scene, the current shot, slowly varying noise, class context, instance evidence and
//! background motion; the feature is `x_t = softplus(β z_t) / β`, non-negative as the average of
//! ReLU outputs that an I3D feature is.

use rand::rngs::StdRng;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

use super::{unit, Plan};

/// How strongly a stream carries appearance (scene, shots, class context) and motion
/// (actionness of actions and of background motion). RGB I3D features are mostly appearance,
/// flow features mostly motion.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamMix {
    /// Multiplies the scene, shot and class-context amplitudes.
    pub appearance: f32,
    /// Multiplies the actionness amplitudes (of instances and of background motion).
    pub motion: f32,
}

/// Parameters of the I3D-like model. Amplitudes are norms of the added vectors in the latent
/// space, in which the background noise has standard deviation `noise_std` per coordinate.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct I3dParams {
    /// Mean of the fixed per-dimension latent bias (negative: many coordinates are small after
    /// the softplus, as in I3D features).
    pub bias_mean: f32,
    /// Standard deviation of the per-dimension bias across dimensions.
    pub bias_std: f32,
    /// Sharpness `β` of the output non-linearity `x = softplus(β z) / β`: a smooth ReLU, near
    /// zero where a unit is off and linear where it is on (larger: closer to a ReLU).
    pub sharpness: f32,
    /// Magnitude of the features: the output is `scale · softplus(β z) / β`. Models whose
    /// video feature is a weighted *sum* (STPN, Dropout) train differently at different
    /// magnitudes under Adam, whose step does not depend on the gradient's scale; the crate
    /// docs ("Feature magnitude") give the default's reasons. Datasets made before this
    /// parameter existed have 1.
    #[serde(default = "unit_scale")]
    pub scale: f32,
    /// Norm of the per-video scene vector (constant over the video).
    pub scene: f32,
    /// Norm of the per-shot appearance change (new at every shot cut).
    pub shot: f32,
    /// Mean shot length in snippets (shot cuts are a Bernoulli process with rate 1 / this).
    pub mean_shot_len: f64,
    /// Standard deviation per coordinate of the background noise.
    pub noise_std: f32,
    /// Correlation of the noise between consecutive snippets of one shot (AR(1)); a shot cut
    /// starts it afresh.
    pub noise_correlation: f32,
    /// Norm of the class-context vector (the class's scene: the venue, the equipment) in a
    /// video containing the class: on every instance snippet, and outside the instances on
    /// the shots that show it (`context_shots`).
    pub context: f32,
    /// Fraction of the shots outside the instances that show the class context; the others
    /// are plain background. 1 (the default, and the behaviour before this parameter): every
    /// snippet of the video. Drawn per shot, shared by both streams.
    #[serde(default = "all_shots")]
    pub context_shots: f64,
    /// Peak norm of the most discriminative part's class pattern `m_c` (a smooth bump).
    pub peak: f32,
    /// Norm of the remainder's pattern over the whole instance (with smooth onset and offset).
    pub rest: f32,
    /// Width of the most discriminative part, as a fraction of the instance (the bump's
    /// full width at half maximum).
    pub peak_fraction: f64,
    /// How class-specific the remainder is: its pattern is `s · r_c + sqrt(1 − s²) · a`,
    /// `r_c` a class pattern and `a` the class-agnostic actionness (1: fully class-specific;
    /// 0: no class information outside the most discriminative part).
    pub rest_specificity: f32,
    /// Norm of the class-agnostic actionness `a` on every instance snippet.
    pub actionness: f32,
    /// Onset and offset ramps of an instance, as a fraction of its length on each side.
    pub ramp_fraction: f64,
    /// Number of background-motion patterns.
    pub num_distractors: usize,
    /// Background-motion events per 100 snippets.
    pub distractor_rate: f64,
    /// Shortest and longest background-motion event, in snippets.
    pub distractor_len: (usize, usize),
    /// Norm of a background-motion pattern on its events.
    pub distractor: f32,
    /// Norm of the actionness `a` on background-motion events (what a class-agnostic attention
    /// mistakes for action).
    pub distractor_actionness: f32,
    /// Per-instance and per-event relative jitter of the amplitudes (standard deviation).
    pub amplitude_jitter: f32,
    /// RGB stream.
    pub rgb: StreamMix,
    /// Flow stream.
    pub flow: StreamMix,
}

fn unit_scale() -> f32 {
    1.0
}

fn all_shots() -> f64 {
    1.0
}

impl Default for I3dParams {
    /// The `realistic` regime.
    fn default() -> Self {
        I3dParams {
            bias_mean: -0.5,
            bias_std: 0.5,
            sharpness: 3.0,
            scale: 10.0,
            scene: 1.0,
            shot: 0.5,
            mean_shot_len: 10.0,
            noise_std: 0.5,
            noise_correlation: 0.9,
            context: 1.0,
            context_shots: 1.0,
            peak: 4.5,
            rest: 1.5,
            peak_fraction: 0.25,
            rest_specificity: 0.6,
            actionness: 1.5,
            ramp_fraction: 0.15,
            num_distractors: 4,
            distractor_rate: 2.0,
            distractor_len: (3, 15),
            distractor: 2.0,
            distractor_actionness: 1.8,
            amplitude_jitter: 0.2,
            rgb: StreamMix {
                appearance: 1.0,
                motion: 0.6,
            },
            flow: StreamMix {
                appearance: 0.4,
                motion: 1.0,
            },
        }
    }
}

impl I3dParams {
    /// These parameters with the most discriminative part `dominance` times as strong as the
    /// remainder (`peak = dominance · rest`).
    pub fn with_dominance(self, dominance: f32) -> Self {
        I3dParams {
            peak: dominance * self.rest,
            ..self
        }
    }

    /// Checks ranges; the message names the parameter.
    pub fn validate(&self) -> Result<(), String> {
        let finite = [
            self.bias_mean,
            self.bias_std,
            self.scene,
            self.shot,
            self.noise_std,
            self.context,
            self.peak,
            self.rest,
            self.actionness,
            self.distractor,
            self.distractor_actionness,
            self.amplitude_jitter,
        ];
        if finite.iter().any(|v| !v.is_finite()) {
            return Err("every amplitude must be finite".into());
        }
        if !(self.scale.is_finite() && self.scale > 0.0) {
            return Err(format!(
                "the feature scale must be positive, got {}",
                self.scale
            ));
        }
        if !(self.sharpness.is_finite() && self.sharpness > 0.0) {
            return Err(format!(
                "the sharpness must be positive, got {}",
                self.sharpness
            ));
        }
        if !(0.0..1.0).contains(&self.noise_correlation) {
            return Err(format!(
                "the noise correlation must be in [0, 1), got {}",
                self.noise_correlation
            ));
        }
        if !(0.0..=1.0).contains(&self.rest_specificity) {
            return Err(format!(
                "the remainder's specificity must be in [0, 1], got {}",
                self.rest_specificity
            ));
        }
        if self.mean_shot_len.is_nan() || self.mean_shot_len < 1.0 {
            return Err(format!(
                "the mean shot length must be at least 1 snippet, got {}",
                self.mean_shot_len
            ));
        }
        if !(self.peak_fraction > 0.0 && self.peak_fraction <= 1.0) {
            return Err(format!(
                "the most discriminative part's fraction must be in (0, 1], got {}",
                self.peak_fraction
            ));
        }
        if !(0.0..=1.0).contains(&self.context_shots) {
            return Err(format!(
                "the fraction of context shots must be in [0, 1], got {}",
                self.context_shots
            ));
        }
        if !(0.0..=0.5).contains(&self.ramp_fraction) {
            return Err(format!(
                "the ramp fraction must be in [0, 0.5], got {}",
                self.ramp_fraction
            ));
        }
        Ok(())
    }
}

/// The fixed patterns of one stream (unit vectors unless said).
pub(super) struct I3dPatterns {
    /// Per-dimension latent bias (not unit).
    pub bias: Vec<f32>,
    /// Most discriminative part of class `c`.
    pub peak: Vec<Vec<f32>>,
    /// The remainder of class `c` (already mixed with the actionness by the specificity).
    pub rest: Vec<Vec<f32>>,
    /// Class context.
    pub context: Vec<Vec<f32>>,
    /// Class-agnostic actionness.
    pub actionness: Vec<f32>,
    /// Background-motion patterns.
    pub distractors: Vec<Vec<f32>>,
}

impl I3dPatterns {
    pub fn new(rng: &mut StdRng, classes: usize, dim: usize, p: &I3dParams) -> Self {
        let bias = (0..dim)
            .map(|_| p.bias_mean + p.bias_std * Distribution::<f32>::sample(&StandardNormal, rng))
            .collect();
        let peak: Vec<Vec<f32>> = (0..classes).map(|_| unit(rng, dim)).collect();
        let actionness = unit(rng, dim);
        let s = p.rest_specificity.clamp(0.0, 1.0);
        let rest = (0..classes)
            .map(|_| {
                let r = unit(rng, dim);
                let v: Vec<f32> = r
                    .iter()
                    .zip(&actionness)
                    .map(|(r, a)| s * r + (1.0 - s * s).sqrt() * a)
                    .collect();
                normalized(v)
            })
            .collect();
        I3dPatterns {
            bias,
            peak,
            rest,
            context: (0..classes).map(|_| unit(rng, dim)).collect(),
            actionness,
            distractors: (0..p.num_distractors).map(|_| unit(rng, dim)).collect(),
        }
    }
}

fn normalized(v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
    v.into_iter().map(|x| x / n).collect()
}

/// Where the generator put things in one video (shared by its two streams; the tests read it),
/// in snippets.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct VideoLayout {
    /// Snippets at which a new shot starts (0 excluded).
    pub cuts: Vec<usize>,
    /// Per instance: class, `[first, last)` snippets, and the centre of its most
    /// discriminative part.
    pub instances: Vec<(usize, usize, usize, f64)>,
    /// Background-motion events: `[first, last)` and the pattern shown.
    pub events: Vec<(usize, usize, usize)>,
    /// Per snippet, whether the class context is shown outside the instances; empty when
    /// every snippet shows it (`context_shots` = 1).
    pub context: Vec<bool>,
}

/// What a snippet of a generated video shows, for diagnosing what a model attends to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SnippetRole {
    /// Inside an instance, within the full width at half maximum of its most discriminative
    /// part.
    Core,
    /// Inside an instance, outside its most discriminative part.
    Flank,
    /// Outside the instances, on a shot showing the class context.
    Context,
    /// Outside the instances, without the class context.
    Background,
}

impl SnippetRole {
    /// Every role, in table order.
    pub const ALL: [SnippetRole; 4] = [
        SnippetRole::Core,
        SnippetRole::Flank,
        SnippetRole::Context,
        SnippetRole::Background,
    ];

    /// The role's name in tables.
    pub fn name(self) -> &'static str {
        match self {
            SnippetRole::Core => "core",
            SnippetRole::Flank => "flank",
            SnippetRole::Context => "context",
            SnippetRole::Background => "background",
        }
    }
}

impl VideoLayout {
    /// The role of each of the video's `len` snippets (a later instance wins where two
    /// overlap; a core wins over a flank).
    pub fn roles(&self, len: usize, p: &I3dParams) -> Vec<SnippetRole> {
        let mut roles: Vec<SnippetRole> = (0..len)
            .map(|t| {
                if self.context.is_empty() || self.context[t] {
                    SnippetRole::Context
                } else {
                    SnippetRole::Background
                }
            })
            .collect();
        for &(_, first, last, centre) in &self.instances {
            let half = p.peak_fraction * (last - first) as f64 / 2.0;
            for (t, role) in roles.iter_mut().enumerate().take(last).skip(first) {
                let core = (t as f64 + 0.5 - centre).abs() <= half;
                if core {
                    *role = SnippetRole::Core;
                } else if *role != SnippetRole::Core {
                    *role = SnippetRole::Flank;
                }
            }
        }
        roles
    }
}

/// Draws the structure of a video (shots, instance snippets and their most discriminative
/// part, background-motion events) once, so that both streams share it.
pub(super) fn layout(plan: &Plan, spf: f64, p: &I3dParams, rng: &mut StdRng) -> VideoLayout {
    let len = plan.len;
    let mut out = VideoLayout::default();
    let rate = 1.0 / p.mean_shot_len.max(1.0);
    for t in 1..len {
        if rng.random::<f64>() < rate {
            out.cuts.push(t);
        }
    }
    for &(c, s, e) in &plan.segments {
        if e <= s || s / spf >= len as f64 {
            continue;
        }
        let first = ((s / spf).floor() as usize).min(len - 1);
        let last = (((e / spf).ceil() as usize).max(first + 1)).min(len);
        let n = (last - first) as f64;
        // The most discriminative part lies inside the instance, anywhere but its ramps.
        let half = (p.peak_fraction * n / 2.0).min(n / 2.0);
        let centre = first as f64 + half + rng.random::<f64>() * (n - 2.0 * half).max(0.0);
        out.instances.push((c, first, last, centre));
    }
    if p.num_distractors > 0 && p.distractor_rate > 0.0 {
        let expected = p.distractor_rate * len as f64 / 100.0;
        let events =
            expected.floor() as usize + usize::from(rng.random::<f64>() < expected.fract());
        let lo = p.distractor_len.0.max(1);
        let hi = p.distractor_len.1.max(lo);
        for _ in 0..events {
            let l = rng.random_range(lo..=hi).min(len);
            let start = rng.random_range(0..=len - l);
            let pattern = rng.random_range(0..p.num_distractors);
            out.events.push((start, start + l, pattern));
        }
    }
    if p.context_shots < 1.0 {
        // One draw per shot (drawn only here, so that data made with every shot showing the
        // context keeps its bytes).
        let mut show = rng.random::<f64>() < p.context_shots;
        let mut cuts = out.cuts.iter().peekable();
        out.context = (0..len)
            .map(|t| {
                if cuts.peek() == Some(&&t) {
                    cuts.next();
                    show = rng.random::<f64>() < p.context_shots;
                }
                show
            })
            .collect();
        for &(_, first, last, _) in &out.instances {
            out.context[first..last].iter_mut().for_each(|c| *c = true);
        }
    }
    out
}

/// Trapezoid envelope of `[first, last)` at snippet `t`: ramps up over the first
/// `ramp_fraction` of the instance, down over the last, 1 in between (at least one snippet
/// long ramps; a one-snippet instance is 1).
fn envelope(t: usize, first: usize, last: usize, ramp_fraction: f64) -> f32 {
    let n = (last - first) as f64;
    let r = (ramp_fraction * n).max(1.0);
    let x = t as f64 - first as f64 + 0.5;
    let up = (x / r).min(1.0);
    let down = ((n - x) / r).min(1.0);
    up.min(down).clamp(0.0, 1.0) as f32
}

/// One stream of one video, row-major `[len, dim]`, non-negative.
pub(super) fn stream(
    plan: &Plan,
    lay: &VideoLayout,
    pat: &I3dPatterns,
    p: &I3dParams,
    mix: &StreamMix,
    dim: usize,
    rng: &mut StdRng,
) -> Vec<f32> {
    let len = plan.len;
    let gauss = |rng: &mut StdRng| Distribution::<f32>::sample(&StandardNormal, rng);
    let jitter = |rng: &mut StdRng| (1.0 + p.amplitude_jitter * gauss(rng)).max(0.0);
    let mut z = vec![0.0f32; len * dim];
    let add = |z: &mut [f32], t: usize, v: &[f32], a: f32| {
        for (zi, vi) in z[t * dim..(t + 1) * dim].iter_mut().zip(v) {
            *zi += a * vi;
        }
    };
    // Bias, scene, shots and noise: AR(1) within a shot, restarted at each cut.
    let scene = unit(rng, dim);
    let phi = p.noise_correlation.clamp(0.0, 0.999);
    let innovation = (1.0 - phi * phi).sqrt();
    let mut shot = unit(rng, dim);
    let mut noise: Vec<f32> = (0..dim).map(|_| p.noise_std * gauss(rng)).collect();
    let mut cuts = lay.cuts.iter().peekable();
    for t in 0..len {
        if cuts.peek() == Some(&&t) {
            cuts.next();
            shot = unit(rng, dim);
            noise.iter_mut().for_each(|n| *n = p.noise_std * gauss(rng));
        } else if t > 0 {
            noise
                .iter_mut()
                .for_each(|n| *n = phi * *n + innovation * p.noise_std * gauss(rng));
        }
        let row = &mut z[t * dim..(t + 1) * dim];
        for k in 0..dim {
            row[k] =
                pat.bias[k] + mix.appearance * (p.scene * scene[k] + p.shot * shot[k]) + noise[k];
        }
    }
    // Class context over the whole video.
    let mut classes: Vec<usize> = lay.instances.iter().map(|i| i.0).collect();
    classes.sort_unstable();
    classes.dedup();
    for &c in &classes {
        let a = mix.appearance * p.context * jitter(rng);
        for t in 0..len {
            if lay.context.is_empty() || lay.context[t] {
                add(&mut z, t, &pat.context[c], a);
            }
        }
    }
    // Instances: smooth evidence, a most discriminative bump on a class-specific remainder.
    for &(c, first, last, centre) in &lay.instances {
        let n = (last - first) as f64;
        // Full width at half maximum = peak_fraction · n.
        let sigma = (p.peak_fraction * n / 2.3548).max(0.5);
        let (a_peak, a_rest, a_act) = (
            p.peak * jitter(rng),
            p.rest * jitter(rng),
            mix.motion * p.actionness * jitter(rng),
        );
        for t in first..last {
            let env = envelope(t, first, last, p.ramp_fraction);
            let d = (t as f64 + 0.5 - centre) / sigma;
            let bump = (-0.5 * d * d).exp() as f32;
            add(&mut z, t, &pat.peak[c], a_peak * bump);
            add(&mut z, t, &pat.rest[c], a_rest * env);
            add(&mut z, t, &pat.actionness, a_act * env);
        }
    }
    // Background motion: action-like, class-agnostic events.
    for &(first, last, j) in &lay.events {
        let (a_dis, a_act) = (
            p.distractor * jitter(rng),
            mix.motion * p.distractor_actionness * jitter(rng),
        );
        for t in first..last {
            let env = envelope(t, first, last, p.ramp_fraction);
            add(&mut z, t, &pat.distractors[j], a_dis * env);
            add(&mut z, t, &pat.actionness, a_act * env);
        }
    }
    let beta = p.sharpness.max(1e-3);
    let scale = p.scale;
    z.into_iter()
        .map(|v| scale * (softplus(beta * v) / beta))
        .collect()
}

/// `ln(1 + e^x)`, computed without overflow.
fn softplus(x: f32) -> f32 {
    if x > 20.0 {
        x
    } else {
        x.exp().ln_1p()
    }
}

#[cfg(test)]
mod tests {
    //! Each property the crate docs claim for the I3D-like features, measured on generated
    //! videos.
    use super::*;
    use crate::layout::Split;
    use rand::SeedableRng;

    const DIM: usize = 64;

    fn plan(len: usize, segments: Vec<(usize, f64, f64)>) -> Plan {
        Plan {
            id: "v".into(),
            split: Split::Train,
            subset: "validation",
            duration: len as f64 * 0.64,
            len,
            segments,
        }
    }

    /// Generates the rgb stream of `plan` under `p`, with the patterns and layout used.
    fn video(p: &I3dParams, plan: &Plan, seed: u64) -> (Vec<f32>, I3dPatterns, VideoLayout) {
        let mut rng = StdRng::seed_from_u64(seed);
        let pat = I3dPatterns::new(&mut rng, 4, DIM, p);
        let lay = layout(plan, 0.64, p, &mut rng);
        let x = stream(plan, &lay, &pat, p, &p.rgb, DIM, &mut rng);
        (x, pat, lay)
    }

    fn row(x: &[f32], t: usize) -> &[f32] {
        &x[t * DIM..(t + 1) * DIM]
    }

    fn dot(a: &[f32], b: &[f32]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (*x as f64) * (*y as f64))
            .sum()
    }

    fn mean_rows(x: &[f32], ts: impl Iterator<Item = usize>) -> Vec<f32> {
        let mut m = vec![0.0f64; DIM];
        let mut n = 0usize;
        for t in ts {
            for (mi, xi) in m.iter_mut().zip(row(x, t)) {
                *mi += *xi as f64;
            }
            n += 1;
        }
        m.into_iter()
            .map(|v| (v / n.max(1) as f64) as f32)
            .collect()
    }

    fn correlation(a: &[f32], b: &[f32]) -> f64 {
        dot(a, b) / (dot(a, a).sqrt() * dot(b, b).sqrt()).max(1e-12)
    }

    fn sub(a: &[f32], b: &[f32]) -> Vec<f32> {
        a.iter().zip(b).map(|(x, y)| x - y).collect()
    }

    /// Background only: no instances, no background motion.
    fn quiet() -> I3dParams {
        I3dParams {
            distractor_rate: 0.0,
            ..I3dParams::default()
        }
    }

    /// I3D features are averages of ReLU outputs: every generated value is >= 0, in every
    /// regime-like setting; many are near zero (units that are off) and some well above.
    #[test]
    fn features_are_non_negative() {
        let plan = plan(300, vec![(1, 30.0, 80.0), (2, 120.0, 130.0)]);
        for p in [
            I3dParams::default(),
            I3dParams {
                distractor_rate: 10.0,
                ..I3dParams::default()
            },
            I3dParams::default().with_dominance(10.0),
        ] {
            let (x, _, _) = video(&p, &plan, 3);
            assert!(x.iter().all(|v| *v >= 0.0 && v.is_finite()));
            // Near zero and active relative to the feature scale.
            let small = x.iter().filter(|v| **v < 0.1 * p.scale).count() as f64 / x.len() as f64;
            let large = x.iter().filter(|v| **v > 0.5 * p.scale).count() as f64 / x.len() as f64;
            assert!(small > 0.3, "fraction of near-zero values {small}");
            assert!(large > 0.05, "fraction of active values {large}");
        }
    }

    /// `scale` multiplies the features and changes nothing else: the same seed at scale 10
    /// gives ten times the features at scale 1 (to f32 rounding), so a dataset's magnitude
    /// can be varied on its own.
    #[test]
    fn scale_multiplies_the_features_and_nothing_else() {
        let plan = plan(200, vec![(1, 30.0, 80.0)]);
        let one = I3dParams {
            scale: 1.0,
            ..I3dParams::default()
        };
        let (x1, _, lay1) = video(&one, &plan, 5);
        let (x10, _, lay10) = video(&I3dParams { scale: 10.0, ..one }, &plan, 5);
        assert_eq!(lay1, lay10);
        for (a, b) in x1.iter().zip(&x10) {
            assert!(
                (10.0 * a - b).abs() <= 1e-5 * b.abs().max(1.0),
                "{a} vs {b}"
            );
        }
    }

    /// The default magnitude is the one the crate docs state ("Feature magnitude"): at the
    /// benchmark's dimension 64, the mean feature value is in [1, 2.5) and the mean snippet
    /// L2 norm in [15, 30).
    #[test]
    fn default_magnitude_is_the_documented_one() {
        let plan = plan(400, vec![(1, 30.0, 80.0), (2, 150.0, 170.0)]);
        let (x, _, _) = video(&I3dParams::default(), &plan, 9);
        let mean = x.iter().map(|v| *v as f64).sum::<f64>() / x.len() as f64;
        let norm = (0..plan.len)
            .map(|t| dot(row(&x, t), row(&x, t)).sqrt())
            .sum::<f64>()
            / plan.len as f64;
        assert!((1.0..2.5).contains(&mean), "mean value {mean}");
        assert!((15.0..30.0).contains(&norm), "mean snippet norm {norm}");
    }

    /// Consecutive snippets of one shot are similar (their deviations from the shot's mean
    /// are correlated as the noise correlation says); a shot cut breaks the similarity.
    #[test]
    fn snippets_of_a_shot_are_similar_and_cuts_break_it() {
        let plan = plan(2000, vec![]);
        let lag1 = |p: &I3dParams| {
            let (x, _, lay) = video(p, &plan, 11);
            let mut bounds = vec![0];
            bounds.extend(&lay.cuts);
            bounds.push(plan.len);
            let (mut within, mut n) = (0.0, 0);
            for w in bounds.windows(2) {
                let m = mean_rows(&x, w[0]..w[1]);
                for t in w[0] + 1..w[1] {
                    within += correlation(&sub(row(&x, t), &m), &sub(row(&x, t - 1), &m));
                    n += 1;
                }
            }
            let overall = mean_rows(&x, 0..plan.len);
            let across: Vec<f64> = lay
                .cuts
                .iter()
                .map(|&t| correlation(&sub(row(&x, t), &overall), &sub(row(&x, t - 1), &overall)))
                .collect();
            let within_all: Vec<f64> = (1..plan.len)
                .filter(|t| !lay.cuts.contains(t))
                .map(|t| correlation(&sub(row(&x, t), &overall), &sub(row(&x, t - 1), &overall)))
                .collect();
            (
                within / n as f64,
                across.iter().sum::<f64>() / across.len().max(1) as f64,
                within_all.iter().sum::<f64>() / within_all.len() as f64,
            )
        };
        let smooth = quiet();
        let (within, across, within_all) = lag1(&smooth);
        assert!(within > 0.6, "lag-1 correlation inside shots {within}");
        assert!(
            across < within_all - 0.3,
            "across cuts {across} vs within {within_all}"
        );
        let (rough, _, _) = lag1(&I3dParams {
            noise_correlation: 0.0,
            ..quiet()
        });
        assert!(rough.abs() < 0.15, "independent noise: lag-1 {rough}");
    }

    /// Each video has its own appearance: the two halves of one video look more alike than
    /// halves of different videos.
    #[test]
    fn videos_have_their_own_appearance() {
        let p = quiet();
        let plan = plan(200, vec![]);
        let halves: Vec<(Vec<f32>, Vec<f32>)> = (0..8)
            .map(|seed| {
                // Same patterns (a dataset), different videos.
                let mut rng = StdRng::seed_from_u64(1);
                let pat = I3dPatterns::new(&mut rng, 4, DIM, &p);
                let mut rng = StdRng::seed_from_u64(100 + seed);
                let lay = layout(&plan, 0.64, &p, &mut rng);
                let x = stream(&plan, &lay, &pat, &p, &p.rgb, DIM, &mut rng);
                (mean_rows(&x, 0..100), mean_rows(&x, 100..200))
            })
            .collect();
        let all: Vec<f32> = {
            let n = halves.len() as f32 * 2.0;
            (0..DIM)
                .map(|k| halves.iter().map(|(a, b)| a[k] + b[k]).sum::<f32>() / n)
                .collect()
        };
        let (mut same, mut other, mut n_other) = (0.0, 0.0, 0);
        for (i, (a, b)) in halves.iter().enumerate() {
            same += correlation(&sub(a, &all), &sub(b, &all));
            for (j, (c, _)) in halves.iter().enumerate() {
                if i != j {
                    other += correlation(&sub(a, &all), &sub(c, &all));
                    n_other += 1;
                }
            }
        }
        let (same, other) = (same / halves.len() as f64, other / n_other as f64);
        assert!(same > 0.25, "same video {same}");
        assert!(
            other < same - 0.25,
            "different videos {other} vs same {same}"
        );
    }

    /// Per-snippet evidence for a class pattern: the projection of the snippet's deviation
    /// from the video's background on the pattern.
    fn evidence(x: &[f32], background: &[f32], t: usize, pattern: &[f32]) -> f64 {
        dot(&sub(row(x, t), background), pattern)
    }

    /// Instance evidence varies smoothly, peaks on the most discriminative part (by about
    /// the dominance), and the rest of the instance still carries class-specific evidence
    /// exactly as far as the specificity says.
    #[test]
    fn instances_have_a_dominant_part_and_a_class_specific_rest() {
        let plan = plan(400, vec![(2, 64.0, 128.0)]); // snippets 100..200
        let measure = |p: &I3dParams| {
            let (x, pat, lay) = video(p, &plan, 5);
            // In units of the unscaled output, so that the thresholds hold at any scale.
            let x: Vec<f32> = x.iter().map(|v| v / p.scale).collect();
            let (_, first, last, centre) = lay.instances[0];
            let bg = mean_rows(&x, (0..plan.len).filter(|t| *t < first || *t >= last));
            let peak: Vec<f64> = (first..last)
                .map(|t| evidence(&x, &bg, t, &pat.peak[2]))
                .collect();
            let half = p.peak_fraction * (last - first) as f64 / 2.0;
            let far: Vec<usize> = (first..last)
                .filter(|t| (*t as f64 + 0.5 - centre).abs() > 2.0 * half)
                .filter(|t| *t >= first + 10 && *t + 10 < last)
                .collect();
            let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
            let top = peak.iter().cloned().fold(f64::MIN, f64::max);
            let far_peak = mean(&far.iter().map(|t| peak[t - first]).collect::<Vec<_>>());
            let own = mean(
                &far.iter()
                    .map(|&t| evidence(&x, &bg, t, &pat.rest[2]))
                    .collect::<Vec<_>>(),
            );
            let other = mean(
                &far.iter()
                    .map(|&t| evidence(&x, &bg, t, &pat.rest[0]))
                    .collect::<Vec<_>>(),
            );
            let smooth = {
                let m = mean(&peak);
                let c: Vec<f64> = peak.iter().map(|v| v - m).collect();
                let num: f64 = c.windows(2).map(|w| w[0] * w[1]).sum();
                num / c.iter().map(|v| v * v).sum::<f64>()
            };
            (top, far_peak, own, other, smooth)
        };
        let specific = I3dParams {
            rest_specificity: 1.0,
            ..quiet()
        };
        let (top, far_peak, own, other, smooth) = measure(&specific);
        assert!(top > 2.0 * own, "peak {top} vs rest {own}");
        assert!(
            far_peak.abs() < 0.3 * top,
            "peak pattern away from the peak {far_peak}"
        );
        assert!(own > 0.3 && own > other + 0.3, "own {own} other {other}");
        assert!(smooth > 0.7, "lag-1 correlation of the evidence {smooth}");
        // No class information in the rest: its evidence is the same for every class.
        let (_, _, own, other, _) = measure(&I3dParams {
            rest_specificity: 0.0,
            ..quiet()
        });
        assert!((own - other).abs() < 0.1, "own {own} other {other}");
        // Uniform instances: no peak above the rest.
        let (top, _, own, _, _) = measure(&I3dParams {
            peak: 0.0,
            ..specific
        });
        assert!(top < own + 0.6, "uniform: peak {top} rest {own}");
    }

    /// Background motion raises the class-agnostic actionness about as much as an action
    /// does, away from any instance: what a class-agnostic attention mistakes for action.
    #[test]
    fn background_motion_looks_like_action_to_actionness() {
        let p = I3dParams {
            distractor_rate: 3.0,
            distractor_len: (10, 20),
            ..I3dParams::default()
        };
        let plan = plan(1500, vec![(1, 64.0, 96.0), (3, 640.0, 672.0)]);
        let (x, pat, lay) = video(&p, &plan, 9);
        let mut kind = vec![0u8; plan.len]; // 0 background, 1 action, 2 background motion
        for &(_, a, b, _) in &lay.instances {
            kind[a..b].iter_mut().for_each(|k| *k = 1);
        }
        for &(a, b, _) in &lay.events {
            kind[a..b].iter_mut().for_each(|k| {
                if *k == 0 {
                    *k = 2
                }
            });
        }
        assert!(kind.contains(&2), "no background-motion event drawn");
        let bg = mean_rows(&x, (0..plan.len).filter(|t| kind[*t] == 0));
        let level = |k: u8| {
            let v: Vec<f64> = (0..plan.len)
                .filter(|t| kind[*t] == k)
                .map(|t| evidence(&x, &bg, t, &pat.actionness))
                .collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        let (action, motion) = (level(1), level(2));
        assert!(action > 0.3, "action actionness {action}");
        assert!(
            motion > 0.4 * action,
            "background motion {motion} vs action {action}"
        );
    }
}
