//! The report of a run: one self-contained HTML page (inline CSS, JavaScript and SVG; no
//! network request of any kind) and the JSON of every number it shows.
//!
//! [`build_run`] turns what a run left behind (ground truth, detections, CAS and attention,
//! the metrics log, the protocol) into a [`RunReport`]: the mAP table per tIoU and per class,
//! the training curves, DETAD's three analyses ([`crate::diagnose`](mod@crate::diagnose)) and one [`VideoView`] per
//! test video. A [`ReportData`] holds one run, or two side by side (a comparison);
//! [`render_html`] writes the page, which embeds the `ReportData` as JSON and draws everything
//! from it with its own JavaScript, so the page and `--json` hold the same numbers.
//!
//! Sizes: the CAS of a video is kept for the classes that matter to it (its ground-truth
//! classes, then the classes of its detections by best score, then the classes whose CAS
//! peaks highest, [`ReportOptions::max_cas_classes`] in all but never fewer than its
//! ground-truth classes), as integers in per mille of `[0, 1]`; ground-truth instances and
//! detections are arrays (`[class, start, end]`, `[class, start, end, score]`), detection times
//! rounded to 10 ms (a snippet is 640 ms) and scores to 1e-4; at most [`ReportOptions::max_detections_per_video`]
//! detections per video (the highest scores) and [`ReportOptions::max_curve_points`] points
//! per training curve are kept. The mAP table and the diagnosis are computed from every
//! detection.

mod html;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::annotations::GroundTruth;
use crate::detections::DetectionFile;
use crate::diagnose::{diagnose, DiagnoseConfig, Diagnosis};
use crate::error::Result;
use crate::eval::{detection_map, reported_averages, RangeAverage};

pub use html::{embedded_json, render_html};

/// The data of a report page, and its `--json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportData {
    /// Version of this format (1).
    pub format: u32,
    /// When the report was made, as the caller wrote it (e.g. RFC 3339).
    pub generated: String,
    /// What made it (e.g. `maan 0.1.0`).
    pub generator: String,
    /// One run, or two for a comparison (the first is the main run).
    pub runs: Vec<RunReport>,
}

impl ReportData {
    /// The format version [`ReportData::format`] holds.
    pub const FORMAT: u32 = 1;
}

/// Everything the page shows about one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// The run's name (its folder's name).
    pub name: String,
    /// How the result was made.
    pub protocol: Protocol,
    /// Class names; a class index in this report is a position here.
    pub classes: Vec<String>,
    /// The detection mAP (`None` without ground truth).
    pub metrics: Option<MapTable>,
    /// Losses and evaluations during training, from `metrics.jsonl`.
    pub curves: TrainingCurves,
    /// DETAD's three analyses (`None` without ground truth).
    pub diagnosis: Option<Diagnosis>,
    /// One per test video, sorted by id.
    pub videos: Vec<VideoView>,
    /// What the report noticed (mAP recorded by the run that differs from the one recomputed,
    /// detections or CAS of unknown videos, ...).
    pub warnings: Vec<String>,
}

/// The protocol of a run: what the page's "Protocol" table shows.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Protocol {
    /// The commit the program was built from.
    pub commit: Option<String>,
    /// The benchmark (`thumos14`, `activitynet13`).
    pub benchmark: Option<String>,
    /// The data folder.
    pub data: Option<String>,
    /// The backend that ran the test.
    pub backend: Option<String>,
    /// The localization settings, in one line.
    pub localization: Option<String>,
    /// The run's seed.
    pub seed: Option<u64>,
    /// Dates of the run's files (training started, tested, ...).
    pub dates: Vec<DatedEvent>,
    /// The run's whole configuration (`config.json`), as JSON.
    pub config: serde_json::Value,
}

/// One dated event of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatedEvent {
    /// What happened (`trained`, `tested`, ...).
    pub what: String,
    /// When, as the caller wrote it.
    pub when: String,
}

/// The detection mAP of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapTable {
    /// tIoU thresholds.
    pub tiou_thresholds: Vec<f64>,
    /// mAP at each threshold, in `[0, 1]`.
    pub map: Vec<f64>,
    /// Mean of `map`.
    pub average_map: f64,
    /// The averages papers report that apply ([`reported_averages`]).
    pub averages: Vec<RangeAverage>,
    /// Classification mAP, when the run recorded it.
    pub classification_map: Option<f64>,
    /// AP of each class at each threshold, in class order.
    pub per_class: Vec<ClassAp>,
}

/// The AP of one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassAp {
    /// Class name.
    pub class: String,
    /// Ground-truth instances of the class.
    pub instances: usize,
    /// AP at each threshold.
    pub ap: Vec<f64>,
}

