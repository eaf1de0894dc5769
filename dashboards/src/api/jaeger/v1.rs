//! The Jaeger v1 HTTP API under `/api/` (what Grafana's Jaeger data source calls).

use axum::extract::{Path, State};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::error::*;
use crate::api::jaeger::{Envelope, EnvelopeError};
use crate::api::params::{ApiQuery, JaegerEpochNs};
use crate::api::state::AppState;
use crate::api::tracelake::*;
use crate::params::values::{Name, TraceIdFilter};
use crate::params::{OperationsParams, TraceSearchParams};
use crate::query::{HOUR_NS, QueryEngine, QueryError, TimeRange, TraceDetail, TraceSearch};

/// `start`/`end` of a Jaeger v1 search or trace (µs, or ms from Grafana; both
/// or neither) and the `traceID=` list (repeatable).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct JaegerWindow {
    start: Option<JaegerEpochNs>,
    end: Option<JaegerEpochNs>,
    #[serde(default, rename = "traceID")]
    trace_ids: Vec<TraceIdFilter>,
}

/// `/api/dependencies`: `endTs` and `lookback` in milliseconds.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct JaegerDependencies {
    #[serde(rename = "endTs")]
    end_ms: Option<i64>,
    #[serde(rename = "lookback")]
    lookback_ms: Option<i64>,
}

/// Most traces a Jaeger v1 search returns when it gives no limit.
const JAEGER_DEFAULT_LIMIT: i64 = 100;

/// Default Jaeger range: the two days before [`default_end`].
pub(crate) async fn jaeger_default_range(engine: &QueryEngine) -> Result<TimeRange, ApiError> {
    let end = default_end(engine).await?;
    TimeRange::new(end.saturating_sub(48 * HOUR_NS), end.saturating_add(1))
        .ok_or_else(|| ApiError::bad_request("empty time range"))
}

pub(crate) fn envelope(items: Vec<Value>, limit: usize) -> ApiResult {
    ok_json(Envelope::list(items, limit))
}

pub(crate) async fn v1_services(State(state): State<AppState>) -> ApiResult {
    let range = jaeger_default_range(&state.engine)
        .await
        .map_err(ApiError::v1)?;
    let services = state
        .engine
        .instrumented_services(&range)
        .await
        .map_err(|e| ApiError::from(e).v1())?;
    envelope(
        services
            .into_iter()
            .map(|s| Value::from(s.service))
            .collect(),
        0,
    )
}

pub(crate) async fn v1_service_operations(
    State(state): State<AppState>,
    Path(service): Path<String>,
) -> ApiResult {
    let Name(service) = service
        .parse()
        .map_err(|m: String| ApiError::bad_request(format!("service: {m}")).v1())?;
    let range = jaeger_default_range(&state.engine)
        .await
        .map_err(ApiError::v1)?;
    let operations = state
        .engine
        .operations(&range, &service, None)
        .await
        .map_err(|e| ApiError::from(e).v1())?;
    let mut names: Vec<String> = operations.into_iter().map(|o| o.name).collect();
    names.dedup();
    envelope(names.into_iter().map(Value::from).collect(), 0)
}

pub(crate) async fn v1_operations(
    State(state): State<AppState>,
    params: Result<ApiQuery<OperationsParams>, ApiError>,
) -> ApiResult {
    let ApiQuery(params) = params.map_err(ApiError::v1)?;
    let range = jaeger_default_range(&state.engine)
        .await
        .map_err(ApiError::v1)?;
    let operations = state
        .engine
        .operations(&range, &params.service.0, params.kind_str())
        .await
        .map_err(|e| ApiError::from(e).v1())?;
    envelope(
        operations
            .into_iter()
            .map(|o| json!({"name": o.name, "spanKind": o.kind.unwrap_or_default()}))
            .collect(),
        0,
    )
}

impl JaegerWindow {
    /// The range `start`..`end`, both or neither.
    fn range(&self) -> Result<Option<TimeRange>, ApiError> {
        match (self.start, self.end) {
            (Some(JaegerEpochNs(from)), Some(JaegerEpochNs(to))) => {
                // Inclusive end, and ms precision from Grafana: widen to the next ms.
                Ok(Some(
                    TimeRange::new(from, to.saturating_add(1_000_000))
                        .ok_or_else(|| ApiError::bad_request("start must not be after end"))?,
                ))
            }
            _ => Ok(None),
        }
    }

