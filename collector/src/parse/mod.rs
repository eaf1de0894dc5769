//! Parse: one CloudWatch log event's text to what it says.
//!
//! Every line format of DESIGN.md "Line formats" is recognised here, from the
//! cheapest test to the most expensive; a line that matches none is kept as a
//! plain log line. Parsing never fails: the only events that do not become rows
//! are span lines that do not decode, which the pipeline quarantines.

pub mod otlp;
pub mod platform;
pub mod runtime;
pub mod time;

use serde_json::{Map, Value};
use tracelake_instrumentation::wire::{
    ids::{SpanId, TraceId, XrayHeader},
    log_line, span_line,
};

use crate::index::rows::SpanRow;
pub use platform::{InvocationStatus, PlatformRecord, Report};

/// The line format an event was read as: the `format` column of `logs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineFormat {
    /// Our JSON log line ([`log_line::LogLine`]).
    Tracelake,
    /// Lambda platform text (`START`, `END`, `REPORT`, …).
    LambdaPlatformText,
    /// Lambda JSON log format, platform records (`platform.report`, …).
    LambdaPlatformJson,
    /// Lambda JSON log format, application records (with `requestId`).
    LambdaJson,
    /// Node.js runtime text.
    NodeText,
    /// Python runtime text.
    PythonText,
    /// Powertools for AWS Lambda Logger JSON.
    Powertools,
    /// Any other JSON object.
    Json,
    /// Anything else.
    Plain,
}

impl LineFormat {
    /// The value stored in the `format` column.
    pub fn as_str(self) -> &'static str {
        match self {
            LineFormat::Tracelake => "tracelake",
            LineFormat::LambdaPlatformText => "lambda_platform_text",
            LineFormat::LambdaPlatformJson => "lambda_platform_json",
            LineFormat::LambdaJson => "lambda_json",
            LineFormat::NodeText => "node_text",
            LineFormat::PythonText => "python_text",
            LineFormat::Powertools => "powertools",
            LineFormat::Json => "json",
            LineFormat::Plain => "plain",
        }
    }
}

/// What one event turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum ParsedEvent {
    /// A span line: the spans it holds.
    Spans(Vec<SpanRow>),
    /// A log line (including platform lines).
    Log(Box<ParsedLog>),
    /// A span line that could not be read: quarantined with this reason.
    Invalid(String),
}

/// The fields of a log line that the pipeline needs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParsedLog {
    pub format: Option<LineFormat>,
    /// The line's own time, when it carries one.
    pub timestamp_ns: Option<i64>,
    pub level: Option<&'static str>,
    pub message: String,
    /// The trace the line names itself.
    pub trace_id: Option<TraceId>,
    pub span_id: Option<SpanId>,
    pub request_id: Option<String>,
    pub service: Option<String>,
    pub attributes: Vec<(String, String)>,
    /// What a platform line says about its invocation.
    pub platform: Option<PlatformRecord>,
}

/// The level column's values, from the many spellings runtimes use.
pub fn normalise_level(level: &str) -> Option<&'static str> {
    let level = level.trim();
    let upper = |s: &str| level.eq_ignore_ascii_case(s);
    if upper("INFO") || upper("information") || upper("notice") {
        Some("INFO")
    } else if upper("ERROR") || upper("err") {
        Some("ERROR")
    } else if upper("WARN") || upper("WARNING") {
        Some("WARN")
    } else if upper("DEBUG") {
        Some("DEBUG")
    } else if upper("TRACE") {
        Some("TRACE")
    } else if upper("FATAL") || upper("CRITICAL") {
        Some("FATAL")
    } else {
        None
    }
}

/// Parses one event's text.
pub fn parse_event(message: &str) -> ParsedEvent {
    let trimmed = message.trim_end_matches(['\n', '\r']);
    let first = trimmed.as_bytes().first().copied();
    if first == Some(b'{') {
        if span_line::is_span_line(trimmed) {
            return match span_line::decode_span_line(trimmed) {
                Ok(data) => match otlp::span_rows(data) {
                    Ok(rows) => ParsedEvent::Spans(rows),
                    Err(error) => ParsedEvent::Invalid(error.to_string()),
                },
                Err(error) => ParsedEvent::Invalid(error.to_string()),
            };
        }
        if let Ok(Value::Object(object)) = serde_json::from_str::<Value>(trimmed) {
            return ParsedEvent::Log(Box::new(parse_json_object(trimmed, object)));
        }
        return ParsedEvent::Log(Box::new(plain(trimmed)));
    }
    if let Some(record) = platform::parse_text(trimmed) {
        return ParsedEvent::Log(Box::new(ParsedLog {
            format: Some(LineFormat::LambdaPlatformText),
            level: Some(match &record {
                PlatformRecord::Timeout { .. } | PlatformRecord::RuntimeExit { .. } => "ERROR",
                PlatformRecord::Report(report) if report.status != InvocationStatus::Success => {
                    "ERROR"
                }
                _ => "INFO",
            }),
            request_id: record.request_id().map(str::to_owned),
            message: trimmed.to_owned(),
            platform: Some(record),
            ..ParsedLog::default()
        }));
    }
    if first == Some(b'[') {
        if let Some(line) = runtime::parse_python(trimmed) {
            return ParsedEvent::Log(Box::new(runtime_log(LineFormat::PythonText, &line)));
        }
    } else if first.is_some_and(|b| b.is_ascii_digit())
        && let Some(line) = runtime::parse_node(trimmed)
    {
        let mut log = runtime_log(LineFormat::NodeText, &line);
        // The Node runtime writes a multi-line message with `\r` for `\n`.
        log.message = log.message.replace('\r', "\n");
        return ParsedEvent::Log(Box::new(log));
    }
    ParsedEvent::Log(Box::new(plain(trimmed)))
}

