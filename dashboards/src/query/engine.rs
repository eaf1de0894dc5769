//! Engine and session setup: the DataFusion session over one index, its
//! tables and object store, and running one query under the engine's limits
//! (see [`limits`]).

use std::path::Path;
use std::sync::Arc;

use arrow::array::RecordBatch;
use datafusion::error::DataFusionError;
use datafusion::execution::context::{SQLOptions, SessionConfig, SessionContext};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::session_state::SessionStateBuilder;
use object_store::aws::AmazonS3Builder;
use serde::de::DeserializeOwned;
use tracelake_index::IndexStore;
use url::Url;

use super::error::QueryError;
use super::error::failure;
use super::params::{HOUR_NS, Params, TimeRange};
use super::rows::{self, Row};
use super::sql::DashboardQuery;
use super::tables::Table;
use super::{limits, live, live_files};

/// The us-east-1 x86 Lambda price per GB-second, in USD.
pub const DEFAULT_PRICE_PER_GB_SECOND: f64 = 0.000_016_666_7;

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
    /// How long one request may take from its arrival (every query, listing
    /// and planning it does included) before it is stopped; outside a request,
    /// how long one query may run.
    pub query_timeout: std::time::Duration,
    /// Most rows ad-hoc SQL returns; the answer says when it was cut.
    pub sql_row_cap: usize,
    /// Most spans one Jaeger search returns, over all its traces.
    pub span_budget: usize,
    /// How long a listing of the index's live files (hours, manifests, raw
    /// segments) is used before it is listed again ([`live_files`]). Zero lists
    /// at every scan; `tracelake serve` keeps listings for
    /// [`DEFAULT_SERVE_LIVE_FILES_TTL`], so new data shows that much later.
    pub live_files_ttl: std::time::Duration,
    /// Bytes of Parquet footers and page indexes kept in memory, shared by all
    /// queries (DataFusion's file metadata cache,
    /// `datafusion.runtime.metadata_cache_limit`), outside the memory pool.
    /// Every scan of a table in a query (each CTE reference is one) and every
    /// later query reads the footers of the same files; the limit must hold
    /// the footers of the hours queried, or the least recently used are
    /// dropped before they are read again and each scan reads them all anew
    /// (docs/dashboards.md, "Hours not yet compacted").
    pub metadata_cache_bytes: usize,
}

/// How long `tracelake serve` keeps a listing of the live files by default:
/// new deliveries and compactions show in the dashboards within this time.
pub const DEFAULT_SERVE_LIVE_FILES_TTL: std::time::Duration = std::time::Duration::from_secs(2);

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
            live_files_ttl: std::time::Duration::ZERO,
            metadata_cache_bytes: limits::DEFAULT_METADATA_CACHE_BYTES,
        }
    }
}