    /// The range of a search. A bound not given is Jaeger's default: two days
    /// before `end`, or up to the default range end (the newest data) after
    /// `start`, as Jaeger reads each bound alone (Grafana sends each only
    /// when it is set).
    async fn search_range(&self, engine: &QueryEngine) -> Result<TimeRange, ApiError> {
        let (from, to) = match (self.start, self.end) {
            (Some(_), Some(_)) | (None, None) => {
                return match self.range()? {
                    Some(range) => Ok(range),
                    None => jaeger_default_range(engine).await,
                };
            }
            (Some(JaegerEpochNs(from)), None) => {
                let end = default_end(engine).await?.max(from);
                (from, end.saturating_add(1))
            }
            (None, Some(JaegerEpochNs(to))) => {
                let to = to.saturating_add(1_000_000);
                (to.saturating_sub(48 * HOUR_NS).max(0), to)
            }
        };
        TimeRange::new(from, to).ok_or_else(|| ApiError::bad_request("empty time range"))
    }
}

pub(crate) async fn v1_trace(
    State(state): State<AppState>,
    Path(trace_id): Path<String>,
    window: Result<ApiQuery<JaegerWindow>, ApiError>,
) -> ApiResult {
    let TraceIdFilter(id) = trace_id
        .parse()
        .map_err(|m: String| ApiError::bad_request(m).v1())?;
    let ApiQuery(window) = window.map_err(ApiError::v1)?;
    let range = window.range().map_err(ApiError::v1)?;
    match state
        .engine
        .trace(&id, range)
        .await
        .map_err(|e| ApiError::from(e).v1())?
    {
        Some(trace) => ok_json(Envelope {
            data: Value::Array(vec![crate::api::jaeger::v1_trace(&trace)]),
            total: 0,
            limit: 0,
            offset: 0,
            errors: None,
        }),
        None => Err(ApiError::not_found("trace not found").v1().for_trace(&id)),
    }
}

/// Most trace ids one Jaeger `traceID=` lookup takes.
pub(crate) const MAX_TRACE_IDS: usize = 20;

/// Full traces by id (Jaeger's `traceID=` list), four lookups at a time: the
/// traces found, and the ids not found.
pub(crate) async fn full_traces(
    engine: &QueryEngine,
    ids: Vec<String>,
    range: Option<TimeRange>,
) -> Result<(Vec<TraceDetail>, Vec<String>), ApiError> {
    if ids.len() > MAX_TRACE_IDS {
        return Err(ApiError::bad_request(format!(
            "{} trace ids given, at most {MAX_TRACE_IDS} are looked up at once",
            ids.len()
        )));
    }
    type Lookup = (String, Result<Option<TraceDetail>, QueryError>);
    let found: Vec<Lookup> = futures::stream::iter(ids)
        .map(|id| async move {
            let trace = engine.trace(&id, range).await;
            (id, trace)
        })
        .buffered(4)
        .collect()
        .await;
    let mut traces = Vec::new();
    let mut missing = Vec::new();
    for (id, trace) in found {
        match trace? {
            Some(trace) => traces.push(trace),
            None => missing.push(id),
        }
    }
    Ok((traces, missing))
}

/// A Jaeger search as one query: the matching traces' spans, capped by the
/// engine's span budget (a warning is logged when it cuts the answer). The
/// flag says whether the budget cut the answer; the last trace may then be
/// missing spans.
pub(crate) async fn bounded_search(
    engine: &QueryEngine,
    search: &TraceSearch,
) -> Result<(Vec<TraceDetail>, bool), ApiError> {
    let (traces, truncated) = engine.search_trace_spans(search).await?;
    if truncated {
        tracing::warn!(
            request_id = current_request_id().as_deref().unwrap_or(""),
            span_budget = engine.options().span_budget,
            traces = traces.len(),
            "JaegerSearchSpanBudgetReached"
        );
    }
    Ok((traces, truncated))
}

pub(crate) async fn v1_search(
    State(state): State<AppState>,
    window: Result<ApiQuery<JaegerWindow>, ApiError>,
    params: Result<ApiQuery<TraceSearchParams>, ApiError>,
) -> ApiResult {
    let (ApiQuery(window), ApiQuery(params)) = window
        .and_then(|window| Ok((window, params?)))
        .map_err(ApiError::v1)?;
    v1_search_inner(&state, window, params)
        .await
        .map_err(ApiError::v1)
}

