//! Rows to Arrow record batches, one function per table, matching [`crate::schema`].

use std::borrow::Borrow;
use std::fmt::{Display, Write as _};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, ListArray, MapArray, RecordBatch,
    StringBuilder, StructArray, TimestampNanosecondArray,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::{DataType, Field};
use arrow::error::ArrowError;

use crate::rows::{
    InvocationRow, Link, LogLevel, LogRow, SpanEventRow, SpanLinkRow, SpanRow, TraceIndexRow,
};
use crate::schema;

/// The rows of a table, whether the caller holds them or refers to them (a
/// writer sorting references instead of moving rows).
fn each<'a, T: 'a>(rows: &'a [impl Borrow<T>]) -> impl Iterator<Item = &'a T> + Clone {
    rows.iter().map(Borrow::borrow)
}

/// A string column, its buffers sized before they are filled: growing them
/// value by value copied each column of a large batch several times over.
fn strings<'a>(values: impl Iterator<Item = &'a str> + Clone) -> ArrayRef {
    optional_strings(values.map(Some))
}

fn optional_strings<'a>(values: impl Iterator<Item = Option<&'a str>> + Clone) -> ArrayRef {
    let (rows, bytes) = values.clone().fold((0, 0), |(rows, bytes), value| {
        (rows + 1, bytes + value.map_or(0, str::len))
    });
    let mut builder = StringBuilder::with_capacity(rows, bytes);
    builder.extend(values);
    Arc::new(builder.finish())
}

/// The most bytes an id takes as text: a trace id's 32 hex digits.
const ID_TEXT_BYTES: usize = 32;

/// An id column (trace or span ids in their one text form, lowercase hex),
/// formatted straight into the column's buffer: no string per row.
fn ids<T: Display>(values: impl Iterator<Item = Option<T>>) -> ArrayRef {
    let rows = values.size_hint().0;
    let mut builder = StringBuilder::with_capacity(rows, rows * ID_TEXT_BYTES);
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
    let keys = strings(maps.clone().flatten().map(|(k, _)| k.as_str()));
    let values = strings(maps.clone().flatten().map(|(_, v)| v.as_str()));
    let entries =
        StructArray::try_new(schema::string_map_struct_fields(), vec![keys, values], None)?;
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

fn span_events(rows: &[impl Borrow<SpanRow>]) -> Result<ListArray, ArrowError> {
    let all: Vec<&SpanEventRow> = each(rows).flat_map(|r| &r.events).collect();
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
        each(rows).map(|r| r.events.len()),
        Arc::new(values),
    )
}

fn span_links(rows: &[impl Borrow<SpanRow>]) -> Result<ListArray, ArrowError> {
    let all: Vec<&SpanLinkRow> = each(rows).flat_map(|r| &r.links).collect();
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
        each(rows).map(|r| r.links.len()),
        Arc::new(values),
    )
}

/// The `spans` columns of `rows`.
///
/// # Errors
/// [`ArrowError`] when the columns do not match the table's schema.
pub fn spans_batch(rows: &[impl Borrow<SpanRow>]) -> Result<RecordBatch, ArrowError> {
    let columns: Vec<ArrayRef> = vec![
        ids(each(rows).map(|r| Some(r.trace_id))),
        ids(each(rows).map(|r| Some(r.span_id))),
        ids(each(rows).map(|r| r.parent_span_id)),
        strings(each(rows).map(|r| r.name.as_str())),
        strings(each(rows).map(|r| r.kind.as_str())),
        strings(each(rows).map(|r| r.service.as_str())),
        timestamps(each(rows).map(|r| r.start_time_ns)),
        timestamps(each(rows).map(|r| r.end_time_ns)),
        Arc::new(Int64Array::from_iter_values(
            each(rows).map(|r| r.end_time_ns.saturating_sub(r.start_time_ns)),
        )),
        strings(each(rows).map(|r| r.status_code.as_str())),
        optional_strings(each(rows).map(|r| r.status_message.as_deref())),
        optional_strings(each(rows).map(|r| r.request_id.as_deref())),
        optional_strings(each(rows).map(|r| r.faas_name.as_deref())),
        optional_strings(each(rows).map(|r| r.faas_trigger.as_deref())),
        Arc::new(BooleanArray::from_iter(each(rows).map(|r| r.cold_start))),
        optional_strings(each(rows).map(|r| r.cloud_region.as_deref())),
        optional_strings(each(rows).map(|r| r.cloud_account_id.as_deref())),
        Arc::new(string_maps(each(rows).map(|r| r.attributes.as_slice()))?),
        Arc::new(string_maps(
            each(rows).map(|r| r.resource_attributes.as_slice()),
        )?),
        Arc::new(span_events(rows)?),
        Arc::new(span_links(rows)?),
        strings(each(rows).map(|r| &*r.log_group)),
        strings(each(rows).map(|r| &*r.log_stream)),
    ];
    RecordBatch::try_new(schema::spans_schema(), columns)
}

