//! The tables of the index (DESIGN.md "Index (format v1)") as DataFusion sees them.
//!
//! The schemas are the index crate's (`tracelake_index::schema`, the one
//! definition of the format): file schemas without the `dt` and `hour` partition
//! columns that the Hive layout adds. They are declared rather than inferred so
//! that an empty index still answers queries, and so that opening an index on
//! S3 never reads every file footer.

use arrow::datatypes::SchemaRef;
use tracelake_index::schema;

/// The index format version, the first path segment under the root.
pub const FORMAT_VERSION: &str = schema::FORMAT_VERSION_DIR;

/// The Hive partition columns every table carries, in path order.
pub const PARTITION_COLUMNS: [&str; 2] = schema::PARTITION_COLUMNS;

/// One table of the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// One row per span.
    Spans,
    /// One row per log line.
    Logs,
    /// One row per Lambda REPORT line.
    Invocations,
    /// One row per trace and hour.
    TraceIndex,
}

impl Table {
    /// Every table, in the order they are registered.
    pub const ALL: [Table; 4] = [
        Table::Spans,
        Table::Logs,
        Table::Invocations,
        Table::TraceIndex,
    ];

    /// The SQL name of the table, which is also its directory under `<root>/v1/`.
    pub fn name(self) -> &'static str {
        match self {
            Table::Spans => schema::SPANS,
            Table::Logs => schema::LOGS,
            Table::Invocations => schema::INVOCATIONS,
            Table::TraceIndex => schema::TRACE_INDEX,
        }
    }

    /// The Arrow schema of the table's Parquet files.
    pub fn schema(self) -> SchemaRef {
        match self {
            Table::Spans => spans_schema(),
            Table::Logs => logs_schema(),
            Table::Invocations => invocations_schema(),
            Table::TraceIndex => trace_index_schema(),
        }
    }
}

/// The `spans` table.
pub fn spans_schema() -> SchemaRef {
    schema::spans_schema()
}

/// The `logs` table.
pub fn logs_schema() -> SchemaRef {
    schema::logs_schema()
}

/// The `invocations` table.
pub fn invocations_schema() -> SchemaRef {
    schema::invocations_schema()
}

/// The `trace_index` table.
pub fn trace_index_schema() -> SchemaRef {
    schema::trace_index_schema()
}
