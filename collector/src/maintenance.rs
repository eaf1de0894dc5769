//! The scheduled job of the collector Lambda (DESIGN.md "Index engine",
//! "Schedule in AWS"): an EventBridge schedule invokes the same binary, which
//! compacts the hours that have uncovered segments, then collects garbage.
//!
//! An hour is compacted once it has settled ([`MaintenanceOptions::settle`]
//! after its end, 15 min by default: most deliveries for it have arrived), and
//! again whenever late data leaves a segment uncovered. An hour that has not
//! settled yet (the one being written) is compacted too once its raw backlog
//! is old or large enough ([`OpenHourPolicy`]): the dashboards' default range
//! is the newest hour, and reading thousands of per-delivery segments is what
//! makes it slow (docs/index.md, "Compacting the open hour"). Each such run
//! re-compacts the hour's previous outputs with its uncovered segments, and
//! the settled run still comes after the hour. No DataFusion here: compaction
//! is `tracelake-index`'s.

use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::index::IndexStore;
use crate::index::compact::{self, CompactOptions, CompactionError, CompactionOutcome, HourPlan};
use crate::index::gc::{self, DEFAULT_GRACE};
use crate::index::manifest::{self, ManifestError};
use crate::index::schema::{HOUR_NANOS, HourPartition};

/// What the scheduled job does.
#[derive(Debug, Clone)]
pub struct MaintenanceOptions {
    /// How long after an hour's end to wait before compacting it.
    pub settle: Duration,
    /// When an hour that has not settled is compacted anyway; `None` waits
    /// for every hour to settle.
    pub open_hour: Option<OpenHourPolicy>,
    /// GC's grace period.
    pub grace: Duration,
    /// Compaction's options (memory budget, spill directory: `/tmp` in Lambda).
    pub compact: CompactOptions,
}

impl Default for MaintenanceOptions {
    fn default() -> MaintenanceOptions {
        MaintenanceOptions {
            settle: Duration::from_secs(15 * 60),
            open_hour: Some(OpenHourPolicy::default()),
            grace: DEFAULT_GRACE,
            compact: CompactOptions::default(),
        }
    }
}

/// When the scheduled job compacts an hour that has not settled yet (the hour
/// being written): as soon as its uncovered raw segments are too many, or,
/// when an age is set, the oldest of them too old. Quickwit merges immature
/// splits the same way, by count (`merge_factor`) without waiting for the
/// split to mature, and Tempo's compactor merges the blocks of the current
/// window every cycle. Each run re-compacts the hour's previous outputs with
/// its uncovered segments (a new generation), so the hour's rows are read once
/// more per run; docs/deploy.md has what that costs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenHourPolicy {
    /// Compact once the oldest uncovered raw segment is this old (by its
    /// store modification time); `None`: by count only.
    pub max_raw_age: Option<Duration>,
    /// Compact once this many raw segments (all tables together) are uncovered.
    pub max_raw_files: usize,
}

impl Default for OpenHourPolicy {
    fn default() -> OpenHourPolicy {
        // By count only: what makes the newest hour slow to read is how many
        // files it has (about 2 ms per raw file per scan), not their age. The
        // direct subscription, ~3 segments per delivery, reaches 2,000 in
        // minutes and is compacted at every 5-minute run; the batched paths
        // (Kinesis, Firehose: 4 segments per invocation, under 1,000 an hour
        // at the demo fleet's rate) seldom reach it, so their compaction stays
        // once an hour, which their cost per GB counts on (docs/cost.md). An
        // age would compact every open hour at every run, about 5 times the
        // compaction CPU on a steady stream.
        OpenHourPolicy {
            max_raw_age: None,
            max_raw_files: 2_000,
        }
    }
}

/// The uncovered raw segments of an hour: how many, and when the oldest was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RawBacklog {
    /// Uncovered raw segments, all tables together.
    pub files: usize,
    /// The oldest one's modification time, when the store gives one.
    pub oldest: Option<SystemTime>,
}

impl OpenHourPolicy {
    /// Whether an unsettled hour with `backlog` is compacted at `now_nanos`.
    pub fn wants(&self, backlog: &RawBacklog, now_nanos: i64) -> bool {
        if backlog.files == 0 {
            return false;
        }
        if backlog.files >= self.max_raw_files {
            return true;
        }
        let (Some(max_raw_age), Some(oldest)) = (self.max_raw_age, backlog.oldest) else {
            return false;
        };
        let oldest_nanos = oldest
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |since| {
                i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
            });
        let max_age = i64::try_from(max_raw_age.as_nanos()).unwrap_or(i64::MAX);
        now_nanos.saturating_sub(oldest_nanos) >= max_age
    }
}

