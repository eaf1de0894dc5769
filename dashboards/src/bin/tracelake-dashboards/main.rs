//! `tracelake-dashboards`: the commands that run the query engine
//! (DataFusion), `serve` and `query`, in a binary of their own. `tracelake
//! serve` and `tracelake query` run it (docs/build.md, "Two binaries"), so
//! that `tracelake` itself, with the collector, the simulator and the demo,
//! builds without DataFusion: most of a fresh clone's build.

mod demo;
mod limits;
mod query;
mod serve;

use clap::{Parser, Subcommand};

/// The query engine's allocator: the one the collector and `tracelake` use
/// (docs/collector.md, "Allocator"); it took 1–18% off the queries' CPU.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The index root used when `--data` is not given.
const DEFAULT_DATA: &str = tracelake_index::store::DEFAULT_ROOT;

/// The dashboards of tracelake: `serve` and `query` (also run as `tracelake serve` and `tracelake query`).
#[derive(Parser)]
#[command(name = "tracelake-dashboards", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the dashboards (web UI, JSON API, Jaeger API) over the index.
    Serve(serve::ServeArgs),
    /// Query the index: trace, search, services, map, red, coldstarts, cost, logs, sql.
    Query(query::QueryArgs),
    /// The end of `tracelake demo`: the least linked services, then the dashboards.
    #[command(hide = true)]
    Demo(demo::DemoArgs),
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
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(colour_stderr())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Query(args) => query::run(args),
        Command::Demo(args) => demo::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
