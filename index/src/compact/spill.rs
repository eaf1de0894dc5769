//! Dedupe and sort of one table of one hour within a memory budget.
//!
//! Rows are buffered in memory. When they exceed the budget, they and every
//! later row are hash-partitioned by natural key into bucket files on local
//! disk: all copies of a key land in one bucket. Each bucket is then read
//! back alone, deduplicated, linked, sorted, and written as a sorted run; the
//! runs are merged into the output in one pass. An hour within the budget never
//! touches the disk.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BinaryHeap, HashMap};
use std::fs::File;
use std::hash::{Hash as _, Hasher as _};
use std::path::{Path, PathBuf};

use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::dedupe::CompactRow;
use super::options::CompactionError;

/// Rows per spill write and read.
const SPILL_BATCH_ROWS: usize = 4096;

fn spill_error(path: &Path, reason: impl std::fmt::Display) -> CompactionError {
    CompactionError::Spill {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

fn spill_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).unwrap_or_default()))
        .set_max_row_group_row_count(Some(SPILL_BATCH_ROWS))
        .build()
}

/// One spill file being written.
struct SpillWriter<R> {
    path: PathBuf,
    writer: ArrowWriter<File>,
    pending: Vec<R>,
}

impl<R: CompactRow> SpillWriter<R> {
    fn create(path: PathBuf) -> Result<SpillWriter<R>, CompactionError> {
        let file = File::create(&path).map_err(|e| spill_error(&path, e))?;
        let schema = crate::schema::schema_of(R::TABLE)
            .ok_or_else(|| spill_error(&path, "unknown table"))?;
        let writer = ArrowWriter::try_new(file, schema, Some(spill_properties()))
            .map_err(|e| spill_error(&path, e))?;
        Ok(SpillWriter {
            path,
            writer,
            pending: Vec::new(),
        })
    }

    fn push(&mut self, row: R) -> Result<(), CompactionError> {
        self.pending.push(row);
        if self.pending.len() >= SPILL_BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), CompactionError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = R::to_batch(&self.pending).map_err(|e| spill_error(&self.path, e))?;
        self.writer
            .write(&batch)
            .map_err(|e| spill_error(&self.path, e))?;
        self.pending.clear();
        Ok(())
    }

    fn close(mut self) -> Result<PathBuf, CompactionError> {
        self.flush()?;
        self.writer
            .close()
            .map_err(|e| spill_error(&self.path, e))?;
        Ok(self.path)
    }
}

/// Reads a spill file back, a batch of rows at a time.
struct SpillReader<R> {
    path: PathBuf,
    reader: ParquetRecordBatchReader,
    rows: std::vec::IntoIter<R>,
}

impl<R: CompactRow> SpillReader<R> {
    fn open(path: PathBuf) -> Result<SpillReader<R>, CompactionError> {
        let file = File::open(&path).map_err(|e| spill_error(&path, e))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.with_batch_size(SPILL_BATCH_ROWS).build())
            .map_err(|e| spill_error(&path, e))?;
        Ok(SpillReader {
            path,
            reader,
            rows: Vec::new().into_iter(),
        })
    }

    fn next_row(&mut self) -> Result<Option<R>, CompactionError> {
        loop {
            if let Some(row) = self.rows.next() {
                return Ok(Some(row));
            }
            match self.reader.next() {
                None => return Ok(None),
                Some(batch) => {
                    let batch = batch.map_err(|e| spill_error(&self.path, e))?;
                    let rows = R::from_batch(&batch).map_err(|e| spill_error(&self.path, e))?;
                    self.rows = rows.into_iter();
                }
            }
        }
    }
}

/// Collects one table's rows of an hour: dedupes, links and sorts them.
pub struct TableSorter<R: CompactRow> {
    budget_bytes: usize,
    spill_dir: PathBuf,
    expected_bytes: usize,
    buffer: Vec<R>,
    buffered_bytes: usize,
    buckets: Vec<SpillWriter<R>>,
    /// Rows pushed.
    pub rows_in: u64,
    /// Bytes of rows spilled to disk.
    pub spilled_bytes: u64,
    /// The largest estimate of rows held in memory at once.
    pub peak_buffered_bytes: usize,
}

