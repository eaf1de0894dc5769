//! The compaction protocol's hazards (DESIGN.md "Index engine") as scenarios
//! over any store: after every step, our reader, DuckDB over the printed views
//! (on a local disk) and any further reader a [`Checker`] names see each row
//! once. `hazards` runs them on the in-memory and local stores, `moto` on S3;
//! dashboards' test binary includes this module and `support` (by path) to run
//! them with DataFusion over its live tables, which the index must not depend on.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use tracelake_index::IndexStore;
use tracelake_index::compact::{
    CompactOptions, CompactionOutcome, CompactionStep, compact_hour, hours_needing_compaction,
};
use tracelake_index::gc::collect_garbage;
use tracelake_index::manifest::{LiveSource, latest_manifest, live_files};
use tracelake_index::schema;
use tracelake_index::stats::index_stats;
use tracelake_index::symlink::symlinked_paths;

use super::support::*;

/// A further reader's check: panics unless the store reads as exactly the
/// expected rows.
pub type ReaderCheck =
    for<'a> fn(&'a IndexStore, &'a Expected, &'a str) -> futures::future::BoxFuture<'a, ()>;

/// The checks every scenario runs: ours, DuckDB's on a local disk, and another
/// reader's (dashboards' DataFusion tables, in dashboards' tests).
pub struct Checker {
    pub duckdb: bool,
    pub other: Option<ReaderCheck>,
}

impl Checker {
    pub async fn check(&self, store: &IndexStore, expected: &Expected, context: &str) {
        assert_reads_exactly(store, expected, context).await;
        if self.duckdb {
            assert_duckdb_reads_exactly(store, expected, context).await;
        }
        if let Some(other) = self.other {
            other(store, expected, context).await;
        }
    }
}

/// How long a scenario's hook waits for the other side (the other compactor,
/// or the ingest running meanwhile) before failing the compaction loudly: a
/// side that failed never arrives, and a plain barrier would then wait forever
/// (with no CPU used, and the test's panic message still captured).
const RENDEZVOUS_TIMEOUT: Duration = Duration::from_secs(120);

/// A barrier for `parties` threads whose wait gives up after
/// [`RENDEZVOUS_TIMEOUT`] with an error instead of blocking forever.
struct Rendezvous {
    parties: usize,
    arrived: Mutex<usize>,
    all_here: Condvar,
}

impl Rendezvous {
    fn new(parties: usize) -> Rendezvous {
        Rendezvous {
            parties,
            arrived: Mutex::new(0),
            all_here: Condvar::new(),
        }
    }

    fn wait(&self) -> Result<(), String> {
        let mut arrived = self.arrived.lock().expect("lock");
        *arrived += 1;
        if *arrived >= self.parties {
            self.all_here.notify_all();
            return Ok(());
        }
        let (arrived, timeout) = self
            .all_here
            .wait_timeout_while(arrived, RENDEZVOUS_TIMEOUT, |n| *n < self.parties)
            .expect("lock");
        if timeout.timed_out() {
            Err(format!(
                "only {} of {} compactors reached their commit within {RENDEZVOUS_TIMEOUT:?}",
                *arrived, self.parties
            ))
        } else {
            Ok(())
        }
    }
}

fn stop_at(target: usize, seen: Arc<Mutex<Vec<String>>>) -> CompactOptions {
    CompactOptions {
        on_step: Some(Arc::new(move |step: &CompactionStep| {
            let mut seen = seen.lock().expect("lock");
            seen.push(step.to_string());
            if seen.len() == target {
                Err("injected crash".to_owned())
            } else {
                Ok(())
            }
        })),
        ..CompactOptions::default()
    }
}

