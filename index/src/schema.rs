//! The index format, version 1: tables, columns and layout (DESIGN.md "Index").
//!
//! Column names are part of the format: users query them from Athena and
//! DuckDB. Add columns freely; rename none without a new format version.
//!
//! ```text
//! <root>/v1/{spans,logs,invocations,trace_index}/dt=YYYY-MM-DD/hour=HH/<segment>.parquet
//! <root>/v1/quarantine/dt=YYYY-MM-DD/<segment>.json
//! ```

use chrono::Timelike as _;
use std::sync::{Arc, LazyLock};

use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

/// The directory under the root that holds this format version.
pub const FORMAT_VERSION_DIR: &str = "v1";
/// Span rows, one per OTLP span.
pub const SPANS: &str = "spans";
/// Log rows, one per log line (including Lambda platform lines).
pub const LOGS: &str = "logs";
/// Invocation rows, one per REPORT / platform.report.
pub const INVOCATIONS: &str = "invocations";
/// Per trace and hour: its time range, root and counts.
pub const TRACE_INDEX: &str = "trace_index";
/// Input that could not be decoded, kept with the reason.
pub const QUARANTINE: &str = "quarantine";
/// The tables that hold Parquet files, in the order they are written.
pub const TABLES: [&str; 4] = [SPANS, LOGS, INVOCATIONS, TRACE_INDEX];
/// The Hive partition columns, derived from the path, not stored in the files.
pub const PARTITION_COLUMNS: [&str; 2] = ["dt", "hour"];

/// UTC timestamps in nanoseconds.
pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
}

/// `map<string, string>`, as written for `attributes` and `resource_attributes`.
pub fn string_map_type() -> DataType {
    DataType::Map(Arc::new(string_map_entries_field()), false)
}

/// The entries field of [`string_map_type`].
pub fn string_map_entries_field() -> Field {
    Field::new(
        "key_value",
        DataType::Struct(string_map_struct_fields()),
        false,
    )
}

/// The key and value fields inside a string map entry.
pub fn string_map_struct_fields() -> Fields {
    Fields::from(vec![
        Field::new("key", DataType::Utf8, false),
        Field::new("value", DataType::Utf8, true),
    ])
}

/// The fields of one element of `spans.events`.
pub fn span_event_fields() -> Fields {
    Fields::from(vec![
        Field::new("time", timestamp_type(), true),
        Field::new("name", DataType::Utf8, true),
        Field::new("attributes", string_map_type(), true),
    ])
}

/// The fields of one element of `spans.links`.
pub fn span_link_fields() -> Fields {
    Fields::from(vec![
        Field::new("trace_id", DataType::Utf8, true),
        Field::new("span_id", DataType::Utf8, true),
        Field::new("attributes", string_map_type(), true),
    ])
}

fn utf8(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Utf8, nullable)
}

fn timestamp(name: &str, nullable: bool) -> Field {
    Field::new(name, timestamp_type(), nullable)
}

static SPANS_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        utf8("trace_id", false),
        utf8("span_id", false),
        utf8("parent_span_id", true),
        utf8("name", false),
        utf8("kind", false),
        utf8("service", false),
        timestamp("start_time", false),
        timestamp("end_time", false),
        Field::new("duration_ns", DataType::Int64, false),
        utf8("status_code", false),
        utf8("status_message", true),
        utf8("request_id", true),
        utf8("faas_name", true),
        utf8("faas_trigger", true),
        Field::new("cold_start", DataType::Boolean, true),
        utf8("cloud_region", true),
        utf8("cloud_account_id", true),
        Field::new("attributes", string_map_type(), true),
        Field::new("resource_attributes", string_map_type(), true),
        Field::new(
            "events",
            DataType::List(Arc::new(Field::new(
                "element",
                DataType::Struct(span_event_fields()),
                true,
            ))),
            true,
        ),
        Field::new(
            "links",
            DataType::List(Arc::new(Field::new(
                "element",
                DataType::Struct(span_link_fields()),
                true,
            ))),
            true,
        ),
        utf8("log_group", false),
        utf8("log_stream", false),
    ]))
});