impl<R: CompactRow> TableSorter<R> {
    /// A sorter that keeps at most about `budget_bytes` of rows in memory,
    /// spilling into `spill_dir`, for a table expected to hold about
    /// `expected_bytes` of rows (which sets the number of buckets).
    pub fn new(budget_bytes: usize, spill_dir: &Path, expected_bytes: usize) -> TableSorter<R> {
        TableSorter {
            budget_bytes: budget_bytes.max(1),
            spill_dir: spill_dir.to_owned(),
            expected_bytes,
            buffer: Vec::new(),
            buffered_bytes: 0,
            buckets: Vec::new(),
            rows_in: 0,
            spilled_bytes: 0,
            peak_buffered_bytes: 0,
        }
    }

    /// Whether the rows went to disk.
    pub fn spilled(&self) -> bool {
        !self.buckets.is_empty()
    }

    fn bucket_of(&self, row: &R) -> usize {
        let mut hasher = DefaultHasher::new();
        row.natural_key().hash(&mut hasher);
        (hasher.finish() % self.buckets.len() as u64) as usize
    }

    fn start_spilling(&mut self) -> Result<(), CompactionError> {
        // Enough buckets that each one, read back alone, fits in half the budget.
        let total = self.expected_bytes.max(self.buffered_bytes * 2);
        let count = (total / (self.budget_bytes / 2).max(1) + 1).clamp(2, 256);
        for index in 0..count {
            let path = self
                .spill_dir
                .join(format!("{}-bucket-{index:03}.parquet", R::TABLE));
            self.buckets.push(SpillWriter::create(path)?);
        }
        for row in std::mem::take(&mut self.buffer) {
            self.spill(row)?;
        }
        self.buffered_bytes = 0;
        Ok(())
    }

    fn spill(&mut self, row: R) -> Result<(), CompactionError> {
        self.spilled_bytes += row.estimated_bytes() as u64;
        let bucket = self.bucket_of(&row);
        self.buckets[bucket].push(row)
    }

    /// Adds one row.
    ///
    /// # Errors
    /// [`CompactionError::Spill`] when the spill disk fails.
    pub fn push(&mut self, row: R) -> Result<(), CompactionError> {
        self.rows_in += 1;
        if self.spilled() {
            return self.spill(row);
        }
        self.buffered_bytes += row.estimated_bytes();
        self.peak_buffered_bytes = self.peak_buffered_bytes.max(self.buffered_bytes);
        self.buffer.push(row);
        if self.buffered_bytes > self.budget_bytes {
            self.start_spilling()?;
        }
        Ok(())
    }

