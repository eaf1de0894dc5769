//! tracelake's own JSON API under `/api/tracelake/`, and the parameter
//! readers the Jaeger APIs share.

use axum::extract::{Path, RawQuery, State};
use serde::Deserialize;
use serde_json::json;

use super::error::*;
use super::params::{
    BucketSeconds, QueryString, parse_go_duration, parse_name, parse_time, parse_trace_id,
};
use super::state::AppState;
use crate::query::{HOUR_NS, LogSearch, QueryEngine, TimeRange, TraceSearch, rows};

pub(crate) async fn default_end(engine: &QueryEngine) -> Result<i64, ApiError> {
    Ok(engine.default_end().await?)
}

/// `from`/`to` (RFC 3339 or epoch ms) or `lookback` (Go duration) of tracelake's API.
/// Without them: the hour before [`default_end`].
pub(crate) async fn time_range(
    engine: &QueryEngine,
    query: &QueryString,
) -> Result<TimeRange, ApiError> {
    let to = match query.get(&["to"]) {
        Some(text) => parse_time("to", text)?,
        None => default_end(engine).await?,
    };
    let from = match (query.get(&["from"]), query.get(&["lookback"])) {
        (Some(text), _) => parse_time("from", text)?,
        (None, Some(text)) => to.saturating_sub(parse_go_duration(text)?),
        (None, None) => to.saturating_sub(HOUR_NS),
    };
    TimeRange::new(from, to).ok_or_else(|| {
        ApiError::bad_request(format!(
            "empty time range: from {from} ns is not before to {to} ns"
        ))
    })
}

pub(crate) fn name_param(query: &QueryString, names: &[&str]) -> Result<Option<String>, ApiError> {
    query
        .get(names)
        .map(|text| parse_name(names.first().copied().unwrap_or("parameter"), text))
        .transpose()
        .map_err(ApiError::bad_request)
}

pub(crate) fn limit_param(query: &QueryString, default: i64) -> Result<i64, ApiError> {
    Ok(query.int(&["limit"])?.unwrap_or(default))
}

pub(crate) fn tag_pairs(query: &QueryString) -> Result<Vec<(String, String)>, ApiError> {
    let mut pairs = Vec::new();
    for tag in query.all("tag") {
        let (key, value) = tag
            .split_once(':')
            .ok_or_else(|| ApiError::bad_request(format!("tag must be key:value, got {tag:?}")))?;
        pairs.push((parse_name("tag", key)?, parse_name("tag", value)?));
    }
    if let Some(tags) = query.get(&["tags"]) {
        let map: BTreeMapStrings = serde_json::from_str(tags).map_err(|_| {
            ApiError::bad_request(format!(
                "tags must be a JSON object of strings, got {tags:?}"
            ))
        })?;
        for (key, value) in map {
            pairs.push((parse_name("tags", &key)?, parse_name("tags", &value)?));
        }
    }
    Ok(pairs)
}

pub(crate) type BTreeMapStrings = std::collections::BTreeMap<String, String>;

/// Applies tags that Jaeger clients send for span fields rather than attributes.
pub(crate) fn apply_tags(search: &mut TraceSearch, pairs: Vec<(String, String)>) {
    for (key, value) in pairs {
        match key.as_str() {
            "error" if value == "true" => search.errors_only = true,
            "span.kind" => search.kind = Some(value),
            _ => search.attributes.push((key, value)),
        }
    }
}

// ---- tracelake JSON API ----

pub(crate) async fn data_range(State(state): State<AppState>) -> ApiResult {
    let latest = state.engine.latest_span_hour().await?;
    ok_json(json!({
        "latest_hour_ns": latest,
        "default_end_ns": default_end(&state.engine).await?,
    }))
}

