//! What rendering knows about one invocation, shared by every runtime's
//! format and by the instrumented Rust runtime, and the text forms of its ids.

use crate::fleet::{Fleet, Service};
use crate::streams::LogStream;
use crate::traffic::Invocation;

/// The request id in UUID form (version 4 bits set).
pub fn request_id_text(bits: u128) -> String {
    let v = (bits & !(0xf << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        (v >> 96) as u32,
        (v >> 80) as u16,
        (v >> 64) as u16,
        (v >> 48) as u16,
        v & 0xffff_ffff_ffff
    )
}

/// A trace id in X-Ray form.
pub fn xray_text(trace_id: u128) -> String {
    tracelake_instrumentation::wire::ids::TraceId(trace_id).to_xray()
}

/// One application log line, before it is put in a runtime's format.
#[derive(Debug, Clone, PartialEq)]
pub struct AppLine {
    /// When it is written.
    pub at_ns: u64,
    /// Level as tracelake writes it: `DEBUG`, `INFO`, `WARN`, `ERROR`.
    pub level: &'static str,
    /// The message.
    pub message: String,
    /// Index of the call it is about, if any (its client span is current).
    pub call: Option<usize>,
}

/// Everything known about one invocation while rendering it.
pub struct InvocationContext<'a> {
    /// The fleet.
    pub fleet: &'a Fleet,
    /// The invocation.
    pub invocation: &'a Invocation,
    /// Its service.
    pub service: &'a Service,
    /// Its log stream.
    pub stream: &'a LogStream,
    /// `xxxxxxxx-xxxx-4xxx-…`.
    pub request_id: String,
    /// Its trace.
    pub trace_id: u128,
    /// The span or X-Ray segment of the caller that the trace context names.
    pub parent_span_id: Option<u64>,
    /// The invocation's own span (or X-Ray segment) id.
    pub span_id: u64,
    /// The client/producer span id of each call, in call order.
    pub call_span_ids: Vec<u64>,
    /// The application lines of this invocation.
    pub lines: Vec<AppLine>,
    /// Trigger description for span names and log lines.
    pub entry_name: String,
}

/// `text` as a JSON string literal, quotes and escapes included.
pub fn json_string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_look_like_uuid_v4() {
        let text = request_id_text(u128::MAX);
        assert_eq!(text.len(), 36);
        assert_eq!(&text[14..15], "4");
        assert!(matches!(&text[19..20], "8" | "9" | "a" | "b"), "{text}");
        assert_eq!(text.matches('-').count(), 4);
        assert_ne!(request_id_text(1), request_id_text(2));
    }
}
