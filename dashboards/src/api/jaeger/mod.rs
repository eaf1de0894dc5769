//! The Jaeger-compatible API: v1 JSON (Grafana's Jaeger data source) and v3
//! OTLP JSON (the current Jaeger UI), per `shared/contracts/jaeger-http-api.md`.
//! All the Jaeger shapes live in this module.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::query::{LogLine, Span, SpanNode, TraceDetail};

/// The v1 response envelope.
#[derive(Debug, Serialize)]
pub struct Envelope {
    /// The payload.
    pub data: Value,
    /// Number of items in `data` (0 for a single trace, as Jaeger does).
    pub total: usize,
    /// Echoed limit.
    pub limit: usize,
    /// Echoed offset.
    pub offset: usize,
    /// `null`, or the errors.
    pub errors: Option<Vec<EnvelopeError>>,
}

/// One error of a v1 envelope.
#[derive(Debug, Serialize)]
pub struct EnvelopeError {
    /// HTTP status.
    pub code: u16,
    /// What went wrong.
    pub msg: String,
    /// The trace concerned, if any.
    #[serde(rename = "traceID", skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

impl Envelope {
    /// A successful envelope around a list.
    pub fn list(items: Vec<Value>, limit: usize) -> Envelope {
        Envelope {
            total: items.len(),
            data: Value::Array(items),
            limit,
            offset: 0,
            errors: None,
        }
    }

