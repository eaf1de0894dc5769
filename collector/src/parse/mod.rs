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
pub use time::LineTime;

/// The line format an event was read as: the `format` column of `logs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineFormat {
    /// Our JSON log line ([`log_line::LogLine`]).
    Tracelake,
    /// Lambda platform text (`START`, `END`, `REPORT`, …).
    LambdaPlatformText,
    /// Lambda JSON log format, platform records (`platform.report`, …).
    LambdaPlatformJson,
    /// Lambda JSON log format, application records (with `requestId`), and the
    /// runtimes' JSON crash records (`errorType`, `errorMessage`).
    LambdaJson,
    /// Node.js runtime text.
    NodeText,
    /// .NET runtime text (`trce`/`dbug`/`info`/`warn`/`fail`/`crit`).
    DotnetText,
    /// Python runtime text.
    PythonText,
    /// Java, the Lambda log4j2 appender pattern.
    JavaText,
    /// Ruby's `Logger` format.
    RubyText,
    /// logfmt with a level and a message (Go `slog`, logrus).
    Logfmt,
    /// `<timestamp> <LEVEL> <message>` text of other loggers.
    Text,
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
            LineFormat::DotnetText => "dotnet_text",
            LineFormat::PythonText => "python_text",
            LineFormat::JavaText => "java_text",
            LineFormat::RubyText => "ruby_text",
            LineFormat::Logfmt => "logfmt",
            LineFormat::Text => "text",
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
    /// The line's own time, when it carries one, with its precision. The row
    /// uses it only when it is believable ([`time::row_timestamp_ns`]).
    pub time: Option<LineTime>,
    pub level: Option<&'static str>,
    pub message: String,
    /// The trace the line names itself.
    pub trace_id: Option<TraceId>,
    /// Whether that trace came from an X-Ray field (`xray_trace_id`, an X-Ray
    /// id or header): Lambda's own context, weaker than an OpenTelemetry or our
    /// own trace id when they disagree about a request.
    pub trace_from_xray: bool,
    pub span_id: Option<SpanId>,
    pub request_id: Option<String>,
    pub service: Option<String>,
    pub attributes: Vec<(String, String)>,
    /// What a platform line says about its invocation.
    pub platform: Option<PlatformRecord>,
}

/// The level column's values, from the many spellings runtimes and loggers use:
/// Python (`WARNING`, `CRITICAL`), .NET (`trce`, `dbug`, `fail`, `crit`,
/// `Information`), Java (`SEVERE`, `FINE`), Serilog (`Verbose`), syslog words.
pub fn normalise_level(level: &str) -> Option<&'static str> {
    let level = level.trim();
    let is = |names: &[&str]| names.iter().any(|name| level.eq_ignore_ascii_case(name));
    if is(&["INFO", "information", "notice", "informational"]) {
        Some("INFO")
    } else if is(&["ERROR", "err", "fail", "severe"]) {
        Some("ERROR")
    } else if is(&["WARN", "WARNING"]) {
        Some("WARN")
    } else if is(&["DEBUG", "dbug", "fine", "config"]) {
        Some("DEBUG")
    } else if is(&["TRACE", "trce", "verbose", "finer", "finest"]) {
        Some("TRACE")
    } else if is(&[
        "FATAL",
        "CRITICAL",
        "crit",
        "panic",
        "emerg",
        "emergency",
        "alert",
    ]) {
        Some("FATAL")
    } else {
        None
    }
}