/// DataFusion over one index.
#[derive(Clone)]
pub struct QueryEngine {
    context: SessionContext,
    root: Url,
    pub(super) live: Arc<live_files::LiveFiles>,
    pub(super) options: EngineOptions,
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
        // Canonical, not only absolute: `Url::from_directory_path` keeps a `..`
        // (as `%2E%2E`), which then names no file (`--data ../index`).
        let canonical = path
            .canonicalize()
            .map_err(|error| invalid(error.to_string()))?;
        Url::from_directory_path(&canonical)
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
    ///
    /// # Errors
    ///
    /// [`QueryError::InvalidLocation`] for a URL that does not parse, a scheme other
    /// than `file://` or `s3://`, a local directory that does not exist, or a
    /// location the index store cannot open; [`QueryError::Store`] when the S3
    /// client cannot be built from the environment; [`QueryError::Query`] when
    /// DataFusion's runtime cannot be built. Nothing is read from the index here:
    /// an empty or unreadable index fails at the first query.
    pub async fn open(location: &str, options: EngineOptions) -> Result<QueryEngine, QueryError> {
        let root = root_url(location)?;
        let config = SessionConfig::new()
            .with_information_schema(true)
            .set_bool("datafusion.execution.parquet.pushdown_filters", true)
            .set_bool("datafusion.execution.parquet.reorder_filters", true);
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(limits::memory_pool(options.memory_limit_bytes))
            .with_metadata_cache_limit(options.metadata_cache_bytes)
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
        let live = Arc::new(live_files::LiveFiles::new(index, options.live_files_ttl));
        for table in Table::ALL {
            let provider =
                live::LiveTable::new(table, live.clone(), object_store_url.clone(), root.path());
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
            live,
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
    ///
    /// # Errors
    ///
    /// The query's failure (see [`QueryError`]): [`QueryError::Query`] when
    /// DataFusion refuses the SQL or its parameters or fails reading the files,
    /// [`QueryError::Timeout`] past the deadline, [`QueryError::ResourcesExhausted`]
    /// over the memory limit.
    pub async fn run(
        &self,
        query: &DashboardQuery,
        params: &Params,
    ) -> Result<Vec<Row>, QueryError> {
        let batches = self.run_batches(query, params).await?;
        rows::batches_to_rows(&batches).map_err(|source| QueryError::Decode {
            query: query.name,
            source,
        })
    }

    /// Runs one dashboard SQL file with its parameters.
    async fn run_batches(
        &self,
        query: &DashboardQuery,
        params: &Params,
    ) -> Result<Vec<RecordBatch>, QueryError> {
        let text = query.sql();
        let capped = self
            .bounded_relisting(query.name, None, || {
                let context = self.context.clone();
                let values = params.to_param_values();
                async move {
                    context
                        .sql_with_options(text, read_only())
                        .await?
                        .with_param_values(values)
                }
            })
            .await?;
        Ok(capped.batches)
    }

    /// [`QueryEngine::bounded`], run once more over a fresh listing when it
    /// fails reading a file while listings are kept
    /// ([`EngineOptions::live_files_ttl`]): GC may have deleted a file the kept
    /// listing names (a grace shorter than the TTL plus a query), or a retried
    /// delivery rewritten a raw segment. A failure that persists over a fresh
    /// listing is returned as it is.
    async fn bounded_relisting<F>(
        &self,
        name: &'static str,
        row_cap: Option<usize>,
        plan: impl Fn() -> F,
    ) -> Result<limits::Capped, QueryError>
    where
        F: Future<Output = Result<datafusion::dataframe::DataFrame, DataFusionError>>
            + Send
            + 'static,
    {
        let result = self.bounded(name, row_cap, plan()).await;
        let stale_listing = match &result {
            Err(QueryError::Query { source, .. } | QueryError::Sql(source)) => {
                !self.options.live_files_ttl.is_zero() && limits::is_file_read_failure(source)
            }
            _ => false,
        };
        if !stale_listing {
            return result;
        }
        self.live.forget_listings();
        self.bounded(name, row_cap, plan()).await
    }

    /// Plans and runs one query under the engine's limits: counted in
    /// [`QueryEngine::stats`] until it really stops, stopped with a timeout
    /// error at the request's [`limits::Deadline`] (else at
    /// [`EngineOptions::query_timeout`] from now), cut at `row_cap` rows.
    /// A query whose deadline has already passed is refused without running.
    ///
    /// The query runs in its own task, so that the caller (an HTTP handler)
    /// stays responsive while DataFusion computes: when the caller is dropped
    /// (the client went away) or the deadline passes, the task is aborted and
    /// DataFusion's own tasks with it.
    async fn bounded(
        &self,
        name: &'static str,
        row_cap: Option<usize>,
        plan: impl Future<Output = Result<datafusion::dataframe::DataFrame, DataFusionError>>
        + Send
        + 'static,
    ) -> Result<limits::Capped, QueryError> {
        let deadline = limits::Deadline::current()
            .unwrap_or_else(|| limits::Deadline::starting_now(self.options.query_timeout));
        if deadline.has_passed() {
            return Err(QueryError::timeout(name, &deadline));
        }
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
        match tokio::time::timeout_at(deadline.at(), task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join_error)) => Err(QueryError::Query {
                query: name,
                source: Box::new(DataFusionError::ExecutionJoin(Box::new(join_error))),
            }),
            Err(_elapsed) => Err(QueryError::timeout(name, &deadline)),
        }
    }

