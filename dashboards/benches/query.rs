//! Query benchmark: trace by id, a trace search, the service map and RED over an
//! index of at least 10 million spans, each also run on DuckDB over the same
//! files in the same run.
//!
//! ```text
//! cargo bench -p tracelake-dashboards --bench query
//! TRACELAKE_BENCH_SPANS=10000000 TRACELAKE_BENCH_DIR=target/bench-index cargo bench -p tracelake-dashboards --bench query
//! ```
//!
//! The index is built once (kept in `TRACELAKE_BENCH_DIR`): the simulator's
//! default fleet runs for a few minutes and the collector ingests it; that index
//! is then replicated, through the collector's own Parquet encoding, with fresh
//! trace and request ids and times shifted so that the copies cover 24 hours,
//! until it holds the requested number of spans. Every tenth copy keeps its log
//! lines (the logs table would otherwise be seven times the spans).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{ArrayRef, AsArray, RecordBatch, StringArray, TimestampNanosecondArray};
use arrow::datatypes::TimestampNanosecondType;
use tracelake_collector::{Collector, IndexStore};
use tracelake_dashboards::query::sql;
use tracelake_dashboards::query::{
    EngineOptions, ParamValue, Params, QueryEngine, TimeRange, TraceSearch,
};
use tracelake_index::read::read_table;
use tracelake_index::schema;
use tracelake_index::writer::encode_parquet;
use tracelake_simulator::{SimulationConfig, simulate};

const DAY_NS: i64 = 86_400 * 1_000_000_000;
const HOUR_NS: i64 = 3_600 * 1_000_000_000;

type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> BenchResult<()> {
    // `cargo bench` passes `--bench`; nothing else is read from the arguments.
    let spans_wanted: usize = std::env::var("TRACELAKE_BENCH_SPANS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let dir = PathBuf::from(std::env::var("TRACELAKE_BENCH_DIR").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench-index").to_owned()
    }));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(&dir, spans_wanted))
}

async fn run(dir: &Path, spans_wanted: usize) -> BenchResult<()> {
    let marker = dir.join(format!("complete-{spans_wanted}"));
    if !marker.exists() {
        build_index(dir, spans_wanted).await?;
        std::fs::write(&marker, b"")?;
    }
    let root = dir.join("index");
    let engine = QueryEngine::open(&root.to_string_lossy(), EngineOptions::default()).await?;

    // The data's day: the 24 hours ending at the newest hour.
    let end = engine.default_end().await?;
    let day = TimeRange::new(end - DAY_NS, end).ok_or("empty index")?;
    let spans_total = count(&engine, "SELECT count(*) AS n FROM spans").await?;
    let logs_total = count(&engine, "SELECT count(*) AS n FROM logs").await?;
    let invocations_total = count(&engine, "SELECT count(*) AS n FROM invocations").await?;
    println!(
        "index: {spans_total} spans, {logs_total} log lines, {invocations_total} invocations over 24 h in {}",
        root.display()
    );

    // A trace from the middle of the day, with its X-Ray-bounded lookup.
    let middle = TimeRange::new(end - DAY_NS / 2, end - DAY_NS / 2 + HOUR_NS).ok_or("range")?;
    let mut probe = TraceSearch::new(middle);
    probe.limit = 1;
    let trace_id = engine
        .search_traces(&probe)
        .await?
        .first()
        .map(|t| t.trace_id.clone())
        .ok_or("no trace to look up")?;
    let id = tracelake_instrumentation::wire::ids::TraceId::parse(&trace_id)?;
    let trace_params = engine.trace_params(&id, None);

    let service = engine
        .services(&day)
        .await?
        .into_iter()
        .max_by_key(|s| s.span_count)
        .map(|s| s.service)
        .ok_or("no service")?;
    let mut search = TraceSearch::new(TimeRange::new(end - HOUR_NS, end).ok_or("range")?);
    search.service = Some(service.clone());
    search.min_duration_ns = Some(100_000_000);
    search.limit = 20;
    let day_params = Params::new().range(&day, 0);
    let red_params = day_params
        .clone()
        .text("service", None)
        .text("operation", None)
        .with("bucket", ParamValue::IntervalSeconds(300))
        .with("by_operation", ParamValue::Bool(true));

    let cases: Vec<(&str, Vec<(sql::DashboardQuery, Params)>)> = vec![
        (
            "trace by id (spans + logs + invocations)",
            vec![
                (sql::TRACE_SPANS, trace_params.clone()),
                (sql::TRACE_LOGS, trace_params.clone()),
                (sql::TRACE_INVOCATIONS, trace_params.clone()),
            ],
        ),
        (
            "trace search (1 h, service, minDuration 100ms)",
            vec![(sql::SEARCH_TRACES, search.params()?)],
        ),
        (
            "service map (24 h)",
            vec![(sql::SERVICE_MAP, day_params.clone())],
        ),
        (
            "RED, 5 min buckets (24 h)",
            vec![(sql::RED, red_params.clone())],
        ),
    ];

    let runs = 5;
    let duck = duckdb_timings(&root, &cases, runs)?;
    println!("\n| query | DataFusion median ms | DuckDB median ms | DataFusion / DuckDB |");
    println!("|---|---:|---:|---:|");
    for (label, queries) in &cases {
        // The three trace-by-id files run concurrently, as the engine runs them.
        let mut timings = Vec::new();
        for run in 0..=runs {
            let start = Instant::now();
            let futures = queries
                .iter()
                .map(|(query, params)| engine.run(query, params));
            let results = futures::future::try_join_all(futures).await?;
            if run == 0 {
                let rows: usize = results.iter().map(Vec::len).sum();
                eprintln!("{label}: {rows} rows");
                continue; // warm-up
            }
            timings.push(start.elapsed().as_secs_f64() * 1000.0);
        }
        let ours = median(&mut timings);
        let theirs = duck.get(*label).copied().unwrap_or(f64::NAN);
        println!(
            "| {label} | {ours:.1} | {theirs:.1} | {:.2} |",
            ours / theirs
        );
    }
    Ok(())
}

