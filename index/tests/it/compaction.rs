//! Compaction's output and memory: spilling past the budget, reading inputs a
//! row group at a time, sorted files whose statistics prune a trace by id.

use tracelake_index::compact::{CompactOptions, CompactionOutcome, compact_hour};
use tracelake_index::manifest::{OutputFile, latest_manifest, live_files};
use tracelake_index::schema::{self, HourPartition};

use super::support::*;

/// Every live file of the hour, decoded, table by table.
async fn live_batches(
    store: &tracelake_index::IndexStore,
) -> Vec<Vec<arrow::record_batch::RecordBatch>> {
    let mut files = Vec::new();
    for table in schema::TABLES {
        for file in live_files(store, table, &hour()).await.expect("live") {
            files.push(
                tracelake_index::read::read_file(store, &file.path)
                    .await
                    .expect("read"),
            );
        }
    }
    files
}

#[test]
fn a_compacted_input_larger_than_the_budget_is_read_a_row_group_at_a_time() {
    const BUDGET: usize = 8 * 1024;
    let rt = runtime();
    let first = deliveries(0..300);
    let late = deliveries(300..320);
    let all: Vec<Delivery> = first.iter().chain(&late).cloned().collect();
    let compact_twice = |budget: usize| {
        let store = memory_store();
        rt.block_on(async {
            let options = CompactOptions {
                memory_budget_bytes: budget,
                row_group_rows: 64,
                ..CompactOptions::default()
            };
            ingest(&store, &first).await;
            compact_hour(&store, &hour(), &options)
                .await
                .expect("first compaction");
            let compacted_logs: OutputFile = latest_manifest(&store, &hour())
                .await
                .expect("read")
                .expect("g1")
                .table(schema::LOGS)
                .outputs[0]
                .clone();
            ingest(&store, &late).await;
            let report = compact_hour(&store, &hour(), &options)
                .await
                .expect("second compaction, reading g1's files");
            assert_eq!(
                report.outcome,
                CompactionOutcome::Committed { generation: 2 }
            );
            assert_reads_exactly(&store, &Expected::of(&all), &format!("budget {budget}")).await;
            (compacted_logs, report, live_batches(&store).await)
        })
    };
    let (_, unlimited, unlimited_files) = compact_twice(usize::MAX / 4);
    let (compacted_logs, small, small_files) = compact_twice(BUDGET);
    assert!(
        compacted_logs.bytes > BUDGET as u64,
        "the compacted input ({} bytes) must be larger than the budget",
        compacted_logs.bytes
    );
    assert!(!unlimited.spilled && small.spilled, "{small:?}");
    assert!(
        small.peak_input_fetch_bytes > 0 && small.peak_input_fetch_bytes < compacted_logs.bytes / 4,
        "inputs are fetched a row group at a time: largest fetch {} of a {}-byte input",
        small.peak_input_fetch_bytes,
        compacted_logs.bytes
    );
    assert!(
        small.peak_buffered_bytes < unlimited.peak_buffered_bytes / 4,
        "{small:?} vs {unlimited:?}"
    );
    assert_eq!(small.figures, unlimited.figures);
    // Same rows, same order, same files.
    assert_eq!(small_files, unlimited_files);
}

#[test]
fn an_hour_larger_than_the_memory_budget_spills_and_compacts_the_same() {
    let rt = runtime();
    let rows = deliveries(0..120);
    let mut with_duplicates = rows.clone();
    with_duplicates.extend(rows[50..100].iter().cloned().map(|mut d| {
        d.name.push_str("-redelivered");
        d
    }));
    let compact_with = |budget: usize| {
        let store = memory_store();
        rt.block_on(async {
            ingest(&store, &with_duplicates).await;
            let options = CompactOptions {
                memory_budget_bytes: budget,
                ..CompactOptions::default()
            };
            let report = compact_hour(&store, &hour(), &options)
                .await
                .expect("compacts");
            assert_reads_exactly(&store, &Expected::of(&rows), &format!("budget {budget}")).await;
            let mut files = Vec::new();
            for table in schema::TABLES {
                for file in live_files(&store, table, &hour()).await.expect("live") {
                    let batches = tracelake_index::read::read_file(&store, &file.path)
                        .await
                        .expect("read");
                    files.push(batches);
                }
            }
            (report, files)
        })
    };
    let (in_memory, memory_files) = compact_with(usize::MAX / 4);
    let (spilled, spilled_files) = compact_with(32 * 1024);
    assert!(!in_memory.spilled && spilled.spilled);
    assert!(
        spilled.peak_buffered_bytes < in_memory.peak_buffered_bytes / 4,
        "{spilled:?} vs {in_memory:?}"
    );
    assert_eq!(in_memory.figures.duplicates_dropped, 50 * 6);
    assert_eq!(spilled.figures.duplicates_dropped, 50 * 6);
    // Same rows, same order, same files.
    assert_eq!(memory_files, spilled_files);
}

