//! Query results as JSON rows: the one place where Arrow arrays become values.
//!
//! Every typed result (`model`) is read from these rows with serde, and the ad-hoc
//! SQL command prints them. Timestamps become integer nanoseconds since the epoch
//! (UTC), so that callers never parse a date string back.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{
    DataType, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use serde_json::{Map, Number, Value};

/// One result row: column name → value.
pub type Row = Map<String, Value>;

/// Converts record batches into rows, in order.
pub fn batches_to_rows(batches: &[RecordBatch]) -> Vec<Row> {
    let mut rows = Vec::new();
    for batch in batches {
        let schema = batch.schema();
        for row_index in 0..batch.num_rows() {
            let mut row = Map::with_capacity(batch.num_columns());
            for (field, column) in schema.fields().iter().zip(batch.columns()) {
                row.insert(field.name().clone(), value_at(column.as_ref(), row_index));
            }
            rows.push(row);
        }
    }
    rows
}

fn float(value: f64) -> Value {
    Number::from_f64(value).map_or(Value::Null, Value::Number)
}

fn timestamp_ns(unit: &TimeUnit, value: i64) -> Value {
    let factor = match unit {
        TimeUnit::Second => 1_000_000_000,
        TimeUnit::Millisecond => 1_000_000,
        TimeUnit::Microsecond => 1_000,
        TimeUnit::Nanosecond => 1,
    };
    Value::from(value.saturating_mul(factor))
}

/// The value of one cell as JSON. Types without a natural JSON form are shown as
/// Arrow displays them.
pub fn value_at(array: &dyn Array, index: usize) -> Value {
    if array.is_null(index) {
        return Value::Null;
    }
    match array.data_type() {
        DataType::Null => Value::Null,
        DataType::Boolean => Value::Bool(array.as_boolean().value(index)),
        DataType::Utf8 => Value::from(array.as_string::<i32>().value(index)),
        DataType::LargeUtf8 => Value::from(array.as_string::<i64>().value(index)),
        DataType::Utf8View => Value::from(array.as_string_view().value(index)),
        DataType::Int8 => Value::from(array.as_primitive::<Int8Type>().value(index)),
        DataType::Int16 => Value::from(array.as_primitive::<Int16Type>().value(index)),
        DataType::Int32 => Value::from(array.as_primitive::<Int32Type>().value(index)),
        DataType::Int64 => Value::from(array.as_primitive::<Int64Type>().value(index)),
        DataType::UInt8 => Value::from(array.as_primitive::<UInt8Type>().value(index)),
        DataType::UInt16 => Value::from(array.as_primitive::<UInt16Type>().value(index)),
        DataType::UInt32 => Value::from(array.as_primitive::<UInt32Type>().value(index)),
        DataType::UInt64 => Value::from(array.as_primitive::<UInt64Type>().value(index)),
        DataType::Float32 => float(f64::from(array.as_primitive::<Float32Type>().value(index))),
        DataType::Float64 => float(array.as_primitive::<Float64Type>().value(index)),
        DataType::Timestamp(unit, _) => {
            let raw = match unit {
                TimeUnit::Second => array.as_primitive::<TimestampSecondType>().value(index),
                TimeUnit::Millisecond => array
                    .as_primitive::<TimestampMillisecondType>()
                    .value(index),
                TimeUnit::Microsecond => array
                    .as_primitive::<TimestampMicrosecondType>()
                    .value(index),
                TimeUnit::Nanosecond => {
                    array.as_primitive::<TimestampNanosecondType>().value(index)
                }
            };
            timestamp_ns(unit, raw)
        }
        DataType::Dictionary(_, _) => {
            let dictionary = array.as_any_dictionary();
            let key = dictionary.normalized_keys()[index];
            value_at(dictionary.values().as_ref(), key)
        }
        DataType::List(_) => {
            let list = array.as_list::<i32>();
            let items = list.value(index);
            Value::Array((0..items.len()).map(|i| value_at(&items, i)).collect())
        }
        DataType::LargeList(_) => {
            let list = array.as_list::<i64>();
            let items = list.value(index);
            Value::Array((0..items.len()).map(|i| value_at(&items, i)).collect())
        }
        DataType::Struct(fields) => {
            let structure = array.as_struct();
            let mut object = Map::new();
            for (field, column) in fields.iter().zip(structure.columns()) {
                object.insert(field.name().clone(), value_at(column.as_ref(), index));
            }
            Value::Object(object)
        }
        DataType::Map(_, _) => {
            let map = array.as_map();
            let entries = map.value(index);
            let keys = entries.column(0);
            let values = entries.column(1);
            let mut object = Map::new();
            for i in 0..entries.len() {
                let key = match value_at(keys.as_ref(), i) {
                    Value::String(text) => text,
                    other => other.to_string(),
                };
                object.insert(key, value_at(values.as_ref(), i));
            }
            Value::Object(object)
        }
        _ => match ArrayFormatter::try_new(array, &FormatOptions::default()) {
            Ok(formatter) => Value::from(formatter.value(index).to_string()),
            Err(_) => Value::Null,
        },
    }
}

/// Batches as an aligned text table (for the CLI's ad-hoc SQL).
///
/// # Errors
///
/// Arrow's error when a column's type has no text form in Arrow's formatter.
pub fn pretty_table(batches: &[RecordBatch]) -> Result<String, arrow::error::ArrowError> {
    arrow::util::pretty::pretty_format_batches(batches).map(|table| table.to_string())
}
