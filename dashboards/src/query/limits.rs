//! Guard rails around every query: a memory pool shared by all queries, a
//! deadline, row caps, and counters that say how many queries ran and how many
//! are running.
//!
//! Deadline: one per request, measured from its arrival ([`Deadline`]). The
//! HTTP layer sets it for everything a request does (planning, listing the
//! index, every query, assembling the answer); a query started past it is
//! refused without running, a running one is stopped at it. Outside a request
//! (the CLI) each query gets the timeout from its own start.
//!
//! Cancellation: a query runs in its own task, which owns its DataFusion
//! stream; DataFusion aborts the tasks it spawned when that stream is dropped.
//! The caller aborts the query's task when it stops waiting: at the timeout, or
//! when axum drops the handler because the client went away.
//! [`QueryStats::active`] counts a query until its task has really ended, which
//! is how a test or an operator sees that it happened.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::config::ConfigOptions;
use datafusion::dataframe::DataFrame;
use datafusion::error::DataFusionError;
use datafusion::execution::memory_pool::{FairSpillPool, MemoryPool, TrackConsumersPool};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::coop::CooperativeExec;
use futures::StreamExt;

/// Default size of the memory pool shared by all queries of an engine.
pub const DEFAULT_MEMORY_LIMIT_BYTES: usize = 2 << 30;

/// The default size of the Parquet metadata cache
/// ([`EngineOptions::metadata_cache_bytes`](super::EngineOptions::metadata_cache_bytes)):
/// 512 MiB. A raw segment's footer and page index take 16 KB in it on
/// average (29 KB for spans): the 3-minute demo hour's 8,505 segments took
/// 164 MB, more than three times DataFusion's 50 MB default, so that each scan
/// found none of the footers it needed (least recently used first out). 512
/// MiB holds about 30,000 raw segments, some 10 minutes of the demo fleet's
/// per-delivery files, more than the 5-minute compaction schedule leaves raw
/// (docs/deploy.md); compacted files' footers are a few per hour.
pub const DEFAULT_METADATA_CACHE_BYTES: usize = 512 << 20;

/// Default time one query may run.
pub const DEFAULT_QUERY_TIMEOUT: Duration = Duration::from_secs(30);

/// Default most rows ad-hoc SQL returns.
pub const DEFAULT_SQL_ROW_CAP: usize = 10_000;

/// Default most spans one Jaeger search returns (Quickwit's `max_fetch_spans`
/// is the same idea).
pub const DEFAULT_SPAN_BUDGET: usize = 10_000;

/// A memory pool of `bytes` that lets operators which can spill (sorts,
/// aggregations) spill to disk, and names the largest consumers when a query
/// is refused.
pub fn memory_pool(bytes: usize) -> Arc<dyn MemoryPool> {
    let top = std::num::NonZeroUsize::new(3).unwrap_or(std::num::NonZeroUsize::MIN);
    Arc::new(TrackConsumersPool::new(FairSpillPool::new(bytes), top))
}

/// When the work of one request must be done: its arrival plus the engine's
/// timeout. Every query of the request shares it (see the module's notes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    arrived: Instant,
    timeout: Duration,
    at: Instant,
}

tokio::task_local! {
    /// The deadline of the request being answered, set by [`Deadline::scope`].
    static DEADLINE: Deadline;
}

impl Deadline {
    /// A deadline `timeout` from now (far in the future when that overflows).
    pub fn starting_now(timeout: Duration) -> Deadline {
        let arrived = Instant::now();
        let at = arrived
            .checked_add(timeout)
            .unwrap_or_else(|| arrived + Duration::from_secs(100 * 365 * 86_400));
        Deadline {
            arrived,
            timeout,
            at,
        }
    }

    /// The deadline of the surrounding [`Deadline::scope`], if any.
    pub fn current() -> Option<Deadline> {
        DEADLINE.try_with(|deadline| *deadline).ok()
    }

    /// Runs `work` with this deadline: every query it runs on any engine
    /// shares it.
    pub async fn scope<F: Future>(self, work: F) -> F::Output {
        DEADLINE.scope(self, work).await
    }

    /// The instant past which the work is stopped.
    pub fn at(&self) -> Instant {
        self.at
    }

    /// The time allowed, from arrival.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Time since arrival.
    pub fn elapsed(&self) -> Duration {
        self.arrived.elapsed()
    }

    /// True once the deadline has passed.
    pub fn has_passed(&self) -> bool {
        Instant::now() >= self.at
    }
}

/// Counts of queries, shared by the clones of an engine.
#[derive(Debug, Default)]
pub struct QueryStats {
    started: AtomicU64,
    finished: AtomicU64,
}

impl QueryStats {
    /// Queries started since the engine opened.
    pub fn started(&self) -> u64 {
        self.started.load(Ordering::SeqCst)
    }

    /// Queries running now: started and neither finished, failed, timed out
    /// nor dropped.
    pub fn active(&self) -> u64 {
        self.started() - self.finished.load(Ordering::SeqCst)
    }

    /// Counts a query as running until the guard is dropped.
    pub(super) fn begin(self: &Arc<Self>) -> RunningQuery {
        self.started.fetch_add(1, Ordering::SeqCst);
        RunningQuery(Arc::clone(self))
    }
}

/// One running query; dropping it (finished or cancelled) counts it as done.
pub(super) struct RunningQuery(Arc<QueryStats>);

impl Drop for RunningQuery {
    fn drop(&mut self) {
        self.0.finished.fetch_add(1, Ordering::SeqCst);
    }
}

