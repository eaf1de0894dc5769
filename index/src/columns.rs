//! Rows to Arrow record batches and back, one function per table and direction,
//! matching [`crate::schema`].

use std::fmt::{Display, Write as _};
use std::sync::Arc;

use arrow::array::{
    Array as _, ArrayRef, BooleanArray, Float64Array, Int64Array, ListArray, MapArray, RecordBatch,
    StringArray, StringBuilder, StructArray, TimestampNanosecondArray,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::{DataType, Field};
use arrow::error::ArrowError;

use crate::rows::{
    InvocationRow, InvocationStatus, Link, LogLevel, LogRow, SpanEventRow, SpanId, SpanKind,
    SpanLinkRow, SpanRow, StatusCode, TraceId, TraceIndexRow,
};
use crate::schema;

fn strings<'a>(values: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(values))
}

fn optional_strings<'a>(values: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(StringArray::from_iter(values))
}

/// An id column (trace or span ids in their one text form, lowercase hex),
/// formatted straight into the column's buffer: no string per row.
fn ids<T: Display>(values: impl Iterator<Item = Option<T>>) -> ArrayRef {
    let mut builder = StringBuilder::new();
    for value in values {
        match value {
            Some(id) => {
                // Writing into the builder's buffer cannot fail.
                let _ = write!(builder, "{id}");
                builder.append_value("");
            }
            None => builder.append_null(),
        }
    }
    Arc::new(builder.finish())
}

fn timestamps(values: impl Iterator<Item = i64>) -> ArrayRef {
    Arc::new(TimestampNanosecondArray::from_iter_values(values).with_timezone("UTC"))
}

fn optional_timestamps(values: impl Iterator<Item = Option<i64>>) -> ArrayRef {
    Arc::new(TimestampNanosecondArray::from_iter(values).with_timezone("UTC"))
}

fn offsets_of(lengths: impl Iterator<Item = usize>) -> OffsetBuffer<i32> {
    OffsetBuffer::from_lengths(lengths)
}

/// A `map<string,string>` column from each row's pairs.
fn string_maps<'a>(
    maps: impl Iterator<Item = &'a [(String, String)]> + Clone,
) -> Result<MapArray, ArrowError> {
    // Flattened iterators have no exact size, which `from_iter_values` needs.
    let keys: StringArray = maps
        .clone()
        .flatten()
        .map(|(k, _)| Some(k.as_str()))
        .collect();
    let values: StringArray = maps
        .clone()
        .flatten()
        .map(|(_, v)| Some(v.as_str()))
        .collect();
    let entries = StructArray::try_new(
        schema::string_map_struct_fields(),
        vec![Arc::new(keys) as ArrayRef, Arc::new(values) as ArrayRef],
        None,
    )?;
    MapArray::try_new(
        Arc::new(schema::string_map_entries_field()),
        offsets_of(maps.map(<[_]>::len)),
        entries,
        None,
        false,
    )
}

fn list_of(
    element: DataType,
    lengths: impl Iterator<Item = usize>,
    values: ArrayRef,
) -> Result<ListArray, ArrowError> {
    ListArray::try_new(
        Arc::new(Field::new("element", element, true)),
        offsets_of(lengths),
        values,
        None::<NullBuffer>,
    )
}

fn span_events(rows: &[SpanRow]) -> Result<ListArray, ArrowError> {
    let all: Vec<&SpanEventRow> = rows.iter().flat_map(|r| &r.events).collect();
    let values = StructArray::try_new(
        schema::span_event_fields(),
        vec![
            timestamps(all.iter().map(|e| e.time_ns)),
            strings(all.iter().map(|e| e.name.as_str())),
            Arc::new(string_maps(all.iter().map(|e| e.attributes.as_slice()))?),
        ],
        None,
    )?;
    list_of(
        DataType::Struct(schema::span_event_fields()),
        rows.iter().map(|r| r.events.len()),
        Arc::new(values),
    )
}

