//! The query engine: DataFusion over the Parquet index.
//!
//! [`QueryEngine::open`] registers the four tables of the index (`spans`, `logs`,
//! `invocations`, `trace_index`) as Hive-partitioned listing tables with `dt` and
//! `hour` partition columns. Every dashboard query filters on `dt || hour`, so
//! that DataFusion lists and reads only the hours a time range touches.
//!
//! Each query method binds its parameters to one SQL file of `dashboards/queries/`
//! (see [`sql`]) and reads the result into a type of [`model`].

mod correlation;
pub mod limits;
pub mod live;
pub mod model;
pub mod params;
pub mod rows;
pub mod sql;
pub mod tables;
mod trace;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use datafusion::error::DataFusionError;
use datafusion::execution::context::{SQLOptions, SessionConfig, SessionContext};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::session_state::SessionStateBuilder;
use object_store::aws::AmazonS3Builder;
use serde::de::DeserializeOwned;
use tracelake_index::IndexStore;
use tracelake_instrumentation::wire::ids::TraceId;
use url::Url;

pub use model::*;
pub use params::{HOUR_NS, ParamValue, Params, TimeRange, partition_key};
pub use rows::Row;
use sql::DashboardQuery;
use tables::Table;

/// The us-east-1 x86 Lambda price per GB-second, in USD.
pub const DEFAULT_PRICE_PER_GB_SECOND: f64 = 0.000_016_666_7;

/// Slack added on both sides of a time range when choosing the hour partitions
/// to read: a table may be partitioned by another time than the one filtered on
/// (an invocation's end versus its start, a log line's arrival).
pub const PARTITION_SLACK_NS: i64 = HOUR_NS;

/// Why a query could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The index location is neither a directory nor a supported URL.
    #[error("invalid index location {location:?}: {reason}")]
    InvalidLocation {
        /// What was given.
        location: String,
        /// Why it was rejected.
        reason: String,
    },
    /// The index's manifests or hour listing could not be read.
    #[error("cannot read the index at {location:?}: {reason}")]
    IndexRead {
        /// The index root.
        location: String,
        /// The store's or manifest's error.
        reason: String,
    },
    /// The object store for the location could not be built.
    #[error("cannot open object store for {location:?}: {source}")]
    Store {
        /// What was given.
        location: String,
        /// The object store's error.
        source: object_store::Error,
    },
    /// Text that is not a trace id in any form `TraceId::parse_any` reads.
    #[error("invalid trace id {0:?}")]
    InvalidTraceId(String),
    /// A parameter outside its domain.
    #[error("invalid parameter {name}: {reason}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// DataFusion rejected or failed a dashboard query.
    #[error("query {query} failed: {source}")]
    Query {
        /// The SQL file name.
        query: &'static str,
        /// DataFusion's error.
        source: Box<DataFusionError>,
    },
    /// Ad-hoc SQL was rejected: bad syntax, unknown table, a value that does
    /// not cast (a client error).
    #[error("sql failed: {0}")]
    Sql(Box<DataFusionError>),
    /// A query ran past the engine's timeout and was stopped.
    #[error("query {query} stopped after the {seconds} s timeout")]
    Timeout {
        /// The SQL file name, or `sql`.
        query: &'static str,
        /// The timeout.
        seconds: f64,
    },
    /// A query needed more memory than the engine's pool allows and could not
    /// spill.
    #[error("query {query} refused: it needs more memory than the {limit_mb} MB limit ({source})")]
    ResourcesExhausted {
        /// The SQL file name, or `sql`.
        query: &'static str,
        /// The pool size.
        limit_mb: usize,
        /// DataFusion's error.
        source: Box<DataFusionError>,
    },
    /// A result row did not have the expected shape.
    #[error("unexpected row from {query}: {source}")]
    Decode {
        /// The SQL file name.
        query: &'static str,
        /// serde's error.
        source: serde_json::Error,
    },
}