    /// Dedupes, applies `link` to every row (it returns whether it changed
    /// the row), sorts, and returns the rows in output order, with the number
    /// of duplicates dropped and of rows linked.
    ///
    /// # Errors
    /// [`CompactionError::Spill`] when the spill disk fails.
    pub fn finish(
        mut self,
        mut link: impl FnMut(&mut R) -> bool,
    ) -> Result<SortedRows<R>, CompactionError> {
        if !self.spilled() {
            let (rows, duplicates, linked) =
                dedupe_link_sort(std::mem::take(&mut self.buffer), &mut link);
            return Ok(SortedRows {
                source: Source::Memory(rows.into_iter()),
                duplicates_dropped: duplicates,
                links_resolved: linked,
                peak_buffered_bytes: self.peak_buffered_bytes,
            });
        }
        let mut duplicates_dropped = 0;
        let mut links_resolved = 0;
        let mut peak = self.peak_buffered_bytes;
        let mut runs = Vec::new();
        for (index, bucket) in std::mem::take(&mut self.buckets).into_iter().enumerate() {
            let path = bucket.close()?;
            let mut reader = SpillReader::<R>::open(path.clone())?;
            let mut rows = Vec::new();
            let mut bytes = 0;
            while let Some(row) = reader.next_row()? {
                bytes += row.estimated_bytes();
                rows.push(row);
            }
            peak = peak.max(bytes);
            drop(reader);
            let _ = std::fs::remove_file(&path);
            let (rows, duplicates, linked) = dedupe_link_sort(rows, &mut link);
            duplicates_dropped += duplicates;
            links_resolved += linked;
            let run_path = self
                .spill_dir
                .join(format!("{}-run-{index:03}.parquet", R::TABLE));
            let mut run = SpillWriter::create(run_path)?;
            for row in rows {
                run.push(row)?;
            }
            runs.push(run.close()?);
        }
        let mut readers = Vec::new();
        for path in runs {
            readers.push(SpillReader::open(path)?);
        }
        let mut heap = BinaryHeap::new();
        for (run, reader) in readers.iter_mut().enumerate() {
            if let Some(row) = reader.next_row()? {
                heap.push(HeapEntry { row, run });
            }
        }
        Ok(SortedRows {
            source: Source::Runs { readers, heap },
            duplicates_dropped,
            links_resolved,
            peak_buffered_bytes: peak,
        })
    }
}

fn dedupe_link_sort<R: CompactRow>(
    rows: Vec<R>,
    link: &mut impl FnMut(&mut R) -> bool,
) -> (Vec<R>, u64, u64) {
    let before = rows.len();
    let mut by_key: HashMap<R::Key, R> = HashMap::with_capacity(rows.len());
    for row in rows {
        let key = row.natural_key();
        let merged = match by_key.remove(&key) {
            Some(kept) => kept.merge(row),
            None => row,
        };
        by_key.insert(key, merged);
    }
    let mut rows: Vec<R> = by_key.into_values().collect();
    let duplicates = (before - rows.len()) as u64;
    let mut linked = 0;
    for row in &mut rows {
        linked += u64::from(link(row));
    }
    rows.sort_by(R::output_cmp);
    (rows, duplicates, linked)
}

struct HeapEntry<R> {
    row: R,
    run: usize,
}

impl<R: CompactRow> PartialEq for HeapEntry<R> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl<R: CompactRow> Eq for HeapEntry<R> {}

impl<R: CompactRow> PartialOrd for HeapEntry<R> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<R: CompactRow> Ord for HeapEntry<R> {
    /// Reversed: `BinaryHeap` pops the largest, the merge wants the smallest.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other
            .row
            .output_cmp(&self.row)
            .then_with(|| other.run.cmp(&self.run))
    }
}

enum Source<R: CompactRow> {
    Memory(std::vec::IntoIter<R>),
    Runs {
        readers: Vec<SpillReader<R>>,
        heap: BinaryHeap<HeapEntry<R>>,
    },
}

/// A table's rows in output order, from memory or merged from sorted runs.
pub struct SortedRows<R: CompactRow> {
    source: Source<R>,
    /// Rows dropped as copies of another row's key.
    pub duplicates_dropped: u64,
    /// Rows the link function changed.
    pub links_resolved: u64,
    /// The largest estimate of rows held in memory at once.
    pub peak_buffered_bytes: usize,
}

impl<R: CompactRow> SortedRows<R> {
    /// The next row in output order.
    ///
    /// # Errors
    /// [`CompactionError::Spill`] when a sorted run cannot be read.
    pub fn next_row(&mut self) -> Result<Option<R>, CompactionError> {
        match &mut self.source {
            Source::Memory(rows) => Ok(rows.next()),
            Source::Runs { readers, heap } => {
                let Some(HeapEntry { row, run }) = heap.pop() else {
                    return Ok(None);
                };
                if let Some(next) = readers[run].next_row()? {
                    heap.push(HeapEntry { row: next, run });
                }
                Ok(Some(row))
            }
        }
    }
}