/// The training curves of `metrics.jsonl`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TrainingCurves {
    /// The name of each loss value of a [`LossPoint`] (one per stream: `rgb`, `flow`).
    pub loss_names: Vec<String>,
    /// Losses, by iteration.
    pub loss: Vec<LossPoint>,
    /// The tIoU thresholds of the evaluations.
    pub tiou_thresholds: Vec<f64>,
    /// Evaluations during training, by iteration.
    pub evaluations: Vec<EvalPoint>,
}

/// The losses logged at one iteration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossPoint {
    /// Training iteration.
    pub iteration: u64,
    /// One loss per name of [`TrainingCurves::loss_names`] (`None` when not finite).
    pub values: Vec<Option<f64>>,
}

/// One evaluation during training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalPoint {
    /// Training iteration.
    pub iteration: u64,
    /// Average mAP, in `[0, 1]`.
    pub average_map: f64,
    /// mAP at each threshold of [`TrainingCurves::tiou_thresholds`].
    pub map: Vec<f64>,
    /// Classification mAP (`None` when undefined).
    pub classification_map: Option<f64>,
}

/// What the viewer draws for one video on one time axis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoView {
    /// Video id.
    pub id: String,
    /// Duration in seconds (the annotation's, else snippets × seconds per snippet).
    pub duration: f64,
    /// Seconds per CAS value.
    pub seconds_per_snippet: f64,
    /// The video's ground-truth instances, in file order (class `u32::MAX` for a label that is
    /// not in the class list).
    pub ground_truth: Vec<Mark>,
    /// Its detections, by descending score (at most `max_detections_per_video`).
    pub detections: Vec<DetectionMark>,
    /// Its detections before that limit.
    pub detections_total: usize,
    /// The CAS of some classes (see the module docs), one value per snippet.
    pub cas: Vec<Track>,
    /// The attention `p_t`, one value per snippet, in per mille (`None` without one).
    pub attention: Option<Vec<u16>>,
}

/// A ground-truth instance, serialized as the array `[class, start, end]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// Class index.
    pub class: u32,
    /// Start, seconds.
    pub start: f64,
    /// End, seconds.
    pub end: f64,
}

/// A detection, serialized as the array `[class, start, end, score]`.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectionMark {
    /// Class index.
    pub class: u32,
    /// Start, seconds (rounded to 10 ms).
    pub start: f64,
    /// End, seconds (rounded to 10 ms).
    pub end: f64,
    /// Score (rounded to 1e-4).
    pub score: f64,
}

// Marks are arrays in the JSON: the viewer's data is most of a page's size.
impl Serialize for Mark {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        (self.class, self.start, self.end).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Mark {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let (class, start, end) = <(u32, f64, f64)>::deserialize(d)?;
        Ok(Mark { class, start, end })
    }
}

impl Serialize for DetectionMark {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        (self.class, self.start, self.end, self.score).serialize(s)
    }
}

impl<'de> Deserialize<'de> for DetectionMark {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let (class, start, end, score) = <(u32, f64, f64, f64)>::deserialize(d)?;
        Ok(DetectionMark {
            class,
            start,
            end,
            score,
        })
    }
}

/// The CAS of one class in one video.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Track {
    /// Class index.
    pub class: u32,
    /// One value per snippet, `round(1000 × clamp(s, 0, 1))`.
    pub permille: Vec<u16>,
}

/// The model outputs of one video.
#[derive(Debug, Clone, PartialEq)]
pub struct Signals {
    /// The CAS, row-major `[T, C]`.
    pub cas: Vec<f32>,
    /// `T`.
    pub num_snippets: usize,
    /// `C`.
    pub num_classes: usize,
    /// The attention `p_t`, `[T]`.
    pub attention: Option<Vec<f32>>,
}

/// Where [`build_run`] gets a video's [`Signals`]: called once per video of the viewer, so a
/// caller can read them from disk one at a time. `Ok(None)`: the video has none; `Err`: a
/// message, reported with the video's id.
pub type SignalSource<'a> = &'a dyn Fn(&str) -> std::result::Result<Option<Signals>, String>;

