//! The one prediction pipeline, from a run to files: load a run's models ([`Predictor::load`])
//! -> run them on videos ([`Predictor::infer`], [`crate::infer`]) -> localize the actions
//! ([`Prediction::localize`], `maan_eval::localize`) -> write the detections and each video's
//! CAS ([`Prediction::write_detections`], [`Prediction::write_cas`]) -> score them against
//! a test split ([`Prediction::score`]) into a [`ResultRecord`], which states the protocol
//! and the commit. `maan test`, `maan predict`, `maan demo`, the evaluations during training
//! ([`crate::evaluate()`]) and the experiments all go through it.
//!
//! ```no_run
//! use maan_model::infer::Batching;
//! use maan_model::predict::{Prediction, Predictor};
//! use maan_model::Which;
//! # fn main() -> maan_model::Result<()> {
//! # let data: dataset::WtalDataset = unimplemented!();
//! type B = burn::backend::Flex;
//! let device = Default::default();
//! let predictor = Predictor::<B>::load("runs/maan".as_ref(), Which::Best, None, Batching::exact(), &device)?;
//! let localize = predictor.config().localization(data.kind);
//! let outputs = predictor.infer(&data.test)?;
//! let prediction = Prediction::localize(outputs, data.classes.names(), data.timing.seconds_per_snippet(), &localize)?;
//! prediction.write_detections("detections.json".as_ref())?;
//! println!("average mAP {}", prediction.score(&data)?.average_map);
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::sync::Arc;

use burn::tensor::backend::Backend;
use dataset::{Video, WtalDataset};
use maan_eval::detections::{Detection, DetectionFile};
use maan_eval::localize::{try_localize_signals, LocalizeConfig, LocalizePreset, VideoSignals};
use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};
use crate::evaluate::{score, EvalMetrics};
use crate::infer::{run_videos_with, Batching, StreamKind, VideoOutput};
use crate::model::StreamModel;
use crate::run::{load_models, StreamModels, Which};
use crate::train::config::TrainConfig;

/// A run's trained models, ready to run on videos.
pub struct Predictor<B: Backend> {
    config: TrainConfig,
    models: StreamModels<B>,
    batching: Batching,
    device: B::Device,
}

impl<B: Backend> Predictor<B> {
    /// Loads checkpoint `which` of the run in `run_dir` ([`load_models`]; `data_dims` (rgb,
    /// flow) only for runs that do not record them), to run in batches of `batching` on
    /// `device`.
    pub fn load(
        run_dir: &Path,
        which: Which,
        data_dims: Option<(usize, usize)>,
        batching: Batching,
        device: &B::Device,
    ) -> Result<Self> {
        let (config, models) = load_models::<B>(run_dir, which, data_dims, device)?;
        Ok(Predictor {
            config,
            models,
            batching,
            device: device.clone(),
        })
    }

    /// The run's configuration (its classes, fusion weight, localization).
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// The fused outputs of the models on every video, in order ([`run_videos_with`]).
    pub fn infer(&self, videos: &[Arc<Video>]) -> Result<Vec<VideoOutput>> {
        let refs: Vec<_> = self.models.iter().map(|(k, m)| (*k, m)).collect();
        run_videos_with(
            &refs,
            videos,
            self.config.rgb_weight,
            &self.batching,
            &self.device,
        )
    }
}

/// The outputs of a model on videos and the actions localized in them.
#[derive(Debug, Clone)]
pub struct Prediction {
    /// Each video's fused CAS, video-level probabilities and attention.
    pub outputs: Vec<VideoOutput>,
    /// The detections (ActivityNet result format).
    pub detections: DetectionFile,
    /// The localization settings they were made with.
    pub localize: LocalizeConfig,
}

impl Prediction {
    /// Localizes the actions in `outputs` with `localize` ([`detections`]); `classes[c]` names
    /// class `c`.
    pub fn localize(
        outputs: Vec<VideoOutput>,
        classes: &[String],
        seconds_per_snippet: f64,
        localize: &LocalizeConfig,
    ) -> Result<Self> {
        let detections = detections(&outputs, classes, seconds_per_snippet, localize)?;
        Ok(Prediction {
            outputs,
            detections,
            localize: localize.clone(),
        })
    }

    /// Writes the detections to `path` (ActivityNet result format, atomically).
    pub fn write_detections(&self, path: &Path) -> Result<()> {
        Ok(self.detections.to_path(path)?)
    }

    /// Writes each video's CAS (and attention) into `dir` ([`write_cas_npy`]).
    pub fn write_cas(&self, dir: &Path) -> Result<()> {
        write_cas_npy(&self.outputs, dir)
    }

    /// Scores the detections and video-level probabilities against the test split of `data`
    /// (the outputs must be of `data.test`, in order).
    pub fn score(&self, data: &WtalDataset) -> Result<EvalMetrics> {
        score(data, &self.detections, &self.outputs)
    }
}

/// A scored result with its protocol, so that it can be set beside a paper's: the metrics,
/// the averages papers report (`averages`: 0.1:0.5, 0.1:0.7, 0.1:0.9 on THUMOS14, 0.5:0.95 on
/// ActivityNet1.3), the benchmark, the test videos evaluated and the annotated test videos left
/// out, the localization (preset name and every setting), the seed and the commit of the code
/// that made it. Its JSON is `maan test`'s metrics file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultRecord {
    /// The metrics (flattened: `tiou_thresholds`, `map`, `average_map`, ...).
    #[serde(flatten)]
    pub metrics: EvalMetrics,
    /// The benchmark's name (`thumos14`, `activitynet13`).
    pub dataset: String,
    /// The tIoU ranges papers average over that apply, by label (`0.1:0.5`, ...).
    pub averages: BTreeMap<String, f64>,
    /// Number of test videos evaluated.
    pub test_videos: usize,
    /// The videos of the annotation file's test subset not in the test split, sorted.
    pub excluded_videos: Vec<String>,
    /// `paper`, `oic`, `long`, or `custom`.
    pub localization_preset: String,
    /// Every localization setting.
    pub localization: LocalizeConfig,
    /// The run's seed.
    pub seed: u64,
    /// The commit of the code that made the result (`unknown` when not known).
    pub commit: String,
    /// The backend that ran the models (`flex`, `cuda`, ...), when the caller says
    /// ([`ResultRecord::with_backend`]); absent from records written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
}

