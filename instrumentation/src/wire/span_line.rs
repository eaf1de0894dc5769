//! Span lines: OTLP `TracesData`, one object per stdout line.
//!
//! Two encodings are read:
//! - OTLP JSON (`{"resourceSpans":[…]}`), the OpenTelemetry OTLP File Exporter
//!   format, written by default;
//! - the `__otel_otlp_stdout` envelope used by other Lambda tracers and by our
//!   compact format: `{"__otel_otlp_stdout":"0.1.0","source":…,"content-type":
//!   "application/x-protobuf","content-encoding":"gzip","payload":"<base64>","base64":true}`.

use std::io::Read;

use base64::Engine as _;
use prost::Message as _;
use serde::Deserialize;

pub use opentelemetry_proto::tonic::trace::v1::TracesData;

/// The key that marks the envelope format.
pub const ENVELOPE_KEY: &str = "__otel_otlp_stdout";

/// The largest payload an envelope may expand to. A CloudWatch event is at most
/// 256 KB, so anything near this is a decompression bomb, not spans.
pub const MAX_ENVELOPE_PAYLOAD_BYTES: u64 = 32 * 1024 * 1024;

/// Why a span line could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SpanLineError {
    /// The line (or the envelope's JSON payload) is not OTLP JSON.
    #[error("invalid otlp json: {0}")]
    Json(#[from] serde_json::Error),
    /// The envelope's payload is not valid base64.
    #[error("invalid base64 payload in {ENVELOPE_KEY} envelope: {0}")]
    Base64(#[from] base64::DecodeError),
    /// The envelope's payload does not gunzip.
    #[error("invalid gzip payload in {ENVELOPE_KEY} envelope: {0}")]
    Gzip(std::io::Error),
    /// The envelope's payload expands past [`MAX_ENVELOPE_PAYLOAD_BYTES`].
    #[error("{ENVELOPE_KEY} payload expands past {MAX_ENVELOPE_PAYLOAD_BYTES} bytes")]
    TooLarge,
    /// The envelope's payload is not OTLP protobuf.
    #[error("invalid otlp protobuf payload: {0}")]
    Protobuf(#[from] prost::DecodeError),
    /// The envelope names a content type other than protobuf or JSON.
    #[error("unsupported {ENVELOPE_KEY} content-type {0:?}")]
    UnsupportedContentType(String),
}

/// Whether a line looks like a span line (cheap test on the first bytes).
pub fn is_span_line(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with("{\"resourceSpans\"") || line.contains(ENVELOPE_KEY)
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "content-type", default)]
    content_type: Option<String>,
    #[serde(rename = "content-encoding", default)]
    content_encoding: Option<String>,
    #[serde(default)]
    base64: Option<bool>,
    payload: serde_json::Value,
}

/// Reads one span line in either encoding.
pub fn decode_span_line(line: &str) -> Result<TracesData, SpanLineError> {
    let line = line.trim();
    if line.contains(ENVELOPE_KEY) {
        let envelope: Envelope = serde_json::from_str(line)?;
        return decode_envelope(envelope);
    }
    Ok(serde_json::from_str(line)?)
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
        bytes = gunzip_capped(&bytes)?;
    }
    match content_type.as_str() {
        "application/x-protobuf" | "application/protobuf" => Ok(TracesData::decode(&bytes[..])?),
        "application/json" => Ok(serde_json::from_slice(&bytes)?),
        other => Err(SpanLineError::UnsupportedContentType(other.to_owned())),
    }
}

fn gunzip_capped(bytes: &[u8]) -> Result<Vec<u8>, SpanLineError> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .take(MAX_ENVELOPE_PAYLOAD_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(SpanLineError::Gzip)?;
    if out.len() as u64 > MAX_ENVELOPE_PAYLOAD_BYTES {
        return Err(SpanLineError::TooLarge);
    }
    Ok(out)
}

/// Writes `data` as one OTLP JSON line, without the trailing newline.
pub fn encode_json_line(data: &TracesData) -> String {
    // Serialising prost types with string keys cannot fail.
    serde_json::to_string(data).unwrap_or_default()
}