/// A numeric level: pino/bunyan (10 … 60) or OpenTelemetry `severityNumber` (1 … 24).
fn numeric_level(key: &str, value: i64) -> Option<&'static str> {
    if key == "severityNumber" || key == "severity_number" {
        return match value {
            1..=4 => Some("TRACE"),
            5..=8 => Some("DEBUG"),
            9..=12 => Some("INFO"),
            13..=16 => Some("WARN"),
            17..=20 => Some("ERROR"),
            21..=24 => Some("FATAL"),
            _ => None,
        };
    }
    match value {
        10 => Some("TRACE"),
        20 => Some("DEBUG"),
        30 => Some("INFO"),
        40 => Some("WARN"),
        50 => Some("ERROR"),
        60 => Some("FATAL"),
        _ => None,
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

/// Datadog's log injection writes `[dd.trace_id=… dd.span_id=…]` into text lines:
/// kept as attributes, never taken for the trace (they are decimal 64-bit ids).
fn keep_datadog_text_ids(log: &mut ParsedLog) {
    for key in ["dd.trace_id", "dd.span_id"] {
        let pattern = format!("{key}=");
        let Some(at) = log.message.find(&pattern) else {
            continue;
        };
        let rest = &log.message[at + pattern.len()..];
        let value: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if !value.is_empty() && !log.attributes.iter().any(|(k, _)| k == key) {
            log.attributes.push((key.to_owned(), value));
        }
    }
}

/// `trace_id=…`/`span_id=…` written into a text line (OpenTelemetry's Python
/// logging format `[trace_id=… span_id=…]`, logfmt-like suffixes, `otelTraceID=…`):
/// a text line that names its trace is linked by it, never by position. A key
/// must start a word, so Datadog's `dd.trace_id=` (a decimal id) is not read.
fn adopt_text_trace_fields(log: &mut ParsedLog) {
    let value_after = |keys: &[&str]| -> Option<&str> {
        keys.iter().find_map(|key| {
            let mut from = 0;
            while let Some(offset) = log.message[from..].find(key) {
                let at = from + offset;
                from = at + key.len();
                let starts_word = log.message[..at]
                    .chars()
                    .next_back()
                    .is_none_or(|c| c.is_whitespace() || matches!(c, '[' | '(' | ',' | ';' | '{'));
                if starts_word {
                    let rest = &log.message[from..];
                    let end = rest
                        .find(|c: char| !c.is_ascii_alphanumeric() && c != '-')
                        .unwrap_or(rest.len());
                    return Some(&rest[..end]);
                }
            }
            None
        })
    };
    let Some(trace) =
        value_after(&["trace_id=", "otelTraceID=", "traceparent="]).and_then(trace_of)
    else {
        return;
    };
    let span = value_after(&["span_id=", "otelSpanID="]).and_then(|id| SpanId::parse(id).ok());
    log.trace_id = Some(trace.0);
    log.trace_from_xray = trace.1;
    log.span_id = span.or(trace.2);
}

/// A runtime line whose message is a JSON record (`.NET`'s structured logging,
/// `console.log(JSON.stringify(…))`, Python's `print(json.dumps(…))`): what the
/// record names itself (level, trace, span, service) wins over the prefix.
fn adopt_json_body(log: &mut ParsedLog) {
    let body = log.message.trim();
    if !body.starts_with('{') {
        return;
    }
    let Ok(Value::Object(object)) = serde_json::from_str::<Value>(body) else {
        return;
    };
    let record = parse_fields(LineFormat::Json, body, &object);
    if record.level.is_some() {
        log.level = record.level;
    }
    if record.trace_id.is_some() {
        log.trace_id = record.trace_id;
        log.trace_from_xray = record.trace_from_xray;
    }
    if record.span_id.is_some() {
        log.span_id = record.span_id;
    }
    if record.service.is_some() {
        log.service = record.service;
    }
    if log.request_id.is_none() {
        log.request_id = record.request_id;
    }
    log.attributes.extend(record.attributes);
}

fn plain(text: &str) -> ParsedLog {
    ParsedLog {
        format: Some(LineFormat::Plain),
        message: text.to_owned(),
        ..ParsedLog::default()
    }
}

/// A non-empty string field. A dotted key (`trace.id`, `service.name`) is read
/// as written and, failing that, as nested objects (`{"trace":{"id":…}}`), the
/// way ecs-logging and Elastic APM write it.
fn string_field<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    let flat = object.get(key).and_then(Value::as_str);
    let nested = || {
        let (head, rest) = key.split_once('.')?;
        let mut value = object.get(head)?;
        for part in rest.split('.') {
            value = value.as_object()?.get(part)?;
        }
        value.as_str()
    };
    flat.filter(|s| !s.is_empty())
        .or_else(|| nested().filter(|s| !s.is_empty()))
}

