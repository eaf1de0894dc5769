//! A parsed span ([`ParsedSpan`]) to its `spans` row: the OpenTelemetry
//! attributes that name the invocation, cold start, trigger and resource read
//! into their columns.

use std::sync::Arc;

use opentelemetry_proto::tonic::trace::v1::{span, status};
use opentelemetry_semantic_conventions::attribute as semconv;
use tracelake_instrumentation::wire::ids::{SpanId, TraceId};

use crate::index::rows::{SpanEventRow, SpanKind, SpanLinkRow, SpanRow, StatusCode};
use crate::parse::otlp::{ParsedSpan, flatten_attributes};
use crate::parse::runtime::is_placeholder_request_id;

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

/// The row of one span. The log group and stream are filled in later by the
/// pipeline.
pub fn span_row(parsed: ParsedSpan) -> SpanRow {
    let ParsedSpan {
        trace_id,
        span_id,
        span,
        resource,
    } = parsed;
    let value_in = |attributes: &[(String, String)], key: &str| {
        attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    let attributes = flatten_attributes(&span.attributes);
    let attribute = |key: &str| value_in(&attributes, key);
    let resource_value = |key: &str| value_in(&resource, key);
    let (status_code, status_message) = match span.status {
        Some(status) => (
            match status::StatusCode::try_from(status.code) {
                Ok(status::StatusCode::Ok) => StatusCode::Ok,
                Ok(status::StatusCode::Error) => StatusCode::Error,
                _ => StatusCode::Unset,
            },
            Some(status.message).filter(|m| !m.is_empty()),
        ),
        None => (StatusCode::Unset, None),
    };
    let start = span.start_time_unix_nano.min(i64::MAX as u64) as i64;
    let end = (span.end_time_unix_nano.min(i64::MAX as u64) as i64).max(start);
    SpanRow {
        trace_id,
        span_id,
        parent_span_id: SpanId::from_bytes(&span.parent_span_id),
        kind: match span::SpanKind::try_from(span.kind) {
            Ok(span::SpanKind::Server) => SpanKind::Server,
            Ok(span::SpanKind::Client) => SpanKind::Client,
            Ok(span::SpanKind::Producer) => SpanKind::Producer,
            Ok(span::SpanKind::Consumer) => SpanKind::Consumer,
            _ => SpanKind::Internal,
        },
        name: span.name,
        service: resource_value(semconv::SERVICE_NAME)
            .unwrap_or_else(|| "unknown_service".to_owned()),
        start_time_ns: start,
        end_time_ns: end,
        status_code,
        status_message,
        request_id: REQUEST_ID_ATTRIBUTES
            .iter()
            .find_map(|key| attribute(key))
            .filter(|id| !is_placeholder_request_id(id)),
        faas_name: resource_value(semconv::FAAS_NAME),
        faas_trigger: attribute(semconv::FAAS_TRIGGER),
        cold_start: COLD_START_ATTRIBUTES
            .iter()
            .find_map(|key| attribute(key))
            .map(|v| v.eq_ignore_ascii_case("true") || v == "1"),
        cloud_region: resource_value(semconv::CLOUD_REGION),
        cloud_account_id: attribute(semconv::CLOUD_ACCOUNT_ID)
            .or_else(|| resource_value(semconv::CLOUD_ACCOUNT_ID)),
        events: span
            .events
            .into_iter()
            .map(|event| SpanEventRow {
                time_ns: event.time_unix_nano.min(i64::MAX as u64) as i64,
                attributes: flatten_attributes(&event.attributes),
                name: event.name,
            })
            .collect(),
        links: span
            .links
            .into_iter()
            .filter_map(|link| {
                Some(SpanLinkRow {
                    trace_id: TraceId::from_bytes(&link.trace_id)?,
                    span_id: SpanId::from_bytes(&link.span_id)?,
                    attributes: flatten_attributes(&link.attributes),
                })
            })
            .collect(),
        attributes,
        resource_attributes: resource.as_ref().clone(),
        log_group: Arc::default(),
        log_stream: Arc::default(),
    }
}
