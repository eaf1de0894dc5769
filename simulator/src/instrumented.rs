//! Rust services: the lines tracelake-instrumentation writes for one invocation.
//!
//! Log lines use [`tracelake_instrumentation::wire::log_line::LogLine`] and span
//! lines use the OTLP JSON encoding of [`tracelake_instrumentation::wire::span_line`],
//! so that they follow the one definition of the contract. Every span of the
//! invocation is written in one span line when the handler returns, before
//! `END`, as instrumentation flushes before the response. A timed-out or
//! crashed invocation writes no span line: its process is stopped first.

use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
use serde_json::{Map, Value};
use tracelake_instrumentation::wire::log_line::LogLine;
use tracelake_instrumentation::wire::span_line::{TracesData, encode_json_line};

use crate::clock;
use crate::fleet::EdgeKind;
use crate::render::{Carries, EventKind, EventSink, InvocationContext, TruthSpan, xray_text};
use crate::traffic::{Outcome, Trigger};

/// One invocation of an instrumented Rust service.
pub struct RustInvocation<'a, 'b> {
    /// The invocation being rendered.
    pub context: &'a InvocationContext<'b>,
}

fn string_attribute(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_owned())),
        }),
        ..Default::default()
    }
}

fn bool_attribute(key: &str, value: bool) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::BoolValue(value)),
        }),
        ..Default::default()
    }
}

fn int_attribute(key: &str, value: i64) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(value)),
        }),
        ..Default::default()
    }
}