/// Settings of a [`QueryEngine`].
#[derive(Debug, Clone, PartialEq)]
pub struct EngineOptions {
    /// USD per GB-second for Lambda cost.
    pub price_per_gb_second: f64,
    /// How long before its X-Ray epoch a trace's spans are looked for.
    pub trace_lookback_ns: i64,
    /// How long after its X-Ray epoch a trace's spans are looked for. Async hops
    /// (queues, Step Functions) can continue a trace long after it began.
    pub trace_lookahead_ns: i64,
    /// Size of the memory pool shared by all queries; operators that can
    /// spill (sorts, aggregations) spill to disk past it, others fail.
    pub memory_limit_bytes: usize,
    /// How long one query may run before it is stopped.
    pub query_timeout: std::time::Duration,
    /// Most rows ad-hoc SQL returns; the answer says when it was cut.
    pub sql_row_cap: usize,
    /// Most spans one Jaeger search returns, over all its traces.
    pub span_budget: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            price_per_gb_second: DEFAULT_PRICE_PER_GB_SECOND,
            trace_lookback_ns: HOUR_NS,
            trace_lookahead_ns: 6 * HOUR_NS,
            memory_limit_bytes: limits::DEFAULT_MEMORY_LIMIT_BYTES,
            query_timeout: limits::DEFAULT_QUERY_TIMEOUT,
            sql_row_cap: limits::DEFAULT_SQL_ROW_CAP,
            span_budget: limits::DEFAULT_SPAN_BUDGET,
        }
    }
}

/// Filters of a trace search. Every filter given must hold for one span of a
/// trace; the summary covers all its spans in the range.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceSearch {
    /// Span start times searched.
    pub range: TimeRange,
    /// Service name.
    pub service: Option<String>,
    /// Span name.
    pub operation: Option<String>,
    /// Span kind.
    pub kind: Option<String>,
    /// Minimum span duration in nanoseconds.
    pub min_duration_ns: Option<i64>,
    /// Maximum span duration in nanoseconds.
    pub max_duration_ns: Option<i64>,
    /// Only spans with status error.
    pub errors_only: bool,
    /// Span attribute equalities (at most [`TraceSearch::MAX_ATTRIBUTES`]).
    pub attributes: Vec<(String, String)>,
    /// Most traces returned.
    pub limit: i64,
}

impl TraceSearch {
    /// How many attribute filters one search takes.
    pub const MAX_ATTRIBUTES: usize = 3;

    /// A search of `range` with no filters and a limit of 20.
    pub fn new(range: TimeRange) -> TraceSearch {
        TraceSearch {
            range,
            service: None,
            operation: None,
            kind: None,
            min_duration_ns: None,
            max_duration_ns: None,
            errors_only: false,
            attributes: Vec::new(),
            limit: 20,
        }
    }

    /// The bound parameters of `search_traces.sql`.
    pub fn params(&self) -> Result<Params, QueryError> {
        if self.attributes.len() > Self::MAX_ATTRIBUTES {
            return Err(QueryError::InvalidParameter {
                name: "attributes",
                reason: format!(
                    "{} attribute filters given, at most {} are supported",
                    self.attributes.len(),
                    Self::MAX_ATTRIBUTES
                ),
            });
        }
        let mut params = Params::new()
            .range(&self.range, 0)
            .text("service", self.service.as_deref())
            .text("operation", self.operation.as_deref())
            .text("kind", self.kind.as_deref())
            .with("min_duration_ns", ParamValue::Int(self.min_duration_ns))
            .with("max_duration_ns", ParamValue::Int(self.max_duration_ns))
            .with("errors_only", ParamValue::Bool(self.errors_only))
            .with("limit", ParamValue::Int(Some(positive_limit(self.limit)?)));
        for slot in 0..Self::MAX_ATTRIBUTES {
            let pair = self.attributes.get(slot);
            params = params
                .text(
                    &format!("attribute_key_{}", slot + 1),
                    pair.map(|(key, _)| key.as_str()),
                )
                .text(
                    &format!("attribute_value_{}", slot + 1),
                    pair.map(|(_, value)| value.as_str()),
                );
        }
        Ok(params)
    }
}

/// Filters of a log search.
#[derive(Debug, Clone, PartialEq)]
pub struct LogSearch {
    /// Log timestamps searched.
    pub range: TimeRange,
    /// Case-insensitive substring of the message.
    pub text: Option<String>,
    /// Level (`ERROR`, …).
    pub level: Option<String>,
    /// Service.
    pub service: Option<String>,
    /// Trace.
    pub trace_id: Option<String>,
    /// Lambda request id (exact).
    pub request_id: Option<String>,
    /// Most lines returned; the answer says when more matched.
    pub limit: i64,
}

impl LogSearch {
    /// A search of `range` with no filters and a limit of 100.
    pub fn new(range: TimeRange) -> LogSearch {
        LogSearch {
            range,
            text: None,
            level: None,
            service: None,
            trace_id: None,
            request_id: None,
            limit: 100,
        }
    }

