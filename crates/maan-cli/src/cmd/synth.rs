//! `maan synth` (not implemented yet).

/// Arguments of `maan synth`.
#[derive(Debug, clap::Args)]
pub struct SynthArgs {}

/// Runs `maan synth`.
pub fn run(_args: SynthArgs) -> anyhow::Result<()> {
    anyhow::bail!("`maan synth` is not implemented yet")
}
