//! The large index: the demo index's live rows replicated over 24 hours with
//! ids of their own ([`copy_ids`]), written as raw segments, then compacted.

mod copy_ids;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{ArrayRef, AsArray, RecordBatch, StringArray, TimestampNanosecondArray};
use arrow::datatypes::TimestampNanosecondType;
use tracelake_collector::IndexStore;
use tracelake_index::compact::{CompactOptions, compact_hours, hours_needing_compaction};
use tracelake_index::read::read_table;
use tracelake_index::schema;
use tracelake_index::writer::encode_parquet;

use crate::{BenchResult, DAY_NS, HOUR_NS};
use copy_ids::{rewrite_ids, rewrite_xray_ids_in_text};

/// The large index: the demo index's live rows replicated, then compacted.
pub(crate) async fn build_replicated_index(
    base: &Path,
    dir: &Path,
    spans_wanted: usize,
) -> BenchResult<()> {
    let marker = dir.join("complete");
    if marker.exists() {
        return Ok(());
    }
    let started = Instant::now();
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir)?;
    let base_store = IndexStore::open(&base.to_string_lossy())?;
    let spans = concat(read_table(&base_store, schema::SPANS).await?)?;
    let logs = concat(read_table(&base_store, schema::LOGS).await?)?;
    let invocations = concat(read_table(&base_store, schema::INVOCATIONS).await?)?;
    let base_spans = spans.num_rows().max(1);
    let copies = spans_wanted.div_ceil(base_spans);
    let base_start = min_time(&spans, "start_time")?;
    let target_start = (base_start / HOUR_NS) * HOUR_NS;
    let spacing = DAY_NS / copies as i64;
    eprintln!("replicating {base_spans} spans × {copies} copies over 24 h");

    let mut pending: BTreeMap<(&'static str, i64), Vec<RecordBatch>> = BTreeMap::new();
    let mut pending_rows: BTreeMap<(&'static str, i64), usize> = BTreeMap::new();
    let mut file_number = 0usize;
    for copy in 0..copies {
        // Copies move forward in time, so an hour two hours behind this copy's
        // start gets no more rows (a late one would only make one more raw
        // segment): write it now instead of holding every hour's rows until
        // the end, which peaked at 16 GiB for 10M spans.
        let settled_before = (target_start + copy as i64 * spacing).div_euclid(HOUR_NS) - 2;
        let settled: Vec<_> = pending
            .keys()
            .filter(|(_, hour)| *hour < settled_before)
            .copied()
            .collect();
        for key in settled {
            let batches = pending.remove(&key).unwrap_or_default();
            flush(dir, key, batches, &mut file_number)?;
            pending_rows.remove(&key);
        }
        let shift = target_start - base_start + copy as i64 * spacing;
        let mut tables = vec![
            (
                schema::SPANS,
                replicate(&spans, copy, shift, &["start_time", "end_time"])?,
            ),
            (
                schema::INVOCATIONS,
                replicate(&invocations, copy, shift, &["start_time", "end_time"])?,
            ),
        ];
        if copy % 10 == 0 {
            tables.push((schema::LOGS, replicate(&logs, copy, shift, &["timestamp"])?));
        }
        for (table, batch) in tables {
            let time_column = match table {
                schema::SPANS => "start_time",
                schema::LOGS => "timestamp",
                _ => "end_time",
            };
            for (hour, part) in split_by_hour(&batch, time_column)? {
                let key = (table, hour);
                *pending_rows.entry(key).or_default() += part.num_rows();
                pending.entry(key).or_default().push(part);
                if pending_rows[&key] >= 500_000 {
                    flush(
                        dir,
                        key,
                        pending.remove(&key).unwrap_or_default(),
                        &mut file_number,
                    )?;
                    pending_rows.insert(key, 0);
                }
            }
        }
    }
    for (key, batches) in std::mem::take(&mut pending) {
        flush(dir, key, batches, &mut file_number)?;
    }
    let written = started.elapsed();
    let store = IndexStore::open(&dir.to_string_lossy())?;
    let hours = hours_needing_compaction(&store).await?;
    compact_hours(&store, &hours, &CompactOptions::default()).await?;
    eprintln!(
        "large index: {file_number} raw segments written in {:.1} s, {} hours compacted in {:.1} s ({})",
        written.as_secs_f64(),
        hours.len(),
        (started.elapsed() - written).as_secs_f64(),
        dir.display()
    );
    std::fs::write(marker, b"")?;
    Ok(())
}

fn concat(batches: Vec<RecordBatch>) -> BenchResult<RecordBatch> {
    let schema = batches.first().map(|b| b.schema()).ok_or("empty table")?;
    Ok(arrow::compute::concat_batches(&schema, &batches)?)
}

fn min_time(batch: &RecordBatch, column: &str) -> BenchResult<i64> {
    let times = batch
        .column_by_name(column)
        .ok_or("no time column")?
        .as_primitive::<TimestampNanosecondType>();
    Ok(arrow::compute::min(times).ok_or("no times")?)
}

fn replicate(
    batch: &RecordBatch,
    copy: usize,
    shift_ns: i64,
    time_columns: &[&str],
) -> BenchResult<RecordBatch> {
    let schema = batch.schema();
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(batch.num_columns());
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        let name = field.name().as_str();
        let replaced = if time_columns.contains(&name) {
            let times = column.as_primitive::<TimestampNanosecondType>();
            let shifted: TimestampNanosecondArray = times
                .iter()
                .map(|t| t.map(|t| t + shift_ns))
                .collect::<TimestampNanosecondArray>()
                .with_timezone("UTC");
            Arc::new(shifted) as ArrayRef
        } else if name == "trace_id" {
            rewrite_ids(column, copy, shift_ns, true)?
        } else if name == "request_id" || name == "log_stream" {
            rewrite_ids(column, copy, shift_ns, false)?
        } else if name == "message" {
            let shift_seconds = shift_ns / 1_000_000_000;
            let messages: StringArray = column
                .as_string::<i32>()
                .iter()
                .map(|m| m.map(|m| rewrite_xray_ids_in_text(m, copy, shift_seconds)))
                .collect();
            Arc::new(messages) as ArrayRef
        } else {
            Arc::clone(column)
        };
        columns.push(replaced);
    }
    Ok(RecordBatch::try_new(schema, columns)?)
}