/// A crash at every step of a compaction, then a clean rerun and a GC.
pub async fn crash_at_every_step(
    make: impl Fn() -> (Option<tempfile::TempDir>, IndexStore),
    checker: &Checker,
) {
    let first = deliveries(0..6);
    let late = deliveries(6..8);
    // Count the steps of an uninterrupted run (first compaction, then a second
    // one over late data, which also reads generation 1's outputs).
    let steps = {
        let (_guard, store) = make();
        ingest(&store, &first).await;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let options = stop_at(usize::MAX, seen.clone());
        compact_hour(&store, &hour(), &options)
            .await
            .expect("compacts");
        ingest(&store, &late).await;
        let before = seen.lock().expect("lock").len();
        compact_hour(&store, &hour(), &options)
            .await
            .expect("compacts");
        let total = seen.lock().expect("lock").len();
        assert!(before > 5 && total > before, "steps: {seen:?}");
        assert!(
            seen.lock()
                .expect("lock")
                .contains(&"committed (g2)".to_owned())
        );
        (before, total)
    };
    let all: Vec<Delivery> = first.iter().chain(&late).cloned().collect();
    for target in 1..=steps.1 {
        let (_guard, store) = make();
        ingest(&store, &first).await;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let options = stop_at(target, seen.clone());
        let result = compact_hour(&store, &hour(), &options).await;
        let expected_first = Expected::of(&first);
        if target <= steps.0 {
            let error = result.expect_err("stopped");
            let context = format!("crash at step {target} ({error})");
            checker.check(&store, &expected_first, &context).await;
            ingest(&store, &late).await;
        } else {
            result.expect("first compaction completes");
            ingest(&store, &late).await;
            let error = compact_hour(&store, &hour(), &options)
                .await
                .expect_err("stopped");
            let context = format!("crash at step {target} of the second compaction ({error})");
            checker.check(&store, &Expected::of(&all), &context).await;
        }
        let context = format!("rerun after a crash at step {target}");
        let report = compact_hour(&store, &hour(), &CompactOptions::default())
            .await
            .expect("rerun compacts");
        // The late data is uncovered unless the crash came after the second
        // compaction's commit; then only its symlinks may be left to publish.
        let seen_steps = seen.lock().expect("lock").clone();
        let committed =
            |generation: u64| seen_steps.contains(&format!("committed (g{generation})"));
        let expected_outcome = if committed(2) {
            CompactionOutcome::UpToDate
        } else if committed(1) {
            CompactionOutcome::Committed { generation: 2 }
        } else {
            CompactionOutcome::Committed { generation: 1 }
        };
        assert_eq!(report.outcome, expected_outcome, "{context}: {report:?}");
        for table in schema::TABLES {
            let live: Vec<String> = live_files(&store, table, &hour())
                .await
                .expect("live")
                .into_iter()
                .map(|f| f.path)
                .collect();
            assert_eq!(
                symlinked_paths(&store, table, &hour())
                    .await
                    .expect("symlink"),
                live,
                "{context}: {table} symlinks name the live files"
            );
        }
        checker.check(&store, &Expected::of(&all), &context).await;
        collect_garbage(&store, Duration::ZERO, false)
            .await
            .expect("gc");
        checker
            .check(&store, &Expected::of(&all), &format!("{context}, after gc"))
            .await;
        // After GC an hour is one file per table plus manifests.
        for table in schema::TABLES {
            let files = live_files(&store, table, &hour()).await.expect("live");
            assert_eq!(files.len(), 1, "{context}: {table}: {files:?}");
            assert_eq!(files[0].source, LiveSource::Compacted);
            let leftover = store
                .list(&format!("{}/", schema::compacted_dir(table, &hour())))
                .await
                .expect("list");
            assert_eq!(
                leftover.len(),
                1,
                "{context}: {table} orphans left: {leftover:?}"
            );
        }
    }
}

