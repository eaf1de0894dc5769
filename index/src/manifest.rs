//! Manifests: which files of an hour are live (DESIGN.md "Index engine").
//!
//! A manifest is the commit point of one compaction of one hour. Generation
//! `g` lives at `v1/_manifests/dt=…/hour=…/g00000g.json`, is created with
//! put-if-absent, and is never rewritten. It lists, per table, the outputs of
//! that compaction and the cumulative set of raw segment names they cover.
//!
//! **Live files of an hour** = outputs(latest manifest) ∪ (raw listing − covered(latest)).
//! [`live_files`] is the one implementation of that rule; every reader calls it.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::schema::{self, HourPartition};
use crate::store::{IndexStore, StoreError};

/// The `format` field of every manifest this version writes.
pub const MANIFEST_FORMAT: &str = "tracelake-manifest-v1";

/// Why a manifest could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A manifest that is not the JSON this version reads.
    #[error("cannot read manifest {path}: {reason}")]
    Invalid {
        /// The manifest's path relative to the root.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// One compacted file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputFile {
    /// Path relative to the index root.
    pub path: String,
    /// Rows in the file.
    pub rows: u64,
    /// Size of the file in bytes.
    pub bytes: u64,
    /// The smallest non-null `trace_id` in the file, if any.
    pub min_trace_id: Option<String>,
    /// The largest `trace_id` in the file, if any.
    pub max_trace_id: Option<String>,
}

/// What a manifest says about one table of its hour.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableManifest {
    /// The compacted files of the table: the live data of every covered segment.
    pub outputs: Vec<OutputFile>,
    /// Raw segment names (file names without `.parquet`) whose rows the
    /// outputs hold, including those of every earlier generation. Never shrinks.
    pub covered: BTreeSet<String>,
}

/// Figures of the compaction that wrote a manifest, for operators.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompactionFigures {
    /// Files read (outputs of the parent generation and raw segments).
    pub files_in: u64,
    /// Rows read, before dedupe.
    pub rows_in: u64,
    /// Rows written, all tables.
    pub rows_out: u64,
    /// Rows dropped as duplicates of another row's natural key.
    pub duplicates_dropped: u64,
    /// Log rows without a trace that compaction linked to one (rows it moved
    /// to another trace, or unlinked on a conflict, are not counted).
    pub links_resolved: u64,
    /// Bytes read.
    pub bytes_in: u64,
    /// Bytes written.
    pub bytes_out: u64,
}

/// One generation of one hour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`MANIFEST_FORMAT`].
    pub format: String,
    /// 1 for the first compaction of the hour, then +1 per compaction.
    pub generation: u64,
    /// The hour, `YYYY-MM-DDTHH`.
    pub hour: String,
    /// The unique id of the compaction run that wrote it (also in its outputs' names).
    pub run: String,
    /// When it was written (RFC 3339, UTC).
    pub created_at: String,
    /// Per table name: outputs and covered segments.
    pub tables: BTreeMap<String, TableManifest>,
    /// What the compaction did.
    #[serde(default)]
    pub figures: CompactionFigures,
}

impl Manifest {
    /// The manifest's table entry, empty for a table it does not name.
    pub fn table(&self, table: &str) -> TableManifest {
        self.tables.get(table).cloned().unwrap_or_default()
    }

    /// Whether a raw segment of `table` named `segment` is covered.
    pub fn covers(&self, table: &str, segment: &str) -> bool {
        self.tables
            .get(table)
            .is_some_and(|t| t.covered.contains(segment))
    }

    /// Every path (outputs of all tables) this manifest names.
    pub fn output_paths(&self) -> impl Iterator<Item = &str> {
        self.tables
            .values()
            .flat_map(|t| t.outputs.iter().map(|o| o.path.as_str()))
    }
}

/// The path of generation `generation` of an hour's manifest.
pub fn manifest_path(partition: &HourPartition, generation: u64) -> String {
    format!("{}/g{generation:06}.json", schema::manifests_dir(partition))
}

fn generation_of(file_name: &str) -> Option<u64> {
    file_name
        .strip_prefix('g')?
        .strip_suffix(".json")?
        .parse()
        .ok()
}

/// The generations of an hour's manifests that exist, ascending.
///
/// # Errors
/// [`StoreError`] when the listing fails.
pub async fn manifest_generations(
    store: &IndexStore,
    partition: &HourPartition,
) -> Result<Vec<u64>, StoreError> {
    let prefix = format!("{}/", schema::manifests_dir(partition));
    let mut generations: Vec<u64> = store
        .list(&prefix)
        .await?
        .iter()
        .filter_map(|object| object.location.filename().and_then(generation_of))
        .collect();
    generations.sort_unstable();
    Ok(generations)
}

