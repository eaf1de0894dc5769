//! `tracelake ingest [--data URL] [--no-batch] PATH...`
//!
//! By default consecutive inputs are gathered into groups the size of one
//! Kinesis invocation and each group becomes one set of segments
//! (`tracelake_collector::sources::files`), as the Kinesis and Firehose paths
//! write them. `--no-batch` writes one segment per payload, as the direct
//! Lambda subscription does.

use std::collections::HashSet;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use tracelake_collector::sources::files::{FileBatchLimits, FileBatcher};
use tracelake_collector::{Collector, IndexStore, IngestCounters};

/// Arguments of `tracelake ingest`.
#[derive(clap::Args)]
pub struct IngestArgs {
    /// Index root: a local directory or s3://bucket/prefix.
    #[arg(long, default_value = super::DEFAULT_DATA)]
    pub data: String,
    /// Files or directories of CloudWatch Logs payloads (Lambda events, decoded
    /// DATA_MESSAGE JSON, Firehose requests, Kinesis events, objects Firehose
    /// delivered to S3, .gz files, JSON lines), or `-` for stdin.
    #[arg(required = true)]
    pub paths: Vec<String>,
    /// Write one segment per payload (as the direct Lambda subscription does)
    /// instead of one per group of inputs.
    #[arg(long)]
    pub no_batch: bool,
    /// Payloads per group (a Kinesis invocation carries at most 10,000 records).
    #[arg(long, default_value_t = FileBatchLimits::default().max_payloads)]
    pub batch_payloads: usize,
    /// Megabytes of log text per group.
    #[arg(long, default_value_t = FileBatchLimits::default().max_log_bytes / (1024 * 1024))]
    pub batch_megabytes: usize,
    /// Leave the written segments uncompacted (by default the hours written to are compacted).
    #[arg(long)]
    pub no_compact: bool,
}

/// Bytes of input files read before they are decoded together.
const WINDOW_BYTES: usize = 32 * 1024 * 1024;
/// Files read before they are decoded together.
const WINDOW_FILES: usize = 1024;

/// Runs the command.
pub fn run(args: IngestArgs) -> anyhow::Result<()> {
    let inputs = collect_inputs(&args.paths)?;
    let store = IndexStore::open(&args.data)
        .with_context(|| format!("cannot open index at {}", args.data))?;
    let collector = Collector::new(store);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let progress = indicatif::ProgressBar::new(inputs.len() as u64).with_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} inputs {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    if inputs.len() < 20 {
        progress.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut total = IngestCounters::default();
    let limits = FileBatchLimits {
        max_payloads: args.batch_payloads.max(1),
        max_log_bytes: args.batch_megabytes.max(1) * 1024 * 1024,
    };
    let mut batcher = (!args.no_batch).then(|| FileBatcher::new(&collector, limits));
    let write_error = || format!("cannot write the index at {}", args.data);
    // Files are read a window at a time and each window is decoded on all
    // cores (`FileBatcher::add_files`); the window bounds the memory held.
    let mut window: Vec<(String, Vec<u8>)> = Vec::new();
    let mut window_bytes = 0usize;
    for (number, input) in inputs.iter().enumerate() {
        let (bytes, source) = match input {
            Input::Stdin => {
                let mut bytes = Vec::new();
                std::io::stdin()
                    .read_to_end(&mut bytes)
                    .context("cannot read stdin")?;
                (bytes, "stdin".to_owned())
            }
            Input::File(path) => (
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
                path.display().to_string(),
            ),
        };
        if let Some(batcher) = batcher.as_mut() {
            window_bytes += bytes.len();
            window.push((source, bytes));
            let last = number + 1 == inputs.len();
            if last || window_bytes >= WINDOW_BYTES || window.len() >= WINDOW_FILES {
                runtime
                    .block_on(batcher.add_files(&window))
                    .with_context(|| {
                        // Groups are written while the next is read, so the
                        // group that failed may hold files of an earlier window.
                        format!(
                            "{} while ingesting the files up to {}",
                            write_error(),
                            window[window.len() - 1].0
                        )
                    })?;
                progress.inc(window.len() as u64);
                window.clear();
                window_bytes = 0;
            }
        } else {
            total += runtime
                .block_on(collector.ingest(&bytes, &source))
                .with_context(|| format!("{} while ingesting {source}", write_error()))?;
            progress.set_message(format!("{} events", total.events_in));
            progress.inc(1);
        }
    }
    let mut groups = None;
    if let Some(batcher) = batcher {
        let (counters, written) = runtime
            .block_on(batcher.finish())
            .with_context(write_error)?;
        total += counters;
        groups = Some(written);
    }
    progress.finish_and_clear();
    // Every write and the compaction come before anything is printed: a
    // closed stdout (`tracelake ingest … | head -1`) must not leave the hours
    // uncompacted.
    let mut compaction = None;
    if !args.no_compact {
        // The hours this run wrote are among those with uncovered segments.
        let hours = runtime
            .block_on(tracelake_index::compact::hours_needing_compaction(
                collector.store(),
            ))
            .with_context(|| format!("cannot list the hours to compact in {}", args.data))?;
        let reports = runtime.block_on(super::compact::compact_with_progress(
            collector.store(),
            &hours,
            tracelake_index::compact::CompactOptions::default(),
            inputs.len() >= 20,
        ))?;
        compaction = Some(reports);
    }
    print_summary(&args.data, inputs.len(), groups, &total);
    if let Some(reports) = compaction {
        super::compact::print_compaction_summary(&args.data, &reports, false);
    }
    Ok(())
}

enum Input {
    Stdin,
    File(PathBuf),
}

fn collect_inputs(paths: &[String]) -> anyhow::Result<Vec<Input>> {
    let mut inputs = Vec::new();
    for path in paths {
        if path == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        let path = Path::new(path);
        if !path.exists() {
            bail!("no such file or directory: {}", path.display());
        }
        if path.is_dir() {
            let mut files = Vec::new();
            walk(path, &mut HashSet::new(), &mut files)
                .with_context(|| format!("cannot list {}", path.display()))?;
            files.sort();
            inputs.extend(files.into_iter().map(Input::File));
        } else {
            inputs.push(Input::File(path.to_owned()));
        }
    }
    Ok(inputs)
}

/// Adds the files under `dir` to `files`. Symbolic links are followed, but
/// each directory is read once: a link back up the tree (`loop -> ..`) or a
/// second link to a directory already read adds nothing, where following it
/// read the same files again at every level until the path was too long.
fn walk(dir: &Path, read: &mut HashSet<PathBuf>, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if !read.insert(std::fs::canonicalize(dir)?) {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            walk(&path, read, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

fn print_summary(data: &str, inputs: usize, groups: Option<u64>, total: &IngestCounters) {
    match groups {
        Some(groups) => println!("ingested {inputs} input(s) into {data} as {groups} batch(es)"),
        None => println!("ingested {inputs} input(s) into {data}, one segment per payload"),
    }
    println!("  payloads              {:>10}", total.payloads);
    println!("  control messages      {:>10}", total.control_messages);
    println!("  events in             {:>10}", total.events_in);
    println!("  events indexed        {:>10}", total.events_indexed);
    println!("  events quarantined    {:>10}", total.events_quarantined);
    println!("  events duplicate      {:>10}", total.events_duplicate);
    println!("  payloads quarantined  {:>10}", total.payloads_quarantined);
    println!("  span rows             {:>10}", total.span_rows);
    println!("  log rows              {:>10}", total.log_rows);
    println!("  invocation rows       {:>10}", total.invocation_rows);
}
