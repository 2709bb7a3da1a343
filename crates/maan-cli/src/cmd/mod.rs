//! One module per subcommand. Each exposes `XArgs` (clap) and `run(args) -> anyhow::Result<()>`.

pub mod bench;
pub mod demo;
pub mod eval;
pub mod experiment;
pub mod extract;
pub mod inspect;
pub mod plot;
pub mod predict;
pub mod report;
pub mod synth;
pub mod test;
pub mod train;
