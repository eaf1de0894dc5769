//! Bytes to bytes: base64 as Lambda and Firehose write it. The capped gunzip
//! is `tracelake_instrumentation::wire::gzip` (one for both sides of the line
//! formats); its errors become [`DecodeError::Gzip`] and
//! [`DecodeError::TooLarge`].

use base64::Engine as _;

use super::error::DecodeError;

pub(crate) fn base64_decode(text: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let text = trim_ascii(text);
    let engine = &base64::engine::general_purpose::STANDARD;
    match engine.decode(text) {
        Ok(bytes) => Ok(bytes),
        // Some writers drop the padding (aws_lambda_events serialises without it).
        Err(error) => base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(text.strip_suffix(b"=").unwrap_or(text))
            .map_err(|_| DecodeError::Base64(error)),
    }
}

pub(crate) fn trim_ascii(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}
