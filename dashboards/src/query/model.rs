//! The typed results of each query. Times are nanoseconds since the epoch (UTC).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

/// Attributes of a span, event, link or log line.
pub type Attributes = BTreeMap<String, String>;

/// Reads a value that may be NULL as its default (an empty list or map).
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Reads a string map whose values may be NULL, dropping those entries.
fn attributes<'de, D>(deserializer: D) -> Result<Attributes, D::Error>
where
    D: Deserializer<'de>,
{
    let map = Option::<BTreeMap<String, Option<String>>>::deserialize(deserializer)?;
    Ok(map
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(key, value)| value.map(|value| (key, value)))
        .collect())
}

/// A timestamped annotation on a span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanEvent {
    /// When it happened.
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
    pub kind: Option<String>,
    /// The service that emitted the span.
    pub service: Option<String>,
    /// Start time.
    pub start_time: Option<i64>,
    /// End time.
    pub end_time: Option<i64>,
    /// Duration in nanoseconds.
    pub duration_ns: Option<i64>,
    /// `unset`, `ok` or `error`.
    pub status_code: Option<String>,
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

impl Span {
    /// True when the span's status is an error.
    pub fn is_error(&self) -> bool {
        self.status_code.as_deref() == Some("error")
    }
}

/// One row of `logs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    /// When the line was written.
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
    pub level: Option<String>,
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
    pub link: Option<String>,
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
    /// Start (`None` when START was not seen).
    pub start_time: Option<i64>,
    /// End.
    pub end_time: Option<i64>,
    /// Duration in milliseconds.
    pub duration_ms: Option<f64>,
    /// Billed duration in milliseconds.
    pub billed_duration_ms: Option<i64>,
    /// Configured memory in MB.
    pub memory_size_mb: Option<i64>,
    /// Peak memory used in MB.
    pub max_memory_used_mb: Option<i64>,
    /// Init duration of a cold start.
    pub init_duration_ms: Option<f64>,
    /// True on a cold start.
    pub cold_start: Option<bool>,
    /// `success`, `error` or `timeout`.
    pub status: Option<String>,
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
    pub invocation_status: Option<String>,
}

/// Everything about one trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceDetail {
    /// 32 lowercase hex digits.
    pub trace_id: String,
    /// Earliest span start.
    pub start_time: Option<i64>,
    /// Latest span end.
    pub end_time: Option<i64>,
    /// `end_time - start_time`.
    pub duration_ns: i64,
    /// Number of spans written by the services (synthetic invocation spans
    /// are not counted).
    pub span_count: usize,
    /// Number of written spans with status error.
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
    /// Earliest span start.
    pub trace_start: Option<i64>,
    /// Latest span end.
    pub trace_end: Option<i64>,
    /// `trace_end - trace_start` (computed).
    #[serde(default)]
    pub duration_ns: i64,
    /// Number of spans.
    pub span_count: i64,
    /// Number of spans with status error.
    pub error_count: i64,
    /// Services, sorted.
    #[serde(default, deserialize_with = "null_as_default")]
    pub services: Vec<String>,
    /// The root span's service.
    pub root_service: Option<String>,
    /// The root span's name.
    pub root_name: Option<String>,
}

/// One service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceSummary {
    /// Name.
    pub service: String,
    /// Spans in the range.
    pub span_count: i64,
    /// Traces in the range.
    pub trace_count: i64,
    /// Error spans in the range.
    pub error_count: i64,
    /// The Lambda functions that ran it (`faas.name` of its spans), sorted.
    #[serde(default, deserialize_with = "null_as_default")]
    pub functions: Vec<String>,
    /// Its tags, for grouping: each resource attribute of its spans (but
    /// those naming one sandbox or process) with its most frequent value
    /// (`queries/service_tags.sql`).
    #[serde(default)]
    pub tags: Attributes,
}

