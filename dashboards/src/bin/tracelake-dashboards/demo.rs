//! `tracelake-dashboards demo --data DIR` (hidden; `tracelake demo` runs it
//! after its report): the services least tied to traces, then the dashboards
//! until Ctrl-C.

use anyhow::Context as _;
use tracelake_dashboards::ServeOptions;
use tracelake_dashboards::query::{EngineOptions, QueryEngine, TimeRange};

/// Arguments of `tracelake-dashboards demo`.
#[derive(clap::Args)]
pub struct DemoArgs {
    /// The index the demo wrote.
    #[arg(long, default_value = super::DEFAULT_DATA)]
    pub data: String,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:7070")]
    pub addr: std::net::SocketAddr,
}

/// Runs the command until Ctrl-C.
pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    if let Err(error) = runtime.block_on(print_least_linked_services(&args.data)) {
        println!("  (the correlation report could not be computed: {error:#})");
    }
    println!();
    runtime
        .block_on(tracelake_dashboards::serve(ServeOptions {
            addr: args.addr,
            ..ServeOptions::new(args.data)
        }))
        .context("serving the dashboards failed")
}

/// The three services whose telemetry is least tied to traces: where to add
/// instrumentation or X-Ray first (`tracelake query correlation` has them all).
async fn print_least_linked_services(data: &str) -> anyhow::Result<()> {
    let engine = QueryEngine::open(data, EngineOptions::default()).await?;
    let end = engine.default_end().await?;
    let week_ns = 7 * 24 * 3_600 * 1_000_000_000_i64;
    let range =
        TimeRange::new(end.saturating_sub(week_ns), end).context("the index has no time range")?;
    let report = engine.correlation(&range).await?;
    println!();
    println!("least linked services (tracelake query correlation)");
    for row in report.iter().take(3) {
        println!(
            "  {:<28} {:>6.3}% lines linked, {} of {} invocations without a trace, {} of {} inbound calls lost their context",
            row.service,
            row.linked_share * 100.0,
            row.invocations_without_trace,
            row.invocations,
            row.inbound_without_context,
            row.inbound_calls
        );
    }
    Ok(())
}
