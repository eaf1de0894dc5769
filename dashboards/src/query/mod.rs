//! The query engine: DataFusion over the Parquet index.
//!
//! [`QueryEngine::open`] registers the four tables of the index (`spans`, `logs`,
//! `invocations`, `trace_index`) as Hive-partitioned listing tables with `dt` and
//! `hour` partition columns. Every dashboard query filters on `dt || hour`, so
//! that DataFusion lists and reads only the hours a time range touches.
//!
//! Each query method binds its parameters to one SQL file of `dashboards/queries/`
//! (see [`sql`]) and reads the result into a type of [`model`].

pub mod live;
pub mod model;
pub mod params;
pub mod rows;
pub mod sql;
pub mod tables;
mod trace;

use std::path::Path;
use std::sync::Arc;

use arrow::array::RecordBatch;
use datafusion::error::DataFusionError;
use datafusion::execution::context::{SQLOptions, SessionConfig, SessionContext};
use datafusion::execution::object_store::ObjectStoreUrl;
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
    /// Ad-hoc SQL was rejected or failed.
    #[error("sql failed: {0}")]
    Sql(Box<DataFusionError>),
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
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            price_per_gb_second: DEFAULT_PRICE_PER_GB_SECOND,
            trace_lookback_ns: HOUR_NS,
            trace_lookahead_ns: 6 * HOUR_NS,
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
    /// Most lines returned.
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
            limit: 100,
        }
    }

    /// The bound parameters of `search_logs.sql`.
    pub fn params(&self) -> Result<Params, QueryError> {
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
            .with("limit", ParamValue::Int(Some(positive_limit(self.limit)?))))
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
        let context = SessionContext::new_with_config(config);
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

    /// Runs one dashboard SQL file with its parameters and returns the rows.
    pub async fn run(
        &self,
        query: &DashboardQuery,
        params: &Params,
    ) -> Result<Vec<Row>, QueryError> {
        let failed = |source: DataFusionError| QueryError::Query {
            query: query.name,
            source: Box::new(source),
        };
        let frame = self
            .context
            .sql_with_options(query.sql, read_only())
            .await
            .map_err(failed)?
            .with_param_values(params.to_param_values())
            .map_err(failed)?;
        let batches = frame.collect().await.map_err(failed)?;
        Ok(rows::batches_to_rows(&batches))
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

    /// Runs read-only ad-hoc SQL over the tables (no DDL, DML or `SET`).
    pub async fn sql(&self, text: &str) -> Result<Vec<RecordBatch>, QueryError> {
        let frame = self
            .context
            .sql_with_options(text, read_only())
            .await
            .map_err(|error| QueryError::Sql(Box::new(error)))?;
        frame
            .collect()
            .await
            .map_err(|error| QueryError::Sql(Box::new(error)))
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

    /// The parameters of the logs and invocations of a trace whose spans were
    /// found: the hours from its first span's start to its last span's end,
    /// with [`PARTITION_SLACK_NS`] on both sides. `None` when no span has times.
    pub fn trace_detail_params(&self, trace_id: &TraceId, spans: &[Span]) -> Option<Params> {
        let start = spans.iter().filter_map(|span| span.start_time).min()?;
        let end = spans.iter().filter_map(|span| span.end_time).max()?;
        let range = TimeRange::new(start, end.max(start).saturating_add(1))?;
        Some(self.trace_params(trace_id, Some(range)))
    }

    /// A trace by id (any form `TraceId::parse_any` reads): spans as a tree, logs under their
    /// spans, invocations and cost. `None` when no span of it is found.
    pub async fn trace(
        &self,
        trace_id: &str,
        range: Option<TimeRange>,
    ) -> Result<Option<TraceDetail>, QueryError> {
        let id = TraceId::parse_any(trace_id)
            .map_err(|_| QueryError::InvalidTraceId(trace_id.to_owned()))?;
        let params = self.trace_params(&id, range);
        let spans: Vec<Span> = self.run_typed(&sql::TRACE_SPANS, &params).await?;
        if spans.is_empty() {
            return Ok(None);
        }
        // Logs and invocations are read only around the spans actually found,
        // not over the whole lookup window.
        let params = self.trace_detail_params(&id, &spans).unwrap_or(params);
        let (logs, invocations) = futures::try_join!(
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

    /// Services with spans in the range.
    pub async fn services(&self, range: &TimeRange) -> Result<Vec<ServiceSummary>, QueryError> {
        self.run_typed(&sql::SERVICES, &Params::new().range(range, 0))
            .await
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
            .with("bucket", ParamValue::IntervalSeconds(bucket_seconds));
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

    /// Log lines matching a search, most recent first.
    pub async fn search_logs(&self, search: &LogSearch) -> Result<Vec<LogHit>, QueryError> {
        self.run_typed(&sql::SEARCH_LOGS, &search.params()?).await
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
            .map_err(|error| QueryError::InvalidLocation {
                location: self.root.to_string(),
                reason: error.to_string(),
            })?;
        Ok(hours
            .last()
            .map(tracelake_index::schema::HourPartition::start_nanos))
    }
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
