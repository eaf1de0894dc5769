//! Reading a JSON log line's object: a `serde_json` map, or a flat object
//! borrowed from the line without building a `Value` tree.

use std::borrow::Cow;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::time::LineTime;

/// A non-empty string field. A dotted key (`trace.id`, `service.name`) is read
/// as written and, failing that, as nested objects (`{"trace":{"id":…}}`), the
/// way ecs-logging and Elastic APM write it.
pub(super) fn string_field<'a>(object: &'a impl JsonObject, key: &str) -> Option<&'a str> {
    let flat = match object.field(key) {
        Some(Field::Str(text)) => Some(text),
        _ => None,
    };
    flat.filter(|s| !s.is_empty())
        .or_else(|| object.nested_str(key).filter(|s| !s.is_empty()))
}

/// One value of a [`JsonObject`], as
/// [`parse_fields`](super::json::parse_fields) reads it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Field<'v> {
    /// A string.
    Str(&'v str),
    /// A number.
    Number(&'v Number),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// An array or an object (only in a `serde_json` map).
    Json(&'v Value),
}

impl Field<'_> {
    /// The value as an attribute holds it: a string as it is, anything else
    /// as compact JSON (what [`value_text`] gives for the same `Value`).
    pub(super) fn text(self) -> String {
        match self {
            Field::Str(text) => text.to_owned(),
            Field::Number(number) => number.to_string(),
            Field::Bool(value) => value.to_string(),
            Field::Null => "null".to_owned(),
            Field::Json(value) => value.to_string(),
        }
    }
}

/// A JSON object as [`parse_fields`](super::json::parse_fields) reads it: a
/// `serde_json` map, or a flat object borrowed from the line ([`FlatObject`]).
/// Keys iterate in sorted order, each once (the last of duplicates), as
/// `serde_json::Map` keeps them.
pub(crate) trait JsonObject {
    /// The value of a top-level key.
    fn field(&self, key: &str) -> Option<Field<'_>>;
    /// A string under nested objects, the dotted `key` read as a path
    /// (`trace.id` → `{"trace":{"id":…}}`).
    fn nested_str(&self, key: &str) -> Option<&str>;
    /// The value under `head` then `key`, as text (`fields.message`).
    fn nested_text(&self, head: &str, key: &str) -> Option<String>;
    /// log4j2's JSON layout: `"instant":{"epochSecond":…,"nanoOfSecond":…}`.
    fn log4j_instant(&self) -> Option<LineTime>;
    /// Every top-level key and value.
    fn entries(&self) -> impl Iterator<Item = (&str, Field<'_>)>;
    /// Whether the object has `key`.
    fn has(&self, key: &str) -> bool {
        self.field(key).is_some()
    }
}

impl JsonObject for Map<String, Value> {
    fn field(&self, key: &str) -> Option<Field<'_>> {
        self.get(key).map(field_of)
    }

    fn nested_str(&self, key: &str) -> Option<&str> {
        let (head, rest) = key.split_once('.')?;
        let mut value = self.get(head)?;
        for part in rest.split('.') {
            value = value.as_object()?.get(part)?;
        }
        value.as_str()
    }

    fn nested_text(&self, head: &str, key: &str) -> Option<String> {
        self.get(head)
            .and_then(|inner| inner.get(key))
            .map(value_text)
    }

    fn log4j_instant(&self) -> Option<LineTime> {
        let instant = self.get("instant")?.as_object()?;
        let seconds = instant.get("epochSecond")?.as_i64()?;
        let nanos = instant
            .get("nanoOfSecond")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let time = chrono::DateTime::from_timestamp(seconds, u32::try_from(nanos).ok()?)?;
        Some(LineTime {
            ns: time.timestamp_nanos_opt()?,
            precision_ns: 1,
        })
    }

    fn entries(&self) -> impl Iterator<Item = (&str, Field<'_>)> {
        self.iter()
            .map(|(key, value)| (key.as_str(), field_of(value)))
    }
}

fn field_of(value: &Value) -> Field<'_> {
    match value {
        Value::String(text) => Field::Str(text),
        Value::Number(number) => Field::Number(number),
        Value::Bool(value) => Field::Bool(*value),
        Value::Null => Field::Null,
        other => Field::Json(other),
    }
}

/// A JSON object whose values are all strings, numbers, booleans or `null`
/// (most log lines), read without building a `serde_json::Value` tree: keys
/// and strings borrow the line unless they hold escapes.
#[derive(Debug)]
pub(crate) struct FlatObject<'a> {
    /// Sorted by key, each key once.
    fields: Vec<(Cow<'a, str>, FlatValue<'a>)>,
}