/// How many of a service's spans carry one resource attribute value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceTag {
    /// The service.
    pub service: String,
    /// The resource attribute's key.
    pub key: String,
    /// One of its values.
    pub value: String,
    /// Spans of the service with that value.
    pub span_count: i64,
}

impl ServiceSummary {
    /// Sets each service's tags from `rows`: per key, the value most of its
    /// spans carry (the smaller value on a tie, so that it is stable).
    pub fn attach_tags(services: &mut [ServiceSummary], rows: &[ServiceTag]) {
        let mut best: BTreeMap<(&str, &str), (&str, i64)> = BTreeMap::new();
        for row in rows {
            let slot = best
                .entry((row.service.as_str(), row.key.as_str()))
                .or_insert((row.value.as_str(), row.span_count));
            if row.span_count > slot.1 || (row.span_count == slot.1 && row.value.as_str() < slot.0)
            {
                *slot = (row.value.as_str(), row.span_count);
            }
        }
        for service in services.iter_mut() {
            service.tags = best
                .range((service.service.as_str(), "")..)
                .take_while(|((name, _), _)| *name == service.service)
                .map(|((_, key), (value, _))| ((*key).to_owned(), (*value).to_owned()))
                .collect();
        }
    }
}

/// One operation of a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    /// Span name.
    pub name: String,
    /// Span kind.
    pub kind: Option<String>,
    /// Spans in the range.
    pub span_count: i64,
}

/// One edge of the service map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceEdge {
    /// The calling service.
    pub parent: String,
    /// The called service.
    pub child: String,
    /// `sync`, or `async` for consumer spans and span links.
    pub kind: String,
    /// Calls.
    pub call_count: i64,
    /// Calls whose called span failed.
    pub error_count: i64,
    /// Median duration of the called span.
    pub p50_ns: Option<f64>,
    /// 99th percentile duration of the called span.
    pub p99_ns: Option<f64>,
}

/// Rate, errors and duration of one service operation in one time bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedPoint {
    /// Service.
    pub service: String,
    /// Operation.
    pub operation: Option<String>,
    /// Bucket start.
    pub bucket: i64,
    /// Requests in the bucket.
    pub request_count: i64,
    /// Failed requests in the bucket.
    pub error_count: i64,
    /// Requests per second (computed).
    #[serde(default)]
    pub rate_per_second: f64,
    /// Failed / all (computed).
    #[serde(default)]
    pub error_rate: f64,
    /// Median duration.
    pub p50_ns: Option<f64>,
    /// 90th percentile duration.
    pub p90_ns: Option<f64>,
    /// 99th percentile duration.
    pub p99_ns: Option<f64>,
}

/// Cold starts of one function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColdStarts {
    /// Function.
    pub function: Option<String>,
    /// Invocations in the range.
    pub invocations: i64,
    /// Cold starts in the range.
    pub cold_starts: i64,
    /// Cold starts / invocations (computed).
    #[serde(default)]
    pub cold_start_rate: f64,
    /// Median init duration.
    pub init_p50_ms: Option<f64>,
    /// 99th percentile init duration.
    pub init_p99_ms: Option<f64>,
}

/// Lambda cost of one function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCost {
    /// Function.
    pub function: Option<String>,
    /// Invocations in the range.
    pub invocations: i64,
    /// Billed milliseconds.
    pub billed_ms: Option<f64>,
    /// GB-seconds.
    pub gb_seconds: Option<f64>,
    /// USD.
    pub cost_usd: Option<f64>,
}

/// Lambda cost of one trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceCost {
    /// Trace.
    pub trace_id: String,
    /// Invocations of the trace.
    pub invocations: i64,
    /// Distinct functions.
    pub functions: i64,
    /// Billed milliseconds.
    pub billed_ms: Option<f64>,
    /// USD.
    pub cost_usd: Option<f64>,
}

