//! The correlation report's rows.

use serde::{Deserialize, Serialize};

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
