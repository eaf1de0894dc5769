//! Writing rows as Parquet segments and bad input as quarantine records.
//!
//! A segment's name is derived from its input (log group, stream, first and last
//! event id, event count), so a retried or duplicated delivery overwrites the
//! same objects instead of adding rows twice.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use base64::Engine as _;
use bytes::Bytes;
use parquet::arrow::arrow_writer::ArrowWriterOptions;
use parquet::arrow::{
    ARROW_SCHEMA_META_KEY, ArrowSchemaConverter, ArrowWriter, encode_arrow_schema,
};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::{ColumnPath, SchemaDescriptor};
use sha2::{Digest as _, Sha256};

use crate::columns;
use crate::rows::{InvocationRow, LogRow, SpanRow, StatusCode, TraceId, TraceIndexRow};
use crate::schema::{self, HourPartition};
use crate::store::{IndexStore, StoreError};

/// Row groups hold about this many rows (DESIGN.md "Index").
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// Why rows could not be written.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The rows could not be encoded as Arrow or Parquet (a bug, not bad input).
    #[error("cannot encode {table} rows: {reason}")]
    Encode {
        /// The table.
        table: &'static str,
        /// Why.
        reason: String,
    },
    /// The store refused the write.
    #[error(transparent)]
    Store(#[from] StoreError),
}

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

/// A stable name for the segment that one batch of one stream becomes.
pub fn segment_name(
    log_group: &str,
    log_stream: &str,
    first_event_id: &str,
    last_event_id: &str,
    events: usize,
) -> String {
    let mut hasher = Sha256::new();
    for part in [
        log_group,
        log_stream,
        first_event_id,
        last_event_id,
        &events.to_string(),
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    let digest = hasher.finalize();
    let hash: String = digest[..10].iter().map(|b| format!("{b:02x}")).collect();
    let function = log_group.strip_prefix("/aws/lambda/").unwrap_or(log_group);
    let readable: String = function
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(48)
        .collect();
    let readable = readable.trim_matches('_');
    if readable.is_empty() {
        hash
    } else {
        format!("{readable}-{hash}")
    }
}

/// A name for a quarantined payload, derived from its bytes.
pub fn payload_segment_name(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hash: String = digest[..10].iter().map(|b| format!("{b:02x}")).collect();
    format!("payload-{hash}")
}

/// Files of fewer rows than this (a direct delivery's segment: 29 events on
/// average in the demo fleet) are written uncompressed; larger ones, and every
/// compacted file, with zstd. Each zstd column chunk creates a compression and
/// a decompression context, and each creation asks the CPU its features
/// (`cpuid`), which traps to the hypervisor in a VM such as Lambda's: with
/// ~70 column chunks per delivery that was most of a small delivery's cost,
/// for a few kilobytes saved until compaction rewrites the hour.
///
/// The same small files also skip what only pays in a large file: dictionary
/// pages (a second page per column chunk) and the page index (one page per
/// column chunk here, so the column chunk's statistics, which are kept, say
/// the same). Compaction writes the hour again with both.
pub const UNCOMPRESSED_BELOW_ROWS: usize = 1024;

/// The properties of one file of `rows` rows. Bloom filters are sized for the
/// file's rows: the default (a row group's worth, 128K) costs time and space in
/// every small segment.
pub(crate) fn writer_properties(table: &'static str, rows: usize) -> WriterProperties {
    writer_properties_with(table, rows, None)
}

/// [`writer_properties`], with `arrow_schema` (`ARROW:schema`) after the
/// format's key-value metadata, where `ArrowWriter` would add it.
fn writer_properties_with(
    table: &'static str,
    rows: usize,
    arrow_schema: Option<KeyValue>,
) -> WriterProperties {
    let small = rows < UNCOMPRESSED_BELOW_ROWS;
    let mut builder = WriterProperties::builder();
    builder = if small {
        builder
            .set_compression(Compression::UNCOMPRESSED)
            .set_dictionary_enabled(false)
            .set_statistics_enabled(EnabledStatistics::Chunk)
    } else {
        builder.set_compression(Compression::ZSTD(ZstdLevel::default()))
    };
    builder = builder
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_created_by(format!("tracelake {}", env!("CARGO_PKG_VERSION")))
        .set_key_value_metadata(Some(
            std::iter::once(KeyValue::new(
                "tracelake.format".to_owned(),
                schema::FORMAT_VERSION_DIR.to_owned(),
            ))
            .chain(arrow_schema)
            .collect(),
        ));
    if !small {
        for column in schema::high_cardinality_columns(table) {
            builder = builder.set_column_dictionary_enabled(ColumnPath::from(*column), false);
        }
    }
    for column in schema::bloom_filter_columns(table) {
        builder = builder
            .set_column_bloom_filter_enabled(ColumnPath::from(*column), true)
            .set_column_bloom_filter_fpp(ColumnPath::from(*column), 0.01)
            .set_column_bloom_filter_max_ndv(
                ColumnPath::from(*column),
                rows.clamp(1, ROW_GROUP_ROWS) as u64,
            );
    }
    builder.build()
}

/// What every file of one table shares, worked out once per process: its
/// Parquet schema and its Arrow schema in the form Parquet embeds it
/// (`ARROW:schema`, IPC flatbuffers in base64). `ArrowWriter` otherwise
/// converts and encodes both for every file, which was ~20% of writing a small
/// delivery's four files.
struct TableEncoding {
    arrow_schema: SchemaRef,
    parquet_schema: SchemaDescriptor,
    arrow_schema_metadata: KeyValue,
}

impl TableEncoding {
    fn of(table: &str) -> Option<TableEncoding> {
        let arrow_schema = schema::schema_of(table)?;
        let parquet_schema = ArrowSchemaConverter::new().convert(&arrow_schema).ok()?;
        Some(TableEncoding {
            arrow_schema_metadata: KeyValue::new(
                ARROW_SCHEMA_META_KEY.to_owned(),
                encode_arrow_schema(&arrow_schema),
            ),
            arrow_schema,
            parquet_schema,
        })
    }

    /// The shared encoding of `table` when `batch` has exactly its schema.
    fn for_batch(table: &str, batch: &RecordBatch) -> Option<&'static TableEncoding> {
        static TABLES: LazyLock<[(&str, Option<TableEncoding>); 4]> = LazyLock::new(|| {
            [
                schema::SPANS,
                schema::LOGS,
                schema::INVOCATIONS,
                schema::TRACE_INDEX,
            ]
            .map(|table| (table, TableEncoding::of(table)))
        });
        let (_, encoding) = TABLES.iter().find(|(name, _)| *name == table)?;
        encoding
            .as_ref()
            .filter(|encoding| *encoding.arrow_schema == *batch.schema_ref().as_ref())
    }
}

