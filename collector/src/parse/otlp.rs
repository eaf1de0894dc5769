//! OTLP spans to `spans` rows.

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::{TracesData, span, status};
use opentelemetry_semantic_conventions::attribute as semconv;
use tracelake_instrumentation::wire::ids::{SpanId, TraceId};

use crate::index::rows::{SpanEventRow, SpanKind, SpanLinkRow, SpanRow, StatusCode};

/// Why a span could not become a row.
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

/// Span attributes that hold the Lambda request id: the semantic convention
/// (`faas.invocation_id`), its old name (`faas.execution`, still written by
/// older AWS Distro for OpenTelemetry layers), and other tracers' keys.
const REQUEST_ID_ATTRIBUTES: [&str; 5] = [
    semconv::FAAS_INVOCATION_ID,
    "faas.execution",
    "aws.lambda.request_id",
    "aws.lambda.invocation_id",
    "request_id",
];

/// Span attributes that say a span ran in a cold start: the semantic
/// convention (`faas.coldstart`) and other tracers' spellings.
const COLD_START_ATTRIBUTES: [&str; 4] = [
    semconv::FAAS_COLDSTART,
    "faas.cold_start",
    "aws.lambda.cold_start",
    "cold_start",
];

/// Converts every span of `data` to a row. The log group and stream are filled
/// in later by the pipeline. A span with invalid ids fails the whole line, so
/// that the line is quarantined whole rather than half-indexed.
///
/// # Errors
/// [`SpanError`] for the first span whose trace or span id is missing or zero.
pub fn span_rows(data: TracesData) -> Result<Vec<SpanRow>, SpanError> {
    let mut rows = Vec::new();
    for resource_spans in data.resource_spans {
        let resource_attributes: Vec<(String, String)> = resource_spans
            .resource
            .map(|resource| flatten_attributes(&resource.attributes))
            .unwrap_or_default();
        let resource_value = |key: &str| {
            resource_attributes
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        let service =
            resource_value(semconv::SERVICE_NAME).unwrap_or_else(|| "unknown_service".to_owned());
        let faas_name = resource_value(semconv::FAAS_NAME);
        let cloud_region = resource_value(semconv::CLOUD_REGION);
        let resource_account = resource_value(semconv::CLOUD_ACCOUNT_ID);
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
                let parent_span_id = SpanId::from_bytes(&span.parent_span_id);
                let attributes = flatten_attributes(&span.attributes);
                let attribute = |key: &str| {
                    attributes
                        .iter()
                        .find(|(k, _)| k == key)
                        .map(|(_, v)| v.clone())
                };
                let (status_code, status_message) = match &span.status {
                    Some(status) => (
                        match status::StatusCode::try_from(status.code) {
                            Ok(status::StatusCode::Ok) => StatusCode::Ok,
                            Ok(status::StatusCode::Error) => StatusCode::Error,
                            _ => StatusCode::Unset,
                        },
                        Some(status.message.clone()).filter(|m| !m.is_empty()),
                    ),
                    None => (StatusCode::Unset, None),
                };
                let start = span.start_time_unix_nano.min(i64::MAX as u64) as i64;
                let end = (span.end_time_unix_nano.min(i64::MAX as u64) as i64).max(start);
                rows.push(SpanRow {
                    trace_id,
                    span_id,
                    parent_span_id,
                    name: span.name.clone(),
                    kind: match span::SpanKind::try_from(span.kind) {
                        Ok(span::SpanKind::Server) => SpanKind::Server,
                        Ok(span::SpanKind::Client) => SpanKind::Client,
                        Ok(span::SpanKind::Producer) => SpanKind::Producer,
                        Ok(span::SpanKind::Consumer) => SpanKind::Consumer,
                        _ => SpanKind::Internal,
                    },
                    service: service.clone(),
                    start_time_ns: start,
                    end_time_ns: end,
                    status_code,
                    status_message,
                    request_id: REQUEST_ID_ATTRIBUTES
                        .iter()
                        .find_map(|key| attribute(key))
                        .filter(|id| !super::request_id::is_placeholder_request_id(id)),
                    faas_name: faas_name.clone(),
                    faas_trigger: attribute(semconv::FAAS_TRIGGER),
                    cold_start: COLD_START_ATTRIBUTES
                        .iter()
                        .find_map(|key| attribute(key))
                        .map(|v| v.eq_ignore_ascii_case("true") || v == "1"),
                    cloud_region: cloud_region.clone(),
                    cloud_account_id: attribute(semconv::CLOUD_ACCOUNT_ID)
                        .or_else(|| resource_account.clone()),
                    events: span
                        .events
                        .iter()
                        .map(|event| SpanEventRow {
                            time_ns: event.time_unix_nano.min(i64::MAX as u64) as i64,
                            name: event.name.clone(),
                            attributes: flatten_attributes(&event.attributes),
                        })
                        .collect(),
                    links: span
                        .links
                        .iter()
                        .filter_map(|link| {
                            Some(SpanLinkRow {
                                trace_id: TraceId::from_bytes(&link.trace_id)?,
                                span_id: SpanId::from_bytes(&link.span_id)?,
                                attributes: flatten_attributes(&link.attributes),
                            })
                        })
                        .collect(),
                    attributes,
                    resource_attributes: resource_attributes.clone(),
                    log_group: String::new(),
                    log_stream: String::new(),
                });
            }
        }
    }
    Ok(rows)
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