fn span_links(rows: &[SpanRow]) -> Result<ListArray, ArrowError> {
    let all: Vec<&SpanLinkRow> = rows.iter().flat_map(|r| &r.links).collect();
    let values = StructArray::try_new(
        schema::span_link_fields(),
        vec![
            ids(all.iter().map(|l| Some(l.trace_id))),
            ids(all.iter().map(|l| Some(l.span_id))),
            Arc::new(string_maps(all.iter().map(|l| l.attributes.as_slice()))?),
        ],
        None,
    )?;
    list_of(
        DataType::Struct(schema::span_link_fields()),
        rows.iter().map(|r| r.links.len()),
        Arc::new(values),
    )
}

/// The `spans` columns of `rows`.
///
/// # Errors
/// [`ArrowError`] when the columns do not match the table's schema.
pub fn spans_batch(rows: &[SpanRow]) -> Result<RecordBatch, ArrowError> {
    let columns: Vec<ArrayRef> = vec![
        ids(rows.iter().map(|r| Some(r.trace_id))),
        ids(rows.iter().map(|r| Some(r.span_id))),
        ids(rows.iter().map(|r| r.parent_span_id)),
        strings(rows.iter().map(|r| r.name.as_str())),
        strings(rows.iter().map(|r| r.kind.as_str())),
        strings(rows.iter().map(|r| r.service.as_str())),
        timestamps(rows.iter().map(|r| r.start_time_ns)),
        timestamps(rows.iter().map(|r| r.end_time_ns)),
        Arc::new(Int64Array::from_iter_values(
            rows.iter()
                .map(|r| r.end_time_ns.saturating_sub(r.start_time_ns)),
        )),
        strings(rows.iter().map(|r| r.status_code.as_str())),
        optional_strings(rows.iter().map(|r| r.status_message.as_deref())),
        optional_strings(rows.iter().map(|r| r.request_id.as_deref())),
        optional_strings(rows.iter().map(|r| r.faas_name.as_deref())),
        optional_strings(rows.iter().map(|r| r.faas_trigger.as_deref())),
        Arc::new(BooleanArray::from_iter(rows.iter().map(|r| r.cold_start))),
        optional_strings(rows.iter().map(|r| r.cloud_region.as_deref())),
        optional_strings(rows.iter().map(|r| r.cloud_account_id.as_deref())),
        Arc::new(string_maps(rows.iter().map(|r| r.attributes.as_slice()))?),
        Arc::new(string_maps(
            rows.iter().map(|r| r.resource_attributes.as_slice()),
        )?),
        Arc::new(span_events(rows)?),
        Arc::new(span_links(rows)?),
        strings(rows.iter().map(|r| r.log_group.as_str())),
        strings(rows.iter().map(|r| r.log_stream.as_str())),
    ];
    RecordBatch::try_new(schema::spans_schema(), columns)
}

/// The `logs` columns of `rows`.
///
/// # Errors
/// [`ArrowError`] when the columns do not match the table's schema.
pub fn logs_batch(rows: &[LogRow]) -> Result<RecordBatch, ArrowError> {
    let columns: Vec<ArrayRef> = vec![
        timestamps(rows.iter().map(|r| r.timestamp_ns)),
        ids(rows.iter().map(|r| r.trace_id)),
        ids(rows.iter().map(|r| r.span_id)),
        optional_strings(rows.iter().map(|r| r.request_id.as_deref())),
        optional_strings(rows.iter().map(|r| r.service.as_deref())),
        optional_strings(rows.iter().map(|r| r.level.map(LogLevel::as_str))),
        strings(rows.iter().map(|r| r.message.as_str())),
        Arc::new(string_maps(rows.iter().map(|r| r.attributes.as_slice()))?),
        strings(rows.iter().map(|r| r.log_group.as_str())),
        strings(rows.iter().map(|r| r.log_stream.as_str())),
        strings(rows.iter().map(|r| r.event_id.as_str())),
        strings(rows.iter().map(|r| r.format.as_ref())),
        optional_strings(rows.iter().map(|r| r.link.map(Link::as_str))),
    ];
    RecordBatch::try_new(schema::logs_schema(), columns)
}