/// Everything [`build_run`] reads.
pub struct RunInputs<'a> {
    /// The run's name.
    pub name: String,
    /// Its protocol.
    pub protocol: Protocol,
    /// Class names, in the order of the CAS's columns.
    pub classes: &'a [String],
    /// The ground truth of the test videos (with durations when known).
    pub ground_truth: &'a GroundTruth,
    /// The run's detections.
    pub detections: &'a DetectionFile,
    /// tIoU thresholds of the mAP table.
    pub tiou_thresholds: Vec<f64>,
    /// The mAP at each threshold as the run recorded it, to check the recomputed one against.
    pub recorded_map: Option<Vec<f64>>,
    /// The classification mAP the run recorded.
    pub classification_map: Option<f64>,
    /// The records of `metrics.jsonl`, in order.
    pub metrics_log: &'a [serde_json::Value],
    /// The names of the losses of a `metrics.jsonl` record (one per stream).
    pub loss_names: Vec<String>,
    /// Videos of the viewer besides those of the ground truth (test videos without
    /// annotations).
    pub extra_videos: Vec<String>,
    /// The CAS and attention of each video of the viewer.
    pub signals: SignalSource<'a>,
    /// Seconds per snippet.
    pub seconds_per_snippet: f64,
    /// DETAD's settings (`None`: no diagnosis).
    pub diagnose: Option<DiagnoseConfig>,
}

/// Limits on what a report keeps (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReportOptions {
    /// Classes whose CAS is kept per video, at least its ground-truth classes (default 6).
    pub max_cas_classes: usize,
    /// Detections kept per video, the highest scores (default 500).
    pub max_detections_per_video: usize,
    /// Points kept per training curve, evenly spaced (default 2000).
    pub max_curve_points: usize,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            max_cas_classes: 6,
            max_detections_per_video: 500,
            max_curve_points: 2000,
        }
    }
}

fn round_to(x: f64, scale: f64) -> f64 {
    (x * scale).round() / scale
}

fn permille(x: f32) -> u16 {
    if x.is_nan() {
        0
    } else {
        (x.clamp(0.0, 1.0) * 1000.0).round() as u16
    }
}

