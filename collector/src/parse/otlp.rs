//! A span line's OTLP spans, as the parse stage reads them: every span's ids
//! checked, the rest as the line wrote it. The correlate stage turns them into
//! `spans` rows (`correlate::spans`).

use std::sync::Arc;

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::{Span, TracesData};
use tracelake_instrumentation::wire::ids::{SpanId, TraceId};

/// Why a span line's spans could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpanError {
    /// A span whose trace id is not 16 non-zero bytes.
    #[error("span {name:?} has an invalid trace id")]
    InvalidTraceId {
        /// The span's name.
        name: String,
    },
    /// A span whose span id is not 8 non-zero bytes.
    #[error("span {name:?} has an invalid span id")]
    InvalidSpanId {
        /// The span's name.
        name: String,
    },
}

/// One span of a span line: its ids checked, the rest as OTLP wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedSpan {
    /// The span's trace id.
    pub trace_id: TraceId,
    /// The span's id.
    pub span_id: SpanId,
    /// The span as the line carried it.
    pub span: Span,
    /// Its resource's attributes, flattened ([`flatten_attributes`]), shared by
    /// the spans of one resource.
    pub resource: Arc<Vec<(String, String)>>,
}

/// Reads every span of `data`. A span with invalid ids fails the whole line, so
/// that the line is quarantined whole rather than half-indexed.
///
/// # Errors
/// [`SpanError`] for the first span whose trace or span id is missing or zero.
pub fn parse_spans(data: TracesData) -> Result<Vec<ParsedSpan>, SpanError> {
    let mut spans = Vec::new();
    for resource_spans in data.resource_spans {
        let resource = Arc::new(
            resource_spans
                .resource
                .map(|resource| flatten_attributes(&resource.attributes))
                .unwrap_or_default(),
        );
        for scope_spans in resource_spans.scope_spans {
            for span in scope_spans.spans {
                let trace_id = TraceId::from_bytes(&span.trace_id).ok_or_else(|| {
                    SpanError::InvalidTraceId {
                        name: span.name.clone(),
                    }
                })?;
                let span_id =
                    SpanId::from_bytes(&span.span_id).ok_or_else(|| SpanError::InvalidSpanId {
                        name: span.name.clone(),
                    })?;
                spans.push(ParsedSpan {
                    trace_id,
                    span_id,
                    span,
                    resource: Arc::clone(&resource),
                });
            }
        }
    }
    Ok(spans)
}

/// OTLP attributes as strings: scalars as their text, arrays and maps as JSON.
pub fn flatten_attributes(attributes: &[KeyValue]) -> Vec<(String, String)> {
    attributes
        .iter()
        .map(|kv| {
            (
                kv.key.clone(),
                kv.value.as_ref().map(any_value_text).unwrap_or_default(),
            )
        })
        .collect()
}

fn any_value_text(value: &AnyValue) -> String {
    match &value.value {
        Some(any_value::Value::StringValue(text)) => text.clone(),
        Some(any_value::Value::BoolValue(flag)) => flag.to_string(),
        Some(any_value::Value::IntValue(number)) => number.to_string(),
        Some(any_value::Value::DoubleValue(number)) => number.to_string(),
        Some(any_value::Value::BytesValue(bytes)) => {
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        }
        Some(any_value::Value::ArrayValue(array)) => {
            let items: Vec<serde_json::Value> = array
                .values
                .iter()
                .map(|v| serde_json::Value::String(any_value_text(v)))
                .collect();
            serde_json::Value::Array(items).to_string()
        }
        Some(any_value::Value::KvlistValue(list)) => {
            let map: serde_json::Map<String, serde_json::Value> = list
                .values
                .iter()
                .map(|kv| {
                    (
                        kv.key.clone(),
                        serde_json::Value::String(
                            kv.value.as_ref().map(any_value_text).unwrap_or_default(),
                        ),
                    )
                })
                .collect();
            serde_json::Value::Object(map).to_string()
        }
        Some(any_value::Value::StringValueStrindex(index)) => index.to_string(),
        None => String::new(),
    }
}
