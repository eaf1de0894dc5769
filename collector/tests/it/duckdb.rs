//! The index is an open format: DuckDB, an independent Parquet reader, reads it
//! with the columns, types and row counts we wrote.

use std::process::Command;
use std::sync::Arc;

use object_store::local::LocalFileSystem;
use parquet::basic::Compression;
use parquet::file::reader::FileReader as _;
use parquet::file::serialized_reader::SerializedFileReader;
use tracelake_collector::index::schema;
use tracelake_collector::{Collector, IndexStore, IngestCounters};

use super::support::*;

fn build_index(dir: &std::path::Path) -> IngestCounters {
    let collector =
        Collector::new(IndexStore::open(dir.to_str().expect("utf-8 path")).expect("local store"));
    let rt = runtime();
    let mut total = IngestCounters::default();
    for name in [
        "01_lambda_event_awslogs_wrapper.json",
        "03_cwl_decoded_lambda_report_awsdocs.json",
        "14_firehose_http_endpoint_request.json",
    ] {
        total += rt
            .block_on(collector.ingest(&fixture(name), name))
            .expect("ingest");
    }
    let mut lines = fixture_messages("07_lambda_platform_text.jsonl");
    lines.extend(fixture_messages("09_node_text_app_logs.jsonl"));
    lines.extend(fixture_lines("08_lambda_logformat_json_node.jsonl"));
    let batch = data_message_json(&batch_of(
        "/aws/lambda/platform",
        "2025/11/29/[$LATEST]p",
        &lines,
    ));
    total += rt
        .block_on(collector.ingest(&batch, "platform"))
        .expect("ingest");
    let mixed = super::correlation::mixed_batch();
    let batch = data_message_json(&batch_of(
        "/aws/lambda/mixed",
        "2025/11/29/[$LATEST]s",
        &mixed,
    ));
    total += rt
        .block_on(collector.ingest(&batch, "mixed"))
        .expect("ingest");
    total
}

const DUCKDB_SCRIPT: &str = r#"
import json, sys
try:
    import duckdb
except ImportError as error:
    sys.exit(f"duckdb is not installed for python3 ({error}): pip install duckdb")
root = sys.argv[1]
out = {}
for table in ["spans", "logs", "invocations", "trace_index"]:
    relation = f"read_parquet('{root}/v1/{table}/*/*/*.parquet', hive_partitioning=true)"
    columns = duckdb.sql(f"describe select * from {relation}").fetchall()
    count = duckdb.sql(f"select count(*) from {relation}").fetchall()[0][0]
    out[table] = {"count": count, "columns": [[c[0], c[1]] for c in columns]}
out["stream_links"] = duckdb.sql(
    f"select count(*) from read_parquet('{root}/v1/logs/*/*/*.parquet') where link = 'stream'").fetchall()[0][0]
out["xray_invocation"] = duckdb.sql(
    f"select trace_id, billed_duration_ms, cold_start from read_parquet('{root}/v1/invocations/*/*/*.parquet') "
    "where request_id = 'f08bb4c8-d6b2-4f05-ac17-af7e2ba005fb' and log_group = '/aws/lambda/mixed'").fetchall()
out["span_attribute"] = duckdb.sql(
    f"select attributes['faas.trigger'] from read_parquet('{root}/v1/spans/*/*/*.parquet')").fetchall()
print(json.dumps(out, default=str))
"#;

