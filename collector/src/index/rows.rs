#![allow(missing_docs)] // Each field is the column of the same name; see schema.rs.
//! Rows of the index tables, as the pipeline builds them before they become
//! Arrow columns. Field names and meanings follow [`super::schema`].

/// One row of `spans`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpanRow {
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: Option<String>,
    pub name: String,
    /// `server`, `client`, `producer`, `consumer` or `internal`.
    pub kind: &'static str,
    pub service: String,
    pub start_time_ns: i64,
    pub end_time_ns: i64,
    /// `unset`, `ok` or `error`.
    pub status_code: &'static str,
    pub status_message: Option<String>,
    pub request_id: Option<String>,
    pub faas_name: Option<String>,
    pub faas_trigger: Option<String>,
    pub cold_start: Option<bool>,
    pub cloud_region: Option<String>,
    pub cloud_account_id: Option<String>,
    pub attributes: Vec<(String, String)>,
    pub resource_attributes: Vec<(String, String)>,
    pub events: Vec<SpanEventRow>,
    pub links: Vec<SpanLinkRow>,
    pub log_group: String,
    pub log_stream: String,
}

/// One element of `spans.events`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpanEventRow {
    pub time_ns: i64,
    pub name: String,
    pub attributes: Vec<(String, String)>,
}

/// One element of `spans.links`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpanLinkRow {
    pub trace_id: String,
    pub span_id: String,
    pub attributes: Vec<(String, String)>,
}

/// One row of `logs`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LogRow {
    pub timestamp_ns: i64,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    pub request_id: Option<String>,
    pub service: Option<String>,
    pub level: Option<&'static str>,
    pub message: String,
    pub attributes: Vec<(String, String)>,
    pub log_group: String,
    pub log_stream: String,
    pub event_id: String,
    /// Which line format the line was read as ([`crate::parse::LineFormat`]).
    pub format: &'static str,
    /// How the line was linked to its trace ([`crate::correlate::Link`]), if it was.
    pub link: Option<&'static str>,
}

/// One row of `invocations`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InvocationRow {
    pub request_id: String,
    pub function: String,
    pub function_version: Option<String>,
    pub log_group: String,
    pub log_stream: String,
    pub start_time_ns: Option<i64>,
    pub end_time_ns: i64,
    pub duration_ms: f64,
    pub billed_duration_ms: Option<i64>,
    pub memory_size_mb: Option<i64>,
    pub max_memory_used_mb: Option<i64>,
    pub init_duration_ms: Option<f64>,
    pub cold_start: bool,
    /// `success`, `error` or `timeout`.
    pub status: &'static str,
    pub error_type: Option<String>,
    pub trace_id: Option<String>,
    pub sampled: Option<bool>,
}

/// One row of `trace_index`: what one segment saw of one trace in one hour.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TraceIndexRow {
    pub trace_id: String,
    pub min_start_ns: i64,
    pub max_end_ns: i64,
    pub root_service: Option<String>,
    pub root_name: Option<String>,
    pub span_count: i64,
    pub error_count: i64,
    pub services: Vec<String>,
}
