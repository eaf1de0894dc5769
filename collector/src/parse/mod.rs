//! Parse: one CloudWatch log event's text to what it says.
//!
//! Every line format of DESIGN.md "Line formats" is recognised here, from the
//! cheapest test to the most expensive; a line that matches none is kept as a
//! plain log line. Parsing never fails: the only events that do not become rows
//! are span lines that do not decode, which the pipeline quarantines.

mod batch;
mod json;
pub mod otlp;
pub mod platform;
pub mod runtime;
mod text;
pub mod time;

use serde_json::Value;
use tracelake_instrumentation::wire::{
    ids::{SpanId, TraceId},
    span_line::{self, LineOrigin},
};

use crate::index::rows::SpanRow;
pub use batch::{ParsedBatch, parse_batch};
pub(crate) use json::parse_fields;
use json::{adopt_json_body, parse_flat_json, parse_json_object};
pub use platform::{InvocationStatus, PlatformRecord, Report};
use text::{adopt_text_trace_fields, keep_datadog_text_ids};
pub use time::LineTime;

/// The line format an event was read as: the `format` column of `logs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineFormat {
    /// Our JSON log line (`tracelake_instrumentation::wire::log_line::LogLine`).
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
    /// The format the line was read as; `None` until one is known.
    pub format: Option<LineFormat>,
    /// The line's own time, when it carries one, with its precision. The row
    /// uses it only when it is believable ([`time::row_timestamp_ns`]).
    pub time: Option<LineTime>,
    /// The normalised level (`TRACE` … `FATAL`), when the line has one.
    pub level: Option<&'static str>,
    /// The line's message: the whole line, or its message field for structured lines.
    pub message: String,
    /// The trace the line names itself.
    pub trace_id: Option<TraceId>,
    /// Whether that trace came from an X-Ray field (`xray_trace_id`, an X-Ray
    /// id or header): Lambda's own context, weaker than an OpenTelemetry or our
    /// own trace id when they disagree about a request.
    pub trace_from_xray: bool,
    /// The span the line names itself.
    pub span_id: Option<SpanId>,
    /// The Lambda request id the line names.
    pub request_id: Option<String>,
    /// The service the line names (`service`, `service.name`, …).
    pub service: Option<String>,
    /// Every other field, flattened to text (`key.sub` for nested objects).
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
                Ok(data) => match otlp::span_rows(data) {
                    Ok(rows) => ParsedEvent::Spans(rows),
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