impl RawBacklog {
    /// The backlog a plan newly covers: its uncovered raw segments.
    pub fn of(plan: &HourPlan) -> RawBacklog {
        let mut backlog = RawBacklog::default();
        for segment in plan.uncovered_segments() {
            backlog.files += 1;
            let modified = segment.last_modified;
            backlog.oldest = Some(backlog.oldest.map_or(modified, |o| o.min(modified)));
        }
        backlog
    }
}

/// The uncovered raw segments of `hour` against its latest manifest.
///
/// # Errors
/// [`CompactionError`] when the store fails or the manifest is unreadable.
pub async fn raw_backlog(
    store: &IndexStore,
    hour: &HourPartition,
) -> Result<RawBacklog, CompactionError> {
    Ok(RawBacklog::of(&compact::plan_hour(store, hour).await?))
}

/// What one scheduled run did: the Lambda's response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MaintenanceReport {
    /// Hours compacted into a new generation.
    pub hours_compacted: Vec<String>,
    /// Of `hours_compacted`, those compacted before they settled ([`OpenHourPolicy`]).
    pub hours_compacted_open: Vec<String>,
    /// Already-compacted hours relinked (a generation more) because a
    /// neighbour hour compacted now linked some of their rows.
    pub hours_relinked: Vec<String>,
    /// Hours another compactor committed first.
    pub hours_lost_race: Vec<String>,
    /// Hours with uncovered segments left for a later run: not settled yet,
    /// and a backlog the open-hour policy does not compact yet.
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