async fn count(engine: &QueryEngine, text: &str) -> BenchResult<i64> {
    let rows = tracelake_dashboards::query::rows::batches_to_rows(&engine.sql(text).await?.batches);
    Ok(rows.first().and_then(|r| r["n"].as_i64()).unwrap_or(0))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Runs each case on DuckDB (warm-up, then `runs` timed runs of its statements in
/// sequence) and returns the median milliseconds per case.
fn duckdb_timings(
    root: &Path,
    cases: &[(&str, Vec<(sql::DashboardQuery, Params)>)],
    runs: usize,
) -> BenchResult<BTreeMap<String, f64>> {
    let request = serde_json::json!({
        "root": root,
        "runs": runs,
        "cases": cases.iter().map(|(label, queries)| serde_json::json!({
            "label": label,
            "queries": queries.iter().map(|(query, params)| serde_json::json!({
                "name": query.name, "sql": query.sql, "params": params.0,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/duckdb_time.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .ok_or("stdin")?
        .write_all(request.to_string().as_bytes())?;
    let output = child.wait_with_output()?;
    if !output.status.success() {
        return Err("DuckDB timing failed (pip install duckdb)".into());
    }
    Ok(serde_json::from_slice(&output.stdout)?)
}

// ---- building the index ----

async fn build_index(dir: &Path, spans_wanted: usize) -> BenchResult<()> {
    let started = Instant::now();
    let base_dir = dir.join("base");
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(&base_dir)?;
    let config = SimulationConfig {
        minutes: 3.0,
        ..SimulationConfig::default()
    };
    let run = simulate(&config, &mut |_, _, _| {})?;
    let store = IndexStore::open(&base_dir.to_string_lossy())?;
    let collector = Collector::new(store.clone());
    for delivery in &run.delivered.deliveries {
        collector.ingest(&delivery.payload, "bench").await?;
    }
    eprintln!(
        "base index: {} spans simulated and ingested in {:.1} s",
        run.summary.spans,
        started.elapsed().as_secs_f64()
    );

    let spans = concat(read_table(&store, schema::SPANS).await?)?;
    let logs = concat(read_table(&store, schema::LOGS).await?)?;
    let invocations = concat(read_table(&store, schema::INVOCATIONS).await?)?;
    let base_spans = spans.num_rows().max(1);
    let copies = spans_wanted.div_ceil(base_spans);
    let base_start = min_time(&spans, "start_time")?;
    let target_start = (base_start / HOUR_NS) * HOUR_NS;
    let spacing = DAY_NS / copies as i64;
    eprintln!("replicating {base_spans} spans × {copies} copies over 24 h");

    let root = dir.join("index");
    let mut pending: BTreeMap<(&'static str, i64), Vec<RecordBatch>> = BTreeMap::new();
    let mut pending_rows: BTreeMap<(&'static str, i64), usize> = BTreeMap::new();
    let mut file_number = 0usize;
    for copy in 0..copies {
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
                        &root,
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
        flush(&root, key, batches, &mut file_number)?;
    }
    eprintln!("index built in {:.1} s", started.elapsed().as_secs_f64());
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

/// Rewrites a string id column: trace ids keep their 32-hex shape (the X-Ray
/// epoch moved by the shift, then the copy number), other ids get a prefix.
fn rewrite_ids(
    column: &ArrayRef,
    copy: usize,
    shift_ns: i64,
    trace: bool,
) -> BenchResult<ArrayRef> {
    let strings = column.as_string::<i32>();
    let shift_seconds = shift_ns / 1_000_000_000;
    let rewritten: StringArray = strings
        .iter()
        .map(|value| {
            value.map(|id| {
                if trace && id.len() == 32 {
                    let epoch = i64::from_str_radix(&id[..8], 16).unwrap_or(0) + shift_seconds;
                    format!(
                        "{:08x}{copy:08x}{}",
                        epoch.clamp(0, u32::MAX as i64),
                        &id[16..]
                    )
                } else {
                    format!("{copy:x}-{id}")
                }
            })
        })
        .collect();
    Ok(Arc::new(rewritten))
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
        } else if name == "request_id" || name == "event_id" {
            rewrite_ids(column, copy, shift_ns, false)?
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
