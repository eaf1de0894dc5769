//! `tracelake serve`: the dashboards (web UI, JSON API, Jaeger API) over an index.

use std::net::SocketAddr;

use anyhow::Context;
use tracelake_dashboards::ServeOptions;
use tracelake_dashboards::query::{DEFAULT_PRICE_PER_GB_SECOND, EngineOptions};

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
}

/// Runs the command until Ctrl-C.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let options = ServeOptions {
        data: args.data,
        addr: args.addr,
        token: args.token,
        engine: EngineOptions {
            price_per_gb_second: args.price_per_gb_second,
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
