//! Rows to Arrow record batches, one function per table, matching [`crate::schema`].

use std::fmt::{Display, Write as _};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, ListArray, MapArray, RecordBatch,
    StringArray, StringBuilder, StructArray, TimestampNanosecondArray,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::{DataType, Field};
use arrow::error::ArrowError;

use crate::rows::{
    InvocationRow, Link, LogLevel, LogRow, SpanEventRow, SpanLinkRow, SpanRow, TraceIndexRow,
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
