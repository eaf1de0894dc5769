//! The Jaeger-compatible API: v1 JSON (Grafana's Jaeger data source) and v3
//! OTLP JSON (the current Jaeger UI), per `shared/contracts/jaeger-http-api.md`.
//! All the Jaeger shapes live in this module.

use std::collections::{BTreeMap, BTreeSet};

use opentelemetry_semantic_conventions::attribute as semconv;
use serde::Serialize;
use serde_json::{Value, json};

use tracelake_index::rows::{LogLevel, StatusCode};

use crate::query::{LogLine, SYNTHETIC_ATTRIBUTE, Span, SpanNode, TraceDetail};

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

/// The tags of a span, mapped the way the OpenTelemetry Jaeger translator does:
/// its attributes, then the tags of its fields, each key once. A field's tag
/// replaces the attribute of its key: the index keeps attributes as strings,
/// while the invocation id and cold start (which the instrumentation writes
/// both as attributes and in their columns) are typed in their columns.
fn span_tags(span: &Span) -> Vec<Value> {
    let fields = field_tags(span);
    let mut tags: Vec<Value> = span
        .attributes
        .iter()
        .filter(|(key, _)| !fields.iter().any(|tag| tag["key"] == key.as_str()))
        .map(|(key, value)| string_tag(key, value))
        .collect();
    tags.extend(fields);
    tags
}

/// The tags a span's own fields give: kind, status, invocation id, cold start.
fn field_tags(span: &Span) -> Vec<Value> {
    let mut tags = Vec::new();
    if let Some(kind) = span.kind {
        tags.push(string_tag("span.kind", kind.as_str()));
    }
    match span.status_code {
        Some(StatusCode::Error) => {
            tags.push(string_tag(semconv::OTEL_STATUS_CODE, "ERROR"));
            tags.push(bool_tag("error", true));
        }
        Some(StatusCode::Ok) => tags.push(string_tag(semconv::OTEL_STATUS_CODE, "OK")),
        Some(StatusCode::Unset) | None => {}
    }
    if let Some(message) = span.status_message.as_deref().filter(|m| !m.is_empty()) {
        tags.push(string_tag(semconv::OTEL_STATUS_DESCRIPTION, message));
    }
    if let Some(request) = &span.request_id {
        tags.push(string_tag(semconv::FAAS_INVOCATION_ID, request));
    }
    if let Some(cold) = span.cold_start {
        tags.push(bool_tag(semconv::FAAS_COLDSTART, cold));
    }
    tags
}

fn log_fields(log: &LogLine) -> Vec<Value> {
    let mut fields = vec![string_tag("event", "log")];
    if let Some(level) = log.level {
        fields.push(string_tag("level", level.as_str()));
    }
    let message = log.text.as_deref().or(log.message.as_deref());
    fields.push(string_tag("message", message.unwrap_or("")));
    if let Some(request) = &log.request_id {
        fields.push(string_tag("request_id", request));
    }
    fields.extend(attribute_tags(&log.attributes));
    fields
}

/// The operation name of a span drawn for log lines that name no span found.
pub const LOG_LINES_OPERATION: &str = "log lines (no span)";

/// The [`SYNTHETIC_ATTRIBUTE`] value of a span drawn for log lines.
const LOG_LINES_MARK: &str = "log_lines";

fn is_error_level(level: Option<LogLevel>) -> bool {
    matches!(level, Some(LogLevel::Error | LogLevel::Fatal))
}

/// What a line says, for a status description: the `msg`/`message` field of a
/// JSON line (pino, bunyan, structlog), else the line as a person reads it.
fn short_message(log: &LogLine) -> Option<String> {
    let text = log.text.as_deref().or(log.message.as_deref())?;
    let field = serde_json::from_str::<Value>(text.trim())
        .ok()
        .and_then(|line| {
            ["msg", "message"]
                .iter()
                .find_map(|key| line.get(key)?.as_str().map(str::to_owned))
        });
    Some(field.unwrap_or_else(|| text.to_owned()))
}

