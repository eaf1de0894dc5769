//! The Jaeger v3 HTTP API under `/api/v3/` (OTLP JSON traces). Parameters are
//! read into the typed structs below through [`ApiQuery`], with the names of
//! Jaeger's HTTP gateway (`query.service_name`, `span_kind`, …) and the
//! camelCase forms of its gRPC-gateway JSON as aliases; a bad value is a 400
//! naming the parameter.

use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::json;

use crate::api::error::*;
use crate::api::jaeger::otlp::{v3_result, v3_traces};
use crate::api::jaeger::v1::*;
use crate::api::params::{ApiQuery, Rfc3339Ns};
use crate::api::state::AppState;
use crate::params::apply_tags;
use crate::params::values::{DurationNs, Name, SpanKindFilter, TagMap, TraceIdFilter, name_str};
use crate::query::{TimeRange, TraceDetail, TraceSearch};

/// Most traces a v3 search returns when it gives neither `query.search_depth`
/// nor `query.num_traces`.
const V3_DEFAULT_LIMIT: i64 = 20;

/// `/api/v3/operations`: `service` (required) and `span_kind`, a span kind in
/// any case, with or without the OTLP enum's `SPAN_KIND_` prefix
/// ([`SpanKindFilter`]).
#[derive(Debug, Deserialize)]
pub(crate) struct V3OperationsQuery {
    service: Name,
    #[serde(rename = "span_kind", alias = "spanKind")]
    span_kind: Option<SpanKindFilter>,
}

/// `/api/v3/traces/{trace_id}`: an optional window, both ends or neither.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct V3TraceQuery {
    #[serde(rename = "start_time", alias = "startTime")]
    start_time: Option<Rfc3339Ns>,
    #[serde(rename = "end_time", alias = "endTime")]
    end_time: Option<Rfc3339Ns>,
}

/// `/api/v3/traces`: Jaeger's `TraceQueryParameters` as query-string keys.
#[derive(Debug, Deserialize)]
pub(crate) struct V3SearchQuery {
    #[serde(rename = "query.service_name", alias = "query.serviceName")]
    service_name: Name,
    #[serde(rename = "query.operation_name", alias = "query.operationName")]
    operation_name: Option<Name>,
    #[serde(rename = "query.start_time_min", alias = "query.startTimeMin")]
    start_time_min: Option<Rfc3339Ns>,
    #[serde(rename = "query.start_time_max", alias = "query.startTimeMax")]
    start_time_max: Option<Rfc3339Ns>,
    #[serde(rename = "query.duration_min", alias = "query.durationMin")]
    duration_min: Option<DurationNs>,
    #[serde(rename = "query.duration_max", alias = "query.durationMax")]
    duration_max: Option<DurationNs>,
    /// Jaeger's current name for the number of traces.
    #[serde(rename = "query.search_depth", alias = "query.searchDepth")]
    search_depth: Option<i64>,
    /// The name before `search_depth`; `search_depth` wins when both are given.
    #[serde(rename = "query.num_traces", alias = "query.numTraces")]
    num_traces: Option<i64>,
    #[serde(rename = "query.attributes")]
    attributes: Option<TagMap>,
}

pub(crate) async fn v3_services(State(state): State<AppState>) -> ApiResult {
    let range = jaeger_default_range(&state.engine).await?;
    let services = state.engine.instrumented_services(&range).await?;
    ok_json(json!({"services": services.into_iter().map(|s| s.service).collect::<Vec<_>>()}))
}

pub(crate) async fn v3_operations(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<V3OperationsQuery>,
) -> ApiResult {
    let kind = query.span_kind.map(|SpanKindFilter(kind)| kind.as_str());
    let range = jaeger_default_range(&state.engine).await?;
    let operations = state
        .engine
        .operations(&range, &query.service.0, kind)
        .await?;
    ok_json(json!({"operations": operations.into_iter().map(|o| json!({
        "name": o.name, "spanKind": o.kind.unwrap_or_default()
    })).collect::<Vec<_>>()}))
}

pub(crate) async fn v3_trace(
    State(state): State<AppState>,
    Path(trace_id): Path<String>,
    ApiQuery(query): ApiQuery<V3TraceQuery>,
) -> ApiResult {
    let TraceIdFilter(id) = trace_id.parse().map_err(ApiError::bad_request)?;
    let range = match (query.start_time, query.end_time) {
        (Some(Rfc3339Ns(from)), Some(Rfc3339Ns(to))) => Some(
            TimeRange::new(from, to.saturating_add(1))
                .ok_or_else(|| ApiError::bad_request("start_time must not be after end_time"))?,
        ),
        _ => None,
    };
    match state.engine.trace(&id, range).await? {
        Some(trace) => v3_response(&[trace]),
        None => Err(ApiError::not_found(format!("trace {id} not found"))),
    }
}

pub(crate) async fn v3_search(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<V3SearchQuery>,
) -> ApiResult {
    let engine = &state.engine;
    let default = jaeger_default_range(engine).await?;
    let from = query
        .start_time_min
        .map_or(default.from_ns, |Rfc3339Ns(ns)| ns);
    let to = query
        .start_time_max
        .map_or(default.to_ns, |Rfc3339Ns(ns)| ns);
    let range = TimeRange::new(from, to).ok_or_else(|| {
        ApiError::bad_request("query.start_time_min must be before query.start_time_max")
    })?;
    let mut search = TraceSearch::new(range);
    search.service = Some(query.service_name.0);
    search.operation = name_str(&query.operation_name).map(str::to_owned);
    search.min_duration_ns = query.duration_min.map(|DurationNs(ns)| ns);
    search.max_duration_ns = query.duration_max.map(|DurationNs(ns)| ns);
    search.limit = query
        .search_depth
        .or(query.num_traces)
        .unwrap_or(V3_DEFAULT_LIMIT);
    if let Some(TagMap(attributes)) = query.attributes {
        apply_tags(&mut search, attributes);
    }
    let (traces, _) = bounded_search(engine, &search).await?;
    if traces.is_empty() {
        return Err(ApiError::not_found("no traces found"));
    }
    v3_response(&traces)
}

/// `{"result": <traces in OTLP JSON>}`.
fn v3_response(traces: &[TraceDetail]) -> ApiResult {
    let body = v3_result(&v3_traces(traces)).map_err(|error| {
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            format!("traces not encodable as OTLP JSON: {error}"),
        )
    })?;
    ok_json(body)
}
