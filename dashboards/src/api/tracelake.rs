//! tracelake's own JSON API under `/api/tracelake/`. Every handler takes its typed
//! parameters ([`crate::params`]) through [`ApiQuery`].

use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::json;

use super::error::*;
use super::params::ApiQuery;
use super::state::AppState;
use crate::params::values::{TraceIdFilter, name_str};
use crate::params::{
    ColdStartParams, CostGrouping, CostParams, HistogramParams, LogSearchParams, OperationsParams,
    RangeParams, RedGrouping, RedParams, TraceSearchParams,
};
use crate::query::{QueryEngine, QueryError, rows};

pub(crate) async fn default_end(engine: &QueryEngine) -> Result<i64, ApiError> {
    Ok(engine.default_end().await?)
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
    ApiQuery(range): ApiQuery<RangeParams>,
) -> ApiResult {
    let TraceIdFilter(id) = trace_id.parse()?;
    match state.engine.trace(&id, range.explicit()?).await? {
        Some(trace) => ok_json(trace),
        None => Err(ApiError::not_found(format!("trace {id} not found"))),
    }
}

pub(crate) async fn search_traces(
    State(state): State<AppState>,
    ApiQuery(range): ApiQuery<RangeParams>,
    ApiQuery(params): ApiQuery<TraceSearchParams>,
) -> ApiResult {
    let search = params.search(range.resolve(&state.engine).await?);
    ok_json(state.engine.search_traces(&search).await?)
}

pub(crate) async fn services(
    State(state): State<AppState>,
    ApiQuery(range): ApiQuery<RangeParams>,
) -> ApiResult {
    let range = range.resolve(&state.engine).await?;
    ok_json(state.engine.services(&range).await?)
}

pub(crate) async fn operations(
    State(state): State<AppState>,
    ApiQuery(range): ApiQuery<RangeParams>,
    ApiQuery(params): ApiQuery<OperationsParams>,
) -> ApiResult {
    let range = range.resolve(&state.engine).await?;
    ok_json(
        state
            .engine
            .operations(&range, &params.service.0, params.kind_str())
            .await?,
    )
}

pub(crate) async fn service_map(
    State(state): State<AppState>,
    ApiQuery(range): ApiQuery<RangeParams>,
) -> ApiResult {
    let range = range.resolve(&state.engine).await?;
    ok_json(state.engine.service_map(&range).await?)
}

pub(crate) async fn red(
    State(state): State<AppState>,
    ApiQuery(range): ApiQuery<RangeParams>,
    ApiQuery(params): ApiQuery<RedParams>,
) -> ApiResult {
    let range = range.resolve(&state.engine).await?;
    let (service, operation) = (name_str(&params.service), name_str(&params.operation));
    match params.grouping()? {
        RedGrouping::Operation => ok_json(
            state
                .engine
                .red(&range, service, operation, params.bucket_seconds())
                .await?,
        ),
        RedGrouping::Service => ok_json(
            state
                .engine
                .service_red(&range, service, params.bucket_seconds())
                .await?,
        ),
    }
}

pub(crate) async fn cold_starts(
    State(state): State<AppState>,
    ApiQuery(range): ApiQuery<RangeParams>,
    ApiQuery(params): ApiQuery<ColdStartParams>,
) -> ApiResult {
    let range = range.resolve(&state.engine).await?;
    ok_json(
        state
            .engine
            .cold_starts(&range, name_str(&params.function))
            .await?,
    )
}

pub(crate) async fn cost(
    State(state): State<AppState>,
    ApiQuery(range): ApiQuery<RangeParams>,
    ApiQuery(params): ApiQuery<CostParams>,
) -> ApiResult {
    let range = range.resolve(&state.engine).await?;
    match params.by.unwrap_or_default() {
        CostGrouping::Function => ok_json(
            state
                .engine
                .cost_by_function(&range, params.limit())
                .await?,
        ),
        CostGrouping::Trace => ok_json(state.engine.cost_by_trace(&range, params.limit()).await?),
    }
}

pub(crate) async fn search_logs(
    State(state): State<AppState>,
    ApiQuery(range): ApiQuery<RangeParams>,
    ApiQuery(params): ApiQuery<LogSearchParams>,
) -> ApiResult {
    let search = params.search(range.resolve(&state.engine).await?);
    ok_json(state.engine.search_logs(&search).await?)
}

/// The log volume histogram: a bucket width chosen for about 60 bars over the
/// range (a whole number of seconds dividing a day), unless `bucket` is given.
pub(crate) async fn log_histogram(
    State(state): State<AppState>,
    ApiQuery(range): ApiQuery<RangeParams>,
    ApiQuery(params): ApiQuery<LogSearchParams>,
    ApiQuery(histogram): ApiQuery<HistogramParams>,
) -> ApiResult {
    let range = range.resolve(&state.engine).await?;
    let search = params.search(range);
    let bucket_seconds = match histogram.bucket {
        Some(bucket) => bucket.seconds(),
        None => histogram_bucket_seconds(range.to_ns - range.from_ns),
    };
    ok_json(state.engine.log_histogram(&search, bucket_seconds).await?)
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
    ApiQuery(range): ApiQuery<RangeParams>,
) -> ApiResult {
    let range = range.resolve(&state.engine).await?;
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
    let rows = rows::batches_to_rows(&capped.batches).map_err(|source| QueryError::Decode {
        query: "sql",
        source,
    })?;
    ok_json(json!({
        "columns": rows::column_names(&capped.schema),
        "rows": rows,
        "truncated": capped.truncated,
        "row_cap": state.engine.options().sql_row_cap,
    }))
}