/// Writes `data` as one OTLP JSON line, without the trailing newline, leaving
/// out every field that holds its default value (as the OTLP JSON mapping
/// allows). Reads back with [`decode_span_line`] to the same `TracesData`; the
/// line is about half as long as [`encode_json_line`]'s, which writes every field.
pub fn encode_otlp_json_line(data: &TracesData) -> String {
    let mut out = String::with_capacity(1024);
    out.push_str("{\"resourceSpans\":[");
    for (index, resource_spans) in data.resource_spans.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push('{');
        let mut fields = JsonFields::new(&mut out);
        if let Some(resource) = &resource_spans.resource {
            fields.key("resource");
            fields.out.push('{');
            let mut inner = JsonFields::new(fields.out);
            inner.attributes("attributes", &resource.attributes);
            inner.number(
                "droppedAttributesCount",
                u64::from(resource.dropped_attributes_count),
            );
            fields.out.push('}');
        }
        if !resource_spans.scope_spans.is_empty() {
            fields.key("scopeSpans");
            fields.out.push('[');
            for (scope_index, scope_spans) in resource_spans.scope_spans.iter().enumerate() {
                if scope_index > 0 {
                    fields.out.push(',');
                }
                write_scope_spans(fields.out, scope_spans);
            }
            fields.out.push(']');
        }
        fields.text("schemaUrl", &resource_spans.schema_url);
        out.push('}');
    }
    out.push_str("]}");
    out
}

fn write_scope_spans(
    out: &mut String,
    scope_spans: &opentelemetry_proto::tonic::trace::v1::ScopeSpans,
) {
    out.push('{');
    let mut fields = JsonFields::new(out);
    if let Some(scope) = &scope_spans.scope {
        fields.key("scope");
        fields.out.push('{');
        let mut inner = JsonFields::new(fields.out);
        inner.text("name", &scope.name);
        inner.text("version", &scope.version);
        inner.attributes("attributes", &scope.attributes);
        inner.number(
            "droppedAttributesCount",
            u64::from(scope.dropped_attributes_count),
        );
        fields.out.push('}');
    }
    if !scope_spans.spans.is_empty() {
        fields.key("spans");
        fields.out.push('[');
        for (index, span) in scope_spans.spans.iter().enumerate() {
            if index > 0 {
                fields.out.push(',');
            }
            write_span(fields.out, span);
        }
        fields.out.push(']');
    }
    fields.text("schemaUrl", &scope_spans.schema_url);
    out.push('}');
}

fn write_span(out: &mut String, span: &opentelemetry_proto::tonic::trace::v1::Span) {
    out.push('{');
    let mut fields = JsonFields::new(out);
    fields.hex("traceId", &span.trace_id);
    fields.hex("spanId", &span.span_id);
    fields.text("traceState", &span.trace_state);
    fields.hex("parentSpanId", &span.parent_span_id);
    fields.number("flags", u64::from(span.flags));
    fields.text("name", &span.name);
    fields.signed("kind", i64::from(span.kind));
    fields.quoted_number("startTimeUnixNano", span.start_time_unix_nano);
    fields.quoted_number("endTimeUnixNano", span.end_time_unix_nano);
    fields.attributes("attributes", &span.attributes);
    fields.number(
        "droppedAttributesCount",
        u64::from(span.dropped_attributes_count),
    );
    if !span.events.is_empty() {
        fields.key("events");
        fields.out.push('[');
        for (index, event) in span.events.iter().enumerate() {
            if index > 0 {
                fields.out.push(',');
            }
            fields.out.push('{');
            let mut inner = JsonFields::new(fields.out);
            inner.quoted_number("timeUnixNano", event.time_unix_nano);
            inner.text("name", &event.name);
            inner.attributes("attributes", &event.attributes);
            inner.number(
                "droppedAttributesCount",
                u64::from(event.dropped_attributes_count),
            );
            fields.out.push('}');
        }
        fields.out.push(']');
    }
    fields.number("droppedEventsCount", u64::from(span.dropped_events_count));
    if !span.links.is_empty() {
        fields.key("links");
        fields.out.push('[');
        for (index, link) in span.links.iter().enumerate() {
            if index > 0 {
                fields.out.push(',');
            }
            fields.out.push('{');
            let mut inner = JsonFields::new(fields.out);
            inner.hex("traceId", &link.trace_id);
            inner.hex("spanId", &link.span_id);
            inner.text("traceState", &link.trace_state);
            inner.attributes("attributes", &link.attributes);
            inner.number(
                "droppedAttributesCount",
                u64::from(link.dropped_attributes_count),
            );
            inner.number("flags", u64::from(link.flags));
            fields.out.push('}');
        }
        fields.out.push(']');
    }
    fields.number("droppedLinksCount", u64::from(span.dropped_links_count));
    if let Some(status) = &span.status {
        fields.key("status");
        fields.out.push('{');
        let mut inner = JsonFields::new(fields.out);
        inner.text("message", &status.message);
        inner.signed("code", i64::from(status.code));
        fields.out.push('}');
    }
    out.push('}');
}

