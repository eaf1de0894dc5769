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
//! pool allows, 504 when the request runs past its deadline (`query_timeout`
//! from its arrival, whatever it spent the time on; the body names
//! `elapsed_ms` and `deadline_ms`). Client errors stay 4xx.

mod auth;
mod error;
pub mod jaeger;
pub mod params;
mod routes;
mod state;
mod tracelake;

pub use error::ApiError;
pub use routes::router;
pub use state::AppState;
