//! `tracelake demo [--data DIR] [--services N] [--minutes M] [--seed S] [--rate R] [--full] [--no-serve] [--addr A]`:
//! simulates a fleet (by default at a quarter of the benchmark fleet's traffic,
//! for a first look in seconds; `--full`: the benchmark fleet of `tracelake
//! simulate`), ingests its payloads through the collector, and scores the
//! index's correlation against the simulator's ground truth. Deliveries are
//! ingested in groups the size of a Kinesis invocation, as the Kinesis path
//! does (`--no-batch`: one batch per delivery, as the direct subscription does).
//! Then, unless `--no-serve`, `tracelake-dashboards` lists the least linked
//! services and serves the dashboards: the report needs no query engine, so
//! from a fresh clone it comes before DataFusion has compiled (docs/build.md).

use std::time::Instant;

use anyhow::Context as _;
use tracelake_collector::index::read::read_log_links;
use tracelake_collector::sources::files::{FileBatchLimits, FileBatcher};
use tracelake_collector::{Collector, IndexStore, IngestCounters};
use tracelake_simulator::SimulationConfig;
use tracelake_simulator::truth::{ScopeRecall, Score};

use super::simulate::{FleetArgs, simulate_with_progress};

/// Deliveries handed to the batcher at once.
const DELIVERY_WINDOW: usize = 512;

/// Arguments of `tracelake demo`.
#[derive(clap::Args)]
pub struct DemoArgs {
    /// Index root to write: a local directory or s3://bucket/prefix.
    #[arg(long, default_value = super::DEFAULT_DATA)]
    pub data: String,
    #[command(flatten)]
    pub fleet: FleetArgs,
    /// Simulate the benchmark fleet's full traffic (20 root requests/s, the
    /// default of `tracelake simulate`) instead of the demo's lighter 5.
    #[arg(long, conflicts_with = "rate")]
    pub full: bool,
    /// Exit after the report instead of listing the least linked services and
    /// serving the dashboards at http://127.0.0.1:7070 until Ctrl-C (both run
    /// `tracelake-dashboards`, which holds the query engine).
    #[arg(long)]
    pub no_serve: bool,
    /// The address the dashboards listen on.
    #[arg(long, default_value = "127.0.0.1:7070", conflicts_with = "no_serve")]
    pub addr: std::net::SocketAddr,
    /// Ingest each delivery as its own batch (the direct Lambda subscription)
    /// instead of in groups the size of a Kinesis invocation.
    #[arg(long)]
    pub no_batch: bool,
    /// Deliveries per group when batching. The default is the most a Kinesis
    /// invocation may hold by record count (10,000); by bytes Lambda's 6 MB
    /// invocation payload holds about 1,100 of the demo's records (docs/BENCHMARKS.md).
    #[arg(long, default_value_t = FileBatchLimits::default().max_payloads, conflicts_with = "no_batch")]
    pub batch_payloads: usize,
    /// Leave the ingested segments uncompacted.
    #[arg(long)]
    pub no_compact: bool,
}

/// The demo's default traffic in root requests per simulated second: a quarter
/// of the benchmark fleet's, so that a first look has a quarter of the events to
/// process, over the same services and minutes (docs/build.md).
pub const DEMO_RATE: f64 = 5.0;

impl DemoArgs {
    /// The simulation to run: the fleet options at the demo's lighter traffic,
    /// unless `--full` or `--rate` asks for more.
    pub fn simulation_config(&self) -> SimulationConfig {
        let rate = if self.full {
            SimulationConfig::default().rate
        } else {
            DEMO_RATE
        };
        self.fleet.config(rate)
    }
}