fn plain(text: &str) -> ParsedLog {
    ParsedLog {
        format: Some(LineFormat::Plain),
        message: text.to_owned(),
        ..ParsedLog::default()
    }
}

fn runtime_log(format: LineFormat, line: &runtime::RuntimeLine<'_>) -> ParsedLog {
    ParsedLog {
        format: Some(format),
        timestamp_ns: Some(line.timestamp_ns),
        level: normalise_level(line.level),
        message: line.message.trim_end().to_owned(),
        request_id: line.request_id.map(str::to_owned),
        ..ParsedLog::default()
    }
}

fn string_field<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    object
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn parse_json_object(text: &str, object: Map<String, Value>) -> ParsedLog {
    if let Some(record) = platform::parse_json(&object) {
        return ParsedLog {
            format: Some(LineFormat::LambdaPlatformJson),
            timestamp_ns: string_field(&object, "time").and_then(time::parse_timestamp_ns),
            level: Some(match &record {
                PlatformRecord::Report(report) if report.status != InvocationStatus::Success => {
                    "ERROR"
                }
                PlatformRecord::End {
                    status: Some(_), ..
                } => "ERROR",
                _ => "INFO",
            }),
            request_id: record.request_id().map(str::to_owned),
            message: text.to_owned(),
            platform: Some(record),
            ..ParsedLog::default()
        };
    }
    let format = if log_line::is_log_line(&object) {
        LineFormat::Tracelake
    } else if object.contains_key("function_request_id")
        || object.contains_key("xray_trace_id")
        || (object.contains_key("service")
            && object.contains_key("location")
            && object.contains_key("level"))
    {
        LineFormat::Powertools
    } else if object.contains_key("requestId") && object.contains_key("message") {
        LineFormat::LambdaJson
    } else {
        LineFormat::Json
    };
    let (trace_key, span_key, request_keys): (&str, &str, &[&str]) = match format {
        LineFormat::Tracelake => (
            "trace_id",
            "span_id",
            &["request_id", "function_request_id"],
        ),
        LineFormat::Powertools => ("xray_trace_id", "", &["function_request_id"]),
        _ => ("", "", &["requestId", "request_id", "AWSRequestId"]),
    };
    let trace_id = string_field(&object, trace_key).and_then(|id| {
        TraceId::parse(id)
            .ok()
            .or_else(|| XrayHeader::parse(id).ok().map(|header| header.root))
    });
    let span_id = string_field(&object, span_key).and_then(|id| SpanId::parse(id).ok());
    let request_id = request_keys
        .iter()
        .find_map(|key| string_field(&object, key))
        .map(str::to_owned);
    let timestamp_ns =
        ["timestamp", "time", "@timestamp"]
            .iter()
            .find_map(|key| match object.get(*key)? {
                Value::String(text) => time::parse_timestamp_ns(text),
                Value::Number(number) => number.as_i64().and_then(|ms| ms.checked_mul(1_000_000)),
                _ => None,
            });
    let level = ["level", "severity", "levelname"]
        .iter()
        .find_map(|key| string_field(&object, key))
        .and_then(normalise_level);
    let message = match format {
        LineFormat::Json => text.to_owned(),
        _ => object.get("message").map(value_text).unwrap_or_default(),
    };
    let service = string_field(&object, "service").map(str::to_owned);
    let skip: &[&str] = match format {
        LineFormat::Json => &[],
        _ => &[
            "timestamp",
            "time",
            "level",
            "message",
            "trace_id",
            "span_id",
            "request_id",
            "service",
            "requestId",
            "xray_trace_id",
            "function_request_id",
        ],
    };
    let attributes = if format == LineFormat::Json {
        Vec::new()
    } else {
        object
            .iter()
            .filter(|(key, _)| !skip.contains(&key.as_str()))
            .map(|(key, value)| (key.clone(), value_text(value)))
            .collect()
    };
    ParsedLog {
        format: Some(format),
        timestamp_ns,
        level,
        message,
        trace_id,
        span_id,
        request_id,
        service,
        attributes,
        platform: None,
    }
}
