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
//! - `TRACELAKE_BENCH_LIVE_FILES_TTL_MS` (`tracelake serve`'s `--live-files-ttl`,
//!   2000): how long the engines keep a listing of the live files; 0 lists at
//!   every scan, as the CLI does.
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
//! dropped (64-bit ids thus as at most 16 digits). DuckDB runs the same SQL
//! files in the same two steps (the trace's rows, then its requests' unlinked
//! rows) over every live file, through the views `tracelake duckdb-view`
//! prints, as a DuckDB user would (`WHERE trace_id = …`, no hour known). Both
//! must return the same spans, log lines and invocations for every trace, or
//! the benchmark fails.
//!
//! Modules: `demo_index` and `replicated_index` build the two indexes (the
//! replica's ids in `replicated_index/copy_ids.rs`); `trace_by_id` (with the id
//! forms in `ids`) and `other_queries` time the queries; `duckdb` runs the
//! same SQL on DuckDB (`benches/duckdb_time.py`).

mod demo_index;
mod duckdb;
mod ids;
mod other_queries;
mod replicated_index;
mod trace_by_id;

use std::path::PathBuf;

use demo_index::build_demo_index;
use other_queries::other_queries;
use replicated_index::build_replicated_index;
use trace_by_id::trace_by_id;

pub(crate) const DAY_NS: i64 = 86_400 * 1_000_000_000;
pub(crate) const HOUR_NS: i64 = 3_600 * 1_000_000_000;
/// `tracelake demo`'s traffic in root requests per second (`DEMO_RATE` in src/cli/demo.rs).
pub(crate) const DEMO_RATE: f64 = 5.0;

pub(crate) type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The environment knobs of the module doc.
pub(crate) struct Knobs {
    pub(crate) dir: PathBuf,
    pub(crate) demo_data: Option<PathBuf>,
    pub(crate) demo_minutes: f64,
    pub(crate) spans_wanted: usize,
    pub(crate) ids: usize,
    pub(crate) runs: usize,
    /// How long the engines keep a listing of the live files.
    pub(crate) live_files_ttl: std::time::Duration,
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
        live_files_ttl: std::time::Duration::from_millis(env_or(
            "TRACELAKE_BENCH_LIVE_FILES_TTL_MS",
            tracelake_dashboards::query::DEFAULT_SERVE_LIVE_FILES_TTL.as_millis() as u64,
        )),
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
    println!(
        "\n## trace by id\n\nlive-file listings kept for {} ms\n\n{table}",
        knobs.live_files_ttl.as_millis()
    );
    other_queries(&large, knobs.runs).await
}

/// Nearest-rank percentile (`q` in 0..=1); NaN when empty.
pub(crate) fn percentile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    if values.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}
