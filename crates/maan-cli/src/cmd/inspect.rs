//! `maan inspect` (not implemented yet).

/// Arguments of `maan inspect`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {}

/// Runs `maan inspect`.
pub fn run(_args: InspectArgs) -> anyhow::Result<()> {
    anyhow::bail!("`maan inspect` is not implemented yet")
}