    /// The bound parameters of `search_logs.sql`.
    pub fn params(&self) -> Result<Params, QueryError> {
        // One more than asked, to tell the caller whether it was cut.
        Ok(self.filter_params()?.with(
            "limit",
            ParamValue::Int(Some(positive_limit(self.limit)?.saturating_add(1))),
        ))
    }

    /// The filters alone (no limit), as `log_histogram.sql` takes them.
    pub fn filter_params(&self) -> Result<Params, QueryError> {
        let trace_id = match &self.trace_id {
            Some(text) => Some(
                TraceId::parse_any(text)
                    .map_err(|_| QueryError::InvalidTraceId(text.clone()))?
                    .to_string(),
            ),
            None => None,
        };
        Ok(Params::new()
            .range(&self.range, PARTITION_SLACK_NS)
            .text("text", self.text.as_deref())
            .text("level", self.level.as_deref())
            .text("service", self.service.as_deref())
            .text("trace_id", trace_id.as_deref())
            .text("request_id", self.request_id.as_deref()))
    }
}

/// The most rows a query may be asked for.
pub const MAX_LIMIT: i64 = 10_000;

fn positive_limit(limit: i64) -> Result<i64, QueryError> {
    if (1..=MAX_LIMIT).contains(&limit) {
        Ok(limit)
    } else {
        Err(QueryError::InvalidParameter {
            name: "limit",
            reason: format!("{limit} is not between 1 and {MAX_LIMIT}"),
        })
    }
}

/// DataFusion over one index.
#[derive(Clone)]
pub struct QueryEngine {
    context: SessionContext,
    root: Url,
    index: IndexStore,
    options: EngineOptions,
    stats: Arc<limits::QueryStats>,
}

impl std::fmt::Debug for QueryEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryEngine")
            .field("root", &self.root.as_str())
            .field("options", &self.options)
            .finish()
    }
}

