//! The v3 API's traces as OTLP (`opentelemetry-proto`'s types), written as
//! OTLP JSON.

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource as OtlpResource;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span as OtlpSpan, Status, TracesData, span, status,
};
use opentelemetry_semantic_conventions::attribute as semconv;
use serde::Serialize;
use serde_json::value::RawValue;
use tracelake_instrumentation::wire::span_line::encode_otlp_json_line;

use super::log_line_nodes;
use tracelake_index::rows::{SpanKind, StatusCode};

use crate::query::{LogLine, Span, SpanEvent, TraceDetail};

/// OTLP span kind numbers.
pub fn otlp_kind(kind: Option<SpanKind>) -> i64 {
    match kind {
        Some(SpanKind::Internal) => 1,
        Some(SpanKind::Server) => 2,
        Some(SpanKind::Client) => 3,
        Some(SpanKind::Producer) => 4,
        Some(SpanKind::Consumer) => 5,
        None => 0,
    }
}

fn otlp_attributes(attributes: &BTreeMap<String, String>) -> Vec<KeyValue> {
    attributes
        .iter()
        .map(|(key, value)| KeyValue {
            key: key.clone(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(value.clone())),
            }),
            ..Default::default()
        })
        .collect()
}

/// Nanoseconds since the epoch; OTLP's times are unsigned, the index's are not
/// (a time before 1970 is none).
fn unix_nanos(nanos: Option<i64>) -> u64 {
    nanos.and_then(|n| u64::try_from(n).ok()).unwrap_or(0)
}

/// The bytes of a hex id (`TraceId`/`SpanId` of OTLP); an id that is not hex
/// (none in the index) keeps its text's bytes, so that it is still shown.
fn id_bytes(hex: &str) -> Vec<u8> {
    let digits = hex.as_bytes();
    let decoded: Option<Vec<u8>> = digits
        .len()
        .is_multiple_of(2)
        .then(|| {
            digits
                .chunks(2)
                .map(|pair| {
                    std::str::from_utf8(pair)
                        .ok()
                        .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                })
                .collect()
        })
        .flatten();
    decoded.unwrap_or_else(|| digits.to_vec())
}

/// A service and its resource attributes: one OTLP resource.
type Resource = (String, BTreeMap<String, String>);

/// Traces as OTLP, one resource per service and resource attribute set. A
/// trace of log lines only gets a span per service for them (see
/// [`log_line_nodes`]), its lines as span events. [`v3_result`] writes it.
pub fn v3_traces(traces: &[TraceDetail]) -> TracesData {
    let mut resources: Vec<(Resource, Vec<OtlpSpan>)> = Vec::new();
    for trace in traces {
        let drawn = log_line_nodes(trace);
        let written = trace.spans.iter().map(|node| (node, false));
        for (node, lines_as_events) in written.chain(drawn.iter().map(|node| (node, true))) {
            let span = &node.span;
            let key = (
                span.service.clone().unwrap_or_else(|| "unknown".to_owned()),
                span.resource_attributes.clone(),
            );
            let otlp = if lines_as_events {
                let mut span = span.clone();
                span.events.extend(node.logs.iter().map(line_event));
                v3_span(&span)
            } else {
                v3_span(span)
            };
            match resources.iter_mut().find(|(known, _)| *known == key) {
                Some((_, spans)) => spans.push(otlp),
                None => resources.push((key, vec![otlp])),
            }
        }
    }
    let resource_spans = resources
        .into_iter()
        .map(|((service, attributes), spans)| {
            let mut resource_attributes = attributes;
            resource_attributes
                .entry(semconv::SERVICE_NAME.to_owned())
                .or_insert(service);
            ResourceSpans {
                resource: Some(OtlpResource {
                    attributes: otlp_attributes(&resource_attributes),
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name: "tracelake".to_owned(),
                        ..Default::default()
                    }),
                    spans,
                    ..Default::default()
                }],
                ..Default::default()
            }
        })
        .collect();
    TracesData { resource_spans }
}

