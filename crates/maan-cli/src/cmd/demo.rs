//! `maan demo` (not implemented yet).

/// Arguments of `maan demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {}

/// Runs `maan demo`.
pub fn run(_args: DemoArgs) -> anyhow::Result<()> {
    anyhow::bail!("`maan demo` is not implemented yet")
}