/// Two compactors on one hour, both past planning before either commits.
pub async fn two_compactors_race(store: IndexStore, checker: &Checker) {
    let rows = deliveries(0..30);
    ingest(&store, &rows).await;
    let barrier = Arc::new(Rendezvous::new(2));
    let options = || {
        let barrier = barrier.clone();
        CompactOptions {
            on_step: Some(Arc::new(move |step: &CompactionStep| {
                if *step == CompactionStep::Committing {
                    // block_in_place hands this worker's queued tasks (the S3
                    // client's connections) to another thread while it waits.
                    tokio::task::block_in_place(|| barrier.wait())?;
                }
                Ok(())
            })),
            ..CompactOptions::default()
        }
    };
    let (a, b) = (store.clone(), store.clone());
    let (options_a, options_b) = (options(), options());
    let first = tokio::spawn(async move { compact_hour(&a, &hour(), &options_a).await });
    let second = tokio::spawn(async move { compact_hour(&b, &hour(), &options_b).await });
    let first = first.await.expect("joins").expect("compacts");
    let second = second.await.expect("joins").expect("compacts");
    let mut outcomes = [first.outcome, second.outcome];
    outcomes.sort_by_key(|o| matches!(o, CompactionOutcome::LostRace { .. }));
    assert_eq!(
        outcomes,
        [
            CompactionOutcome::Committed { generation: 1 },
            CompactionOutcome::LostRace { generation: 1 }
        ]
    );
    checker
        .check(&store, &Expected::of(&rows), "after the race")
        .await;
    // The loser deleted its outputs: only the winner's remain.
    let manifest = latest_manifest(&store, &hour())
        .await
        .expect("read")
        .expect("committed");
    for table in schema::TABLES {
        let files = store
            .list(&format!("{}/", schema::compacted_dir(table, &hour())))
            .await
            .expect("list");
        let named: Vec<String> = manifest
            .table(table)
            .outputs
            .iter()
            .map(|o| o.path.clone())
            .collect();
        let listed: Vec<String> = files.iter().map(|o| store.relative(&o.location)).collect();
        assert_eq!(listed, named, "{table}");
    }
}

/// A retried delivery after its segment was compacted, and again after GC.
pub async fn retried_delivery(store: IndexStore, checker: &Checker) {
    let rows = deliveries(0..20);
    ingest(&store, &rows).await;
    compact_hour(&store, &hour(), &CompactOptions::default())
        .await
        .expect("compacts");
    let expected = Expected::of(&rows);
    ingest(&store, &rows[3..6]).await;
    checker
        .check(&store, &expected, "retry after compaction")
        .await;
    let report = compact_hour(&store, &hour(), &CompactOptions::default())
        .await
        .expect("compacts");
    assert_eq!(
        report.outcome,
        CompactionOutcome::UpToDate,
        "a covered retry is no work"
    );
    let gc = collect_garbage(&store, Duration::ZERO, false)
        .await
        .expect("gc");
    assert!(gc.raw_deleted >= 20 * 4, "{gc:?}");
    checker.check(&store, &expected, "after gc").await;
    ingest(&store, &rows[3..6]).await;
    checker.check(&store, &expected, "retry after gc").await;
    assert!(
        hours_needing_compaction(&store)
            .await
            .expect("hours")
            .is_empty()
    );
    let stats = index_stats(&store).await.expect("stats");
    let logs = stats
        .iter()
        .find(|s| s.table == "logs")
        .expect("logs stats");
    assert_eq!(
        (logs.files, logs.rows, logs.covered_files),
        (1, 60, 3),
        "{logs:?}"
    );
}

/// Late data for an hour already compacted.
pub async fn late_data(store: IndexStore, checker: &Checker) {
    let rows = deliveries(0..20);
    ingest(&store, &rows).await;
    compact_hour(&store, &hour(), &CompactOptions::default())
        .await
        .expect("compacts");
    let late = deliveries(20..25);
    ingest(&store, &late).await;
    let all: Vec<Delivery> = rows.iter().chain(&late).cloned().collect();
    checker
        .check(&store, &Expected::of(&all), "late data, read raw")
        .await;
    assert_eq!(
        hours_needing_compaction(&store).await.expect("hours"),
        vec![hour()]
    );
    let report = compact_hour(&store, &hour(), &CompactOptions::default())
        .await
        .expect("compacts");
    assert_eq!(
        report.outcome,
        CompactionOutcome::Committed { generation: 2 }
    );
    checker
        .check(&store, &Expected::of(&all), "late data compacted")
        .await;
    collect_garbage(&store, Duration::ZERO, false)
        .await
        .expect("gc");
    checker
        .check(&store, &Expected::of(&all), "late data after gc")
        .await;
}

