//! Row counts per table and partition: live, covered and awaiting GC.
//!
//! Live rows are what readers see ([`crate::manifest::live_files`]); covered
//! rows are raw segments a manifest already holds (GC deletes them after its
//! grace period); garbage files are compacted files no current manifest names
//! (replaced generations and orphans of crashed or losing runs).

use parquet::file::reader::FileReader as _;
use parquet::file::serialized_reader::SerializedFileReader;

use crate::manifest::{self, LiveSource};
use crate::schema;
use crate::store::{IndexStore, StoreError};

/// Files and rows of one table partition.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PartitionStats {
    /// The table (`spans`, `logs`, `invocations`, `trace_index`).
    pub table: String,
    /// `dt=YYYY-MM-DD/hour=HH`.
    pub partition: String,
    /// Live files: compacted outputs of the latest manifest and uncovered raw segments.
    pub files: u64,
    /// Live rows.
    pub rows: u64,
    /// Bytes of the live files.
    pub bytes: u64,
    /// The latest manifest's generation, 0 for an hour never compacted.
    pub generation: u64,
    /// Live files that are raw segments (not compacted yet, or late).
    pub raw_files: u64,
    /// Raw segments covered by the manifest, awaiting GC.
    pub covered_files: u64,
    /// Rows of the covered raw segments.
    pub covered_rows: u64,
    /// Compacted files no current manifest names, awaiting GC.
    pub garbage_files: u64,
}

/// Why stats could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A manifest could not be read.
    #[error(transparent)]
    Manifest(#[from] crate::manifest::ManifestError),
    /// A file in the index that is not readable Parquet.
    #[error("cannot read parquet footer of {path}: {reason}")]
    Parquet {
        /// Path relative to the root.
        path: String,
        /// Why.
        reason: String,
    },
}

async fn footer_rows(store: &IndexStore, relative: &str) -> Result<u64, StatsError> {
    let bytes = store.get(relative).await?;
    let reader = SerializedFileReader::new(bytes).map_err(|e| StatsError::Parquet {
        path: relative.to_owned(),
        reason: e.to_string(),
    })?;
    Ok(reader.metadata().file_metadata().num_rows().max(0) as u64)
}

/// Counts files and rows of every table partition, and quarantine records as
/// a table of their own (rows = records).
///
/// # Errors
/// [`StatsError`] when the store fails or a file is not readable.
pub async fn index_stats(store: &IndexStore) -> Result<Vec<PartitionStats>, StatsError> {
    let mut stats: Vec<PartitionStats> = Vec::new();
    for hour in manifest::hours(store).await? {
        let latest = manifest::latest_manifest(store, &hour).await?;
        for table in schema::TABLES {
            let set = manifest::live_set_with(store, table, &hour, latest.clone()).await?;
            let mut entry = PartitionStats {
                table: table.to_owned(),
                partition: hour.path(),
                files: 0,
                rows: 0,
                bytes: 0,
                generation: latest.as_ref().map_or(0, |m| m.generation),
                raw_files: 0,
                covered_files: 0,
                covered_rows: 0,
                garbage_files: 0,
            };
            for file in &set.files {
                entry.files += 1;
                entry.bytes += file.bytes;
                entry.rows += match file.rows {
                    Some(rows) => rows,
                    None => footer_rows(store, &file.path).await?,
                };
                entry.raw_files += u64::from(file.source == LiveSource::Raw);
            }
            for segment in &set.covered_raw {
                entry.covered_files += 1;
                entry.covered_rows += footer_rows(store, &segment.path).await?;
            }
            let named: Vec<&str> = latest.iter().flat_map(|m| m.output_paths()).collect();
            let compacted = format!("{}/", schema::compacted_dir(table, &hour));
            for object in store.list(&compacted).await? {
                let path = store.relative(&object.location);
                entry.garbage_files += u64::from(!named.contains(&path.as_str()));
            }
            if entry.files + entry.covered_files + entry.garbage_files > 0 {
                stats.push(entry);
            }
        }
    }
    let prefix = format!("{}/{}", schema::FORMAT_VERSION_DIR, schema::QUARANTINE);
    for object in store.list(&prefix).await? {
        let relative = store.relative(&object.location);
        let Some(rest) = relative.strip_prefix(&format!("{prefix}/")) else {
            continue;
        };
        let Some((partition, _file)) = rest.rsplit_once('/') else {
            continue;
        };
        match stats
            .iter_mut()
            .find(|s| s.table == schema::QUARANTINE && s.partition == partition)
        {
            Some(entry) => {
                entry.files += 1;
                entry.rows += 1;
                entry.bytes += object.size;
            }
            None => stats.push(PartitionStats {
                table: schema::QUARANTINE.to_owned(),
                partition: partition.to_owned(),
                files: 1,
                rows: 1,
                bytes: object.size,
                generation: 0,
                raw_files: 1,
                covered_files: 0,
                covered_rows: 0,
                garbage_files: 0,
            }),
        }
    }
    Ok(stats)
}
