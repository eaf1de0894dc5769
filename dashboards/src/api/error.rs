//! API errors: the JSON body or Jaeger envelope, the status, and the request id
//! every response and server-side log line carries.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::jaeger::Envelope;
use super::state::AppState;
use crate::query::QueryError;
use crate::query::limits::Deadline;

/// An error answered as JSON: `{"error": "..."}` on tracelake's API, the
/// envelope on Jaeger v1.
#[derive(Debug)]
pub struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
    pub(crate) jaeger_v1: bool,
    pub(crate) trace_id: Option<String>,
    /// For a timeout: `(elapsed_ms, deadline_ms)`, answered as fields.
    pub(crate) timing: Option<(u64, u64)>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: String) -> ApiError {
        ApiError {
            status,
            message,
            jaeger_v1: false,
            trace_id: None,
            timing: None,
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message.into())
    }

    pub(crate) fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message.into())
    }

    pub(crate) fn v1(mut self) -> ApiError {
        self.jaeger_v1 = true;
        self
    }

    /// In the v1 envelope when `path` is under the Jaeger v1 API.
    pub(crate) fn for_path(self, path: &str) -> ApiError {
        if is_jaeger_v1_path(path) {
            self.v1()
        } else {
            self
        }
    }

    pub(crate) fn for_trace(mut self, trace_id: &str) -> ApiError {
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
        let timing = match &error {
            QueryError::Timeout {
                elapsed, deadline, ..
            } => Some((millis(*elapsed), millis(*deadline))),
            _ => None,
        };
        ApiError {
            timing,
            ..ApiError::new(status, error.to_string())
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
pub(crate) fn current_request_id() -> Option<Arc<str>> {
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
            let mut body = json!({
                "error": self.message,
                "status": self.status.as_u16(),
                "request_id": request_id.as_deref(),
            });
            if let (Some((elapsed_ms, deadline_ms)), Some(fields)) =
                (self.timing, body.as_object_mut())
            {
                fields.insert("elapsed_ms".to_owned(), elapsed_ms.into());
                fields.insert("deadline_ms".to_owned(), deadline_ms.into());
            }
            body
        };
        (self.status, axum::Json(body)).into_response()
    }
}

/// Names every request: the caller's `X-Request-Id` when it is short and
/// printable, else a new one; answered in the `X-Request-Id` header and
/// available to error responses and log lines.
pub(crate) async fn request_id(request: Request, next: Next) -> Response {
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

/// Gives every API request one deadline, measured from its arrival: the
/// engine's `query_timeout` covers all it does (listing the index, planning,
/// every query, assembling the answer). Past it, the handler is dropped (which
/// aborts its running queries) and the answer is a 504 naming the time spent
/// and the deadline; queries the handler would still start are refused
/// without running (see `query::limits::Deadline`).
pub(crate) async fn request_deadline(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let deadline = Deadline::starting_now(state.engine.options().query_timeout);
    let path = request.uri().path().to_owned();
    let answer = deadline.scope(next.run(request));
    match tokio::time::timeout_at(deadline.at(), answer).await {
        Ok(response) => response,
        Err(_elapsed) => ApiError::from(QueryError::timeout("request", &deadline))
            .for_path(&path)
            .into_response(),
    }
}

/// Whether a path is under one of the Jaeger v1 API's routes, whose errors
/// are answered in the envelope (an unknown path below them too, such as a
/// service name with an unescaped `/`).
pub(crate) fn is_jaeger_v1_path(path: &str) -> bool {
    [
        "/api/services",
        "/api/operations",
        "/api/traces",
        "/api/dependencies",
    ]
    .iter()
    .any(|route| {
        path.strip_prefix(route)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

pub(crate) const REQUEST_ID_HEADER: &str = "x-request-id";

pub(crate) type ApiResult = Result<Response, ApiError>;

pub(crate) fn ok_json(value: impl serde::Serialize) -> ApiResult {
    Ok(axum::Json(value).into_response())
}

/// Whole milliseconds of `duration` (the `elapsed_ms` and `deadline_ms` fields).
fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