/// The `logs` columns of `rows`.
///
/// # Errors
/// [`ArrowError`] when the columns do not match the table's schema.
pub fn logs_batch(rows: &[impl Borrow<LogRow>]) -> Result<RecordBatch, ArrowError> {
    let columns: Vec<ArrayRef> = vec![
        timestamps(each(rows).map(|r| r.timestamp_ns)),
        ids(each(rows).map(|r| r.trace_id)),
        ids(each(rows).map(|r| r.span_id)),
        optional_strings(each(rows).map(|r| r.request_id.as_deref())),
        optional_strings(each(rows).map(|r| r.service.as_deref())),
        optional_strings(each(rows).map(|r| r.level.map(LogLevel::as_str))),
        strings(each(rows).map(|r| r.message.as_str())),
        Arc::new(string_maps(each(rows).map(|r| r.attributes.as_slice()))?),
        strings(each(rows).map(|r| &*r.log_group)),
        strings(each(rows).map(|r| &*r.log_stream)),
        strings(each(rows).map(|r| r.event_id.as_str())),
        strings(each(rows).map(|r| r.format.as_ref())),
        optional_strings(each(rows).map(|r| r.link.map(Link::as_str))),
    ];
    RecordBatch::try_new(schema::logs_schema(), columns)
}

/// The `invocations` columns of `rows`.
///
/// # Errors
/// [`ArrowError`] when the columns do not match the table's schema.
pub fn invocations_batch(rows: &[impl Borrow<InvocationRow>]) -> Result<RecordBatch, ArrowError> {
    let columns: Vec<ArrayRef> = vec![
        strings(each(rows).map(|r| r.request_id.as_str())),
        strings(each(rows).map(|r| r.function.as_str())),
        optional_strings(each(rows).map(|r| r.function_version.as_deref())),
        strings(each(rows).map(|r| &*r.log_group)),
        strings(each(rows).map(|r| &*r.log_stream)),
        optional_timestamps(each(rows).map(|r| r.start_time_ns)),
        timestamps(each(rows).map(|r| r.end_time_ns)),
        Arc::new(Float64Array::from_iter_values(
            each(rows).map(|r| r.duration_ms),
        )),
        Arc::new(Int64Array::from_iter(
            each(rows).map(|r| r.billed_duration_ms),
        )),
        Arc::new(Int64Array::from_iter(each(rows).map(|r| r.memory_size_mb))),
        Arc::new(Int64Array::from_iter(
            each(rows).map(|r| r.max_memory_used_mb),
        )),
        Arc::new(Float64Array::from_iter(
            each(rows).map(|r| r.init_duration_ms),
        )),
        Arc::new(BooleanArray::from_iter(
            each(rows).map(|r| Some(r.cold_start)),
        )),
        strings(each(rows).map(|r| r.status.as_str())),
        optional_strings(each(rows).map(|r| r.error_type.as_deref())),
        ids(each(rows).map(|r| r.trace_id)),
        Arc::new(BooleanArray::from_iter(each(rows).map(|r| r.sampled))),
    ];
    RecordBatch::try_new(schema::invocations_schema(), columns)
}

/// The `trace_index` columns of `rows`.
///
/// # Errors
/// [`ArrowError`] when the columns do not match the table's schema.
pub fn trace_index_batch(rows: &[impl Borrow<TraceIndexRow>]) -> Result<RecordBatch, ArrowError> {
    let services = strings(each(rows).flat_map(|r| r.services.iter().map(String::as_str)));
    let columns: Vec<ArrayRef> = vec![
        ids(each(rows).map(|r| Some(r.trace_id))),
        timestamps(each(rows).map(|r| r.min_start_ns)),
        timestamps(each(rows).map(|r| r.max_end_ns)),
        optional_strings(each(rows).map(|r| r.root_service.as_deref())),
        optional_strings(each(rows).map(|r| r.root_name.as_deref())),
        Arc::new(Int64Array::from_iter_values(
            each(rows).map(|r| r.span_count),
        )),
        Arc::new(Int64Array::from_iter_values(
            each(rows).map(|r| r.error_count),
        )),
        Arc::new(list_of(
            DataType::Utf8,
            each(rows).map(|r| r.services.len()),
            services,
        )?),
    ];
    RecordBatch::try_new(schema::trace_index_schema(), columns)
}
