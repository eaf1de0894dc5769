//! `tracelake query …`: the dashboard queries from the terminal, as tables or JSON.

use anyhow::Context;
use serde_json::Value;
use tracelake_dashboards::api::params::{BucketSeconds, parse_go_duration, parse_time};
use tracelake_dashboards::query::{
    DEFAULT_PRICE_PER_GB_SECOND, EngineOptions, LogSearch, QueryEngine, TimeRange, TraceSearch,
    rows,
};

mod output;

use output::{emit, output, print_json, trace_text};

/// Arguments of `tracelake query`.
#[derive(clap::Args)]
pub struct QueryArgs {
    /// The index: a directory, `file://…` or `s3://bucket/prefix`.
    #[arg(long, global = true, default_value = super::DEFAULT_DATA)]
    pub data: String,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
    /// Start of the time range (RFC 3339 or epoch ms). Default: `--lookback` before `--to`.
    #[arg(long, global = true)]
    pub from: Option<String>,
    /// End of the time range (RFC 3339 or epoch ms). Default: now, or the end of
    /// the newest data when it lies in the future.
    #[arg(long, global = true)]
    pub to: Option<String>,
    /// Length of the time range when `--from` is not given (Go duration).
    #[arg(long, global = true, default_value = "1h")]
    pub lookback: String,
    /// Lambda price in USD per GB-second (default: us-east-1 x86).
    #[arg(long, global = true, default_value_t = DEFAULT_PRICE_PER_GB_SECOND)]
    pub price_per_gb_second: f64,
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
        trace_id: String,
    },
    /// Search traces.
    Search {
        /// Service that has a matching span.
        #[arg(long)]
        service: Option<String>,
        /// Span name.
        #[arg(long)]
        operation: Option<String>,
        /// Minimum span duration (Go duration, e.g. 250ms).
        #[arg(long)]
        min_duration: Option<String>,
        /// Maximum span duration.
        #[arg(long)]
        max_duration: Option<String>,
        /// Only spans with status error.
        #[arg(long)]
        errors: bool,
        /// Span attribute equality `key=value` (repeatable, up to 3).
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// Most traces shown.
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// Services with span, trace and error counts.
    Services,
    /// Operations of a service.
    Operations {
        /// The service.
        service: String,
    },
    /// The service map: edges with calls, errors and latency.
    Map,
    /// Rate, errors and duration per service and operation over time buckets.
    Red {
        /// Only this service.
        #[arg(long)]
        service: Option<String>,
        /// Only this operation.
        #[arg(long)]
        operation: Option<String>,
        /// Bucket width: a Go duration of whole seconds dividing a day.
        #[arg(long, default_value = "1m")]
        bucket: BucketSeconds,
    },
    /// Cold starts per function.
    Coldstarts {
        /// Only this function.
        #[arg(long)]
        function: Option<String>,
    },
    /// Lambda cost per function or per trace.
    Cost {
        /// `function` or `trace`.
        #[arg(long, default_value = "function")]
        by: String,
        /// Most rows shown.
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// Search log lines.
    Logs {
        /// Case-insensitive text in the message.
        #[arg(long, short = 'q')]
        text: Option<String>,
        /// Level (INFO, ERROR, …).
        #[arg(long)]
        level: Option<String>,
        /// Service.
        #[arg(long)]
        service: Option<String>,
        /// Trace id.
        #[arg(long)]
        trace_id: Option<String>,
        /// Lambda request id: every line of one invocation.
        #[arg(long)]
        request_id: Option<String>,
        /// Most lines shown.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
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
    let to = match &args.to {
        Some(text) => parse_time("--to", text).map_err(anyhow::Error::msg)?,
        None => engine.default_end().await?,
    };
    let from = match &args.from {
        Some(text) => parse_time("--from", text).map_err(anyhow::Error::msg)?,
        None => to.saturating_sub(parse_go_duration(&args.lookback).map_err(anyhow::Error::msg)?),
    };
    TimeRange::new(from, to).context("the time range is empty: --from must be before --to")
}

fn duration_ns(text: &Option<String>) -> anyhow::Result<Option<i64>> {
    text.as_deref()
        .map(parse_go_duration)
        .transpose()
        .map_err(anyhow::Error::msg)
}

async fn run_async(args: QueryArgs) -> anyhow::Result<()> {
    let engine = QueryEngine::open(
        &args.data,
        EngineOptions {
            price_per_gb_second: args.price_per_gb_second,
            ..EngineOptions::default()
        },
    )
    .await?;
    let json = args.json;
    match &args.query {
        QueryCommand::Trace { trace_id } => {
            let given = match (&args.from, &args.to) {
                (Some(_), Some(_)) => Some(range(&engine, &args).await?),
                _ => None,
            };
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
        QueryCommand::Search {
            service,
            operation,
            min_duration,
            max_duration,
            errors,
            tags,
            limit,
        } => {
            let mut search = TraceSearch::new(range(&engine, &args).await?);
            search.service = service.clone();
            search.operation = operation.clone();
            search.min_duration_ns = duration_ns(min_duration)?;
            search.max_duration_ns = duration_ns(max_duration)?;
            search.errors_only = *errors;
            search.limit = *limit;
            for tag in tags {
                let (key, value) = tag
                    .split_once('=')
                    .with_context(|| format!("--tag must be key=value, got {tag:?}"))?;
                search.attributes.push((key.to_owned(), value.to_owned()));
            }
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
        QueryCommand::Operations { service } => {
            let found = engine
                .operations(&range(&engine, &args).await?, service, None)
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
        QueryCommand::Red {
            service,
            operation,
            bucket,
        } => {
            let found = engine
                .red(
                    &range(&engine, &args).await?,
                    service.as_deref(),
                    operation.as_deref(),
                    bucket.seconds(),
                )
                .await?;
            output(
                json,
                serde_json::to_value(&found)?,
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
        QueryCommand::Coldstarts { function } => {
            let found = engine
                .cold_starts(&range(&engine, &args).await?, function.as_deref())
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
        QueryCommand::Cost { by, limit } => {
            let range = range(&engine, &args).await?;
            match by.as_str() {
                "function" => output(
                    json,
                    serde_json::to_value(engine.cost_by_function(&range, *limit).await?)?,
                    &[
                        ("FUNCTION", "function"),
                        ("INVOCATIONS", "invocations"),
                        ("GB-SECONDS", "gb_seconds"),
                        ("COST USD", "cost_usd"),
                    ],
                ),
                "trace" => output(
                    json,
                    serde_json::to_value(engine.cost_by_trace(&range, *limit).await?)?,
                    &[
                        ("TRACE", "trace_id"),
                        ("INVOCATIONS", "invocations"),
                        ("FUNCTIONS", "functions"),
                        ("COST USD", "cost_usd"),
                    ],
                ),
                other => anyhow::bail!("--by must be function or trace, got {other:?}"),
            }
        }
        QueryCommand::Logs {
            text,
            level,
            service,
            trace_id,
            request_id,
            limit,
        } => {
            let mut search = LogSearch::new(range(&engine, &args).await?);
            search.text = text.clone();
            search.level = level.as_ref().map(|level| level.to_uppercase());
            search.service = service.clone();
            search.trace_id = trace_id.clone();
            search.request_id = request_id.clone();
            search.limit = *limit;
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
                    rows::batches_to_rows(&batches)
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
