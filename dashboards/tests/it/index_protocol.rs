//! The index's compaction protocol scenarios (crash at every step, two
//! compactors racing, retried deliveries, late data, ingest while compacting),
//! checked after every step by dashboards' DataFusion tables
//! (`query::live::LiveTable`) as well as by the index's own reader (DuckDB
//! checks the same scenarios in the index's tests; here it would only add a
//! Python start per step). The scenarios are the index's own test modules,
//! included by path: the index crate must not depend on DataFusion, so this
//! reader's check lives here.

#[path = "../../../index/tests/it/support.rs"]
#[allow(dead_code)]
mod support;

#[path = "../../../index/tests/it/protocol.rs"]
#[allow(dead_code)]
mod protocol;

use std::sync::Arc;
use std::time::Duration;

use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::prelude::SessionContext;
use futures::FutureExt as _;
use tracelake_dashboards::query::live::LiveTable;
use tracelake_dashboards::query::live_files::LiveFiles;
use tracelake_dashboards::query::tables::Table;
use tracelake_index::IndexStore;

use protocol::{Checker, crash_at_every_step, ingest_during_compaction, late_data};
use protocol::{retried_delivery, two_compactors_race};
use support::{Expected, local_store, memory_store, runtime};
use tracelake_dashboards::query::{EngineOptions, QueryEngine};
use tracelake_index::compact::{CompactOptions, compact_hour};
use tracelake_index::gc::collect_garbage;

/// A DataFusion session whose four tables are dashboards' live tables over
/// `store`, whatever the store is (its object store registered as is).
fn session(store: &IndexStore) -> SessionContext {
    let context = SessionContext::new();
    let url = ObjectStoreUrl::parse("tracelake://index").expect("url");
    context.register_object_store(url.as_ref(), store.object_store());
    // A TTL of zero: every scan lists the live files as they are now.
    let live = Arc::new(LiveFiles::new(store.clone(), Duration::ZERO));
    for table in Table::ALL {
        let provider = LiveTable::new(table, live.clone(), url.clone(), store.root().as_ref());
        context
            .register_table(table.name(), Arc::new(provider))
            .expect("register");
    }
    context
}

async fn strings(context: &SessionContext, sql: &str) -> Vec<Vec<String>> {
    let batches = context
        .sql(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    batch_strings(batches)
}

/// Each row of `batches`, its values cast to text.
fn batch_strings(batches: Vec<arrow::array::RecordBatch>) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for batch in batches {
        let columns: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| arrow::compute::cast(c, &arrow::datatypes::DataType::Utf8).expect("cast"))
            .collect();
        for row in 0..batch.num_rows() {
            rows.push(
                columns
                    .iter()
                    .map(|c| {
                        c.as_any()
                            .downcast_ref::<arrow::array::StringArray>()
                            .expect("utf8")
                            .value(row)
                            .to_owned()
                    })
                    .collect(),
            );
        }
    }
    rows
}

/// DataFusion over the live tables reads each expected key exactly once.
fn datafusion_reads_exactly<'a>(
    store: &'a IndexStore,
    expected: &'a Expected,
    context: &'a str,
) -> futures::future::BoxFuture<'a, ()> {
    async move {
        let session = session(store);
        let spans = strings(
            &session,
            "SELECT trace_id, span_id FROM spans ORDER BY 1, 2",
        )
        .await;
        let logs = strings(
            &session,
            "SELECT log_group, log_stream, event_id FROM logs ORDER BY 1, 2, 3",
        )
        .await;
        let invocations = strings(&session, "SELECT request_id FROM invocations ORDER BY 1").await;
        let [want_spans, want_logs, want_invocations] = expected.keys();
        assert_eq!(spans, want_spans, "{context}: datafusion spans");
        assert_eq!(logs, want_logs, "{context}: datafusion logs");
        assert_eq!(
            invocations, want_invocations,
            "{context}: datafusion invocations"
        );
    }
    .boxed()
}

const DATAFUSION: Checker = Checker {
    duckdb: false,
    other: Some(datafusion_reads_exactly),
};

