//! Writing rows as Parquet segments and bad input as quarantine records.
//!
//! A segment's name is derived from its input (log group, stream, first and last
//! event id, event count), so a retried or duplicated delivery overwrites the
//! same objects instead of adding rows twice.

use std::borrow::Borrow;
use std::collections::BTreeMap;

use base64::Engine as _;
use bytes::Bytes;
use futures::{StreamExt as _, TryStreamExt as _};

use crate::columns;
use crate::rows::{InvocationRow, LogRow, SpanRow, StatusCode, TraceId, TraceIndexRow};
use crate::schema::{self, HourPartition};
use crate::store::{IndexStore, StoreError};

mod error;
mod names;
mod parquet_file;

pub use error::IndexError;
pub use names::{batch_segment_name, payload_segment_name, quarantine_record_name, segment_name};
pub(crate) use parquet_file::writer_properties;
pub use parquet_file::{
    COMPACTED_PAGE_ROWS, ROW_GROUP_ROWS, UNCOMPRESSED_BELOW_ROWS, encode_parquet,
};

/// Rows written per table by one segment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WrittenRows {
    /// Rows of `spans`.
    pub spans: u64,
    /// Rows of `logs`.
    pub logs: u64,
    /// Rows of `invocations`.
    pub invocations: u64,
    /// Rows of `trace_index`.
    pub trace_index: u64,
    /// Parquet objects written.
    pub files: u64,
}

/// How many files of a segment [`IndexWriter::put_segment`] writes at once. A
/// delivery has three or four; a batch spread over many hours has four per
/// hour, and this bounds the requests one segment has in flight.
pub const SEGMENT_PUTS_AT_ONCE: usize = 8;

/// References to the rows of each hour partition, in the partitions' order.
/// Rows are grouped by the number of the hour first: the partition (a
/// formatted date) is worked out once per hour rather than once per row.
fn group_by_partition<T>(
    rows: &[T],
    time_of: impl Fn(&T) -> i64,
) -> impl Iterator<Item = (HourPartition, Vec<&T>)> {
    let mut hours: BTreeMap<i64, Vec<&T>> = BTreeMap::new();
    for row in rows {
        hours
            .entry(time_of(row).div_euclid(schema::HOUR_NANOS))
            .or_default()
            .push(row);
    }
    hours
        .into_iter()
        .map(|(hour, rows)| (schema::HourPartition::of_hour_number(hour), rows))
}

/// Batches of at least this many rows encode their files on all cores; below
/// it, handing the files to other threads costs more than it saves.
pub const PARALLEL_ENCODE_ROWS: usize = 4096;

/// The rows of one table and hour, before encoding: references to them, since
/// a log row is ~250 bytes and sorting and grouping rows by value moved each
/// several times.
enum TableRows<'r> {
    Spans(Vec<&'r SpanRow>),
    Logs(Vec<&'r LogRow>),
    Invocations(Vec<&'r InvocationRow>),
}

impl TableRows<'_> {
    /// Sorts the rows by (service, time) (for invocations, function and end
    /// time); stable, so rows that tie keep their order.
    fn sort(&mut self) {
        match self {
            TableRows::Spans(rows) => rows
                .sort_by(|a, b| (&a.service, a.start_time_ns).cmp(&(&b.service, b.start_time_ns))),
            TableRows::Logs(rows) => {
                rows.sort_by(|a, b| (&a.service, a.timestamp_ns).cmp(&(&b.service, b.timestamp_ns)))
            }
            TableRows::Invocations(rows) => {
                rows.sort_by(|a, b| (&a.function, a.end_time_ns).cmp(&(&b.function, b.end_time_ns)))
            }
        }
    }
}

/// One Parquet file, encoded and not yet written.
struct EncodedFile {
    table: &'static str,
    partition: HourPartition,
    rows: usize,
    bytes: Vec<u8>,
}

/// One file to encode: a table's rows for one hour, or the trace index of an
/// hour's spans. The spans file and its trace index are separate jobs so that
/// each can have a core.
enum FileJob<'j, 'r> {
    Table(&'j TableRows<'r>),
    TraceIndex(&'j [&'r SpanRow]),
}

