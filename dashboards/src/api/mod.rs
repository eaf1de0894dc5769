//! The HTTP API: tracelake's JSON API under `/api/tracelake/`, the Jaeger v1 API
//! under `/api/`, the Jaeger v3 API under `/api/v3/`, and the web UI at `/`.
//!
//! Every `/api` route needs `Authorization: Bearer <token>` when the server has
//! a token. Parameters are validated here and bound to the SQL as values; a bad
//! one gets a 400 with a JSON body naming it.
//!
//! Every response carries an `X-Request-Id` (the caller's, or a new one). A
//! server-side failure is a 5xx whose body and log line both name that id: 500
//! for I/O and internal errors, 503 when a query needs more memory than the
//! pool allows, 504 when it runs past the timeout. Client errors stay 4xx.

pub mod jaeger;
pub mod params;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::query::{
    HOUR_NS, LogSearch, QueryEngine, QueryError, TimeRange, TraceDetail, TraceSearch, rows,
};
use jaeger::Envelope;
use params::{
    QueryString, parse_go_duration, parse_jaeger_epoch, parse_name, parse_time, parse_trace_id,
};

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The query engine.
    pub engine: QueryEngine,
    /// The bearer token every API call must carry, if any.
    pub token: Option<Arc<str>>,
}

/// An error answered as JSON: `{"error": "..."}` on tracelake's API, the
/// envelope on Jaeger v1.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    jaeger_v1: bool,
    trace_id: Option<String>,
}

impl ApiError {
    fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            jaeger_v1: false,
            trace_id: None,
        }
    }

    fn not_found(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
            jaeger_v1: false,
            trace_id: None,
        }
    }

    fn v1(mut self) -> ApiError {
        self.jaeger_v1 = true;
        self
    }

    fn for_trace(mut self, trace_id: &str) -> ApiError {
        self.trace_id = Some(trace_id.to_owned());
        self
    }
}

impl From<QueryError> for ApiError {
    fn from(error: QueryError) -> ApiError {
        let status = match &error {
            QueryError::InvalidTraceId(_)
            | QueryError::InvalidParameter { .. }
            | QueryError::Sql(_) => StatusCode::BAD_REQUEST,
            QueryError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            QueryError::ResourcesExhausted { .. } => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError {
            status,
            message: error.to_string(),
            jaeger_v1: false,
            trace_id: None,
        }
    }
}

impl From<String> for ApiError {
    fn from(message: String) -> ApiError {
        ApiError::bad_request(message)
    }
}

tokio::task_local! {
    /// The id of the request being answered, set by [`request_id`].
    static REQUEST_ID: Arc<str>;
}

/// The current request's id, if called while answering one.
fn current_request_id() -> Option<Arc<str>> {
    REQUEST_ID.try_with(Arc::clone).ok()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let request_id = current_request_id();
        if self.status.is_server_error() {
            tracing::error!(
                request_id = request_id.as_deref().unwrap_or(""),
                status = self.status.as_u16(),
                error = %self.message,
                "ApiRequestFailed"
            );
        }
        let body = if self.jaeger_v1 {
            let message = match &request_id {
                Some(id) if self.status.is_server_error() => {
                    format!("{} (request id {id})", self.message)
                }
                _ => self.message,
            };
            serde_json::to_value(Envelope::error(
                self.status.as_u16(),
                message,
                self.trace_id,
            ))
            .unwrap_or(Value::Null)
        } else {
            json!({
                "error": self.message,
                "status": self.status.as_u16(),
                "request_id": request_id.as_deref(),
            })
        };
        (self.status, axum::Json(body)).into_response()
    }
}

