//! Reading the index back without a query engine: for tests, the demo's
//! correlation report and small tools. Dashboards query with DataFusion instead.

use arrow::array::{Array, AsArray as _, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::compact::dedupe::CompactRow;
use crate::manifest;
use crate::schema;
use crate::stats::StatsError;
use crate::store::IndexStore;

/// Every live row of one table ([`crate::manifest::live_files`] of each hour),
/// as the record batches of its files, hour by hour.
///
/// # Errors
/// [`StatsError`] when the store fails or a file is not readable Parquet.
pub async fn read_table(store: &IndexStore, table: &str) -> Result<Vec<RecordBatch>, StatsError> {
    let mut batches = Vec::new();
    for hour in manifest::hours(store).await? {
        for file in manifest::live_files(store, table, &hour).await? {
            batches.extend(read_file(store, &file.path).await?);
        }
    }
    Ok(batches)
}

/// The record batches of one Parquet file of the store.
///
/// # Errors
/// [`StatsError`] when the store fails or the file is not readable Parquet.
pub async fn read_file(store: &IndexStore, relative: &str) -> Result<Vec<RecordBatch>, StatsError> {
    let mut batches = Vec::new();
    let bytes = store.get(relative).await?;
    let parquet_error = |reason: String| StatsError::Parquet {
        path: relative.to_owned(),
        reason,
    };
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
        .and_then(|builder| builder.build())
        .map_err(|e| parquet_error(e.to_string()))?;
    for batch in reader {
        batches.push(batch.map_err(|e| parquet_error(e.to_string()))?);
    }
    Ok(batches)
}

/// Every live row of the table of `R`, typed.
///
/// # Errors
/// [`StatsError`] when the store fails or a file is not readable as rows of the table.
pub async fn read_rows<R: CompactRow>(store: &IndexStore) -> Result<Vec<R>, StatsError> {
    let mut rows = Vec::new();
    for batch in read_table(store, R::TABLE).await? {
        rows.extend(R::from_batch(&batch).map_err(|e| StatsError::Parquet {
            path: R::TABLE.to_owned(),
            reason: e.to_string(),
        })?);
    }
    Ok(rows)
}

/// How one log row was linked: what the demo and tests compare with ground truth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLink {
    /// The CloudWatch event id of the line.
    pub event_id: String,
    /// The trace it is linked to, if any.
    pub trace_id: Option<String>,
    /// How it was linked (`trace_id`, `request_id`, `stream`), if it was.
    pub link: Option<String>,
    /// The line format the collector recognised.
    pub format: String,
}

/// The link of every row of `logs`.
///
/// # Errors
/// [`StatsError`] when the store fails or a live file is unreadable.
pub async fn read_log_links(store: &IndexStore) -> Result<Vec<LogLink>, StatsError> {
    let mut links = Vec::new();
    for batch in read_table(store, schema::LOGS).await? {
        let column = |name: &str| {
            batch
                .column_by_name(name)
                .map(|c| c.as_string::<i32>().clone())
        };
        let (Some(event_ids), Some(trace_ids), Some(link), Some(format)) = (
            column("event_id"),
            column("trace_id"),
            column("link"),
            column("format"),
        ) else {
            continue;
        };
        for row in 0..batch.num_rows() {
            let optional = |array: &arrow::array::StringArray| {
                (!array.is_null(row)).then(|| array.value(row).to_owned())
            };
            links.push(LogLink {
                event_id: event_ids.value(row).to_owned(),
                trace_id: optional(&trace_ids),
                link: optional(&link),
                format: format.value(row).to_owned(),
            });
        }
    }
    Ok(links)
}
