//! The span line formats, the envelope's key and versions, and the errors of
//! reading a line.

use crate::wire::gzip::GunzipError;

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
    /// The envelope's payload does not gunzip (a stream that expands past
    /// [`MAX_ENVELOPE_PAYLOAD_BYTES`] is [`SpanLineError::TooLarge`]).
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
    /// A compact line's payload does not inflate with its format's dictionary.
    #[error("invalid deflate payload in {ENVELOPE_KEY} envelope: {0}")]
    Deflate(String),
    /// A compact line of a `tracelake-` version this reader does not know.
    #[error("unsupported compact line version {0:?} (this reader knows {COMPACT_VERSION})")]
    UnsupportedVersion(String),
}

impl From<GunzipError> for SpanLineError {
    fn from(error: GunzipError) -> SpanLineError {
        match error {
            GunzipError::Invalid(error) => SpanLineError::Gzip(error),
            GunzipError::TooLarge { .. } => SpanLineError::TooLarge,
        }
    }
}

/// The envelope version of compact lines written now.
pub const COMPACT_VERSION: &str = "tracelake-2";

/// The prefix of every version of our own compact envelope.
pub(crate) const OWN_VERSION_PREFIX: &str = "tracelake-";

/// How span lines are encoded on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpanFormat {
    /// One OTLP JSON `TracesData` per line (the OTLP File Exporter format).
    #[default]
    OtlpJson,
    /// The compact `__otel_otlp_stdout` envelope, version [`COMPACT_VERSION`]:
    /// base64 of deflated OTLP protobuf (`span_line::compact`).
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
}
