//! Planning a compaction: what an hour's next generation reads and covers.

use std::collections::BTreeMap;

use crate::manifest::{self, LiveFile, LiveSource, Manifest, RawSegment};
use crate::schema::{self, HourPartition};
use crate::store::IndexStore;

use super::options::CompactionError;

/// One file compaction reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// Path relative to the root.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
}

/// What compacting an hour would read and cover.
#[derive(Debug, Clone)]
pub struct HourPlan {
    /// The hour.
    pub hour: HourPartition,
    /// Its latest manifest, the parent of the next generation.
    pub parent: Option<Manifest>,
    /// Per table: the parent's outputs and the uncovered raw segments.
    pub inputs: BTreeMap<&'static str, Vec<InputFile>>,
    /// Per table: the raw segments the next generation newly covers.
    pub uncovered: BTreeMap<&'static str, Vec<RawSegment>>,
}

impl HourPlan {
    /// Whether there is anything to compact: a raw segment no manifest covers.
    pub fn needs_compaction(&self) -> bool {
        self.uncovered.values().any(|segments| !segments.is_empty())
    }

    /// Files and bytes the compaction reads (`trace_index` is rebuilt, not read).
    pub fn input_totals(&self) -> (u64, u64) {
        self.inputs
            .iter()
            .filter(|(table, _)| **table != schema::TRACE_INDEX)
            .flat_map(|(_, files)| files)
            .fold((0, 0), |(files, bytes), f| (files + 1, bytes + f.bytes))
    }

    /// The raw segments the next generation newly covers, all tables together.
    pub fn uncovered_segments(&self) -> impl Iterator<Item = &RawSegment> {
        self.uncovered.values().flatten()
    }

    /// The generation the compaction would commit.
    pub fn next_generation(&self) -> u64 {
        self.parent.as_ref().map_or(1, |m| m.generation + 1)
    }
}

/// Reads the latest manifest and the raw listing of an hour: each table's raw
/// partition is listed once, and the plan is all a compaction of the hour
/// needs from the listings ([`super::compact_planned`]).
///
/// # Errors
/// [`CompactionError`] when the store fails or the manifest is unreadable.
pub async fn plan_hour(
    store: &IndexStore,
    hour: &HourPartition,
) -> Result<HourPlan, CompactionError> {
    let parent = manifest::latest_manifest(store, hour).await?;
    let mut inputs = BTreeMap::new();
    let mut uncovered = BTreeMap::new();
    for table in schema::TABLES {
        let set = manifest::live_set_with(store, table, hour, parent.clone()).await?;
        let table_inputs = set
            .files
            .into_iter()
            .map(|file| InputFile {
                path: file.path,
                bytes: file.bytes,
            })
            .collect();
        inputs.insert(table, table_inputs);
        uncovered.insert(table, set.uncovered_raw);
    }
    Ok(HourPlan {
        hour: hour.clone(),
        parent,
        inputs,
        uncovered,
    })
}

/// Whether a table's live files in an hour (as [`manifest::live_files`]
/// lists them against the hour's latest manifest) call for a compaction: one
/// of them is a raw segment that manifest does not cover. The one rule of
/// [`hours_needing_compaction`] and of a reader that keeps its own listings
/// (the dashboards' live-file cache).
pub fn needs_compaction(live_files: &[LiveFile]) -> bool {
    live_files.iter().any(|file| file.source == LiveSource::Raw)
}

/// Hours with raw segments that no manifest covers, ascending.
///
/// # Errors
/// [`CompactionError`] when the store fails or a manifest is unreadable.
pub async fn hours_needing_compaction(
    store: &IndexStore,
) -> Result<Vec<HourPartition>, CompactionError> {
    let mut hours = Vec::new();
    for hour in manifest::hours(store).await? {
        let parent = manifest::latest_manifest(store, &hour).await?;
        for table in schema::TABLES {
            let live = manifest::live_files_with(store, table, &hour, parent.as_ref()).await?;
            if needs_compaction(&live) {
                hours.push(hour);
                break;
            }
        }
    }
    Ok(hours)
}
