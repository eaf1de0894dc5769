//! JSON log lines: our own, Powertools, Lambda's JSON log format, loguru,
//! ecs-logging, pino/winston/bunyan and any other JSON object, read from a
//! `serde_json` object by the keys each logger uses.

use serde_json::{Map, Value};
use tracelake_instrumentation::wire::ids::{SpanId, TraceId, XrayHeader};
use tracelake_instrumentation::wire::log_line;

use super::{
    LineFormat, LineTime, ParsedLog, normalise_level, numeric_level, platform, runtime, time,
};

/// A runtime line whose message is a JSON record (`.NET`'s structured logging,
/// `console.log(JSON.stringify(…))`, Python's `print(json.dumps(…))`): what the
/// record names itself (level, trace, span, service) wins over the prefix.
pub(super) fn adopt_json_body(log: &mut ParsedLog) {
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

/// A non-empty string field. A dotted key (`trace.id`, `service.name`) is read
/// as written and, failing that, as nested objects (`{"trace":{"id":…}}`), the
/// way ecs-logging and Elastic APM write it.
pub(super) fn string_field<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
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
pub(super) fn loguru_fields(object: &Map<String, Value>) -> Option<Map<String, Value>> {
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

pub(super) fn value_text(value: &Value) -> String {
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
pub(super) const TRACE_KEYS: [&str; 7] = [
    "trace_id",
    "otelTraceID",
    "trace.id",
    "traceparent",
    "traceId",
    "xray_trace_id",
    "AWS-XRAY-TRACE-ID",
];

pub(super) const SPAN_KEYS: [&str; 4] = ["span_id", "otelSpanID", "span.id", "spanId"];

/// Keys that hold the Lambda request id. Not `aws.request_id`: in OpenTelemetry
/// that is the id of an AWS SDK call the function made, not of its invocation.
pub(super) const REQUEST_KEYS: [&str; 8] = [
    "request_id",
    "requestId",
    "function_request_id",
    "AWSRequestId",
    "awsRequestId",
    "aws_request_id",
    "faas.invocation_id",
    "lambda_request_id",
];

pub(super) const LEVEL_KEYS: [&str; 9] = [
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

pub(super) const SERVICE_KEYS: [&str; 4] =
    ["service", "service.name", "otelServiceName", "serviceName"];

pub(super) const TIME_KEYS: [&str; 6] =
    ["timestamp", "time", "@timestamp", "ts", "@t", "timeMillis"];

pub(super) const MESSAGE_KEYS: [&str; 4] = ["message", "msg", "body", "@m"];

/// Other tracers' ids, kept as attributes (never the indexed trace unless they
/// are a whole trace id in one of [`TRACE_KEYS`]).
pub(super) const TRACER_ATTRIBUTE_KEYS: [&str; 6] = [
    "dd.trace_id",
    "dd.span_id",
    "trace_flags",
    "otelTraceSampled",
    "dd",
    "AWSTraceHeader",
];

/// A trace id as a log field writes it: 32 hex, X-Ray, an X-Ray header or a
/// W3C `traceparent`. Returns whether it was an X-Ray form.
pub(super) fn trace_of(value: &str) -> Option<(TraceId, bool, Option<SpanId>)> {
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

pub(super) fn parse_json_object(text: &str, object: Map<String, Value>) -> ParsedLog {
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
pub(super) fn message_of(object: &Map<String, Value>) -> Option<String> {
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
pub(super) fn log4j_instant(object: &Map<String, Value>) -> Option<LineTime> {
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
