//! Query results as JSON: the one place where Arrow record batches become the
//! typed rows of `model` and the rows of ad-hoc SQL.
//!
//! arrow-json's writer writes the batches as one JSON array of objects, and
//! serde reads it. A small [`EncoderFactory`] keeps the API's forms of the
//! cells that arrow-json writes otherwise (per column, never per cell):
//! - timestamps of every unit and zone, nested ones too (span events), become
//!   integer nanoseconds since the epoch (UTC), so that callers never parse a
//!   date string back (seconds past the year 2262 saturate);
//! - floats are written in their shortest form (as `serde_json` writes them),
//!   NaN and ±infinity as `null`; for the typed rows they are written as JSON
//!   strings and read back by [`model`](super::model)'s float reader, because
//!   `serde_json` without its `float_roundtrip` feature reads one float in five
//!   of that form one bit off, and the API would then show another last digit;
//! - types without a natural JSON form (dates, times, durations, intervals,
//!   decimals, binaries, `Float16`, fixed-size lists, list views, run-end
//!   encoded and union arrays, maps with non-string keys) become strings as
//!   Arrow displays them.
//!
//! NULL cells are written as `null` (explicit nulls), lists as arrays, structs
//! and string-keyed maps as objects.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{
    DataType, Field, FieldRef, Float32Type, Float64Type, Schema, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType,
};
use arrow::error::ArrowError;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use arrow_json::writer::{JsonArray, NullableEncoder};
use arrow_json::{Encoder, EncoderFactory, EncoderOptions, WriterBuilder};
use serde::Serializer as _;
use serde::de::{DeserializeOwned, Error as _};
use serde_json::{Map, Number, Value};

/// One result row: column name → value.
pub type Row = Map<String, Value>;

/// Reads the batches' rows, in order, each into a `T` (a type of `model`).
///
/// # Errors
///
/// A row that `T` does not read (a missing column, another type), or a batch
/// arrow-json cannot write (a map with NULL keys).
pub fn decode<T: DeserializeOwned>(batches: &[RecordBatch]) -> Result<Vec<T>, serde_json::Error> {
    serde_json::from_slice(&write_json(batches, Floats::Strings)?)
}

/// Converts record batches into rows, in order (for ad-hoc SQL).
///
/// # Errors
///
/// A batch arrow-json cannot write (a map with NULL keys, lists nested past
/// `serde_json`'s depth limit of 128).
pub fn batches_to_rows(batches: &[RecordBatch]) -> Result<Vec<Row>, serde_json::Error> {
    let batches = batches
        .iter()
        .map(with_distinct_names)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| serde_json::Error::custom(format!("naming columns: {error}")))?;
    let batches = batches.as_slice();
    let mut rows: Vec<Row> = serde_json::from_slice(&write_json(batches, Floats::Numbers)?)?;
    // Float columns again from their arrays: a `Value` reads a JSON float
    // through `serde_json`'s parser, which may be one bit off (see above).
    // Floats nested in lists or structs keep that caveat.
    let mut first_row = 0;
    for batch in batches {
        let end = first_row + batch.num_rows();
        let batch_rows = rows.get_mut(first_row..end).unwrap_or_default();
        first_row = end;
        for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
            let exact: Box<dyn Fn(usize) -> f64> = match column.data_type() {
                DataType::Float64 => {
                    let values = column.as_primitive::<Float64Type>();
                    Box::new(|index| values.value(index))
                }
                DataType::Float32 => {
                    let values = column.as_primitive::<Float32Type>();
                    Box::new(|index| f64::from(values.value(index)))
                }
                _ => continue,
            };
            for (index, row) in batch_rows.iter_mut().enumerate() {
                if let Some(cell) = row.get_mut(field.name()).filter(|_| column.is_valid(index)) {
                    *cell = Number::from_f64(exact(index)).map_or(Value::Null, Value::Number);
                }
            }
        }
    }
    Ok(rows)
}