/// Runs the command.
pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let simulation = simulate_with_progress(&args.simulation_config())?;
    let simulated = started.elapsed();
    let summary = simulation.summary;
    println!(
        "simulated {} services: {} traces, {} invocations, {} log events in {} deliveries ({:.1} s)",
        summary.services,
        summary.traces,
        summary.invocations,
        summary.events,
        summary.deliveries,
        simulated.as_secs_f64()
    );

    let store = IndexStore::open(&args.data)
        .with_context(|| format!("cannot open index at {}", args.data))?;
    let collector = Collector::new(store.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let ingest_started = Instant::now();
    let bar = indicatif::ProgressBar::new(simulation.delivered.deliveries.len() as u64).with_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} ingesting             [{bar:40}] {pos}/{len} deliveries {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut total = IngestCounters::default();
    let limits = FileBatchLimits {
        max_payloads: args.batch_payloads.max(1),
        ..FileBatchLimits::default()
    };
    let mut batcher = (!args.no_batch).then(|| FileBatcher::new(&collector, limits));
    let deliveries = &simulation.delivered.deliveries;
    // Deliveries are handed over a window at a time, which the batcher
    // decodes on all cores.
    for (window_number, window) in deliveries.chunks(DELIVERY_WINDOW).enumerate() {
        let first = window_number * DELIVERY_WINDOW;
        let sources =
            (first..first + window.len()).map(|number| format!("simulated-delivery-{number:07}"));
        match batcher.as_mut() {
            Some(batcher) => {
                let files: Vec<(String, &[u8])> = sources
                    .zip(window)
                    .map(|(source, delivery)| (source, delivery.payload.as_slice()))
                    .collect();
                runtime
                    .block_on(batcher.add_files(&files))
                    .with_context(|| format!("cannot write the index at {}", args.data))?;
            }
            None => {
                for (source, delivery) in sources.zip(window) {
                    total += runtime
                        .block_on(collector.ingest(&delivery.payload, &source))
                        .with_context(|| format!("cannot write the index at {}", args.data))?;
                }
            }
        }
        bar.set_message(format!("{} events", total.events_in));
        bar.inc(window.len() as u64);
    }
    if let Some(batcher) = batcher {
        let (counters, _groups) = runtime
            .block_on(batcher.finish())
            .with_context(|| format!("cannot write the index at {}", args.data))?;
        total += counters;
    }
    bar.finish_and_clear();
    let ingested = ingest_started.elapsed();
    println!(
        "ingested into {} in {:.1} s: {} events in, {} indexed, {} quarantined, {} duplicates within a batch (indexed once), {} control messages",
        args.data,
        ingested.as_secs_f64(),
        total.events_in,
        total.events_indexed,
        total.events_quarantined,
        total.events_duplicate,
        total.control_messages
    );

    let compact_started = Instant::now();
    if !args.no_compact {
        let hours = runtime
            .block_on(tracelake_index::compact::hours_needing_compaction(&store))
            .with_context(|| format!("cannot list the hours to compact in {}", args.data))?;
        let reports = runtime.block_on(super::compact::compact_with_progress(
            &store,
            &hours,
            tracelake_index::compact::CompactOptions::default(),
            true,
        ))?;
        println!(
            "compacted {} hour(s) in {:.1} s:",
            reports.len(),
            compact_started.elapsed().as_secs_f64()
        );
        super::compact::print_compaction_summary(&args.data, &reports, false);
    }
    let compacted = compact_started.elapsed();

    let score_started = Instant::now();

    let links = runtime
        .block_on(read_log_links(&store))
        .with_context(|| format!("cannot read the logs table at {}", args.data))?;
    let traces_in_logs = links
        .iter()
        .filter_map(|link| link.trace_id.as_deref())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let score = simulation.truth.score(
        links
            .iter()
            .map(|link| (link.event_id.as_str(), link.trace_id.as_deref())),
    );
    println!();
    println!("what the index holds");
    println!(
        "  services              {:>10}  ({} invoked)",
        summary.services, summary.services_invoked
    );
    println!(
        "  traces                {:>10}  ({} seen in the logs table)",
        summary.traces, traces_in_logs
    );
    println!(
        "  spans                 {:>10}  ({} span rows written)",
        summary.spans, total.span_rows
    );
    println!(
        "  logs                  {:>10}  rows in the logs table",
        links.len()
    );
    println!(
        "  invocations           {:>10}  rows written",
        total.invocation_rows
    );
    print_score(&score);
    let scored = score_started.elapsed();
    println!(
        "total {:.1} s (simulate {:.1} s, ingest {:.1} s, compact {:.1} s, score {:.1} s)",
        started.elapsed().as_secs_f64(),
        simulated.as_secs_f64(),
        ingested.as_secs_f64(),
        compacted.as_secs_f64(),
        scored.as_secs_f64()
    );

    if args.no_serve {
        println!();
        println!(
            "the services least tied to traces: tracelake query correlation --data {}",
            args.data
        );
        return Ok(());
    }
    // The least linked services and the dashboards need the query engine,
    // which `tracelake-dashboards` holds (built now if this is its first use
    // from a clone).
    super::dashboards::run(
        "demo",
        &[
            "--data".into(),
            args.data.into(),
            "--addr".into(),
            args.addr.to_string().into(),
        ],
    )
}

