//! `maan test` (not implemented yet).

/// Arguments of `maan test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {}

/// Runs `maan test`.
pub fn run(_args: TestArgs) -> anyhow::Result<()> {
    anyhow::bail!("`maan test` is not implemented yet")
}