/// The batch with one key per column: a name that comes again in one result
/// (`SELECT a.service, b.service …`: DataFusion's output names drop the
/// qualifier) becomes `name_1`, `name_2`… after its first use, skipping names
/// the result already has, as DuckDB names them; without a repeat the batch
/// is unchanged.
fn with_distinct_names(batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    let schema = batch.schema();
    let names = column_names(&schema);
    if names
        .iter()
        .zip(schema.fields())
        .all(|(name, field)| name == field.name())
    {
        return Ok(batch.clone());
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .zip(names)
        .map(|(field, name)| field.as_ref().clone().with_name(name))
        .collect();
    let renamed = Schema::new_with_metadata(fields, schema.metadata().clone());
    RecordBatch::try_new(Arc::new(renamed), batch.columns().to_vec())
}

/// The keys of [`batches_to_rows`]'s rows in the query's column order: each
/// column's name, a name that comes again with `_1`, `_2`… after its first
/// use, skipping names the result already has (as DuckDB names them). A
/// row's keys come in alphabetical order; this list is the `SELECT`'s order
/// (the `columns` of the SQL API's answer).
pub fn column_names(schema: &Schema) -> Vec<String> {
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let taken: HashSet<&str> = names.iter().copied().collect();
    let mut used: HashSet<String> = HashSet::new();
    let mut distinct_names = Vec::with_capacity(names.len());
    for name in names {
        let mut distinct = name.to_owned();
        let mut suffix = 0_usize;
        while used.contains(&distinct) || (suffix > 0 && taken.contains(distinct.as_str())) {
            suffix += 1;
            distinct = format!("{name}_{suffix}");
        }
        used.insert(distinct.clone());
        distinct_names.push(distinct);
    }
    distinct_names
}

/// Batches as an aligned text table (for the CLI's ad-hoc SQL).
///
/// # Errors
///
/// Arrow's error when a column's type has no text form in Arrow's formatter.
pub fn pretty_table(batches: &[RecordBatch]) -> Result<String, ArrowError> {
    arrow::util::pretty::pretty_format_batches(batches).map(|table| table.to_string())
}

/// How floats are written: JSON numbers, or JSON strings of the same text for
/// the typed rows, which read them exactly.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Floats {
    Numbers,
    Strings,
}

/// The batches as one JSON array of row objects.
fn write_json(batches: &[RecordBatch], floats: Floats) -> Result<Vec<u8>, serde_json::Error> {
    let written = (|| {
        let mut writer = WriterBuilder::new()
            .with_explicit_nulls(true)
            .with_encoder_factory(Arc::new(ApiForms { floats }))
            .build::<_, JsonArray>(Vec::new());
        for batch in batches {
            writer.write(batch)?;
        }
        writer.finish()?;
        Ok::<_, ArrowError>(writer.into_inner())
    })();
    written.map_err(|error| serde_json::Error::custom(format!("writing rows as JSON: {error}")))
}

/// The API's forms of the cells arrow-json writes otherwise (see the module docs).
#[derive(Debug)]
struct ApiForms {
    floats: Floats,
}

impl EncoderFactory for ApiForms {
    fn make_default_encoder<'a>(
        &self,
        _field: &'a FieldRef,
        array: &'a dyn Array,
        _options: &'a EncoderOptions,
    ) -> Result<Option<NullableEncoder<'a>>, ArrowError> {
        let encoder: Box<dyn Encoder + 'a> = match array.data_type() {
            DataType::Timestamp(unit, _) => {
                let (values, nanos_per_unit) = match unit {
                    TimeUnit::Second => (
                        array.as_primitive::<TimestampSecondType>().values(),
                        1_000_000_000,
                    ),
                    TimeUnit::Millisecond => (
                        array.as_primitive::<TimestampMillisecondType>().values(),
                        1_000_000,
                    ),
                    TimeUnit::Microsecond => (
                        array.as_primitive::<TimestampMicrosecondType>().values(),
                        1_000,
                    ),
                    TimeUnit::Nanosecond => {
                        (array.as_primitive::<TimestampNanosecondType>().values(), 1)
                    }
                };
                Box::new(EpochNanos {
                    values,
                    nanos_per_unit,
                })
            }
            DataType::Float64 => Box::new(Float {
                values: array.as_primitive::<Float64Type>().values(),
                quoted: self.floats == Floats::Strings,
            }),
            DataType::Float32 => Box::new(Float {
                values: array.as_primitive::<Float32Type>().values(),
                quoted: self.floats == Floats::Strings,
            }),
            DataType::Map(entries, _) if !has_string_keys(entries.data_type()) => displayed(array)?,
            DataType::Null
            | DataType::Boolean
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Dictionary(_, _)
            | DataType::List(_)
            | DataType::LargeList(_)
            | DataType::Struct(_)
            | DataType::Map(_, _) => return Ok(None),
            _ => displayed(array)?,
        };
        Ok(Some(NullableEncoder::new(encoder, array.logical_nulls())))
    }
}

