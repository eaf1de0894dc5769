//! Our JSON log line: one object per log record, linked to its trace.
//!
//! ```json
//! {"timestamp":"2026-11-29T01:02:03.456789Z","level":"INFO","message":"charged card",
//!  "trace_id":"5759e988bd862e3fe1be46a994272793","span_id":"53995c3f42cd8ad8",
//!  "request_id":"c6af9ac6-7b61-11e6-9a41-93e8deadbeef","service":"payments",
//!  "xray_trace_id":"1-5759e988-bd862e3fe1be46a994272793",
//!  "function_request_id":"c6af9ac6-7b61-11e6-9a41-93e8deadbeef","amount":42}
//! ```
//!
//! `xray_trace_id` and `function_request_id` repeat the ids under the names that
//! Powertools for AWS Lambda uses, so that existing Logs Insights queries keep
//! working. Any other key is a field of the event.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The keys of this format, defined once: the writer (`logs.rs`) writes them,
/// [`LogLine`] reads them (its field names; a test checks they agree).
pub mod keys {
    /// RFC 3339 UTC time with microseconds.
    pub const TIMESTAMP: &str = "timestamp";
    /// The level name.
    pub const LEVEL: &str = "level";
    /// The formatted message.
    pub const MESSAGE: &str = "message";
    /// The trace id, 32 lowercase hex digits.
    pub const TRACE_ID: &str = "trace_id";
    /// The current span's id, 16 lowercase hex digits.
    pub const SPAN_ID: &str = "span_id";
    /// The Lambda request id.
    pub const REQUEST_ID: &str = "request_id";
    /// The service name.
    pub const SERVICE: &str = "service";
    /// The trace id in X-Ray form, under Powertools' name.
    pub const XRAY_TRACE_ID: &str = "xray_trace_id";
    /// The request id, under Powertools' name.
    pub const FUNCTION_REQUEST_ID: &str = "function_request_id";
    /// Every key the format owns: an event field of one of these names is
    /// written as `field.<name>`.
    pub const ALL: [&str; 9] = [
        TIMESTAMP,
        LEVEL,
        MESSAGE,
        TRACE_ID,
        SPAN_ID,
        REQUEST_ID,
        SERVICE,
        XRAY_TRACE_ID,
        FUNCTION_REQUEST_ID,
    ];
}

/// The keys that every line of this format carries, whatever the event's fields.
pub const REQUIRED_KEYS: [&str; 4] = [keys::TIMESTAMP, keys::LEVEL, keys::MESSAGE, keys::SERVICE];

/// The keys by which the collector tells this format from other JSON log lines:
/// a line with the required keys and at least one of these is ours.
pub const ID_KEYS: [&str; 3] = [keys::TRACE_ID, keys::SPAN_ID, keys::REQUEST_ID];

/// One log record as written to stdout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    /// RFC 3339 UTC time with microseconds, e.g. `2026-11-29T01:02:03.456789Z`.
    pub timestamp: String,
    /// `TRACE`, `DEBUG`, `INFO`, `WARN` or `ERROR`.
    pub level: String,
    /// The formatted message.
    pub message: String,
    /// 32 lowercase hex digits, absent outside a trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// 16 lowercase hex digits: the span that was current when the line was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    /// The Lambda request id of the invocation that wrote the line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The service (`service.name` of the resource).
    pub service: String,
    /// The trace id in X-Ray form, under Powertools' name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xray_trace_id: Option<String>,
    /// The request id, under Powertools' name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_request_id: Option<String>,
    /// The event's own fields.
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

/// Whether a parsed JSON object is one of our log lines.
pub fn is_log_line(object: &Map<String, Value>) -> bool {
    REQUIRED_KEYS.iter().all(|key| object.contains_key(*key))
        && ID_KEYS.iter().any(|key| object.contains_key(*key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_struct_reads_and_writes_exactly_the_format_keys() {
        let line = LogLine {
            timestamp: "t".into(),
            level: "INFO".into(),
            message: "m".into(),
            trace_id: Some("a".into()),
            span_id: Some("b".into()),
            request_id: Some("c".into()),
            service: "s".into(),
            xray_trace_id: Some("d".into()),
            function_request_id: Some("e".into()),
            fields: Map::new(),
        };
        let Value::Object(object) = serde_json::to_value(&line).unwrap() else {
            panic!("a log line is an object");
        };
        let mut written: Vec<&str> = object.keys().map(String::as_str).collect();
        let mut expected = keys::ALL.to_vec();
        written.sort_unstable();
        expected.sort_unstable();
        assert_eq!(written, expected);
    }

    #[test]
    fn a_line_round_trips_with_its_fields() {
        let text = r#"{"timestamp":"2026-11-29T01:02:03.456789Z","level":"INFO","message":"charged card","trace_id":"5759e988bd862e3fe1be46a994272793","span_id":"53995c3f42cd8ad8","request_id":"r-1","service":"payments","amount":42}"#;
        let line: LogLine = serde_json::from_str(text).unwrap();
        assert_eq!(line.fields.get("amount"), Some(&Value::from(42)));
        assert_eq!(line.request_id.as_deref(), Some("r-1"));
        let again = serde_json::to_string(&line).unwrap();
        let object: Map<String, Value> = serde_json::from_str(&again).unwrap();
        assert!(is_log_line(&object));
        assert_eq!(object.get("amount"), Some(&Value::from(42)));
    }

    #[test]
    fn powertools_lines_are_not_ours() {
        let powertools = r#"{"level":"INFO","location":"collect.handler:9","message":"Collecting payment","timestamp":"2021-05-03 11:47:12,494+0000","service":"payment","function_request_id":"52fdfc07-2182-154f-163f-5f0f9a621d72"}"#;
        let object: Map<String, Value> = serde_json::from_str(powertools).unwrap();
        assert!(!is_log_line(&object));
    }
}
