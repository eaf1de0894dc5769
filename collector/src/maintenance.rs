//! The scheduled job of the collector Lambda (DESIGN.md "Index engine",
//! "Schedule in AWS"): an EventBridge schedule invokes the same binary, which
//! compacts the hours that have uncovered segments, then collects garbage.
//!
//! An hour is compacted once it has settled ([`MaintenanceOptions::settle`]
//! after its end, 15 min by default: most deliveries for it have arrived), and
//! again whenever late data leaves a segment uncovered. No DataFusion here:
//! compaction is `tracelake-index`'s.

use std::time::Duration;

use serde::Serialize;

use crate::index::IndexStore;
use crate::index::compact::{self, CompactOptions, CompactionError, CompactionOutcome};
use crate::index::gc::{self, DEFAULT_GRACE};
use crate::index::manifest::ManifestError;
use crate::index::schema::HOUR_NANOS;

/// What the scheduled job does.
#[derive(Debug, Clone)]
pub struct MaintenanceOptions {
    /// How long after an hour's end to wait before compacting it.
    pub settle: Duration,
    /// GC's grace period.
    pub grace: Duration,
    /// Compaction's options (memory budget, spill directory: `/tmp` in Lambda).
    pub compact: CompactOptions,
}

impl Default for MaintenanceOptions {
    fn default() -> MaintenanceOptions {
        MaintenanceOptions {
            settle: Duration::from_secs(15 * 60),
            grace: DEFAULT_GRACE,
            compact: CompactOptions::default(),
        }
    }
}

/// What one scheduled run did: the Lambda's response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MaintenanceReport {
    /// Hours compacted into a new generation.
    pub hours_compacted: Vec<String>,
    /// Already-compacted hours relinked (a generation more) because a
    /// neighbour hour compacted now linked some of their rows.
    pub hours_relinked: Vec<String>,
    /// Hours another compactor committed first.
    pub hours_lost_race: Vec<String>,
    /// Hours with uncovered segments left for a later run (not settled yet).
    pub hours_waiting: Vec<String>,
    /// Rows written by the hours this run committed, all tables (the rebuilt
    /// `trace_index` included); hours lost to another compactor are not counted.
    pub rows_out: u64,
    /// Duplicates dropped by the hours this run committed.
    pub duplicates_dropped: u64,
    /// Raw segments GC deleted.
    pub raw_deleted: u64,
    /// Compacted files GC deleted.
    pub compacted_deleted: u64,
}

