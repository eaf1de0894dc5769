//! Compaction throughput and memory on a real index: compacts every hour of
//! `DATA` that needs it and prints, per hour, rows in and out, seconds, rows
//! per second, the sorter's peak estimate and the largest input fetch, then
//! the process's peak resident memory (`VmHWM`, Linux).
//!
//! It changes `DATA` (it is a compaction), so run it on a copy of an
//! uncompacted index (docs/BENCHMARKS.md):
//!
//! ```text
//! tracelake demo --no-serve --no-compact --data /tmp/demo
//! cp -a /tmp/demo /tmp/demo-copy
//! cargo run --release -p tracelake-index --example compact_bench -- /tmp/demo-copy [MEMORY_MB]
//! ```

use std::time::Instant;

use tracelake_index::IndexStore;
use tracelake_index::compact::{CompactOptions, compact_hour, hours_needing_compaction};

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let data = args.next().ok_or("usage: compact_bench DATA [MEMORY_MB]")?;
    let mut options = CompactOptions::default();
    if let Some(mb) = args.next() {
        options.memory_budget_bytes = mb.parse::<usize>()?.max(1) * 1024 * 1024;
    }
    let store = IndexStore::open_existing(&data)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let hours = hours_needing_compaction(&store).await?;
        let (mut rows_in, mut seconds) = (0u64, 0f64);
        for hour in hours {
            let started = Instant::now();
            let report = compact_hour(&store, &hour, &options).await?;
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