/// Encodes one record batch as a Parquet file with the table's properties.
///
/// # Errors
/// [`IndexError::Encode`] when the batch cannot be encoded (a bug, not bad input).
pub fn encode_parquet(table: &'static str, batch: &RecordBatch) -> Result<Vec<u8>, IndexError> {
    let encode = |reason: String| IndexError::Encode { table, reason };
    let mut buffer = Vec::new();
    let shared = TableEncoding::for_batch(table, batch);
    // The same bytes `ArrowWriter` writes by itself: the Arrow schema last
    // among the key-value metadata.
    let properties = writer_properties_with(
        table,
        batch.num_rows(),
        shared.map(|shared| shared.arrow_schema_metadata.clone()),
    );
    let mut options = ArrowWriterOptions::new();
    if let Some(shared) = shared {
        options = options
            .with_parquet_schema(shared.parquet_schema.clone())
            .with_skip_arrow_metadata(true);
    }
    let mut writer = ArrowWriter::try_new_with_options(
        &mut buffer,
        batch.schema(),
        options.with_properties(properties),
    )
    .map_err(|e| encode(e.to_string()))?;
    writer.write(batch).map_err(|e| encode(e.to_string()))?;
    writer.close().map_err(|e| encode(e.to_string()))?;
    Ok(buffer)
}

fn group_by_partition<T>(
    rows: Vec<T>,
    time_of: impl Fn(&T) -> i64,
) -> BTreeMap<HourPartition, Vec<T>> {
    let mut groups: BTreeMap<HourPartition, Vec<T>> = BTreeMap::new();
    for row in rows {
        groups
            .entry(HourPartition::of_nanos(time_of(&row)))
            .or_default()
            .push(row);
    }
    groups
}

/// Batches of at least this many rows encode their files on all cores; below
/// it, handing the files to other threads costs more than it saves.
pub const PARALLEL_ENCODE_ROWS: usize = 4096;

/// The rows of one table and hour, before encoding.
enum TableRows {
    Spans(Vec<SpanRow>),
    Logs(Vec<LogRow>),
    Invocations(Vec<InvocationRow>),
}