    /// Runs one dashboard SQL file and reads each row into a `T`.
    pub(super) async fn run_typed<T: DeserializeOwned>(
        &self,
        query: &DashboardQuery,
        params: &Params,
    ) -> Result<Vec<T>, QueryError> {
        let batches = self.run_batches(query, params).await?;
        rows::decode(&batches).map_err(|source| QueryError::Decode {
            query: query.name,
            source,
        })
    }

    /// Runs read-only ad-hoc SQL over the tables (no DDL, DML or `SET`), cut
    /// at [`EngineOptions::sql_row_cap`] rows.
    ///
    /// # Errors
    ///
    /// [`QueryError::Sql`] when the SQL does not parse, names an unknown table or
    /// column, or is not a read-only statement; [`QueryError::Timeout`] and
    /// [`QueryError::ResourcesExhausted`] as for any query.
    pub async fn sql(&self, text: &str) -> Result<limits::Capped, QueryError> {
        self.bounded_relisting("sql", Some(self.options.sql_row_cap), || {
            let context = self.context.clone();
            let text = text.to_owned();
            async move { context.sql_with_options(&text, read_only()).await }
        })
        .await
    }

    /// A failure to read the index's manifests or listings, as a 5xx-class error.
    pub(super) fn index_read_error(&self, error: impl std::fmt::Display) -> QueryError {
        QueryError::IndexRead {
            location: self.root.to_string(),
            reason: error.to_string(),
        }
    }

    /// The end of default time ranges: the end of the newest hour of spans, so
    /// that a dashboard opened on an index that stopped receiving data (a demo,
    /// a simulator's clock, an archive) shows its last data; now when empty.
    ///
    /// # Errors
    ///
    /// [`QueryError::IndexRead`] when the index's hour directories cannot be
    /// listed (see [`QueryEngine::latest_span_hour`]).
    pub async fn default_end(&self) -> Result<i64, QueryError> {
        let now = TimeRange::last_seconds(0).to_ns;
        let latest = self.latest_span_hour().await?;
        Ok(latest.map_or(now, |hour| hour.saturating_add(HOUR_NS)))
    }

    /// The start (ns) of the latest hour partition that holds data (raw
    /// segments or a manifest), found by listing directories only. `None` for
    /// an empty index.
    ///
    /// # Errors
    ///
    /// [`QueryError::IndexRead`] when the store cannot list the hour directories
    /// or a manifest cannot be read.
    pub async fn latest_span_hour(&self) -> Result<Option<i64>, QueryError> {
        let hours = self
            .live
            .hours()
            .await
            .map_err(|error| self.index_read_error(error))?;
        Ok(hours
            .last()
            .map(tracelake_index::schema::HourPartition::start_nanos))
    }
}

fn read_only() -> SQLOptions {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
}

#[cfg(test)]
mod tests {
    use tracelake_index::IndexWriter;
    use tracelake_index::schema::HourPartition;

    use super::*;