/// The URL of an index root given as a local directory or an `s3://` / `file://` URL.
fn root_url(location: &str) -> Result<Url, QueryError> {
    let invalid = |reason: String| QueryError::InvalidLocation {
        location: location.to_owned(),
        reason,
    };
    let mut url = if location.contains("://") {
        let url = Url::parse(location).map_err(|error| invalid(error.to_string()))?;
        match url.scheme() {
            "s3" | "file" => url,
            other => return Err(invalid(format!("unsupported scheme {other:?}"))),
        }
    } else {
        let path = Path::new(location);
        if !path.is_dir() {
            return Err(invalid("no such directory".to_owned()));
        }
        let absolute = std::path::absolute(path).map_err(|error| invalid(error.to_string()))?;
        Url::from_directory_path(&absolute)
            .map_err(|()| invalid("not an absolute path".to_owned()))?
    };
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

impl QueryEngine {
    /// Opens the index at `location`: a local directory, `file://…` or
    /// `s3://bucket/prefix` (credentials and region from the usual AWS
    /// environment variables, `AWS_ENDPOINT_URL` and `AWS_ALLOW_HTTP` included).
    pub async fn open(location: &str, options: EngineOptions) -> Result<QueryEngine, QueryError> {
        let root = root_url(location)?;
        let config = SessionConfig::new()
            .with_information_schema(true)
            .set_bool("datafusion.execution.parquet.pushdown_filters", true)
            .set_bool("datafusion.execution.parquet.reorder_filters", true);
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(limits::memory_pool(options.memory_limit_bytes))
            .build_arc()
            .map_err(|error| QueryError::Query {
                query: "runtime",
                source: Box::new(error),
            })?;
        let state = SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(runtime)
            .with_default_features()
            .with_physical_optimizer_rule(Arc::new(limits::YieldEveryOperator))
            .build();
        let context = SessionContext::new_with_state(state);
        if root.scheme() == "s3" {
            let store = AmazonS3Builder::from_env()
                .with_url(root.as_str())
                .build()
                .map_err(|source| QueryError::Store {
                    location: location.to_owned(),
                    source,
                })?;
            let bucket_url = Url::parse(&format!("s3://{}", root.host_str().unwrap_or("")))
                .map_err(|error| QueryError::InvalidLocation {
                    location: location.to_owned(),
                    reason: error.to_string(),
                })?;
            context.register_object_store(&bucket_url, Arc::new(store));
        }
        let time_bucket = datafusion::functions::datetime::date_bin()
            .as_ref()
            .clone()
            .with_aliases(["time_bucket"]);
        context.register_udf(time_bucket);

        // Each table reads the live files of each hour, never a glob (`live`).
        let index = if root.scheme() == "file" {
            let path = root
                .to_file_path()
                .map_err(|()| QueryError::InvalidLocation {
                    location: location.to_owned(),
                    reason: "not a local path".to_owned(),
                })?;
            IndexStore::open_existing(&path.to_string_lossy())
        } else {
            IndexStore::open(root.as_str())
        }
        .map_err(|error| QueryError::InvalidLocation {
            location: location.to_owned(),
            reason: error.to_string(),
        })?;
        let object_store_url = if root.scheme() == "s3" {
            ObjectStoreUrl::parse(format!("s3://{}", root.host_str().unwrap_or("")))
        } else {
            Ok(ObjectStoreUrl::local_filesystem())
        }
        .map_err(|error| QueryError::InvalidLocation {
            location: location.to_owned(),
            reason: error.to_string(),
        })?;
        for table in Table::ALL {
            let provider =
                live::LiveTable::new(table, index.clone(), object_store_url.clone(), root.path());
            context
                .register_table(table.name(), Arc::new(provider))
                .map_err(|error| QueryError::Query {
                    query: table.name(),
                    source: Box::new(error),
                })?;
        }
        Ok(QueryEngine {
            context,
            root,
            index,
            options,
            stats: Arc::default(),
        })
    }

    /// The index root as a URL.
    pub fn root(&self) -> &Url {
        &self.root
    }

    /// The engine's settings.
    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    /// The DataFusion session, for callers that register more tables.
    pub fn context(&self) -> &SessionContext {
        &self.context
    }

    /// How many queries ran and are running.
    pub fn stats(&self) -> &limits::QueryStats {
        &self.stats
    }

    /// Runs one dashboard SQL file with its parameters and returns the rows.
    pub async fn run(
        &self,
        query: &DashboardQuery,
        params: &Params,
    ) -> Result<Vec<Row>, QueryError> {
        let context = self.context.clone();
        let text = query.sql;
        let values = params.to_param_values();
        let capped = self
            .bounded(query.name, None, async move {
                context
                    .sql_with_options(text, read_only())
                    .await?
                    .with_param_values(values)
            })
            .await?;
        Ok(rows::batches_to_rows(&capped.batches))
    }

    /// Plans and runs one query under the engine's limits: counted in
    /// [`QueryEngine::stats`] until it really stops, answered with a timeout
    /// error at [`EngineOptions::query_timeout`], cut at `row_cap` rows.
    ///
    /// The query runs in its own task, so that the caller (an HTTP handler)
    /// stays responsive while DataFusion computes: when the caller is dropped
    /// (the client went away) or the timeout passes, the task is aborted and
    /// DataFusion's own tasks with it.
    async fn bounded(
        &self,
        name: &'static str,
        row_cap: Option<usize>,
        plan: impl Future<Output = Result<datafusion::dataframe::DataFrame, DataFusionError>>
        + Send
        + 'static,
    ) -> Result<limits::Capped, QueryError> {
        let running = self.stats.begin();
        let limit_bytes = self.options.memory_limit_bytes;
        let task = tokio::spawn(async move {
            let _running = running;
            let frame = plan.await.map_err(|error| {
                // Ad-hoc SQL that does not plan is the client's mistake.
                if name == "sql"
                    && limits::failure_kind(&error) != limits::FailureKind::ResourcesExhausted
                {
                    QueryError::Sql(Box::new(error))
                } else {
                    failure(name, limit_bytes, error)
                }
            })?;
            limits::collect_capped(frame, row_cap)
                .await
                .map_err(|error| failure(name, limit_bytes, error))
        });
        let _abort = limits::AbortOnDrop(task.abort_handle());
        match tokio::time::timeout(self.options.query_timeout, task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join_error)) => Err(QueryError::Query {
                query: name,
                source: Box::new(DataFusionError::ExecutionJoin(Box::new(join_error))),
            }),
            Err(_elapsed) => Err(QueryError::Timeout {
                query: name,
                seconds: self.options.query_timeout.as_secs_f64(),
            }),
        }
    }

    async fn run_typed<T: DeserializeOwned>(
        &self,
        query: &DashboardQuery,
        params: &Params,
    ) -> Result<Vec<T>, QueryError> {
        self.run(query, params)
            .await?
            .into_iter()
            .map(|row| {
                serde_json::from_value(serde_json::Value::Object(row)).map_err(|source| {
                    QueryError::Decode {
                        query: query.name,
                        source,
                    }
                })
            })
            .collect()
    }

    /// Runs read-only ad-hoc SQL over the tables (no DDL, DML or `SET`), cut
    /// at [`EngineOptions::sql_row_cap`] rows.
    pub async fn sql(&self, text: &str) -> Result<limits::Capped, QueryError> {
        let context = self.context.clone();
        let text = text.to_owned();
        self.bounded("sql", Some(self.options.sql_row_cap), async move {
            context.sql_with_options(&text, read_only()).await
        })
        .await
    }

    /// The time range a trace lookup scans: the given one, else around the
    /// X-Ray epoch of the id, else everything.
    pub fn trace_range(&self, trace_id: &TraceId, given: Option<TimeRange>) -> Option<TimeRange> {
        if let Some(range) = given {
            return Some(range);
        }
        let epoch_ns = i64::from(trace_id.xray_epoch_seconds()?) * 1_000_000_000;
        TimeRange::new(
            epoch_ns.saturating_sub(self.options.trace_lookback_ns),
            epoch_ns.saturating_add(self.options.trace_lookahead_ns),
        )
    }

    /// The parameters of the three trace-by-id queries.
    pub fn trace_params(&self, trace_id: &TraceId, given: Option<TimeRange>) -> Params {
        let (from, to) = match self.trace_range(trace_id, given) {
            Some(range) => range.partitions(PARTITION_SLACK_NS),
            // Lexically below and above every `YYYY-MM-DDHH`.
            None => ("0".to_owned(), "A".to_owned()),
        };
        Params::new()
            .text("trace_id", Some(&trace_id.to_string()))
            .text("partition_from", Some(&from))
            .text("partition_to", Some(&to))
    }

    /// The hour partitions (`YYYY-MM-DDHH`) in which `trace_index` lists the
    /// trace, sorted.
    pub async fn trace_hours(&self, trace_id: &TraceId) -> Result<Vec<String>, QueryError> {
        #[derive(serde::Deserialize)]
        struct Hour {
            partition: String,
        }
        let params = Params::new().text("trace_id", Some(&trace_id.to_string()));
        let hours: Vec<Hour> = self.run_typed(&sql::TRACE_HOURS, &params).await?;
        Ok(hours.into_iter().map(|hour| hour.partition).collect())
    }

    /// A failure to read the index's manifests or listings, as a 5xx-class error.
    fn index_read_error(&self, error: impl std::fmt::Display) -> QueryError {
        QueryError::IndexRead {
            location: self.root.to_string(),
            reason: error.to_string(),
        }
    }

    /// The hour partitions (`YYYY-MM-DDHH`) whose live files include raw
    /// segments that no manifest covers yet: hours whose `trace_index` may not
    /// list every trace (a raw segment's `trace_index` rows come from its spans
    /// only; compaction rebuilds them from every table).
    pub async fn uncompacted_hours(&self) -> Result<BTreeSet<String>, QueryError> {
        let hours = tracelake_index::compact::hours_needing_compaction(&self.index)
            .await
            .map_err(|error| self.index_read_error(error))?;
        Ok(hours
            .iter()
            .map(|hour| partition_key(hour.start_nanos()))
            .collect())
    }

    /// The hour partitions a trace lookup reads, as `(from, to)` bounds of
    /// `dt || hour`, or `None` when the trace is in no hour.
    ///
    /// The hours `trace_index` lists, plus, from the hours with raw segments
    /// (see [`QueryEngine::uncompacted_hours`]): the neighbours of those hours
    /// (a raw hour's logs may follow its spans into the next hour), and when
    /// `trace_index` knows nothing of the trace, the raw hours around its X-Ray
    /// epoch, or every raw hour when the id has no plausible epoch or no raw
    /// hour lies around it (a W3C id's random first digits often read as one).
    pub async fn trace_partitions(
        &self,
        trace_id: &TraceId,
    ) -> Result<Option<(String, String)>, QueryError> {
        let (indexed, raw) =
            futures::try_join!(self.trace_hours(trace_id), self.uncompacted_hours())?;
        let mut hours: BTreeSet<String> = indexed.iter().cloned().collect();
        for hour in &indexed {
            if let Some(start) = partition_start_ns(hour) {
                for neighbour in [start - HOUR_NS, start + HOUR_NS] {
                    let key = partition_key(neighbour);
                    if raw.contains(&key) {
                        hours.insert(key);
                    }
                }
            }
        }
        if indexed.is_empty() {
            // A W3C id's first 8 hex digits are random, yet 70% of them read
            // as an epoch between 2010 and 2100: when the hint names no raw
            // hour, the id is not taken for an X-Ray one and every raw hour is read.
            let hinted: Vec<String> = match self.trace_range(trace_id, None) {
                Some(hint) => {
                    let (from, to) = hint.partitions(PARTITION_SLACK_NS);
                    raw.range(from..=to).cloned().collect()
                }
                None => Vec::new(),
            };
            if hinted.is_empty() {
                hours.extend(raw);
            } else {
                hours.extend(hinted);
            }
        }
        Ok(hours.first().cloned().zip(hours.last().cloned()))
    }

    /// A trace by id (W3C, X-Ray, 16 hex digits or hex with leading zeros
    /// dropped): spans as a tree, logs under their spans, invocations and cost.
    /// A trace with logs or invocations but no span is found too. `None` when
    /// nothing of it is found.
    ///
    /// Without `range`, the hours are found with [`QueryEngine::trace_partitions`].
    pub async fn trace(
        &self,
        trace_id: &str,
        range: Option<TimeRange>,
    ) -> Result<Option<TraceDetail>, QueryError> {
        let id = TraceId::parse_any(trace_id)
            .map_err(|_| QueryError::InvalidTraceId(trace_id.to_owned()))?;
        let params = match range {
            Some(range) => self.trace_params(&id, Some(range)),
            None => match self.trace_partitions(&id).await? {
                Some((from, to)) => Params::new()
                    .text("trace_id", Some(&id.to_string()))
                    .text("partition_from", Some(&from))
                    .text("partition_to", Some(&to)),
                None => return Ok(None),
            },
        };
        let (spans, logs, invocations) = futures::try_join!(
            self.run_typed::<Span>(&sql::TRACE_SPANS, &params),
            self.run_typed::<LogLine>(&sql::TRACE_LOGS, &params),
            self.run_typed::<Invocation>(&sql::TRACE_INVOCATIONS, &params),
        )?;
        Ok(trace::assemble(
            &id.to_string(),
            spans,
            logs,
            invocations,
            self.options.price_per_gb_second,
        ))
    }

    /// Traces matching a search, most recent first.
    pub async fn search_traces(
        &self,
        search: &TraceSearch,
    ) -> Result<Vec<TraceSummary>, QueryError> {
        let mut found: Vec<TraceSummary> = self
            .run_typed(&sql::SEARCH_TRACES, &search.params()?)
            .await?;
        for summary in &mut found {
            summary.duration_ns = match (summary.trace_start, summary.trace_end) {
                (Some(start), Some(end)) => end.saturating_sub(start),
                _ => 0,
            };
        }
        Ok(found)
    }

    /// Full traces for a Jaeger search in one query: the spans of the matching
    /// traces (no logs or invocations), at most [`EngineOptions::span_budget`]
    /// spans in all. The flag is true when the budget cut the answer (the last
    /// trace may then miss spans, and older matches are left out).
    pub async fn search_trace_spans(
        &self,
        search: &TraceSearch,
    ) -> Result<(Vec<TraceDetail>, bool), QueryError> {
        let budget = i64::try_from(self.options.span_budget).unwrap_or(i64::MAX);
        let params = search
            .params()?
            .with("span_budget", ParamValue::Int(Some(budget)));
        let spans: Vec<Span> = self.run_typed(&sql::SEARCH_TRACE_SPANS, &params).await?;
        let truncated = spans.len() >= self.options.span_budget;
        let mut by_trace: Vec<(String, Vec<Span>)> = Vec::new();
        for span in spans {
            match by_trace.last_mut() {
                Some((trace_id, list)) if *trace_id == span.trace_id => list.push(span),
                _ => by_trace.push((span.trace_id.clone(), vec![span])),
            }
        }
        let traces = by_trace
            .into_iter()
            .filter_map(|(trace_id, spans)| {
                trace::assemble(
                    &trace_id,
                    spans,
                    Vec::new(),
                    Vec::new(),
                    self.options.price_per_gb_second,
                )
            })
            .collect();
        Ok((traces, truncated))
    }

    /// The correlation report over the range: per service, its log lines by
    /// link kind, its invocations without a trace and the calls to it whose
    /// context did not arrive, worst first (see `correlation.rs`).
    pub async fn correlation(
        &self,
        range: &TimeRange,
    ) -> Result<Vec<ServiceCorrelation>, QueryError> {
        let params = Params::new().range(range, PARTITION_SLACK_NS);
        let (logs, invocations, calls) = futures::try_join!(
            self.run_typed::<CorrelationLogs>(&sql::CORRELATION_LOGS, &params),
            self.run_typed::<CorrelationInvocations>(&sql::CORRELATION_INVOCATIONS, &params),
            self.run_typed::<CorrelationCalls>(&sql::CORRELATION_CALLS, &params),
        )?;
        Ok(correlation::merge(logs, invocations, calls))
    }

    /// Services with spans in the range, with their tags (see
    /// [`ServiceSummary::tags`]).
    pub async fn services(&self, range: &TimeRange) -> Result<Vec<ServiceSummary>, QueryError> {
        let params = Params::new().range(range, 0);
        let (mut services, tags) = futures::try_join!(
            self.run_typed::<ServiceSummary>(&sql::SERVICES, &params),
            self.run_typed::<ServiceTag>(&sql::SERVICE_TAGS, &params),
        )?;
        ServiceSummary::attach_tags(&mut services, &tags);
        Ok(services)
    }

    /// Operations of one service, optionally of one span kind.
    pub async fn operations(
        &self,
        range: &TimeRange,
        service: &str,
        kind: Option<&str>,
    ) -> Result<Vec<Operation>, QueryError> {
        let params = Params::new()
            .range(range, 0)
            .text("service", Some(service))
            .text("kind", kind);
        self.run_typed(&sql::OPERATIONS, &params).await
    }

    /// Edges of the service map over spans starting in the range.
    pub async fn service_map(&self, range: &TimeRange) -> Result<Vec<ServiceEdge>, QueryError> {
        self.run_typed(&sql::SERVICE_MAP, &Params::new().range(range, 0))
            .await
    }

    /// RED series per service and operation, in buckets of `bucket_seconds`.
    pub async fn red(
        &self,
        range: &TimeRange,
        service: Option<&str>,
        operation: Option<&str>,
        bucket_seconds: i64,
    ) -> Result<Vec<RedPoint>, QueryError> {
        self.red_series(range, service, operation, bucket_seconds, true)
            .await
    }

    /// RED series per service (all its operations together: the percentiles
    /// are over all its entry spans), in buckets of `bucket_seconds`.
    pub async fn service_red(
        &self,
        range: &TimeRange,
        service: Option<&str>,
        bucket_seconds: i64,
    ) -> Result<Vec<RedPoint>, QueryError> {
        self.red_series(range, service, None, bucket_seconds, false)
            .await
    }

    async fn red_series(
        &self,
        range: &TimeRange,
        service: Option<&str>,
        operation: Option<&str>,
        bucket_seconds: i64,
        by_operation: bool,
    ) -> Result<Vec<RedPoint>, QueryError> {
        if !(1..=86_400).contains(&bucket_seconds) || 86_400 % bucket_seconds != 0 {
            return Err(QueryError::InvalidParameter {
                name: "bucket",
                reason: format!("{bucket_seconds} s does not divide a day evenly"),
            });
        }
        let params = Params::new()
            .range(range, 0)
            .text("service", service)
            .text("operation", operation)
            .with("bucket", ParamValue::IntervalSeconds(bucket_seconds))
            .with("by_operation", ParamValue::Bool(by_operation));
        let mut points: Vec<RedPoint> = self.run_typed(&sql::RED, &params).await?;
        for point in &mut points {
            point.rate_per_second = point.request_count as f64 / bucket_seconds as f64;
            point.error_rate = ratio(point.error_count, point.request_count);
        }
        Ok(points)
    }

    /// Cold starts per function over invocations ending in the range.
    pub async fn cold_starts(
        &self,
        range: &TimeRange,
        function: Option<&str>,
    ) -> Result<Vec<ColdStarts>, QueryError> {
        let params = Params::new()
            .range(range, PARTITION_SLACK_NS)
            .text("function", function);
        let mut rows: Vec<ColdStarts> = self.run_typed(&sql::COLD_STARTS, &params).await?;
        for row in &mut rows {
            row.cold_start_rate = ratio(row.cold_starts, row.invocations);
        }
        Ok(rows)
    }

    fn cost_params(&self, range: &TimeRange, limit: i64) -> Result<Params, QueryError> {
        Ok(Params::new()
            .range(range, PARTITION_SLACK_NS)
            .with(
                "price_per_gb_second",
                ParamValue::Float(self.options.price_per_gb_second),
            )
            .with("limit", ParamValue::Int(Some(positive_limit(limit)?))))
    }

    /// Lambda cost per function, most expensive first.
    pub async fn cost_by_function(
        &self,
        range: &TimeRange,
        limit: i64,
    ) -> Result<Vec<FunctionCost>, QueryError> {
        self.run_typed(&sql::COST_FUNCTIONS, &self.cost_params(range, limit)?)
            .await
    }

    /// Lambda cost per trace, most expensive first.
    pub async fn cost_by_trace(
        &self,
        range: &TimeRange,
        limit: i64,
    ) -> Result<Vec<TraceCost>, QueryError> {
        self.run_typed(&sql::COST_TRACES, &self.cost_params(range, limit)?)
            .await
    }

    /// Log lines matching a search, most recent first, at most `limit` of
    /// them; [`LogPage::truncated`] says when more matched.
    pub async fn search_logs(&self, search: &LogSearch) -> Result<LogPage, QueryError> {
        let mut lines: Vec<LogHit> = self.run_typed(&sql::SEARCH_LOGS, &search.params()?).await?;
        let limit = usize::try_from(search.limit).unwrap_or(usize::MAX);
        let truncated = lines.len() > limit;
        lines.truncate(limit);
        for line in &mut lines {
            line.text =
                trace::readable_platform_text(line.format.as_deref(), line.message.as_deref());
        }
        Ok(LogPage {
            lines,
            limit: search.limit,
            truncated,
        })
    }

    /// Lines matching a log search (its limit aside) per level and bucket of
    /// `bucket_seconds`, for a volume histogram.
    pub async fn log_histogram(
        &self,
        search: &LogSearch,
        bucket_seconds: i64,
    ) -> Result<Vec<LogVolume>, QueryError> {
        if !(1..=86_400).contains(&bucket_seconds) || 86_400 % bucket_seconds != 0 {
            return Err(QueryError::InvalidParameter {
                name: "bucket",
                reason: format!("{bucket_seconds} s does not divide a day evenly"),
            });
        }
        let params = search
            .filter_params()?
            .with("bucket", ParamValue::IntervalSeconds(bucket_seconds));
        self.run_typed(&sql::LOG_HISTOGRAM, &params).await
    }

    /// The end of default time ranges: the end of the newest hour of spans, so
    /// that a dashboard opened on an index that stopped receiving data (a demo,
    /// a simulator's clock, an archive) shows its last data; now when empty.
    pub async fn default_end(&self) -> Result<i64, QueryError> {
        let now = TimeRange::last_seconds(0).to_ns;
        let latest = self.latest_span_hour().await?;
        Ok(latest.map_or(now, |hour| hour.saturating_add(HOUR_NS)))
    }

    /// The start (ns) of the latest hour partition that holds data (raw
    /// segments or a manifest), found by listing directories only. `None` for
    /// an empty index.
    pub async fn latest_span_hour(&self) -> Result<Option<i64>, QueryError> {
        let hours = tracelake_index::manifest::hours(&self.index)
            .await
            .map_err(|error| self.index_read_error(error))?;
        Ok(hours
            .last()
            .map(tracelake_index::schema::HourPartition::start_nanos))
    }
}

/// A DataFusion failure as the caller can act on it.
fn failure(name: &'static str, limit_bytes: usize, error: DataFusionError) -> QueryError {
    match limits::failure_kind(&error) {
        limits::FailureKind::ResourcesExhausted => QueryError::ResourcesExhausted {
            query: name,
            limit_mb: limit_bytes >> 20,
            source: Box::new(error),
        },
        limits::FailureKind::Rejected if name == "sql" => QueryError::Sql(Box::new(error)),
        _ => QueryError::Query {
            query: name,
            source: Box::new(error),
        },
    }
}

/// The start of an hour partition `YYYY-MM-DDHH`, in ns.
fn partition_start_ns(key: &str) -> Option<i64> {
    let day = chrono::NaiveDate::parse_from_str(key.get(..10)?, "%Y-%m-%d").ok()?;
    let hour: u32 = key.get(10..)?.parse().ok()?;
    day.and_hms_opt(hour, 0, 0)?.and_utc().timestamp_nanos_opt()
}

fn ratio(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn read_only() -> SQLOptions {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
}