fn is_span_id(text: &str) -> bool {
    text.len() == 16 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A stable 16-hex-digit id (FNV-1a of the trace id and service), so that the
/// same trace draws the same ids.
fn drawn_span_id(trace_id: &str, service: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in trace_id.bytes().chain([0]).chain(service.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// Spans drawn for a trace that has log lines but no span and no invocation
/// (Jaeger shows nothing of a trace without spans): one per service, over the
/// time of its lines, holding them as its logs, with the error tags when a
/// line is at `ERROR` or `FATAL`. Its id is the one span id its lines name
/// (the span that wrote no row), else a stable hash. Empty when the trace has
/// spans (written or drawn for invocations).
pub fn log_line_nodes(trace: &TraceDetail) -> Vec<SpanNode> {
    if !trace.spans.is_empty() {
        return Vec::new();
    }
    let mut by_service: BTreeMap<String, Vec<LogLine>> = BTreeMap::new();
    for log in &trace.unattached_logs {
        let service = log
            .service
            .clone()
            .or_else(|| {
                log.log_group
                    .as_deref()?
                    .strip_prefix("/aws/lambda/")
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| "unknown".to_owned());
        by_service.entry(service).or_default().push(log.clone());
    }
    let mut taken = BTreeSet::new();
    let mut nodes = Vec::with_capacity(by_service.len());
    for (service, mut lines) in by_service {
        lines.sort_by_key(|line| line.timestamp);
        let start = lines
            .iter()
            .filter_map(|l| l.timestamp)
            .min()
            .or(trace.start_time)
            .unwrap_or(0);
        let end = lines
            .iter()
            .filter_map(|l| l.timestamp)
            .max()
            .unwrap_or(start)
            .max(start);
        let named: BTreeSet<String> = lines
            .iter()
            .filter_map(|l| l.span_id.as_deref())
            .filter(|id| is_span_id(id))
            .map(str::to_ascii_lowercase)
            .collect();
        let span_id = match named.iter().next() {
            Some(id) if named.len() == 1 && !taken.contains(id) => id.clone(),
            _ => drawn_span_id(&trace.trace_id, &service),
        };
        taken.insert(span_id.clone());
        let first_error = lines.iter().find(|l| is_error_level(l.level));
        let mut attributes = BTreeMap::new();
        attributes.insert(SYNTHETIC_ATTRIBUTE.to_owned(), LOG_LINES_MARK.to_owned());
        nodes.push(SpanNode {
            span: Span {
                trace_id: trace.trace_id.clone(),
                span_id,
                parent_span_id: None,
                name: Some(LOG_LINES_OPERATION.to_owned()),
                kind: None,
                service: Some(service),
                start_time: Some(start),
                end_time: Some(end),
                duration_ns: Some(end - start),
                status_code: Some(if first_error.is_some() {
                    StatusCode::Error
                } else {
                    StatusCode::Unset
                }),
                status_message: first_error.and_then(short_message),
                request_id: None,
                faas_name: None,
                faas_trigger: None,
                cold_start: None,
                cloud_region: None,
                cloud_account_id: None,
                attributes,
                resource_attributes: BTreeMap::new(),
                events: Vec::new(),
                links: Vec::new(),
                log_group: lines.iter().find_map(|l| l.log_group.clone()),
                log_stream: lines.iter().find_map(|l| l.log_stream.clone()),
            },
            depth: 0,
            children: Vec::new(),
            logs: lines,
            synthetic: true,
            note: Some("no span of this service in the trace: drawn from its log lines".to_owned()),
            invocation_status: None,
        });
    }
    nodes
}

/// A trace in Jaeger v1 form. Span events and the trace's log lines become span
/// logs, so Grafana shows the logs inside the span; a trace of log lines only
/// gets a span per service for them (see [`log_line_nodes`]).
pub fn v1_trace(trace: &TraceDetail) -> Value {
    let mut processes: Vec<(String, BTreeMap<String, String>)> = Vec::new();
    let drawn = log_line_nodes(trace);
    let mut spans = Vec::with_capacity(trace.spans.len() + drawn.len());
    for node in trace.spans.iter().chain(&drawn) {
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

pub mod otlp;
pub(crate) mod v1;
pub(crate) mod v3;