#[test]
fn duckdb_reads_every_table_with_our_columns_types_and_counts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let counters = build_index(dir.path());
    let output = Command::new("python3")
        .arg("-c")
        .arg(DUCKDB_SCRIPT)
        .arg(dir.path())
        .output()
        .expect("python3 must be installed to run the DuckDB check");
    assert!(
        output.status.success(),
        "duckdb check failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("json from duckdb script");

    let count = |table: &str| result[table]["count"].as_u64().expect("count");
    assert_eq!(count("logs"), counters.log_rows);
    assert_eq!(count("spans"), counters.span_rows);
    assert_eq!(count("invocations"), counters.invocation_rows);
    assert_eq!(count("trace_index"), 1);

    for table in schema::TABLES {
        let columns: Vec<(String, String)> = result[table]["columns"]
            .as_array()
            .expect("columns")
            .iter()
            .map(|c| {
                (
                    c[0].as_str().unwrap_or("").to_owned(),
                    c[1].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        let ours = schema::schema_of(table).expect("schema");
        let mut expected: Vec<String> = ours.fields().iter().map(|f| f.name().clone()).collect();
        expected.extend(["dt".to_owned(), "hour".to_owned()]);
        let names: Vec<String> = columns.iter().map(|(name, _)| name.clone()).collect();
        assert_eq!(names, expected, "{table} columns");
        for (field, (_, duck_type)) in ours.fields().iter().zip(&columns) {
            let expected_type = match field.data_type() {
                arrow::datatypes::DataType::Utf8 => "VARCHAR",
                arrow::datatypes::DataType::Int64 => "BIGINT",
                arrow::datatypes::DataType::Float64 => "DOUBLE",
                arrow::datatypes::DataType::Boolean => "BOOLEAN",
                // Nanoseconds, adjusted to UTC: DuckDB keeps both.
                arrow::datatypes::DataType::Timestamp(..) => "TIMESTAMPTZ_NS",
                arrow::datatypes::DataType::Map(..) => "MAP(VARCHAR, VARCHAR)",
                arrow::datatypes::DataType::List(_) if field.name() == "services" => "VARCHAR[]",
                arrow::datatypes::DataType::List(_) => "STRUCT",
                other => panic!("unexpected type {other}"),
            };
            assert!(
                duck_type.starts_with(expected_type),
                "{table}.{}: duckdb says {duck_type}",
                field.name()
            );
        }
    }
    assert!(result["stream_links"].as_u64().expect("stream links") >= 1);
    assert_eq!(
        result["xray_invocation"],
        serde_json::json!([["5e61292ccc1229a4dfbeae1043928548", 700, false]])
    );
    assert_eq!(result["span_attribute"], serde_json::json!([["http"]]));
}

/// Segments of at least `UNCOMPRESSED_BELOW_ROWS` rows are zstd; smaller ones
/// (a direct delivery's) are uncompressed until compaction rewrites them.
#[test]
fn files_carry_bloom_filters_zstd_and_the_format_version() {
    use tracelake_collector::index::writer::UNCOMPRESSED_BELOW_ROWS;
    let dir = tempfile::tempdir().expect("tempdir");
    build_index(dir.path());
    // One batch large enough to be compressed.
    let lines: Vec<String> = (0..UNCOMPRESSED_BELOW_ROWS + 200)
        .map(|i| format!("plain line {i} of a large batch"))
        .collect();
    let large = data_message_json(&batch_of(
        "/aws/lambda/large",
        "2025/11/29/[$LATEST]l",
        &lines,
    ));
    let collector =
        Collector::new(IndexStore::open(dir.path().to_str().expect("utf-8 path")).expect("local"));
    let counters = runtime()
        .block_on(collector.ingest(&large, "large"))
        .expect("ingest");
    assert_eq!(counters.log_rows, lines.len() as u64);
    let mut codecs = std::collections::BTreeSet::new();
    let store = LocalFileSystem::new_with_prefix(dir.path()).expect("local");
    let index = IndexStore::from_object_store(Arc::new(store), Default::default());
    let rt = runtime();
    for table in [schema::SPANS, schema::LOGS, schema::INVOCATIONS] {
        let objects = rt
            .block_on(index.list(&format!("v1/{table}")))
            .expect("list");
        assert!(!objects.is_empty(), "{table} has files");
        for object in objects {
            let bytes = rt
                .block_on(index.get(&index.relative(&object.location)))
                .expect("get");
            let reader = SerializedFileReader::new(bytes).expect("parquet");
            let metadata = reader.metadata();
            let version = metadata
                .file_metadata()
                .key_value_metadata()
                .and_then(|kv| {
                    kv.iter()
                        .find(|kv| kv.key == "tracelake.format")
                        .and_then(|kv| kv.value.clone())
                });
            assert_eq!(version.as_deref(), Some("v1"));
            let row_group = metadata.row_group(0);
            let rows = metadata.file_metadata().num_rows() as usize;
            for column in row_group.columns() {
                let name = column.column_path().string();
                if rows >= UNCOMPRESSED_BELOW_ROWS {
                    assert!(
                        matches!(column.compression(), Compression::ZSTD(_)),
                        "{table}.{name} is zstd in a file of {rows} rows"
                    );
                } else {
                    assert_eq!(
                        column.compression(),
                        Compression::UNCOMPRESSED,
                        "{table}.{name} in a file of {rows} rows"
                    );
                }
                codecs.insert(rows >= UNCOMPRESSED_BELOW_ROWS);
                let bloom = column.bloom_filter_offset().is_some();
                let wants_bloom = schema::bloom_filter_columns(table).contains(&name.as_str());
                assert_eq!(bloom, wants_bloom, "{table}.{name} bloom filter");
            }
        }
    }
    assert_eq!(
        codecs.len(),
        2,
        "both small and large segments were checked"
    );
}
