//! `tracelake serve`: the dashboards (web UI, JSON API, Jaeger API) over an index.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use tracelake_dashboards::ServeOptions;
use tracelake_dashboards::api::params::parse_go_duration;
use tracelake_dashboards::query::{DEFAULT_PRICE_PER_GB_SECOND, EngineOptions, limits};

/// Arguments of `tracelake serve`.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// The index: a directory, `file://…` or `s3://bucket/prefix`.
    #[arg(long, default_value = super::DEFAULT_DATA)]
    pub data: String,
    /// The address to listen on. Only 127.0.0.1 unless you choose otherwise.
    #[arg(long, default_value = "127.0.0.1:7070")]
    pub addr: SocketAddr,
    /// Require `Authorization: Bearer <TOKEN>` on every API call.
    #[arg(long)]
    pub token: Option<String>,
    /// Lambda price in USD per GB-second, for cost (default: us-east-1 x86).
    #[arg(long, default_value_t = DEFAULT_PRICE_PER_GB_SECOND)]
    pub price_per_gb_second: f64,
    /// Memory all queries together may hold, in MiB; sorts and aggregations
    /// spill to disk past it, other queries fail with a 503.
    #[arg(long, default_value_t = limits::DEFAULT_MEMORY_LIMIT_BYTES >> 20)]
    pub memory_limit_mb: usize,
    /// How long one API request may take from its arrival, every query it
    /// runs included, before it is stopped with a 504 (`30s`, `2m`).
    #[arg(long, default_value = "30s", value_parser = parse_timeout)]
    pub query_timeout: Duration,
    /// Most rows ad-hoc SQL returns (the answer says when it was cut).
    #[arg(long, default_value_t = limits::DEFAULT_SQL_ROW_CAP)]
    pub sql_row_cap: usize,
    /// Most spans one Jaeger search returns over all its traces.
    #[arg(long, default_value_t = limits::DEFAULT_SPAN_BUDGET)]
    pub span_budget: usize,
    /// How long a listing of the index's live files (hours, manifests, raw
    /// segments) is reused before the index is listed again; new data shows
    /// up to this much later. `0s` lists at every query.
    #[arg(long, default_value = "2s", value_parser = parse_ttl)]
    pub live_files_ttl: Duration,
}

fn parse_timeout(text: &str) -> Result<Duration, String> {
    let nanos = parse_go_duration(text)?;
    if nanos <= 0 {
        return Err(format!("the timeout must be positive, got {text:?}"));
    }
    Ok(Duration::from_nanos(nanos.unsigned_abs()))
}

fn parse_ttl(text: &str) -> Result<Duration, String> {
    let nanos = parse_go_duration(text)?;
    if nanos < 0 {
        return Err(format!("the TTL cannot be negative, got {text:?}"));
    }
    Ok(Duration::from_nanos(nanos.unsigned_abs()))
}

/// Runs the command until Ctrl-C.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let options = ServeOptions {
        data: args.data,
        addr: args.addr,
        token: args.token,
        engine: EngineOptions {
            price_per_gb_second: args.price_per_gb_second,
            memory_limit_bytes: args.memory_limit_mb.saturating_mul(1 << 20),
            query_timeout: args.query_timeout,
            sql_row_cap: args.sql_row_cap,
            span_budget: args.span_budget,
            live_files_ttl: args.live_files_ttl,
            ..EngineOptions::default()
        },
    };
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(tracelake_dashboards::serve(options))
        .context("tracelake serve failed")
}
