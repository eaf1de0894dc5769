//! One event's text to what it says: the formats tried from the cheapest test
//! to the most expensive.

use serde_json::Value;
use tracelake_instrumentation::wire::span_line::{self, LineOrigin};

use super::json::{adopt_json_body, parse_flat_json, parse_json_object};
use super::log::{LineFormat, ParsedEvent, ParsedLog};
use super::text::{adopt_text_trace_fields, keep_datadog_text_ids};
use super::{otlp, platform, runtime};

/// Parses one event's text. A compact span line's resource is read as written,
/// without what its log group and stream imply: [`parse_event_from`] restores it.
pub fn parse_event(message: &str) -> ParsedEvent {
    parse_event_in(message, None)
}

/// Parses one event's text delivered through `origin` (the batch's log group
/// and stream): the resource attributes a compact span line left out because
/// its origin implies them are restored (`span_line::origin`).
pub fn parse_event_from(message: &str, origin: &LineOrigin) -> ParsedEvent {
    parse_event_in(message, Some(origin))
}

fn parse_event_in(message: &str, origin: Option<&LineOrigin>) -> ParsedEvent {
    let trimmed = message.trim_end_matches(['\n', '\r']);
    let first = trimmed.as_bytes().first().copied();
    if first == Some(b'{') {
        if span_line::is_span_line(trimmed) {
            let decoded = match origin {
                Some(origin) => span_line::decode_span_line_from(trimmed, origin),
                None => span_line::decode_span_line(trimmed),
            };
            return match decoded {
                Ok(data) => match otlp::parse_spans(data) {
                    Ok(spans) => ParsedEvent::Spans(spans),
                    Err(error) => ParsedEvent::Invalid(error.to_string()),
                },
                Err(error) => ParsedEvent::Invalid(error.to_string()),
            };
        }
        // Most JSON lines are flat: read without a `Value` tree when they are.
        if let Some(log) = parse_flat_json(trimmed) {
            return ParsedEvent::Log(Box::new(log));
        }
        if let Ok(Value::Object(object)) = serde_json::from_str::<Value>(trimmed) {
            return ParsedEvent::Log(Box::new(parse_json_object(trimmed, object)));
        }
        return ParsedEvent::Log(Box::new(plain(trimmed)));
    }
    if let Some(record) = platform::parse_text(trimmed) {
        return ParsedEvent::Log(Box::new(ParsedLog {
            format: Some(LineFormat::LambdaPlatformText),
            level: Some(platform::level_of_text(trimmed, &record)),
            request_id: record.request_id().map(str::to_owned),
            message: trimmed.to_owned(),
            platform: Some(record),
            ..ParsedLog::default()
        }));
    }
    let mut log = runtime::parse_text(trimmed).unwrap_or_else(|| plain(trimmed));
    if matches!(
        log.format,
        Some(LineFormat::NodeText | LineFormat::DotnetText | LineFormat::PythonText)
    ) {
        adopt_json_body(&mut log);
    }
    if log.trace_id.is_none() {
        adopt_text_trace_fields(&mut log);
    }
    keep_datadog_text_ids(&mut log);
    ParsedEvent::Log(Box::new(log))
}

fn plain(text: &str) -> ParsedLog {
    ParsedLog {
        format: Some(LineFormat::Plain),
        message: text.to_owned(),
        ..ParsedLog::default()
    }
}
