//! One module per subcommand. Each exposes `XArgs` (clap) and `run(args) -> anyhow::Result<()>`.

pub mod bench;
pub mod demo;
pub mod eval;
pub mod experiment;
pub mod inspect;
pub mod plot;
pub mod synth;
pub mod test;
pub mod train;

/// The built-in synthetic THUMOS14-shaped dataset, generated on first use.
pub const DEFAULT_DATA_DIR: &str = "data/synthetic/thumos14";
