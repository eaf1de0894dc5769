//! `tracelake serve`: the dashboards (web UI, JSON API, Jaeger API) over an index.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use tracelake_dashboards::ServeOptions;
use tracelake_dashboards::api::params::parse_go_duration;
use tracelake_dashboards::query::{DEFAULT_PRICE_PER_GB_SECOND, EngineOptions, limits};

use super::limits::{LimitArgs, parse_positive};

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
    /// Memory, time and SQL row limits (shared with `tracelake query`).
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Most spans one Jaeger search returns over all its traces (at least 1).
    #[arg(long, default_value_t = limits::DEFAULT_SPAN_BUDGET, value_parser = parse_positive)]
    pub span_budget: usize,
    /// How long a listing of the index's live files (hours, manifests, raw
    /// segments) is reused before the index is listed again; new data shows
    /// up to this much later. `0s` lists at every query.
    #[arg(long, default_value = "2s", value_parser = parse_ttl)]
    pub live_files_ttl: Duration,
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
        engine: args.limits.apply(EngineOptions {
            price_per_gb_second: args.price_per_gb_second,
            span_budget: args.span_budget,
            live_files_ttl: args.live_files_ttl,
            ..EngineOptions::default()
        }),
    };
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(tracelake_dashboards::serve(options))
        .context("tracelake serve failed")
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Command {
        #[command(flatten)]
        serve: ServeArgs,
    }

    fn parse(args: &[&str]) -> Result<ServeArgs, clap::Error> {
        Command::try_parse_from(std::iter::once("serve").chain(args.iter().copied()))
            .map(|command| command.serve)
    }

    #[test]
    fn every_limit_flag_refuses_zero() {
        for flag in [
            "--memory-limit-mb",
            "--query-timeout",
            "--sql-row-cap",
            "--span-budget",
        ] {
            let error = parse(&[flag, "0"])
                .err()
                .unwrap_or_else(|| panic!("{flag} 0 is refused"));
            assert_eq!(
                error.kind(),
                clap::error::ErrorKind::ValueValidation,
                "{flag}"
            );
            assert!(error.to_string().contains(flag), "{flag}: {error}");
        }
    }

    #[test]
    fn a_live_files_ttl_of_zero_lists_at_every_query() {
        let args = parse(&["--live-files-ttl", "0s", "--span-budget", "7"]).expect("parses");
        assert_eq!(args.live_files_ttl, Duration::ZERO);
        assert_eq!(args.span_budget, 7);
    }
}
