//! Bytes to bytes: gunzip with a cap on what an input may expand to, and
//! base64 as Lambda and Firehose write it.

use std::io::Read;

use base64::Engine as _;

use super::error::DecodeError;

/// Gunzips with a cap on the output size. Concatenated gzip members are valid
/// gzip (and what Firehose may write): all of them are read.
///
/// # Errors
/// [`DecodeError::Gzip`] for bytes that are not gzip, [`DecodeError::TooLarge`]
/// past `max_bytes` of output.
pub fn gunzip(bytes: &[u8], max_bytes: u64) -> Result<Vec<u8>, DecodeError> {
    let hint = bytes.len().saturating_mul(6);
    read_capped(flate2::read::MultiGzDecoder::new(bytes), max_bytes, hint)
}

/// Reads a decompressing reader to its end with a cap on the output size: the
/// one place the collector bounds what a compressed input may expand to.
/// `capacity_hint` sizes the first allocation (never above the cap).
///
/// # Errors
/// [`DecodeError::Gzip`] when the reader fails, [`DecodeError::TooLarge`] past
/// `max_bytes`.
pub fn read_capped(
    reader: impl Read,
    max_bytes: u64,
    capacity_hint: usize,
) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::with_capacity(capacity_hint.min(max_bytes as usize));
    reader
        .take(max_bytes.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(DecodeError::Gzip)?;
    if out.len() as u64 > max_bytes {
        return Err(DecodeError::TooLarge { limit: max_bytes });
    }
    Ok(out)
}

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
