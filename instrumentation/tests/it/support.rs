//! Reading what a telemetry wrote.

use std::collections::HashMap;

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use serde_json::{Map, Value as Json};
use tracelake_instrumentation::wire::{log_line, span_line};

/// The lines of one run, sorted into log lines and spans.
pub struct Written {
    pub logs: Vec<Map<String, Json>>,
    pub spans: Vec<Span>,
    pub resource: Vec<HashMap<String, String>>,
    pub span_lines: Vec<String>,
}

pub fn attribute_text(value: &Option<opentelemetry_proto::tonic::common::v1::AnyValue>) -> String {
    match value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(text)) => text.clone(),
        Some(Value::BoolValue(flag)) => flag.to_string(),
        Some(Value::IntValue(number)) => number.to_string(),
        Some(Value::DoubleValue(number)) => number.to_string(),
        other => format!("{other:?}"),
    }
}

pub fn attributes(span: &Span) -> HashMap<String, String> {
    span.attributes
        .iter()
        .map(|kv| (kv.key.clone(), attribute_text(&kv.value)))
        .collect()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Sorts `lines` into log lines and span lines; panics on a line that is neither.
pub fn read(lines: &[String]) -> Written {
    let mut written = Written {
        logs: Vec::new(),
        spans: Vec::new(),
        resource: Vec::new(),
        span_lines: Vec::new(),
    };
    for line in lines {
        assert!(
            line.len() < tracelake_instrumentation::wire::CLOUDWATCH_EVENT_LIMIT,
            "line of {} bytes",
            line.len()
        );
        if span_line::is_span_line(line) {
            let data = span_line::decode_span_line(line).expect("span line decodes");
            for resource_spans in data.resource_spans {
                let resource = resource_spans
                    .resource
                    .map(|r| {
                        r.attributes
                            .iter()
                            .map(|kv| (kv.key.clone(), attribute_text(&kv.value)))
                            .collect()
                    })
                    .unwrap_or_default();
                written.resource.push(resource);
                for scope in resource_spans.scope_spans {
                    written.spans.extend(scope.spans);
                }
            }
            written.span_lines.push(line.clone());
        } else {
            let object: Map<String, Json> =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            assert!(log_line::is_log_line(&object), "not a log line: {line}");
            let parsed: log_line::LogLine = serde_json::from_str(line).expect("log line");
            assert!(!parsed.timestamp.is_empty());
            written.logs.push(object);
        }
    }
    written
}

impl Written {
    pub fn span_named(&self, name: &str) -> &Span {
        self.spans
            .iter()
            .find(|span| span.name == name)
            .unwrap_or_else(|| panic!("no span named {name}: {:?}", self.names()))
    }

    pub fn names(&self) -> Vec<String> {
        self.spans.iter().map(|span| span.name.clone()).collect()
    }
}
