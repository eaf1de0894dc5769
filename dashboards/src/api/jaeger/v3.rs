//! The Jaeger v3 HTTP API under `/api/v3/` (OTLP JSON traces).

use axum::extract::{Path, RawQuery, State};
use serde_json::json;

use crate::api::error::*;
use crate::api::jaeger::otlp::{v3_result, v3_traces};
use crate::api::jaeger::v1::*;
use crate::api::params::{QueryString, parse_go_duration, parse_trace_id};
use crate::api::state::AppState;
use crate::api::tracelake::*;
use crate::query::{TimeRange, TraceDetail, TraceSearch};

pub(crate) async fn v3_services(State(state): State<AppState>) -> ApiResult {
    let range = jaeger_default_range(&state.engine).await?;
    let services = state.engine.instrumented_services(&range).await?;
    ok_json(json!({"services": services.into_iter().map(|s| s.service).collect::<Vec<_>>()}))
}

pub(crate) async fn v3_operations(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    let query = QueryString::parse(raw.as_deref());
    let service = name_param(&query, &["service"])?
        .ok_or_else(|| ApiError::bad_request("parameter 'service' is required"))?;
    let kind = name_param(&query, &["spanKind", "span_kind"])?;
    let range = jaeger_default_range(&state.engine).await?;
    let operations = state
        .engine
        .operations(&range, &service, kind.as_deref())
        .await?;
    ok_json(json!({"operations": operations.into_iter().map(|o| json!({
        "name": o.name, "spanKind": o.kind.unwrap_or_default()
    })).collect::<Vec<_>>()}))
}

pub(crate) fn rfc3339_param(query: &QueryString, names: &[&str]) -> Result<Option<i64>, ApiError> {
    query
        .get(names)
        .map(|text| {
            chrono::DateTime::parse_from_rfc3339(text)
                .ok()
                .and_then(|time| time.timestamp_nanos_opt())
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "{} must be RFC 3339, got {text:?}",
                        names.first().copied().unwrap_or("parameter")
                    ))
                })
        })
        .transpose()
}

pub(crate) async fn v3_trace(
    State(state): State<AppState>,
    Path(trace_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    let query = QueryString::parse(raw.as_deref());
    let id = parse_trace_id(&trace_id)?;
    let range = match (
        rfc3339_param(&query, &["start_time", "startTime"])?,
        rfc3339_param(&query, &["end_time", "endTime"])?,
    ) {
        (Some(from), Some(to)) => Some(
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

pub(crate) async fn v3_search(State(state): State<AppState>, RawQuery(raw): RawQuery) -> ApiResult {
    let query = QueryString::parse(raw.as_deref());
    let engine = &state.engine;
    let default = jaeger_default_range(engine).await?;
    let from = rfc3339_param(&query, &["query.start_time_min", "query.startTimeMin"])?
        .unwrap_or(default.from_ns);
    let to = rfc3339_param(&query, &["query.start_time_max", "query.startTimeMax"])?
        .unwrap_or(default.to_ns);
    let range = TimeRange::new(from, to).ok_or_else(|| {
        ApiError::bad_request("query.start_time_min must be before query.start_time_max")
    })?;
    let mut search = TraceSearch::new(range);
    search.service = Some(
        name_param(&query, &["query.service_name", "query.serviceName"])?
            .ok_or_else(|| ApiError::bad_request("query.service_name is required"))?,
    );
    search.operation = name_param(&query, &["query.operation_name", "query.operationName"])?;
    search.min_duration_ns = query
        .get(&["query.duration_min", "query.durationMin"])
        .map(parse_go_duration)
        .transpose()?;
    search.max_duration_ns = query
        .get(&["query.duration_max", "query.durationMax"])
        .map(parse_go_duration)
        .transpose()?;
    search.limit = query
        .int(&[
            "query.search_depth",
            "query.searchDepth",
            "query.num_traces",
        ])?
        .unwrap_or(20);
    if let Some(attributes) = query.get(&["query.attributes"]) {
        let map: BTreeMapStrings = serde_json::from_str(attributes).map_err(|_| {
            ApiError::bad_request(format!(
                "query.attributes must be a JSON object of strings, got {attributes:?}"
            ))
        })?;
        apply_tags(&mut search, map.into_iter().collect());
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
