//! `maan eval` (not implemented yet).

/// Arguments of `maan eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {}

/// Runs `maan eval`.
pub fn run(_args: EvalArgs) -> anyhow::Result<()> {
    anyhow::bail!("`maan eval` is not implemented yet")
}