pub(crate) async fn trace_by_id(
    State(state): State<AppState>,
    Path(trace_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    let query = QueryString::parse(raw.as_deref());
    let id = parse_trace_id(&trace_id)?;
    let range = match (query.get(&["from"]), query.get(&["to"])) {
        (Some(from), Some(to)) => Some(
            TimeRange::new(parse_time("from", from)?, parse_time("to", to)?)
                .ok_or_else(|| ApiError::bad_request("from must be before to"))?,
        ),
        _ => None,
    };
    match state.engine.trace(&id, range).await? {
        Some(trace) => ok_json(trace),
        None => Err(ApiError::not_found(format!("trace {id} not found"))),
    }
}

pub(crate) async fn trace_search_from(
    engine: &QueryEngine,
    query: &QueryString,
) -> Result<TraceSearch, ApiError> {
    let mut search = TraceSearch::new(time_range(engine, query).await?);
    search.service = name_param(query, &["service"])?;
    search.operation = name_param(query, &["operation"])?;
    search.kind = name_param(query, &["kind"])?;
    search.min_duration_ns = query
        .get(&["minDuration"])
        .map(parse_go_duration)
        .transpose()?;
    search.max_duration_ns = query
        .get(&["maxDuration"])
        .map(parse_go_duration)
        .transpose()?;
    search.errors_only = query.bool(&["errors"])?;
    search.limit = limit_param(query, 20)?;
    apply_tags(&mut search, tag_pairs(query)?);
    Ok(search)
}

pub(crate) async fn search_traces(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    let query = QueryString::parse(raw.as_deref());
    let search = trace_search_from(&state.engine, &query).await?;
    ok_json(state.engine.search_traces(&search).await?)
}

pub(crate) async fn services(State(state): State<AppState>, RawQuery(raw): RawQuery) -> ApiResult {
    let query = QueryString::parse(raw.as_deref());
    let range = time_range(&state.engine, &query).await?;
    ok_json(state.engine.services(&range).await?)
}

pub(crate) async fn operations(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    let query = QueryString::parse(raw.as_deref());
    let range = time_range(&state.engine, &query).await?;
    let service = name_param(&query, &["service"])?
        .ok_or_else(|| ApiError::bad_request("service is required"))?;
    let kind = name_param(&query, &["kind", "spanKind"])?;
    ok_json(
        state
            .engine
            .operations(&range, &service, kind.as_deref())
            .await?,
    )
}

pub(crate) async fn service_map(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    let query = QueryString::parse(raw.as_deref());
    let range = time_range(&state.engine, &query).await?;
    ok_json(state.engine.service_map(&range).await?)
}

pub(crate) async fn red(State(state): State<AppState>, RawQuery(raw): RawQuery) -> ApiResult {
    let query = QueryString::parse(raw.as_deref());
    let range = time_range(&state.engine, &query).await?;
    let bucket_seconds = query
        .get(&["bucket"])
        .map(str::parse::<BucketSeconds>)
        .transpose()?
        .unwrap_or_default()
        .seconds();
    let service = name_param(&query, &["service"])?;
    let operation = name_param(&query, &["operation"])?;
    match query.get(&["by"]).unwrap_or("operation") {
        "operation" => ok_json(
            state
                .engine
                .red(
                    &range,
                    service.as_deref(),
                    operation.as_deref(),
                    bucket_seconds,
                )
                .await?,
        ),
        "service" if operation.is_none() => ok_json(
            state
                .engine
                .service_red(&range, service.as_deref(), bucket_seconds)
                .await?,
        ),
        "service" => Err(ApiError::bad_request(
            "by=service sums all operations; drop the operation filter",
        )),
        other => Err(ApiError::bad_request(format!(
            "by must be operation or service, got {other:?}"
        ))),
    }
}

pub(crate) async fn cold_starts(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    let query = QueryString::parse(raw.as_deref());
    let range = time_range(&state.engine, &query).await?;
    let function = name_param(&query, &["function"])?;
    ok_json(
        state
            .engine
            .cold_starts(&range, function.as_deref())
            .await?,
    )
}

pub(crate) async fn cost(State(state): State<AppState>, RawQuery(raw): RawQuery) -> ApiResult {
    let query = QueryString::parse(raw.as_deref());
    let range = time_range(&state.engine, &query).await?;
    let limit = limit_param(&query, 50)?;
    match query.get(&["by"]).unwrap_or("function") {
        "function" => ok_json(state.engine.cost_by_function(&range, limit).await?),
        "trace" => ok_json(state.engine.cost_by_trace(&range, limit).await?),
        other => Err(ApiError::bad_request(format!(
            "by must be function or trace, got {other:?}"
        ))),
    }
}

pub(crate) fn log_search_from(
    query: &QueryString,
    range: TimeRange,
) -> Result<LogSearch, ApiError> {
    let mut search = LogSearch::new(range);
    search.text = query
        .get(&["q", "text"])
        .map(|text| parse_name("q", text))
        .transpose()?;
    search.level = name_param(query, &["level"])?.map(|level| level.to_uppercase());
    search.service = name_param(query, &["service"])?;
    search.trace_id = query.get(&["traceId", "trace_id"]).map(str::to_owned);
    search.request_id = name_param(query, &["requestId", "request_id"])?;
    search.limit = limit_param(query, 100)?;
    Ok(search)
}

pub(crate) async fn search_logs(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    let query = QueryString::parse(raw.as_deref());
    let search = log_search_from(&query, time_range(&state.engine, &query).await?)?;
    ok_json(state.engine.search_logs(&search).await?)
}

/// The log volume histogram: a bucket width chosen for about 60 bars over the
/// range (a whole number of seconds dividing a day), unless `bucket` is given.
pub(crate) async fn log_histogram(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    let query = QueryString::parse(raw.as_deref());
    let range = time_range(&state.engine, &query).await?;
    let search = log_search_from(&query, range)?;
    let bucket_seconds = match query.get(&["bucket"]) {
        Some(text) => parse_go_duration(text)? / 1_000_000_000,
        None => histogram_bucket_seconds(range.to_ns - range.from_ns),
    };
    let volumes = state.engine.log_histogram(&search, bucket_seconds).await?;
    ok_json(json!({"bucket_seconds": bucket_seconds, "volumes": volumes}))
}

/// The smallest "round" bucket that gives at most 60 bars over `span_ns`.
pub(crate) fn histogram_bucket_seconds(span_ns: i64) -> i64 {
    const ROUND: [i64; 16] = [
        1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 21_600, 86_400,
    ];
    let span_seconds = span_ns / 1_000_000_000;
    ROUND
        .iter()
        .copied()
        .find(|bucket| span_seconds / bucket <= 60)
        .unwrap_or(86_400)
}

pub(crate) async fn correlation(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    let query = QueryString::parse(raw.as_deref());
    let range = time_range(&state.engine, &query).await?;
    ok_json(state.engine.correlation(&range).await?)
}

#[derive(Deserialize)]
pub(crate) struct SqlRequest {
    sql: String,
}

pub(crate) async fn sql(State(state): State<AppState>, body: axum::body::Bytes) -> ApiResult {
    let request: SqlRequest = serde_json::from_slice(&body).map_err(|error| {
        ApiError::bad_request(format!("body must be {{\"sql\": \"…\"}}: {error}"))
    })?;
    let capped = state.engine.sql(&request.sql).await?;
    ok_json(json!({
        "rows": rows::batches_to_rows(&capped.batches),
        "truncated": capped.truncated,
        "row_cap": state.engine.options().sql_row_cap,
    }))
}
