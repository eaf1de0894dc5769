//! Arrow record batches back to rows, one function per table, with a clear
//! [`RowsError`] for a column that format v1 does not give that name and type.

use std::sync::Arc;

use arrow::array::{
    Array as _, ArrayRef, BooleanArray, Float64Array, Int64Array, ListArray, MapArray, RecordBatch,
    StringArray, StructArray, TimestampNanosecondArray,
};

use crate::rows::{
    InvocationRow, InvocationStatus, Link, LogLevel, LogRow, SharedNames, SpanEventRow, SpanId,
    SpanKind, SpanLinkRow, SpanRow, StatusCode, TraceId, TraceIndexRow,
};

/// Why a record batch could not be read back as rows.
#[derive(Debug, thiserror::Error)]
pub enum RowsError {
    /// A required column is missing or has another type than format v1 gives it.
    #[error("column {column:?}: {reason}")]
    Column {
        /// The column's name.
        column: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A value outside its closed set (`kind`, `status_code`, `level`, …).
    #[error("column {column:?}: unknown value {value:?}")]
    UnknownValue {
        /// The column's name.
        column: &'static str,
        /// The value found.
        value: String,
    },
    /// A trace or span id column holding text that is not an id.
    #[error("column {column:?}: invalid id {value:?}")]
    InvalidId {
        /// The column's name.
        column: &'static str,
        /// The text found.
        value: String,
    },
}

/// Typed access to the columns of one record batch, by name.
struct Columns<'a> {
    batch: &'a RecordBatch,
}