pub(crate) async fn v1_search_inner(
    state: &AppState,
    window: JaegerWindow,
    params: TraceSearchParams,
) -> ApiResult {
    let engine = &state.engine;
    let range = window.search_range(engine).await?;
    if !window.trace_ids.is_empty() {
        let ids = window
            .trace_ids
            .into_iter()
            .map(|TraceIdFilter(id)| id)
            .collect();
        let (traces, missing) = full_traces(engine, ids, None).await?;
        // As Jaeger does: the traces found, and an error naming each id not found.
        let mut answer =
            Envelope::list(traces.iter().map(crate::api::jaeger::v1_trace).collect(), 0);
        if !missing.is_empty() {
            answer.errors = Some(
                missing
                    .into_iter()
                    .map(|id| EnvelopeError {
                        code: 404,
                        msg: "trace not found".to_owned(),
                        trace_id: Some(id),
                    })
                    .collect(),
            );
        }
        return ok_json(answer);
    }
    if params.service.is_none() {
        return Err(ApiError::bad_request("parameter 'service' is required"));
    }
    let mut search: TraceSearch = params.search(range);
    search.limit = params.limit.unwrap_or(JAEGER_DEFAULT_LIMIT);
    let (traces, truncated) = bounded_search(engine, &search).await?;
    let mut data: Vec<Value> = traces.iter().map(crate::api::jaeger::v1_trace).collect();
    if truncated {
        // The budget cut the last trace: say so on it, where the Jaeger UI and
        // Grafana show a trace's warnings, rather than hand out a partial trace
        // that looks whole.
        if let Some(last) = data.last_mut() {
            last["warnings"] = json!([format!(
                "this trace may be incomplete: the search reached its span budget of {} spans; \
                 open the trace by id for all its spans",
                engine.options().span_budget
            )]);
        }
    }
    envelope(data, 0)
}

/// The latest `endTs` (epoch ms) whose nanoseconds fit the index's `i64`
/// times: 2262-04-11.
const MAX_END_MS: i64 = i64::MAX / 1_000_000;

/// The range of `/api/dependencies`: `lookback` ms before `endTs` (epoch ms),
/// checked so that an out-of-range value is named, never wrapped or saturated.
fn dependencies_range(end_ms: i64, lookback_ms: i64) -> Result<TimeRange, String> {
    if !(0..=MAX_END_MS).contains(&end_ms) {
        return Err(format!(
            "endTs must be epoch milliseconds between 0 and {MAX_END_MS}, got {end_ms}"
        ));
    }
    if !(1..=end_ms).contains(&lookback_ms) {
        return Err(format!(
            "lookback must be between 1 and {end_ms} ms (endTs, so that the range starts \
             at or after 1970-01-01), got {lookback_ms}"
        ));
    }
    let nanos = |ms: i64| ms.checked_mul(1_000_000);
    let from = end_ms.checked_sub(lookback_ms).and_then(nanos);
    from.zip(nanos(end_ms))
        .and_then(|(from, to)| TimeRange::new(from, to))
        .ok_or_else(|| format!("endTs {end_ms} and lookback {lookback_ms} make no time range"))
}

pub(crate) async fn v1_dependencies(
    State(state): State<AppState>,
    params: Result<ApiQuery<JaegerDependencies>, ApiError>,
) -> ApiResult {
    let ApiQuery(params) = params.map_err(ApiError::v1)?;
    let end_ms = match params.end_ms {
        Some(ms) => ms,
        None => default_end(&state.engine).await.map_err(ApiError::v1)? / 1_000_000,
    };
    let lookback_ms = params.lookback_ms.unwrap_or(24 * 3_600_000);
    let range = dependencies_range(end_ms, lookback_ms)
        .map_err(|message| ApiError::bad_request(message).v1())?;
    let edges = state
        .engine
        .service_map(&range)
        .await
        .map_err(|e| ApiError::from(e).v1())?;
    let mut counts: std::collections::BTreeMap<(String, String), i64> = Default::default();
    for edge in edges {
        *counts.entry((edge.parent, edge.child)).or_default() += edge.call_count;
    }
    envelope(
        counts
            .into_iter()
            .map(|((parent, child), count)| json!({"parent": parent, "child": child, "callCount": count}))
            .collect(),
        0,
    )
}
