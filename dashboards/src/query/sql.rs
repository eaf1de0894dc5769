//! The dashboard SQL, one file per query in `dashboards/queries/`.
//!
//! The same text runs on DataFusion here, on DuckDB in the tests, and is the
//! starting point for Athena. Parameters are named (`$service`) and always bound,
//! never spliced into the text.

/// One SQL file of `dashboards/queries/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DashboardQuery {
    /// The file name without `.sql`.
    pub name: &'static str,
    /// The SQL text.
    pub sql: &'static str,
}

macro_rules! dashboard_query {
    ($constant:ident, $name:literal) => {
        #[doc = concat!("`queries/", $name, ".sql`")]
        pub const $constant: DashboardQuery = DashboardQuery {
            name: $name,
            sql: include_str!(concat!("../../queries/", $name, ".sql")),
        };
    };
}

dashboard_query!(TRACE_HOURS, "trace_hours");
dashboard_query!(TRACE_SPANS, "trace_spans");
dashboard_query!(TRACE_LOGS, "trace_logs");
dashboard_query!(TRACE_INVOCATIONS, "trace_invocations");
dashboard_query!(SEARCH_TRACES, "search_traces");
dashboard_query!(SEARCH_TRACE_SPANS, "search_trace_spans");
dashboard_query!(SEARCH_TRACE_INVOCATIONS, "search_trace_invocations");
dashboard_query!(SEARCH_TRACE_LINES, "search_trace_lines");
dashboard_query!(SERVICES, "services");
dashboard_query!(SERVICE_TAGS, "service_tags");
dashboard_query!(OPERATIONS, "operations");
dashboard_query!(SERVICE_MAP, "service_map");
dashboard_query!(RED, "red");
dashboard_query!(COLD_STARTS, "cold_starts");
dashboard_query!(COST_FUNCTIONS, "cost_functions");
dashboard_query!(COST_TRACES, "cost_traces");
dashboard_query!(SEARCH_LOGS, "search_logs");
dashboard_query!(LOG_HISTOGRAM, "log_histogram");
dashboard_query!(CORRELATION_LOGS, "correlation_logs");
dashboard_query!(CORRELATION_INVOCATIONS, "correlation_invocations");
dashboard_query!(CORRELATION_CALLS, "correlation_calls");

/// Every dashboard query, so that tests can run each one on another engine.
pub const ALL: [DashboardQuery; 21] = [
    TRACE_HOURS,
    TRACE_SPANS,
    TRACE_LOGS,
    TRACE_INVOCATIONS,
    SEARCH_TRACES,
    SEARCH_TRACE_SPANS,
    SEARCH_TRACE_INVOCATIONS,
    SEARCH_TRACE_LINES,
    SERVICES,
    SERVICE_TAGS,
    OPERATIONS,
    SERVICE_MAP,
    RED,
    COLD_STARTS,
    COST_FUNCTIONS,
    COST_TRACES,
    SEARCH_LOGS,
    LOG_HISTOGRAM,
    CORRELATION_LOGS,
    CORRELATION_INVOCATIONS,
    CORRELATION_CALLS,
];
