//! Query benchmark: trace by id on the demo's compacted index and on a
//! compacted index of at least 10 million spans, for every id form, then a
//! trace search, the service map and RED on the large index; each also run on
//! DuckDB over the same live files in the same run.
//!
//! ```text
//! cargo bench -p tracelake-dashboards --bench query
//! TRACELAKE_BENCH_SPANS=200000 TRACELAKE_BENCH_DEMO_MINUTES=2 cargo bench --profile dev -p tracelake-dashboards --bench query
//! ```
//!
//! Knobs (environment):
//! - `TRACELAKE_BENCH_DIR` (`target/bench-index`): where the indexes are built
//!   once and kept (`demo-<M>min/`, `spans-<N>-from-<demo dir name>/`); delete
//!   one to rebuild it.
//! - `TRACELAKE_BENCH_DEMO_DATA`: a directory made by `tracelake demo --no-serve
//!   --data DIR`, used as the demo index instead of building one in-process.
//! - `TRACELAKE_BENCH_DEMO_MINUTES` (10, the demo's default): simulated minutes
//!   of the in-process demo.
//! - `TRACELAKE_BENCH_SPANS` (10,000,000): spans of the large index.
//! - `TRACELAKE_BENCH_IDS` (20): ids looked up per id form and index.
//! - `TRACELAKE_BENCH_RUNS` (5): timed runs of each lookup and query, after one warm-up.
//!
//! **The demo index** is built as `tracelake demo` builds it: the simulator's
//! default fleet at the demo's traffic, its deliveries ingested by the
//! collector in groups the size of a Kinesis invocation, every hour compacted.
//!
//! **The large index** replicates the demo index's live rows, through the
//! collector's own Parquet encoding, with fresh trace and request ids, log
//! streams of its own, the X-Ray ids in its lines' text rewritten (compaction
//! relinks lines from what platform lines say) and times shifted so that the
//! copies cover 24 hours, until it holds the requested
//! number of spans; every tenth copy keeps its log lines (the logs table would
//! otherwise be seven times the spans). The copies are written as raw segments
//! and every hour is then compacted with `tracelake_index::compact`, so both
//! indexes are what users have (manifest, one file per table and hour sorted by
//! trace id, `trace_index`). The simulator only makes X-Ray trace ids (a time
//! prefix): a third of the copies get random 128-bit W3C ids and a third random
//! 64-bit ids (the upper half zero, as Jaeger and Datadog clients make).
//!
//! **Trace by id** goes through `QueryEngine::trace`, the path of `tracelake
//! query trace ID` and `/api/tracelake/traces/{id}` (hours from `trace_index`,
//! then spans, logs and invocations of those hours), with each id as a user
//! pastes it: X-Ray ids as `1-xxxxxxxx-…`, W3C ids as hex with leading zeros
//! dropped (64-bit ids thus as at most 16 digits). DuckDB runs the same three
//! SQL files over every live file, through the views `tracelake duckdb-view`
//! prints, as a DuckDB user would (`WHERE trace_id = …`, no hour known). Both
//! must return the same spans, log lines and invocations for every trace, or
//! the benchmark fails.

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{ArrayRef, AsArray, RecordBatch, StringArray, TimestampNanosecondArray};
use arrow::datatypes::TimestampNanosecondType;
use tracelake_collector::sources::files::{FileBatchLimits, FileBatcher};
use tracelake_collector::{Collector, IndexStore};
use tracelake_dashboards::query::sql;
use tracelake_dashboards::query::{
    EngineOptions, ParamValue, Params, QueryEngine, TimeRange, TraceSearch,
};
use tracelake_index::compact::{CompactOptions, compact_hours, hours_needing_compaction};
use tracelake_index::read::{read_rows, read_table};
use tracelake_index::rows::TraceIndexRow;
use tracelake_index::schema;
use tracelake_index::writer::encode_parquet;
use tracelake_instrumentation::wire::ids::TraceId;
use tracelake_simulator::{SimulationConfig, simulate};

const DAY_NS: i64 = 86_400 * 1_000_000_000;
const HOUR_NS: i64 = 3_600 * 1_000_000_000;
/// `tracelake demo`'s traffic in root requests per second (`DEMO_RATE` in src/cli/demo.rs).
const DEMO_RATE: f64 = 5.0;

