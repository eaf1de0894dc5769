//! `tracelake query …`: the dashboard queries from the terminal, as tables or JSON.

use anyhow::Context;
use serde_json::Value;
use tracelake_dashboards::params::values::{TraceIdFilter, name_str};
use tracelake_dashboards::params::{
    ColdStartParams, CostGrouping, CostParams, LogSearchParams, OperationsParams, RangeParams,
    RedGrouping, RedParams, TraceSearchParams,
};
use tracelake_dashboards::query::{
    DEFAULT_PRICE_PER_GB_SECOND, EngineOptions, QueryEngine, TimeRange, rows,
};

mod output;

use output::{emit, output, print_json, trace_text};

/// Arguments of `tracelake query`. The query parameters are the API's
/// (`tracelake_dashboards::params`), read by clap: the same text gets the same
/// answer on both sides.
#[derive(clap::Args)]
pub struct QueryArgs {
    /// The index: a directory, `file://…` or `s3://bucket/prefix`.
    #[arg(long, global = true, default_value = super::DEFAULT_DATA)]
    pub data: String,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
    /// The time range.
    #[command(flatten)]
    pub range: RangeParams,
    /// Lambda price in USD per GB-second (default: us-east-1 x86).
    #[arg(long, global = true, default_value_t = DEFAULT_PRICE_PER_GB_SECOND)]
    pub price_per_gb_second: f64,
    /// Memory, time and SQL row limits (the same flags as `tracelake serve`).
    #[command(flatten)]
    pub limits: super::limits::LimitArgs,
    #[command(subcommand)]
    pub query: QueryCommand,
}

/// One query.
#[derive(clap::Subcommand)]
pub enum QueryCommand {
    /// A trace by id (X-Ray, 32 hex, 16 hex or leading zeros dropped): waterfall,
    /// logs, invocations, cost.
    Trace {
        /// The trace id.
        trace_id: TraceIdFilter,
    },
    /// Search traces.
    Search(TraceSearchParams),
    /// Services with span, trace and error counts.
    Services,
    /// Operations of a service.
    Operations(OperationsParams),
    /// The service map: edges with calls, errors and latency.
    Map,
    /// Rate, errors and duration per service and operation over time buckets.
    Red(RedParams),
    /// Cold starts per function.
    Coldstarts(ColdStartParams),
    /// Lambda cost per function or per trace.
    Cost(CostParams),
    /// Search log lines.
    Logs(LogSearchParams),
    /// Per service, how much of its telemetry is tied to traces, worst first:
    /// log lines by link kind, invocations without a trace, inbound calls whose
    /// trace context did not arrive.
    Correlation {
        /// Show only the worst N services (all when 0).
        #[arg(long, default_value_t = 0)]
        top: usize,
    },
    /// Read-only SQL over the tables spans, logs, invocations and trace_index.
    Sql {
        /// The statement.
        sql: String,
    },
}

/// Runs the command.
pub fn run(args: QueryArgs) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(run_async(args))
}

async fn range(engine: &QueryEngine, args: &QueryArgs) -> anyhow::Result<TimeRange> {
    Ok(args.range.resolve(engine).await?)
}