impl FileJob<'_, '_> {
    fn encode(&self, partition: &HourPartition) -> Result<EncodedFile, IndexError> {
        let (table, batch) = match self {
            FileJob::Table(TableRows::Spans(rows)) => (schema::SPANS, columns::spans_batch(rows)),
            FileJob::TraceIndex(rows) => (
                schema::TRACE_INDEX,
                columns::trace_index_batch(&trace_index_rows(rows)),
            ),
            FileJob::Table(TableRows::Logs(rows)) => (schema::LOGS, columns::logs_batch(rows)),
            FileJob::Table(TableRows::Invocations(rows)) => {
                (schema::INVOCATIONS, columns::invocations_batch(rows))
            }
        };
        let batch = batch.map_err(|e| IndexError::Encode {
            table,
            reason: e.to_string(),
        })?;
        Ok(EncodedFile {
            table,
            partition: partition.clone(),
            rows: batch.num_rows(),
            bytes: encode_parquet(table, &batch)?,
        })
    }
}

/// A segment's Parquet files, encoded ([`IndexWriter::encode_rows`]) and not
/// yet written ([`IndexWriter::put_segment`]).
pub struct EncodedSegment {
    files: Vec<EncodedFile>,
}

impl std::fmt::Debug for EncodedSegment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncodedSegment")
            .field("files", &self.files.len())
            .field(
                "bytes",
                &self
                    .files
                    .iter()
                    .map(|file| file.bytes.len())
                    .sum::<usize>(),
            )
            .finish()
    }
}

/// What one trace looks like within some spans.
pub fn trace_index_rows(spans: &[impl Borrow<SpanRow>]) -> Vec<TraceIndexRow> {
    let mut traces: BTreeMap<TraceId, TraceIndexRow> = BTreeMap::new();
    for span in spans.iter().map(Borrow::borrow) {
        let row = traces
            .entry(span.trace_id)
            .or_insert_with(|| TraceIndexRow {
                trace_id: span.trace_id,
                min_start_ns: span.start_time_ns,
                max_end_ns: span.end_time_ns,
                ..TraceIndexRow::default()
            });
        row.min_start_ns = row.min_start_ns.min(span.start_time_ns);
        row.max_end_ns = row.max_end_ns.max(span.end_time_ns);
        row.span_count += 1;
        row.error_count += i64::from(span.status_code == StatusCode::Error);
        if span.parent_span_id.is_none() {
            row.root_service = Some(span.service.clone());
            row.root_name = Some(span.name.clone());
        }
        if !row.services.contains(&span.service) {
            row.services.push(span.service.clone());
        }
    }
    traces
        .into_values()
        .map(|mut row| {
            row.services.sort();
            row
        })
        .collect()
}

/// One event of a decoded batch that could not be indexed, as quarantine keeps it.
#[derive(Debug, Clone, Copy)]
pub struct QuarantineEvent<'a> {
    /// CloudWatch's event id.
    pub id: &'a str,
    /// CloudWatch's event time, in milliseconds since the epoch.
    pub timestamp_ms: i64,
    /// Why it could not be indexed.
    pub reason: &'a str,
    /// The event's text.
    pub message: &'a str,
}

/// Writes rows and quarantine records into an [`IndexStore`].
#[derive(Clone, Debug)]
pub struct IndexWriter {
    store: IndexStore,
}

impl IndexWriter {
    /// A writer into `store`.
    pub fn new(store: IndexStore) -> IndexWriter {
        IndexWriter { store }
    }

    /// The store written to.
    pub fn store(&self) -> &IndexStore {
        &self.store
    }

    /// Writes a batch's rows, one Parquet file per table and hour, sorted by
    /// (service, time) within each file: [`IndexWriter::encode_rows`], then
    /// [`IndexWriter::put_segment`].
    ///
    /// # Errors
    ///
    /// [`IndexError::Encode`] when rows cannot be encoded as Arrow or Parquet (a
    /// bug, not bad input); [`IndexError::Store`] when the store refuses a file.
    /// Files written before the failure stay, under this `segment`'s name.
    pub async fn write_rows(
        &self,
        segment: &str,
        spans: Vec<SpanRow>,
        logs: Vec<LogRow>,
        invocations: Vec<InvocationRow>,
    ) -> Result<WrittenRows, IndexError> {
        let encoded = IndexWriter::encode_rows(spans, logs, invocations)?;
        self.put_segment(segment, encoded).await
    }

