//! Inference on whole videos: per-stream CAS and video-level probabilities, the 0.5 / 0.5
//! two-stream fusion of the paper's section 3.1, localization with `maan-eval`, and the
//! ActivityNet-protocol evaluation.
//!
//! Fusion point (the paper only says "the combination ratio of two-stream modalities is set to
//! 0.5 and 0.5"): we fuse late, averaging both the CAS `s[t, c]` and the video-level
//! probabilities of the two streams with weights `w_rgb` and `1 - w_rgb` (default 0.5), then
//! localize once on the fused CAS.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use dataset::{Video, WtalDataset};
use maan_eval::detections::{Detection, DetectionFile};
use maan_eval::localize::{fuse, try_localize, LocalizeConfig};
use npyz::WriterBuilder;
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
}

/// Runs one stream on a whole video (batch 1, every snippet) and returns `(cas [T*C],
/// video_probs [C])` on the host.
///
/// # Shapes
/// - `features`: row-major `[len, dim]`
pub fn predict_video<B: Backend>(
    model: &StreamModel<B>,
    features: &[f32],
    len: usize,
    dim: usize,
    device: &B::Device,
) -> (Vec<f32>, Vec<f32>) {
    let x = Tensor::<B, 3>::from_data(TensorData::new(features.to_vec(), [1, len, dim]), device);
    let pred = model.predict(x, None);
    let cas = pred
        .cas
        .into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .unwrap_or_default();
    let probs = pred
        .video_probs
        .into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .unwrap_or_default();
    (cas, probs)
}

/// Runs the given streams on every video and fuses them: weight `rgb_weight` for RGB and
/// `1 - rgb_weight` for flow when both are present, the single stream otherwise.
///
/// Videos without flow features get the RGB output alone (when an RGB model is given).
pub fn run_videos<B: Backend>(
    models: &[(StreamKind, &StreamModel<B>)],
    videos: &[Arc<Video>],
    rgb_weight: f64,
    device: &B::Device,
) -> Result<Vec<VideoOutput>> {
    let mut out = Vec::with_capacity(videos.len());
    for video in videos {
        let mut parts: Vec<(StreamKind, Vec<f32>, Vec<f32>)> = Vec::new();
        for (kind, model) in models {
            if let Some((feats, dim)) = kind.features(video) {
                let want = model.attention_fc1.weight.dims()[0];
                if dim != want {
                    return Err(ModelError::Config(format!(
                        "video {}: {} features have dimension {dim}, the model expects {want}",
                        video.id,
                        kind.name()
                    )));
                }
                let (cas, probs) = predict_video(model, feats, video.len, dim, device);
                parts.push((*kind, cas, probs));
            }
        }
        if parts.is_empty() {
            return Err(ModelError::Config(format!(
                "video {} has none of the features the model reads",
                video.id
            )));
        }
        let num_classes = parts[0].2.len();
        let (cas, probs) = if parts.len() == 2 {
            let w = |k: StreamKind| {
                if k == StreamKind::Rgb {
                    rgb_weight
                } else {
                    1.0 - rgb_weight
                }
            };
            let (w0, w1) = (w(parts[0].0) as f32, w(parts[1].0) as f32);
            (
                fuse(&parts[0].1, &parts[1].1, w0, w1),
                fuse(&parts[0].2, &parts[1].2, w0, w1),
            )
        } else {
            let (_, cas, probs) = parts.pop().expect("one part");
            (cas, probs)
        };
        out.push(VideoOutput {
            id: video.id.clone(),
            num_snippets: video.len,
            num_classes,
            cas,
            video_probs: probs,
        });
    }
    Ok(out)
}

/// Localizes actions in every video output (class rejection, thresholds on the CAS, connected
/// components, NMS: see `maan_eval::localize`) and collects them in an ActivityNet result
/// file. `class_names[c]` names class `c`.
pub fn detections(
    outputs: &[VideoOutput],
    class_names: &[String],
    seconds_per_snippet: f64,
    cfg: &LocalizeConfig,
) -> Result<DetectionFile> {
    let mut file = DetectionFile::default();
    for o in outputs {
        let dets = try_localize(
            &o.cas,
            o.num_snippets,
            o.num_classes,
            &o.video_probs,
            seconds_per_snippet,
            cfg,
        )
        .map_err(|e| ModelError::Eval(format!("video {}: {e}", o.id)))?;
        let list = dets
            .into_iter()
            .filter_map(|d| {
                class_names.get(d.class).map(|name| Detection {
                    label: name.clone(),
                    score: d.score,
                    segment: [d.start, d.end],
                })
            })
            .collect();
        file.results.insert(o.id.clone(), list);
    }
    Ok(file)
}

/// Writes the CAS of each video as `DIR/<id>.npy` (float32, shape `[T, C]`).
pub fn write_cas_npy(outputs: &[VideoOutput], dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
    for o in outputs {
        let safe: String =
            o.id.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
        let path = dir.join(format!("{safe}.npy"));
        let io = |e: std::io::Error| ModelError::io(&path, e);
        let file = fs::File::create(&path).map_err(io)?;
        let mut writer = npyz::WriteOptions::<f32>::new()
            .default_dtype()
            .shape(&[o.num_snippets as u64, o.num_classes as u64])
            .writer(std::io::BufWriter::new(file))
            .begin_nd()
            .map_err(io)?;
        writer.extend(o.cas.iter().copied()).map_err(io)?;
        writer.finish().map_err(io)?;
    }
    Ok(())
}

/// The localization preset for a dataset (THUMOS14 or ActivityNet1.3).
pub fn localize_preset(data: &WtalDataset) -> LocalizeConfig {
    match data.kind {
        dataset::DatasetKind::ActivityNet13 => LocalizeConfig::activitynet(),
        _ => LocalizeConfig::thumos14(),
    }
}