/// Writes the fields of one JSON object, skipping defaults, with the commas.
struct JsonFields<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> JsonFields<'a> {
    fn new(out: &'a mut String) -> JsonFields<'a> {
        JsonFields { out, first: true }
    }

    fn key(&mut self, key: &str) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        self.out.push('"');
        self.out.push_str(key);
        self.out.push_str("\":");
    }

    fn text(&mut self, key: &str, value: &str) {
        if !value.is_empty() {
            self.key(key);
            super::write_json_string(self.out, value);
        }
    }

    fn number(&mut self, key: &str, value: u64) {
        if value != 0 {
            use std::fmt::Write as _;
            self.key(key);
            let _ = write!(self.out, "{value}");
        }
    }

    fn signed(&mut self, key: &str, value: i64) {
        if value != 0 {
            use std::fmt::Write as _;
            self.key(key);
            let _ = write!(self.out, "{value}");
        }
    }

    /// 64-bit integers are strings in OTLP JSON.
    fn quoted_number(&mut self, key: &str, value: u64) {
        if value != 0 {
            use std::fmt::Write as _;
            self.key(key);
            let _ = write!(self.out, "\"{value}\"");
        }
    }

    /// Trace and span ids are lowercase hex in OTLP JSON.
    fn hex(&mut self, key: &str, bytes: &[u8]) {
        if !bytes.is_empty() {
            use std::fmt::Write as _;
            self.key(key);
            self.out.push('"');
            for byte in bytes {
                let _ = write!(self.out, "{byte:02x}");
            }
            self.out.push('"');
        }
    }

    fn attributes(
        &mut self,
        key: &str,
        attributes: &[opentelemetry_proto::tonic::common::v1::KeyValue],
    ) {
        if attributes.is_empty() {
            return;
        }
        self.key(key);
        write_key_values(self.out, attributes);
    }
}

fn write_key_values(
    out: &mut String,
    attributes: &[opentelemetry_proto::tonic::common::v1::KeyValue],
) {
    out.push('[');
    for (index, attribute) in attributes.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str("{\"key\":");
        super::write_json_string(out, &attribute.key);
        if let Some(value) = &attribute.value {
            out.push_str(",\"value\":");
            write_any_value(out, value);
        }
        out.push('}');
    }
    out.push(']');
}

