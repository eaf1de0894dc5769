//! Trace fields written into text lines: `trace_id=…`/`span_id=…` (OpenTelemetry's
//! Python logging format, logfmt-like suffixes) and Datadog's injected ids.

use tracelake_instrumentation::wire::ids::SpanId;

use super::json::trace_of;
use super::log::ParsedLog;

/// Datadog's log injection writes `[dd.trace_id=… dd.span_id=…]` into text lines:
/// kept as attributes, never taken for the trace (they are decimal 64-bit ids).
pub(super) fn keep_datadog_text_ids(log: &mut ParsedLog) {
    for key in ["dd.trace_id", "dd.span_id"] {
        let Some(at) = key_offsets(&log.message, key).next() else {
            continue;
        };
        let rest = &log.message[at + key.len() + 1..];
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
            key_offsets(&log.message, key).find_map(|at| {
                let starts_word = log.message[..at]
                    .chars()
                    .next_back()
                    .is_none_or(|c| c.is_whitespace() || matches!(c, '[' | '(' | ',' | ';' | '{'));
                let rest = &log.message[at + key.len() + 1..];
                let end = rest
                    .find(|c: char| !c.is_ascii_alphanumeric() && c != '-')
                    .unwrap_or(rest.len());
                starts_word.then(|| &rest[..end])
            })
        })
    };
    let Some(trace) = value_after(&["trace_id", "otelTraceID", "traceparent"]).and_then(trace_of)
    else {
        return;
    };
    let span = value_after(&["span_id", "otelSpanID"]).and_then(|id| SpanId::parse(id).ok());
    log.trace_id = Some(trace.0);
    log.trace_from_xray = trace.1;
    log.span_id = span.or(trace.2);
}

/// Where `key=` is written in `text`, in order: the byte offset of each `key`
/// followed by `=`. Found from the `=` signs (a `memchr` scan) rather than
/// with `str::find`, which builds a two-way searcher on every call: five to
/// seven searches on every text line were about 1.5% of ingesting large
/// batches (docs/BENCHMARKS.md).
fn key_offsets<'t>(text: &'t str, key: &'t str) -> impl Iterator<Item = usize> + 't {
    text.match_indices('=')
        .filter(move |(equals, _)| text[..*equals].ends_with(key))
        .map(move |(equals, _)| equals - key.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adopted(message: &str) -> ParsedLog {
        let mut log = ParsedLog {
            message: message.to_owned(),
            ..ParsedLog::default()
        };
        adopt_text_trace_fields(&mut log);
        keep_datadog_text_ids(&mut log);
        log
    }

    #[test]
    fn a_key_is_read_where_it_starts_a_word_after_other_equals_signs() {
        let log = adopted(
            "a=b dd.trace_id=3172564172058669914 x_trace_id=1 \
             (trace_id=8ed12a364f9bfedd4a7edc321dcaaef9,span_id=e3bb6f3d57a91383)",
        );
        assert_eq!(
            log.trace_id.map(|t| t.to_string()).as_deref(),
            Some("8ed12a364f9bfedd4a7edc321dcaaef9")
        );
        assert_eq!(
            log.span_id.map(|s| s.to_string()).as_deref(),
            Some("e3bb6f3d57a91383")
        );
        assert!(
            log.attributes
                .contains(&("dd.trace_id".to_owned(), "3172564172058669914".to_owned()))
        );
    }

    #[test]
    fn later_keys_are_tried_in_order_and_lines_without_them_are_left_alone() {
        let log = adopted(
            "done otelSpanID=e3bb6f3d57a91383 otelTraceID=8ed12a364f9bfedd4a7edc321dcaaef9",
        );
        assert!(log.trace_id.is_some());
        assert_eq!(
            log.span_id.map(|s| s.to_string()).as_deref(),
            Some("e3bb6f3d57a91383")
        );
        for message in [
            "no keys here",
            "key=value trace_id",
            "=trace_id=",
            "trace_id=",
        ] {
            let log = adopted(message);
            assert_eq!((log.trace_id, log.span_id), (None, None), "{message}");
            assert!(log.attributes.is_empty(), "{message}");
        }
    }
}
