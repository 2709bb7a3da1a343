//! `maan test`: load a trained run, run every test video, write the detections and
//! optionally each video's CAS, and print the mAP table when the ground truth is present. The
//! flags and the work are [`crate::jobs::test`]'s, which `maan demo` also runs.

pub use crate::jobs::test::{run, TestArgs};