/// loguru's `serialize=True` record: `{"text":…,"record":{"level":{"name":…},
/// "message":…,"time":{"repr":…},"extra":{…}}}`. Returns the record's fields
/// flattened (its `extra`, where `logger.bind`/`contextualize` put trace and
/// request ids, plus level, message and time), or `None` for any other shape.
fn loguru_fields(object: &Map<String, Value>) -> Option<Map<String, Value>> {
    if object.len() != 2 || !object.get("text")?.is_string() {
        return None;
    }
    let record = object.get("record")?.as_object()?;
    let mut fields = record
        .get("extra")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(level) = record.get("level").and_then(|level| level.get("name")) {
        fields.insert("level".to_owned(), level.clone());
    }
    if let Some(message) = record.get("message") {
        fields.insert("message".to_owned(), message.clone());
    }
    if let Some(time) = record.get("time").and_then(|time| time.get("repr")) {
        fields.insert("time".to_owned(), time.clone());
    }
    Some(fields)
}

fn value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Keys that name a line's trace, in the order they are trusted: our own and
/// OpenTelemetry's log fields (`trace_id` from pino/winston instrumentation and
/// the OTel spec, `otelTraceID` from Python's logging instrumentation, ECS
/// `trace.id`, a `traceparent`), .NET's `traceId`, then Powertools'
/// `xray_trace_id`. A value that is not a whole trace id (`otelTraceID="0"`, a
/// Datadog decimal id) names nothing.
const TRACE_KEYS: [&str; 7] = [
    "trace_id",
    "otelTraceID",
    "trace.id",
    "traceparent",
    "traceId",
    "xray_trace_id",
    "AWS-XRAY-TRACE-ID",
];

const SPAN_KEYS: [&str; 4] = ["span_id", "otelSpanID", "span.id", "spanId"];

/// Keys that hold the Lambda request id. Not `aws.request_id`: in OpenTelemetry
/// that is the id of an AWS SDK call the function made, not of its invocation.
const REQUEST_KEYS: [&str; 8] = [
    "request_id",
    "requestId",
    "function_request_id",
    "AWSRequestId",
    "awsRequestId",
    "aws_request_id",
    "faas.invocation_id",
    "lambda_request_id",
];

const LEVEL_KEYS: [&str; 9] = [
    "level",
    "log_level",
    "levelname",
    "severity",
    "severityText",
    "severity_text",
    "log.level",
    "lvl",
    "@l",
];

const SERVICE_KEYS: [&str; 4] = ["service", "service.name", "otelServiceName", "serviceName"];

const TIME_KEYS: [&str; 6] = ["timestamp", "time", "@timestamp", "ts", "@t", "timeMillis"];

const MESSAGE_KEYS: [&str; 4] = ["message", "msg", "body", "@m"];

/// Other tracers' ids, kept as attributes (never the indexed trace unless they
/// are a whole trace id in one of [`TRACE_KEYS`]).
const TRACER_ATTRIBUTE_KEYS: [&str; 6] = [
    "dd.trace_id",
    "dd.span_id",
    "trace_flags",
    "otelTraceSampled",
    "dd",
    "AWSTraceHeader",
];

/// A trace id as a log field writes it: 32 hex, X-Ray, an X-Ray header or a
/// W3C `traceparent`. Returns whether it was an X-Ray form.
fn trace_of(value: &str) -> Option<(TraceId, bool, Option<SpanId>)> {
    let value = value.trim();
    if let Some(rest) = value.strip_prefix("00-") {
        let mut parts = rest.split('-');
        let trace = TraceId::parse(parts.next()?).ok()?;
        let span = parts.next().and_then(|span| SpanId::parse(span).ok());
        return Some((trace, false, span));
    }
    if let Ok(id) = TraceId::parse(value) {
        return Some((id, value.starts_with("1-"), None));
    }
    XrayHeader::parse(value)
        .ok()
        .map(|header| (header.root, true, None))
}