impl<'a> Columns<'a> {
    fn column(&self, name: &'static str) -> Result<&'a ArrayRef, RowsError> {
        self.batch
            .column_by_name(name)
            .ok_or_else(|| RowsError::Column {
                column: name,
                reason: "missing".to_owned(),
            })
    }

    fn downcast<T: 'static>(&self, name: &'static str) -> Result<&'a T, RowsError> {
        let column = self.column(name)?;
        column
            .as_any()
            .downcast_ref::<T>()
            .ok_or_else(|| RowsError::Column {
                column: name,
                reason: format!("unexpected type {}", column.data_type()),
            })
    }

    fn strings(&self, name: &'static str) -> Result<&'a StringArray, RowsError> {
        self.downcast::<StringArray>(name)
    }

    fn timestamps(&self, name: &'static str) -> Result<&'a TimestampNanosecondArray, RowsError> {
        self.downcast::<TimestampNanosecondArray>(name)
    }

    fn int64(&self, name: &'static str) -> Result<&'a Int64Array, RowsError> {
        self.downcast::<Int64Array>(name)
    }

    fn float64(&self, name: &'static str) -> Result<&'a Float64Array, RowsError> {
        self.downcast::<Float64Array>(name)
    }

    fn booleans(&self, name: &'static str) -> Result<&'a BooleanArray, RowsError> {
        self.downcast::<BooleanArray>(name)
    }

    fn maps(&self, name: &'static str) -> Result<&'a MapArray, RowsError> {
        self.downcast::<MapArray>(name)
    }

    fn lists(&self, name: &'static str) -> Result<&'a ListArray, RowsError> {
        self.downcast::<ListArray>(name)
    }
}

fn string_at(array: &StringArray, row: usize) -> String {
    optional_str_at(array, row).unwrap_or_default().to_owned()
}

fn optional_string_at(array: &StringArray, row: usize) -> Option<String> {
    optional_str_at(array, row).map(str::to_owned)
}

/// A column's strings as `Arc<str>`s, consecutive equal values sharing one
/// ([`SharedNames`]).
fn shared_strings(array: &StringArray) -> impl FnMut(usize) -> Arc<str> + '_ {
    let mut names = SharedNames::default();
    move |row| names.share(optional_str_at(array, row).unwrap_or_default())
}

fn optional_str_at(array: &StringArray, row: usize) -> Option<&str> {
    (!array.is_null(row)).then(|| array.value(row))
}

fn invalid_id(column: &'static str, value: &str) -> RowsError {
    RowsError::InvalidId {
        column,
        value: value.to_owned(),
    }
}

fn optional_trace_id_at(
    array: &StringArray,
    column: &'static str,
    row: usize,
) -> Result<Option<TraceId>, RowsError> {
    if array.is_null(row) {
        return Ok(None);
    }
    let text = array.value(row);
    TraceId::parse_any(text)
        .map(Some)
        .map_err(|_| invalid_id(column, text))
}

fn trace_id_at(
    array: &StringArray,
    column: &'static str,
    row: usize,
) -> Result<TraceId, RowsError> {
    optional_trace_id_at(array, column, row)?.ok_or_else(|| invalid_id(column, ""))
}

fn optional_span_id_at(
    array: &StringArray,
    column: &'static str,
    row: usize,
) -> Result<Option<SpanId>, RowsError> {
    if array.is_null(row) {
        return Ok(None);
    }
    let text = array.value(row);
    SpanId::parse_any(text)
        .map(Some)
        .map_err(|_| invalid_id(column, text))
}

fn span_id_at(array: &StringArray, column: &'static str, row: usize) -> Result<SpanId, RowsError> {
    optional_span_id_at(array, column, row)?.ok_or_else(|| invalid_id(column, ""))
}

fn optional_at<T: arrow::datatypes::ArrowPrimitiveType>(
    array: &arrow::array::PrimitiveArray<T>,
    row: usize,
) -> Option<T::Native> {
    (!array.is_null(row)).then(|| array.value(row))
}

fn optional_bool_at(array: &BooleanArray, row: usize) -> Option<bool> {
    (!array.is_null(row)).then(|| array.value(row))
}

fn pairs_of(entries: &StructArray) -> Result<Vec<(String, String)>, RowsError> {
    let keys = entries
        .column(0)
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| RowsError::Column {
            column: "key",
            reason: "map keys are not strings".to_owned(),
        })?;
    let values = entries
        .column(1)
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| RowsError::Column {
            column: "value",
            reason: "map values are not strings".to_owned(),
        })?;
    Ok((0..entries.len())
        .map(|i| (string_at(keys, i), string_at(values, i)))
        .collect())
}

fn map_at(array: &MapArray, row: usize) -> Result<Vec<(String, String)>, RowsError> {
    if array.is_null(row) {
        return Ok(Vec::new());
    }
    pairs_of(&array.value(row))
}

fn struct_list_at(array: &ListArray, row: usize) -> Option<StructArray> {
    if array.is_null(row) {
        return None;
    }
    array
        .value(row)
        .as_any()
        .downcast_ref::<StructArray>()
        .cloned()
}

fn struct_map_at(
    values: &StructArray,
    column: usize,
    row: usize,
) -> Result<Vec<(String, String)>, RowsError> {
    match values.column(column).as_any().downcast_ref::<MapArray>() {
        Some(map) => map_at(map, row),
        None => Ok(Vec::new()),
    }
}

fn closed_value<T>(
    column: &'static str,
    text: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T, RowsError> {
    parse(text).ok_or_else(|| RowsError::UnknownValue {
        column,
        value: text.to_owned(),
    })
}

/// The rows of a `spans` record batch.
///
/// # Errors
/// [`RowsError`] when a column is missing, mistyped or holds an unknown value.
pub fn spans_from_batch(batch: &RecordBatch) -> Result<Vec<SpanRow>, RowsError> {
    let c = Columns { batch };
    let (trace_id, span_id, parent, name, kind, service) = (
        c.strings("trace_id")?,
        c.strings("span_id")?,
        c.strings("parent_span_id")?,
        c.strings("name")?,
        c.strings("kind")?,
        c.strings("service")?,
    );
    let (start, end, status_code, status_message) = (
        c.timestamps("start_time")?,
        c.timestamps("end_time")?,
        c.strings("status_code")?,
        c.strings("status_message")?,
    );
    let (request_id, faas_name, faas_trigger, cold_start, region, account) = (
        c.strings("request_id")?,
        c.strings("faas_name")?,
        c.strings("faas_trigger")?,
        c.booleans("cold_start")?,
        c.strings("cloud_region")?,
        c.strings("cloud_account_id")?,
    );
    let (attributes, resource_attributes, events, links, log_group, log_stream) = (
        c.maps("attributes")?,
        c.maps("resource_attributes")?,
        c.lists("events")?,
        c.lists("links")?,
        c.strings("log_group")?,
        c.strings("log_stream")?,
    );
    let (mut log_group, mut log_stream) = (shared_strings(log_group), shared_strings(log_stream));
    let mut rows = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let mut span_events = Vec::new();
        if let Some(values) = struct_list_at(events, row) {
            let times = values
                .column(0)
                .as_any()
                .downcast_ref::<TimestampNanosecondArray>();
            let names = values.column(1).as_any().downcast_ref::<StringArray>();
            for i in 0..values.len() {
                span_events.push(SpanEventRow {
                    time_ns: times.and_then(|t| optional_at(t, i)).unwrap_or_default(),
                    name: names.map(|n| string_at(n, i)).unwrap_or_default(),
                    attributes: struct_map_at(&values, 2, i)?,
                });
            }
        }
        let mut span_links = Vec::new();
        if let Some(values) = struct_list_at(links, row) {
            let strings_of = |column: usize, name: &'static str| {
                values
                    .column(column)
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .ok_or_else(|| RowsError::Column {
                        column: name,
                        reason: "link ids are not strings".to_owned(),
                    })
            };
            let (trace_ids, span_ids) = (strings_of(0, "trace_id")?, strings_of(1, "span_id")?);
            for i in 0..values.len() {
                span_links.push(SpanLinkRow {
                    trace_id: trace_id_at(trace_ids, "links.trace_id", i)?,
                    span_id: span_id_at(span_ids, "links.span_id", i)?,
                    attributes: struct_map_at(&values, 2, i)?,
                });
            }
        }
        rows.push(SpanRow {
            trace_id: trace_id_at(trace_id, "trace_id", row)?,
            span_id: span_id_at(span_id, "span_id", row)?,
            parent_span_id: optional_span_id_at(parent, "parent_span_id", row)?,
            name: string_at(name, row),
            kind: closed_value("kind", kind.value(row), SpanKind::parse)?,
            service: string_at(service, row),
            start_time_ns: start.value(row),
            end_time_ns: end.value(row),
            status_code: closed_value("status_code", status_code.value(row), StatusCode::parse)?,
            status_message: optional_string_at(status_message, row),
            request_id: optional_string_at(request_id, row),
            faas_name: optional_string_at(faas_name, row),
            faas_trigger: optional_string_at(faas_trigger, row),
            cold_start: optional_bool_at(cold_start, row),
            cloud_region: optional_string_at(region, row),
            cloud_account_id: optional_string_at(account, row),
            attributes: map_at(attributes, row)?,
            resource_attributes: map_at(resource_attributes, row)?,
            events: span_events,
            links: span_links,
            log_group: log_group(row),
            log_stream: log_stream(row),
        });
    }
    Ok(rows)
}

/// The rows of a `logs` record batch.
///
/// # Errors
/// [`RowsError`] when a column is missing, mistyped or holds an unknown value.
pub fn logs_from_batch(batch: &RecordBatch) -> Result<Vec<LogRow>, RowsError> {
    let c = Columns { batch };
    let (timestamp, trace_id, span_id, request_id, service, level, message) = (
        c.timestamps("timestamp")?,
        c.strings("trace_id")?,
        c.strings("span_id")?,
        c.strings("request_id")?,
        c.strings("service")?,
        c.strings("level")?,
        c.strings("message")?,
    );
    let (attributes, log_group, log_stream, event_id, format, link) = (
        c.maps("attributes")?,
        c.strings("log_group")?,
        c.strings("log_stream")?,
        c.strings("event_id")?,
        c.strings("format")?,
        c.strings("link")?,
    );
    let (mut log_group, mut log_stream) = (shared_strings(log_group), shared_strings(log_stream));
    let mut service = {
        let mut names = shared_strings(service);
        move |row| optional_str_at(service, row).map(|_| names(row))
    };
    let mut rows = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let level = match optional_str_at(level, row) {
            Some(text) => Some(closed_value("level", text, LogLevel::parse)?),
            None => None,
        };
        let link = match optional_str_at(link, row) {
            Some(text) => Some(closed_value("link", text, Link::parse)?),
            None => None,
        };
        rows.push(LogRow {
            timestamp_ns: timestamp.value(row),
            trace_id: optional_trace_id_at(trace_id, "trace_id", row)?,
            span_id: optional_span_id_at(span_id, "span_id", row)?,
            request_id: optional_string_at(request_id, row),
            service: service(row),
            level,
            message: string_at(message, row),
            attributes: map_at(attributes, row)?,
            log_group: log_group(row),
            log_stream: log_stream(row),
            event_id: string_at(event_id, row),
            format: string_at(format, row).into(),
            link,
        });
    }
    Ok(rows)
}

/// The rows of an `invocations` record batch.
///
/// # Errors
/// [`RowsError`] when a column is missing, mistyped or holds an unknown value.
pub fn invocations_from_batch(batch: &RecordBatch) -> Result<Vec<InvocationRow>, RowsError> {
    let c = Columns { batch };
    let (request_id, function, version, log_group, log_stream, start, end) = (
        c.strings("request_id")?,
        c.strings("function")?,
        c.strings("function_version")?,
        c.strings("log_group")?,
        c.strings("log_stream")?,
        c.timestamps("start_time")?,
        c.timestamps("end_time")?,
    );
    let (duration, billed, memory, max_memory, init, cold_start) = (
        c.float64("duration_ms")?,
        c.int64("billed_duration_ms")?,
        c.int64("memory_size_mb")?,
        c.int64("max_memory_used_mb")?,
        c.float64("init_duration_ms")?,
        c.booleans("cold_start")?,
    );
    let (status, error_type, trace_id, sampled) = (
        c.strings("status")?,
        c.strings("error_type")?,
        c.strings("trace_id")?,
        c.booleans("sampled")?,
    );
    let (mut log_group, mut log_stream) = (shared_strings(log_group), shared_strings(log_stream));
    let mut rows = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        rows.push(InvocationRow {
            request_id: string_at(request_id, row),
            function: string_at(function, row),
            function_version: optional_string_at(version, row),
            log_group: log_group(row),
            log_stream: log_stream(row),
            start_time_ns: optional_at(start, row),
            end_time_ns: end.value(row),
            duration_ms: duration.value(row),
            billed_duration_ms: optional_at(billed, row),
            memory_size_mb: optional_at(memory, row),
            max_memory_used_mb: optional_at(max_memory, row),
            init_duration_ms: optional_at(init, row),
            cold_start: optional_bool_at(cold_start, row).unwrap_or(false),
            status: closed_value("status", status.value(row), InvocationStatus::parse)?,
            error_type: optional_string_at(error_type, row),
            trace_id: optional_trace_id_at(trace_id, "trace_id", row)?,
            sampled: optional_bool_at(sampled, row),
        });
    }
    Ok(rows)
}