/// Reads one generation of an hour's manifest.
///
/// # Errors
/// [`ManifestError`] when it is missing, unreadable or not a v1 manifest.
pub async fn read_manifest(
    store: &IndexStore,
    partition: &HourPartition,
    generation: u64,
) -> Result<Manifest, ManifestError> {
    let path = manifest_path(partition, generation);
    let bytes = store.get(&path).await?;
    let invalid = |reason: String| ManifestError::Invalid {
        path: path.clone(),
        reason,
    };
    let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?;
    if manifest.format != MANIFEST_FORMAT {
        return Err(invalid(format!("unknown format {:?}", manifest.format)));
    }
    if manifest.generation != generation {
        return Err(invalid(format!(
            "names generation {} in file of generation {generation}",
            manifest.generation
        )));
    }
    Ok(manifest)
}

/// The latest manifest of an hour, `None` for an hour never compacted.
///
/// # Errors
/// [`ManifestError`] when the store fails or the latest manifest is unreadable.
pub async fn latest_manifest(
    store: &IndexStore,
    partition: &HourPartition,
) -> Result<Option<Manifest>, ManifestError> {
    match manifest_generations(store, partition).await?.last() {
        Some(generation) => Ok(Some(read_manifest(store, partition, *generation).await?)),
        None => Ok(None),
    }
}

/// Creates a manifest if its generation does not exist yet: the commit.
/// Returns `false` when another compactor committed that generation first.
///
/// # Errors
/// [`ManifestError`] when the store fails.
pub async fn commit_manifest(
    store: &IndexStore,
    partition: &HourPartition,
    manifest: &Manifest,
) -> Result<bool, ManifestError> {
    let path = manifest_path(partition, manifest.generation);
    let text = serde_json::to_vec_pretty(manifest).map_err(|e| ManifestError::Invalid {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    Ok(store.put_if_absent(&path, Bytes::from(text)).await?)
}

/// A raw segment file of a table and hour, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSegment {
    /// Path relative to the root.
    pub path: String,
    /// The segment name: the file name without `.parquet`.
    pub name: String,
    /// Size in bytes.
    pub bytes: u64,
    /// When the store last wrote it.
    pub last_modified: std::time::SystemTime,
}

/// The raw segments of a table and hour, sorted by path.
///
/// # Errors
/// [`StoreError`] when the listing fails.
pub async fn raw_segments(
    store: &IndexStore,
    table: &str,
    partition: &HourPartition,
) -> Result<Vec<RawSegment>, StoreError> {
    let prefix = format!("{}/", schema::partition_dir(table, partition));
    Ok(store
        .list(&prefix)
        .await?
        .into_iter()
        .filter_map(|object| {
            let name = object
                .location
                .filename()?
                .strip_suffix(".parquet")?
                .to_owned();
            Some(RawSegment {
                path: store.relative(&object.location),
                name,
                bytes: object.size,
                last_modified: object.last_modified.into(),
            })
        })
        .collect())
}

/// Where a live file comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveSource {
    /// An output of the latest manifest.
    Compacted,
    /// A raw segment that manifest does not cover (not compacted yet, or late).
    Raw,
}

/// One live file of a table and hour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveFile {
    /// Path relative to the root.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Rows, when the manifest says (compacted files).
    pub rows: Option<u64>,
    /// Compacted output or raw segment.
    pub source: LiveSource,
    /// When the store last wrote it, for raw segments (a retried delivery
    /// rewrites its segment under the same name); `None` for compacted
    /// outputs, whose names are never reused.
    pub last_modified: Option<std::time::SystemTime>,
}

/// The live files of a table and hour, and the manifest they were read from.
#[derive(Debug, Clone, Default)]
pub struct LiveSet {
    /// The latest manifest, `None` for an hour never compacted.
    pub manifest: Option<Manifest>,
    /// The live files: compacted outputs first, then uncovered raw segments.
    pub files: Vec<LiveFile>,
    /// Raw segments listed but covered by the manifest (awaiting GC, or retried deliveries).
    pub covered_raw: Vec<RawSegment>,
    /// The raw segments among `files` (those the manifest does not cover), as
    /// listed: what a compaction of the hour newly covers.
    pub uncovered_raw: Vec<RawSegment>,
}

