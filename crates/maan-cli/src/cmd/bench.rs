//! `maan bench` (not implemented yet).

/// Arguments of `maan bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {}

/// Runs `maan bench`.
pub fn run(_args: BenchArgs) -> anyhow::Result<()> {
    anyhow::bail!("`maan bench` is not implemented yet")
}
