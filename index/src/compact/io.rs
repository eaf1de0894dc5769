//! Compaction's I/O: input files read a row group at a time, and sorted rows
//! written as compacted files.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use futures::FutureExt as _;
use futures::TryStreamExt as _;
use futures::future::BoxFuture;
use object_store::buffered::BufWriter;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt as _};
use parquet::arrow::ParquetRecordBatchStreamBuilder;
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::async_reader::AsyncFileReader;
use parquet::arrow::async_writer::AsyncArrowWriter;
use parquet::errors::ParquetError;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};

use crate::manifest::OutputFile;
use crate::rows::TraceId;
use crate::schema::{self, HourPartition};
use crate::store::{IndexStore, StoreError};
use crate::writer::{COMPACTED_PAGE_ROWS, ROW_GROUP_ROWS, writer_properties};

use super::dedupe::CompactRow;
use super::options::{CompactionError, MAX_ROWS_PER_FILE};
use super::plan::InputFile;
use super::spill::SortedRows;

/// Rows decoded at a time from an input row group.
const READ_BATCH_ROWS: usize = 8192;

/// A unique id for one compaction run: 16 hex digits from the clock and a
/// randomly seeded hasher (`std`'s `RandomState` is seeded per process).
pub(super) fn run_id() -> String {
    use std::hash::{BuildHasher as _, Hasher as _};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_i64(chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX));
    hasher.write_u32(std::process::id());
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    format!("{:016x}", hasher.finish())
}

/// The largest fetch from any input file so far, shared by a compaction's readers.
#[derive(Debug, Default, Clone)]
pub(super) struct FetchMeter(Arc<AtomicU64>);

impl FetchMeter {
    /// The most bytes one fetch of row data (one range, or the column chunks
    /// of one row group) asked for; footers are not counted.
    pub(super) fn peak(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    fn record(&self, bytes: u64) {
        self.0.fetch_max(bytes, Ordering::Relaxed);
    }
}

/// Bytes fetched with the footer, enough for the metadata of a compacted file
/// in one GET.
const FOOTER_PREFETCH: usize = 64 * 1024;

/// A Parquet reader over one object (ranged GETs through `object_store`) that
/// records the size of its fetches in a [`FetchMeter`].
struct MeteredReader {
    store: Arc<dyn ObjectStore>,
    path: Path,
    size: u64,
    meter: FetchMeter,
    /// Off while the footer is read: the meter is about row data.
    metering: bool,
}

fn parquet_error(error: object_store::Error) -> ParquetError {
    ParquetError::External(Box::new(error))
}

impl AsyncFileReader for MeteredReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        if self.metering {
            self.meter.record(range.end.saturating_sub(range.start));
        }
        async move {
            self.store
                .get_range(&self.path, range)
                .await
                .map_err(parquet_error)
        }
        .boxed()
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<Range<u64>>,
    ) -> BoxFuture<'_, parquet::errors::Result<Vec<Bytes>>> {
        if self.metering {
            self.meter
                .record(ranges.iter().map(|r| r.end.saturating_sub(r.start)).sum());
        }
        async move {
            self.store
                .get_ranges(&self.path, &ranges)
                .await
                .map_err(parquet_error)
        }
        .boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        _options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<ParquetMetaData>>> {
        async move {
            let size = self.size;
            self.metering = false;
            let metadata = ParquetMetaDataReader::new()
                .with_prefetch_hint(Some(FOOTER_PREFETCH))
                .load_and_finish(&mut *self, size)
                .await;
            self.metering = true;
            Ok(Arc::new(metadata?))
        }
        .boxed()
    }
}

/// Streams the rows of one Parquet file of the store: the footer first, then
/// one row group at a time (ranged GETs), decoded [`READ_BATCH_ROWS`] rows at
/// a time. A compacted input of any size holds about one row group in memory.
pub(super) async fn read_rows<R: CompactRow>(
    store: &IndexStore,
    file: &InputFile,
    meter: &FetchMeter,
    mut each: impl FnMut(R) -> Result<(), CompactionError>,
) -> Result<u64, CompactionError> {
    let input_error = |reason: String| CompactionError::Input {
        path: file.path.clone(),
        reason,
    };
    let reader = MeteredReader {
        store: store.object_store(),
        path: store.path(&file.path),
        size: file.bytes,
        meter: meter.clone(),
        metering: true,
    };
    let mut stream = ParquetRecordBatchStreamBuilder::new(reader)
        .await
        .and_then(|builder| builder.with_batch_size(READ_BATCH_ROWS).build())
        .map_err(|e| input_error(e.to_string()))?;
    let mut rows = 0;
    while let Some(batch) = stream
        .try_next()
        .await
        .map_err(|e| input_error(e.to_string()))?
    {
        for row in R::from_batch(&batch).map_err(|e| input_error(e.to_string()))? {
            rows += 1;
            each(row)?;
        }
    }
    Ok(rows)
}