/// The v3 response, `{"result": <OTLP JSON>}`.
///
/// The OTLP JSON is written by `wire::span_line::encode_otlp_json_line`, the
/// encoder of our span lines, rather than by the OTLP types' serde: that writes
/// every field at its default (an empty `parentSpanId` on a root, zero counts,
/// empty lists), while Jaeger's OTLP marshaler leaves them out, as the OTLP JSON
/// mapping allows and as Jaeger UI reads a root (no `parentSpanId`).
///
/// # Errors
/// A `serde_json` error if the encoder wrote invalid JSON (a bug: its tests
/// read every line back).
pub fn v3_result(traces: &TracesData) -> Result<V3Result, serde_json::Error> {
    let result = RawValue::from_string(encode_otlp_json_line(traces))?;
    Ok(V3Result { result })
}

/// The body of a v3 trace response.
#[derive(Debug, Serialize)]
pub struct V3Result {
    /// The traces in OTLP JSON (`{"resourceSpans": [...]}`).
    pub result: Box<RawValue>,
}

/// A log line as an OTLP span event named `log`, with the fields of its v1 form.
fn line_event(log: &LogLine) -> SpanEvent {
    let mut attributes = BTreeMap::new();
    if let Some(level) = log.level {
        attributes.insert("level".to_owned(), level.as_str().to_owned());
    }
    let message = log.text.as_deref().or(log.message.as_deref());
    attributes.insert("message".to_owned(), message.unwrap_or("").to_owned());
    if let Some(request) = &log.request_id {
        attributes.insert("request_id".to_owned(), request.clone());
    }
    for (key, value) in &log.attributes {
        attributes
            .entry(key.clone())
            .or_insert_with(|| value.clone());
    }
    SpanEvent {
        time: log.timestamp,
        name: Some("log".to_owned()),
        attributes,
    }
}