#[test]
fn compacted_files_are_sorted_by_trace_and_prune_a_trace_by_id() {
    let rt = runtime();
    let store = memory_store();
    rt.block_on(async {
        ingest(&store, &deliveries(0..50)).await;
        compact_hour(&store, &hour(), &CompactOptions::default())
            .await
            .expect("compacts");
        let spans: Vec<tracelake_index::rows::SpanRow> = tracelake_index::read::read_rows(&store)
            .await
            .expect("spans");
        let keys: Vec<(String, i64)> = spans
            .iter()
            .map(|s| (s.trace_id.to_string(), s.start_time_ns))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        let manifest = latest_manifest(&store, &hour())
            .await
            .expect("read")
            .expect("one");
        let output = &manifest.table("spans").outputs[0];
        assert_eq!(
            output.min_trace_id.as_deref(),
            keys.first().map(|k| k.0.as_str())
        );
        assert_eq!(
            output.max_trace_id.as_deref(),
            keys.last().map(|k| k.0.as_str())
        );
        // The file carries a bloom filter on trace_id that rejects an absent id.
        let bytes = store.get(&output.path).await.expect("file");
        let reader = parquet::file::serialized_reader::SerializedFileReader::new_with_options(
            bytes,
            parquet::file::serialized_reader::ReadOptionsBuilder::new()
                .with_reader_properties(
                    parquet::file::properties::ReaderProperties::builder()
                        .set_read_bloom_filter(true)
                        .build(),
                )
                .build(),
        )
        .expect("parquet");
        use parquet::file::reader::FileReader as _;
        let group = reader.get_row_group(0).expect("row group");
        let trace_column = 0;
        let bloom = group
            .get_column_bloom_filter(trace_column)
            .expect("bloom filter on trace_id");
        assert!(bloom.check(&keys[0].0.as_str()));
        assert!(!bloom.check(&"ffffffffffffffffffffffffffffffff"));
    });
    let _ = HourPartition::parse("2026-11-29T05");
}

#[test]
fn compacted_pages_hold_at_most_compacted_page_rows_so_a_lookup_decodes_little() {
    use parquet::file::reader::FileReader as _;
    let rt = runtime();
    let store = memory_store();
    rt.block_on(async {
        // One segment of 2,500 requests' rows: 5,000 spans, more than a page.
        let all = deliveries(0..2_500);
        let mut one = all[0].clone();
        one.name = "seg-many".to_owned();
        for delivery in &all[1..] {
            one.spans.extend(delivery.spans.iter().cloned());
            one.logs.extend(delivery.logs.iter().cloned());
            one.invocations.extend(delivery.invocations.iter().cloned());
        }
        let spans_in = one.spans.len();
        assert!(spans_in > tracelake_index::writer::COMPACTED_PAGE_ROWS);
        ingest(&store, &[one]).await;
        compact_hour(&store, &hour(), &CompactOptions::default())
            .await
            .expect("compacts");
        let manifest = latest_manifest(&store, &hour())
            .await
            .expect("read")
            .expect("one");
        let output = &manifest.table("spans").outputs[0];
        let bytes = store.get(&output.path).await.expect("file");
        let reader = parquet::file::serialized_reader::SerializedFileReader::new_with_options(
            bytes,
            parquet::file::serialized_reader::ReadOptionsBuilder::new()
                .with_page_index()
                .build(),
        )
        .expect("parquet");
        let offsets = reader.metadata().offset_index().expect("offset index");
        let trace_column = 0;
        let mut rows_per_page = Vec::new();
        for (group, columns) in offsets.iter().enumerate() {
            let group_rows = reader.metadata().row_group(group).num_rows();
            let locations = columns[trace_column].page_locations();
            for (page, location) in locations.iter().enumerate() {
                let next = locations
                    .get(page + 1)
                    .map_or(group_rows, |next| next.first_row_index);
                rows_per_page.push(next - location.first_row_index);
            }
        }
        assert_eq!(rows_per_page.iter().sum::<i64>(), spans_in as i64);
        assert!(rows_per_page.len() > 1, "{rows_per_page:?}");
        assert!(
            rows_per_page
                .iter()
                .all(|rows| *rows <= tracelake_index::writer::COMPACTED_PAGE_ROWS as i64),
            "{rows_per_page:?}"
        );
    });
}
