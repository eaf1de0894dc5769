//! The rows of one trace: spans, log lines and invocations, the span tree, and
//! trace search summaries.

use serde::{Deserialize, Serialize};

use tracelake_index::rows::{InvocationStatus, Link, LogLevel, SpanKind, StatusCode};

use super::fields::{Attributes, attributes, float, null_as_default};

/// A timestamped annotation on a span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanEvent {
    /// When it happened, in nanoseconds since the epoch (UTC).
    pub time: Option<i64>,
    /// Its name (`exception`, …).
    pub name: Option<String>,
    /// Its attributes.
    #[serde(default, deserialize_with = "attributes")]
    pub attributes: Attributes,
}

/// A link from a span to another span, often in another trace (async hops).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanLink {
    /// The linked span's trace.
    pub trace_id: Option<String>,
    /// The linked span.
    pub span_id: Option<String>,
    /// The link's attributes.
    #[serde(default, deserialize_with = "attributes")]
    pub attributes: Attributes,
}

/// One row of `spans`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Span {
    /// 32 lowercase hex digits.
    pub trace_id: String,
    /// 16 lowercase hex digits.
    pub span_id: String,
    /// The parent span, `None` at a root.
    pub parent_span_id: Option<String>,
    /// The operation name.
    pub name: Option<String>,
    /// `server`, `client`, `producer`, `consumer` or `internal`.
    pub kind: Option<SpanKind>,
    /// The service that emitted the span.
    pub service: Option<String>,
    /// Start time, in nanoseconds since the epoch (UTC).
    pub start_time: Option<i64>,
    /// End time, in nanoseconds since the epoch (UTC).
    pub end_time: Option<i64>,
    /// Duration in nanoseconds.
    pub duration_ns: Option<i64>,
    /// `unset`, `ok` or `error`.
    pub status_code: Option<StatusCode>,
    /// The status message, usually set on errors.
    pub status_message: Option<String>,
    /// The Lambda request id of the invocation that ran the span.
    pub request_id: Option<String>,
    /// The Lambda function name.
    pub faas_name: Option<String>,
    /// What triggered the function (`http`, `pubsub`, …).
    pub faas_trigger: Option<String>,
    /// True on the invocation span of a cold start.
    pub cold_start: Option<bool>,
    /// AWS region.
    pub cloud_region: Option<String>,
    /// AWS account.
    pub cloud_account_id: Option<String>,
    /// Span attributes.
    #[serde(default, deserialize_with = "attributes")]
    pub attributes: Attributes,
    /// Resource attributes.
    #[serde(default, deserialize_with = "attributes")]
    pub resource_attributes: Attributes,
    /// Events.
    #[serde(default, deserialize_with = "null_as_default")]
    pub events: Vec<SpanEvent>,
    /// Links.
    #[serde(default, deserialize_with = "null_as_default")]
    pub links: Vec<SpanLink>,
    /// CloudWatch log group the span was read from.
    pub log_group: Option<String>,
    /// CloudWatch log stream the span was read from.
    pub log_stream: Option<String>,
}

/// One row of `logs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    /// When the line was written, in nanoseconds since the epoch (UTC).
    pub timestamp: Option<i64>,
    /// The linked trace, `None` when not linked.
    pub trace_id: Option<String>,
    /// The span the line was written in.
    pub span_id: Option<String>,
    /// The Lambda request id.
    pub request_id: Option<String>,
    /// The service that wrote it.
    pub service: Option<String>,
    /// `TRACE` … `FATAL`, or `None`.
    pub level: Option<LogLevel>,
    /// The message.
    pub message: Option<String>,
    /// Structured fields.
    #[serde(default, deserialize_with = "attributes")]
    pub attributes: Attributes,
    /// CloudWatch log group.
    pub log_group: Option<String>,
    /// CloudWatch log stream.
    pub log_stream: Option<String>,
    /// CloudWatch event id.
    pub event_id: Option<String>,
    /// The line format it was read as.
    #[serde(default)]
    pub format: Option<String>,
    /// The line as a person reads it, when the stored message is not: a JSON
    /// platform record (`platform.report`, …) as Lambda's text form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// How the collector linked it (`trace_id`, `request_id`, `stream`), `None`
    /// when the query layer joined it by request id.
    pub link: Option<Link>,
}

impl LogLine {
    /// The line as a person reads it: [`LogLine::text`] when the trace view
    /// filled it (a JSON platform record in Lambda's text form, what the web
    /// UI shows), else the stored message. The CLI prints this.
    pub fn readable_message(&self) -> Option<&str> {
        self.text.as_deref().or(self.message.as_deref())
    }
}

