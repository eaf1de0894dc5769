//! One module per subcommand.

pub mod ingest;
pub mod stats;

/// The index root used when `--data` is not given.
pub const DEFAULT_DATA: &str = "./tracelake-data";