fn write_any_value(out: &mut String, value: &opentelemetry_proto::tonic::common::v1::AnyValue) {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    use std::fmt::Write as _;
    match &value.value {
        None => out.push_str("{}"),
        Some(Value::StringValue(text)) => {
            out.push_str("{\"stringValue\":");
            super::write_json_string(out, text);
            out.push('}');
        }
        Some(Value::BoolValue(flag)) => {
            let _ = write!(out, "{{\"boolValue\":{flag}}}");
        }
        Some(Value::IntValue(number)) => {
            let _ = write!(out, "{{\"intValue\":\"{number}\"}}");
        }
        Some(Value::DoubleValue(number)) => {
            if number.is_finite() {
                let _ = write!(out, "{{\"doubleValue\":{number:?}}}");
            } else {
                // JSON has no NaN or infinity; OTLP JSON spells them as strings.
                let text = if number.is_nan() {
                    "NaN"
                } else if *number > 0.0 {
                    "Infinity"
                } else {
                    "-Infinity"
                };
                let _ = write!(out, "{{\"doubleValue\":\"{text}\"}}");
            }
        }
        Some(Value::ArrayValue(array)) => {
            out.push_str("{\"arrayValue\":{\"values\":[");
            for (index, item) in array.values.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_any_value(out, item);
            }
            out.push_str("]}}");
        }
        Some(Value::KvlistValue(list)) => {
            out.push_str("{\"kvlistValue\":{\"values\":");
            write_key_values(out, &list.values);
            out.push_str("}}");
        }
        Some(Value::BytesValue(bytes)) => {
            out.push_str("{\"bytesValue\":\"");
            out.push_str(&base64::engine::general_purpose::STANDARD.encode(bytes));
            out.push_str("\"}");
        }
        Some(_) => out.push_str("{}"),
    }
}

/// The `content-type` our compact envelope declares.
pub const COMPACT_CONTENT_TYPE: &str = "application/x-protobuf";

/// Writes `data` as one compact line, without the trailing newline: the
/// `__otel_otlp_stdout` envelope holding base64 of gzipped OTLP protobuf.
///
/// `source` names the writer (the service); readers ignore it. The envelope
/// carries only the keys [`decode_span_line`] needs, to keep lines short.
/// Each call builds a compressor; a writer of many lines keeps one
/// [`SpanEncoder`] instead.
pub fn encode_compact_line(data: &TracesData, source: &str) -> String {
    SpanEncoder::new(SpanFormat::Compact, source).encode(data)
}

/// Buffers larger than this are given back after a flush, so that one huge
/// flush does not keep its memory for the life of the sandbox.
const KEPT_BUFFER_BYTES: usize = 256 * 1024;

/// The gzip member header (RFC 1952): deflate, no flags, no time, unknown OS.
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// Encodes span lines in one format, reusing its buffers and (for the compact
/// format) one deflate compressor from line to line.
///
/// A deflate state is a few hundred kilobytes: building one per flush costs
/// time, and in a long-lived sandbox the freed states fragment the heap. One
/// encoder per exporter keeps memory flat.
pub struct SpanEncoder {
    format: SpanFormat,
    source_json: String,
    compressor: Option<flate2::Compress>,
    protobuf: Vec<u8>,
    compressed: Vec<u8>,
}

