//! # maan-eval
//!
//! Burn-free post-processing and evaluation for weakly-supervised temporal action localization
//! (WTAL): from a class activation sequence to detections, and the ActivityNet evaluation
//! protocol. It depends on serde only, so anyone can score a detections file with it.
//!
//! ## Pipeline
//!
//! ```text
//!  CAS [T, C] + video scores [C] (+ attention [T])  (one per stream)
//!        |  localize::fuse                      two streams, 0.5 / 0.5
//!        |  localize::try_localize_signals      the one entry point, running:
//!        |    reject_classes                    video score < 0.1 -> class dropped
//!        |    upsample_linear                   optional
//!        |    threshold_values                  0.2 x max (THUMOS14), {0.2,0.15,0.1,0.05} x max (ANet);
//!        |                                      optionally many, on the CAS and on the attention
//!        |    connected_components              1-D runs, pooled over thresholds
//!        |    ProposalScore                     mean CAS, or outer-inner contrast
//!        |    nms / soft_nms                    per class, eval::temporal_iou, no "+1" by default
//!        v    snippets_to_seconds
//!  ClassDetection -> Detection -> DetectionFile (ActivityNet result JSON)
//!        |
//!        v  eval::detection_map(GroundTruth, DetectionFile, tIoU thresholds)
//!  DetectionReport {tiou_thresholds, mAP, average_mAP, per_class_AP}
//! ```
//!
//! - [`atomic`]: the workspace's one atomic file write ([`atomic::write_atomic`]);
//! - [`annotations`]: ground truth in every JSON form the public code bases ship
//!   ([`GroundTruth`]) and class lists ([`ClassList`]);
//! - [`detections`]: the ActivityNet result format ([`DetectionFile`]);
//! - [`localize`]: the test-time localization, one entry point ([`try_localize_signals`])
//!   over tested steps split by concern (settings and presets, proposals, scores,
//!   suppression), and the named presets ([`LocalizePreset`]: `paper`, MAAN section 3.1,
//!   `oic`, the multi-threshold outer-inner post-processing of later WTAL code, with the
//!   source of every value in `docs/localization.md`, and `long`);
//! - [`eval`]: detection mAP exactly as ActivityNet's `eval_detection.py` computes it (with
//!   deterministic tie-breaking), classification mAP, and the tIoU ranges papers average over
//!   ([`eval::reported_averages`]: 0.1:0.5, 0.1:0.7, 0.1:0.9 on THUMOS14, 0.5:0.95 on
//!   ActivityNet1.3);
//! - [`diagnose`](mod@diagnose): why a detector fails, DETAD's three analyses (false-positive profile with
//!   the mAP gain of removing each error type, sensitivity of the normalized mAP to coverage,
//!   length and instances per video, false-negative rate by the same buckets), equal to DETAD's
//!   own code on a committed fixture;
//! - [`report`]: the self-contained HTML report of a run (and its JSON): protocol, mAP
//!   tables, training curves, the diagnosis, a per-video viewer, two runs side by side.
//!
//! Scoring a file:
//!
//! ```no_run
//! use maan_eval::{detection_map, eval::thumos14_tiou_thresholds, DetectionFile, GroundTruth};
//! # fn main() -> maan_eval::Result<()> {
//! let gt = GroundTruth::from_path("data/thumos14/gt.json".as_ref())?.subset("test");
//! let det = DetectionFile::from_path("detections.json".as_ref())?;
//! let report = detection_map(&gt, &det, &thumos14_tiou_thresholds())?;
//! println!("mAP@0.5 = {:.4}", report.map[4]);
//! # Ok(()) }
//! ```
//!
//! The library never prints and never panics on user input: every error is an [`EvalError`]
//! naming the file (or source) and the video.

pub mod annotations;
pub mod atomic;
pub mod benchmark;
pub mod detections;
pub mod diagnose;
pub mod error;
pub mod eval;
pub mod localize;
pub mod report;
mod tables;
pub mod timing;

pub use annotations::{ClassList, GroundTruth, GtSegment, GtVideo};
pub use benchmark::Benchmark;
pub use detections::{Detection, DetectionFile};
pub use diagnose::{diagnose, DiagnoseConfig, Diagnosis};
pub use error::{EvalError, Result};
pub use eval::{
    classification_map, detection_map, format_decimal, format_tiou_range, parse_tiou_range,
    DetectionReport,
};
pub use localize::{
    try_localize_signals, ClassDetection, LocalizeConfig, LocalizePreset, ProposalScore,
    Suppression, Thresholds, VideoSignals,
};
pub use tables::EvalRecord;
pub use timing::SnippetTiming;

/// `maan_eval::metrics` is an alias of [`eval`], for callers that prefer that name.
pub mod metrics {
    pub use crate::eval::*;
}
