//! The compaction protocol's hazards (DESIGN.md "Index engine"), each on the
//! in-memory and local stores (and S3 in `moto`): after every step, our reader
//! and, on a local disk, DuckDB over the printed views see each row once.

use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use tracelake_index::IndexStore;
use tracelake_index::compact::{
    CompactOptions, CompactionOutcome, CompactionStep, compact_hour, hours_needing_compaction,
};
use tracelake_index::gc::collect_garbage;
use tracelake_index::manifest::{LiveSource, latest_manifest, live_files};
use tracelake_index::schema::{self, HourPartition};
use tracelake_index::stats::index_stats;
use tracelake_index::symlink::symlinked_paths;

use super::support::*;

/// The checks every scenario runs: ours, and DuckDB's on a local disk.
pub struct Checker {
    pub duckdb: bool,
}

impl Checker {
    pub async fn check(&self, store: &IndexStore, expected: &Expected, context: &str) {
        assert_reads_exactly(store, expected, context).await;
        if self.duckdb {
            assert_duckdb_reads_exactly(store, expected, context).await;
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
    let barrier = Arc::new(Barrier::new(2));
    let options = || {
        let barrier = barrier.clone();
        CompactOptions {
            on_step: Some(Arc::new(move |step: &CompactionStep| {
                if *step == CompactionStep::Committing {
                    // block_in_place hands this worker's queued tasks (the S3
                    // client's connections) to another thread while it waits.
                    tokio::task::block_in_place(|| barrier.wait());
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
                    let _ = ingested_rx.lock().expect("lock").recv();
                });
            }
            Ok(())
        })),
        ..CompactOptions::default()
    };
    let compactor_store = store.clone();
    let compaction =
        tokio::spawn(async move { compact_hour(&compactor_store, &hour(), &options).await });
    tokio::task::spawn_blocking(move || planned_rx.recv())
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

fn memory() -> (Option<tempfile::TempDir>, IndexStore) {
    (None, memory_store())
}

fn local() -> (Option<tempfile::TempDir>, IndexStore) {
    let (dir, store) = local_store();
    (Some(dir), store)
}

const OURS: Checker = Checker { duckdb: false };
const OURS_AND_DUCKDB: Checker = Checker { duckdb: true };

#[test]
fn crash_at_every_step_in_memory() {
    runtime().block_on(crash_at_every_step(memory, &OURS));
}

#[test]
fn crash_at_every_step_on_local_disk_checked_by_duckdb() {
    runtime().block_on(crash_at_every_step(local, &OURS_AND_DUCKDB));
}

#[test]
fn two_compactors_race_in_memory_and_on_local_disk() {
    let rt = runtime();
    rt.block_on(two_compactors_race(memory_store(), &OURS));
    let (_dir, store) = local_store();
    rt.block_on(two_compactors_race(store, &OURS_AND_DUCKDB));
}

#[test]
fn retried_delivery_after_compaction_and_after_gc() {
    let rt = runtime();
    rt.block_on(retried_delivery(memory_store(), &OURS));
    let (_dir, store) = local_store();
    rt.block_on(retried_delivery(store, &OURS_AND_DUCKDB));
}

#[test]
fn late_data_for_a_compacted_hour() {
    let rt = runtime();
    rt.block_on(late_data(memory_store(), &OURS));
    let (_dir, store) = local_store();
    rt.block_on(late_data(store, &OURS_AND_DUCKDB));
}

#[test]
fn ingest_while_compacting() {
    let rt = runtime();
    rt.block_on(ingest_during_compaction(memory_store(), &OURS));
    let (_dir, store) = local_store();
    rt.block_on(ingest_during_compaction(store, &OURS_AND_DUCKDB));
}

#[test]
fn gc_keeps_files_within_the_grace_period() {
    runtime().block_on(gc_respects_grace_and_symlinks(memory_store()));
}

#[test]
fn an_hour_larger_than_the_memory_budget_spills_and_compacts_the_same() {
    let rt = runtime();
    let rows = deliveries(0..120);
    let mut with_duplicates = rows.clone();
    with_duplicates.extend(rows[50..100].iter().cloned().map(|mut d| {
        d.name.push_str("-redelivered");
        d
    }));
    let compact_with = |budget: usize| {
        let store = memory_store();
        rt.block_on(async {
            ingest(&store, &with_duplicates).await;
            let options = CompactOptions {
                memory_budget_bytes: budget,
                ..CompactOptions::default()
            };
            let report = compact_hour(&store, &hour(), &options)
                .await
                .expect("compacts");
            assert_reads_exactly(&store, &Expected::of(&rows), &format!("budget {budget}")).await;
            let mut files = Vec::new();
            for table in schema::TABLES {
                for file in live_files(&store, table, &hour()).await.expect("live") {
                    let batches = tracelake_index::read::read_file(&store, &file.path)
                        .await
                        .expect("read");
                    files.push(batches);
                }
            }
            (report, files)
        })
    };
    let (in_memory, memory_files) = compact_with(usize::MAX / 4);
    let (spilled, spilled_files) = compact_with(32 * 1024);
    assert!(!in_memory.spilled && spilled.spilled);
    assert!(
        spilled.peak_buffered_bytes < in_memory.peak_buffered_bytes / 4,
        "{spilled:?} vs {in_memory:?}"
    );
    assert_eq!(in_memory.figures.duplicates_dropped, 50 * 6);
    assert_eq!(spilled.figures.duplicates_dropped, 50 * 6);
    // Same rows, same order, same files.
    assert_eq!(memory_files, spilled_files);
}

#[test]
fn compacted_files_are_sorted_by_trace_and_prune_a_trace_by_id() {
    let rt = runtime();
    let store = memory_store();
    rt.block_on(async {
        ingest(&store, &deliveries(0..50)).await;
        compact_hour(&store, &hour(), &CompactOptions::default())
            .await
            .expect("compacts");
        let spans: Vec<tracelake_index::rows::SpanRow> = tracelake_index::read::read_rows(&store)
            .await
            .expect("spans");
        let keys: Vec<(String, i64)> = spans
            .iter()
            .map(|s| (s.trace_id.to_string(), s.start_time_ns))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        let manifest = latest_manifest(&store, &hour())
            .await
            .expect("read")
            .expect("one");
        let output = &manifest.table("spans").outputs[0];
        assert_eq!(
            output.min_trace_id.as_deref(),
            keys.first().map(|k| k.0.as_str())
        );
        assert_eq!(
            output.max_trace_id.as_deref(),
            keys.last().map(|k| k.0.as_str())
        );
        // The file carries a bloom filter on trace_id that rejects an absent id.
        let bytes = store.get(&output.path).await.expect("file");
        let reader = parquet::file::serialized_reader::SerializedFileReader::new_with_options(
            bytes,
            parquet::file::serialized_reader::ReadOptionsBuilder::new()
                .with_reader_properties(
                    parquet::file::properties::ReaderProperties::builder()
                        .set_read_bloom_filter(true)
                        .build(),
                )
                .build(),
        )
        .expect("parquet");
        use parquet::file::reader::FileReader as _;
        let group = reader.get_row_group(0).expect("row group");
        let trace_column = 0;
        let bloom = group
            .get_column_bloom_filter(trace_column)
            .expect("bloom filter on trace_id");
        assert!(bloom.check(&keys[0].0.as_str()));
        assert!(!bloom.check(&"ffffffffffffffffffffffffffffffff"));
    });
    let _ = HourPartition::parse("2026-11-29T05");
}
