//! Trace fields written into text lines: `trace_id=…`/`span_id=…` (OpenTelemetry's
//! Python logging format, logfmt-like suffixes) and Datadog's injected ids.

use tracelake_instrumentation::wire::ids::SpanId;

use super::json::trace_of;
use super::log::ParsedLog;

/// Datadog's log injection writes `[dd.trace_id=… dd.span_id=…]` into text lines:
/// kept as attributes, never taken for the trace (they are decimal 64-bit ids).
pub(super) fn keep_datadog_text_ids(log: &mut ParsedLog) {
    for (key, pattern) in [
        ("dd.trace_id", "dd.trace_id="),
        ("dd.span_id", "dd.span_id="),
    ] {
        let Some(at) = log.message.find(pattern) else {
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
pub(super) fn adopt_text_trace_fields(log: &mut ParsedLog) {
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
