//! The routes: every API path to its handler, behind the token and request-id
//! middleware, with the web UI beside them.

use axum::Router;
use axum::http::Uri;
use axum::middleware::{self};
use axum::routing::{get, post};

use super::auth::require_token;
use super::error::{ApiError, request_deadline, request_id};
use super::jaeger::v1::*;
use super::jaeger::v3::*;
use super::state::AppState;
use super::tracelake::*;

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
        .layer(middleware::from_fn_with_state(
            state.clone(),
            request_deadline,
        ))
        .layer(middleware::from_fn(request_id))
        .with_state(state);
    api.merge(crate::web::router())
}

async fn api_not_found(uri: Uri) -> ApiError {
    ApiError::not_found("no such API endpoint").for_path(uri.path())
}
