//! `maan train`: train MAAN (or a Table 1 baseline) on I3D features, with evaluation on the
//! test split, checkpoints (`last/`, `best/`), `--resume` and Ctrl-C handling. The flags and
//! the work are [`crate::jobs::train`]'s, which `maan demo` also runs.

pub use crate::jobs::train::{run, TrainArgs};