/// Makes every operator of a plan give the tokio scheduler a turn now and
/// then: each operator's output stream is wrapped in DataFusion's
/// [`CooperativeExec`], which spends the task's tokio budget per batch.
///
/// DataFusion wraps only scans and exchanges by default, so an operator that
/// makes many batches from few inputs (a cross join) could run for minutes
/// without yielding, and neither the timeout nor an abort would reach it.
#[derive(Debug, Default)]
pub struct YieldEveryOperator;

impl PhysicalOptimizerRule for YieldEveryOperator {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>, DataFusionError> {
        plan.transform_up(|node| {
            let already = node.is::<CooperativeExec>();
            if already || node.children().is_empty() {
                return Ok(Transformed::no(node));
            }
            Ok(Transformed::yes(
                Arc::new(CooperativeExec::new(node)) as Arc<dyn ExecutionPlan>
            ))
        })
        .map(|transformed| transformed.data)
    }

    fn name(&self) -> &str {
        "YieldEveryOperator"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Aborts a spawned query when the caller stops waiting for it.
pub(super) struct AbortOnDrop(pub(super) tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Result batches, cut at a row cap.
#[derive(Debug)]
pub struct Capped {
    /// The result's schema: its columns in the query's order, also when no
    /// row came back.
    pub schema: SchemaRef,
    /// The batches, with at most the cap's rows in all.
    pub batches: Vec<RecordBatch>,
    /// True when the query had more rows than the cap.
    pub truncated: bool,
}

/// Runs a planned query to completion, or to `row_cap` rows: the stream is
/// dropped (and its work stopped) as soon as one row more than the cap arrives.
pub(super) async fn collect_capped(
    frame: DataFrame,
    row_cap: Option<usize>,
) -> Result<Capped, DataFusionError> {
    let mut stream = frame.execute_stream().await?;
    let mut capped = Capped {
        schema: stream.schema(),
        batches: Vec::new(),
        truncated: false,
    };
    let mut rows = 0usize;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        if let Some(cap) = row_cap
            && rows + batch.num_rows() > cap
        {
            capped.batches.push(batch.slice(0, cap - rows));
            capped.truncated = true;
            break;
        }
        rows += batch.num_rows();
        capped.batches.push(batch);
    }
    Ok(capped)
}

/// What kind of failure a DataFusion error is, for the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The query text or its values are wrong (a client error).
    Rejected,
    /// The query needed more memory than the pool has.
    ResourcesExhausted,
    /// Anything else: I/O, object store, Parquet, internal (a server error).
    Failed,
}

/// Classifies an error by its root cause.
pub fn failure_kind(error: &DataFusionError) -> FailureKind {
    match error.find_root() {
        DataFusionError::ResourcesExhausted(_) => FailureKind::ResourcesExhausted,
        DataFusionError::SQL(..)
        | DataFusionError::Plan(_)
        | DataFusionError::SchemaError(..)
        | DataFusionError::NotImplemented(_)
        | DataFusionError::Configuration(_) => FailureKind::Rejected,
        DataFusionError::ArrowError(arrow_error, _) => match arrow_error.as_ref() {
            arrow::error::ArrowError::CastError(_)
            | arrow::error::ArrowError::ComputeError(_)
            | arrow::error::ArrowError::DivideByZero
            | arrow::error::ArrowError::ArithmeticOverflow(_)
            | arrow::error::ArrowError::InvalidArgumentError(_) => FailureKind::Rejected,
            _ => FailureKind::Failed,
        },
        _ => FailureKind::Failed,
    }
}

/// Whether an error is a failure to read the index's files (a file missing,
/// cut short or not Parquet): what a listing older than the store's state
/// causes when GC deleted a file or a retried delivery rewrote one.
pub fn is_file_read_failure(error: &DataFusionError) -> bool {
    match error.find_root() {
        DataFusionError::ObjectStore(_)
        | DataFusionError::ParquetError(_)
        | DataFusionError::IoError(_) => true,
        DataFusionError::External(inner) => {
            inner.is::<object_store::Error>()
                || inner.is::<datafusion::parquet::errors::ParquetError>()
                || inner.is::<std::io::Error>()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_cause_decides_the_kind() {
        let wrapped = DataFusionError::Context(
            "while joining".to_owned(),
            Box::new(DataFusionError::ResourcesExhausted("pool".to_owned())),
        );
        assert_eq!(failure_kind(&wrapped), FailureKind::ResourcesExhausted);
        assert_eq!(
            failure_kind(&DataFusionError::Plan("no such table".to_owned())),
            FailureKind::Rejected
        );
        let io = DataFusionError::IoError(std::io::Error::other("disk"));
        assert_eq!(failure_kind(&io), FailureKind::Failed);
    }

    #[test]
    fn a_missing_file_is_a_read_failure_and_a_plan_error_is_not() {
        let missing = DataFusionError::Context(
            "scanning logs".to_owned(),
            Box::new(DataFusionError::ObjectStore(Box::new(
                object_store::Error::NotFound {
                    path: "v1/logs/dt=2026-11-20/hour=10/segment.parquet".to_owned(),
                    source: "gone".into(),
                },
            ))),
        );
        assert!(is_file_read_failure(&missing));
        let external = DataFusionError::External(Box::new(
            datafusion::parquet::errors::ParquetError::EOF("footer".into()),
        ));
        assert!(is_file_read_failure(&external));
        assert!(!is_file_read_failure(&DataFusionError::Plan(
            "no such table".to_owned()
        )));
        assert!(!is_file_read_failure(&DataFusionError::ResourcesExhausted(
            "pool".to_owned()
        )));
    }

    #[test]
    fn a_dropped_guard_counts_as_finished() {
        let stats = Arc::new(QueryStats::default());
        let guard = stats.begin();
        assert_eq!((stats.started(), stats.active()), (1, 1));
        drop(guard);
        assert_eq!((stats.started(), stats.active()), (1, 0));
    }
}
