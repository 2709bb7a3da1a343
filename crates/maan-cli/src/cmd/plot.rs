//! `maan plot` (not implemented yet).

/// Arguments of `maan plot`.
#[derive(Debug, clap::Args)]
pub struct PlotArgs {}

/// Runs `maan plot`.
pub fn run(_args: PlotArgs) -> anyhow::Result<()> {
    anyhow::bail!("`maan plot` is not implemented yet")
}
