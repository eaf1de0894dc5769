//! The compact span line, format `tracelake-2`:
//! `{"__otel_otlp_stdout":"tracelake-2","payload":"<base64>"}`.
//!
//! The payload is OTLP protobuf `TracesData`, raw deflate (RFC 1951, no gzip or
//! zlib framing) with the preset dictionary (`dictionary.rs`), in base64
//! without padding. The resource leaves out the attributes its
//! [origin](super::origin) implies; the collector restores them from the
//! log group and stream of the delivery. The version names all of this, so the
//! envelope has no other key.

use base64::Engine as _;
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message as _;

use opentelemetry_proto::tonic::trace::v1::TracesData;

use super::dictionary::DICTIONARY_V2;
use super::format::{
    COMPACT_VERSION, ENVELOPE_KEY, MAX_ENVELOPE_PAYLOAD_BYTES, SpanFormat, SpanLineError,
};
use super::origin::LineOrigin;
use super::otlp_json::encode_otlp_json_line;

/// Base64 as compact lines write it (no padding) and read it (either).
pub(crate) const PAYLOAD_BASE64: base64::engine::GeneralPurpose =
    base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_encode_padding(false)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );

/// Writes `data` as one compact line, without the trailing newline, keeping
/// its whole resource (no origin). Each call builds a compressor; a writer of
/// many lines keeps one [`SpanEncoder`] instead.
pub fn encode_compact_line(data: &TracesData) -> String {
    SpanEncoder::new(SpanFormat::Compact).encode(data)
}

impl SpanFormat {
    /// Encodes `data` as one line in this format, without the trailing newline.
    /// Builds a compressor per call: a writer of many lines keeps a [`SpanEncoder`].
    pub fn encode(self, data: &TracesData) -> String {
        SpanEncoder::new(self).encode(data)
    }
}

/// Buffers larger than this are given back after a flush, so that one huge
/// flush does not keep its memory for the life of the sandbox.
const KEPT_BUFFER_BYTES: usize = 256 * 1024;

/// Encodes span lines in one format, reusing its buffers and (for the compact
/// format) one deflate compressor from line to line.
///
/// A deflate state is a few hundred kilobytes: building one per flush costs
/// time, and in a long-lived sandbox the freed states fragment the heap. One
/// encoder per exporter keeps memory flat.
pub struct SpanEncoder {
    format: SpanFormat,
    origin: Option<LineOrigin>,
    compressor: Option<flate2::Compress>,
    protobuf: Vec<u8>,
    compressed: Vec<u8>,
}