async fn run_async(args: QueryArgs) -> anyhow::Result<()> {
    let engine = QueryEngine::open(
        &args.data,
        args.limits.apply(EngineOptions {
            price_per_gb_second: args.price_per_gb_second,
            ..EngineOptions::default()
        }),
    )
    .await?;
    let json = args.json;
    match &args.query {
        QueryCommand::Trace {
            trace_id: TraceIdFilter(trace_id),
        } => {
            let given = args.range.explicit()?;
            let trace = engine
                .trace(trace_id, given)
                .await?
                .with_context(|| format!("trace {trace_id} not found"))?;
            if json {
                print_json(&serde_json::to_value(&trace)?)
            } else {
                emit(&trace_text(&trace))
            }
        }
        QueryCommand::Search(params) => {
            let search = params.search(range(&engine, &args).await?);
            let found = engine.search_traces(&search).await?;
            output(
                json,
                serde_json::to_value(&found)?,
                &[
                    ("TRACE", "trace_id"),
                    ("START", "trace_start"),
                    ("DURATION", "duration_ns"),
                    ("SPANS", "span_count"),
                    ("ERRORS", "error_count"),
                    ("ROOT SERVICE", "root_service"),
                    ("ROOT", "root_name"),
                ],
            )
        }
        QueryCommand::Services => {
            let found = engine.services(&range(&engine, &args).await?).await?;
            output(
                json,
                serde_json::to_value(&found)?,
                &[
                    ("SERVICE", "service"),
                    ("SPANS", "span_count"),
                    ("TRACES", "trace_count"),
                    ("ERRORS", "error_count"),
                ],
            )
        }
        QueryCommand::Operations(params) => {
            let found = engine
                .operations(
                    &range(&engine, &args).await?,
                    &params.service.0,
                    params.kind_str(),
                )
                .await?;
            output(
                json,
                serde_json::to_value(&found)?,
                &[
                    ("OPERATION", "name"),
                    ("KIND", "kind"),
                    ("SPANS", "span_count"),
                ],
            )
        }
        QueryCommand::Map => {
            let found = engine.service_map(&range(&engine, &args).await?).await?;
            output(
                json,
                serde_json::to_value(&found)?,
                &[
                    ("PARENT", "parent"),
                    ("CHILD", "child"),
                    ("KIND", "kind"),
                    ("CALLS", "call_count"),
                    ("ERRORS", "error_count"),
                    ("P50", "p50_ns"),
                    ("P99", "p99_ns"),
                ],
            )
        }
        QueryCommand::Red(params) => {
            let range = range(&engine, &args).await?;
            let (service, operation) = (name_str(&params.service), name_str(&params.operation));
            let found = match params.grouping()? {
                RedGrouping::Operation => serde_json::to_value(
                    engine
                        .red(&range, service, operation, params.bucket_seconds())
                        .await?,
                )?,
                RedGrouping::Service => serde_json::to_value(
                    engine
                        .service_red(&range, service, params.bucket_seconds())
                        .await?,
                )?,
            };
            output(
                json,
                found,
                &[
                    ("SERVICE", "service"),
                    ("OPERATION", "operation"),
                    ("BUCKET", "bucket"),
                    ("REQUESTS", "request_count"),
                    ("RATE/S", "rate_per_second"),
                    ("ERROR RATE", "error_rate"),
                    ("P50", "p50_ns"),
                    ("P90", "p90_ns"),
                    ("P99", "p99_ns"),
                ],
            )
        }
        QueryCommand::Coldstarts(params) => {
            let found = engine
                .cold_starts(&range(&engine, &args).await?, name_str(&params.function))
                .await?;
            output(
                json,
                serde_json::to_value(&found)?,
                &[
                    ("FUNCTION", "function"),
                    ("INVOCATIONS", "invocations"),
                    ("COLD STARTS", "cold_starts"),
                    ("RATE", "cold_start_rate"),
                    ("INIT P50 MS", "init_p50_ms"),
                    ("INIT P99 MS", "init_p99_ms"),
                ],
            )
        }
        QueryCommand::Cost(params) => {
            let range = range(&engine, &args).await?;
            match params.by.unwrap_or_default() {
                CostGrouping::Function => output(
                    json,
                    serde_json::to_value(engine.cost_by_function(&range, params.limit()).await?)?,
                    &[
                        ("FUNCTION", "function"),
                        ("INVOCATIONS", "invocations"),
                        ("GB-SECONDS", "gb_seconds"),
                        ("COST USD", "cost_usd"),
                    ],
                ),
                CostGrouping::Trace => output(
                    json,
                    serde_json::to_value(engine.cost_by_trace(&range, params.limit()).await?)?,
                    &[
                        ("TRACE", "trace_id"),
                        ("INVOCATIONS", "invocations"),
                        ("FUNCTIONS", "functions"),
                        ("COST USD", "cost_usd"),
                    ],
                ),
            }
        }
        QueryCommand::Logs(params) => {
            let search = params.search(range(&engine, &args).await?);
            let found = engine.search_logs(&search).await?;
            if found.truncated {
                eprintln!(
                    "tracelake: more than {} lines match; showing the most recent (raise --limit or narrow the search)",
                    found.limit
                );
            }
            output(
                json,
                serde_json::to_value(&found.lines)?,
                &[
                    ("TIME", "timestamp"),
                    ("LEVEL", "level"),
                    ("SERVICE", "service"),
                    ("TRACE", "trace_id"),
                    ("MESSAGE", "message"),
                ],
            )
        }
        QueryCommand::Correlation { top } => {
            let mut found = engine.correlation(&range(&engine, &args).await?).await?;
            if *top > 0 {
                found.truncate(*top);
            }
            output(
                json,
                serde_json::to_value(&found)?,
                &[
                    ("SERVICE", "service"),
                    ("GAP", "gap"),
                    ("LINES", "log_lines"),
                    ("LINKED", "linked_share"),
                    ("BY TRACE", "by_trace_id"),
                    ("BY REQUEST", "by_request_id"),
                    ("BY STREAM", "by_stream"),
                    ("UNLINKED", "unlinked"),
                    ("INVOCATIONS", "invocations"),
                    ("NO TRACE", "invocations_without_trace"),
                    ("INBOUND", "inbound_calls"),
                    ("CONTEXT LOST", "inbound_without_context"),
                ],
            )
        }
        QueryCommand::Sql { sql } => {
            let capped = engine.sql(sql).await?;
            let batches = capped.batches;
            if capped.truncated {
                eprintln!(
                    "tracelake: only the first {} rows are shown (the row cap); add a LIMIT or an aggregate",
                    engine.options().sql_row_cap
                );
            }
            if json {
                print_json(&Value::from(
                    rows::batches_to_rows(&batches)?
                        .into_iter()
                        .map(Value::Object)
                        .collect::<Vec<_>>(),
                ))
            } else {
                emit(&format!("{}\n", rows::pretty_table(&batches)?))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Command {
        #[command(flatten)]
        query: QueryArgs,
    }

    fn parse(args: &[&str]) -> Result<QueryArgs, clap::Error> {
        Command::try_parse_from(std::iter::once("query").chain(args.iter().copied()))
            .map(|command| command.query)
    }

    #[test]
    fn the_limit_flags_of_serve_apply_before_or_after_the_query() {
        let before = parse(&[
            "--query-timeout",
            "5s",
            "--memory-limit-mb",
            "64",
            "services",
        ])
        .expect("flags before the query");
        let after = parse(&[
            "sql",
            "SELECT 1",
            "--query-timeout",
            "5s",
            "--sql-row-cap",
            "3",
        ])
        .expect("flags after the query");
        assert_eq!(before.limits.query_timeout, Duration::from_secs(5));
        assert_eq!(before.limits.memory_limit_mb, 64);
        let options = after.limits.apply(EngineOptions::default());
        assert_eq!(options.query_timeout, Duration::from_secs(5));
        assert_eq!(options.sql_row_cap, 3);
        assert_eq!(
            options.memory_limit_bytes,
            tracelake_dashboards::query::limits::DEFAULT_MEMORY_LIMIT_BYTES
        );
    }

    #[test]
    fn a_zero_limit_is_refused() {
        for flag in ["--memory-limit-mb", "--query-timeout", "--sql-row-cap"] {
            let error = parse(&["services", flag, "0"])
                .err()
                .unwrap_or_else(|| panic!("{flag} 0 is refused"));
            assert_eq!(
                error.kind(),
                clap::error::ErrorKind::ValueValidation,
                "{flag}"
            );
        }
    }
}
