//! `tracelake ingest`: being built on the lead's branch; this placeholder keeps the CLI compiling.

/// Arguments of `tracelake ingest`.
#[derive(clap::Args)]
pub struct IngestArgs {}

/// Runs the command.
pub fn run(_args: IngestArgs) -> anyhow::Result<()> {
    anyhow::bail!("ingest is not available in this build yet")
}
