//! `maan report`: the self-contained HTML report of a run (protocol, mAP tables, training
//! curves, DETAD's analyses, a per-video viewer; `--compare` for two runs side by side) and
//! `--json`, the JSON of every number it shows. The flags and the work are
//! [`crate::jobs::report`]'s, which `maan test` (and so `maan demo`) also runs.

pub use crate::jobs::report::{run, ReportArgs};
