//! JSON log lines: our own, Powertools, Lambda's JSON log format, loguru,
//! ecs-logging, pino/winston/bunyan and any other JSON object, read from a
//! `serde_json` object by the keys each logger uses.

use opentelemetry_semantic_conventions::attribute as semconv;
use serde_json::{Map, Value};
use tracelake_instrumentation::wire::ids::{SpanId, TraceId, XrayHeader};
use tracelake_instrumentation::wire::log_line::{self, keys};

use crate::index::rows::LogLevel;

use super::invoke_error;
use super::json_object::{Field, FlatObject, JsonObject, string_field};
use super::level::{normalise_level, numeric_level};
use super::log::{LineFormat, ParsedLog};
use super::platform;
use super::request_id::is_placeholder_request_id;
use super::time;

/// A runtime line whose message is a JSON record (`.NET`'s structured logging,
/// `console.log(JSON.stringify(…))`, Python's `print(json.dumps(…))`): what the
/// record names itself (level, trace, span, service) wins over the prefix.
pub(super) fn adopt_json_body(log: &mut ParsedLog) {
    let body = log.message.trim();
    if !body.starts_with('{') {
        return;
    }
    let record = match FlatObject::parse(body) {
        Some(flat) => parse_fields(LineFormat::Json, body, &flat),
        None => {
            let Ok(Value::Object(object)) = serde_json::from_str::<Value>(body) else {
                return;
            };
            parse_fields(LineFormat::Json, body, &object)
        }
    };
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
        fields.insert(keys::LEVEL.to_owned(), level.clone());
    }
    if let Some(message) = record.get("message") {
        fields.insert(keys::MESSAGE.to_owned(), message.clone());
    }
    if let Some(time) = record.get("time").and_then(|time| time.get("repr")) {
        fields.insert("time".to_owned(), time.clone());
    }
    Some(fields)
}

/// Keys that name a line's trace, in the order they are trusted: our own and
/// OpenTelemetry's log fields (`trace_id` from pino/winston instrumentation and
/// the OTel spec, `otelTraceID` from Python's logging instrumentation, ECS
/// `trace.id`, a `traceparent`), .NET's `traceId`, then Powertools'
/// `xray_trace_id`. A value that is not a whole trace id (`otelTraceID="0"`, a
/// Datadog decimal id) names nothing.
pub(super) const TRACE_KEYS: [&str; 7] = [
    keys::TRACE_ID,
    "otelTraceID",
    "trace.id",
    "traceparent",
    "traceId",
    keys::XRAY_TRACE_ID,
    "AWS-XRAY-TRACE-ID",
];

pub(super) const SPAN_KEYS: [&str; 4] = [keys::SPAN_ID, "otelSpanID", "span.id", "spanId"];

/// Keys that hold the Lambda request id. Not `aws.request_id`: in OpenTelemetry
/// that is the id of an AWS SDK call the function made, not of its invocation.
pub(super) const REQUEST_KEYS: [&str; 8] = [
    keys::REQUEST_ID,
    "requestId",
    keys::FUNCTION_REQUEST_ID,
    "AWSRequestId",
    "awsRequestId",
    "aws_request_id",
    semconv::FAAS_INVOCATION_ID,
    "lambda_request_id",
];

pub(super) const LEVEL_KEYS: [&str; 9] = [
    keys::LEVEL,
    "log_level",
    "levelname",
    "severity",
    "severityText",
    "severity_text",
    "log.level",
    "lvl",
    "@l",
];

pub(super) const SERVICE_KEYS: [&str; 4] = [
    keys::SERVICE,
    semconv::SERVICE_NAME,
    "otelServiceName",
    "serviceName",
];

pub(super) const TIME_KEYS: [&str; 6] = [
    keys::TIMESTAMP,
    "time",
    "@timestamp",
    "ts",
    "@t",
    "timeMillis",
];

pub(super) const MESSAGE_KEYS: [&str; 4] = [keys::MESSAGE, "msg", "body", "@m"];

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
    let ours = log_line::is_log_line(&object);
    parse_fields(json_format(&object, ours), text, &object)
}

/// [`parse_json_object`] for a line that is a flat object ([`FlatObject`]),
/// without a `Value` tree; `None` when the line is not one, or is a Lambda
/// platform record (`"type":"platform.…"`), which the `Value` path reads.
/// (loguru's records nest, so they are never flat.)
pub(super) fn parse_flat_json(text: &str) -> Option<ParsedLog> {
    let object = FlatObject::parse(text)?;
    if matches!(object.field("type"), Some(Field::Str(kind)) if kind.starts_with("platform.")) {
        return None;
    }
    // `log_line::is_log_line`, on the flat object.
    let ours = log_line::REQUIRED_KEYS.iter().all(|key| object.has(key))
        && log_line::ID_KEYS.iter().any(|key| object.has(key));
    Some(parse_fields(json_format(&object, ours), text, &object))
}