impl std::fmt::Debug for SpanEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpanEncoder")
            .field("format", &self.format)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl SpanEncoder {
    /// An encoder of `format` lines.
    pub fn new(format: SpanFormat) -> SpanEncoder {
        SpanEncoder {
            format,
            origin: None,
            compressor: None,
            protobuf: Vec::new(),
            compressed: Vec::new(),
        }
    }

    /// Lines written to `origin` (the function's own log group and stream):
    /// compact lines leave out the resource attributes it implies.
    #[must_use]
    pub fn with_origin(mut self, origin: LineOrigin) -> SpanEncoder {
        self.origin = Some(origin);
        self
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

    fn encode_compact(&mut self, data: &TracesData) -> String {
        self.protobuf.clear();
        encode_protobuf(data, self.origin.as_ref(), &mut self.protobuf);
        self.deflate();
        let payload_len = (self.compressed.len() * 4).div_ceil(3);
        let mut line = String::with_capacity(payload_len + 64);
        line.push_str("{\"");
        line.push_str(ENVELOPE_KEY);
        line.push_str("\":\"");
        line.push_str(COMPACT_VERSION);
        line.push_str("\",\"payload\":\"");
        PAYLOAD_BASE64.encode_string(&self.compressed, &mut line);
        line.push_str("\"}");
        for buffer in [&mut self.protobuf, &mut self.compressed] {
            if buffer.capacity() > KEPT_BUFFER_BYTES {
                *buffer = Vec::new();
            }
        }
        line
    }

    /// Deflates `self.protobuf` into `self.compressed` with the reused
    /// compressor, primed with the dictionary.
    fn deflate(&mut self) {
        let compressor = self
            .compressor
            .get_or_insert_with(|| flate2::Compress::new(flate2::Compression::default(), false));
        compressor.reset();
        // Setting a dictionary on a fresh raw deflate stream cannot fail; if it
        // did, the line would not inflate and the reader would report it.
        let _ = compressor.set_dictionary(DICTIONARY_V2);
        self.compressed.clear();
        self.compressed.reserve(self.protobuf.len() / 2 + 64);
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
    }
}

/// Encodes `data` as protobuf into `out`, each resource without the attributes
/// `origin` implies. Spans are encoded in place, not copied.
pub(crate) fn encode_protobuf(data: &TracesData, origin: Option<&LineOrigin>, out: &mut Vec<u8>) {
    use prost::encoding::{WireType, encode_key, encode_varint, message, string};
    let Some(origin) = origin else {
        out.reserve(data.encoded_len());
        // Encoding into a Vec cannot fail.
        let _ = data.encode(out);
        return;
    };
    for resource_spans in &data.resource_spans {
        let resource = resource_spans.resource.as_ref().map(|resource| Resource {
            attributes: origin.leave_out(&resource.attributes),
            ..resource.clone()
        });
        let len = resource
            .as_ref()
            .map_or(0, |resource| message::encoded_len(1, resource))
            + message::encoded_len_repeated(2, &resource_spans.scope_spans)
            + if resource_spans.schema_url.is_empty() {
                0
            } else {
                string::encoded_len(3, &resource_spans.schema_url)
            };
        out.reserve(len + 8);
        encode_key(1, WireType::LengthDelimited, out);
        encode_varint(len as u64, out);
        if let Some(resource) = &resource {
            message::encode(1, resource, out);
        }
        for scope_spans in &resource_spans.scope_spans {
            message::encode(2, scope_spans, out);
        }
        if !resource_spans.schema_url.is_empty() {
            string::encode(3, &resource_spans.schema_url, out);
        }
    }
}

/// Reads the payload of a `tracelake-N` envelope: an
/// [`SpanLineError::UnsupportedVersion`] for a version this reader does not know.
pub(crate) fn decode_payload(version: &str, payload: &str) -> Result<TracesData, SpanLineError> {
    if version != COMPACT_VERSION {
        return Err(SpanLineError::UnsupportedVersion(version.to_owned()));
    }
    let bytes = PAYLOAD_BASE64.decode(payload)?;
    let protobuf = inflate_capped(&bytes)?;
    Ok(TracesData::decode(&protobuf[..])?)
}

/// Inflates raw deflate primed with the dictionary, up to
/// [`MAX_ENVELOPE_PAYLOAD_BYTES`].
fn inflate_capped(bytes: &[u8]) -> Result<Vec<u8>, SpanLineError> {
    let deflate_error = |message: String| SpanLineError::Deflate(message);
    let mut inflater = flate2::Decompress::new(false);
    inflater
        .set_dictionary(DICTIONARY_V2)
        .map_err(|error| deflate_error(error.to_string()))?;
    let mut out = Vec::with_capacity(bytes.len() * 3);
    loop {
        if out.len() == out.capacity() {
            if out.len() as u64 > MAX_ENVELOPE_PAYLOAD_BYTES {
                return Err(SpanLineError::TooLarge);
            }
            out.reserve(out.len().max(1024));
        }
        let (before_in, before_out) = (inflater.total_in(), inflater.total_out());
        let consumed = usize::try_from(before_in).unwrap_or(usize::MAX);
        let input = bytes.get(consumed..).unwrap_or_default();
        match inflater.decompress_vec(input, &mut out, flate2::FlushDecompress::Finish) {
            Ok(flate2::Status::StreamEnd) => break,
            Ok(_) => {
                if inflater.total_in() == before_in && inflater.total_out() == before_out {
                    return Err(deflate_error("the deflate stream ends early".to_owned()));
                }
            }
            Err(error) => return Err(deflate_error(error.to_string())),
        }
    }
    if out.len() as u64 > MAX_ENVELOPE_PAYLOAD_BYTES {
        return Err(SpanLineError::TooLarge);
    }
    Ok(out)
}
