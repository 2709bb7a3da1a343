//! `maan experiment` (not implemented yet).

/// Arguments of `maan experiment`.
#[derive(Debug, clap::Args)]
pub struct ExperimentArgs {}

/// Runs `maan experiment`.
pub fn run(_args: ExperimentArgs) -> anyhow::Result<()> {
    anyhow::bail!("`maan experiment` is not implemented yet")
}
