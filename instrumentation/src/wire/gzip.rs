//! Gunzip with a cap on what the input may expand to: the one bounded gunzip of
//! the workspace, for span-line envelopes here and every gzipped input of the
//! collector (CloudWatch Logs subscriptions, Firehose, S3 objects).
//!
//! ```
//! use std::io::Write as _;
//! use tracelake_instrumentation::wire::gzip::{GunzipError, gunzip_capped};
//!
//! let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
//! encoder.write_all(&[b' '; 4096]).unwrap();
//! let gzipped = encoder.finish().unwrap();
//!
//! assert_eq!(gunzip_capped(&gzipped, 4096).unwrap().len(), 4096);
//! assert!(matches!(
//!     gunzip_capped(&gzipped, 1024),
//!     Err(GunzipError::TooLarge { limit: 1024 })
//! ));
//! ```

use std::io::Read as _;

/// Why gzipped bytes could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GunzipError {
    /// Bytes that are not gzip, or a stream that is corrupt or truncated.
    #[error("invalid gzip stream: {0}")]
    Invalid(std::io::Error),
    /// A stream that expands past the cap (a decompression bomb, or a limit
    /// below what the input holds).
    #[error("gzip stream expands past {limit} bytes")]
    TooLarge {
        /// The cap, in bytes of output.
        limit: u64,
    },
}

/// Gunzips `bytes`, stopping after `max_bytes` of output. Concatenated gzip
/// members are one gzip stream (RFC 1952, and what Firehose and `cat a.gz b.gz`
/// write): all of them are read.
///
/// # Errors
/// [`GunzipError::Invalid`] for bytes that are not gzip or a corrupt or
/// truncated stream, [`GunzipError::TooLarge`] past `max_bytes` of output.
pub fn gunzip_capped(bytes: &[u8], max_bytes: u64) -> Result<Vec<u8>, GunzipError> {
    // Text gzips about six to one: one allocation for most inputs, never more
    // than the cap allows.
    let hint = bytes
        .len()
        .saturating_mul(6)
        .min(usize::try_from(max_bytes).unwrap_or(usize::MAX));
    let mut out = Vec::with_capacity(hint);
    flate2::read::MultiGzDecoder::new(bytes)
        .take(max_bytes.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(GunzipError::Invalid)?;
    if out.len() as u64 > max_bytes {
        return Err(GunzipError::TooLarge { limit: max_bytes });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn output_of_exactly_the_cap_is_read_and_one_byte_more_is_too_large() {
        let text = b"0123456789".repeat(100);
        let gzipped = gzip(&text);
        assert_eq!(gunzip_capped(&gzipped, 1000).unwrap(), text);
        assert!(matches!(
            gunzip_capped(&gzipped, 999),
            Err(GunzipError::TooLarge { limit: 999 })
        ));
    }

    #[test]
    fn concatenated_members_are_all_read() {
        let mut gzipped = gzip(b"first member\n");
        gzipped.extend(gzip(b"second member\n"));
        assert_eq!(
            gunzip_capped(&gzipped, 1024).unwrap(),
            b"first member\nsecond member\n"
        );
    }

    #[test]
    fn bytes_that_are_not_gzip_and_truncated_streams_are_invalid() {
        assert!(matches!(
            gunzip_capped(b"{\"not\":\"gzip\"}", 1024),
            Err(GunzipError::Invalid(_))
        ));
        let gzipped = gzip(&b"some text that is long enough".repeat(20));
        assert!(matches!(
            gunzip_capped(&gzipped[..gzipped.len() / 2], 1 << 20),
            Err(GunzipError::Invalid(_))
        ));
    }
}