fn parse_json_object(text: &str, object: Map<String, Value>) -> ParsedLog {
    if let Some(record) = platform::parse_json(&object) {
        return ParsedLog {
            format: Some(LineFormat::LambdaPlatformJson),
            time: string_field(&object, "time").and_then(time::parse_timestamp),
            level: Some(platform::level_of_json(&object, &record)),
            request_id: record.request_id().map(str::to_owned),
            message: text.to_owned(),
            platform: Some(record),
            ..ParsedLog::default()
        };
    }
    if let Some(fields) = loguru_fields(&object) {
        return parse_fields(LineFormat::Json, text, &fields);
    }
    let has = |key: &str| object.contains_key(key);
    let crash = has("errorType") && has("errorMessage");
    let format = if log_line::is_log_line(&object) {
        LineFormat::Tracelake
    } else if has("function_request_id")
        || has("xray_trace_id")
        || (has("service") && has("location") && has("level"))
    {
        LineFormat::Powertools
    } else if crash
        || (["requestId", "AWSRequestId"].iter().any(|key| has(key))
            && (has("message") || has("msg")))
    {
        LineFormat::LambdaJson
    } else {
        LineFormat::Json
    };
    parse_fields(format, text, &object)
}

/// The fields of a JSON (or logfmt) record, wherever its logger put them.
pub(crate) fn parse_fields(
    format: LineFormat,
    text: &str,
    object: &Map<String, Value>,
) -> ParsedLog {
    let mut trace_id = None;
    let mut trace_from_xray = false;
    let mut span_id = None;
    for key in TRACE_KEYS {
        if let Some((id, xray, span)) = string_field(object, key).and_then(trace_of) {
            trace_id = Some(id);
            trace_from_xray = xray;
            span_id = span;
            break;
        }
    }
    // Datadog's ids are decimal 64-bit: only a whole 128-bit hex id is one of ours.
    if trace_id.is_none()
        && let Some(id) = string_field(object, "dd.trace_id").and_then(|id| TraceId::parse(id).ok())
        && !id.to_string().starts_with("0000000000000000")
    {
        trace_id = Some(id);
    }
    if let Some(span) = SPAN_KEYS
        .iter()
        .find_map(|key| string_field(object, key).and_then(|id| SpanId::parse(id).ok()))
    {
        span_id = Some(span);
    }
    let request_id = REQUEST_KEYS
        .iter()
        .find_map(|key| string_field(object, key))
        .filter(|id| !runtime::is_placeholder_request_id(id))
        .map(str::to_owned);
    let time = TIME_KEYS
        .iter()
        .find_map(|key| match object.get(*key)? {
            Value::String(text) => time::parse_timestamp(text).or_else(|| time::parse_epoch(text)),
            Value::Number(number) => time::parse_epoch(&number.to_string()),
            _ => None,
        })
        .or_else(|| log4j_instant(object));
    let level = LEVEL_KEYS
        .iter()
        .chain(["severityNumber", "severity_number"].iter())
        .find_map(|key| match object.get(*key)? {
            Value::String(text) => normalise_level(text),
            Value::Number(number) => numeric_level(key, number.as_i64()?),
            _ => None,
        })
        .or_else(|| {
            // A runtime's crash record names no level: it is an error.
            (object.contains_key("errorType") && object.contains_key("errorMessage"))
                .then_some("ERROR")
        });
    let service = SERVICE_KEYS
        .iter()
        .find_map(|key| string_field(object, key))
        .map(str::to_owned);
    let message = match format {
        LineFormat::Json => text.to_owned(),
        _ => message_of(object).unwrap_or_default(),
    };
    let attributes = match format {
        // The whole JSON is the message; only other tracers' ids are repeated.
        LineFormat::Json => object
            .iter()
            .filter(|(key, _)| {
                TRACER_ATTRIBUTE_KEYS.contains(&key.as_str())
                    || (key.as_str() != "trace_id" && TRACE_KEYS.contains(&key.as_str()))
                    || SPAN_KEYS.contains(&key.as_str())
            })
            .map(|(key, value)| (key.clone(), value_text(value)))
            .collect(),
        _ => {
            let skip = |key: &str| {
                key == "trace_id"
                    || key == "span_id"
                    || (key != "xray_trace_id" && TRACE_KEYS.contains(&key) && trace_id.is_some())
                    || REQUEST_KEYS.contains(&key)
                    || LEVEL_KEYS.contains(&key)
                    || TIME_KEYS.contains(&key)
                    || MESSAGE_KEYS.contains(&key)
                    || key == "service"
                    || key == "xray_trace_id"
            };
            object
                .iter()
                .filter(|(key, _)| !skip(key))
                .map(|(key, value)| (key.clone(), value_text(value)))
                .collect()
        }
    };
    ParsedLog {
        format: Some(format),
        time,
        level,
        message,
        trace_id,
        trace_from_xray,
        span_id,
        request_id,
        service,
        attributes,
        platform: None,
    }
}

