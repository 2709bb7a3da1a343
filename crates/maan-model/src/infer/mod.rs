//! Inference on whole videos: per-stream CAS and video-level probabilities and the 0.5 / 0.5
//! two-stream fusion of the paper's section 3.1 ([`run_videos_with`]), in the batches
//! [`Batching`] plans. Localizing and writing the outputs is [`crate::predict`]'s.
//!
//! **Shape-stable inference.** Every snippet of a video goes through the model (the paper's
//! test procedure). CPU backends run each video alone at its exact length
//! ([`Batching::exact`]: padding only costs there). GPU backends (`cuda`, `wgpu`) compile and
//! autotune kernels per new tensor shape, so a test set of 210 distinct lengths would meet 210
//! input shapes. For them [`run_videos`] uses *chunks* (the default [`Batching`]): everything
//! heavy at inference is per snippet — the attention module and the classifier — so the
//! snippets of all videos of a stream are stacked and run through
//! [`StreamModel::snippet_scores`] in chunks of a fixed number of rows
//! (`min(Batching::chunk, total.next_power_of_two())`, 8,192 by default: **one input shape
//! per stream and run**, whatever the number and lengths of the videos; zero rows pad the last
//! chunk, so the padding is under one chunk in all), and the rest is done per video on the
//! host from the attention `p_t` `[T]` and the logits `z_t = W x_t + b` `[T, C]` read back:
//! the aggregator's weights `w = Aggregator::inference_weights(p)` (MAA's closed form in
//! `f64`), the video-level logits `Σ_t w_t (z_t − b) + b` (the classifier is linear, so this
//! is `W (Σ_t w_t x_t) + b`) and the CAS `σ(z_t) · p_t` (or `· w_t`, as
//! [`StreamModel::predict`]). A test checks that this gives each video what it gets alone, to
//! float rounding, for every aggregator and with the background class.
//!
//! The earlier mode, *buckets* ([`Batching::buckets`], `maan bench infer --batching
//! buckets`), keeps whole videos on the device: it pads each video to a bucket length
//! ([`Batching::bucket_len`]: the next power of two, at least [`Batching::min_bucket`]) and
//! stacks videos of one bucket into a batch of at most [`Batching::max_snippets`] snippets,
//! padding the batch dimension of the last batch of a bucket up to a power of two with copies
//! of a real video (whose outputs are discarded). The padded snippets are masked. It creates
//! at most two shapes per bucket (the 210 THUMOS14 test videos fall in 7 buckets, 14 shapes
//! per stream) and pads the THUMOS14-shaped test set's 69,417 snippets to 109,568 (1.58×),
//! which is what lavapipe's warm runs spent their time on.
//!
//! Fusion point (the paper only says "the combination ratio of two-stream modalities is set to
//! 0.5 and 0.5"): we fuse late, averaging both the CAS `s[t, c]` and the video-level
//! probabilities of the two streams with weights `w_rgb` and `1 - w_rgb` (default 0.5), then
//! localize once on the fused CAS.
//!
//! **Attention.** Each [`VideoOutput`] also carries the class-agnostic attention `p_t` `[T]`
//! (the attention module's output, MAAN's latent discriminative probability; STPN's `λ_t` for
//! the weighted-sum baseline), fused with the same weights as the CAS, for the attention
//! proposals of `maan_eval::localize` (the `oic` preset). A model whose aggregator ignores the
//! attention (`Aggregator::Mean`: its attention module is never trained) has none (`None`),
//! and its videos get CAS proposals only. Reading it back is one extra `[B, T]` tensor per
//! batch; the CAS and the video-level probabilities are computed exactly as before.

mod batching;

pub use batching::{Batching, PlannedBatch};

use std::sync::Arc;

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use dataset::Video;
use maan_eval::localize::fuse;
use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};
use crate::model::StreamModel;

/// Which stream a model reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StreamKind {
    /// I3D RGB features.
    Rgb,
    /// I3D optical-flow features.
    Flow,
}