/// Ingest running while a compaction is between its listing and its commit,
/// including a segment whose tables arrive on both sides of the listing.
pub async fn ingest_during_compaction(store: IndexStore, checker: &Checker) {
    let rows = deliveries(0..20);
    ingest(&store, &rows).await;
    let during = deliveries(20..26);
    // Half a segment before the compaction lists: its spans only.
    let split = &during[0];
    tracelake_index::IndexWriter::new(store.clone())
        .write_rows(&split.name, split.spans.clone(), Vec::new(), Vec::new())
        .await
        .expect("spans of the split segment");
    let (planned_tx, planned_rx) = std::sync::mpsc::channel::<()>();
    let (ingested_tx, ingested_rx) = std::sync::mpsc::channel::<()>();
    let planned_tx = Mutex::new(Some(planned_tx));
    let ingested_rx = Mutex::new(ingested_rx);
    let options = CompactOptions {
        on_step: Some(Arc::new(move |step: &CompactionStep| {
            if matches!(step, CompactionStep::Planned { .. })
                && let Some(tx) = planned_tx.lock().expect("lock").take()
            {
                let _ = tx.send(());
                tokio::task::block_in_place(|| {
                    ingested_rx
                        .lock()
                        .expect("lock")
                        .recv_timeout(RENDEZVOUS_TIMEOUT)
                        .map_err(|e| format!("the ingest meanwhile never finished: {e}"))
                })?;
            }
            Ok(())
        })),
        ..CompactOptions::default()
    };
    let compactor_store = store.clone();
    let compaction =
        tokio::spawn(async move { compact_hour(&compactor_store, &hour(), &options).await });
    tokio::task::spawn_blocking(move || planned_rx.recv_timeout(RENDEZVOUS_TIMEOUT))
        .await
        .expect("joins")
        .expect("compaction planned");
    // The rest of the split segment, and whole new ones, while it runs.
    tracelake_index::IndexWriter::new(store.clone())
        .write_rows(
            &split.name,
            Vec::new(),
            split.logs.clone(),
            split.invocations.clone(),
        )
        .await
        .expect("rest of the split segment");
    ingest(&store, &during[1..]).await;
    ingested_tx.send(()).expect("compactor waits");
    let report = compaction.await.expect("joins").expect("compacts");
    assert_eq!(
        report.outcome,
        CompactionOutcome::Committed { generation: 1 }
    );
    let all: Vec<Delivery> = rows.iter().chain(&during).cloned().collect();
    checker
        .check(&store, &Expected::of(&all), "ingest during compaction")
        .await;
    compact_hour(&store, &hour(), &CompactOptions::default())
        .await
        .expect("compacts");
    collect_garbage(&store, Duration::ZERO, false)
        .await
        .expect("gc");
    checker
        .check(
            &store,
            &Expected::of(&all),
            "ingest during compaction, then compacted",
        )
        .await;
}

/// GC keeps what is within the grace period and what the symlinks name.
pub async fn gc_respects_grace_and_symlinks(store: IndexStore) {
    let rows = deliveries(0..10);
    ingest(&store, &rows).await;
    compact_hour(&store, &hour(), &CompactOptions::default())
        .await
        .expect("compacts");
    let gc = collect_garbage(&store, Duration::from_secs(3_600), false)
        .await
        .expect("gc");
    assert_eq!((gc.raw_deleted, gc.compacted_deleted), (0, 0), "{gc:?}");
    // The symlinks name exactly the live files.
    for table in schema::TABLES {
        let live: Vec<String> = live_files(&store, table, &hour())
            .await
            .expect("live")
            .into_iter()
            .map(|f| f.path)
            .collect();
        assert_eq!(
            symlinked_paths(&store, table, &hour())
                .await
                .expect("symlink"),
            live
        );
    }
    Expected::of(&rows);
}