/// Writes the invocation's log lines and, when it completes, its span line.
pub fn write_invocation(
    rust: &RustInvocation<'_, '_>,
    index: usize,
    sink: &mut EventSink,
    spans: &mut Vec<TruthSpan>,
) {
    let context = rust.context;
    let invocation = context.invocation;
    let service = context.service;
    let trace_hex = format!("{:032x}", context.trace_id);
    let xray = xray_text(context.trace_id);
    let server_span = format!("{:016x}", context.span_id);
    let line_carries = Carries {
        own_trace: true,
        request_id: true,
        trace_evidence: false,
    };
    for line in &context.lines {
        let span_id = line
            .call
            .and_then(|call| context.call_span_ids.get(call))
            .map(|id| format!("{id:016x}"))
            .unwrap_or_else(|| server_span.clone());
        let mut timestamp = String::with_capacity(28);
        clock::rfc3339_micros(&mut timestamp, line.at_ns);
        let mut fields = Map::new();
        if let Some(call) = line.call.and_then(|call| invocation.calls.get(call)) {
            if let Some(edge) = service.edges.get(call.edge) {
                fields.insert(
                    "peer.service".to_owned(),
                    Value::from(context.fleet.services[edge.target].name.as_str()),
                );
            }
        }
        let log_line = LogLine {
            timestamp,
            level: line.level.to_owned(),
            message: line.message.clone(),
            trace_id: Some(trace_hex.clone()),
            span_id: Some(span_id),
            request_id: Some(context.request_id.clone()),
            service: service.name.clone(),
            xray_trace_id: Some(xray.clone()),
            function_request_id: Some(context.request_id.clone()),
            fields,
        };
        // Serialising strings and a string-keyed map cannot fail.
        let text = serde_json::to_string(&log_line).unwrap_or_default();
        sink.push(
            line.at_ns,
            invocation.stream,
            Some(index),
            EventKind::AppLog,
            line_carries,
            text,
        );
    }
    if matches!(invocation.outcome, Outcome::Timeout | Outcome::Crash) {
        return;
    }

    let trace_bytes = context.trace_id.to_be_bytes().to_vec();
    let (server_kind, faas_trigger) = match invocation.trigger {
        Trigger::ApiRoot => (span::SpanKind::Server, "http"),
        Trigger::Hop(EdgeKind::Http) => (span::SpanKind::Server, "http"),
        Trigger::Hop(EdgeKind::StepFunctions) => (span::SpanKind::Server, "other"),
        Trigger::Hop(kind) => (span::SpanKind::Consumer, kind.faas_trigger()),
    };
    let error = invocation.outcome == Outcome::Error;
    let mut server_attributes = vec![
        string_attribute("faas.trigger", faas_trigger),
        string_attribute("faas.invocation_id", &context.request_id),
        string_attribute("cloud.account.id", &context.fleet.account_id),
        string_attribute(
            "aws.lambda.invoked_arn",
            &context.fleet.function_arn(service),
        ),
    ];
    if invocation.init_ns.is_some() {
        server_attributes.push(bool_attribute("faas.coldstart", true));
    }
    let mut otlp_spans = Vec::with_capacity(1 + invocation.calls.len());
    otlp_spans.push(Span {
        trace_id: trace_bytes.clone(),
        span_id: context.span_id.to_be_bytes().to_vec(),
        parent_span_id: context
            .parent_span_id
            .map(|id| id.to_be_bytes().to_vec())
            .unwrap_or_default(),
        name: context.entry_name.clone(),
        kind: server_kind as i32,
        start_time_unix_nano: invocation.start_ns,
        end_time_unix_nano: invocation.end_ns(),
        attributes: server_attributes,
        status: Some(Status {
            code: if error { 2 } else { 0 },
            message: if error {
                "handler returned an error".to_owned()
            } else {
                String::new()
            },
        }),
        ..Default::default()
    });
    spans.push(TruthSpan {
        trace_id: context.trace_id,
        span_id: context.span_id,
        parent_span_id: context.parent_span_id,
        service: service.name.clone(),
        name: context.entry_name.clone(),
        error,
    });
    for (call_index, call) in invocation.calls.iter().enumerate() {
        let (Some(edge), Some(span_id)) = (
            service.edges.get(call.edge),
            context.call_span_ids.get(call_index),
        ) else {
            continue;
        };
        let target = &context.fleet.services[edge.target].name;
        let (name, kind, attributes) = match edge.kind {
            EdgeKind::Http => {
                let method = edge.channel.split(' ').next().unwrap_or("GET");
                (
                    method.to_owned(),
                    span::SpanKind::Client,
                    vec![
                        string_attribute("http.request.method", method),
                        string_attribute("server.address", &format!("{target}.internal")),
                        int_attribute("http.response.status_code", 200),
                    ],
                )
            }
            kind => (
                format!("{} publish", edge.channel),
                span::SpanKind::Producer,
                vec![
                    string_attribute("messaging.system", kind.label()),
                    string_attribute("messaging.destination.name", &edge.channel),
                ],
            ),
        };
        otlp_spans.push(Span {
            trace_id: trace_bytes.clone(),
            span_id: span_id.to_be_bytes().to_vec(),
            parent_span_id: context.span_id.to_be_bytes().to_vec(),
            name: name.clone(),
            kind: kind as i32,
            start_time_unix_nano: call.send_ns,
            end_time_unix_nano: call.done_ns,
            attributes,
            status: Some(Status::default()),
            ..Default::default()
        });
        spans.push(TruthSpan {
            trace_id: context.trace_id,
            span_id: *span_id,
            parent_span_id: Some(context.span_id),
            service: service.name.clone(),
            name,
            error: false,
        });
    }
    let data = TracesData {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    string_attribute("service.name", &service.name),
                    string_attribute("faas.name", &service.function_name),
                    string_attribute("faas.version", "$LATEST"),
                    string_attribute("faas.instance", &context.stream.name),
                    int_attribute(
                        "faas.max_memory",
                        i64::from(service.memory_mb) * 1024 * 1024,
                    ),
                    string_attribute("cloud.provider", "aws"),
                    string_attribute("cloud.platform", "aws_lambda"),
                    string_attribute("cloud.region", &context.fleet.region),
                    string_attribute("cloud.account.id", &context.fleet.account_id),
                ],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "tracelake-instrumentation".to_owned(),
                    version: "0.1.0".to_owned(),
                    ..Default::default()
                }),
                spans: otlp_spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let flushed_at = invocation.end_ns();
    sink.push(
        flushed_at,
        invocation.stream,
        Some(index),
        EventKind::SpanLine,
        Carries {
            own_trace: true,
            request_id: true,
            trace_evidence: true,
        },
        encode_json_line(&data),
    );
}