static LOGS_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        timestamp("timestamp", false),
        utf8("trace_id", true),
        utf8("span_id", true),
        utf8("request_id", true),
        utf8("service", true),
        utf8("level", true),
        utf8("message", false),
        Field::new("attributes", string_map_type(), true),
        utf8("log_group", false),
        utf8("log_stream", false),
        utf8("event_id", false),
        utf8("format", false),
        utf8("link", true),
    ]))
});

static INVOCATIONS_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        utf8("request_id", false),
        utf8("function", false),
        utf8("function_version", true),
        utf8("log_group", false),
        utf8("log_stream", false),
        timestamp("start_time", true),
        timestamp("end_time", false),
        Field::new("duration_ms", DataType::Float64, false),
        Field::new("billed_duration_ms", DataType::Int64, true),
        Field::new("memory_size_mb", DataType::Int64, true),
        Field::new("max_memory_used_mb", DataType::Int64, true),
        Field::new("init_duration_ms", DataType::Float64, true),
        Field::new("cold_start", DataType::Boolean, false),
        utf8("status", false),
        utf8("error_type", true),
        utf8("trace_id", true),
        Field::new("sampled", DataType::Boolean, true),
    ]))
});

static TRACE_INDEX_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        utf8("trace_id", false),
        timestamp("min_start", false),
        timestamp("max_end", false),
        utf8("root_service", true),
        utf8("root_name", true),
        Field::new("span_count", DataType::Int64, false),
        Field::new("error_count", DataType::Int64, false),
        Field::new(
            "services",
            DataType::List(Arc::new(Field::new("element", DataType::Utf8, true))),
            false,
        ),
    ]))
});

/// The schema of the `spans` table.
pub fn spans_schema() -> SchemaRef {
    SPANS_SCHEMA.clone()
}

/// The schema of the `logs` table.
pub fn logs_schema() -> SchemaRef {
    LOGS_SCHEMA.clone()
}

/// The schema of the `invocations` table.
pub fn invocations_schema() -> SchemaRef {
    INVOCATIONS_SCHEMA.clone()
}

/// The schema of the `trace_index` table.
pub fn trace_index_schema() -> SchemaRef {
    TRACE_INDEX_SCHEMA.clone()
}

/// The schema of a table by name, or `None` for an unknown name.
pub fn schema_of(table: &str) -> Option<SchemaRef> {
    match table {
        SPANS => Some(spans_schema()),
        LOGS => Some(logs_schema()),
        INVOCATIONS => Some(invocations_schema()),
        TRACE_INDEX => Some(trace_index_schema()),
        _ => None,
    }
}

/// The columns that carry Parquet bloom filters, per table.
pub fn bloom_filter_columns(table: &str) -> &'static [&'static str] {
    match table {
        SPANS | LOGS | INVOCATIONS => &["trace_id", "request_id"],
        TRACE_INDEX => &["trace_id"],
        _ => &[],
    }
}

/// Columns whose values are (nearly) all distinct: ids, times, messages.
/// Dictionary encoding only costs time there, so it is kept for the
/// low-cardinality columns (service, name, level, format, …).
pub fn high_cardinality_columns(table: &str) -> &'static [&'static str] {
    match table {
        SPANS => &[
            "trace_id",
            "span_id",
            "parent_span_id",
            "start_time",
            "end_time",
            "duration_ns",
            "request_id",
        ],
        LOGS => &[
            "timestamp",
            "trace_id",
            "span_id",
            "request_id",
            "message",
            "event_id",
        ],
        INVOCATIONS => &[
            "request_id",
            "trace_id",
            "start_time",
            "end_time",
            "duration_ms",
        ],
        TRACE_INDEX => &["trace_id", "min_start", "max_end"],
        _ => &[],
    }
}

/// The object path of a partition directory: `v1/<table>/dt=YYYY-MM-DD/hour=HH`.
pub fn partition_dir(table: &str, partition: &HourPartition) -> String {
    format!(
        "{FORMAT_VERSION_DIR}/{table}/dt={}/hour={:02}",
        partition.date, partition.hour
    )
}