impl std::fmt::Debug for SpanEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpanEncoder")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl SpanEncoder {
    /// An encoder of `format` lines written by `source` (the service name).
    pub fn new(format: SpanFormat, source: &str) -> SpanEncoder {
        let mut source_json = String::with_capacity(source.len() + 2);
        super::write_json_string(&mut source_json, source);
        SpanEncoder {
            format,
            source_json,
            compressor: None,
            protobuf: Vec::new(),
            compressed: Vec::new(),
        }
    }

    /// The format it writes.
    pub fn format(&self) -> SpanFormat {
        self.format
    }

    /// Encodes `data` as one line, without the trailing newline.
    pub fn encode(&mut self, data: &TracesData) -> String {
        match self.format {
            SpanFormat::OtlpJson => encode_otlp_json_line(data),
            SpanFormat::Compact => self.encode_compact(data),
        }
    }

    /// Encodes `data` as lines of at most `limit` bytes each; see [`encode_lines`].
    pub fn encode_lines(&mut self, data: &TracesData, limit: usize) -> Vec<String> {
        let mut lines = Vec::new();
        encode_lines_into(data, self, limit, &mut lines);
        lines
    }

    fn encode_compact(&mut self, data: &TracesData) -> String {
        self.protobuf.clear();
        self.protobuf.reserve(data.encoded_len());
        // Encoding into a Vec that has the room cannot fail.
        let _ = data.encode(&mut self.protobuf);
        self.gzip();
        let payload_len = self.compressed.len().div_ceil(3) * 4;
        let mut line = String::with_capacity(payload_len + self.source_json.len() + 140);
        line.push_str("{\"");
        line.push_str(ENVELOPE_KEY);
        line.push_str("\":\"0.1.0\",\"source\":");
        line.push_str(&self.source_json);
        line.push_str(",\"content-type\":\"");
        line.push_str(COMPACT_CONTENT_TYPE);
        line.push_str("\",\"content-encoding\":\"gzip\",\"base64\":true,\"payload\":\"");
        base64::engine::general_purpose::STANDARD.encode_string(&self.compressed, &mut line);
        line.push_str("\"}");
        for buffer in [&mut self.protobuf, &mut self.compressed] {
            if buffer.capacity() > KEPT_BUFFER_BYTES {
                *buffer = Vec::new();
            }
        }
        line
    }

    /// Gzips `self.protobuf` into `self.compressed` with the reused compressor.
    fn gzip(&mut self) {
        let compressor = self
            .compressor
            .get_or_insert_with(|| flate2::Compress::new(flate2::Compression::default(), false));
        compressor.reset();
        self.compressed.clear();
        self.compressed.reserve(self.protobuf.len() / 2 + 64);
        self.compressed.extend_from_slice(&GZIP_HEADER);
        loop {
            let consumed = usize::try_from(compressor.total_in()).unwrap_or(usize::MAX);
            let input = self.protobuf.get(consumed..).unwrap_or_default();
            if self.compressed.capacity() - self.compressed.len() < 64 {
                self.compressed.reserve(self.compressed.capacity().max(256));
            }
            match compressor.compress_vec(
                input,
                &mut self.compressed,
                flate2::FlushCompress::Finish,
            ) {
                Ok(flate2::Status::StreamEnd) => break,
                Ok(_) => {}
                // Deflate into memory only fails on misuse; an empty payload
                // would then fail to decode, which the reader reports.
                Err(_) => break,
            }
        }
        let mut crc = flate2::Crc::new();
        crc.update(&self.protobuf);
        self.compressed.extend_from_slice(&crc.sum().to_le_bytes());
        // ISIZE is the input length modulo 2^32.
        self.compressed
            .extend_from_slice(&(self.protobuf.len() as u32).to_le_bytes());
    }
}

/// How span lines are encoded on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpanFormat {
    /// One OTLP JSON `TracesData` per line (the OTLP File Exporter format).
    #[default]
    OtlpJson,
    /// The `__otel_otlp_stdout` envelope with base64 of gzipped OTLP protobuf.
    Compact,
}

impl SpanFormat {
    /// Reads `TRACELAKE_SPAN_FORMAT` values: `compact`, or `json`/`otlp`/`otlp-json`
    /// (any case). Anything else is `None`.
    pub fn parse(text: &str) -> Option<SpanFormat> {
        match text.trim().to_ascii_lowercase().as_str() {
            "compact" | "protobuf" | "envelope" => Some(SpanFormat::Compact),
            "json" | "otlp" | "otlp-json" | "otlp_json" => Some(SpanFormat::OtlpJson),
            _ => None,
        }
    }

    /// Encodes `data` as one line in this format, without the trailing newline.
    /// Builds a compressor per call: a writer of many lines keeps a [`SpanEncoder`].
    pub fn encode(self, data: &TracesData, source: &str) -> String {
        SpanEncoder::new(self, source).encode(data)
    }
}

/// The attribute set on a span whose attributes or events had to be cut so that
/// its line fits in one CloudWatch event.
pub const TRUNCATED_ATTRIBUTE: &str = "tracelake.truncated";

