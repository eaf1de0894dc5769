//! Row counts per table and partition, read from the Parquet footers.

use parquet::file::reader::FileReader as _;
use parquet::file::serialized_reader::SerializedFileReader;

use crate::schema;
use crate::store::{IndexStore, StoreError};

/// Rows and files of one table partition.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PartitionStats {
    pub table: String,
    /// `dt=YYYY-MM-DD/hour=HH`.
    pub partition: String,
    pub files: u64,
    pub rows: u64,
    pub bytes: u64,
}

/// Why stats could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file in the index that is not readable Parquet.
    #[error("cannot read parquet footer of {path}: {reason}")]
    Parquet { path: String, reason: String },
}

/// Counts rows of every table partition, and quarantine records as a table of
/// their own (rows = records).
pub async fn index_stats(store: &IndexStore) -> Result<Vec<PartitionStats>, StatsError> {
    let mut stats: Vec<PartitionStats> = Vec::new();
    for table in schema::TABLES.iter().chain([&schema::QUARANTINE]) {
        let prefix = format!("{}/{table}", schema::FORMAT_VERSION_DIR);
        for object in store.list(&prefix).await? {
            let relative = store.relative(&object.location);
            let Some(rest) = relative.strip_prefix(&format!("{prefix}/")) else {
                continue;
            };
            let Some((partition, _file)) = rest.rsplit_once('/') else {
                continue;
            };
            let rows = if *table == schema::QUARANTINE {
                1
            } else {
                if !relative.ends_with(".parquet") {
                    continue;
                }
                let bytes = store.get(&relative).await?;
                let reader = SerializedFileReader::new(bytes).map_err(|e| StatsError::Parquet {
                    path: relative.clone(),
                    reason: e.to_string(),
                })?;
                reader.metadata().file_metadata().num_rows().max(0) as u64
            };
            match stats
                .iter_mut()
                .find(|s| s.table == *table && s.partition == partition)
            {
                Some(entry) => {
                    entry.files += 1;
                    entry.rows += rows;
                    entry.bytes += object.size;
                }
                None => stats.push(PartitionStats {
                    table: (*table).to_owned(),
                    partition: partition.to_owned(),
                    files: 1,
                    rows,
                    bytes: object.size,
                }),
            }
        }
    }
    Ok(stats)
}
