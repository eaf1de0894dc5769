//! Log search hits, pages and volume.

use serde::{Deserialize, Serialize};
use tracelake_index::rows::{Link, LogLevel};

/// One log search hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogHit {
    /// When the line was written, in nanoseconds since the epoch (UTC).
    pub timestamp: Option<i64>,
    /// The trace: the collector's link, or the trace of its invocation.
    pub trace_id: Option<String>,
    /// Span.
    pub span_id: Option<String>,
    /// Lambda request id.
    pub request_id: Option<String>,
    /// Service.
    pub service: Option<String>,
    /// Level.
    pub level: Option<LogLevel>,
    /// Message.
    pub message: Option<String>,
    /// CloudWatch log group.
    pub log_group: Option<String>,
    /// CloudWatch log stream.
    pub log_stream: Option<String>,
    /// CloudWatch event id.
    pub event_id: Option<String>,
    /// How the collector linked it.
    pub link: Option<Link>,
    /// The line format it was read as.
    #[serde(default)]
    pub format: Option<String>,
    /// The line as a person reads it, for JSON platform records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// One page of log search hits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogPage {
    /// The lines, most recent first.
    pub lines: Vec<LogHit>,
    /// The most lines asked for.
    pub limit: i64,
    /// True when more lines matched than `limit`: narrow the range or filters.
    pub truncated: bool,
}

/// Log lines of one level in one time bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogVolume {
    /// Bucket start, in nanoseconds since the epoch (UTC).
    pub bucket: i64,
    /// Level, `NONE` for lines without one.
    pub level: String,
    /// Lines.
    pub line_count: i64,
}

/// Lines of every level in one time bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogBucket {
    /// Bucket start, in nanoseconds since the epoch (UTC).
    pub bucket: i64,
    /// Lines, 0 for a bucket without any.
    pub line_count: i64,
}

/// The volume histogram of a log search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogHistogram {
    /// Width of a bucket, in seconds.
    pub bucket_seconds: i64,
    /// Every bucket that overlaps the search's range, oldest first, empty ones
    /// included (with 0 lines), so that a gap in the data is a gap on the
    /// time axis.
    pub buckets: Vec<LogBucket>,
    /// Lines per bucket and level, for the buckets that have lines.
    pub volumes: Vec<LogVolume>,
}