/// Encodes `data` as lines of at most `limit` bytes each (without newlines).
///
/// Spans are never cut across lines: when the whole does not fit, the spans are
/// split into several `TracesData`, each keeping its resource and scope. A single
/// span too large for a line on its own loses its events and has long string
/// values shortened, and is marked with [`TRUNCATED_ATTRIBUTE`].
pub fn encode_lines(
    data: &TracesData,
    format: SpanFormat,
    source: &str,
    limit: usize,
) -> Vec<String> {
    SpanEncoder::new(format, source).encode_lines(data, limit)
}

fn encode_lines_into(
    data: &TracesData,
    encoder: &mut SpanEncoder,
    limit: usize,
    lines: &mut Vec<String>,
) {
    let line = encoder.encode(data);
    if line.len() <= limit {
        lines.push(line);
        return;
    }
    let span_count = count_spans(data);
    if span_count <= 1 {
        let shrunk = shrink_single_span(data, encoder, limit);
        if let Some(line) = shrunk {
            lines.push(line);
        }
        return;
    }
    let (first, second) = split_spans(data, span_count / 2);
    encode_lines_into(&first, encoder, limit, lines);
    encode_lines_into(&second, encoder, limit, lines);
}

fn count_spans(data: &TracesData) -> usize {
    data.resource_spans
        .iter()
        .flat_map(|resource| &resource.scope_spans)
        .map(|scope| scope.spans.len())
        .sum()
}

/// Splits `data` into the first `at` spans and the rest, each half keeping the
/// resource and scope of its spans.
fn split_spans(data: &TracesData, at: usize) -> (TracesData, TracesData) {
    let mut first = TracesData::default();
    let mut second = TracesData::default();
    let mut seen = 0usize;
    for resource in &data.resource_spans {
        let mut first_resource = resource.clone();
        first_resource.scope_spans.clear();
        let mut second_resource = first_resource.clone();
        for scope in &resource.scope_spans {
            let mut first_scope = scope.clone();
            first_scope.spans.clear();
            let mut second_scope = first_scope.clone();
            for span in &scope.spans {
                if seen < at {
                    first_scope.spans.push(span.clone());
                } else {
                    second_scope.spans.push(span.clone());
                }
                seen += 1;
            }
            if !first_scope.spans.is_empty() {
                first_resource.scope_spans.push(first_scope);
            }
            if !second_scope.spans.is_empty() {
                second_resource.scope_spans.push(second_scope);
            }
        }
        if !first_resource.scope_spans.is_empty() {
            first.resource_spans.push(first_resource);
        }
        if !second_resource.scope_spans.is_empty() {
            second.resource_spans.push(second_resource);
        }
    }
    (first, second)
}

fn shrink_single_span(
    data: &TracesData,
    encoder: &mut SpanEncoder,
    limit: usize,
) -> Option<String> {
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
    let mut data = data.clone();
    // Each pass keeps less; the last keeps only the span's identity.
    for max_value_len in [4096usize, 512, 64, 0] {
        for resource in &mut data.resource_spans {
            for scope in &mut resource.scope_spans {
                for span in &mut scope.spans {
                    span.dropped_events_count += span.events.len() as u32;
                    span.events.clear();
                    if max_value_len == 0 {
                        span.dropped_attributes_count += span.attributes.len() as u32;
                        span.attributes.clear();
                        span.dropped_links_count += span.links.len() as u32;
                        span.links.clear();
                    }
                    for attribute in &mut span.attributes {
                        if let Some(AnyValue {
                            value: Some(any_value::Value::StringValue(text)),
                        }) = &mut attribute.value
                        {
                            truncate_on_char_boundary(text, max_value_len);
                        }
                    }
                    if let Some(status) = &mut span.status {
                        truncate_on_char_boundary(&mut status.message, max_value_len.max(256));
                    }
                    span.attributes.retain(|kv| kv.key != TRUNCATED_ATTRIBUTE);
                    span.attributes.push(KeyValue {
                        key: TRUNCATED_ATTRIBUTE.to_owned(),
                        value: Some(AnyValue {
                            value: Some(any_value::Value::BoolValue(true)),
                        }),
                        ..Default::default()
                    });
                }
            }
        }
        let line = encoder.encode(&data);
        if line.len() <= limit {
            return Some(line);
        }
    }
    None
}

