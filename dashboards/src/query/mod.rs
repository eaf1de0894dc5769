//! The query engine: DataFusion over the Parquet index.
//!
//! [`QueryEngine::open`] registers the four tables of the index (`spans`, `logs`,
//! `invocations`, `trace_index`) as Hive-partitioned listing tables with `dt` and
//! `hour` partition columns. Every dashboard query filters on `dt || hour`, so
//! that DataFusion lists and reads only the hours a time range touches.
//!
//! Each query method binds its parameters to one SQL file of `dashboards/queries/`
//! (see [`sql`]) and reads the result into a type of [`model`].
//!
//! Where things are:
//! - `engine`: session setup, opening an index, running one query under the
//!   engine's limits (`limits`: memory, timeout, row caps);
//! - `params`: time ranges, partitions, bound values and their checks;
//! - one module per query family: `traces` (trace search), `trace_by_id`
//!   (partitions of a trace, the trace itself, assembled by `trace`), `logs`,
//!   `services` (services, operations, map, RED), `lambda` (cold starts,
//!   cost) and `correlation`.

mod correlation;
mod engine;
mod error;
mod lambda;
pub mod limits;
pub mod live;
pub mod live_files;
mod logs;
pub mod model;
pub mod params;
pub mod rows;
mod services;
pub mod sql;
pub mod tables;
mod trace;
mod trace_by_id;
mod traces;

pub use engine::{
    DEFAULT_PRICE_PER_GB_SECOND, DEFAULT_SERVE_LIVE_FILES_TTL, EngineOptions, QueryEngine,
};
pub use error::QueryError;
pub use logs::LogSearch;
pub use model::*;
pub use params::{
    HOUR_NS, MAX_LIMIT, PARTITION_SLACK_NS, ParamValue, Params, TimeRange, partition_key,
};
pub use rows::Row;
pub(crate) use trace::SYNTHETIC_ATTRIBUTE;
pub use trace_by_id::trace_request_ids;
pub use traces::TraceSearch;