/// The live files of one table and hour: outputs(latest manifest) ∪ (raw
/// listing − covered(latest manifest)). The manifest is read before the
/// listing, so a compaction committing in between only leaves raw segments
/// that the older manifest does not cover: still read once, never twice.
///
/// # Errors
/// [`ManifestError`] when the store fails or the latest manifest is unreadable.
pub async fn live_files(
    store: &IndexStore,
    table: &str,
    partition: &HourPartition,
) -> Result<Vec<LiveFile>, ManifestError> {
    Ok(live_set(store, table, partition).await?.files)
}

/// Like [`live_files`], with the manifest and the covered raw segments.
///
/// # Errors
/// [`ManifestError`] when the store fails or the latest manifest is unreadable.
pub async fn live_set(
    store: &IndexStore,
    table: &str,
    partition: &HourPartition,
) -> Result<LiveSet, ManifestError> {
    let manifest = latest_manifest(store, partition).await?;
    live_set_with(store, table, partition, manifest).await
}

/// [`live_set`] against a given manifest (the one a compaction or GC already read).
///
/// # Errors
/// [`ManifestError`] when the store fails.
pub async fn live_set_with(
    store: &IndexStore,
    table: &str,
    partition: &HourPartition,
    manifest: Option<Manifest>,
) -> Result<LiveSet, ManifestError> {
    let split = split_live(store, table, partition, manifest.as_ref()).await?;
    Ok(LiveSet {
        manifest,
        files: split.files,
        covered_raw: split.covered_raw,
        uncovered_raw: split.uncovered_raw,
    })
}

/// [`live_files`] against a given manifest, the latest of the hour (a reader
/// that keeps the manifests it read).
///
/// # Errors
/// [`StoreError`] when the listing fails.
pub async fn live_files_with(
    store: &IndexStore,
    table: &str,
    partition: &HourPartition,
    manifest: Option<&Manifest>,
) -> Result<Vec<LiveFile>, StoreError> {
    Ok(split_live(store, table, partition, manifest).await?.files)
}

/// What one raw listing of a table and hour splits into against a manifest.
struct SplitListing {
    files: Vec<LiveFile>,
    covered_raw: Vec<RawSegment>,
    uncovered_raw: Vec<RawSegment>,
}

/// The live files of a table and hour against `manifest`, and the raw
/// segments it covers and does not cover: one listing.
async fn split_live(
    store: &IndexStore,
    table: &str,
    partition: &HourPartition,
    manifest: Option<&Manifest>,
) -> Result<SplitListing, StoreError> {
    let mut files = Vec::new();
    if let Some(entry) = manifest.and_then(|manifest| manifest.tables.get(table)) {
        files.extend(entry.outputs.iter().map(|output| LiveFile {
            path: output.path.clone(),
            bytes: output.bytes,
            rows: Some(output.rows),
            source: LiveSource::Compacted,
            last_modified: None,
        }));
    }
    let mut covered_raw = Vec::new();
    let mut uncovered_raw = Vec::new();
    for segment in raw_segments(store, table, partition).await? {
        if manifest.is_some_and(|m| m.covers(table, &segment.name)) {
            covered_raw.push(segment);
        } else {
            files.push(LiveFile {
                path: segment.path.clone(),
                bytes: segment.bytes,
                rows: None,
                source: LiveSource::Raw,
                last_modified: Some(segment.last_modified),
            });
            uncovered_raw.push(segment);
        }
    }
    Ok(SplitListing {
        files,
        covered_raw,
        uncovered_raw,
    })
}

/// Every hour that has raw segments or manifests, in any table, ascending.
///
/// # Errors
/// [`StoreError`] when a listing fails.
pub async fn hours(store: &IndexStore) -> Result<Vec<HourPartition>, StoreError> {
    let mut found = BTreeSet::new();
    let mut roots: Vec<String> = schema::TABLES
        .iter()
        .map(|table| format!("{}/{table}", schema::FORMAT_VERSION_DIR))
        .collect();
    roots.push(format!(
        "{}/{}",
        schema::FORMAT_VERSION_DIR,
        schema::MANIFESTS
    ));
    for root in roots {
        for day in store.list_dirs(&root).await? {
            for hour in store.list_dirs(&format!("{root}/{day}")).await? {
                if let Some(partition) = HourPartition::from_dirs(&day, &hour) {
                    found.insert(partition);
                }
            }
        }
    }
    Ok(found.into_iter().collect())
}