fn percent(value: f64) -> String {
    format!("{:.3}%", value * 100.0)
}

fn recall_line(name: &str, recall: &ScopeRecall) {
    println!(
        "  {name:<32} {:>10}  ({} of {})",
        percent(recall.recall()),
        recall.linked,
        recall.expected
    );
}

fn print_score(score: &Score) {
    println!();
    println!("correlation against the ground truth");
    println!(
        "  precision                        {:>10}  ({} of {} linked lines on their true trace, {} wrong)",
        percent(score.precision()),
        score.linked_correctly,
        score.linked,
        score.linked_wrongly
    );
    let in_batch = ScopeRecall {
        expected: score.line.expected + score.batch.expected,
        linked: score.line.linked + score.batch.linked,
    };
    recall_line("recall, linkable in own batch", &in_batch);
    recall_line("  by their own trace id", &score.line);
    recall_line("  by request id / stream", &score.batch);
    recall_line("recall, needing another batch", &score.cross_batch);
    println!(
        "  lines with nothing to link by    {:>10}  ({} linked anyway)",
        score.unlinkable.expected, score.unlinkable.linked
    );
    if score.unknown_rows > 0 || score.duplicate_rows > 0 || score.missing_app_lines > 0 {
        println!(
            "  rows not from this run: {}, duplicate rows: {}, app lines missing from the index: {}",
            score.unknown_rows, score.duplicate_rows, score.missing_app_lines
        );
    }
    if !score.wrong_examples.is_empty() {
        println!(
            "  wrongly linked event ids: {}",
            score.wrong_examples.join(", ")
        );
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;
    use crate::cli::simulate::SimulateArgs;

    #[derive(clap::Parser)]
    struct Demo {
        #[command(flatten)]
        args: DemoArgs,
    }

    #[derive(clap::Parser)]
    struct Simulate {
        #[command(flatten)]
        args: SimulateArgs,
    }

    fn demo(args: &[&str]) -> Result<SimulationConfig, clap::Error> {
        Demo::try_parse_from(std::iter::once("demo").chain(args.iter().copied()))
            .map(|demo| demo.args.simulation_config())
    }

    #[test]
    fn the_demo_runs_the_default_fleet_at_lighter_traffic_and_full_is_the_benchmark_fleet() {
        let benchmark = SimulationConfig::default();
        let first_look = demo(&[]).expect("no arguments parse");
        assert_eq!(first_look.rate, DEMO_RATE);
        assert!(first_look.rate < benchmark.rate);
        let full = demo(&["--full"]).expect("--full parses");
        assert_eq!(full.rate, benchmark.rate);
        for config in [&first_look, &full] {
            assert_eq!(config.services, benchmark.services);
            assert_eq!(config.minutes, benchmark.minutes);
            assert_eq!(config.seed, benchmark.seed);
        }
        assert_eq!(demo(&["--rate", "7.5"]).expect("--rate parses").rate, 7.5);
        assert!(demo(&["--full", "--rate", "7.5"]).is_err());

        // `tracelake simulate` keeps the benchmark fleet's traffic.
        let simulate = Simulate::try_parse_from(["simulate", "--out", "sim"])
            .expect("--out parses")
            .args;
        assert_eq!(simulate.simulation_config().rate, benchmark.rate);
    }
}