    /// Encodes a batch's rows as the Parquet files of one segment, without
    /// writing them: one file per table and hour, sorted by (service, time)
    /// within each file. CPU work only, so a caller can run it on another
    /// thread while it gathers the next batch.
    ///
    /// The rows are sorted and the files encoded on all cores when the batch
    /// is large enough to pay for it ([`PARALLEL_ENCODE_ROWS`]).
    ///
    /// # Errors
    ///
    /// [`IndexError::Encode`] when rows cannot be encoded as Arrow or Parquet
    /// (a bug, not bad input).
    pub fn encode_rows(
        spans: Vec<SpanRow>,
        logs: Vec<LogRow>,
        invocations: Vec<InvocationRow>,
    ) -> Result<EncodedSegment, IndexError> {
        let rows = spans.len() + logs.len() + invocations.len();
        let parallel = rows >= PARALLEL_ENCODE_ROWS;
        // Grouping by hour then sorting each hour (stably) orders each file's
        // rows as sorting all rows then grouping them did.
        let mut parts: Vec<(HourPartition, TableRows<'_>)> = Vec::new();
        for (partition, rows) in group_by_partition(&spans, |r| r.start_time_ns) {
            parts.push((partition, TableRows::Spans(rows)));
        }
        for (partition, rows) in group_by_partition(&logs, |r| r.timestamp_ns) {
            parts.push((partition, TableRows::Logs(rows)));
        }
        for (partition, rows) in group_by_partition(&invocations, |r| r.end_time_ns) {
            parts.push((partition, TableRows::Invocations(rows)));
        }
        if parallel {
            use rayon::prelude::*;
            parts.par_iter_mut().for_each(|(_, rows)| rows.sort());
        } else {
            parts.iter_mut().for_each(|(_, rows)| rows.sort());
        }
        // Each spans file is followed by its trace index: the order of the
        // encoded files (they are put in the store together).
        let jobs: Vec<(&HourPartition, FileJob<'_, '_>)> = parts
            .iter()
            .flat_map(|(partition, rows)| {
                let trace_index = match rows {
                    TableRows::Spans(spans) => Some((partition, FileJob::TraceIndex(spans))),
                    _ => None,
                };
                std::iter::once((partition, FileJob::Table(rows))).chain(trace_index)
            })
            .collect();
        let encode = |(partition, job): &(&HourPartition, FileJob<'_, '_>)| job.encode(partition);
        let files = if parallel {
            use rayon::prelude::*;
            // Collected in the jobs' order, as one thread would.
            jobs.par_iter().map(encode).collect::<Result<Vec<_>, _>>()?
        } else {
            jobs.iter().map(encode).collect::<Result<Vec<_>, _>>()?
        };
        Ok(EncodedSegment { files })
    }

    /// Writes the files of an encoded segment under the name `segment`, up to
    /// [`SEGMENT_PUTS_AT_ONCE`] at a time: a delivery's three or four files
    /// cost one round trip to S3 instead of one each (docs/BENCHMARKS.md,
    /// "The Lambda path against S3").
    ///
    /// # Errors
    ///
    /// [`IndexError::Store`] when the store refuses a file. The PUTs still in
    /// flight are dropped; any of the segment's files may already be written,
    /// under this `segment`'s name, and writing the segment again (a retried
    /// delivery) overwrites them.
    pub async fn put_segment(
        &self,
        segment: &str,
        encoded: EncodedSegment,
    ) -> Result<WrittenRows, IndexError> {
        let puts = encoded.files.into_iter().map(|file| async move {
            let relative = format!(
                "{}/{segment}.parquet",
                schema::partition_dir(file.table, &file.partition)
            );
            self.store.put(&relative, Bytes::from(file.bytes)).await?;
            Ok::<_, IndexError>((file.table, file.rows as u64))
        });
        let put: Vec<(&str, u64)> = futures::stream::iter(puts)
            .buffer_unordered(SEGMENT_PUTS_AT_ONCE)
            .try_collect()
            .await?;
        let mut written = WrittenRows::default();
        for (table, rows) in put {
            match table {
                schema::SPANS => written.spans += rows,
                schema::LOGS => written.logs += rows,
                schema::INVOCATIONS => written.invocations += rows,
                _ => written.trace_index += rows,
            }
            written.files += 1;
        }
        Ok(written)
    }

    /// Keeps a payload that could not be decoded, with the reason.
    ///
    /// # Errors
    ///
    /// The [`StoreError`] of the store when it refuses the quarantine record.
    pub async fn quarantine_payload(
        &self,
        source: &str,
        reason: &str,
        bytes: &[u8],
    ) -> Result<String, StoreError> {
        let record = serde_json::json!({
            "kind": "payload",
            "reason": reason,
            "source": source,
            "received_at": now_rfc3339(),
            "payload_bytes": bytes.len(),
            "payload_base64": base64::engine::general_purpose::STANDARD.encode(bytes),
        });
        self.put_quarantine(&quarantine_record_name(source, bytes), record)
            .await
    }

    /// Keeps events of a decoded batch that could not be indexed, each with its reason.
    ///
    /// # Errors
    ///
    /// The [`StoreError`] of the store when it refuses the quarantine record.
    pub async fn quarantine_events(
        &self,
        segment: &str,
        source: &str,
        log_group: &str,
        log_stream: &str,
        events: impl IntoIterator<Item = QuarantineEvent<'_>>,
    ) -> Result<String, StoreError> {
        let events: Vec<serde_json::Value> = events
            .into_iter()
            .map(|q| {
                serde_json::json!({
                    "id": q.id,
                    "timestamp": q.timestamp_ms,
                    "reason": q.reason,
                    "message": q.message,
                })
            })
            .collect();
        let record = serde_json::json!({
            "kind": "events",
            "reason": events.first().and_then(|e| e.get("reason")).cloned().unwrap_or_default(),
            "source": source,
            "received_at": now_rfc3339(),
            "log_group": log_group,
            "log_stream": log_stream,
            "events": events,
        });
        self.put_quarantine(&format!("{segment}-events"), record)
            .await
    }

    async fn put_quarantine(
        &self,
        name: &str,
        record: serde_json::Value,
    ) -> Result<String, StoreError> {
        let today =
            HourPartition::of_nanos(chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX))
                .date;
        let relative = format!(
            "{}/{}/dt={today}/{name}.json",
            schema::FORMAT_VERSION_DIR,
            schema::QUARANTINE
        );
        let text = serde_json::to_vec_pretty(&record).unwrap_or_default();
        self.store.put(&relative, Bytes::from(text)).await?;
        Ok(relative)
    }
}

