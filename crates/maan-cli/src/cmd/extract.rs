//! `maan extract`: two-stream I3D features of video files, written as the feature folders
//! that `maan predict --features` reads. The flags and the work are [`crate::jobs::extract`]'s,
//! which `maan predict --video` also runs.

pub use crate::jobs::extract::{run, ExtractArgs};