/// One Parquet file, encoded and not yet written.
struct EncodedFile {
    table: &'static str,
    partition: HourPartition,
    rows: usize,
    bytes: Vec<u8>,
}

impl TableRows {
    /// The table's file for `partition` (and for spans, the trace index's).
    fn encode(&self, partition: &HourPartition) -> Result<Vec<EncodedFile>, IndexError> {
        let file = |table: &'static str,
                    batch: Result<RecordBatch, arrow::error::ArrowError>|
         -> Result<EncodedFile, IndexError> {
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
        };
        match self {
            TableRows::Spans(rows) => Ok(vec![
                file(schema::SPANS, columns::spans_batch(rows))?,
                file(
                    schema::TRACE_INDEX,
                    columns::trace_index_batch(&trace_index_rows(rows)),
                )?,
            ]),
            TableRows::Logs(rows) => Ok(vec![file(schema::LOGS, columns::logs_batch(rows))?]),
            TableRows::Invocations(rows) => Ok(vec![file(
                schema::INVOCATIONS,
                columns::invocations_batch(rows),
            )?]),
        }
    }
}

/// What one trace looks like within some spans.
pub fn trace_index_rows(spans: &[SpanRow]) -> Vec<TraceIndexRow> {
    let mut traces: BTreeMap<TraceId, TraceIndexRow> = BTreeMap::new();
    for span in spans {
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
    /// (service, time) within each file.
    ///
    /// The files are encoded first, on all cores when the batch is large
    /// enough to pay for it ([`PARALLEL_ENCODE_ROWS`]), then written in order.
    pub async fn write_rows(
        &self,
        segment: &str,
        mut spans: Vec<SpanRow>,
        mut logs: Vec<LogRow>,
        mut invocations: Vec<InvocationRow>,
    ) -> Result<WrittenRows, IndexError> {
        let rows = spans.len() + logs.len() + invocations.len();
        spans.sort_by(|a, b| (&a.service, a.start_time_ns).cmp(&(&b.service, b.start_time_ns)));
        logs.sort_by(|a, b| (&a.service, a.timestamp_ns).cmp(&(&b.service, b.timestamp_ns)));
        invocations.sort_by(|a, b| (&a.function, a.end_time_ns).cmp(&(&b.function, b.end_time_ns)));
        let mut parts: Vec<(HourPartition, TableRows)> = Vec::new();
        for (partition, rows) in group_by_partition(spans, |r| r.start_time_ns) {
            parts.push((partition, TableRows::Spans(rows)));
        }
        for (partition, rows) in group_by_partition(logs, |r| r.timestamp_ns) {
            parts.push((partition, TableRows::Logs(rows)));
        }
        for (partition, rows) in group_by_partition(invocations, |r| r.end_time_ns) {
            parts.push((partition, TableRows::Invocations(rows)));
        }
        let encoded: Vec<EncodedFile> = if rows >= PARALLEL_ENCODE_ROWS && parts.len() > 1 {
            use rayon::prelude::*;
            parts
                .par_iter()
                .map(|(partition, rows)| rows.encode(partition))
                .collect::<Result<Vec<_>, _>>()?
        } else {
            parts
                .iter()
                .map(|(partition, rows)| rows.encode(partition))
                .collect::<Result<Vec<_>, _>>()?
        }
        .into_iter()
        .flatten()
        .collect();
        let mut written = WrittenRows::default();
        for file in encoded {
            let relative = format!(
                "{}/{segment}.parquet",
                schema::partition_dir(file.table, &file.partition)
            );
            self.store.put(&relative, Bytes::from(file.bytes)).await?;
            let rows = file.rows as u64;
            match file.table {
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
        self.put_quarantine(&payload_segment_name(bytes), record)
            .await
    }

    /// Keeps events of a decoded batch that could not be indexed, each with its reason.
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
        let today = HourPartition::of_nanos(now_nanos()).date;
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

pub(crate) fn now_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos().min(i64::MAX as u128) as i64)
}

pub(crate) fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns;
    use crate::rows::{InvocationRow, LogRow, SpanId, SpanRow};

    /// What `ArrowWriter` writes by itself, converting and embedding the
    /// schema for this one file.
    fn reference_encoding(table: &'static str, batch: &RecordBatch) -> Vec<u8> {
        let mut buffer = Vec::new();
        let mut writer = ArrowWriter::try_new(
            &mut buffer,
            batch.schema(),
            Some(writer_properties(table, batch.num_rows())),
        )
        .expect("writer");
        writer.write(batch).expect("write");
        writer.close().expect("close");
        buffer
    }

    #[test]
    fn shared_schemas_write_the_bytes_arrow_writer_writes() {
        let span = |n: u64| SpanRow {
            trace_id: TraceId::parse("5e61292ccc1229a4dfbeae1043928548").expect("trace"),
            span_id: SpanId::parse(&format!("{n:016x}")).expect("span"),
            name: format!("op {n}"),
            service: "cart".into(),
            start_time_ns: 1_700_000_000_000_000_000 + n as i64,
            end_time_ns: 1_700_000_000_100_000_000,
            attributes: vec![("http.route".into(), "/cart".into())],
            ..SpanRow::default()
        };
        let spans: Vec<SpanRow> = (1..=3).map(span).collect();
        let logs = vec![LogRow {
            timestamp_ns: 1_700_000_000_000_000_000,
            message: "hello".into(),
            request_id: Some("11111111-1111-4111-8111-111111111111".into()),
            ..LogRow::default()
        }];
        let invocations = vec![InvocationRow {
            request_id: "11111111-1111-4111-8111-111111111111".into(),
            function: "checkout".into(),
            duration_ms: 12.5,
            ..InvocationRow::default()
        }];
        // Small and large files: uncompressed and zstd, bloom filters of both sizes.
        for copies in [1, UNCOMPRESSED_BELOW_ROWS] {
            let many = |rows: &[SpanRow]| -> Vec<SpanRow> {
                rows.iter()
                    .cycle()
                    .take(rows.len() * copies)
                    .cloned()
                    .collect()
            };
            let batches = [
                (schema::SPANS, columns::spans_batch(&many(&spans))),
                (
                    schema::TRACE_INDEX,
                    columns::trace_index_batch(&trace_index_rows(&spans)),
                ),
                (schema::LOGS, columns::logs_batch(&logs)),
                (
                    schema::INVOCATIONS,
                    columns::invocations_batch(&invocations),
                ),
            ];
            for (table, batch) in batches {
                let batch = batch.expect("batch");
                assert!(TableEncoding::for_batch(table, &batch).is_some(), "{table}");
                let ours = encode_parquet(table, &batch).expect("encode");
                assert_eq!(ours, reference_encoding(table, &batch), "{table}, {copies}");
            }
        }
    }

    #[test]
    fn another_schema_is_converted_for_its_file() {
        let batch = columns::logs_batch(&[LogRow::default()]).expect("batch");
        // The logs columns under the spans table's name: no shared encoding applies.
        assert!(TableEncoding::for_batch(schema::SPANS, &batch).is_none());
        let ours = encode_parquet(schema::SPANS, &batch).expect("encode");
        assert_eq!(ours, reference_encoding(schema::SPANS, &batch));
    }
}

#[cfg(test)]
mod small_file_tests {
    use bytes::Bytes;
    use parquet::file::reader::{FileReader as _, SerializedFileReader};

    use super::*;
    use crate::columns;
    use crate::rows::LogRow;

    /// Small files have no dictionary pages and no page index, but keep each
    /// column chunk's statistics; large ones have all three.
    #[test]
    fn small_files_keep_statistics_without_dictionaries_or_page_index() {
        let row = |n: usize| LogRow {
            timestamp_ns: 1_700_000_000_000_000_000 + n as i64,
            service: Some("cart".into()),
            message: format!("line {n}"),
            ..LogRow::default()
        };
        for rows in [3, UNCOMPRESSED_BELOW_ROWS] {
            let logs: Vec<LogRow> = (0..rows).map(row).collect();
            let batch = columns::logs_batch(&logs).expect("batch");
            let bytes = encode_parquet(schema::LOGS, &batch).expect("encode");
            let reader = SerializedFileReader::new(Bytes::from(bytes)).expect("parquet");
            let large = rows >= UNCOMPRESSED_BELOW_ROWS;
            for column in reader.metadata().row_group(0).columns() {
                let name = column.column_path().string();
                assert!(column.statistics().is_some(), "{name} of {rows} rows");
                assert_eq!(
                    column.column_index_offset().is_some(),
                    large,
                    "{name} page index, {rows} rows"
                );
                if name == "service" {
                    assert_eq!(
                        column.dictionary_page_offset().is_some(),
                        large,
                        "{name} dictionary, {rows} rows"
                    );
                }
            }
        }
    }
}
