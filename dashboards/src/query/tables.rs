//! The tables of the index (DESIGN.md "Index (format v1)") as DataFusion sees them.
//!
//! The Arrow schemas here are the file schemas, without the `dt` and `hour`
//! partition columns that the Hive layout adds. They are declared rather than
//! inferred so that an empty index still answers queries, and so that opening an
//! index on S3 never reads every file footer.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

/// The index format version, the first path segment under the root.
pub const FORMAT_VERSION: &str = "v1";

/// The Hive partition columns every table carries, in path order.
pub const PARTITION_COLUMNS: [&str; 2] = ["dt", "hour"];

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
            Table::Spans => "spans",
            Table::Logs => "logs",
            Table::Invocations => "invocations",
            Table::TraceIndex => "trace_index",
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

fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
}

fn string_map() -> DataType {
    let entries = Fields::from(vec![
        Field::new("keys", DataType::Utf8, false),
        Field::new("values", DataType::Utf8, true),
    ]);
    DataType::Map(
        Arc::new(Field::new("entries", DataType::Struct(entries), false)),
        false,
    )
}

fn utf8(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Utf8, nullable)
}

/// The `spans` table.
pub fn spans_schema() -> SchemaRef {
    let event = Fields::from(vec![
        Field::new("time", timestamp(), true),
        utf8("name", true),
        Field::new("attributes", string_map(), true),
    ]);
    let link = Fields::from(vec![
        utf8("trace_id", true),
        utf8("span_id", true),
        Field::new("attributes", string_map(), true),
    ]);
    Arc::new(Schema::new(vec![
        utf8("trace_id", false),
        utf8("span_id", false),
        utf8("parent_span_id", true),
        utf8("name", true),
        utf8("kind", true),
        utf8("service", true),
        Field::new("start_time", timestamp(), true),
        Field::new("end_time", timestamp(), true),
        Field::new("duration_ns", DataType::Int64, true),
        utf8("status_code", true),
        utf8("status_message", true),
        utf8("request_id", true),
        utf8("faas_name", true),
        utf8("faas_trigger", true),
        Field::new("cold_start", DataType::Boolean, true),
        utf8("cloud_region", true),
        utf8("cloud_account_id", true),
        Field::new("attributes", string_map(), true),
        Field::new("resource_attributes", string_map(), true),
        Field::new(
            "events",
            DataType::List(Arc::new(Field::new("item", DataType::Struct(event), true))),
            true,
        ),
        Field::new(
            "links",
            DataType::List(Arc::new(Field::new("item", DataType::Struct(link), true))),
            true,
        ),
        utf8("log_group", true),
        utf8("log_stream", true),
    ]))
}

/// The `logs` table.
pub fn logs_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("timestamp", timestamp(), true),
        utf8("trace_id", true),
        utf8("span_id", true),
        utf8("request_id", true),
        utf8("service", true),
        utf8("level", true),
        utf8("message", true),
        Field::new("attributes", string_map(), true),
        utf8("log_group", true),
        utf8("log_stream", true),
        utf8("event_id", true),
        utf8("format", true),
        utf8("link", true),
    ]))
}

/// The `invocations` table.
pub fn invocations_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        utf8("request_id", true),
        utf8("function", true),
        utf8("function_version", true),
        utf8("log_group", true),
        utf8("log_stream", true),
        Field::new("start_time", timestamp(), true),
        Field::new("end_time", timestamp(), true),
        Field::new("duration_ms", DataType::Float64, true),
        Field::new("billed_duration_ms", DataType::Int64, true),
        Field::new("memory_size_mb", DataType::Int64, true),
        Field::new("max_memory_used_mb", DataType::Int64, true),
        Field::new("init_duration_ms", DataType::Float64, true),
        Field::new("cold_start", DataType::Boolean, true),
        utf8("status", true),
        utf8("error_type", true),
        utf8("trace_id", true),
        Field::new("sampled", DataType::Boolean, true),
    ]))
}

/// The `trace_index` table.
pub fn trace_index_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        utf8("trace_id", false),
        Field::new("min_start", timestamp(), true),
        Field::new("max_end", timestamp(), true),
        utf8("root_service", true),
        utf8("root_name", true),
        Field::new("span_count", DataType::Int64, true),
        Field::new("error_count", DataType::Int64, true),
        Field::new(
            "services",
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            true,
        ),
    ]))
}
