//! One module per subcommand. Each exposes `XArgs` (clap) and `run(args) -> anyhow::Result<()>`.

pub mod bench;
pub mod demo;
pub mod eval;
pub mod experiment;
pub mod inspect;
pub mod plot;
pub mod predict;
pub mod synth;

// The commands other commands are made of live in `jobs/`.
pub use crate::jobs::{extract, test, train};