/// The format of a JSON line that is not a platform nor a loguru record, by
/// the keys it has; `ours` when it is one of our log lines.
fn json_format(object: &impl JsonObject, ours: bool) -> LineFormat {
    let has = |key: &str| object.has(key);
    let crash = has("errorType") && has("errorMessage");
    if ours {
        LineFormat::Tracelake
    } else if has(keys::FUNCTION_REQUEST_ID)
        || has(keys::XRAY_TRACE_ID)
        || (has(keys::SERVICE) && has("location") && has(keys::LEVEL))
    {
        LineFormat::Powertools
    } else if crash
        || (["requestId", "AWSRequestId"].iter().any(|key| has(key))
            && (has(keys::MESSAGE) || has("msg")))
    {
        LineFormat::LambdaJson
    } else {
        LineFormat::Json
    }
}

/// The fields of a JSON (or logfmt) record, wherever its logger put them.
pub(crate) fn parse_fields(format: LineFormat, text: &str, object: &impl JsonObject) -> ParsedLog {
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
        .filter(|id| !is_placeholder_request_id(id))
        .map(str::to_owned);
    let time = TIME_KEYS
        .iter()
        .find_map(|key| match object.field(key)? {
            Field::Str(text) => time::parse_timestamp(text).or_else(|| time::parse_epoch(text)),
            Field::Number(number) => time::parse_epoch(&number.to_string()),
            _ => None,
        })
        .or_else(|| object.log4j_instant());
    let level = LEVEL_KEYS
        .iter()
        .chain(["severityNumber", "severity_number"].iter())
        .find_map(|key| match object.field(key)? {
            Field::Str(text) => normalise_level(text),
            Field::Number(number) => numeric_level(key, number.as_i64()?),
            _ => None,
        })
        .or_else(|| {
            // A runtime's crash record names no level: it is an error.
            (object.has("errorType") && object.has("errorMessage")).then_some(LogLevel::Error)
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
            .entries()
            .filter(|(key, _)| {
                TRACER_ATTRIBUTE_KEYS.contains(key)
                    || (*key != keys::TRACE_ID && TRACE_KEYS.contains(key))
                    || SPAN_KEYS.contains(key)
            })
            .map(|(key, value)| (key.to_owned(), value.text()))
            .collect(),
        _ => {
            let skip = |key: &str| {
                key == keys::TRACE_ID
                    || key == keys::SPAN_ID
                    || (key != keys::XRAY_TRACE_ID
                        && TRACE_KEYS.contains(&key)
                        && trace_id.is_some())
                    || REQUEST_KEYS.contains(&key)
                    || LEVEL_KEYS.contains(&key)
                    || TIME_KEYS.contains(&key)
                    || MESSAGE_KEYS.contains(&key)
                    || key == keys::SERVICE
                    || key == keys::XRAY_TRACE_ID
            };
            object
                .entries()
                .filter(|(key, _)| !skip(key))
                .map(|(key, value)| (key.to_owned(), value.text()))
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
        invoke_error: invoke_error::json_record(object, level),
    }
}

/// The message of a record: `message`/`msg`/`body`, `fields.message` (Rust
/// `tracing`'s JSON), or a crash record's `errorType: errorMessage`.
pub(super) fn message_of(object: &impl JsonObject) -> Option<String> {
    if let Some(value) = MESSAGE_KEYS.iter().find_map(|key| object.field(key)) {
        return Some(value.text());
    }
    if let Some(message) = object.nested_text("fields", "message") {
        return Some(message);
    }
    let error_type = string_field(object, "errorType");
    let error_message = object.field("errorMessage").map(Field::text);
    match (error_type, error_message) {
        (Some(kind), Some(message)) => Some(format!("{kind}: {message}")),
        (Some(kind), None) => Some(kind.to_owned()),
        (None, Some(message)) => Some(message),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The `Value` path: what a flat line must read as.
    fn by_value(text: &str) -> Option<ParsedLog> {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(object)) => Some(parse_json_object(text, object)),
            _ => None,
        }
    }

    #[test]
    fn flat_lines_read_as_the_value_path_reads_them() {
        for line in [
            r#"{"timestamp":"2026-11-29T01:02:03.456789Z","level":"INFO","message":"charged card","trace_id":"5759e988bd862e3fe1be46a994272793","span_id":"53995c3f42cd8ad8","request_id":"r-1","service":"payments","amount":42,"ratio":0.5,"big":1e3,"ok":true,"none":null}"#,
            r#"{"level":"INFO","location":"collect.handler:9","message":"Collecting payment","timestamp":"2021-05-03 11:47:12,494+0000","service":"payment","cold_start":true,"function_name":"f","function_memory_size":128,"function_request_id":"52fdfc07-2182-154f-163f-5f0f9a621d72","xray_trace_id":"1-5759e988-bd862e3fe1be46a994272793"}"#,
            r#"{"timestamp":"2026-11-29T10:00:03Z","level":"ERROR","requestId":"0bfd1d7a-8a54-4f33-8628-4b67d110ed94","message":"boom"}"#,
            r#"{"errorMessage":"boom","errorType":"java.lang.RuntimeException"}"#,
            r#"{"level":50,"msg":"x","time":1764378000123,"otelTraceID":"8ed12a364f9bfedd4a7edc321dcaaef9","otelSpanID":"e3bb6f3d57a91383"}"#,
            r#"{"severityNumber":13,"body":"x","dd.trace_id":"3172564172058669914","dd.span_id":"14292093692483532556"}"#,
            r#"{"msg":"m","traceparent":"00-8ed12a364f9bfedd4a7edc321dcaaef9-e3bb6f3d57a91383-01","ts":"1764378000.5"}"#,
            r#"{"message":"esc\"aped \u00e9\n","key\"q":"v\\","message":"second wins"}"#,
            r#"{"type":"platform.start","time":"2026-11-29T10:00:00.000Z","record":{"requestId":"r"}}"#,
            r#"{"type":"platform.unknown","time":"2026-11-29T10:00:00.000Z","status":"x"}"#,
            r#"{"n":-0,"m":18446744073709551616,"f":1.0,"g":-1.5e-7}"#,
            r#"{}"#,
        ] {
            if let Some(flat) = parse_flat_json(line) {
                assert_eq!(Some(flat), by_value(line), "{line}");
            }
        }
        // Nested values and platform records are left to the `Value` path.
        assert!(parse_flat_json(r#"{"a":{"b":1}}"#).is_none());
        assert!(parse_flat_json(r#"{"a":[1]}"#).is_none());
        assert!(parse_flat_json(r#"{"type":"platform.start","record":"x"}"#).is_none());
        assert!(parse_flat_json(r#"{"a":1} trailing"#).is_none());
        assert_eq!(by_value(r#"{"a":1} trailing"#), None);
    }

    fn key() -> impl Strategy<Value = String> {
        let known: Vec<String> = TRACE_KEYS
            .iter()
            .chain(&SPAN_KEYS)
            .chain(&REQUEST_KEYS)
            .chain(&LEVEL_KEYS)
            .chain(&SERVICE_KEYS)
            .chain(&TIME_KEYS)
            .chain(&MESSAGE_KEYS)
            .chain(&TRACER_ATTRIBUTE_KEYS)
            .chain(&[
                "severityNumber",
                "errorType",
                "errorMessage",
                "location",
                "type",
                "fields",
            ])
            .map(|key| key.to_string())
            .collect();
        prop_oneof![prop::sample::select(known), "[a-z_.\"\\\\é]{1,8}"]
    }

    fn value() -> impl Strategy<Value = serde_json::Value> {
        prop_oneof![
            "(\\PC|[\t\n\"\\\\])*".prop_map(Value::from),
            prop::sample::select(vec![
                "5759e988bd862e3fe1be46a994272793",
                "1-5759e988-bd862e3fe1be46a994272793",
                "53995c3f42cd8ad8",
                "INFO",
                "warning",
                "2026-11-29T01:02:03.456Z",
                "1764378000123",
                "platform.start",
                "0bfd1d7a-8a54-4f33-8628-4b67d110ed94",
                "",
            ])
            .prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            any::<bool>().prop_map(Value::from),
            Just(Value::Null),
        ]
    }

    proptest! {
        /// Any flat object, keys repeated or escaped: the flat path reads what
        /// the `Value` path reads.
        #[test]
        fn any_flat_object_reads_as_the_value_path_reads_it(
            fields in prop::collection::vec((key(), value()), 0..12),
        ) {
            let members: Vec<String> = fields
                .iter()
                .map(|(key, value)| format!("{}:{value}", Value::from(key.as_str())))
                .collect();
            let line = format!("{{{}}}", members.join(","));
            let flat = parse_flat_json(&line);
            prop_assert!(flat.is_some() || line.contains("\"type\":\"platform."), "{line}");
            if let Some(flat) = flat {
                prop_assert_eq!(Some(flat), by_value(&line), "{}", line);
            }
        }
    }
}