#[derive(Debug)]
enum FlatValue<'a> {
    Str(Cow<'a, str>),
    Number(Number),
    Bool(bool),
    Null,
}

impl<'a> FlatObject<'a> {
    /// Reads `text` as a flat object; `None` for anything else (nested values,
    /// not an object, not JSON), which the `Value` path then reads.
    pub(crate) fn parse(text: &'a str) -> Option<FlatObject<'a>> {
        serde_json::from_str(text).ok()
    }

    /// Where `key` is. A log line has a dozen keys or so, and a lookup is
    /// nearly always for a key it lacks (`parse_fields` tries ~45 names): a
    /// linear scan rarely compares bytes (`str` equality compares lengths
    /// first), where a binary search compared bytes at every step.
    fn index(&self, key: &str) -> Option<usize> {
        self.fields
            .iter()
            .position(|(name, _)| name.as_ref() == key)
    }
}

fn flat_field<'v>(value: &'v FlatValue<'_>) -> Field<'v> {
    match value {
        FlatValue::Str(text) => Field::Str(text),
        FlatValue::Number(number) => Field::Number(number),
        FlatValue::Bool(value) => Field::Bool(*value),
        FlatValue::Null => Field::Null,
    }
}

impl JsonObject for FlatObject<'_> {
    fn field(&self, key: &str) -> Option<Field<'_>> {
        self.index(key).map(|at| flat_field(&self.fields[at].1))
    }

    fn nested_str(&self, _key: &str) -> Option<&str> {
        None
    }

    fn nested_text(&self, _head: &str, _key: &str) -> Option<String> {
        None
    }

    fn log4j_instant(&self) -> Option<LineTime> {
        None
    }

    fn entries(&self) -> impl Iterator<Item = (&str, Field<'_>)> {
        self.fields
            .iter()
            .map(|(key, value)| (key.as_ref(), flat_field(value)))
    }
}

impl<'de> Deserialize<'de> for FlatObject<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = FlatObject<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object of scalar values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut fields: Vec<(Cow<'de, str>, FlatValue<'de>)> = Vec::with_capacity(16);
                while let Some(key) = map.next_key::<Text<'de>>()? {
                    fields.push((key.0, map.next_value()?));
                }
                // As serde_json's map keeps them: sorted, the last of duplicates.
                fields.sort_by(|a, b| a.0.cmp(&b.0));
                let mut kept: Vec<(Cow<'de, str>, FlatValue<'de>)> =
                    Vec::with_capacity(fields.len());
                for field in fields {
                    match kept.last_mut() {
                        Some(last) if last.0 == field.0 => *last = field,
                        _ => kept.push(field),
                    }
                }
                Ok(FlatObject { fields: kept })
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

/// A string borrowed from the input when it holds no escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(text)))
            }
            fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(text.to_owned())))
            }
            fn visit_string<E>(self, text: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(text)))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

impl<'de> Deserialize<'de> for FlatValue<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValueVisitor;
        // The same values `serde_json::Value` makes of each form.
        impl<'de> Visitor<'de> for ValueVisitor {
            type Value = FlatValue<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string, number, boolean or null")
            }
            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Self::Value, E> {
                Ok(FlatValue::Str(Cow::Borrowed(text)))
            }
            fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
                Ok(FlatValue::Str(Cow::Owned(text.to_owned())))
            }
            fn visit_string<E>(self, text: String) -> Result<Self::Value, E> {
                Ok(FlatValue::Str(Cow::Owned(text)))
            }
            fn visit_i64<E>(self, value: i64) -> Result<Self::Value, E> {
                Ok(FlatValue::Number(value.into()))
            }
            fn visit_u64<E>(self, value: u64) -> Result<Self::Value, E> {
                Ok(FlatValue::Number(value.into()))
            }
            fn visit_f64<E>(self, value: f64) -> Result<Self::Value, E> {
                Ok(Number::from_f64(value).map_or(FlatValue::Null, FlatValue::Number))
            }
            fn visit_bool<E>(self, value: bool) -> Result<Self::Value, E> {
                Ok(FlatValue::Bool(value))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(FlatValue::Null)
            }
        }
        deserializer.deserialize_any(ValueVisitor)
    }
}

/// A value as text: a string as written, anything else as JSON.
fn value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