impl StreamKind {
    /// `rgb` or `flow` (also the checkpoint file stem).
    pub fn name(&self) -> &'static str {
        match self {
            StreamKind::Rgb => "rgb",
            StreamKind::Flow => "flow",
        }
    }

    /// The features of this stream of a video, row-major `[len, dim]`, and `dim`; `None` for
    /// flow when the video has none.
    pub fn features<'a>(&self, video: &'a Video) -> Option<(&'a [f32], usize)> {
        match self {
            StreamKind::Rgb => Some((&video.rgb[..], video.rgb_dim)),
            StreamKind::Flow => video.flow.as_deref().map(|f| (f, video.flow_dim)),
        }
    }
}

/// Output of the (fused) model on one whole video, on the host.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoOutput {
    /// Video id.
    pub id: String,
    /// Number of snippets `T`.
    pub num_snippets: usize,
    /// Number of classes `C`.
    pub num_classes: usize,
    /// Fused CAS, row-major `[T, C]`.
    pub cas: Vec<f32>,
    /// Fused video-level class probabilities, `[C]`.
    pub video_probs: Vec<f32>,
    /// Fused class-agnostic attention `p_t`, `[T]` (see "Attention" in the module docs);
    /// `None` for a model whose aggregator ignores its attention.
    pub attention: Option<Vec<f32>>,
}

/// Reads a tensor back to the host as `f32`, or an error naming what was read.
fn read_back<B: Backend, const D: usize>(t: Tensor<B, D>, what: &str) -> Result<Vec<f32>> {
    t.into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .map_err(|e| ModelError::Eval(format!("reading back the {what}: {e:?}")))
}

/// Runs one stream on a whole video (batch 1, every snippet, its exact length) and returns
/// `(cas [T*C], video_probs [C])` on the host. [`run_videos`] batches videos into a fixed set
/// of shapes instead (see the module docs); this is the unbatched reference.
///
/// # Shapes
/// - `features`: row-major `[len, dim]`
pub fn predict_video<B: Backend>(
    model: &StreamModel<B>,
    features: &[f32],
    len: usize,
    dim: usize,
    device: &B::Device,
) -> Result<(Vec<f32>, Vec<f32>)> {
    let x = Tensor::<B, 3>::from_data(TensorData::new(features.to_vec(), [1, len, dim]), device);
    let pred = model.predict(x, None);
    Ok((
        read_back(pred.cas, "CAS")?,
        read_back(pred.video_probs, "video-level probabilities")?,
    ))
}

/// Whether some video of the batch is shorter than the batch's length (so needs a mask).
fn lengths_differ(feats: &[(&[f32], usize)], batch: &PlannedBatch) -> bool {
    batch.videos.iter().any(|v| feats[*v].1 != batch.len)
}

/// Whether a model's attention is trained (and so means something at test time): every
/// aggregator but `Mean`, which ignores it.
pub fn has_attention<B: Backend>(model: &StreamModel<B>) -> bool {
    model.aggregator != maa_core::Aggregator::Mean
}

/// One video's output of one stream: `(cas [len*C], probs [C], attention [len])`.
type StreamOut = (Vec<f32>, Vec<f32>, Option<Vec<f32>>);

/// Runs one stream on the videos `batch.videos` of `feats` (each `(features [len, dim], len)`)
/// as one padded batch and returns each real video's `(cas [len*C], probs [C], attention
/// [len])` (attention `None` when the model has none, [`has_attention`]).
fn predict_batch<B: Backend>(
    model: &StreamModel<B>,
    feats: &[(&[f32], usize)],
    dim: usize,
    batch: &PlannedBatch,
    device: &B::Device,
) -> Result<Vec<StreamOut>> {
    let (t, b) = (batch.len, batch.size);
    let mut x = vec![0.0f32; b * t * dim];
    let mut mask = vec![false; b * t];
    for row in 0..b {
        // Rows past the real videos repeat the first one (outputs discarded), so that no row
        // is all padding.
        let v = batch.videos.get(row).unwrap_or(&batch.videos[0]);
        let (f, len) = feats[*v];
        x[row * t * dim..row * t * dim + len * dim].copy_from_slice(&f[..len * dim]);
        mask[row * t..row * t + len]
            .iter_mut()
            .for_each(|m| *m = true);
    }
    let x = Tensor::<B, 3>::from_data(TensorData::new(x, [b, t, dim]), device);
    // Unpadded batches (exact lengths) need no mask.
    let mask = lengths_differ(feats, batch).then(|| {
        Tensor::<B, 2, burn::tensor::Bool>::from_data(TensorData::new(mask, [b, t]), device)
    });
    let pred = model.predict(x, mask);
    let cas = read_back(pred.cas, "CAS")?;
    let probs = read_back(pred.video_probs, "video-level probabilities")?;
    let attention = if has_attention(model) {
        Some(read_back(pred.attention, "attention")?)
    } else {
        None
    };
    let c = probs.len() / b;
    Ok(batch
        .videos
        .iter()
        .enumerate()
        .map(|(row, v)| {
            let len = feats[*v].1;
            (
                cas[row * t * c..(row * t + len) * c].to_vec(),
                probs[row * c..(row + 1) * c].to_vec(),
                attention
                    .as_ref()
                    .map(|a| a[row * t..row * t + len].to_vec()),
            )
        })
        .collect())
}

