//! The `tracelake` command: argument parsing and wiring only. Each subcommand
//! lives in its own module under `cli/` and calls library functions.

mod cli;

use clap::{Parser, Subcommand};

/// The collector's allocator (docs/collector.md, "Allocator"), for `tracelake
/// ingest`, `compact` and the demo as for the Lambda.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Distributed tracing and log aggregation for fleets of AWS Lambda microservices.
#[derive(Parser)]
#[command(name = "tracelake", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Ingest CloudWatch Logs subscription payloads (files, directories or `-` for stdin) into the index.
    Ingest(cli::ingest::IngestArgs),
    /// Compact hour partitions: merge their segments into one file per table, dedupe, sort by trace.
    Compact(cli::compact::CompactArgs),
    /// Delete segments and files that no manifest references any more, after a grace period.
    Gc(cli::compact::GcArgs),
    /// Print DuckDB CREATE VIEW statements over the live files of a local index.
    DuckdbView(cli::compact::DuckdbViewArgs),
    /// Print row counts per table and partition of the index.
    Stats(cli::stats::StatsArgs),
    /// Simulate a fleet of Lambda services: write CloudWatch payloads and the ground truth.
    Simulate(cli::simulate::SimulateArgs),
    /// Simulate a fleet, ingest it, and report correlation precision and recall.
    Demo(cli::demo::DemoArgs),
    /// Serve the dashboards (web UI, JSON API, Jaeger API) over the index (runs `tracelake-dashboards serve`).
    Serve(cli::dashboards::ForwardedArgs),
    /// Query the index: trace, search, services, map, red, coldstarts, cost, logs, sql (runs `tracelake-dashboards query`).
    Query(cli::dashboards::ForwardedArgs),
    /// Subscribe log groups, backfill history and show status in AWS (CloudWatch Logs).
    Aws(cli::aws::AwsArgs),
    /// Serve a Firehose HTTP endpoint destination that writes into the index.
    Firehose(cli::firehose::FirehoseArgs),
}

/// Colour for a terminal only, and not when `NO_COLOR` is set (no-color.org):
/// escape codes in a file that stderr was redirected to are noise, and
/// `with_ansi` overrides tracing-subscriber's own `NO_COLOR` check.
fn colour_stderr() -> bool {
    use std::io::IsTerminal as _;
    std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // The pipeline's own telemetry (quarantined payloads, per-batch counters at
    // `RUST_LOG=tracelake=info`) goes to stderr; warnings show by default,
    // except aws-config's about each credential provider that found nothing:
    // `tracelake aws` says in one line what is missing.
    const DEFAULT_FILTER: &str = "warn,aws_config=error";
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(colour_stderr())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_FILTER)),
        )
        .init();
    let result = match cli.command {
        Command::Ingest(args) => cli::ingest::run(args),
        Command::Stats(args) => cli::stats::run(args),
        Command::Compact(args) => cli::compact::run(args),
        Command::Gc(args) => cli::compact::run_gc(args),
        Command::DuckdbView(args) => cli::compact::run_duckdb_view(args),
        Command::Simulate(args) => cli::simulate::run(args),
        Command::Demo(args) => cli::demo::run(args),
        Command::Serve(forwarded) => cli::dashboards::run("serve", &forwarded.args),
        Command::Query(forwarded) => cli::dashboards::run("query", &forwarded.args),
        Command::Aws(args) => cli::aws::run(args),
        Command::Firehose(args) => cli::firehose::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