/// The rows of a `trace_index` record batch.
///
/// # Errors
/// [`RowsError`] when a column is missing or mistyped.
pub fn trace_index_from_batch(batch: &RecordBatch) -> Result<Vec<TraceIndexRow>, RowsError> {
    let c = Columns { batch };
    let (trace_id, min_start, max_end, root_service, root_name) = (
        c.strings("trace_id")?,
        c.timestamps("min_start")?,
        c.timestamps("max_end")?,
        c.strings("root_service")?,
        c.strings("root_name")?,
    );
    let (span_count, error_count, services) = (
        c.int64("span_count")?,
        c.int64("error_count")?,
        c.lists("services")?,
    );
    let mut rows = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let names = if services.is_null(row) {
            Vec::new()
        } else {
            let values = services.value(row);
            match values.as_any().downcast_ref::<StringArray>() {
                Some(strings) => (0..strings.len()).map(|i| string_at(strings, i)).collect(),
                None => Vec::new(),
            }
        };
        rows.push(TraceIndexRow {
            trace_id: trace_id_at(trace_id, "trace_id", row)?,
            min_start_ns: min_start.value(row),
            max_end_ns: max_end.value(row),
            root_service: optional_string_at(root_service, row),
            root_name: optional_string_at(root_name, row),
            span_count: span_count.value(row),
            error_count: error_count.value(row),
            services: names,
        });
    }
    Ok(rows)
}
