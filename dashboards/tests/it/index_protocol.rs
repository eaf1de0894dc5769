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