type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Knobs {
    dir: PathBuf,
    demo_data: Option<PathBuf>,
    demo_minutes: f64,
    spans_wanted: usize,
    ids: usize,
    runs: usize,
}

fn main() -> BenchResult<()> {
    // `cargo bench` passes `--bench`; nothing else is read from the arguments.
    let knobs = Knobs {
        dir: PathBuf::from(std::env::var("TRACELAKE_BENCH_DIR").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench-index").to_owned()
        })),
        demo_data: std::env::var_os("TRACELAKE_BENCH_DEMO_DATA").map(PathBuf::from),
        demo_minutes: env_or("TRACELAKE_BENCH_DEMO_MINUTES", 10.0),
        spans_wanted: env_or("TRACELAKE_BENCH_SPANS", 10_000_000),
        ids: env_or("TRACELAKE_BENCH_IDS", 20),
        runs: env_or::<usize>("TRACELAKE_BENCH_RUNS", 5).max(1),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(&knobs))
}

async fn run(knobs: &Knobs) -> BenchResult<()> {
    let demo = match &knobs.demo_data {
        Some(path) => path.clone(),
        None => {
            let path = knobs.dir.join(format!("demo-{}min", knobs.demo_minutes));
            build_demo_index(&path, knobs.demo_minutes).await?;
            path
        }
    };
    // Named after its base too, so that another demo gets its own copy.
    let base_name = demo
        .file_name()
        .map_or_else(|| "demo".into(), |name| name.to_string_lossy());
    let large = knobs
        .dir
        .join(format!("spans-{}-from-{base_name}", knobs.spans_wanted));
    build_replicated_index(&demo, &large, knobs.spans_wanted).await?;

    let mut table = String::from(
        "| index | id form | ids | ours p50 ms | ours p99 ms | DuckDB p50 ms | DuckDB p99 ms |\n|---|---|---:|---:|---:|---:|---:|\n",
    );
    for (name, root) in [("demo", &demo), ("replicated", &large)] {
        table.push_str(&trace_by_id(name, root, knobs).await?);
    }
    println!("\n## trace by id\n\n{table}");
    other_queries(&large, knobs.runs).await
}

// ---- trace by id ----

/// The id forms the benchmark looks up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum IdForm {
    /// A span-carrying trace whose id starts with its own time (X-Ray).
    Xray,
    /// A span-carrying trace whose id does not (a random W3C id, 128 or 64 bits).
    W3c,
    /// A trace with logs or invocations and no span line.
    LogsOnly,
}

impl IdForm {
    fn label(self) -> &'static str {
        match self {
            IdForm::Xray => "X-Ray",
            IdForm::W3c => "random W3C",
            IdForm::LogsOnly => "logs-only",
        }
    }
}

/// What a trace row of `trace_index` is, by its id and time.
fn id_form(row: &TraceIndexRow) -> IdForm {
    if row.span_count == 0 {
        return IdForm::LogsOnly;
    }
    let epoch_ns = row
        .trace_id
        .xray_epoch_seconds()
        .map(|s| i64::from(s) * 1_000_000_000);
    match epoch_ns {
        Some(epoch) if (epoch - row.min_start_ns).abs() <= DAY_NS => IdForm::Xray,
        _ => IdForm::W3c,
    }
}

/// The id as a user pastes it: X-Ray ids in the X-Ray form, others as hex
/// with leading zeros dropped (Jaeger's form; 64-bit ids are then 16 digits at most).
fn pasted(id: &TraceId, form: IdForm) -> String {
    match form {
        IdForm::Xray => id.to_xray(),
        IdForm::W3c | IdForm::LogsOnly => {
            let hex = id.to_string();
            let trimmed = hex.trim_start_matches('0');
            if trimmed.is_empty() {
                "0".to_owned()
            } else {
                trimmed.to_owned()
            }
        }
    }
}