/// Where compaction writes its outputs: `v1/compacted/<table>/dt=…/hour=…`.
pub fn compacted_dir(table: &str, partition: &HourPartition) -> String {
    format!(
        "{FORMAT_VERSION_DIR}/{COMPACTED}/{table}/dt={}/hour={:02}",
        partition.date, partition.hour
    )
}

/// Where the manifests of an hour live: `v1/_manifests/dt=…/hour=…`.
pub fn manifests_dir(partition: &HourPartition) -> String {
    format!(
        "{FORMAT_VERSION_DIR}/{MANIFESTS}/dt={}/hour={:02}",
        partition.date, partition.hour
    )
}

/// The Hive symlink manifest of a table and hour, for Athena, Trino and Spark:
/// `v1/_symlink/<table>/dt=…/hour=…/manifest`.
pub fn symlink_path(table: &str, partition: &HourPartition) -> String {
    format!(
        "{FORMAT_VERSION_DIR}/{SYMLINK}/{table}/dt={}/hour={:02}/manifest",
        partition.date, partition.hour
    )
}

/// Compaction outputs, under the version directory.
pub const COMPACTED: &str = "compacted";
/// Manifests, one file per generation of an hour, under the version directory.
pub const MANIFESTS: &str = "_manifests";
/// Hive symlink manifests, under the version directory.
pub const SYMLINK: &str = "_symlink";

/// Nanoseconds in an hour.
pub const HOUR_NANOS: i64 = 3_600 * 1_000_000_000;

/// One `dt=…/hour=…` partition: the hour (UTC) a row belongs to. Every part of
/// tracelake that maps a time to a partition calls [`HourPartition::of_nanos`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HourPartition {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// 0 to 23.
    pub hour: u32,
}

/// A partition that could not be read from text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid hour {text:?}: expected YYYY-MM-DDTHH (UTC)")]
pub struct InvalidHour {
    /// The text given.
    pub text: String,
}

impl HourPartition {
    /// The partition holding a UTC time in nanoseconds since the epoch.
    pub fn of_nanos(nanos: i64) -> HourPartition {
        // Every i64 of nanoseconds (1677 to 2262) is a valid chrono time.
        let time = chrono::DateTime::from_timestamp_nanos(nanos);
        HourPartition {
            date: time.format("%Y-%m-%d").to_string(),
            hour: time.hour(),
        }
    }

    /// The partition of the `hour`-th hour since the epoch
    /// (`nanos.div_euclid(HOUR_NANOS)`): the same as [`HourPartition::of_nanos`]
    /// of any time in that hour, for callers that group many times by hour
    /// before formatting each hour's date once.
    pub fn of_hour_number(hour: i64) -> HourPartition {
        // The first hour of the i64 range starts before it: its start saturates
        // to the range's first nanosecond, which is in the same hour.
        HourPartition::of_nanos(hour.saturating_mul(HOUR_NANOS))
    }

