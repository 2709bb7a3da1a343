//! `maan train` (not implemented yet).

/// Arguments of `maan train`.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {}

/// Runs `maan train`.
pub fn run(_args: TrainArgs) -> anyhow::Result<()> {
    anyhow::bail!("`maan train` is not implemented yet")
}