/// One log search hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogHit {
    /// When the line was written.
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
    pub level: Option<String>,
    /// Message.
    pub message: Option<String>,
    /// CloudWatch log group.
    pub log_group: Option<String>,
    /// CloudWatch log stream.
    pub log_stream: Option<String>,
    /// CloudWatch event id.
    pub event_id: Option<String>,
    /// How the collector linked it.
    pub link: Option<String>,
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

/// One row of `correlation_logs.sql`: a service's log lines by link kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorrelationLogs {
    /// The service of the lines.
    pub service: String,
    /// One of its log groups.
    pub log_group: Option<String>,
    /// Lines in the range.
    pub log_lines: i64,
    /// Lines that name their trace.
    pub by_trace_id: i64,
    /// Lines linked by their request id.
    pub by_request_id: i64,
    /// Lines linked by their log stream and time.
    pub by_stream: i64,
    /// Lines with a trace and another or no recorded link kind.
    pub by_other: i64,
    /// Lines the collector left unlinked that the query layer joins by request id.
    pub by_query_join: i64,
    /// Lines tied to no trace.
    pub unlinked: i64,
    /// A trace that one of its lines is linked to.
    pub example_trace_id: Option<String>,
    /// The request id of one of its unlinked lines.
    pub example_unlinked_request_id: Option<String>,
}

/// One row of `correlation_invocations.sql`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorrelationInvocations {
    /// The service of the function's log group.
    pub service: String,
    /// Its Lambda function.
    pub function: Option<String>,
    /// Invocations ending in the range.
    pub invocations: i64,
    /// Invocations tied to no trace.
    pub invocations_without_trace: i64,
    /// One of those.
    pub example_untraced_request_id: Option<String>,
}

/// One row of `correlation_calls.sql`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorrelationCalls {
    /// The callee as the callers name it.
    pub service: String,
    /// Client and producer spans that name it.
    pub inbound_calls: i64,
    /// Those whose context did not arrive.
    pub inbound_without_context: i64,
    /// A trace with such a call.
    pub example_lost_trace_id: Option<String>,
    /// A caller of such a call.
    pub example_caller: Option<String>,
}

/// How well one service's telemetry is tied to traces.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceCorrelation {
    /// The service (for an uninstrumented function, its function name).
    pub service: String,
    /// Its Lambda function, when known.
    pub function: Option<String>,
    /// Log lines in the range.
    pub log_lines: i64,
    /// Lines that name their trace.
    pub by_trace_id: i64,
    /// Lines linked by request id.
    pub by_request_id: i64,
    /// Lines linked by stream and time.
    pub by_stream: i64,
    /// Lines linked another way.
    pub by_other: i64,
    /// Lines joined to a trace at query time by request id.
    pub by_query_join: i64,
    /// Lines tied to no trace.
    pub unlinked: i64,
    /// Linked lines / all lines (1 when it has no lines).
    pub linked_share: f64,
    /// Invocations ending in the range.
    pub invocations: i64,
    /// Invocations tied to no trace.
    pub invocations_without_trace: i64,
    /// Calls to it from client or producer spans.
    pub inbound_calls: i64,
    /// Calls to it whose trace context did not arrive.
    pub inbound_without_context: i64,
    /// True when only callers name it (a queue or topic, or a service with no
    /// line or invocation in the range).
    pub named_by_callers_only: bool,
    /// How much is missing, 0 (all linked) to 1 (nothing): the mean of the
    /// unlinked share of lines, invocations and inbound calls it has.
    pub gap: f64,
    /// Traces to look at: one its lines are linked to, one with a lost call.
    pub example_trace_ids: Vec<String>,
    /// Request ids to search logs by: an unlinked line's, an untraced invocation's.
    pub example_request_ids: Vec<String>,
}

/// Log lines of one level in one time bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogVolume {
    /// Bucket start.
    pub bucket: i64,
    /// Level, `NONE` for lines without one.
    pub level: String,
    /// Lines.
    pub line_count: i64,
}