fn has_string_keys(entries: &DataType) -> bool {
    match entries {
        DataType::Struct(fields) => fields.first().is_some_and(|key| {
            matches!(
                key.data_type(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            )
        }),
        _ => false,
    }
}

/// A cell as Arrow displays it, as a JSON string.
fn displayed<'a>(array: &'a dyn Array) -> Result<Box<dyn Encoder + 'a>, ArrowError> {
    let formatter = ArrayFormatter::try_new(array, &FormatOptions::default())?;
    Ok(Box::new(Displayed(formatter)))
}

struct Displayed<'a>(ArrayFormatter<'a>);

impl Encoder for Displayed<'_> {
    fn encode(&mut self, index: usize, out: &mut Vec<u8>) {
        // With `FormatOptions::default()` a value that fails to format is
        // displayed as `ERROR: …`, so the formatter itself does not fail.
        let written = serde_json::Serializer::new(&mut *out).collect_str(&self.0.value(index));
        if written.is_err() {
            out.extend_from_slice(b"null");
        }
    }
}

/// Timestamps as integer nanoseconds since the epoch.
struct EpochNanos<'a> {
    values: &'a [i64],
    nanos_per_unit: i64,
}

impl Encoder for EpochNanos<'_> {
    fn encode(&mut self, index: usize, out: &mut Vec<u8>) {
        let nanos = self.values[index].saturating_mul(self.nanos_per_unit);
        // Writing an integer into a `Vec` cannot fail.
        let _ = serde_json::to_writer(&mut *out, &nanos);
    }
}

/// Floats as `serde_json` writes them (shortest form, `null` when not finite).
struct Float<'a, F> {
    values: &'a [F],
    quoted: bool,
}

