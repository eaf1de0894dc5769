//! `tracelake stats [--data URL]`

use anyhow::Context as _;
use tracelake_collector::IndexStore;
use tracelake_collector::index::stats::index_stats;

/// Arguments of `tracelake stats`.
#[derive(clap::Args)]
pub struct StatsArgs {
    /// Index root: a local directory or s3://bucket/prefix.
    #[arg(long, default_value = super::DEFAULT_DATA)]
    pub data: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs the command.
pub fn run(args: StatsArgs) -> anyhow::Result<()> {
    let store = IndexStore::open_existing(&args.data)
        .with_context(|| format!("cannot read index at {}", args.data))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let stats = runtime
        .block_on(index_stats(&store))
        .with_context(|| format!("cannot read index at {}", args.data))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&stats)?);
        return Ok(());
    }
    if stats.is_empty() {
        println!(
            "{}: no rows yet (tracelake ingest PATH writes some)",
            args.data
        );
        return Ok(());
    }
    println!(
        "{:<12} {:<24} {:>4} {:>6} {:>10} {:>12} {:>5} {:>8} {:>10} {:>7}",
        "table",
        "partition",
        "gen",
        "files",
        "rows",
        "bytes",
        "raw",
        "covered",
        "cov. rows",
        "garbage"
    );
    for entry in &stats {
        println!(
            "{:<12} {:<24} {:>4} {:>6} {:>10} {:>12} {:>5} {:>8} {:>10} {:>7}",
            entry.table,
            entry.partition,
            entry.generation,
            entry.files,
            entry.rows,
            entry.bytes,
            entry.raw_files,
            entry.covered_files,
            entry.covered_rows,
            entry.garbage_files
        );
    }
    println!(
        "files and rows are live (what readers see); raw = live files not compacted yet; covered and garbage files await `tracelake gc`"
    );
    for table in ["spans", "logs", "invocations", "trace_index", "quarantine"] {
        let rows: u64 = stats
            .iter()
            .filter(|s| s.table == table)
            .map(|s| s.rows)
            .sum();
        println!(
            "total {table:<12} {rows:>10} {}",
            if table == "quarantine" {
                "records"
            } else {
                "rows"
            }
        );
    }
    Ok(())
}