pub(crate) fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest as _, Sha256};

    #[test]
    fn segment_names_are_stable_readable_and_distinct() {
        let a = batch_segment_name("kinesis", "shardId-000000000001", &["1", "9", "10"]);
        assert_eq!(
            a,
            batch_segment_name("kinesis", "shardId-000000000001", &["1", "9", "10"])
        );
        assert!(a.starts_with("kinesis-shardId-000000000001-"), "{a}");
        assert_ne!(
            a,
            batch_segment_name("kinesis", "shardId-000000000001", &["1", "9", "11"])
        );
        // Parts are delimited: moving a character between parts changes the name.
        assert_ne!(
            batch_segment_name("s3", "", &["ab", "c"]),
            batch_segment_name("s3", "", &["a", "bc"])
        );
        assert!(batch_segment_name("s3", "../..", &["x"]).starts_with("s3-"));
        assert!(!batch_segment_name("s3", "a/b c", &["x"]).contains('/'));
    }

    /// The names of stored objects never change: a retried delivery must
    /// overwrite what an older version wrote. The format, spelled out again.
    #[test]
    fn segment_names_keep_their_format() {
        let hex = |parts: &[&str]| {
            let mut joined = Vec::new();
            for part in parts {
                joined.extend_from_slice(part.as_bytes());
                joined.push(0);
            }
            let digest = Sha256::digest(&joined);
            digest[..10]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        let stream = "2026/11/29/[$LATEST]abc";
        assert_eq!(
            segment_name("/aws/lambda/orders api", stream, "1", "9", 3),
            format!(
                "orders_api-{}",
                hex(&["/aws/lambda/orders api", stream, "1", "9", "3"])
            )
        );
        assert_eq!(
            segment_name("/aws/lambda/$$", stream, "1", "9", 3),
            hex(&["/aws/lambda/$$", stream, "1", "9", "3"])
        );
        assert_eq!(
            batch_segment_name("s3", "logs/a.gz", &["b", "k", "e"]),
            format!("s3-logs_a_gz-{}", hex(&["s3", "b", "k", "e"]))
        );
        assert_eq!(
            batch_segment_name("files", "", &["x"]),
            format!("files-{}", hex(&["files", "x"]))
        );
        assert_eq!(
            payload_segment_name(b"p"),
            format!("payload-{}", &format!("{:x}", Sha256::digest(b"p"))[..20])
        );
    }

    /// A batch large enough to be sorted and encoded on all cores
    /// ([`PARALLEL_ENCODE_ROWS`]) writes the files one thread writes: each
    /// table's rows of each hour, stably sorted by (service, time), in the order
    /// spans (each hour's followed by its trace index), logs, invocations.
    #[test]
    fn a_large_batch_encodes_the_files_one_thread_would() {
        use crate::rows::SpanId;
        let hour = schema::HOUR_NANOS;
        let start = 1_700_000_000_000_000_000 / hour * hour;
        let service = |n: usize| format!("service-{}", n % 7);
        // Two hours; times tie within a service, so stability shows.
        let time = |n: usize| start + (n % 2) as i64 * hour + (n % 5) as i64;
        let mut spans: Vec<SpanRow> = (0..PARALLEL_ENCODE_ROWS)
            .map(|n| SpanRow {
                trace_id: TraceId::parse(&format!("{:032x}", n / 3 + 1)).expect("trace"),
                span_id: SpanId::parse(&format!("{:016x}", n + 1)).expect("span"),
                name: format!("op {n}"),
                service: service(n),
                start_time_ns: time(n),
                end_time_ns: time(n) + 10,
                ..SpanRow::default()
            })
            .collect();
        let mut logs: Vec<LogRow> = (0..PARALLEL_ENCODE_ROWS)
            .map(|n| LogRow {
                timestamp_ns: time(n),
                service: Some(service(n).into()),
                message: format!("line {n}"),
                ..LogRow::default()
            })
            .collect();
        let mut invocations: Vec<InvocationRow> = (0..100)
            .map(|n| InvocationRow {
                request_id: format!("request {n}"),
                function: service(n),
                end_time_ns: time(n),
                ..InvocationRow::default()
            })
            .collect();
        let encoded = IndexWriter::encode_rows(spans.clone(), logs.clone(), invocations.clone())
            .expect("encode");

        // One thread, table by table and hour by hour.
        fn in_hour<T: Clone>(rows: &[T], time: fn(&T) -> i64, hour: &HourPartition) -> Vec<T> {
            rows.iter()
                .filter(|row| {
                    HourPartition::of_hour_number(time(row).div_euclid(schema::HOUR_NANOS)) == *hour
                })
                .cloned()
                .collect()
        }
        let file =
            |table: &'static str,
             partition: &HourPartition,
             batch: Result<arrow::array::RecordBatch, arrow::error::ArrowError>| {
                let bytes = encode_parquet(table, &batch.expect("batch")).expect("encode");
                (table, partition.clone(), bytes)
            };
        spans.sort_by(|a, b| (&a.service, a.start_time_ns).cmp(&(&b.service, b.start_time_ns)));
        logs.sort_by(|a, b| (&a.service, a.timestamp_ns).cmp(&(&b.service, b.timestamp_ns)));
        invocations.sort_by(|a, b| (&a.function, a.end_time_ns).cmp(&(&b.function, b.end_time_ns)));
        let hours = [start / hour, start / hour + 1].map(HourPartition::of_hour_number);
        let mut expected = Vec::new();
        for partition in &hours {
            let rows = in_hour(&spans, |row| row.start_time_ns, partition);
            expected.push(file(schema::SPANS, partition, columns::spans_batch(&rows)));
            let trace_index = columns::trace_index_batch(&trace_index_rows(&rows));
            expected.push(file(schema::TRACE_INDEX, partition, trace_index));
        }
        for partition in &hours {
            let rows = in_hour(&logs, |row| row.timestamp_ns, partition);
            expected.push(file(schema::LOGS, partition, columns::logs_batch(&rows)));
        }
        for partition in &hours {
            let rows = in_hour(&invocations, |row| row.end_time_ns, partition);
            expected.push(file(
                schema::INVOCATIONS,
                partition,
                columns::invocations_batch(&rows),
            ));
        }

        assert_eq!(encoded.files.len(), expected.len());
        for (file, (table, partition, bytes)) in encoded.files.iter().zip(&expected) {
            assert_eq!((file.table, &file.partition), (*table, partition));
            assert!(file.bytes == *bytes, "{table} {partition:?} differs");
        }
    }
}