    /// An error envelope.
    pub fn error(code: u16, msg: String, trace_id: Option<String>) -> Envelope {
        Envelope {
            data: Value::Null,
            total: 0,
            limit: 0,
            offset: 0,
            errors: Some(vec![EnvelopeError {
                code,
                msg,
                trace_id,
            }]),
        }
    }
}

fn micros(nanos: Option<i64>) -> i64 {
    nanos.unwrap_or(0).div_euclid(1_000)
}

fn string_tag(key: &str, value: &str) -> Value {
    json!({"key": key, "type": "string", "value": value})
}

fn bool_tag(key: &str, value: bool) -> Value {
    json!({"key": key, "type": "bool", "value": value})
}

fn attribute_tags(attributes: &BTreeMap<String, String>) -> Vec<Value> {
    attributes
        .iter()
        .map(|(key, value)| string_tag(key, value))
        .collect()
}

/// The tags of a span, mapped the way the OpenTelemetry Jaeger translator does.
fn span_tags(span: &Span) -> Vec<Value> {
    let mut tags = attribute_tags(&span.attributes);
    if let Some(kind) = &span.kind {
        tags.push(string_tag("span.kind", kind));
    }
    match span.status_code.as_deref() {
        Some("error") => {
            tags.push(string_tag("otel.status_code", "ERROR"));
            tags.push(bool_tag("error", true));
        }
        Some("ok") => tags.push(string_tag("otel.status_code", "OK")),
        _ => {}
    }
    if let Some(message) = span.status_message.as_deref().filter(|m| !m.is_empty()) {
        tags.push(string_tag("otel.status_description", message));
    }
    if let Some(request) = &span.request_id {
        tags.push(string_tag("faas.invocation_id", request));
    }
    if let Some(cold) = span.cold_start {
        tags.push(bool_tag("faas.coldstart", cold));
    }
    tags
}

fn log_fields(log: &LogLine) -> Vec<Value> {
    let mut fields = vec![string_tag("event", "log")];
    if let Some(level) = &log.level {
        fields.push(string_tag("level", level));
    }
    let message = log.text.as_deref().or(log.message.as_deref());
    fields.push(string_tag("message", message.unwrap_or("")));
    if let Some(request) = &log.request_id {
        fields.push(string_tag("request_id", request));
    }
    fields.extend(attribute_tags(&log.attributes));
    fields
}

/// A trace in Jaeger v1 form. Span events and the trace's log lines become span
/// logs, so Grafana shows the logs inside the span.
pub fn v1_trace(trace: &TraceDetail) -> Value {
    let mut processes: Vec<(String, BTreeMap<String, String>)> = Vec::new();
    let mut spans = Vec::with_capacity(trace.spans.len());
    for node in &trace.spans {
        let span = &node.span;
        let service = span.service.clone().unwrap_or_else(|| "unknown".to_owned());
        let process = (service, span.resource_attributes.clone());
        let process_index = match processes.iter().position(|known| *known == process) {
            Some(index) => index,
            None => {
                processes.push(process);
                processes.len() - 1
            }
        };
        spans.push(v1_span(node, &format!("p{}", process_index + 1)));
    }
    let processes: serde_json::Map<String, Value> = processes
        .into_iter()
        .enumerate()
        .map(|(index, (service, attributes))| {
            (
                format!("p{}", index + 1),
                json!({"serviceName": service, "tags": attribute_tags(&attributes)}),
            )
        })
        .collect();
    json!({
        "traceID": trace.trace_id,
        "spans": spans,
        "processes": processes,
        "warnings": null,
    })
}

fn v1_span(node: &SpanNode, process_id: &str) -> Value {
    let span = &node.span;
    let mut references = Vec::new();
    if let Some(parent) = &span.parent_span_id {
        references.push(json!({"refType": "CHILD_OF", "traceID": span.trace_id, "spanID": parent}));
    }
    for link in &span.links {
        if let (Some(trace_id), Some(span_id)) = (&link.trace_id, &link.span_id) {
            references
                .push(json!({"refType": "FOLLOWS_FROM", "traceID": trace_id, "spanID": span_id}));
        }
    }
    let mut logs: Vec<Value> = span
        .events
        .iter()
        .map(|event| {
            let mut fields = vec![string_tag("event", event.name.as_deref().unwrap_or(""))];
            fields.extend(attribute_tags(&event.attributes));
            json!({"timestamp": micros(event.time), "fields": fields})
        })
        .collect();
    logs.extend(
        node.logs
            .iter()
            .map(|log| json!({"timestamp": micros(log.timestamp), "fields": log_fields(log)})),
    );
    json!({
        "traceID": span.trace_id,
        "spanID": span.span_id,
        "flags": 1,
        "operationName": span.name.clone().unwrap_or_default(),
        "references": references,
        "startTime": micros(span.start_time),
        "duration": span.duration_ns.unwrap_or(0).div_euclid(1_000),
        "tags": span_tags(span),
        "logs": logs,
        "processID": process_id,
        "warnings": null,
    })
}

/// OTLP span kind numbers.
pub fn otlp_kind(kind: Option<&str>) -> i64 {
    match kind {
        Some("internal") => 1,
        Some("server") => 2,
        Some("client") => 3,
        Some("producer") => 4,
        Some("consumer") => 5,
        _ => 0,
    }
}

fn otlp_attributes(attributes: &BTreeMap<String, String>) -> Vec<Value> {
    attributes
        .iter()
        .map(|(key, value)| json!({"key": key, "value": {"stringValue": value}}))
        .collect()
}

fn nanos_text(nanos: Option<i64>) -> String {
    nanos.unwrap_or(0).to_string()
}

/// A service and its resource attributes: one OTLP resource.
type Resource = (String, BTreeMap<String, String>);

/// Traces in OTLP JSON (`{"resourceSpans": [...]}`), one resource per service
/// and resource attribute set.
pub fn v3_traces(traces: &[TraceDetail]) -> Value {
    let mut resources: Vec<(Resource, Vec<Value>)> = Vec::new();
    for trace in traces {
        for node in &trace.spans {
            let span = &node.span;
            let key = (
                span.service.clone().unwrap_or_else(|| "unknown".to_owned()),
                span.resource_attributes.clone(),
            );
            let otlp = v3_span(span);
            match resources.iter_mut().find(|(known, _)| *known == key) {
                Some((_, spans)) => spans.push(otlp),
                None => resources.push((key, vec![otlp])),
            }
        }
    }
    let resource_spans: Vec<Value> = resources
        .into_iter()
        .map(|((service, attributes), spans)| {
            let mut resource_attributes = attributes;
            resource_attributes
                .entry("service.name".to_owned())
                .or_insert(service);
            json!({
                "resource": {"attributes": otlp_attributes(&resource_attributes)},
                "scopeSpans": [{"scope": {"name": "tracelake"}, "spans": spans}],
            })
        })
        .collect();
    json!({"resourceSpans": resource_spans})
}

fn v3_span(span: &Span) -> Value {
    let status_code = match span.status_code.as_deref() {
        Some("ok") => 1,
        Some("error") => 2,
        _ => 0,
    };
    let mut otlp = json!({
        "traceId": span.trace_id,
        "spanId": span.span_id,
        "name": span.name.clone().unwrap_or_default(),
        "kind": otlp_kind(span.kind.as_deref()),
        "startTimeUnixNano": nanos_text(span.start_time),
        "endTimeUnixNano": nanos_text(span.end_time),
        "attributes": otlp_attributes(&span.attributes),
        "events": span.events.iter().map(|event| json!({
            "timeUnixNano": nanos_text(event.time),
            "name": event.name.clone().unwrap_or_default(),
            "attributes": otlp_attributes(&event.attributes),
        })).collect::<Vec<_>>(),
        "links": span.links.iter().map(|link| json!({
            "traceId": link.trace_id.clone().unwrap_or_default(),
            "spanId": link.span_id.clone().unwrap_or_default(),
            "attributes": otlp_attributes(&link.attributes),
        })).collect::<Vec<_>>(),
        "status": {"code": status_code, "message": span.status_message.clone().unwrap_or_default()},
    });
    if let (Some(parent), Some(object)) = (&span.parent_span_id, otlp.as_object_mut()) {
        object.insert("parentSpanId".to_owned(), Value::from(parent.clone()));
    }
    otlp
}

pub(crate) mod v1;
pub(crate) mod v3;
