//! Compaction throughput and memory on a real index: compacts every hour that
//! needs it and prints, per hour, rows in and out, seconds, rows per second,
//! the sorter's peak estimate and the largest input fetch, then the process's
//! peak resident memory (`VmHWM`, Linux).
//!
//! `DATA` is a local index, as `tracelake demo --no-serve --data DATA` leaves
//! it (compacted) or with `--no-compact`. It is never changed: its raw segments
//! (`v1/<table>/dt=…/hour=…`, which compaction covers but only GC deletes) are
//! copied into a scratch index under `SCRATCH` (default: the system's temp
//! directory), which is compacted and then deleted. So the figures are those of
//! the demo's own compaction, from the same inputs, and the command can be
//! run again on the same `DATA` (docs/BENCHMARKS.md):
//!
//! ```text
//! tracelake demo --no-serve --data /tmp/demo
//! cargo run --release -p tracelake-index --example compact_bench -- /tmp/demo [MEMORY_MB [SCRATCH]]
//! ```

use std::path::{Path, PathBuf};
use std::time::Instant;

use tracelake_index::IndexStore;
use tracelake_index::compact::{CompactOptions, compact_hour, hours_needing_compaction};
use tracelake_index::schema;

type ExampleResult<T> = Result<T, Box<dyn std::error::Error>>;

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Copies a directory tree; returns the files and bytes copied.
fn copy_tree(from: &Path, to: &Path) -> ExampleResult<(u64, u64)> {
    let (mut files, mut bytes) = (0, 0);
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            let (f, b) = copy_tree(&entry.path(), &target)?;
            files += f;
            bytes += b;
        } else {
            bytes += std::fs::copy(entry.path(), &target)?;
            files += 1;
        }
    }
    Ok((files, bytes))
}

/// A scratch index holding only the raw segments of `data`.
fn raw_copy(data: &Path, scratch: &Path) -> ExampleResult<()> {
    let (mut files, mut bytes) = (0, 0);
    for table in schema::TABLES {
        let raw = data.join(schema::FORMAT_VERSION_DIR).join(table);
        if raw.is_dir() {
            let (f, b) = copy_tree(&raw, &scratch.join(schema::FORMAT_VERSION_DIR).join(table))?;
            files += f;
            bytes += b;
        }
    }
    if files == 0 {
        return Err(format!(
            "no raw segment under {}/{}/<table>: not a tracelake index, or GC deleted them",
            data.display(),
            schema::FORMAT_VERSION_DIR
        )
        .into());
    }
    println!(
        "copied {files} raw segments ({:.1} MB) of {} into {}",
        bytes as f64 / 1e6,
        data.display(),
        scratch.display()
    );
    Ok(())
}

fn main() -> ExampleResult<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: compact_bench DATA [MEMORY_MB [SCRATCH]]";
    let data = PathBuf::from(args.next().ok_or(usage)?);
    let mut options = CompactOptions::default();
    if let Some(mb) = args.next() {
        options.memory_budget_bytes = mb.parse::<usize>()?.max(1) * 1024 * 1024;
    }
    let scratch = args
        .next()
        .map_or_else(std::env::temp_dir, PathBuf::from)
        .join(format!("tracelake-compact-bench-{}", std::process::id()));
    raw_copy(&data, &scratch)?;
    let result = compact_all(&scratch, &options);
    let removed = std::fs::remove_dir_all(&scratch);
    result?;
    Ok(removed?)
}

fn compact_all(scratch: &Path, options: &CompactOptions) -> ExampleResult<()> {
    let store = IndexStore::open_existing(&scratch.to_string_lossy())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let hours = hours_needing_compaction(&store).await?;
        let (mut rows_in, mut seconds) = (0u64, 0f64);
        for hour in hours {
            let started = Instant::now();
            let report = compact_hour(&store, &hour, options).await?;
            let elapsed = started.elapsed().as_secs_f64();
            rows_in += report.figures.rows_in;
            seconds += elapsed;
            println!(
                "{hour}: files {} -> {}, rows {} -> {}, {elapsed:.2} s, {:.0} rows/s, spilled {}, sorter peak {} MiB, largest input fetch {} KiB",
                report.figures.files_in,
                report.files_out,
                report.figures.rows_in,
                report.figures.rows_out,
                report.figures.rows_in as f64 / elapsed.max(1e-9),
                report.spilled,
                report.peak_buffered_bytes / (1024 * 1024),
                report.peak_input_fetch_bytes / 1024,
            );
        }
        println!(
            "total: {rows_in} rows in {seconds:.2} s, {:.0} rows/s, memory budget {} MiB, peak RSS {} MiB",
            rows_in as f64 / seconds.max(1e-9),
            options.memory_budget_bytes / (1024 * 1024),
            peak_rss_kib().map_or("?".to_owned(), |k| (k / 1024).to_string()),
        );
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}