fn stable_hash(value: impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// The traces looked up in one index.
struct Picked {
    /// Up to `count` traces of each form, chosen at random (a fixed hash of the id).
    ids: BTreeMap<IdForm, Vec<TraceId>>,
    /// The index holds no random W3C id (the demo: the simulator makes X-Ray
    /// ids only), so the W3C row looks up other X-Ray traces in the 32-hex
    /// form an OpenTelemetry SDK prints them in.
    w3c_from_xray: bool,
}

async fn pick_traces(root: &Path, count: usize) -> BenchResult<Picked> {
    let store = IndexStore::open(&root.to_string_lossy())?;
    let rows: Vec<TraceIndexRow> = read_rows(&store).await?;
    let mut by_form: BTreeMap<IdForm, BTreeMap<u64, TraceId>> = BTreeMap::new();
    for row in &rows {
        by_form
            .entry(id_form(row))
            .or_default()
            .insert(stable_hash(row.trace_id.0), row.trace_id);
    }
    let mut pool = |form| -> Vec<TraceId> {
        by_form
            .remove(&form)
            .unwrap_or_default()
            .into_values()
            .collect()
    };
    let xray = pool(IdForm::Xray);
    let mut w3c = pool(IdForm::W3c);
    let logs_only = pool(IdForm::LogsOnly);
    let w3c_from_xray = w3c.is_empty();
    if w3c_from_xray {
        w3c = xray.iter().skip(count).copied().collect();
    }
    let first = |ids: Vec<TraceId>| ids.into_iter().take(count).collect::<Vec<_>>();
    Ok(Picked {
        ids: BTreeMap::from([
            (IdForm::Xray, first(xray)),
            (IdForm::W3c, first(w3c)),
            (IdForm::LogsOnly, first(logs_only)),
        ]),
        w3c_from_xray,
    })
}

/// Spans, log lines and invocations of one trace.
type Counts = [usize; 3];

/// Looks up every picked id on both engines; returns the table rows of this index.
async fn trace_by_id(name: &str, root: &Path, knobs: &Knobs) -> BenchResult<String> {
    let engine = QueryEngine::open(&root.to_string_lossy(), EngineOptions::default()).await?;
    let Picked {
        ids: picked,
        w3c_from_xray,
    } = pick_traces(root, knobs.ids).await?;
    let views = duckdb_views(root).await?;

    // DuckDB: the three SQL files of a trace over every live file.
    let mut lookups = Vec::new();
    for (form, ids) in &picked {
        for id in ids {
            let params = Params::new()
                .text("trace_id", Some(&id.to_string()))
                // Lexically below and above every `YYYY-MM-DDHH`: every hour.
                .text("partition_from", Some("0"))
                .text("partition_to", Some("A"));
            let queries: Vec<serde_json::Value> =
                [sql::TRACE_SPANS, sql::TRACE_LOGS, sql::TRACE_INVOCATIONS]
                    .iter()
                    .map(
                        |q| serde_json::json!({"name": q.name, "sql": q.sql(), "params": params.0}),
                    )
                    .collect();
            lookups.push(serde_json::json!({
                "key": format!("{form:?}/{id}"),
                "queries": queries,
            }));
        }
    }
    let duck = run_duckdb(&serde_json::json!({
        "views": views, "runs": knobs.runs, "cases": [], "lookups": lookups,
    }))?;

    let mut rows = String::new();
    for (form, ids) in &picked {
        let mut ours_ms = Vec::new();
        let mut theirs_ms = Vec::new();
        for id in ids {
            let text = pasted(id, *form);
            let mut counts: Counts = [0; 3];
            for run in 0..=knobs.runs {
                let start = Instant::now();
                let detail = engine
                    .trace(&text, None)
                    .await?
                    .ok_or_else(|| format!("{name}: trace {text} ({form:?}) not found"))?;
                let elapsed = start.elapsed().as_secs_f64() * 1000.0;
                if run == 0 {
                    let logs = detail.spans.iter().map(|s| s.logs.len()).sum::<usize>()
                        + detail.unattached_logs.len();
                    counts = [detail.span_count, logs, detail.invocations.len()];
                } else {
                    ours_ms.push(elapsed);
                }
            }
            let key = format!("{form:?}/{id}");
            let lookup = &duck["lookups"][&key];
            let duck_counts: Vec<usize> = lookup["rows"]
                .as_array()
                .ok_or("DuckDB returned no counts")?
                .iter()
                .map(|n| n.as_u64().unwrap_or(0) as usize)
                .collect();
            if duck_counts != counts {
                return Err(format!(
                    "{name}: trace {text} ({form:?}): tracelake found [spans, logs, invocations] = {counts:?}, DuckDB {duck_counts:?}"
                )
                .into());
            }
            let slowest = ours_ms[ours_ms.len() - knobs.runs..]
                .iter()
                .fold(0.0f64, |a, &b| a.max(b));
            eprintln!(
                "{name} {form:?} {text}: [spans, logs, invocations] {counts:?}, slowest {slowest:.1} ms"
            );
            theirs_ms.extend(
                lookup["ms"]
                    .as_array()
                    .ok_or("DuckDB returned no timings")?
                    .iter()
                    .filter_map(serde_json::Value::as_f64),
            );
        }
        let label = if *form == IdForm::W3c && w3c_from_xray {
            "W3C form of X-Ray ids (none random here)"
        } else {
            form.label()
        };
        rows.push_str(&format!(
            "| {name} | {label} | {} | {:.1} | {:.1} | {:.1} | {:.1} |\n",
            ids.len(),
            percentile(&mut ours_ms, 0.50),
            percentile(&mut ours_ms, 0.99),
            percentile(&mut theirs_ms, 0.50),
            percentile(&mut theirs_ms, 0.99),
        ));
    }
    // Where a lookup's time goes: its two steps before the three queries.
    if let Some(id) = picked.get(&IdForm::Xray).and_then(|ids| ids.first()) {
        let (mut hours_ms, mut raw_ms) = (Vec::new(), Vec::new());
        for run in 0..=knobs.runs {
            let start = Instant::now();
            engine.trace_hours(id).await?;
            let hours = start.elapsed().as_secs_f64() * 1000.0;
            let start = Instant::now();
            engine.uncompacted_hours().await?;
            let raw = start.elapsed().as_secs_f64() * 1000.0;
            if run > 0 {
                hours_ms.push(hours);
                raw_ms.push(raw);
            }
        }
        eprintln!(
            "{name}: steps of a lookup (median ms): trace_index → hours {:.1}, hours with raw segments {:.1}",
            percentile(&mut hours_ms, 0.5),
            percentile(&mut raw_ms, 0.5)
        );
    }
    Ok(rows)
}

/// Nearest-rank percentile (`q` in 0..=1); NaN when empty.
fn percentile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    if values.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}