fn split_by_hour(batch: &RecordBatch, column: &str) -> BenchResult<Vec<(i64, RecordBatch)>> {
    let times = batch
        .column_by_name(column)
        .ok_or("no time column")?
        .as_primitive::<TimestampNanosecondType>();
    let mut rows_by_hour: BTreeMap<i64, Vec<u32>> = BTreeMap::new();
    for (row, time) in times.iter().enumerate() {
        let hour = time.unwrap_or(0).div_euclid(HOUR_NS);
        rows_by_hour.entry(hour).or_default().push(row as u32);
    }
    let mut parts = Vec::new();
    for (hour, rows) in rows_by_hour {
        let indices = arrow::array::UInt32Array::from(rows);
        let columns = batch
            .columns()
            .iter()
            .map(|c| arrow::compute::take(c.as_ref(), &indices, None))
            .collect::<Result<Vec<_>, _>>()?;
        parts.push((hour, RecordBatch::try_new(batch.schema(), columns)?));
    }
    Ok(parts)
}

/// Writes one raw segment of a table and hour, where the collector writes them.
fn flush(
    root: &Path,
    (table, hour): (&'static str, i64),
    batches: Vec<RecordBatch>,
    file_number: &mut usize,
) -> BenchResult<()> {
    if batches.is_empty() {
        return Ok(());
    }
    let batch = concat(batches)?;
    let partition = schema::HourPartition::of_nanos(hour * HOUR_NS);
    let directory = root.join(schema::partition_dir(table, &partition));
    std::fs::create_dir_all(&directory)?;
    *file_number += 1;
    let bytes = encode_parquet(table, &batch)?;
    std::fs::write(
        directory.join(format!("bench-{file_number:06}.parquet")),
        bytes,
    )?;
    Ok(())
}