/// One row of `invocations` (a REPORT line), with its cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invocation {
    /// The Lambda request id.
    pub request_id: Option<String>,
    /// Function name.
    pub function: Option<String>,
    /// Function version.
    pub function_version: Option<String>,
    /// CloudWatch log group.
    pub log_group: Option<String>,
    /// CloudWatch log stream.
    pub log_stream: Option<String>,
    /// Start, in nanoseconds since the epoch (UTC); `None` when START was not
    /// seen.
    pub start_time: Option<i64>,
    /// End, in nanoseconds since the epoch (UTC).
    pub end_time: Option<i64>,
    /// Duration in milliseconds.
    #[serde(default, deserialize_with = "float")]
    pub duration_ms: Option<f64>,
    /// Billed duration in milliseconds.
    pub billed_duration_ms: Option<i64>,
    /// Configured memory in MB.
    pub memory_size_mb: Option<i64>,
    /// Peak memory used in MB.
    pub max_memory_used_mb: Option<i64>,
    /// Init duration of a cold start, in milliseconds.
    #[serde(default, deserialize_with = "float")]
    pub init_duration_ms: Option<f64>,
    /// True on a cold start.
    pub cold_start: Option<bool>,
    /// `success`, `error` or `timeout`.
    pub status: Option<InvocationStatus>,
    /// The error type of a failed invocation.
    pub error_type: Option<String>,
    /// The trace, from `XRAY TraceId` or correlation.
    pub trace_id: Option<String>,
    /// Whether X-Ray sampled it.
    pub sampled: Option<bool>,
    /// Billed duration × memory × price, in USD (computed).
    #[serde(default)]
    pub cost_usd: f64,
}

impl Invocation {
    /// When it started, in nanoseconds since the epoch: its START's time, else
    /// its REPORT's duration back from its end; `None` when neither is known.
    pub fn start_or_estimate(&self) -> Option<i64> {
        self.start_time.or_else(|| {
            let millis = self.duration_ms?;
            Some(self.end_time? - (millis * 1e6) as i64)
        })
    }

    /// GB-seconds billed for this invocation.
    pub fn gb_seconds(&self) -> f64 {
        let billed = self.billed_duration_ms.unwrap_or(0) as f64 / 1000.0;
        let memory = self.memory_size_mb.unwrap_or(0) as f64 / 1024.0;
        billed * memory
    }
}

/// A span in the waterfall, in depth-first order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpanNode {
    /// The span.
    #[serde(flatten)]
    pub span: Span,
    /// 0 at a root.
    pub depth: usize,
    /// Child span ids, by start time.
    pub children: Vec<String>,
    /// Log lines under this span: its own, and for an invocation's entry span
    /// the lines of that invocation that name no span.
    pub logs: Vec<LogLine>,
    /// True for a Lambda invocation that wrote no span (an uninstrumented
    /// function): drawn from its `START`/`REPORT` lines or `invocations` row.
    #[serde(default)]
    pub synthetic: bool,
    /// Why the span sits where it does, when that is a guess or a fallback.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// For the entry span of a Lambda invocation: `success`, `error` or
    /// `timeout`, from its REPORT line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invocation_status: Option<InvocationStatus>,
}

/// Everything about one trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceDetail {
    /// 32 lowercase hex digits.
    pub trace_id: String,
    /// Earliest span start, in nanoseconds since the epoch (UTC).
    pub start_time: Option<i64>,
    /// Latest span end, in nanoseconds since the epoch (UTC).
    pub end_time: Option<i64>,
    /// `end_time - start_time`, in nanoseconds.
    pub duration_ns: i64,
    /// Number of spans written by the services (synthetic invocation spans
    /// are not counted).
    pub span_count: usize,
    /// Number of written spans with status error, plus the drawn invocations
    /// (see [`SpanNode::synthetic`]) that failed (an error or a timeout).
    pub error_count: usize,
    /// Services that wrote spans, sorted.
    pub services: Vec<String>,
    /// Invocations drawn without a span of their own (see [`SpanNode::synthetic`]).
    pub synthetic_count: usize,
    /// Spans in depth-first order, children by start time.
    pub spans: Vec<SpanNode>,
    /// Log lines of the trace that belong to no span found here.
    pub unattached_logs: Vec<LogLine>,
    /// The Lambda invocations of the trace.
    pub invocations: Vec<Invocation>,
    /// Lambda cost of the trace in USD, summed over its invocations.
    pub cost_usd: f64,
}

/// One trace found by a search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceSummary {
    /// 32 lowercase hex digits.
    pub trace_id: String,
    /// Earliest span start, in nanoseconds since the epoch (UTC).
    pub trace_start: Option<i64>,
    /// Latest span end, in nanoseconds since the epoch (UTC).
    pub trace_end: Option<i64>,
    /// `trace_end - trace_start`, in nanoseconds (computed).
    #[serde(default)]
    pub duration_ns: i64,
    /// Number of spans.
    pub span_count: i64,
    /// Number of written spans with status error, plus the invocations drawn
    /// without a span of their own that failed (as [`TraceDetail::error_count`]).
    pub error_count: i64,
    /// Services, sorted.
    #[serde(default, deserialize_with = "null_as_default")]
    pub services: Vec<String>,
    /// Invocations without a span of their own that the trace view draws as
    /// spans (as [`TraceDetail::synthetic_count`]; computed).
    #[serde(default)]
    pub synthetic_count: usize,
    /// The root span's service.
    pub root_service: Option<String>,
    /// The root span's name.
    pub root_name: Option<String>,
}