    /// Raw segments of one hour, as one delivery each (spans, logs and
    /// trace_index segments), in a local index.
    async fn raw_hour(segments: u64) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = IndexStore::open(dir.path().to_str().expect("utf-8")).expect("store");
        let writer = IndexWriter::new(store);
        let hour = HourPartition::parse("2026-11-29T05").expect("hour");
        for n in 0..segments {
            let start = hour.start_nanos() + i64::try_from(n).expect("small") * 1_000_000_000;
            let service = format!("service-{}", n % 3);
            tracelake_testkit::index::write_delivery(&writer, n, start, &service).await;
        }
        dir
    }

    async fn engine(dir: &tempfile::TempDir, metadata_cache_bytes: usize) -> QueryEngine {
        let options = EngineOptions {
            metadata_cache_bytes,
            ..EngineOptions::default()
        };
        QueryEngine::open(dir.path().to_str().expect("utf-8"), options)
            .await
            .expect("opens")
    }

    /// The spans footers in the metadata cache: how many, their bytes, and
    /// their hits.
    fn cached_spans(engine: &QueryEngine) -> (usize, usize, Vec<usize>) {
        let cache = engine
            .context()
            .runtime_env()
            .cache_manager
            .get_file_metadata_cache();
        let entries = cache.list_entries();
        let spans: Vec<_> = entries
            .iter()
            .filter(|(path, _)| path.as_ref().contains("/spans/"))
            .map(|(_, entry)| entry)
            .collect();
        (
            spans.len(),
            spans.iter().map(|entry| entry.size_bytes).sum(),
            spans.iter().map(|entry| entry.hits).collect(),
        )
    }

    /// A query that scans `spans` twice (as every CTE reference does) reads
    /// each raw footer once: the second scan, and the next query's, find them
    /// in the cache. With DataFusion's 50 MB default the footers of a few
    /// minutes of raw segments did not fit and every scan read them all again.
    #[tokio::test]
    async fn every_scan_after_the_first_finds_the_raw_footers_in_the_cache() {
        let dir = raw_hour(12).await;
        let engine = engine(&dir, limits::DEFAULT_METADATA_CACHE_BYTES).await;
        let two_scans = "SELECT count(*) AS n FROM spans a JOIN spans b \
                         ON a.trace_id = b.trace_id AND a.span_id = b.span_id \
                         WHERE a.service <> 'none' AND b.service <> 'none'";
        let capped = engine.sql(two_scans).await.expect("runs");
        assert_eq!(
            rows::batches_to_rows(&capped.batches).expect("rows")[0]["n"],
            serde_json::json!(12)
        );
        let (files, bytes, hits) = cached_spans(&engine);
        assert_eq!(files, 12, "one footer per raw spans segment");
        assert!(
            hits.iter().all(|&hits| hits >= 1),
            "second scan hit: {hits:?}"
        );
        engine.sql(two_scans).await.expect("runs");
        let (_, _, hits_after) = cached_spans(&engine);
        assert!(
            hits_after
                .iter()
                .zip(&hits)
                .all(|(after, before)| after >= &(before + 2)),
            "both scans of the next query hit: {hits:?} then {hits_after:?}"
        );
        // The default holds the footers of at least 10,000 raw spans segments
        // (the heaviest table's; the 3-minute demo hour has 2,024 of them and
        // 8,505 segments in all, whose footers took 164 MB in the cache).
        let per_file = bytes / files;
        assert!(
            limits::DEFAULT_METADATA_CACHE_BYTES >= 10_000 * per_file,
            "{per_file} bytes per raw spans footer"
        );
    }

    /// A root named through `..` (`tracelake query --data ../index`) is read:
    /// its URL once kept the `..`, and no file under it was found.
    #[tokio::test]
    async fn a_root_named_through_its_parent_is_read() {
        let dir = raw_hour(2).await;
        let name = dir.path().file_name().expect("a name");
        let through_parent = dir.path().join("..").join(name);
        let engine = QueryEngine::open(
            through_parent.to_str().expect("utf-8"),
            EngineOptions::default(),
        )
        .await
        .expect("opens");
        let spans = engine
            .sql("SELECT count(*) AS n FROM spans")
            .await
            .expect("runs");
        assert_eq!(
            rows::batches_to_rows(&spans.batches).expect("rows")[0]["n"],
            serde_json::json!(2)
        );
    }

    /// The limit is the engine's option: a cache too small for one footer keeps none.
    #[tokio::test]
    async fn the_metadata_cache_limit_is_the_engine_option() {
        let dir = raw_hour(2).await;
        let engine = engine(&dir, 1).await;
        let cache = engine
            .context()
            .runtime_env()
            .cache_manager
            .get_file_metadata_cache();
        assert_eq!(cache.cache_limit(), 1);
        engine
            .sql("SELECT count(DISTINCT service) FROM spans")
            .await
            .expect("runs");
        assert_eq!(cached_spans(&engine).0, 0);
    }
}
