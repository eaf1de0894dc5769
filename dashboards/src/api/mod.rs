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

mod auth;
mod error;
pub mod jaeger;
pub mod params;
mod tracelake;

pub use error::ApiError;

use std::sync::Arc;

use auth::require_token;
use axum::Router;
use axum::middleware::{self};
use axum::routing::{get, post};
use error::request_id;
use jaeger::v1::*;
use jaeger::v3::*;
use tracelake::*;

use crate::query::QueryEngine;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The query engine.
    pub engine: QueryEngine,
    /// The bearer token every API call must carry, if any.
    pub token: Option<Arc<str>>,
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
