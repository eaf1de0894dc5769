//! One module per subcommand.

pub mod aws;
pub mod compact;
pub mod dashboards;
pub mod demo;
pub mod firehose;
pub mod ingest;
pub mod simulate;
pub mod stats;

/// The index root used when `--data` is not given.
pub const DEFAULT_DATA: &str = tracelake_index::store::DEFAULT_ROOT;