impl<F: Copy + Into<f64>> Encoder for Float<'_, F> {
    fn encode(&mut self, index: usize, out: &mut Vec<u8>) {
        let value: f64 = self.values[index].into();
        if !value.is_finite() {
            out.extend_from_slice(b"null");
            return;
        }
        if self.quoted {
            out.push(b'"');
        }
        // Writing a finite float into a `Vec` cannot fail.
        let _ = serde_json::to_writer(&mut *out, &value);
        if self.quoted {
            out.push(b'"');
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{
        ArrayRef, BooleanArray, Date32Array, Decimal128Array, DictionaryArray, Float32Array,
        Float64Array, Int64Array, ListArray, ListBuilder, MapBuilder, StringArray, StringBuilder,
        StructArray, TimestampMicrosecondArray, TimestampMillisecondArray,
        TimestampNanosecondArray, TimestampSecondArray,
    };
    use arrow::buffer::OffsetBuffer;
    use arrow::datatypes::{Field, Fields, Int32Type, Schema};
    use arrow::util::display::array_value_to_string;
    use serde_json::json;
    use tracelake_index::rows::InvocationStatus;

    use super::*;
    use crate::query::model::Invocation;

    /// A float that `serde_json` (without `float_roundtrip`) reads back one
    /// bit off from its shortest form.
    const AWKWARD: f64 = 1_292_699_997.428_571_5;
    const SECONDS: [Option<i64>; 2] = [Some(1_700_000_000), None];
    const MILLIS: i64 = 1_700_000_000_123;
    const MICROS: i64 = 1_700_000_000_123_456;
    const NANOS: i64 = 1_700_000_000_123_456_789;

    fn every_type() -> RecordBatch {
        let event_fields = Fields::from(vec![
            Field::new(
                "time",
                DataType::Timestamp(TimeUnit::Nanosecond, None),
                true,
            ),
            Field::new("name", DataType::Utf8, true),
        ]);
        let event_structs = StructArray::new(
            event_fields.clone(),
            vec![
                Arc::new(TimestampNanosecondArray::from(vec![Some(NANOS), None])) as ArrayRef,
                Arc::new(StringArray::from(vec![Some("exception"), Some("retry")])),
            ],
            None,
        );
        let events = ListArray::new(
            Arc::new(Field::new_struct("item", event_fields, true)),
            OffsetBuffer::from_lengths([2, 0]),
            Arc::new(event_structs),
            None,
        );
        let mut tags = ListBuilder::new(StringBuilder::new());
        tags.append_value([Some("a"), None]);
        tags.append_null();
        let mut attributes = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
        attributes.keys().append_value("http.route");
        attributes.values().append_value("/orders");
        attributes.keys().append_value("gone");
        attributes.values().append_null();
        attributes.append(true).expect("map row");
        attributes.append(false).expect("null map row");
        let service: DictionaryArray<Int32Type> = vec![Some("api"), None].into_iter().collect();
        let decimal = Decimal128Array::from(vec![Some(150), None])
            .with_precision_and_scale(10, 2)
            .expect("decimal");
        let columns: Vec<(&str, ArrayRef)> = vec![
            (
                "ts_s",
                Arc::new(TimestampSecondArray::from(SECONDS.to_vec())),
            ),
            (
                "ts_ms",
                Arc::new(
                    TimestampMillisecondArray::from(vec![Some(MILLIS), Some(-MILLIS)])
                        .with_timezone("UTC"),
                ),
            ),
            (
                "ts_us",
                Arc::new(TimestampMicrosecondArray::from(vec![Some(MICROS), None])),
            ),
            (
                "ts_ns",
                Arc::new(TimestampNanosecondArray::from(vec![Some(NANOS), None])),
            ),
            (
                "f64",
                Arc::new(Float64Array::from(vec![Some(AWKWARD), Some(f64::NAN)])),
            ),
            (
                "f64_inf",
                Arc::new(Float64Array::from(vec![Some(f64::INFINITY), None])),
            ),
            (
                "f32",
                Arc::new(Float32Array::from(vec![Some(0.1_f32), Some(2.5)])),
            ),
            (
                "i64",
                Arc::new(Int64Array::from(vec![Some(i64::MAX), None])),
            ),
            ("flag", Arc::new(BooleanArray::from(vec![Some(true), None]))),
            (
                "text",
                Arc::new(StringArray::from(vec![Some("say \"hi\"\n"), None])),
            ),
            ("tags", Arc::new(tags.finish())),
            ("events", Arc::new(events)),
            ("attributes", Arc::new(attributes.finish())),
            ("service", Arc::new(service)),
            ("day", Arc::new(Date32Array::from(vec![Some(19_000), None]))),
            ("amount", Arc::new(decimal)),
        ];
        let schema = Schema::new(
            columns
                .iter()
                .map(|(name, column)| Field::new(*name, column.data_type().clone(), true))
                .collect::<Vec<_>>(),
        );
        RecordBatch::try_new(
            Arc::new(schema),
            columns.into_iter().map(|(_, column)| column).collect(),
        )
        .expect("batch")
    }

    #[test]
    fn rows_keep_the_api_forms_of_every_column_type() {
        let batch = every_type();
        let shown = |name: &str, row: usize| {
            array_value_to_string(batch.column_by_name(name).expect("column"), row)
                .expect("displayed")
        };
        let expected = vec![
            json!({
                "ts_s": SECONDS[0].map(|s| s * 1_000_000_000),
                "ts_ms": MILLIS * 1_000_000,
                "ts_us": MICROS * 1_000,
                "ts_ns": NANOS,
                "f64": AWKWARD,
                "f64_inf": null,
                "f32": f64::from(0.1_f32),
                "i64": i64::MAX,
                "flag": true,
                "text": "say \"hi\"\n",
                "tags": ["a", null],
                "events": [{"time": NANOS, "name": "exception"}, {"time": null, "name": "retry"}],
                "attributes": {"http.route": "/orders", "gone": null},
                "service": "api",
                "day": shown("day", 0),
                "amount": shown("amount", 0),
            }),
            json!({
                "ts_s": null,
                "ts_ms": -MILLIS * 1_000_000,
                "ts_us": null,
                "ts_ns": null,
                "f64": null,
                "f64_inf": null,
                "f32": 2.5,
                "i64": null,
                "flag": null,
                "text": null,
                "tags": null,
                "events": [],
                "attributes": null,
                "service": null,
                "day": null,
                "amount": null,
            }),
        ];
        let rows = batches_to_rows(&[batch.clone(), batch.slice(0, 0)]).expect("rows");
        let rows: Vec<Value> = rows.into_iter().map(Value::Object).collect();
        assert_eq!(rows, expected);
        // The exact float, not one a bit off.
        assert_eq!(
            rows[0]["f64"].as_f64().map(f64::to_bits),
            Some(AWKWARD.to_bits())
        );
        assert_eq!(shown("day", 0), "2022-01-08");
        assert_eq!(shown("amount", 0), "1.50");
    }

    #[test]
    fn columns_of_the_same_name_each_keep_their_values() {
        // `SELECT a.service, b.service, a.service_1, b.service, 0.5 AS f, 1.5 AS f`
        let schema = Schema::new(vec![
            Field::new("service", DataType::Utf8, true),
            Field::new("service", DataType::Utf8, true),
            Field::new("service_1", DataType::Utf8, true),
            Field::new("service", DataType::Utf8, true),
            Field::new("f", DataType::Float64, true),
            Field::new("f", DataType::Float64, true),
        ]);
        let text = |value: &str| Arc::new(StringArray::from(vec![value])) as ArrayRef;
        let float = |value: f64| Arc::new(Float64Array::from(vec![value])) as ArrayRef;
        let batch = RecordBatch::try_new(
            Arc::new(schema),
            vec![
                text("api"),
                text("db"),
                text("x"),
                text("queue"),
                float(0.5),
                float(AWKWARD),
            ],
        )
        .expect("batch");
        let rows = batches_to_rows(&[batch]).expect("rows");
        assert_eq!(
            Value::Object(rows[0].clone()),
            json!({
                "service": "api",
                "service_2": "db",
                "service_1": "x",
                "service_3": "queue",
                "f": 0.5,
                "f_1": AWKWARD,
            })
        );
        assert_eq!(
            rows[0]["f_1"].as_f64().map(f64::to_bits),
            Some(AWKWARD.to_bits())
        );
    }

    #[test]
    fn typed_rows_read_floats_timestamps_and_enums_exactly() {
        let schema = Schema::new(vec![
            Field::new("request_id", DataType::Utf8, true),
            Field::new(
                "start_time",
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                true,
            ),
            Field::new("duration_ms", DataType::Float64, true),
            Field::new("init_duration_ms", DataType::Float64, true),
            Field::new("status", DataType::Utf8, true),
        ]);
        let batch = RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(StringArray::from(vec![Some("r-1"), Some("r-2")])),
                Arc::new(
                    TimestampMillisecondArray::from(vec![Some(MILLIS), None]).with_timezone("UTC"),
                ),
                Arc::new(Float64Array::from(vec![Some(AWKWARD), Some(f64::NAN)])),
                Arc::new(Float64Array::from(vec![None, Some(0.25)])),
                Arc::new(StringArray::from(vec![Some("timeout"), None])),
            ],
        )
        .expect("batch");
        let rows: Vec<Invocation> = decode(&[batch]).expect("typed rows");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].request_id.as_deref(), Some("r-1"));
        assert_eq!(rows[0].start_time, Some(MILLIS * 1_000_000));
        assert_eq!(
            rows[0].duration_ms.map(f64::to_bits),
            Some(AWKWARD.to_bits())
        );
        assert_eq!(rows[0].init_duration_ms, None);
        assert_eq!(rows[0].status, Some(InvocationStatus::Timeout));
        assert_eq!(rows[1].start_time, None);
        assert_eq!(rows[1].duration_ms, None, "NaN has no JSON form");
        assert_eq!(rows[1].init_duration_ms, Some(0.25));
        assert_eq!(rows[1].status, None);
        // The API writes the enum as the stored string.
        assert_eq!(
            serde_json::to_value(&rows[0]).expect("json")["status"],
            json!(InvocationStatus::Timeout.as_str())
        );

        let unknown = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new(
                "status",
                DataType::Utf8,
                true,
            )])),
            vec![Arc::new(StringArray::from(vec!["exploded"]))],
        )
        .expect("batch");
        let error = decode::<Invocation>(&[unknown]).expect_err("not an invocation status");
        assert!(error.to_string().contains("exploded"), "{error}");
    }
}