/// Names every request: the caller's `X-Request-Id` when it is short and
/// printable, else a new one; answered in the `X-Request-Id` header and
/// available to error responses and log lines.
async fn request_id(request: Request, next: Next) -> Response {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let given = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|id| {
            (1..=128).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map(str::to_owned);
    let id: Arc<str> = Arc::from(given.unwrap_or_else(|| {
        let sequence = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{:08x}-{sequence:06x}", std::process::id())
    }));
    let mut response = REQUEST_ID.scope(Arc::clone(&id), next.run(request)).await;
    if let Ok(value) = header::HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

const REQUEST_ID_HEADER: &str = "x-request-id";

type ApiResult = Result<Response, ApiError>;

fn ok_json(value: impl serde::Serialize) -> ApiResult {
    Ok(axum::Json(value).into_response())
}

/// Builds the router for one engine and optional token.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        // tracelake's own JSON API
        .route("/api/tracelake/range", get(data_range))
        .route("/api/tracelake/traces/{trace_id}", get(trace_by_id))
        .route("/api/tracelake/traces", get(search_traces))
        .route("/api/tracelake/services", get(services))
        .route("/api/tracelake/operations", get(operations))
        .route("/api/tracelake/map", get(service_map))
        .route("/api/tracelake/red", get(red))
        .route("/api/tracelake/coldstarts", get(cold_starts))
        .route("/api/tracelake/cost", get(cost))
        .route("/api/tracelake/logs", get(search_logs))
        .route("/api/tracelake/logs/histogram", get(log_histogram))
        .route("/api/tracelake/sql", post(sql))
        .route("/api/tracelake/correlation", get(correlation))
        // Jaeger v1
        .route("/api/services", get(v1_services))
        .route(
            "/api/services/{service}/operations",
            get(v1_service_operations),
        )
        .route("/api/operations", get(v1_operations))
        .route("/api/traces/{trace_id}", get(v1_trace))
        .route("/api/traces", get(v1_search))
        .route("/api/dependencies", get(v1_dependencies))
        // Jaeger v3
        .route("/api/v3/services", get(v3_services))
        .route("/api/v3/operations", get(v3_operations))
        .route("/api/v3/traces/{trace_id}", get(v3_trace))
        .route("/api/v3/traces", get(v3_search))
        .fallback(api_not_found)
        // `layer`, not `route_layer`: unknown API paths need the token too.
        .layer(middleware::from_fn_with_state(state.clone(), require_token))
        .layer(middleware::from_fn(request_id))
        .with_state(state);
    api.merge(crate::web::router())
}

async fn api_not_found() -> ApiError {
    ApiError::not_found("no such API endpoint")
}

/// Constant-time comparison, so the token cannot be guessed byte by byte.
fn same_token(given: &[u8], expected: &[u8]) -> bool {
    if given.len() != expected.len() {
        return false;
    }
    given
        .iter()
        .zip(expected)
        .fold(0u8, |difference, (a, b)| difference | (a ^ b))
        == 0
}

async fn require_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Request,
    next: Next,
) -> Response {
    if let Some(token) = &state.token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        let authorised = given.is_some_and(|given| same_token(given.as_bytes(), token.as_bytes()));
        if !authorised {
            let mut response = ApiError {
                status: StatusCode::UNAUTHORIZED,
                message: "missing or wrong bearer token".to_owned(),
                jaeger_v1: false,
                trace_id: None,
            }
            .into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
            return response;
        }
    }
    next.run(request).await
}

async fn default_end(engine: &QueryEngine) -> Result<i64, ApiError> {
    Ok(engine.default_end().await?)
}