/// Writes sorted rows as one or more compacted files of a table.
pub(super) struct OutputWriter<'a> {
    pub(super) store: &'a IndexStore,
    pub(super) hour: &'a HourPartition,
    pub(super) generation: u64,
    pub(super) run: &'a str,
    pub(super) row_group_rows: usize,
    pub(super) written: Vec<OutputFile>,
}

impl OutputWriter<'_> {
    fn path(&self, table: &str, sequence: usize) -> String {
        format!(
            "{}/g{:06}-{}-{sequence:03}.parquet",
            schema::compacted_dir(table, self.hour),
            self.generation,
            self.run
        )
    }

    pub(super) async fn write<R: CompactRow>(
        &mut self,
        mut rows: SortedRows<R>,
        mut observe: impl FnMut(&R),
    ) -> Result<Vec<OutputFile>, CompactionError> {
        let mut files = Vec::new();
        let mut sequence = 0;
        let mut pending: Option<R> = rows.next_row()?;
        while pending.is_some() {
            let path = self.path(R::TABLE, sequence);
            sequence += 1;
            let output_error = |reason: String| CompactionError::Output {
                path: path.clone(),
                reason,
            };
            let schema = schema::schema_of(R::TABLE)
                .ok_or_else(|| output_error("unknown table".to_owned()))?;
            let sink = BufWriter::new(self.store.object_store(), self.store.path(&path));
            let mut writer = AsyncArrowWriter::try_new(
                sink,
                schema,
                Some(
                    writer_properties(R::TABLE, ROW_GROUP_ROWS)
                        .into_builder()
                        .set_max_row_group_row_count(Some(self.row_group_rows.max(1)))
                        .set_data_page_row_count_limit(COMPACTED_PAGE_ROWS)
                        .build(),
                ),
            )
            .map_err(|e| output_error(e.to_string()))?;
            let mut file_rows = 0usize;
            let mut batch: Vec<R> = Vec::with_capacity(8192);
            let (mut min_trace, mut max_trace): (Option<TraceId>, Option<TraceId>) = (None, None);
            while let Some(row) = pending.take() {
                observe(&row);
                if let Some(trace_id) = row.trace_id() {
                    min_trace = min_trace.min(Some(trace_id)).or(Some(trace_id));
                    max_trace = max_trace.max(Some(trace_id));
                }
                batch.push(row);
                file_rows += 1;
                if batch.len() == 8192 {
                    let encoded = R::to_batch(&batch).map_err(|e| output_error(e.to_string()))?;
                    writer
                        .write(&encoded)
                        .await
                        .map_err(|e| output_error(e.to_string()))?;
                    batch.clear();
                }
                pending = rows.next_row()?;
                if file_rows >= MAX_ROWS_PER_FILE {
                    break;
                }
            }
            if !batch.is_empty() {
                let encoded = R::to_batch(&batch).map_err(|e| output_error(e.to_string()))?;
                writer
                    .write(&encoded)
                    .await
                    .map_err(|e| output_error(e.to_string()))?;
            }
            writer
                .close()
                .await
                .map_err(|e| output_error(e.to_string()))?;
            let bytes = self
                .store
                .object_store()
                .head(&self.store.path(&path))
                .await
                .map_err(|e| output_error(e.to_string()))?
                .size;
            let file = OutputFile {
                path,
                rows: file_rows as u64,
                bytes,
                min_trace_id: min_trace.map(|id| id.to_string()),
                max_trace_id: max_trace.map(|id| id.to_string()),
            };
            self.written.push(file.clone());
            files.push(file);
        }
        Ok(files)
    }

    pub(super) async fn delete_all(&self) -> Result<(), StoreError> {
        for file in &self.written {
            self.store.delete(&file.path).await?;
        }
        Ok(())
    }
}