/// The `CREATE VIEW` statements of `tracelake duckdb-view` for this index.
async fn duckdb_views(root: &Path) -> BenchResult<String> {
    let store = IndexStore::open(&root.to_string_lossy())?;
    Ok(tracelake_index::symlink::duckdb_views(&store).await?)
}

/// Runs `benches/duckdb_time.py` on a request; its JSON answer.
fn run_duckdb(request: &serde_json::Value) -> BenchResult<serde_json::Value> {
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

// ---- trace search, service map, RED ----

async fn other_queries(root: &Path, runs: usize) -> BenchResult<()> {
    let engine = QueryEngine::open(&root.to_string_lossy(), EngineOptions::default()).await?;
    // The data's day: the 24 hours ending at the newest hour.
    let end = engine.default_end().await?;
    let day = TimeRange::new(end - DAY_NS, end).ok_or("empty index")?;
    let spans_total = count(&engine, "SELECT count(*) AS n FROM spans").await?;
    let logs_total = count(&engine, "SELECT count(*) AS n FROM logs").await?;
    let invocations_total = count(&engine, "SELECT count(*) AS n FROM invocations").await?;
    println!(
        "large index: {spans_total} spans, {logs_total} log lines, {invocations_total} invocations in {}",
        root.display()
    );

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

    let duck = run_duckdb(&serde_json::json!({
        "views": duckdb_views(root).await?,
        "runs": runs,
        "lookups": [],
        "cases": cases.iter().map(|(label, queries)| serde_json::json!({
            "label": label,
            "queries": queries.iter().map(|(query, params)| serde_json::json!({
                "name": query.name, "sql": query.sql(), "params": params.0,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    }))?;
    println!("\n| query | DataFusion median ms | DuckDB median ms | DataFusion / DuckDB |");
    println!("|---|---:|---:|---:|");
    for (label, queries) in &cases {
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
        let ours = percentile(&mut timings, 0.5);
        let theirs = duck["cases"][*label].as_f64().unwrap_or(f64::NAN);
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

// ---- building the indexes ----

/// The demo index, as `tracelake demo --no-serve --data DIR` builds it.
async fn build_demo_index(dir: &Path, minutes: f64) -> BenchResult<()> {
    let marker = dir.join("complete");
    if marker.exists() {
        return Ok(());
    }
    let started = Instant::now();
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir)?;
    let config = SimulationConfig {
        rate: DEMO_RATE,
        minutes,
        ..SimulationConfig::default()
    };
    let run = simulate(&config, &mut |_, _, _| {})?;
    let store = IndexStore::open(&dir.to_string_lossy())?;
    let collector = Collector::new(store.clone());
    let mut batcher = FileBatcher::new(&collector, FileBatchLimits::default());
    for (number, delivery) in run.delivered.deliveries.iter().enumerate() {
        let source = format!("simulated-delivery-{number:07}");
        batcher.add_file(&source, &delivery.payload).await?;
    }
    batcher.finish().await?;
    let hours = hours_needing_compaction(&store).await?;
    compact_hours(&store, &hours, &CompactOptions::default()).await?;
    eprintln!(
        "demo index: {} spans simulated, ingested and compacted in {:.1} s ({})",
        run.summary.spans,
        started.elapsed().as_secs_f64(),
        dir.display()
    );
    std::fs::write(marker, b"")?;
    Ok(())
}

/// The large index: the demo index's live rows replicated, then compacted.
async fn build_replicated_index(base: &Path, dir: &Path, spans_wanted: usize) -> BenchResult<()> {
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

/// The trace id of a copy: a third of the copies keep the X-Ray shape (the
/// epoch moved by the shift, then the copy number), a third get random
/// 128-bit W3C ids and a third random 64-bit ids, each a fixed hash of the
/// copy and the original id, so that every table of a copy agrees.
fn copy_trace_id(id: &str, copy: usize, shift_seconds: i64) -> String {
    match copy % 3 {
        0 => {
            let epoch = i64::from_str_radix(&id[..8], 16).unwrap_or(0) + shift_seconds;
            format!(
                "{:08x}{copy:08x}{}",
                epoch.clamp(0, u32::MAX as i64),
                &id[16..]
            )
        }
        1 => format!(
            "{:016x}{:016x}",
            stable_hash((copy, id, "high")),
            stable_hash((copy, id, "low")).max(1)
        ),
        _ => format!("{:016x}{:016x}", 0, stable_hash((copy, id)).max(1)),
    }
}

/// Whether `text` is an X-Ray trace id, `1-` then 8 and 24 lowercase hex digits.
fn is_xray_id(text: &str) -> bool {
    let bytes = text.as_bytes();
    let hex = |range: std::ops::Range<usize>| {
        bytes[range]
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
    };
    bytes.len() == 35 && text.starts_with("1-") && bytes[10] == b'-' && hex(2..10) && hex(11..35)
}

/// Rewrites the X-Ray trace ids a line's text names (`REPORT … XRAY TraceId:`,
/// `platform.start` tracing, Powertools' `xray_trace_id`) with
/// [`copy_trace_id`], as the `trace_id` column is: compaction relinks lines
/// from what their platform lines say, so a copy must say its own trace.
fn rewrite_xray_ids_in_text(text: &str, copy: usize, shift_seconds: i64) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut copied_to, mut from) = (0, 0);
    while let Some(found) = text[from..].find("1-") {
        let start = from + found;
        let starts_word = start == 0 || !text.as_bytes()[start - 1].is_ascii_alphanumeric();
        match text.get(start..start + 35) {
            Some(id) if starts_word && is_xray_id(id) => {
                let hex = format!("{}{}", &id[2..10], &id[11..]);
                let new = copy_trace_id(&hex, copy, shift_seconds);
                out.push_str(&text[copied_to..start]);
                out.push_str(&format!("1-{}-{}", &new[..8], &new[8..]));
                copied_to = start + 35;
                from = copied_to;
            }
            _ => from = start + 2,
        }
    }
    out.push_str(&text[copied_to..]);
    out
}

/// Rewrites a string id column: trace ids with [`copy_trace_id`], other ids
/// (request ids, log streams) with the copy as a prefix. Event ids are kept:
/// they are stream positions (decimal numbers), and each copy has its own
/// streams, so `(log_group, log_stream, event_id)` stays unique.
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
                    copy_trace_id(id, copy, shift_seconds)
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