/// Compacts every settled hour that needs it, and every unsettled one whose
/// raw backlog [`MaintenanceOptions::open_hour`] wants compacted, then collects
/// garbage.
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
    // Each hour is planned once, just before it is compacted (not all up
    // front: compacting one hour may relink its neighbours), and the plan
    // decides, gives the open hour's backlog and is what compaction covers:
    // one listing of each table's raw partition per hour.
    for hour in manifest::hours(store)
        .await
        .map_err(CompactionError::from)?
    {
        let plan = compact::plan_hour(store, &hour).await?;
        if !plan.needs_compaction() {
            continue;
        }
        let settled_at = hour
            .start_nanos()
            .saturating_add(HOUR_NANOS)
            .saturating_add(settle);
        let open = settled_at > now_nanos;
        if open {
            let wanted = match &options.open_hour {
                Some(policy) => policy.wants(&RawBacklog::of(&plan), now_nanos),
                None => false,
            };
            if !wanted {
                report.hours_waiting.push(hour.to_string());
                continue;
            }
        }
        let compaction = compact::compact_planned(store, plan, &options.compact).await?;
        match compaction.outcome {
            CompactionOutcome::Committed { .. } => {
                report.hours_compacted.push(hour.to_string());
                if open {
                    report.hours_compacted_open.push(hour.to_string());
                }
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
        hours_compacted_open = report.hours_compacted_open.len(),
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
    use crate::index::rows::LogRow;
    use crate::index::schema::HourPartition;

    /// Writes delivery `n` (a span and a log line) into `hour`, a minute into it.
    async fn deliver(writer: &IndexWriter, hour: &HourPartition, n: u64) {
        let start = hour.start_nanos() + 60_000_000_000;
        tracelake_testkit::index::write_delivery(writer, n, start, "checkout").await;
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
            deliver(&writer, hour, n).await;
        }
        // 05:10, within the current hour.
        let now = current.start_nanos() + 10 * 60 * 1_000_000_000;
        let options = MaintenanceOptions {
            grace: Duration::ZERO,
            // Only settling decides here (the open hour's policy has its own tests).
            open_hour: None,
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
            deliver(&writer, hour, n).await;
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

    const MINUTE: i64 = 60 * 1_000_000_000;

    async fn log_messages(store: &IndexStore) -> Vec<String> {
        let logs: Vec<LogRow> = crate::index::read::read_rows(store).await.expect("logs");
        let mut messages: Vec<String> = logs.into_iter().map(|log| log.message).collect();
        messages.sort();
        messages
    }

    async fn generation(store: &IndexStore, hour: &HourPartition) -> Option<u64> {
        latest_manifest(store, hour)
            .await
            .expect("read")
            .map(|manifest| manifest.generation)
    }

    #[test]
    fn the_open_hour_policy_wants_a_backlog_by_count_or_by_age() {
        let policy = OpenHourPolicy {
            max_raw_age: Some(Duration::from_secs(300)),
            max_raw_files: 10,
        };
        let written = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let written_nanos = 1_000_000 * 1_000_000_000;
        let backlog = |files, oldest| RawBacklog { files, oldest };
        assert!(
            !policy.wants(&backlog(0, None), written_nanos),
            "nothing to compact"
        );
        assert!(
            policy.wants(&backlog(10, None), written_nanos),
            "count reached"
        );
        assert!(
            !policy.wants(&backlog(9, None), written_nanos),
            "no age known"
        );
        assert!(!policy.wants(&backlog(9, Some(written)), written_nanos + 5 * MINUTE - 1));
        assert!(policy.wants(&backlog(1, Some(written)), written_nanos + 5 * MINUTE));
        // A clock behind the store's never counts as old.
        assert!(!policy.wants(&backlog(1, Some(written)), written_nanos - MINUTE));
        // The default goes by count alone: an hour-old backlog below the
        // count waits for the hour to settle (the batched paths' case).
        let default = OpenHourPolicy::default();
        assert!(!default.wants(&backlog(1_999, Some(written)), written_nanos + 60 * MINUTE));
        assert!(default.wants(&backlog(2_000, Some(written)), written_nanos));
    }

    /// The hour being written is compacted once it holds enough raw segments;
    /// deliveries after that stay raw (and read once) until the next run covers
    /// them; the settled run still compacts what came last; no row is lost or
    /// read twice at any step.
    #[tokio::test]
    async fn an_open_hour_is_compacted_by_count_and_recompacted_until_it_settles() {
        let store = IndexStore::from_object_store(
            Arc::new(object_store::memory::InMemory::new()),
            Default::default(),
        );
        let writer = IndexWriter::new(store.clone());
        let hour = HourPartition::parse("2026-11-29T05").expect("hour");
        let write = |n: u64| deliver(&writer, &hour, n);
        let options = MaintenanceOptions {
            grace: Duration::ZERO,
            open_hour: Some(OpenHourPolicy {
                // The in-memory store's modification times are the machine's
                // clock, not this test's: only the count decides here.
                max_raw_age: None,
                // Two deliveries: spans, logs and trace_index segments of each.
                max_raw_files: 6,
            }),
            ..MaintenanceOptions::default()
        };
        let expected = |n: u64| (1..=n).map(|n| format!("line {n}")).collect::<Vec<_>>();

        write(1).await;
        let report = run_scheduled_maintenance(&store, hour.start_nanos() + 5 * MINUTE, &options)
            .await
            .expect("runs");
        assert_eq!(
            report.hours_waiting,
            vec![hour.to_string()],
            "3 raw files of 6"
        );
        assert!(report.hours_compacted.is_empty());

        write(2).await;
        let report = run_scheduled_maintenance(&store, hour.start_nanos() + 10 * MINUTE, &options)
            .await
            .expect("runs");
        assert_eq!(report.hours_compacted, vec![hour.to_string()]);
        assert_eq!(report.hours_compacted_open, vec![hour.to_string()]);
        assert_eq!(generation(&store, &hour).await, Some(1));
        assert_eq!(
            report.raw_deleted, 6,
            "the covered segments, GC without grace"
        );
        assert_eq!(log_messages(&store).await, expected(2));

        // A later delivery into the open hour: raw until the next run covers it.
        write(3).await;
        let report = run_scheduled_maintenance(&store, hour.start_nanos() + 15 * MINUTE, &options)
            .await
            .expect("runs");
        assert_eq!(report.hours_waiting, vec![hour.to_string()]);
        assert_eq!(generation(&store, &hour).await, Some(1));
        assert_eq!(
            log_messages(&store).await,
            expected(3),
            "generation 1 and one raw delivery"
        );
        write(4).await;
        let report = run_scheduled_maintenance(&store, hour.start_nanos() + 20 * MINUTE, &options)
            .await
            .expect("runs");
        assert_eq!(report.hours_compacted_open, vec![hour.to_string()]);
        assert_eq!(generation(&store, &hour).await, Some(2));
        assert_eq!(
            report.rows_out,
            4 + 4 + 4,
            "generation 2 holds generation 1's rows and the two new deliveries'"
        );
        assert_eq!(log_messages(&store).await, expected(4));

        // One late delivery, below the count: the settled run compacts it.
        write(5).await;
        let settled = hour.start_nanos() + HOUR_NANOS + 15 * MINUTE;
        let report = run_scheduled_maintenance(&store, settled, &options)
            .await
            .expect("runs");
        assert_eq!(report.hours_compacted, vec![hour.to_string()]);
        assert!(report.hours_compacted_open.is_empty(), "settled now");
        assert_eq!(generation(&store, &hour).await, Some(3));
        assert_eq!(log_messages(&store).await, expected(5));
        let report = run_scheduled_maintenance(&store, settled + MINUTE, &options)
            .await
            .expect("runs");
        assert_eq!(report, MaintenanceReport::default(), "nothing left to do");
    }

    /// How often a run listed each table's raw partition of `hour`, in `listed`
    /// (the prefixes a [`ListingStore`] recorded).
    fn raw_listings(listed: &[String], hour: &HourPartition) -> Vec<usize> {
        crate::index::schema::TABLES
            .iter()
            .map(|table| {
                let prefix = crate::index::schema::partition_dir(table, hour);
                listed.iter().filter(|listed| **listed == prefix).count()
            })
            .collect()
    }

    /// A run lists each table's raw partition of an hour once to decide and
    /// plan: the plan that decides is the one compaction covers. Before, the
    /// hours needing compaction, the open hour's backlog and the compaction's
    /// own plan (twice per table) each listed them: 5 listings of the 4
    /// tables in a run that waits, 13 by the time a compaction had its plan.
    #[tokio::test]
    async fn a_run_lists_each_raw_partition_of_an_hour_once_before_compacting_it() {
        use tracelake_testkit::index::ListingStore;

        let listing = Arc::new(ListingStore::new(object_store::memory::InMemory::new()));
        let store = IndexStore::from_object_store(listing.clone(), Default::default());
        let writer = IndexWriter::new(store.clone());
        let hour = HourPartition::parse("2026-11-29T05").expect("hour");
        let planned = Arc::new(std::sync::Mutex::new(None::<Vec<String>>));
        let mut options = MaintenanceOptions {
            grace: Duration::ZERO,
            open_hour: Some(OpenHourPolicy {
                max_raw_age: None,
                max_raw_files: 6,
            }),
            ..MaintenanceOptions::default()
        };
        let (hook_listing, hook_planned) = (listing.clone(), planned.clone());
        options.compact.on_step = Some(Arc::new(move |step: &CompactionStep| {
            if matches!(step, CompactionStep::Planned { .. }) {
                *hook_planned.lock().map_err(|e| e.to_string())? = Some(hook_listing.listed());
            }
            Ok(())
        }));
        let write = |n: u64| deliver(&writer, &hour, n);

        // Below the count: the hour waits, after one listing per table.
        write(1).await;
        listing.clear();
        let report = run_scheduled_maintenance(&store, hour.start_nanos(), &options)
            .await
            .expect("runs");
        assert_eq!(report.hours_waiting, vec![hour.to_string()]);
        assert_eq!(raw_listings(&listing.listed(), &hour), [1, 1, 1, 1]);

        // At the count: compacted with the plan that decided it.
        write(2).await;
        listing.clear();
        let report = run_scheduled_maintenance(&store, hour.start_nanos(), &options)
            .await
            .expect("runs");
        assert_eq!(report.hours_compacted_open, vec![hour.to_string()]);
        let planned = planned
            .lock()
            .expect("hook done")
            .clone()
            .expect("compaction planned");
        assert_eq!(raw_listings(&planned, &hour), [1, 1, 1, 1]);
    }

    /// By age: the open hour waits while its oldest raw segment is younger than
    /// `max_raw_age` (by the store's modification time) and is compacted after.
    #[tokio::test]
    async fn an_open_hour_is_compacted_once_its_oldest_raw_segment_is_old_enough() {
        let store = IndexStore::from_object_store(
            Arc::new(object_store::memory::InMemory::new()),
            Default::default(),
        );
        let writer = IndexWriter::new(store.clone());
        // An hour that cannot have settled by the machine's clock.
        let hour = HourPartition::parse("2099-01-01T00").expect("hour");
        deliver(&writer, &hour, 1).await;
        let backlog = raw_backlog(&store, &hour).await.expect("listed");
        assert_eq!(backlog.files, 3, "spans, logs and trace_index segments");
        let written = backlog
            .oldest
            .expect("the store gives modification times")
            .duration_since(SystemTime::UNIX_EPOCH)
            .expect("after 1970");
        let written = i64::try_from(written.as_nanos()).expect("fits");
        let options = MaintenanceOptions {
            grace: Duration::ZERO,
            open_hour: Some(OpenHourPolicy {
                max_raw_age: Some(Duration::from_secs(300)),
                max_raw_files: 1_000,
            }),
            ..MaintenanceOptions::default()
        };
        let report = run_scheduled_maintenance(&store, written + 4 * MINUTE, &options)
            .await
            .expect("runs");
        assert_eq!(report.hours_waiting, vec![hour.to_string()]);
        assert_eq!(generation(&store, &hour).await, None);
        let report = run_scheduled_maintenance(&store, written + 5 * MINUTE, &options)
            .await
            .expect("runs");
        assert_eq!(report.hours_compacted_open, vec![hour.to_string()]);
        assert_eq!(generation(&store, &hour).await, Some(1));
        assert_eq!(raw_backlog(&store, &hour).await.expect("listed").files, 0);
        assert_eq!(log_messages(&store).await, vec!["line 1".to_owned()]);
    }
}
