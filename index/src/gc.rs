//! Garbage collection (DESIGN.md "Index engine"): deletes what no reader can
//! still need, a grace period after it stopped being referenced.
//!
//! For each hour, let K be the newest manifest created at least `grace` ago. A
//! reader that started after K was created uses K or a later generation; one
//! that started before has had `grace` to finish. So GC deletes, once their own
//! object is also older than `grace`:
//! - raw segments covered by K (covered sets only grow, so every later
//!   generation covers them too; a retried delivery of one is ignored anyway);
//! - compacted files of generations older than K (replaced outputs, and orphans
//!   of crashed or losing runs of those generations), and orphans of
//!   generation K from other runs.
//!
//! It never deletes a manifest, an output of a generation ≥ K, a file the
//! current symlink manifest names, or anything in an hour without such a K.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::manifest::{self, ManifestError};
use crate::schema::{self, HourPartition};
use crate::store::IndexStore;
use crate::symlink;

/// The default grace period: one hour.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(3_600);

/// What GC did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Hours looked at.
    pub hours: u64,
    /// Covered raw segments deleted.
    pub raw_deleted: u64,
    /// Replaced or orphaned compacted files deleted.
    pub compacted_deleted: u64,
    /// Bytes freed.
    pub bytes_deleted: u64,
    /// Files that could go but are still within the grace period.
    pub awaiting_grace: u64,
}

/// The generation and run a compacted file's name carries: `g000007-<run>-000.parquet`.
pub fn output_generation(file_name: &str) -> Option<(u64, &str)> {
    let rest = file_name.strip_prefix('g')?;
    let (generation, rest) = rest.split_once('-')?;
    let (run, _) = rest.split_once('-')?;
    Some((generation.parse().ok()?, run))
}

/// Collects garbage in every hour.
///
/// # Errors
/// [`ManifestError`] when the store fails.
pub async fn collect_garbage(
    store: &IndexStore,
    grace: Duration,
    dry_run: bool,
) -> Result<GcReport, ManifestError> {
    let mut report = GcReport::default();
    let now = Utc::now();
    for hour in manifest::hours(store).await? {
        report.hours += 1;
        collect_hour(store, &hour, grace, now, dry_run, &mut report).await?;
    }
    Ok(report)
}

/// Whether what the store wrote at `written` is `grace` old at `now`; a time
/// after `now` (a store's clock ahead of this machine's) never is.
fn at_least_old(written: DateTime<Utc>, now: DateTime<Utc>, grace: Duration) -> bool {
    (now - written).to_std().is_ok_and(|age| age >= grace)
}

async fn collect_hour(
    store: &IndexStore,
    hour: &HourPartition,
    grace: Duration,
    now: DateTime<Utc>,
    dry_run: bool,
    report: &mut GcReport,
) -> Result<(), ManifestError> {
    let old_enough = |time: DateTime<Utc>| at_least_old(time, now, grace);
    let manifests_prefix = format!("{}/", schema::manifests_dir(hour));
    let mut settled: Option<u64> = None;
    for object in store.list(&manifests_prefix).await? {
        let Some(generation) = object.location.filename().and_then(|n| {
            n.strip_prefix('g')?
                .strip_suffix(".json")?
                .parse::<u64>()
                .ok()
        }) else {
            continue;
        };
        if old_enough(object.last_modified) {
            settled = settled.max(Some(generation));
        }
    }
    let Some(settled) = settled else {
        return Ok(());
    };
    let manifest = manifest::read_manifest(store, hour, settled).await?;
    let latest = manifest::latest_manifest(store, hour).await?;
    let mut protected: BTreeSet<String> = BTreeSet::new();
    if let Some(latest) = &latest {
        protected.extend(latest.output_paths().map(str::to_owned));
    }
    protected.extend(manifest.output_paths().map(str::to_owned));
    for table in schema::TABLES {
        protected.extend(symlink::symlinked_paths(store, table, hour).await?);
    }

    for table in schema::TABLES {
        for segment in manifest::raw_segments(store, table, hour).await? {
            if !manifest.covers(table, &segment.name) || protected.contains(&segment.path) {
                continue;
            }
            if !old_enough(segment.last_modified.into()) {
                report.awaiting_grace += 1;
                continue;
            }
            if !dry_run {
                store.delete(&segment.path).await?;
            }
            report.raw_deleted += 1;
            report.bytes_deleted += segment.bytes;
        }
        let compacted_prefix = format!("{}/", schema::compacted_dir(table, hour));
        for object in store.list(&compacted_prefix).await? {
            let path = store.relative(&object.location);
            if protected.contains(&path) {
                continue;
            }
            let Some((generation, run)) = object.location.filename().and_then(output_generation)
            else {
                continue;
            };
            let replaced = generation < settled || (generation == settled && run != manifest.run);
            if !replaced {
                continue;
            }
            if !old_enough(object.last_modified) {
                report.awaiting_grace += 1;
                continue;
            }
            if !dry_run {
                store.delete(&path).await?;
            }
            report.compacted_deleted += 1;
            report.bytes_deleted += object.size;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grace_is_measured_from_the_store_s_time_and_a_future_time_is_never_old() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).expect("in range");
        let minute = chrono::TimeDelta::minutes(1);
        let grace = Duration::from_secs(3_600);
        assert!(at_least_old(now - minute * 60, now, grace));
        assert!(!at_least_old(now - minute * 59, now, grace));
        assert!(at_least_old(now, now, Duration::ZERO));
        assert!(!at_least_old(now + minute, now, Duration::ZERO));
    }
}
