//! # tracelake-dashboards
//!
//! Everything that reads the tracelake index, in data-flow order:
//!
//! - [`query`]: DataFusion over the Hive-partitioned Parquet index. A
//!   [`query::QueryEngine`] answers trace by id, trace search, services and
//!   operations, the service map, RED, cold starts, cost and log search, each
//!   from one SQL file of `dashboards/queries/`.
//! - [`params`]: the parameters of each query, one struct per kind, read by
//!   the API from the query string and by the CLI with clap.
//! - [`api`]: the axum routes: tracelake's JSON API, the Jaeger v1 and v3 APIs
//!   ([`api::jaeger`] holds every Jaeger shape), bearer-token auth.
//! - [`web`]: the web UI, its assets embedded in the binary.
//! - [`serve()`]: binds 127.0.0.1:7070 (by default) and serves all of it.
//!
//! ```no_run
//! # async fn example() -> Result<(), tracelake_dashboards::query::QueryError> {
//! use tracelake_dashboards::query::{EngineOptions, QueryEngine, TimeRange};
//!
//! let engine = QueryEngine::open("./tracelake-data", EngineOptions::default()).await?;
//! let last_hour = TimeRange::last_seconds(3600);
//! for edge in engine.service_map(&last_hour).await? {
//!     println!("{} -> {}: {} calls", edge.parent, edge.child, edge.call_count);
//! }
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

pub mod api;
pub mod params;
pub mod query;
pub mod serve;
pub mod web;

pub use serve::{ServeError, ServeOptions, Server, serve};
