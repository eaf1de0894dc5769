//! The limits that keep hostile input from exhausting memory.

/// CloudWatch Logs' largest event since April 2025: 1 MB (1,048,576 bytes).
/// Lambda still cuts a stdout line at 256 KB, but other sources (ECS, agents,
/// `PutLogEvents`) send events up to this size.
pub const CLOUDWATCH_MAX_EVENT_BYTES: usize = 1_048_576;

/// The limits that keep hostile input from exhausting memory.
#[derive(Debug, Clone, Copy)]
pub struct DecodeLimits {
    /// The most bytes one gzip stream may expand to. CloudWatch caps a
    /// subscription payload at 1 MB compressed (about 6 MB of JSON); 64 MiB leaves
    /// room for honest input and none for a bomb.
    pub max_decompressed_bytes: u64,
    /// The largest log event message indexed; larger ones are quarantined whole.
    /// CloudWatch's own limit, 1 MB, by default ([`CLOUDWATCH_MAX_EVENT_BYTES`]).
    pub max_event_bytes: usize,
}

impl DecodeLimits {
    /// Why a message of `bytes` bytes is not indexed, when it is over
    /// [`DecodeLimits::max_event_bytes`]: the one check and reason that decode
    /// and parse share.
    pub fn oversized_event(&self, bytes: usize) -> Option<String> {
        (bytes > self.max_event_bytes).then(|| {
            format!(
                "event of {bytes} bytes exceeds the {}-byte cloudwatch event limit",
                self.max_event_bytes
            )
        })
    }
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_decompressed_bytes: 64 * 1024 * 1024,
            max_event_bytes: CLOUDWATCH_MAX_EVENT_BYTES,
        }
    }
}
