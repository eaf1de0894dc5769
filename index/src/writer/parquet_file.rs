//! Encoding one table's rows as one Parquet file: the writer properties
//! (compression, dictionaries, statistics, bloom filters sized for the file)
//! and the schemas every file of a table shares.

use std::sync::LazyLock;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use parquet::arrow::arrow_writer::ArrowWriterOptions;
use parquet::arrow::{
    ARROW_SCHEMA_META_KEY, ArrowSchemaConverter, ArrowWriter, encode_arrow_schema,
};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::{ColumnPath, SchemaDescriptor};

use super::error::IndexError;
use crate::schema;

/// Row groups hold about this many rows (DESIGN.md "Index").
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// Compacted files (sorted by `trace_id`) end a data page every this many
/// rows, instead of parquet's 20,000. A trace lookup finds its rows through the
/// page index and must still decompress and decode every page that holds one of
/// them, in every column it returns: with 20,000-row pages that was up to a
/// megabyte per column (parquet's page size limit) for a few dozen rows; with
/// these pages the spans of one trace scan ~300 KB in all on the 10M-span bench
/// index (docs/BENCHMARKS.md). Smaller pages cost a larger page
/// index (kept in the readers' metadata cache) and slightly less compression.
pub const COMPACTED_PAGE_ROWS: usize = 4096;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns;
    use crate::rows::{InvocationRow, LogRow, SpanId, SpanRow, TraceId};
    use crate::writer::trace_index_rows;

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
