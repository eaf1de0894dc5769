//! Parse: one CloudWatch log event's text to what it says.
//!
//! Every line format of DESIGN.md "Line formats" is recognised here, from the
//! cheapest test to the most expensive; a line that matches none is kept as a
//! plain log line. Parsing never fails: the only events that do not become rows
//! are span lines that do not decode, which the pipeline quarantines.

mod batch;
mod event;
mod invoke_error;
mod json;
mod json_object;
mod level;
mod log;
pub mod otlp;
pub mod platform;
mod request_id;
pub mod runtime;
mod text;
pub mod time;

pub use batch::{ParsedBatch, parse_batch};
pub use event::{parse_event, parse_event_from};
pub use level::normalise_level;
pub use log::{InvokeError, LineFormat, ParsedEvent, ParsedLog};
pub use platform::{InvocationStatus, PlatformRecord, Report};
pub use time::LineTime;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::rows::LogLevel;
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
        assert_eq!(ecs.level, Some(LogLevel::Error));
    }

    #[test]
    fn loguru_serialized_records_give_level_request_and_trace() {
        // loguru 0.7.3, `logger.add(sink, serialize=True)` inside
        // `logger.contextualize(trace_id=…, request_id=…)`, as it prints it.
        let line = r#"{"text": "2026-11-29 15:59:31.961 | ERROR    | __main__:<module>:38 - loguru error\n", "record": {"elapsed": {"repr": "0:00:00.044904", "seconds": 0.044904}, "exception": null, "extra": {"trace_id": "556bb0dcf3772e4e84e40ae1c17d20fb", "request_id": "11111111-2222-3333-4444-555555555555"}, "file": {"name": "gen.py", "path": "/tmp/rev9/gen.py"}, "function": "<module>", "level": {"icon": "x", "name": "ERROR", "no": 40}, "line": 38, "message": "loguru error", "module": "gen", "name": "__main__", "process": {"id": 21372, "name": "MainProcess"}, "thread": {"id": 139927886220160, "name": "MainThread"}, "time": {"repr": "2026-11-29 15:59:31.961176+00:00", "timestamp": 1795967971.961176}}}"#;
        let log = log_of(line);
        assert_eq!(log.level, Some(LogLevel::Error));
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
        assert_eq!(python.level, Some(LogLevel::Info));
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
        assert_eq!(python.level, Some(LogLevel::Error));
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
        assert_eq!(java.level, Some(LogLevel::Error));
        assert_eq!(java.message, "java.lang.RuntimeException: boom");
    }

    #[test]
    fn numeric_levels_and_level_spellings() {
        assert_eq!(
            log_of(r#"{"level":50,"msg":"x"}"#).level,
            Some(LogLevel::Error)
        );
        assert_eq!(
            log_of(r#"{"severityNumber":13,"body":"x"}"#).level,
            Some(LogLevel::Warn)
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
            assert_eq!(
                normalise_level(label).map(LogLevel::as_str),
                Some(level),
                "{label}"
            );
        }
        assert_eq!(normalise_level("chatty"), None);
    }

    #[test]
    fn a_dotnet_json_body_names_its_own_level_and_trace() {
        let line = log_of(
            "2026-11-29T10:00:04.001Z\t25f50c18-9cfc-40db-ab68-8da3c1ea0e94\tinfo\t{\"level\":\"Warning\",\"traceId\":\"1-6b0bf7a0-c65c9908416851b646130ded\",\"message\":\"slow\"}",
        );
        assert_eq!(line.format, Some(LineFormat::DotnetText));
        assert_eq!(line.level, Some(LogLevel::Warn));
        assert_eq!(
            line.trace_id.map(|id| id.to_string()).as_deref(),
            Some("6b0bf7a0c65c9908416851b646130ded")
        );
        assert!(line.trace_from_xray);
    }
}