fn truncate_on_char_boundary(text: &mut String, max_len: usize) {
    if text.len() <= max_len {
        return;
    }
    let mut end = max_len;
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
}

#[cfg(test)]
mod tests {
    use super::*;

    const OTLP_JSON: &str = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},"scopeSpans":[{"scope":{"name":"tracelake"},"spans":[{"traceId":"5759e988bd862e3fe1be46a994272793","spanId":"53995c3f42cd8ad8","parentSpanId":"","name":"GET /cart","kind":2,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000250000000","attributes":[{"key":"faas.coldstart","value":{"boolValue":true}},{"key":"http.status_code","value":{"intValue":"200"}}],"status":{"code":1}}]}]}]}"#;

    #[test]
    fn otlp_json_lines_decode() {
        assert!(is_span_line(OTLP_JSON));
        let data = decode_span_line(OTLP_JSON).unwrap();
        let span = &data.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(span.name, "GET /cart");
        assert_eq!(span.trace_id.len(), 16);
        assert_eq!(
            span.end_time_unix_nano - span.start_time_unix_nano,
            250_000_000
        );
        let again = decode_span_line(&encode_json_line(&data)).unwrap();
        assert_eq!(again, data);
    }

    #[test]
    fn envelope_with_gzipped_protobuf_decodes() {
        use std::io::Write as _;
        let data = decode_span_line(OTLP_JSON).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&data.encode_to_vec()).unwrap();
        let payload = base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap());
        let line = format!(
            r#"{{"__otel_otlp_stdout":"0.1.0","source":"checkout","endpoint":"http://localhost:4318/v1/traces","method":"POST","content-type":"application/x-protobuf","content-encoding":"gzip","headers":{{}},"payload":"{payload}","base64":true}}"#
        );
        assert!(is_span_line(&line));
        assert_eq!(decode_span_line(&line).unwrap(), data);
    }

    fn sample_with_everything() -> TracesData {
        use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, KeyValue, any_value};
        use opentelemetry_proto::tonic::trace::v1::{Status, span};
        let mut data = decode_span_line(OTLP_JSON).unwrap();
        let span = &mut data.resource_spans[0].scope_spans[0].spans[0];
        let value = |v: any_value::Value| Some(AnyValue { value: Some(v) });
        span.attributes.extend([
            KeyValue {
                key: "text \"quoted\"\n".into(),
                value: value(any_value::Value::StringValue("é\u{1}".into())),
                ..Default::default()
            },
            KeyValue {
                key: "ratio".into(),
                value: value(any_value::Value::DoubleValue(0.25)),
                ..Default::default()
            },
            KeyValue {
                key: "whole".into(),
                value: value(any_value::Value::DoubleValue(3.0)),
                ..Default::default()
            },
            KeyValue {
                key: "negative".into(),
                value: value(any_value::Value::IntValue(-7)),
                ..Default::default()
            },
            KeyValue {
                key: "list".into(),
                value: value(any_value::Value::ArrayValue(ArrayValue {
                    values: vec![AnyValue {
                        value: Some(any_value::Value::BoolValue(false)),
                    }],
                })),
                ..Default::default()
            },
            KeyValue {
                key: "bytes".into(),
                value: value(any_value::Value::BytesValue(vec![0, 255, 7])),
                ..Default::default()
            },
        ]);
        span.parent_span_id = vec![1, 2, 3, 4, 5, 6, 7, 8];
        span.trace_state = "vendor=x".into();
        span.flags = 0x301;
        span.events.push(span::Event {
            time_unix_nano: 5,
            name: "exception".into(),
            attributes: vec![],
            dropped_attributes_count: 1,
        });
        span.links.push(span::Link {
            trace_id: vec![9; 16],
            span_id: vec![8; 8],
            trace_state: String::new(),
            attributes: vec![],
            dropped_attributes_count: 0,
            flags: 0x100,
        });
        span.status = Some(Status {
            message: "boom".into(),
            code: 2,
        });
        span.dropped_links_count = 3;
        data
    }

    #[test]
    fn lean_otlp_json_reads_back_to_the_same_data_and_is_shorter() {
        let data = sample_with_everything();
        let lean = encode_otlp_json_line(&data);
        assert_eq!(decode_span_line(&lean).unwrap(), data);
        assert!(lean.len() < encode_json_line(&data).len());
        // Zero-valued fields and empty lists are left out.
        let plain = decode_span_line(OTLP_JSON).unwrap();
        let lean = encode_otlp_json_line(&plain);
        assert!(!lean.contains("droppedAttributesCount") && !lean.contains("\"events\""));
        assert_eq!(decode_span_line(&lean).unwrap(), plain);
    }

    #[test]
    fn lines_over_the_limit_are_split_never_cut() {
        let mut data = sample_with_everything();
        let template = data.resource_spans[0].scope_spans[0].spans[0].clone();
        let spans = &mut data.resource_spans[0].scope_spans[0].spans;
        for index in 0..50u8 {
            let mut span = template.clone();
            span.span_id = vec![index + 1; 8];
            spans.push(span);
        }
        // Near-identical spans compress well: the compact limit is smaller.
        for (format, limit) in [(SpanFormat::OtlpJson, 2_000), (SpanFormat::Compact, 400)] {
            let lines = encode_lines(&data, format, "svc", limit);
            assert!(lines.len() > 1, "{format:?}");
            let mut names = 0;
            for line in &lines {
                assert!(line.len() <= limit, "{format:?} line of {}", line.len());
                let back = decode_span_line(line).unwrap();
                assert_eq!(
                    back.resource_spans[0].resource,
                    data.resource_spans[0].resource
                );
                names += back.resource_spans[0].scope_spans[0].spans.len();
            }
            assert_eq!(names, 51);
        }
        // One span too large alone is shortened and marked, not dropped.
        let mut huge = decode_span_line(OTLP_JSON).unwrap();
        huge.resource_spans[0].scope_spans[0].spans[0]
            .attributes
            .push(opentelemetry_proto::tonic::common::v1::KeyValue {
                key: "payload".into(),
                value: Some(opentelemetry_proto::tonic::common::v1::AnyValue {
                    value: Some(
                        opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(
                            "x".repeat(10_000),
                        ),
                    ),
                }),
                ..Default::default()
            });
        let lines = encode_lines(&huge, SpanFormat::OtlpJson, "svc", 3_000);
        assert_eq!(lines.len(), 1);
        assert!(lines[0].contains(TRUNCATED_ATTRIBUTE));
        assert_eq!(
            decode_span_line(&lines[0]).unwrap().resource_spans[0].scope_spans[0].spans[0].name,
            "GET /cart"
        );
    }

    #[test]
    fn one_encoder_writes_many_independent_lines() {
        let mut encoder = SpanEncoder::new(SpanFormat::Compact, "checkout");
        let first = sample_with_everything();
        let second = decode_span_line(OTLP_JSON).unwrap();
        for data in [&first, &second, &first] {
            let line = encoder.encode(data);
            // Each line is a whole gzip member: read back alone, CRC checked.
            assert_eq!(&decode_span_line(&line).unwrap(), data);
            assert_eq!(line, encode_compact_line(data, "checkout"));
        }
    }

    #[test]
    fn broken_envelopes_are_errors() {
        let bad_base64 = r#"{"__otel_otlp_stdout":"0.1.0","content-type":"application/x-protobuf","content-encoding":"gzip","payload":"!!!","base64":true}"#;
        assert!(matches!(
            decode_span_line(bad_base64),
            Err(SpanLineError::Base64(_))
        ));
        let bad_gzip = r#"{"__otel_otlp_stdout":"0.1.0","content-type":"application/x-protobuf","content-encoding":"gzip","payload":"aGVsbG8=","base64":true}"#;
        assert!(matches!(
            decode_span_line(bad_gzip),
            Err(SpanLineError::Gzip(_))
        ));
        assert!(decode_span_line(r#"{"resourceSpans":[{"#).is_err());
    }
}
