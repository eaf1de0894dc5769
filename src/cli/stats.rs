//! `tracelake stats`: being built on the lead's branch; this placeholder keeps the CLI compiling.

/// Arguments of `tracelake stats`.
#[derive(clap::Args)]
pub struct StatsArgs {}

/// Runs the command.
pub fn run(_args: StatsArgs) -> anyhow::Result<()> {
    anyhow::bail!("stats is not available in this build yet")
}
