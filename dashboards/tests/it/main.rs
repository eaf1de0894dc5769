//! The one integration-test binary of tracelake-dashboards (each binary that
//! links DataFusion costs a minute to link).

mod api;
mod browser;
mod drawn_invocations;
mod duckdb;
mod fixture;
mod index_protocol;
mod invocation_services;
mod jaeger;
mod limits;
mod memory_pool;
mod queries;
mod shipped;
mod simulated;
mod trace_lookup;