    /// Reads `YYYY-MM-DDTHH` (as `tracelake compact --hour` takes it), also
    /// accepting a space or `/hour=` style separator: `2026-11-29T05`.
    ///
    /// # Errors
    /// [`InvalidHour`] for anything that is not a valid date and hour.
    pub fn parse(text: &str) -> Result<HourPartition, InvalidHour> {
        let invalid = || InvalidHour {
            text: text.to_owned(),
        };
        let trimmed = text.trim();
        let (date, hour) = trimmed.split_once(['T', ' ']).ok_or_else(invalid)?;
        let hour: u32 = hour.parse().map_err(|_| invalid())?;
        let mut parts = date.splitn(3, '-');
        let (Some(year), Some(month), Some(day)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let (Ok(year), Ok(month), Ok(day)) = (
            year.parse::<i64>(),
            month.parse::<u32>(),
            day.parse::<u32>(),
        ) else {
            return Err(invalid());
        };
        // chrono rejects 2026-02-30, hour 24 and hours outside i64 nanoseconds.
        let start = i32::try_from(year)
            .ok()
            .and_then(|year| chrono::NaiveDate::from_ymd_opt(year, month, day))
            .and_then(|date| date.and_hms_opt(hour, 0, 0))
            .and_then(|time| time.and_utc().timestamp_nanos_opt())
            .ok_or_else(invalid)?;
        Ok(HourPartition::of_nanos(start))
    }

    /// Reads the `dt=YYYY-MM-DD` and `hour=HH` directory names of the layout.
    pub fn from_dirs(dt: &str, hour: &str) -> Option<HourPartition> {
        let date = dt.strip_prefix("dt=")?;
        let hour = hour.strip_prefix("hour=")?;
        HourPartition::parse(&format!("{date}T{hour}")).ok()
    }

    /// The first nanosecond of the hour (UTC); 0 for a partition whose
    /// fields were set by hand to something that is no hour.
    pub fn start_nanos(&self) -> i64 {
        chrono::NaiveDate::parse_from_str(&self.date, "%Y-%m-%d")
            .ok()
            .and_then(|date| date.and_hms_opt(self.hour, 0, 0))
            .and_then(|time| time.and_utc().timestamp_nanos_opt())
            .unwrap_or(0)
    }

    /// The hour before.
    pub fn previous(&self) -> HourPartition {
        HourPartition::of_nanos(self.start_nanos().saturating_sub(HOUR_NANOS))
    }

    /// The hour after.
    pub fn next(&self) -> HourPartition {
        HourPartition::of_nanos(self.start_nanos().saturating_add(HOUR_NANOS))
    }

    /// `dt=YYYY-MM-DD/hour=HH`, the partition's path below a table directory.
    pub fn path(&self) -> String {
        format!("dt={}/hour={:02}", self.date, self.hour)
    }
}

impl std::fmt::Display for HourPartition {
    /// `YYYY-MM-DDTHH`, the form [`HourPartition::parse`] reads.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}T{:02}", self.date, self.hour)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_follow_utc_calendar() {
        // 2019-03-13T23:05:48.220Z
        let p = HourPartition::of_nanos(1_552_518_348_220_000_000);
        assert_eq!(p.date, "2019-03-13");
        assert_eq!(p.hour, 23);
        assert_eq!(partition_dir(SPANS, &p), "v1/spans/dt=2019-03-13/hour=23");
        let leap = HourPartition::of_nanos(951_782_400_000_000_000); // 2000-02-29T00:00Z
        assert_eq!(leap.date, "2000-02-29");
        assert_eq!(HourPartition::of_nanos(0).date, "1970-01-01");
    }

    #[test]
    fn an_hour_number_names_the_partition_of_every_time_in_it() {
        for nanos in [
            i64::MIN,
            i64::MIN + 1,
            -1,
            0,
            1,
            1_552_518_348_220_000_000,
            1_552_518_000_000_000_000 - 1,
            i64::MAX,
        ] {
            assert_eq!(
                HourPartition::of_hour_number(nanos.div_euclid(HOUR_NANOS)),
                HourPartition::of_nanos(nanos),
                "{nanos}"
            );
        }
    }

    #[test]
    fn hours_parse_print_and_step() {
        let hour = HourPartition::parse("2019-03-13T23").expect("valid");
        assert_eq!(hour.start_nanos(), 1_552_518_000_000_000_000);
        assert_eq!(hour.to_string(), "2019-03-13T23");
        assert_eq!(hour.next().to_string(), "2019-03-14T00");
        assert_eq!(hour.next().previous(), hour);
        assert_eq!(hour.path(), "dt=2019-03-13/hour=23");
        assert_eq!(
            HourPartition::from_dirs("dt=2019-03-13", "hour=23"),
            Some(hour)
        );
        let leap = HourPartition::parse("2000-02-29T00").expect("leap day");
        assert_eq!(leap.start_nanos(), 951_782_400_000_000_000);
        for bad in [
            "2026-02-30T01",
            "2026-11-29T24",
            "2026-13-01T00",
            "yesterday",
            "2026-11-29",
        ] {
            assert!(HourPartition::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_table_has_a_schema_with_design_columns() {
        for table in TABLES {
            assert!(schema_of(table).is_some(), "{table}");
        }
        let logs: Vec<String> = logs_schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(
            logs,
            [
                "timestamp",
                "trace_id",
                "span_id",
                "request_id",
                "service",
                "level",
                "message",
                "attributes",
                "log_group",
                "log_stream",
                "event_id",
                "format",
                "link"
            ]
        );
    }
}