/// Builds the report of one run.
///
/// # Errors
/// The errors of [`detection_map`] and [`diagnose`] when the ground truth has instances,
/// [`EvalError::Shape`](crate::EvalError::Shape) for signals whose CAS is not `[T, C]` with
/// `C` the number of classes, and [`EvalError::InvalidInput`](crate::EvalError::InvalidInput)
/// naming the video when the signal source fails.
pub fn build_run(inputs: &RunInputs<'_>, options: &ReportOptions) -> Result<RunReport> {
    let classes = inputs.classes;
    let class_of: HashMap<&str, u32> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i as u32))
        .collect();
    let mut warnings = Vec::new();
    let has_gt = inputs.ground_truth.num_segments() > 0;
    let metrics = if has_gt {
        // As `maan test` scores (maan_model::evaluate::score): detections of classes absent
        // from the ground truth are not scored, and no detection at all is an mAP of 0.
        let labels = inputs.ground_truth.labels();
        let mut scored = inputs.detections.clone();
        let mut dropped = 0usize;
        for list in scored.results.values_mut() {
            let before = list.len();
            list.retain(|d| labels.contains(&d.label));
            dropped += before - list.len();
        }
        if dropped > 0 {
            warnings.push(format!(
                "{dropped} detections of classes absent from the test ground truth were not scored"
            ));
        }
        let report = if scored.num_detections() == 0 {
            warnings.push("no detections: mAP is 0".into());
            let k = inputs.tiou_thresholds.len();
            crate::eval::DetectionReport {
                tiou_thresholds: inputs.tiou_thresholds.clone(),
                map: vec![0.0; k],
                average_map: 0.0,
                per_class_ap: labels.iter().map(|l| (l.clone(), vec![0.0; k])).collect(),
                warnings: Vec::new(),
            }
        } else {
            detection_map(inputs.ground_truth, &scored, &inputs.tiou_thresholds)?
        };
        warnings.extend(report.warnings.iter().cloned());
        if let Some(rec) = &inputs.recorded_map {
            let differs = rec.len() != report.map.len()
                || rec
                    .iter()
                    .zip(&report.map)
                    .any(|(a, b)| (a - b).abs() > 1e-9);
            if differs {
                warnings.push(format!(
                    "the mAP the run recorded ({rec:?}) differs from the one recomputed from its \
                     detections ({:?})",
                    report.map
                ));
            }
        }
        let mut instances: BTreeMap<&str, usize> = BTreeMap::new();
        for v in inputs.ground_truth.videos.values() {
            for s in &v.segments {
                *instances.entry(s.label.as_str()).or_default() += 1;
            }
        }
        let mut per_class: Vec<ClassAp> = classes
            .iter()
            .filter_map(|c| {
                report.per_class_ap.get(c).map(|ap| ClassAp {
                    class: c.clone(),
                    instances: instances.get(c.as_str()).copied().unwrap_or(0),
                    ap: ap.clone(),
                })
            })
            .collect();
        // Ground-truth labels missing from the class list come last.
        for (c, ap) in &report.per_class_ap {
            if !class_of.contains_key(c.as_str()) {
                per_class.push(ClassAp {
                    class: c.clone(),
                    instances: instances.get(c.as_str()).copied().unwrap_or(0),
                    ap: ap.clone(),
                });
            }
        }
        Some(MapTable {
            averages: reported_averages(&report.tiou_thresholds, &report.map),
            tiou_thresholds: report.tiou_thresholds,
            map: report.map,
            average_map: report.average_map,
            classification_map: inputs.classification_map.filter(|x| x.is_finite()),
            per_class,
        })
    } else {
        None
    };
    let diagnosis = match (
        &inputs.diagnose,
        has_gt && !inputs.detections.results.is_empty(),
    ) {
        (Some(config), true) => Some(diagnose(inputs.ground_truth, inputs.detections, config)?),
        _ => None,
    };
    let curves = curves(
        inputs.metrics_log,
        &inputs.loss_names,
        options.max_curve_points,
    );

    // Videos: the ground truth's, and any other with signals.
    let mut ids: BTreeSet<&str> = inputs
        .ground_truth
        .videos
        .keys()
        .map(String::as_str)
        .collect();
    ids.extend(inputs.extra_videos.iter().map(String::as_str));
    let unknown_dets: usize = inputs
        .detections
        .results
        .iter()
        .filter(|(id, _)| !ids.contains(id.as_str()))
        .map(|(_, d)| d.len())
        .sum();
    if unknown_dets > 0 {
        warnings.push(format!(
            "{unknown_dets} detections of videos that are neither test videos nor have a CAS are \
             not in the viewer"
        ));
    }
    let mut videos = Vec::with_capacity(ids.len());
    for id in ids {
        let gtv = inputs.ground_truth.videos.get(id);
        let sig = (inputs.signals)(id)
            .map_err(|e| crate::EvalError::InvalidInput(format!("video {id}: {e}")))?;
        if let Some(s) = &sig {
            check_shape(id, s, classes.len())?;
        }
        let sig = sig.as_ref();
        let ground_truth: Vec<Mark> = gtv
            .map(|v| {
                v.segments
                    .iter()
                    .map(|s| Mark {
                        class: class_of.get(s.label.as_str()).copied().unwrap_or(u32::MAX),
                        start: s.start,
                        end: s.end,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut dets: Vec<DetectionMark> = inputs
            .detections
            .results
            .get(id)
            .map(|list| {
                list.iter()
                    .filter_map(|d| {
                        class_of.get(d.label.as_str()).map(|&c| DetectionMark {
                            class: c,
                            start: round_to(d.segment[0], 1e2),
                            end: round_to(d.segment[1], 1e2),
                            score: round_to(d.score, 1e4),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        dets.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.start.total_cmp(&b.start))
        });
        let detections_total = dets.len();
        dets.truncate(options.max_detections_per_video);
        let span = |s: &Signals| s.num_snippets as f64 * inputs.seconds_per_snippet;
        let duration = gtv
            .and_then(|v| v.duration)
            .filter(|d| *d > 0.0)
            .or(sig.map(span))
            .unwrap_or_else(|| {
                ground_truth
                    .iter()
                    .map(|m| m.end)
                    .chain(dets.iter().map(|d| d.end))
                    .fold(0.0, f64::max)
            });
        let (cas, attention) = match sig {
            Some(s) => (
                tracks(s, &ground_truth, &dets, options.max_cas_classes),
                s.attention
                    .as_ref()
                    .map(|a| a.iter().map(|&x| permille(x)).collect()),
            ),
            None => (Vec::new(), None),
        };
        videos.push(VideoView {
            id: id.to_string(),
            duration,
            seconds_per_snippet: inputs.seconds_per_snippet,
            ground_truth,
            detections: dets,
            detections_total,
            cas,
            attention,
        });
    }
    Ok(RunReport {
        name: inputs.name.clone(),
        protocol: inputs.protocol.clone(),
        classes: classes.to_vec(),
        metrics,
        curves,
        diagnosis,
        videos,
        warnings,
    })
}

/// A CAS of `[T, C]` with `C` the classes, and an attention of `T`.
fn check_shape(id: &str, s: &Signals, num_classes: usize) -> Result<()> {
    if s.num_classes != num_classes || s.cas.len() != s.num_snippets * s.num_classes {
        return Err(crate::EvalError::Shape(format!(
            "video {id}: a CAS of {} values for [{}, {}] with {num_classes} classes",
            s.cas.len(),
            s.num_snippets,
            s.num_classes,
        )));
    }
    if let Some(a) = &s.attention {
        if a.len() != s.num_snippets {
            return Err(crate::EvalError::Shape(format!(
                "video {id}: an attention of {} values for {} snippets",
                a.len(),
                s.num_snippets
            )));
        }
    }
    Ok(())
}

/// The CAS tracks a video keeps: ground-truth classes, then detected classes by best score,
/// then the classes whose CAS peaks highest.
fn tracks(s: &Signals, gt: &[Mark], dets: &[DetectionMark], max_classes: usize) -> Vec<Track> {
    let c = s.num_classes;
    let mut chosen: Vec<u32> = Vec::new();
    let push = |k: u32, chosen: &mut Vec<u32>| {
        if (k as usize) < c && !chosen.contains(&k) {
            chosen.push(k);
        }
    };
    for m in gt {
        push(m.class, &mut chosen);
    }
    let floor = chosen.len().max(max_classes);
    for d in dets {
        // Already by descending score.
        if chosen.len() >= floor {
            break;
        }
        push(d.class, &mut chosen);
    }
    if chosen.len() < floor {
        let mut peak = vec![f32::NEG_INFINITY; c];
        for row in s.cas.chunks_exact(c.max(1)) {
            for (k, v) in row.iter().enumerate() {
                if *v > peak[k] {
                    peak[k] = *v;
                }
            }
        }
        let mut order: Vec<usize> = (0..c).collect();
        order.sort_by(|a, b| peak[*b].total_cmp(&peak[*a]).then(a.cmp(b)));
        for k in order {
            if chosen.len() >= floor {
                break;
            }
            push(k as u32, &mut chosen);
        }
    }
    chosen
        .into_iter()
        .map(|k| Track {
            class: k,
            permille: (0..s.num_snippets)
                .map(|t| permille(s.cas[t * c + k as usize]))
                .collect(),
        })
        .collect()
}

/// The training curves of a metrics log: records with `loss` (one value per stream) and records
/// with `average_map` (an evaluation), at most `max_points` of each, evenly spaced, the last
/// always kept.
pub fn curves(
    log: &[serde_json::Value],
    loss_names: &[String],
    max_points: usize,
) -> TrainingCurves {
    let mut loss = Vec::new();
    let mut evaluations = Vec::new();
    let mut tiou_thresholds = Vec::new();
    let num = |v: &serde_json::Value| v.as_f64().filter(|x| x.is_finite());
    for r in log {
        let Some(it) = r.get("iteration").and_then(|v| v.as_u64()) else {
            continue;
        };
        if let Some(values) = r.get("loss") {
            let values: Vec<Option<f64>> = match values {
                serde_json::Value::Array(a) => a.iter().map(num).collect(),
                v => vec![num(v)],
            };
            if !values.is_empty() {
                loss.push(LossPoint {
                    iteration: it,
                    values,
                });
            }
        }
        if let Some(avg) = r.get("average_map").and_then(num) {
            let map: Vec<f64> = r
                .get("map")
                .and_then(|m| m.as_array())
                .map(|a| a.iter().filter_map(|v| v.as_f64()).collect())
                .unwrap_or_default();
            if let Some(t) = r.get("tiou_thresholds").and_then(|t| t.as_array()) {
                tiou_thresholds = t.iter().filter_map(|v| v.as_f64()).collect();
            }
            evaluations.push(EvalPoint {
                iteration: it,
                average_map: avg,
                map,
                classification_map: r.get("classification_map").and_then(num),
            });
        }
    }
    let width = loss.iter().map(|p| p.values.len()).max().unwrap_or(0);
    let loss_names = (0..width)
        .map(|i| {
            loss_names
                .get(i)
                .cloned()
                .unwrap_or_else(|| format!("loss {}", i + 1))
        })
        .collect();
    TrainingCurves {
        loss_names,
        loss: thin(loss, max_points),
        tiou_thresholds,
        evaluations: thin(evaluations, max_points),
    }
}

/// At most `max` of `v`, evenly spaced, the first and last kept.
fn thin<T>(v: Vec<T>, max: usize) -> Vec<T> {
    let n = v.len();
    if n <= max || max < 2 {
        return v;
    }
    let keep: BTreeSet<usize> = (0..max)
        .map(|i| ((i as f64) * (n - 1) as f64 / (max - 1) as f64).round() as usize)
        .collect();
    v.into_iter()
        .enumerate()
        .filter(|(i, _)| keep.contains(i))
        .map(|(_, x)| x)
        .collect()
}

#[cfg(test)]
mod tests;
