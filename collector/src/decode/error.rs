//! Why an input could not be decoded: shared by the decoders and the
//! decompression helpers.

use tracelake_instrumentation::wire::gzip::GunzipError;

/// Why an input could not be decoded. The input is quarantined with this reason.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Input of no bytes, or only white space.
    #[error("empty input")]
    Empty,
    /// Base64 text that does not decode.
    #[error("invalid base64: {0}")]
    Base64(#[from] base64::DecodeError),
    /// Bytes with a gzip header whose stream is corrupt or truncated.
    #[error("invalid gzip stream: {0}")]
    Gzip(std::io::Error),
    /// A gzip stream that expands past the limit.
    #[error("gzip stream expands past {limit} bytes")]
    TooLarge {
        /// The limit that was reached.
        limit: u64,
    },
    /// Bytes that are not UTF-8 where JSON was expected.
    #[error("input is not valid utf-8 at byte {0}")]
    NotUtf8(usize),
    /// JSON that does not parse, or has none of the accepted shapes.
    #[error("invalid json: {0}")]
    Json(#[from] serde_json::Error),
    /// Input that is neither JSON, gzip, nor base64 of either (plain text,
    /// another binary format); the detail says what its base64 decoding gave.
    #[error("not a cloudwatch logs payload: not json, gzip, or base64 of either ({0})")]
    NotAPayload(String),
    /// JSON whose value is not an object: an array, a string, a number, a
    /// boolean or null (the kind is named).
    #[error("not a cloudwatch logs payload: a json {0}, not an object")]
    JsonNotAnObject(&'static str),
    /// A gzip stream that decompressed to something that is not a payload
    /// (said of its content, so that the reason does not deny the gzip).
    #[error("gzip content: {0}")]
    GzipContent(Box<DecodeError>),
    /// A JSON object of a shape we do not read.
    #[error("unrecognised input: {0}")]
    Unrecognised(String),
    /// A document of an input of several (JSON lines) that failed: the line it
    /// starts on (1-based) and why.
    #[error("line {line}: {}", .error.within_line(*.line))]
    OnLine {
        /// The line of the input the document starts on, counting from 1.
        line: usize,
        /// Why the document failed.
        error: Box<DecodeError>,
    },
    /// A subscription payload with a `messageType` other than DATA or CONTROL.
    #[error("unknown messageType {0:?}")]
    UnknownMessageType(String),
}

impl DecodeError {
    /// This error, said of the document that starts on `line` (1-based) of an
    /// input of several (JSON lines).
    pub(crate) fn on_line(self, line: usize) -> DecodeError {
        DecodeError::OnLine {
            line,
            error: Box::new(self),
        }
    }

    /// The reason, said of the document that starts on `line`. serde's
    /// position is "at line 1 column C" in a line read alone, which beside the
    /// input's line number reads as a contradiction, and "at line {line}
    /// column C" when the input's reader failed on the document's first line,
    /// which repeats it: both become "at column C". A failure further down a
    /// document of several lines keeps serde's line of the input.
    fn within_line(&self, line: usize) -> String {
        let reason = self.to_string();
        if let DecodeError::Json(error) = self
            && (error.line() == 1 || error.line() == line)
            && let Some(reason) = reason.strip_suffix(&format!(
                " at line {} column {}",
                error.line(),
                error.column()
            ))
        {
            return format!("{reason} at column {}", error.column());
        }
        reason
    }
}

impl From<GunzipError> for DecodeError {
    fn from(error: GunzipError) -> DecodeError {
        match error {
            GunzipError::Invalid(error) => DecodeError::Gzip(error),
            GunzipError::TooLarge { limit } => DecodeError::TooLarge { limit },
        }
    }
}