/// The `invocations` columns of `rows`.
///
/// # Errors
/// [`ArrowError`] when the columns do not match the table's schema.
pub fn invocations_batch(rows: &[InvocationRow]) -> Result<RecordBatch, ArrowError> {
    let columns: Vec<ArrayRef> = vec![
        strings(rows.iter().map(|r| r.request_id.as_str())),
        strings(rows.iter().map(|r| r.function.as_str())),
        optional_strings(rows.iter().map(|r| r.function_version.as_deref())),
        strings(rows.iter().map(|r| r.log_group.as_str())),
        strings(rows.iter().map(|r| r.log_stream.as_str())),
        optional_timestamps(rows.iter().map(|r| r.start_time_ns)),
        timestamps(rows.iter().map(|r| r.end_time_ns)),
        Arc::new(Float64Array::from_iter_values(
            rows.iter().map(|r| r.duration_ms),
        )),
        Arc::new(Int64Array::from_iter(
            rows.iter().map(|r| r.billed_duration_ms),
        )),
        Arc::new(Int64Array::from_iter(rows.iter().map(|r| r.memory_size_mb))),
        Arc::new(Int64Array::from_iter(
            rows.iter().map(|r| r.max_memory_used_mb),
        )),
        Arc::new(Float64Array::from_iter(
            rows.iter().map(|r| r.init_duration_ms),
        )),
        Arc::new(BooleanArray::from_iter(
            rows.iter().map(|r| Some(r.cold_start)),
        )),
        strings(rows.iter().map(|r| r.status.as_str())),
        optional_strings(rows.iter().map(|r| r.error_type.as_deref())),
        ids(rows.iter().map(|r| r.trace_id)),
        Arc::new(BooleanArray::from_iter(rows.iter().map(|r| r.sampled))),
    ];
    RecordBatch::try_new(schema::invocations_schema(), columns)
}

/// The `trace_index` columns of `rows`.
///
/// # Errors
/// [`ArrowError`] when the columns do not match the table's schema.
pub fn trace_index_batch(rows: &[TraceIndexRow]) -> Result<RecordBatch, ArrowError> {
    let services: StringArray = rows
        .iter()
        .flat_map(|r| r.services.iter().map(|s| Some(s.as_str())))
        .collect();
    let columns: Vec<ArrayRef> = vec![
        ids(rows.iter().map(|r| Some(r.trace_id))),
        timestamps(rows.iter().map(|r| r.min_start_ns)),
        timestamps(rows.iter().map(|r| r.max_end_ns)),
        optional_strings(rows.iter().map(|r| r.root_service.as_deref())),
        optional_strings(rows.iter().map(|r| r.root_name.as_deref())),
        Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|r| r.span_count),
        )),
        Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|r| r.error_count),
        )),
        Arc::new(list_of(
            DataType::Utf8,
            rows.iter().map(|r| r.services.len()),
            Arc::new(services),
        )?),
    ];
    RecordBatch::try_new(schema::trace_index_schema(), columns)
}

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
    if array.is_null(row) {
        String::new()
    } else {
        array.value(row).to_owned()
    }
}

fn optional_string_at(array: &StringArray, row: usize) -> Option<String> {
    (!array.is_null(row)).then(|| array.value(row).to_owned())
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
            log_group: string_at(log_group, row),
            log_stream: string_at(log_stream, row),
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
    let mut rows = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let level = match optional_string_at(level, row) {
            Some(text) => Some(closed_value("level", &text, LogLevel::parse)?),
            None => None,
        };
        let link = match optional_string_at(link, row) {
            Some(text) => Some(closed_value("link", &text, Link::parse)?),
            None => None,
        };
        rows.push(LogRow {
            timestamp_ns: timestamp.value(row),
            trace_id: optional_trace_id_at(trace_id, "trace_id", row)?,
            span_id: optional_span_id_at(span_id, "span_id", row)?,
            request_id: optional_string_at(request_id, row),
            service: optional_string_at(service, row),
            level,
            message: string_at(message, row),
            attributes: map_at(attributes, row)?,
            log_group: string_at(log_group, row),
            log_stream: string_at(log_stream, row),
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
    let mut rows = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        rows.push(InvocationRow {
            request_id: string_at(request_id, row),
            function: string_at(function, row),
            function_version: optional_string_at(version, row),
            log_group: string_at(log_group, row),
            log_stream: string_at(log_stream, row),
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