/// `from`/`to` (RFC 3339 or epoch ms) or `lookback` (Go duration) of tracelake's API.
/// Without them: the hour before [`default_end`].
async fn time_range(engine: &QueryEngine, query: &QueryString) -> Result<TimeRange, ApiError> {
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

fn name_param(query: &QueryString, names: &[&str]) -> Result<Option<String>, ApiError> {
    query
        .get(names)
        .map(|text| parse_name(names.first().copied().unwrap_or("parameter"), text))
        .transpose()
        .map_err(ApiError::bad_request)
}

fn limit_param(query: &QueryString, default: i64) -> Result<i64, ApiError> {
    Ok(query.int(&["limit"])?.unwrap_or(default))
}

fn tag_pairs(query: &QueryString) -> Result<Vec<(String, String)>, ApiError> {
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

type BTreeMapStrings = std::collections::BTreeMap<String, String>;

/// Applies tags that Jaeger clients send for span fields rather than attributes.
fn apply_tags(search: &mut TraceSearch, pairs: Vec<(String, String)>) {
    for (key, value) in pairs {
        match key.as_str() {
            "error" if value == "true" => search.errors_only = true,
            "span.kind" => search.kind = Some(value),
            _ => search.attributes.push((key, value)),
        }
    }
}

// ---- tracelake JSON API ----

async fn data_range(State(state): State<AppState>) -> ApiResult {
    let latest = state.engine.latest_span_hour().await?;
    ok_json(json!({
        "latest_hour_ns": latest,
        "default_end_ns": default_end(&state.engine).await?,
    }))
}

async fn trace_by_id(
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

async fn trace_search_from(
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

async fn search_traces(State(state): State<AppState>, RawQuery(raw): RawQuery) -> ApiResult {
    let query = QueryString::parse(raw.as_deref());
    let search = trace_search_from(&state.engine, &query).await?;
    ok_json(state.engine.search_traces(&search).await?)
}

async fn services(State(state): State<AppState>, RawQuery(raw): RawQuery) -> ApiResult {
    let query = QueryString::parse(raw.as_deref());
    let range = time_range(&state.engine, &query).await?;
    ok_json(state.engine.services(&range).await?)
}

async fn operations(State(state): State<AppState>, RawQuery(raw): RawQuery) -> ApiResult {
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

async fn service_map(State(state): State<AppState>, RawQuery(raw): RawQuery) -> ApiResult {
    let query = QueryString::parse(raw.as_deref());
    let range = time_range(&state.engine, &query).await?;
    ok_json(state.engine.service_map(&range).await?)
}

async fn red(State(state): State<AppState>, RawQuery(raw): RawQuery) -> ApiResult {
    let query = QueryString::parse(raw.as_deref());
    let range = time_range(&state.engine, &query).await?;
    let bucket_ns = match query.get(&["bucket"]) {
        Some(text) => parse_go_duration(text)?,
        None => 60_000_000_000,
    };
    if bucket_ns % 1_000_000_000 != 0 {
        return Err(ApiError::bad_request(format!(
            "bucket must be whole seconds, got {bucket_ns} ns"
        )));
    }
    let service = name_param(&query, &["service"])?;
    let operation = name_param(&query, &["operation"])?;
    let bucket_seconds = bucket_ns / 1_000_000_000;
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

async fn cold_starts(State(state): State<AppState>, RawQuery(raw): RawQuery) -> ApiResult {
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

async fn cost(State(state): State<AppState>, RawQuery(raw): RawQuery) -> ApiResult {
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

fn log_search_from(query: &QueryString, range: TimeRange) -> Result<LogSearch, ApiError> {
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

async fn search_logs(State(state): State<AppState>, RawQuery(raw): RawQuery) -> ApiResult {
    let query = QueryString::parse(raw.as_deref());
    let search = log_search_from(&query, time_range(&state.engine, &query).await?)?;
    ok_json(state.engine.search_logs(&search).await?)
}

/// The log volume histogram: a bucket width chosen for about 60 bars over the
/// range (a whole number of seconds dividing a day), unless `bucket` is given.
async fn log_histogram(State(state): State<AppState>, RawQuery(raw): RawQuery) -> ApiResult {
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
fn histogram_bucket_seconds(span_ns: i64) -> i64 {
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

async fn correlation(State(state): State<AppState>, RawQuery(raw): RawQuery) -> ApiResult {
    let query = QueryString::parse(raw.as_deref());
    let range = time_range(&state.engine, &query).await?;
    ok_json(state.engine.correlation(&range).await?)
}

#[derive(Deserialize)]
struct SqlRequest {
    sql: String,
}

async fn sql(State(state): State<AppState>, body: axum::body::Bytes) -> ApiResult {
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

// ---- Jaeger v1 ----

/// Default Jaeger range: the two days before [`default_end`].
async fn jaeger_default_range(engine: &QueryEngine) -> Result<TimeRange, ApiError> {
    let end = default_end(engine).await?;
    TimeRange::new(end.saturating_sub(48 * HOUR_NS), end.saturating_add(1))
        .ok_or_else(|| ApiError::bad_request("empty time range"))
}

fn envelope(items: Vec<Value>, limit: usize) -> ApiResult {
    ok_json(Envelope::list(items, limit))
}

async fn v1_services(State(state): State<AppState>) -> ApiResult {
    let range = jaeger_default_range(&state.engine)
        .await
        .map_err(ApiError::v1)?;
    let services = state
        .engine
        .services(&range)
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

async fn v1_service_operations(
    State(state): State<AppState>,
    Path(service): Path<String>,
) -> ApiResult {
    let service = parse_name("service", &service).map_err(|m| ApiError::bad_request(m).v1())?;
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

async fn v1_operations(State(state): State<AppState>, RawQuery(raw): RawQuery) -> ApiResult {
    let query = QueryString::parse(raw.as_deref());
    let service = name_param(&query, &["service"])
        .map_err(ApiError::v1)?
        .ok_or_else(|| ApiError::bad_request("parameter 'service' is required").v1())?;
    let kind = name_param(&query, &["spanKind"]).map_err(ApiError::v1)?;
    let range = jaeger_default_range(&state.engine)
        .await
        .map_err(ApiError::v1)?;
    let operations = state
        .engine
        .operations(&range, &service, kind.as_deref())
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

/// `start`/`end` of Jaeger v1 (µs, or ms from Grafana), both or neither.
fn v1_range(query: &QueryString) -> Result<Option<TimeRange>, ApiError> {
    match (query.get(&["start"]), query.get(&["end"])) {
        (Some(start), Some(end)) => {
            let from = parse_jaeger_epoch("start", start)?;
            let to = parse_jaeger_epoch("end", end)?;
            // Inclusive end, and ms precision from Grafana: widen to the next ms.
            Ok(Some(
                TimeRange::new(from, to.saturating_add(1_000_000))
                    .ok_or_else(|| ApiError::bad_request("start must not be after end"))?,
            ))
        }
        _ => Ok(None),
    }
}

async fn v1_trace(
    State(state): State<AppState>,
    Path(trace_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    let query = QueryString::parse(raw.as_deref());
    let id = parse_trace_id(&trace_id).map_err(|m| ApiError::bad_request(m).v1())?;
    let range = v1_range(&query).map_err(ApiError::v1)?;
    match state
        .engine
        .trace(&id, range)
        .await
        .map_err(|e| ApiError::from(e).v1())?
    {
        Some(trace) => ok_json(Envelope {
            data: Value::Array(vec![jaeger::v1_trace(&trace)]),
            total: 0,
            limit: 0,
            offset: 0,
            errors: None,
        }),
        None => Err(ApiError::not_found("trace not found").v1().for_trace(&id)),
    }
}

/// Most trace ids one Jaeger `traceID=` lookup takes.
const MAX_TRACE_IDS: usize = 20;

/// Full traces by id (Jaeger's `traceID=` list), four lookups at a time.
async fn full_traces(
    engine: &QueryEngine,
    ids: Vec<String>,
    range: Option<TimeRange>,
) -> Result<Vec<TraceDetail>, ApiError> {
    if ids.len() > MAX_TRACE_IDS {
        return Err(ApiError::bad_request(format!(
            "{} trace ids given, at most {MAX_TRACE_IDS} are looked up at once",
            ids.len()
        )));
    }
    let found: Vec<Result<Option<TraceDetail>, QueryError>> = futures::stream::iter(ids)
        .map(|id| async move { engine.trace(&id, range).await })
        .buffered(4)
        .collect()
        .await;
    let mut traces = Vec::new();
    for trace in found {
        if let Some(trace) = trace? {
            traces.push(trace);
        }
    }
    Ok(traces)
}

/// A Jaeger search as one query: the matching traces' spans, capped by the
/// engine's span budget (a warning is logged when it cuts the answer).
async fn bounded_search(
    engine: &QueryEngine,
    search: &TraceSearch,
) -> Result<Vec<TraceDetail>, ApiError> {
    let (traces, truncated) = engine.search_trace_spans(search).await?;
    if truncated {
        tracing::warn!(
            request_id = current_request_id().as_deref().unwrap_or(""),
            span_budget = engine.options().span_budget,
            traces = traces.len(),
            "JaegerSearchSpanBudgetReached"
        );
    }
    Ok(traces)
}

async fn v1_search(State(state): State<AppState>, RawQuery(raw): RawQuery) -> ApiResult {
    v1_search_inner(&state, QueryString::parse(raw.as_deref()))
        .await
        .map_err(ApiError::v1)
}

async fn v1_search_inner(state: &AppState, query: QueryString) -> ApiResult {
    let engine = &state.engine;
    let trace_ids = query.all("traceID");
    let range = match v1_range(&query)? {
        Some(range) => range,
        None => jaeger_default_range(engine).await?,
    };
    let limit = limit_param(&query, 100)?;
    if !trace_ids.is_empty() {
        let ids = trace_ids
            .iter()
            .map(|id| parse_trace_id(id))
            .collect::<Result<Vec<_>, _>>()?;
        let traces = full_traces(engine, ids, None).await?;
        return envelope(traces.iter().map(jaeger::v1_trace).collect(), 0);
    }
    let mut search = TraceSearch::new(range);
    search.service = Some(
        name_param(&query, &["service"])?
            .ok_or_else(|| ApiError::bad_request("parameter 'service' is required"))?,
    );
    search.operation = name_param(&query, &["operation"])?;
    search.min_duration_ns = query
        .get(&["minDuration"])
        .map(parse_go_duration)
        .transpose()?;
    search.max_duration_ns = query
        .get(&["maxDuration"])
        .map(parse_go_duration)
        .transpose()?;
    search.limit = limit;
    apply_tags(&mut search, tag_pairs(&query)?);
    let traces = bounded_search(engine, &search).await?;
    envelope(traces.iter().map(jaeger::v1_trace).collect(), 0)
}

async fn v1_dependencies(State(state): State<AppState>, RawQuery(raw): RawQuery) -> ApiResult {
    let query = QueryString::parse(raw.as_deref());
    let end_ms = match query
        .int(&["endTs"])
        .map_err(|m| ApiError::bad_request(m).v1())?
    {
        Some(ms) => ms,
        None => default_end(&state.engine).await.map_err(ApiError::v1)? / 1_000_000,
    };
    let lookback_ms = query
        .int(&["lookback"])
        .map_err(|m| ApiError::bad_request(m).v1())?
        .unwrap_or(24 * 3_600_000);
    let range = TimeRange::new(
        end_ms.saturating_sub(lookback_ms).saturating_mul(1_000_000),
        end_ms.saturating_mul(1_000_000),
    )
    .ok_or_else(|| ApiError::bad_request("lookback must be positive").v1())?;
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

// ---- Jaeger v3 ----

async fn v3_services(State(state): State<AppState>) -> ApiResult {
    let range = jaeger_default_range(&state.engine).await?;
    let services = state.engine.services(&range).await?;
    ok_json(json!({"services": services.into_iter().map(|s| s.service).collect::<Vec<_>>()}))
}

async fn v3_operations(State(state): State<AppState>, RawQuery(raw): RawQuery) -> ApiResult {
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

fn rfc3339_param(query: &QueryString, names: &[&str]) -> Result<Option<i64>, ApiError> {
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

async fn v3_trace(
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
        Some(trace) => ok_json(json!({"result": jaeger::v3_traces(&[trace])})),
        None => Err(ApiError::not_found(format!("trace {id} not found"))),
    }
}

async fn v3_search(State(state): State<AppState>, RawQuery(raw): RawQuery) -> ApiResult {
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
    let traces = bounded_search(engine, &search).await?;
    if traces.is_empty() {
        return Err(ApiError::not_found("no traces found"));
    }
    ok_json(json!({"result": jaeger::v3_traces(&traces)}))
}