impl ResultRecord {
    /// The record of `metrics` on `data`'s test split, localized with `localize`, of a run
    /// with seed `seed`, made by code at `commit`.
    pub fn new(
        data: &WtalDataset,
        metrics: EvalMetrics,
        localize: &LocalizeConfig,
        seed: u64,
        commit: &str,
    ) -> Self {
        let averages = maan_eval::eval::reported_averages(&metrics.tiou_thresholds, &metrics.map)
            .into_iter()
            .map(|a| (a.label(), a.map))
            .collect();
        ResultRecord {
            metrics,
            dataset: data.kind.to_string(),
            averages,
            test_videos: data.test.len(),
            excluded_videos: excluded_test_videos(data),
            localization_preset: LocalizePreset::name_of(localize, data.kind).to_string(),
            localization: localize.clone(),
            seed,
            commit: commit.to_string(),
            backend: None,
        }
    }

    /// The record with the backend that ran the models.
    pub fn with_backend(mut self, backend: &str) -> Self {
        self.backend = Some(backend.to_string());
        self
    }

    /// Writes the record as pretty JSON to `path` (keys sorted, atomically).
    pub fn write(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_value(self)
            .and_then(|v| serde_json::to_string_pretty(&v))
            .map_err(|e| ModelError::Eval(e.to_string()))?;
        crate::checkpoint::write_atomic(path, json.as_bytes())
    }
}

/// The videos of the annotation file's test subset (THUMOS14 `test`, ActivityNet1.3
/// `validation`) that are not in the dataset's test split, sorted.
pub fn excluded_test_videos(data: &WtalDataset) -> Vec<String> {
    let tested: std::collections::HashSet<&str> = data.test.iter().map(|v| v.id.as_str()).collect();
    let mut out: Vec<String> = data
        .ground_truth
        .videos
        .iter()
        .filter(|(id, v)| data.kind.is_test_subset(&v.subset) && !tested.contains(id.as_str()))
        .map(|(id, _)| id.clone())
        .collect();
    out.sort();
    out
}

/// Localizes actions in every video output (class rejection, thresholds on the CAS and, when
/// `cfg` has attention thresholds, on the attention, connected components, scores, NMS or
/// soft-NMS: see `maan_eval::localize`) and collects them in an ActivityNet result file.
/// `class_names[c]` names class `c`.
pub fn detections(
    outputs: &[VideoOutput],
    class_names: &[String],
    seconds_per_snippet: f64,
    cfg: &LocalizeConfig,
) -> Result<DetectionFile> {
    let mut file = DetectionFile::default();
    for o in outputs {
        let signals = VideoSignals {
            cas: &o.cas,
            attention: o.attention.as_deref(),
            num_snippets: o.num_snippets,
            num_classes: o.num_classes,
            video_scores: &o.video_probs,
            seconds_per_snippet,
        };
        let dets = try_localize_signals(&signals, cfg).map_err(|source| ModelError::Localize {
            video: o.id.clone(),
            source,
        })?;
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

/// Writes the CAS of each video as `DIR/<id>.npy` (float32, shape `[T, C]`) and, for a model
/// with an attention ([`VideoOutput::attention`]), the fused attention `p_t` as
/// `DIR/<id>.attention.npy` (float32, shape `[T]`). Characters of `<id>` other than ASCII
/// letters, digits, `-`, `_` and `.` become `_`.
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
        write_npy(
            &dir.join(format!("{safe}.npy")),
            &[o.num_snippets, o.num_classes],
            &o.cas,
        )?;
        if let Some(att) = &o.attention {
            write_npy(
                &dir.join(format!("{safe}.attention.npy")),
                &[o.num_snippets],
                att,
            )?;
        }
    }
    Ok(())
}

/// Writes `values` as a float32 npy file of the given shape ([`dataset::npy::write_f32`]); an
/// I/O failure is a [`ModelError::Io`] naming the file, as for every other file written here.
fn write_npy(path: &Path, shape: &[usize], values: &[f32]) -> Result<()> {
    dataset::npy::write_f32(path, shape, values).map_err(|e| match e {
        dataset::DatasetError::Io { path, source } => ModelError::Io { path, source },
        other => other.into(),
    })
}

/// Runs the models on every test video of `data` (batched as `batching` says), localizes
/// with `localize` (the dataset's paper preset when `None`) and
/// scores the detections. Returns
/// the metrics, the detections and the per-video outputs.
pub fn evaluate<B: Backend>(
    models: &[(StreamKind, &StreamModel<B>)],
    data: &WtalDataset,
    rgb_weight: f64,
    localize: Option<&LocalizeConfig>,
    batching: &Batching,
    device: &B::Device,
) -> Result<(EvalMetrics, DetectionFile, Vec<VideoOutput>)> {
    let outputs = run_videos_with(models, &data.test, rgb_weight, batching, device)?;
    let preset = data.kind.paper_localize();
    let p = Prediction::localize(
        outputs,
        data.classes.names(),
        data.timing.seconds_per_snippet(),
        localize.unwrap_or(&preset),
    )?;
    let metrics = p.score(data)?;
    Ok((metrics, p.detections, p.outputs))
}
