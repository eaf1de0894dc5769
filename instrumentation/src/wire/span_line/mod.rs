//! Span lines: OTLP `TracesData`, one object per stdout line.
//!
//! Three encodings are read:
//! - OTLP JSON (`{"resourceSpans":[…]}`), the OpenTelemetry OTLP File Exporter
//!   format, written by default ([`otlp_json`]);
//! - our compact format `tracelake-2`, written with `TRACELAKE_SPAN_FORMAT=compact`
//!   ([`compact`]): `{"__otel_otlp_stdout":"tracelake-2","payload":"<base64>"}`,
//!   raw deflate with a preset dictionary, the resource without what the log
//!   group and stream imply ([`origin`]);
//! - the `__otel_otlp_stdout` envelope of other Lambda tracers and of our
//!   compact format before `tracelake-2`: `{"__otel_otlp_stdout":"0.1.0",
//!   "source":…,"content-type":"application/x-protobuf","content-encoding":"gzip",
//!   "payload":"<base64>","base64":true}`.

pub mod compact;
mod dictionary;
mod format;
pub mod origin;
pub mod otlp_json;
mod split;
#[cfg(test)]
mod tests;

use base64::Engine as _;
use prost::Message as _;
use serde::Deserialize;

pub use compact::{SpanEncoder, encode_compact_line};
pub use format::{
    COMPACT_VERSION, ENVELOPE_KEY, MAX_ENVELOPE_PAYLOAD_BYTES, SpanFormat, SpanLineError,
};
pub use opentelemetry_proto::tonic::trace::v1::TracesData;
pub use origin::LineOrigin;
pub use otlp_json::{encode_json_line, encode_otlp_json_line};
pub use split::{TRUNCATED_ATTRIBUTE, encode_lines};

/// Whether a line looks like a span line (cheap test on the first bytes).
pub fn is_span_line(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with("{\"resourceSpans\"") || line.contains(ENVELOPE_KEY)
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "__otel_otlp_stdout", default)]
    version: Option<serde_json::Value>,
    #[serde(rename = "content-type", default)]
    content_type: Option<String>,
    #[serde(rename = "content-encoding", default)]
    content_encoding: Option<String>,
    #[serde(default)]
    base64: Option<bool>,
    payload: serde_json::Value,
}

/// Reads one span line in any encoding, as written: a compact line's resource
/// lacks what its origin implies (use [`decode_span_line_from`] to restore it).
///
/// # Errors
/// [`SpanLineError`] when the line, its envelope or its payload is malformed.
pub fn decode_span_line(line: &str) -> Result<TracesData, SpanLineError> {
    decode(line).map(|(data, _)| data)
}

/// Reads one span line delivered through `origin` (its log group and stream):
/// the resource of a compact `tracelake-2` line gets back the attributes its
/// writer left out ([`origin`]). Lines of other formats are read as written.
///
/// # Errors
/// [`SpanLineError`] when the line, its envelope or its payload is malformed.
pub fn decode_span_line_from(line: &str, origin: &LineOrigin) -> Result<TracesData, SpanLineError> {
    let (mut data, restorable) = decode(line)?;
    if restorable {
        for resource_spans in &mut data.resource_spans {
            origin.restore(resource_spans.resource.get_or_insert_with(Default::default));
        }
    }
    Ok(data)
}

/// The data, and whether it is a compact line whose resource can be restored.
fn decode(line: &str) -> Result<(TracesData, bool), SpanLineError> {
    let line = line.trim();
    if line.contains(ENVELOPE_KEY) {
        let envelope: Envelope = serde_json::from_str(line)?;
        if let Some(serde_json::Value::String(version)) = &envelope.version
            && version.starts_with(format::OWN_VERSION_PREFIX)
        {
            let payload = envelope.payload.as_str().unwrap_or_default();
            return Ok((compact::decode_payload(version, payload)?, true));
        }
        return Ok((decode_envelope(envelope)?, false));
    }
    Ok((serde_json::from_str(line)?, false))
}

fn decode_envelope(envelope: Envelope) -> Result<TracesData, SpanLineError> {
    let content_type = envelope
        .content_type
        .unwrap_or_else(|| "application/x-protobuf".to_owned());
    // A JSON payload may be inlined as an object rather than a string.
    if let serde_json::Value::Object(_) = envelope.payload {
        return Ok(serde_json::from_value(envelope.payload)?);
    }
    let payload = envelope.payload.as_str().unwrap_or_default();
    let mut bytes = if envelope.base64.unwrap_or(true) {
        base64::engine::general_purpose::STANDARD.decode(payload)?
    } else {
        payload.as_bytes().to_vec()
    };
    if envelope.content_encoding.as_deref() == Some("gzip") {
        bytes = super::gzip::gunzip_capped(&bytes, MAX_ENVELOPE_PAYLOAD_BYTES)?;
    }
    match content_type.as_str() {
        "application/x-protobuf" | "application/protobuf" => Ok(TracesData::decode(&bytes[..])?),
        "application/json" => Ok(serde_json::from_slice(&bytes)?),
        other => Err(SpanLineError::UnsupportedContentType(other.to_owned())),
    }
}