/// Runs one stream on every video of `feats` (each `(features [len, dim], len)`) in the
/// chunked mode ([`Batching::chunk`]): the attention and the classifier's logits of all
/// snippets on the device in fixed `[rows, dim]` chunks, then per video on the host the
/// aggregator's weights, the video-level probabilities and the CAS, as
/// [`StreamModel::predict`] computes them (to float rounding; the weights in `f64`).
fn predict_chunked<B: Backend>(
    model: &StreamModel<B>,
    feats: &[(&[f32], usize)],
    dim: usize,
    chunk: usize,
    device: &B::Device,
) -> Result<Vec<StreamOut>> {
    let total: usize = feats.iter().map(|f| f.1).sum();
    if total == 0 {
        return Ok(Vec::new());
    }
    let rows = chunk.min(total.next_power_of_two()).max(1);
    let mut p_all: Vec<f32> = Vec::with_capacity(total);
    let mut z_all: Vec<f32> = Vec::new();
    let mut buf = vec![0.0f32; rows * dim];
    let mut filled = 0usize;
    let mut flush = |buf: &mut Vec<f32>, filled: usize| -> Result<()> {
        buf[filled * dim..].iter_mut().for_each(|x| *x = 0.0);
        let x = Tensor::<B, 2>::from_data(TensorData::new(buf.clone(), [rows, dim]), device);
        let (p, z) = model.snippet_scores(x);
        let p = read_back(p, "attention")?;
        let z = read_back(z, "snippet logits")?;
        let outputs = z.len() / rows;
        p_all.extend_from_slice(&p[..filled]);
        z_all.extend_from_slice(&z[..filled * outputs]);
        Ok(())
    };
    for &(f, len) in feats {
        let mut t = 0;
        while t < len {
            let n = (len - t).min(rows - filled);
            buf[filled * dim..(filled + n) * dim].copy_from_slice(&f[t * dim..(t + n) * dim]);
            filled += n;
            t += n;
            if filled == rows {
                flush(&mut buf, filled)?;
                filled = 0;
            }
        }
    }
    if filled > 0 {
        flush(&mut buf, filled)?;
    }
    let outputs = z_all.len() / total;
    let classes = model.num_classes();
    let bias: Vec<f64> = match &model.classifier.bias {
        Some(b) => read_back(b.val(), "classifier bias")?
            .into_iter()
            .map(f64::from)
            .collect(),
        None => vec![0.0; outputs],
    };
    let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
    let by_attention = model.uses_attention_for_cas();
    let attention = has_attention(model);
    let mut out = Vec::with_capacity(feats.len());
    let mut start = 0;
    for &(_, len) in feats {
        let p = &p_all[start..start + len];
        let z = &z_all[start * outputs..(start + len) * outputs];
        let w = model.aggregator.inference_weights(p);
        let probs: Vec<f32> = (0..classes)
            .map(|c| {
                let s: f64 = (0..len)
                    .map(|t| w[t] as f64 * (z[t * outputs + c] as f64 - bias[c]))
                    .sum();
                sigmoid(s + bias[c]) as f32
            })
            .collect();
        let mut cas = Vec::with_capacity(len * classes);
        for t in 0..len {
            let weight = if by_attention { p[t] } else { w[t] } as f64;
            for c in 0..classes {
                cas.push((sigmoid(z[t * outputs + c] as f64) * weight) as f32);
            }
        }
        out.push((cas, probs, attention.then(|| p.to_vec())));
        start += len;
    }
    Ok(out)
}