fn v3_span(span: &Span) -> OtlpSpan {
    let status = match span.status_code {
        Some(StatusCode::Ok) => Some(status::StatusCode::Ok),
        Some(StatusCode::Error) => Some(status::StatusCode::Error),
        Some(StatusCode::Unset) | None => None,
    };
    OtlpSpan {
        trace_id: id_bytes(&span.trace_id),
        span_id: id_bytes(&span.span_id),
        parent_span_id: span
            .parent_span_id
            .as_deref()
            .map(id_bytes)
            .unwrap_or_default(),
        name: span.name.clone().unwrap_or_default(),
        kind: otlp_kind(span.kind) as i32,
        start_time_unix_nano: unix_nanos(span.start_time),
        end_time_unix_nano: unix_nanos(span.end_time),
        attributes: otlp_attributes(&span.attributes),
        events: span
            .events
            .iter()
            .map(|event| span::Event {
                time_unix_nano: unix_nanos(event.time),
                name: event.name.clone().unwrap_or_default(),
                attributes: otlp_attributes(&event.attributes),
                ..Default::default()
            })
            .collect(),
        links: span
            .links
            .iter()
            .map(|link| span::Link {
                trace_id: link.trace_id.as_deref().map(id_bytes).unwrap_or_default(),
                span_id: link.span_id.as_deref().map(id_bytes).unwrap_or_default(),
                attributes: otlp_attributes(&link.attributes),
                ..Default::default()
            })
            .collect(),
        // An unset status with no message is left out (OTLP reads it as unset).
        status: match (status, span.status_message.as_deref()) {
            (None, None | Some("")) => None,
            (code, message) => Some(Status {
                code: code.unwrap_or(status::StatusCode::Unset) as i32,
                message: message.unwrap_or_default().to_owned(),
            }),
        },
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::query::SpanNode;

    fn span(value: Value) -> Span {
        serde_json::from_value(value).expect("a span row")
    }

    fn node(span: Span) -> SpanNode {
        SpanNode {
            span,
            depth: 0,
            children: Vec::new(),
            logs: Vec::new(),
            synthetic: false,
            note: None,
            invocation_status: None,
        }
    }

    /// The v3 JSON of two spans, read back field by field against the rows.
    #[test]
    fn v3_json_carries_the_span_rows_and_leaves_defaults_out() {
        let trace_id = "5759e988bd862e3fe1be46a994272793";
        let root = span(json!({
            "trace_id": trace_id, "span_id": "53995c3f42cd8ad8", "parent_span_id": null,
            "name": "GET /orders", "kind": "server", "service": "orders",
            "start_time": 1_700_000_000_000_000_000_i64, "end_time": 1_700_000_000_250_000_000_i64,
            "status_code": "unset", "attributes": {"http.route": "/orders"},
            "resource_attributes": {"cloud.region": "eu-west-1"},
        }));
        let child = span(json!({
            "trace_id": trace_id, "span_id": "00000000000000ff", "parent_span_id": "53995c3f42cd8ad8",
            "name": "charge", "kind": "client", "service": "orders",
            "start_time": 1_700_000_000_010_000_000_i64, "end_time": 1_700_000_000_020_000_000_i64,
            "status_code": "error", "status_message": "card declined",
            "resource_attributes": {"cloud.region": "eu-west-1"},
            "events": [{"time": 1_700_000_000_015_000_000_i64, "name": "exception",
                        "attributes": {"exception.message": ""}}],
            "links": [{"trace_id": "0000000000000000000000000000abcd", "span_id": "0000000000000001",
                       "attributes": {}}],
        }));
        let trace = TraceDetail {
            trace_id: trace_id.to_owned(),
            start_time: root.start_time,
            end_time: root.end_time,
            duration_ns: 250_000_000,
            span_count: 2,
            error_count: 1,
            services: vec!["orders".to_owned()],
            synthetic_count: 0,
            spans: vec![node(root.clone()), node(child.clone())],
            unattached_logs: Vec::new(),
            invocations: Vec::new(),
            cost_usd: 0.0,
        };
        let body = serde_json::to_value(v3_result(&v3_traces(&[trace])).unwrap()).unwrap();
        let resources = body["result"]["resourceSpans"].as_array().unwrap();
        assert_eq!(resources.len(), 1, "one service, one resource: {body}");
        let attributes = resources[0]["resource"]["attributes"].as_array().unwrap();
        assert!(
            attributes
                .contains(&json!({"key": "service.name", "value": {"stringValue": "orders"}}))
        );
        assert!(
            attributes
                .contains(&json!({"key": "cloud.region", "value": {"stringValue": "eu-west-1"}}))
        );
        let spans = resources[0]["scopeSpans"][0]["spans"].as_array().unwrap();

        let written = &spans[0];
        assert_eq!(written["traceId"], root.trace_id);
        assert_eq!(written["spanId"], root.span_id);
        assert!(written.get("parentSpanId").is_none(), "{written}");
        assert!(
            written.get("status").is_none(),
            "an unset status is left out: {written}"
        );
        assert_eq!(written["name"], "GET /orders");
        assert_eq!(written["kind"], 2);
        assert_eq!(
            written["startTimeUnixNano"],
            root.start_time.unwrap().to_string()
        );
        assert_eq!(
            written["endTimeUnixNano"],
            root.end_time.unwrap().to_string()
        );
        assert_eq!(
            written["attributes"],
            json!([{"key": "http.route", "value": {"stringValue": "/orders"}}])
        );

        let written = &spans[1];
        assert_eq!(written["spanId"], child.span_id);
        assert_eq!(
            written["parentSpanId"],
            child.parent_span_id.clone().unwrap()
        );
        assert_eq!(written["kind"], 3);
        assert_eq!(
            written["status"],
            json!({"message": "card declined", "code": 2})
        );
        assert_eq!(
            written["events"],
            json!([{
                "timeUnixNano": "1700000000015000000", "name": "exception",
                "attributes": [{"key": "exception.message", "value": {"stringValue": ""}}],
            }])
        );
        assert_eq!(
            written["links"],
            json!([{"traceId": "0000000000000000000000000000abcd", "spanId": "0000000000000001"}])
        );
    }
}