/// Why the scheduled job failed; Lambda retries it, and the next run would redo it anyway.
#[derive(Debug, thiserror::Error)]
pub enum MaintenanceError {
    /// Compaction failed (the index stays exact).
    #[error(transparent)]
    Compaction(#[from] CompactionError),
    /// GC failed.
    #[error(transparent)]
    Gc(#[from] ManifestError),
}

/// Compacts every settled hour that needs it, then collects garbage.
///
/// # Errors
/// [`MaintenanceError`] when the store fails.
pub async fn run_scheduled_maintenance(
    store: &IndexStore,
    now_nanos: i64,
    options: &MaintenanceOptions,
) -> Result<MaintenanceReport, MaintenanceError> {
    let mut report = MaintenanceReport::default();
    let settle = i64::try_from(options.settle.as_nanos()).unwrap_or(i64::MAX);
    for hour in compact::hours_needing_compaction(store).await? {
        let settled_at = hour
            .start_nanos()
            .saturating_add(HOUR_NANOS)
            .saturating_add(settle);
        if settled_at > now_nanos {
            report.hours_waiting.push(hour.to_string());
            continue;
        }
        let compaction = compact::compact_hour(store, &hour, &options.compact).await?;
        match compaction.outcome {
            CompactionOutcome::Committed { .. } => {
                report.hours_compacted.push(hour.to_string());
                // Only a committed hour's rows are live: a lost race's outputs were deleted.
                report.rows_out += compaction.figures.rows_out;
                report.duplicates_dropped += compaction.figures.duplicates_dropped;
            }
            CompactionOutcome::LostRace { .. } => report.hours_lost_race.push(hour.to_string()),
            CompactionOutcome::UpToDate | CompactionOutcome::Planned => {}
        }
        // Compacted neighbours that this hour's rows linked (docs/collector.md);
        // as above, only a committed relink's rows are live.
        for relinked in &compaction.relinked {
            if let CompactionOutcome::Committed { .. } = relinked.outcome {
                report.hours_relinked.push(relinked.hour.to_string());
                report.rows_out += relinked.figures.rows_out;
            }
        }
    }
    let collected = gc::collect_garbage(store, options.grace, false).await?;
    report.raw_deleted = collected.raw_deleted;
    report.compacted_deleted = collected.compacted_deleted;
    tracing::info!(
        target: "tracelake::collector",
        hours_compacted = report.hours_compacted.len(),
        hours_lost_race = report.hours_lost_race.len(),
        hours_relinked = report.hours_relinked.len(),
        rows_out = report.rows_out,
        hours_waiting = report.hours_waiting.len(),
        raw_deleted = report.raw_deleted,
        compacted_deleted = report.compacted_deleted,
        "MaintenanceCompleted"
    );
    Ok(report)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::index::IndexWriter;
    use crate::index::compact::CompactionStep;
    use crate::index::manifest::latest_manifest;
    use crate::index::rows::{LogRow, SpanId, SpanRow, TraceId};
    use crate::index::schema::HourPartition;

    fn rows(hour: &HourPartition, n: u64) -> (Vec<SpanRow>, Vec<LogRow>) {
        let start = hour.start_nanos() + 60_000_000_000;
        let span = SpanRow {
            trace_id: TraceId(u128::from(n)),
            span_id: SpanId(n),
            name: "GET /".to_owned(),
            service: "checkout".to_owned(),
            start_time_ns: start,
            end_time_ns: start + 1_000,
            log_group: "/aws/lambda/checkout".to_owned(),
            log_stream: "s".to_owned(),
            ..SpanRow::default()
        };
        let log = LogRow {
            timestamp_ns: start,
            message: format!("line {n}"),
            log_group: "/aws/lambda/checkout".to_owned(),
            log_stream: "s".to_owned(),
            event_id: n.to_string(),
            format: "plain".into(),
            ..LogRow::default()
        };
        (vec![span], vec![log])
    }

    #[tokio::test]
    async fn compacts_settled_hours_and_leaves_the_current_one() {
        let store = IndexStore::from_object_store(
            Arc::new(object_store::memory::InMemory::new()),
            Default::default(),
        );
        let writer = IndexWriter::new(store.clone());
        let old = HourPartition::parse("2026-11-29T03").expect("hour");
        let current = HourPartition::parse("2026-11-29T05").expect("hour");
        for (n, hour) in [(1, &old), (2, &old), (3, &current)] {
            let (spans, logs) = rows(hour, n);
            writer
                .write_rows(&format!("seg-{n}"), spans, logs, Vec::new())
                .await
                .expect("written");
        }
        // 05:10, within the current hour.
        let now = current.start_nanos() + 10 * 60 * 1_000_000_000;
        let options = MaintenanceOptions {
            grace: Duration::ZERO,
            ..MaintenanceOptions::default()
        };
        let report = run_scheduled_maintenance(&store, now, &options)
            .await
            .expect("runs");
        assert_eq!(report.hours_compacted, vec![old.to_string()]);
        assert_eq!(report.hours_waiting, vec![current.to_string()]);
        assert_eq!(
            report.rows_out,
            2 + 2 + 2,
            "spans, logs and trace_index rows of the old hour"
        );
        // GC with no grace deleted the old hour's covered raw segments: 2 × spans, logs, trace_index.
        assert_eq!(report.raw_deleted, 6);
        assert!(latest_manifest(&store, &old).await.expect("read").is_some());
        assert!(
            latest_manifest(&store, &current)
                .await
                .expect("read")
                .is_none()
        );
        let logs: Vec<LogRow> = crate::index::read::read_rows(&store).await.expect("logs");
        assert_eq!(logs.len(), 3, "every row still read once");
    }

    /// Another compactor commits the second hour while this run writes it:
    /// that hour is reported as lost and its rows are not counted.
    #[tokio::test]
    async fn rows_of_an_hour_lost_to_another_compactor_are_not_counted() {
        let store = IndexStore::from_object_store(
            Arc::new(object_store::memory::InMemory::new()),
            Default::default(),
        );
        let writer = IndexWriter::new(store.clone());
        let first = HourPartition::parse("2026-11-29T01").expect("hour");
        let second = HourPartition::parse("2026-11-29T02").expect("hour");
        for (n, hour) in [(1, &first), (2, &first), (3, &second), (4, &second)] {
            let (spans, logs) = rows(hour, n);
            writer
                .write_rows(&format!("seg-{n}"), spans, logs, Vec::new())
                .await
                .expect("written");
        }
        let commits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let rival_store = store.clone();
        let mut options = MaintenanceOptions {
            grace: Duration::ZERO,
            ..MaintenanceOptions::default()
        };
        options.compact.on_step = Some(Arc::new(move |step: &CompactionStep| {
            if matches!(step, CompactionStep::Committing)
                && commits.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 1
            {
                // Just before this run commits the second hour, a rival commits it.
                let store = rival_store.clone();
                std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| e.to_string())?;
                    runtime.block_on(async {
                        for hour in compact::hours_needing_compaction(&store)
                            .await
                            .map_err(|e| e.to_string())?
                        {
                            compact::compact_hour(&store, &hour, &CompactOptions::default())
                                .await
                                .map_err(|e| e.to_string())?;
                        }
                        Ok::<(), String>(())
                    })
                })
                .join()
                .map_err(|_| "rival compactor panicked".to_owned())??;
            }
            Ok(())
        }));
        let now = second.start_nanos() + 3 * HOUR_NANOS;
        let report = run_scheduled_maintenance(&store, now, &options)
            .await
            .expect("runs");
        assert_eq!(report.hours_compacted, vec![first.to_string()]);
        assert_eq!(report.hours_lost_race, vec![second.to_string()]);
        assert_eq!(
            report.rows_out,
            2 + 2 + 2,
            "spans, logs and trace_index rows of the committed hour only"
        );
    }
}