/// Runs the given streams on every video in shape-stable padded batches (the default
/// [`Batching`], for GPU backends; see the module docs) and fuses them: weight `rgb_weight` for RGB and
/// `1 - rgb_weight` for flow when both are present, the single stream otherwise.
///
/// Videos without flow features get the RGB output alone (when an RGB model is given).
pub fn run_videos<B: Backend>(
    models: &[(StreamKind, &StreamModel<B>)],
    videos: &[Arc<Video>],
    rgb_weight: f64,
    device: &B::Device,
) -> Result<Vec<VideoOutput>> {
    run_videos_with(models, videos, rgb_weight, &Batching::default(), device)
}

/// One stream's output on one video: `(stream, cas [T*C], video_probs [C], attention [T])`.
type StreamPart = (StreamKind, Vec<f32>, Vec<f32>, Option<Vec<f32>>);

/// [`run_videos`] with explicit batching.
pub fn run_videos_with<B: Backend>(
    models: &[(StreamKind, &StreamModel<B>)],
    videos: &[Arc<Video>],
    rgb_weight: f64,
    batching: &Batching,
    device: &B::Device,
) -> Result<Vec<VideoOutput>> {
    // Per video, per stream: (kind, cas, probs).
    let mut per_video: Vec<Vec<StreamPart>> = vec![Vec::new(); videos.len()];
    for (kind, model) in models {
        let want = model.attention_fc1.weight.dims()[0];
        let mut idx = Vec::new();
        let mut feats: Vec<(&[f32], usize)> = Vec::new();
        for (i, video) in videos.iter().enumerate() {
            if let Some((f, dim)) = kind.features(video) {
                if dim != want {
                    return Err(ModelError::Config(format!(
                        "video {}: {} features have dimension {dim}, the model expects {want}",
                        video.id,
                        kind.name()
                    )));
                }
                if video.len == 0 || f.len() < video.len * dim {
                    return Err(ModelError::Config(format!(
                        "video {}: {} features hold {} values, fewer than {} snippets x {dim}",
                        video.id,
                        kind.name(),
                        f.len(),
                        video.len
                    )));
                }
                idx.push(i);
                feats.push((f, video.len));
            }
        }
        if batching.is_chunked() {
            let results = predict_chunked(*model, &feats, want, batching.chunk, device)?;
            for (v, (cas, probs, attention)) in results.into_iter().enumerate() {
                per_video[idx[v]].push((*kind, cas, probs, attention));
            }
            continue;
        }
        let lengths: Vec<usize> = feats.iter().map(|f| f.1).collect();
        for batch in batching.plan(&lengths) {
            let results = predict_batch(*model, &feats, want, &batch, device)?;
            for (v, (cas, probs, attention)) in batch.videos.iter().zip(results) {
                per_video[idx[*v]].push((*kind, cas, probs, attention));
            }
        }
    }
    let mut out = Vec::with_capacity(videos.len());
    for (video, mut parts) in videos.iter().zip(per_video) {
        if parts.is_empty() {
            return Err(ModelError::Config(format!(
                "video {} has none of the features the model reads",
                video.id
            )));
        }
        let num_classes = parts[0].2.len();
        let (cas, probs, attention) = if parts.len() == 2 {
            let w = |k: StreamKind| {
                if k == StreamKind::Rgb {
                    rgb_weight
                } else {
                    1.0 - rgb_weight
                }
            };
            let (w0, w1) = (w(parts[0].0) as f32, w(parts[1].0) as f32);
            // The attention with the CAS's weights; a stream without one leaves none.
            let attention = match (&parts[0].3, &parts[1].3) {
                (Some(a), Some(b)) => Some(fuse(a, b, w0, w1)),
                _ => None,
            };
            (
                fuse(&parts[0].1, &parts[1].1, w0, w1),
                fuse(&parts[0].2, &parts[1].2, w0, w1),
                attention,
            )
        } else {
            let (_, cas, probs, attention) = parts.pop().expect("one part");
            (cas, probs, attention)
        };
        out.push(VideoOutput {
            id: video.id.clone(),
            num_snippets: video.len,
            num_classes,
            cas,
            video_probs: probs,
            attention,
        });
    }
    Ok(out)
}