/// The message of a record: `message`/`msg`/`body`, `fields.message` (Rust
/// `tracing`'s JSON), or a crash record's `errorType: errorMessage`.
fn message_of(object: &Map<String, Value>) -> Option<String> {
    if let Some(value) = MESSAGE_KEYS.iter().find_map(|key| object.get(*key)) {
        return Some(value_text(value));
    }
    if let Some(message) = object
        .get("fields")
        .and_then(|fields| fields.get("message"))
    {
        return Some(value_text(message));
    }
    let error_type = string_field(object, "errorType");
    let error_message = object.get("errorMessage").map(value_text);
    match (error_type, error_message) {
        (Some(kind), Some(message)) => Some(format!("{kind}: {message}")),
        (Some(kind), None) => Some(kind.to_owned()),
        (None, Some(message)) => Some(message),
        (None, None) => None,
    }
}

/// log4j2's JSON layout: `"instant":{"epochSecond":…,"nanoOfSecond":…}`.
fn log4j_instant(object: &Map<String, Value>) -> Option<LineTime> {
    let instant = object.get("instant")?.as_object()?;
    let seconds = instant.get("epochSecond")?.as_i64()?;
    let nanos = instant
        .get("nanoOfSecond")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let time = chrono::DateTime::from_timestamp(seconds, u32::try_from(nanos).ok()?)?;
    Some(LineTime {
        ns: time.timestamp_nanos_opt()?,
        precision_ns: 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Every recognisable prefix followed by anything: no panic, and the
        /// message is never empty unless the line is.
        #[test]
        fn parsing_never_panics(
            prefix in prop::sample::select(vec![
                "", "[ERROR] ", "[INFO]\t", "2026-11-29T10:00:04.001Z\t", "2026-11-29 10:00:05 ",
                "I, [2026-11-29T10:00:05.1 #8] ", "time=", "level=info msg=", "{\"level\":", "panic: ",
                "START RequestId: ", "REPORT RequestId: ", "EXTENSION Name: ", "2026-11-29T10:00:0",
            ]),
            rest in "(\\PC|[\t\n\r\"{}=é])*",
        ) {
            let text = format!("{prefix}{rest}");
            if let ParsedEvent::Log(log) = parse_event(&text) {
                prop_assert!(text.trim_end_matches(['\n', '\r']).is_empty() || log.format.is_some());
            }
        }
    }

    fn log_of(text: &str) -> ParsedLog {
        match parse_event(text) {
            ParsedEvent::Log(log) => *log,
            other => panic!("not a log line: {other:?}"),
        }
    }

    #[test]
    fn otel_fields_name_the_trace_and_placeholders_do_not() {
        let python = log_of(
            r#"{"message":"m","otelTraceID":"8ed12a364f9bfedd4a7edc321dcaaef9","otelSpanID":"e3bb6f3d57a91383","otelServiceName":"cart","otelTraceSampled":true}"#,
        );
        assert_eq!(
            python.trace_id.map(|id| id.to_string()).as_deref(),
            Some("8ed12a364f9bfedd4a7edc321dcaaef9")
        );
        assert_eq!(
            python.span_id.map(|id| id.to_string()).as_deref(),
            Some("e3bb6f3d57a91383")
        );
        assert_eq!(python.service.as_deref(), Some("cart"));
        assert!(!python.trace_from_xray);
        let placeholder = log_of(r#"{"message":"m","otelTraceID":"0","otelSpanID":"0"}"#);
        assert_eq!(placeholder.trace_id, None);
        assert_eq!(placeholder.span_id, None);
        let traceparent = log_of(
            r#"{"msg":"m","traceparent":"00-8ed12a364f9bfedd4a7edc321dcaaef9-e3bb6f3d57a91383-01"}"#,
        );
        assert_eq!(
            traceparent.span_id.map(|id| id.to_string()).as_deref(),
            Some("e3bb6f3d57a91383")
        );
        assert!(traceparent.trace_id.is_some());
    }

    #[test]
    fn ecs_nested_trace_and_span_name_the_trace() {
        // ecs-logging 2.x's StdlibFormatter with Elastic APM ids, as it prints them.
        let ecs = log_of(
            r#"{"@timestamp":"2026-11-29T15:59:36.213Z","log.level":"error","message":"ecs with apm","ecs.version":"1.6.0","log":{"logger":"a","origin":{"file":{"line":1,"name":"f"}},"original":"ecs with apm"},"process":{"name":"MainProcess","pid":21432},"span":{"id":"b7ad6b7169203331"},"service":{"name":"billing"},"trace":{"id":"0af7651916cd43dd8448eb211c80319c"},"transaction":{"id":"b7ad6b7169203331"}}"#,
        );
        assert_eq!(
            ecs.trace_id.map(|id| id.to_string()).as_deref(),
            Some("0af7651916cd43dd8448eb211c80319c")
        );
        assert_eq!(
            ecs.span_id.map(|id| id.to_string()).as_deref(),
            Some("b7ad6b7169203331")
        );
        assert_eq!(ecs.service.as_deref(), Some("billing"));
        assert_eq!(ecs.level, Some("ERROR"));
    }

    #[test]
    fn loguru_serialized_records_give_level_request_and_trace() {
        // loguru 0.7.3, `logger.add(sink, serialize=True)` inside
        // `logger.contextualize(trace_id=…, request_id=…)`, as it prints it.
        let line = r#"{"text": "2026-11-29 15:59:31.961 | ERROR    | __main__:<module>:38 - loguru error\n", "record": {"elapsed": {"repr": "0:00:00.044904", "seconds": 0.044904}, "exception": null, "extra": {"trace_id": "556bb0dcf3772e4e84e40ae1c17d20fb", "request_id": "11111111-2222-3333-4444-555555555555"}, "file": {"name": "gen.py", "path": "/tmp/rev9/gen.py"}, "function": "<module>", "level": {"icon": "x", "name": "ERROR", "no": 40}, "line": 38, "message": "loguru error", "module": "gen", "name": "__main__", "process": {"id": 21372, "name": "MainProcess"}, "thread": {"id": 139927886220160, "name": "MainThread"}, "time": {"repr": "2026-11-29 15:59:31.961176+00:00", "timestamp": 1795967971.961176}}}"#;
        let log = log_of(line);
        assert_eq!(log.level, Some("ERROR"));
        assert_eq!(
            log.trace_id.map(|id| id.to_string()).as_deref(),
            Some("556bb0dcf3772e4e84e40ae1c17d20fb")
        );
        assert_eq!(
            log.request_id.as_deref(),
            Some("11111111-2222-3333-4444-555555555555")
        );
        assert!(log.time.is_some());
        assert_eq!(log.message, line);
    }

    #[test]
    fn text_lines_that_name_their_trace_are_read() {
        // opentelemetry-instrumentation-logging's default format.
        let python = log_of(
            "2026-11-29 10:00:05,123 INFO [root] [app.py:12] [trace_id=8ed12a364f9bfedd4a7edc321dcaaef9 span_id=e3bb6f3d57a91383 resource.service.name=cart trace_sampled=True] - priced",
        );
        assert_eq!(
            python.trace_id.map(|id| id.to_string()).as_deref(),
            Some("8ed12a364f9bfedd4a7edc321dcaaef9")
        );
        assert_eq!(
            python.span_id.map(|id| id.to_string()).as_deref(),
            Some("e3bb6f3d57a91383")
        );
        assert_eq!(python.level, Some("INFO"));
        let placeholder = log_of("[INFO]\t2026-11-29T10:00:05.123Z\t\tx [trace_id=0 span_id=0]");
        assert_eq!(placeholder.trace_id, None);
        let datadog = log_of(
            "2020-03-05T16:30:36.113Z\tf08bb4c8-d6b2-4f05-ac17-af7e2ba005fb\tDEBUG\t[dd.trace_id=3172564172058669914 dd.span_id=14292093692483532556] x",
        );
        assert_eq!(datadog.trace_id, None);
        assert!(
            datadog
                .attributes
                .contains(&("dd.trace_id".to_owned(), "3172564172058669914".to_owned()))
        );
        assert!(
            datadog
                .attributes
                .contains(&("dd.span_id".to_owned(), "14292093692483532556".to_owned()))
        );
    }

    #[test]
    fn datadog_ids_are_kept_but_never_the_trace() {
        let line = log_of(
            r#"{"level":"info","message":"m","dd.trace_id":"3172564172058669914","dd.span_id":"14292093692483532556"}"#,
        );
        assert_eq!(line.trace_id, None);
        assert!(
            line.attributes
                .contains(&("dd.trace_id".to_owned(), "3172564172058669914".to_owned()))
        );
        assert!(
            line.attributes
                .contains(&("dd.span_id".to_owned(), "14292093692483532556".to_owned()))
        );
    }

    #[test]
    fn crash_records_are_errors_with_their_type() {
        let python = log_of(
            r#"{"timestamp": "2026-11-29T10:00:03Z", "log_level": "ERROR", "errorMessage": "'S'", "errorType": "KeyError", "requestId": "0bfd1d7a-8a54-4f33-8628-4b67d110ed94", "stackTrace": ["  File \"h.py\", line 1\n"]}"#,
        );
        assert_eq!(python.format, Some(LineFormat::LambdaJson));
        assert_eq!(python.level, Some("ERROR"));
        assert_eq!(python.message, "KeyError: 'S'");
        assert!(
            python
                .attributes
                .iter()
                .any(|(k, v)| k == "stackTrace" && v.contains("h.py"))
        );
        let java = log_of(
            r#"{"errorMessage":"boom","errorType":"java.lang.RuntimeException","stackTrace":["example.Handler.handleRequest(Handler.java:12)"]}"#,
        );
        assert_eq!(java.level, Some("ERROR"));
        assert_eq!(java.message, "java.lang.RuntimeException: boom");
    }

    #[test]
    fn numeric_levels_and_level_spellings() {
        assert_eq!(log_of(r#"{"level":50,"msg":"x"}"#).level, Some("ERROR"));
        assert_eq!(
            log_of(r#"{"severityNumber":13,"body":"x"}"#).level,
            Some("WARN")
        );
        for (label, level) in [
            ("trce", "TRACE"),
            ("dbug", "DEBUG"),
            ("info", "INFO"),
            ("warn", "WARN"),
            ("fail", "ERROR"),
            ("crit", "FATAL"),
            ("Information", "INFO"),
            ("Critical", "FATAL"),
            ("SEVERE", "ERROR"),
        ] {
            assert_eq!(normalise_level(label), Some(level), "{label}");
        }
        assert_eq!(normalise_level("chatty"), None);
    }

    #[test]
    fn a_dotnet_json_body_names_its_own_level_and_trace() {
        let line = log_of(
            "2026-11-29T10:00:04.001Z\t25f50c18-9cfc-40db-ab68-8da3c1ea0e94\tinfo\t{\"level\":\"Warning\",\"traceId\":\"1-6b0bf7a0-c65c9908416851b646130ded\",\"message\":\"slow\"}",
        );
        assert_eq!(line.format, Some(LineFormat::DotnetText));
        assert_eq!(line.level, Some("WARN"));
        assert_eq!(
            line.trace_id.map(|id| id.to_string()).as_deref(),
            Some("6b0bf7a0c65c9908416851b646130ded")
        );
        assert!(line.trace_from_xray);
    }
}