#[test]
fn the_protocol_holds_for_datafusion_in_memory() {
    let rt = runtime();
    rt.block_on(retried_delivery(memory_store(), &DATAFUSION));
    rt.block_on(two_compactors_race(memory_store(), &DATAFUSION));
    rt.block_on(late_data(memory_store(), &DATAFUSION));
    rt.block_on(ingest_during_compaction(memory_store(), &DATAFUSION));
    rt.block_on(crash_at_every_step(|| (None, memory_store()), &DATAFUSION));
}

#[test]
fn the_protocol_holds_for_datafusion_on_local_disk() {
    let rt = runtime();
    let fresh = || {
        let (dir, store) = local_store();
        (Some(dir), store)
    };
    let (_dir, store) = fresh();
    rt.block_on(retried_delivery(store, &DATAFUSION));
    let (_dir, store) = fresh();
    rt.block_on(two_compactors_race(store, &DATAFUSION));
    let (_dir, store) = fresh();
    rt.block_on(late_data(store, &DATAFUSION));
    let (_dir, store) = fresh();
    rt.block_on(ingest_during_compaction(store, &DATAFUSION));
    rt.block_on(crash_at_every_step(fresh, &DATAFUSION));
}

/// An engine that keeps its listings for an hour, over the local index at `dir`.
async fn caching_engine(dir: &tempfile::TempDir, ttl: Duration) -> QueryEngine {
    let options = EngineOptions {
        live_files_ttl: ttl,
        ..EngineOptions::default()
    };
    QueryEngine::open(dir.path().to_str().expect("utf-8 path"), options)
        .await
        .expect("index opens")
}

async fn span_ids(engine: &QueryEngine) -> Vec<Vec<String>> {
    let capped = engine
        .sql("SELECT trace_id, span_id FROM spans ORDER BY 1, 2")
        .await
        .expect("spans query runs");
    batch_strings(capped.batches)
}

/// A server keeps its listing while compaction covers the raw segments and a
/// GC with no grace deletes them: the next query fails reading a deleted
/// file, lists again and answers from the compacted file, not a 5xx.
#[test]
fn a_kept_listing_of_files_gc_deleted_is_listed_again() {
    runtime().block_on(async {
        let (dir, store) = local_store();
        let deliveries = support::deliveries(0..12);
        support::ingest(&store, &deliveries).await;
        let engine = caching_engine(&dir, Duration::from_secs(3_600)).await;
        let [want_spans, _, _] = Expected::of(&deliveries).keys();
        assert_eq!(span_ids(&engine).await, want_spans, "before compaction");

        compact_hour(&store, &support::hour(), &CompactOptions::default())
            .await
            .expect("compaction runs");
        let gc = collect_garbage(&store, Duration::ZERO, false)
            .await
            .expect("gc runs");
        assert!(
            gc.raw_deleted > 0,
            "gc deleted the covered raw segments: {gc:?}"
        );

        assert_eq!(
            span_ids(&engine).await,
            want_spans,
            "after gc, listing kept"
        );
    });
}

/// A retried delivery rewrites its raw segment under the same name: once the
/// kept listing expires, the engine reads the rewritten file, not the footer
/// it cached for the old one (the cache key holds the file's mtime).
#[test]
fn a_raw_segment_rewritten_under_its_name_is_read_anew_once_listed_again() {
    runtime().block_on(async {
        let (dir, store) = local_store();
        let first = support::request(1);
        support::ingest(&store, std::slice::from_ref(&first)).await;
        let ttl = Duration::from_millis(50);
        let engine = caching_engine(&dir, ttl).await;
        let [want_first, _, _] = Expected::of(std::slice::from_ref(&first)).keys();
        assert_eq!(span_ids(&engine).await, want_first);

        // Other rows under the first delivery's segment name.
        let rewritten = support::Delivery {
            name: first.name.clone(),
            ..support::request(2)
        };
        support::ingest(&store, std::slice::from_ref(&rewritten)).await;
        tokio::time::sleep(ttl * 3).await;
        let [want_rewritten, _, _] = Expected::of(std::slice::from_ref(&rewritten)).keys();
        assert_ne!(want_first, want_rewritten);
        assert_eq!(span_ids(&engine).await, want_rewritten);
    });
}
