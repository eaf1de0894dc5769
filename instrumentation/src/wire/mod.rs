//! The line formats that instrumentation writes to stdout and the collector reads.
//!
//! This module is the one definition of the contract between the two sides
//! (DESIGN.md, "Line formats"):
//!
//! - [`span_line`]: one OTLP JSON `TracesData` object per line (the OpenTelemetry
//!   "OTLP File Exporter" format), or the `__otel_otlp_stdout` envelope that
//!   carries base64 of gzipped OTLP protobuf or JSON;
//! - [`log_line`]: one JSON object per log record with `timestamp`, `level`,
//!   `message`, `trace_id`, `span_id`, `request_id`, `service` and fields;
//! - [`ids`]: trace and span ids, and the conversion between X-Ray and W3C forms;
//! - [`gzip`]: the capped gunzip both sides use for gzipped inputs.
//!
//! ```
//! use tracelake_instrumentation::wire::ids::TraceId;
//!
//! let id = TraceId::parse("1-5759e988-bd862e3fe1be46a994272793").unwrap();
//! assert_eq!(id.to_string(), "5759e988bd862e3fe1be46a994272793");
//! assert_eq!(id.to_xray(), "1-5759e988-bd862e3fe1be46a994272793");
//! assert_eq!(id.xray_epoch_seconds(), Some(0x5759e988));
//! ```

pub mod gzip;
pub mod ids;
pub mod log_line;
pub mod span_line;

/// The largest CloudWatch Logs event, in bytes. Lambda cuts a longer stdout line
/// into several events, so no line we write may be longer.
pub const CLOUDWATCH_EVENT_LIMIT: usize = 256 * 1024;

use std::fmt::Write as _;

/// Appends `text` as a JSON string, quotes included.
pub(crate) fn write_json_string(out: &mut String, text: &str) {
    out.push('"');
    let bytes = text.as_bytes();
    let mut start = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        let escape: Option<&str> = match byte {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0x00..=0x1f | 0x7f => None,
            _ => continue,
        };
        out.push_str(&text[start..index]);
        match escape {
            Some(escaped) => out.push_str(escaped),
            None => {
                let _ = write!(out, "\\u{byte:04x}");
            }
        }
        start = index + 1;
    }
    out.push_str(&text[start..]);
    out.push('"');
}
