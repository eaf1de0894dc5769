//! Ingest benchmark: `cargo bench -p tracelake-collector --bench ingest`.
//!
//! Builds a deterministic corpus of mixed Lambda subscription events from the
//! line formats of `../shared/fixtures/cloudwatch` (our span and log lines, Node,
//! Python, Powertools and platform lines, plain text), then measures on one
//! thread:
//! - the floor: base64 decode + gunzip + a JSON parse of every payload;
//! - decode → parse → correlate → write, into memory and into a local directory;
//! - the peak heap while ingesting one maximum-size batch (1 MB compressed).
//!
//! A second corpus is the simulator's demo fleet at its real delivery sizes
//! (~29 events per delivery; `tracelake_simulator::simulate`, 300 services,
//! `TRACELAKE_BENCH_FLEET_MINUTES` simulated minutes, default 2), ingested
//! through the same entry points as the Lambda (`Collector::ingest`, one
//! delivery at a time) and `tracelake ingest` (`FileBatcher`), each against the
//! floor on the same payloads, with the peak heap of each pass.
//!
//! Set `TRACELAKE_BENCH_EVENTS` to change the large-batch corpus size (default
//! 400,000) and `TRACELAKE_BENCH_CORPUS` to `large` or `fleet` to run one corpus.
//! `TRACELAKE_BENCH_CORPUS=s3` runs only the Lambda path against S3 on a local
//! `moto_server` (wall time per delivery; `TRACELAKE_BENCH_S3_DELIVERIES`).

mod alloc;
mod corpus;
mod cost;
mod fleet;
mod latency;
mod passes;
mod s3;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::alloc::*;
use crate::corpus::*;
use crate::cost::*;
use crate::fleet::*;
use crate::passes::*;
use object_store::memory::InMemory;
use tracelake_collector::{Collector, IndexStore};

fn main() {
    let corpus = std::env::var("TRACELAKE_BENCH_CORPUS").unwrap_or_default();
    if corpus == "s3" {
        s3::s3_corpus();
        return;
    }
    if corpus != "large" {
        fleet_corpus();
    }
    if corpus == "fleet" {
        return;
    }
    let target: usize = std::env::var("TRACELAKE_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400_000);
    let mut rng = Rng(0x7472_6163_656c_616b);
    let mut payloads = Vec::new();
    let (mut events, mut json_bytes) = (0usize, 0usize);
    let mut index = 0;
    while events < target {
        let size = [50, 200, 500, 1_000, 2_500, 5_000][index % 6];
        let (payload, json_len) = lambda_event(&mut rng, index, size);
        payloads.push(payload);
        events += size;
        json_bytes += json_len;
        index += 1;
    }
    let input_bytes: usize = payloads.iter().map(Vec::len).sum();
    println!(
        "corpus: {} payloads, {events} events, {:.1} MB of Lambda events, {:.1} MB of DATA_MESSAGE JSON",
        payloads.len(),
        input_bytes as f64 / 1e6,
        json_bytes as f64 / 1e6
    );

    let started = process_cpu();
    let floor_events = floor(&payloads);
    let floor_seconds = process_cpu() - started;
    assert_eq!(floor_events as usize, events);

    let started = process_cpu();
    let mut rows = 0usize;
    let limits = tracelake_collector::decode::DecodeLimits::default();
    for payload in &payloads {
        for decoded in tracelake_collector::decode::decode_input(payload, &limits) {
            if let Ok(tracelake_collector::decode::Payload::Data(batch)) = decoded {
                let out = tracelake_collector::pipeline::parse_and_correlate(batch, &limits);
                rows += out.logs.len() + out.spans.len();
            }
        }
    }
    let correlate_seconds = process_cpu() - started;
    assert!(rows > 0);

    let memory = Collector::new(IndexStore::from_object_store(
        Arc::new(InMemory::new()),
        Default::default(),
    ));
    let started = process_cpu();
    let counters = ingest_all(&memory, &payloads);
    let memory_seconds = process_cpu() - started;
    assert_eq!(counters.events_in as usize, events);
    assert_eq!(counters.events_quarantined, 0, "the corpus is valid input");

    let dir = tempfile::tempdir().expect("tempdir");
    let local =
        Collector::new(IndexStore::open(dir.path().to_str().expect("path")).expect("local"));
    let started = process_cpu();
    ingest_all(&local, &payloads);
    let local_seconds = process_cpu() - started;

    // One maximum-size batch: 10,000 events (CloudWatch's cap) padded until the
    // gzip is just under 1 MB (the other cap).
    let mut padding = 0;
    let (big, big_json) = loop {
        let candidate = lambda_event_padded(&mut Rng(42), 1, 10_000, padding + 16);
        if candidate.0.len() * 3 / 4 > 1_000_000 {
            break lambda_event_padded(&mut Rng(42), 1, 10_000, padding);
        }
        padding += 16;
    };
    let fresh = Collector::new(IndexStore::from_object_store(
        Arc::new(InMemory::new()),
        Default::default(),
    ));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let baseline = LIVE.load(Ordering::Relaxed);
    PEAK.store(baseline, Ordering::Relaxed);
    let big_counters = runtime
        .block_on(fresh.ingest(&big, "max-batch"))
        .expect("ingest");
    let peak = PEAK.load(Ordering::Relaxed) - baseline;

    // The buffered paths: the same payloads in groups the size of a Kinesis
    // invocation (sources::files, as `tracelake ingest` and the Kinesis
    // handler batch them), against one batch per payload (the direct path).
    let batched = Collector::new(IndexStore::from_object_store(
        Arc::new(InMemory::new()),
        Default::default(),
    ));
    let started = process_cpu();
    let wall = Instant::now();
    let (batched_counters, groups) = batch_files(&runtime, &batched, &payloads, "payload");
    let batched_seconds = process_cpu() - started;
    let batched_wall = wall.elapsed().as_secs_f64();
    assert_eq!(batched_counters.events_in as usize, events);
    // The objects under v1/ (count, bytes): what S3 would store and bill.
    let objects = |collector: &Collector| {
        let listed = runtime
            .block_on(collector.store().list("v1"))
            .expect("list");
        (listed.len(), listed.iter().map(|o| o.size).sum::<u64>())
    };
    let ((direct_objects, direct_bytes), (batched_objects, batched_bytes)) =
        (objects(&memory), objects(&batched));

    let rate = |seconds: f64| events as f64 / seconds;
    println!();
    println!("Rates per CPU second of the process (the machine is shared).");
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| floor: base64 + gunzip + JSON parse | {:.0} events/s, {:.1} MB/s of JSON |",
        rate(floor_seconds),
        json_bytes as f64 / 1e6 / floor_seconds
    );
    println!(
        "| decode → parse → correlate, no writing | {:.0} events/s, {:.1} MB/s of JSON |",
        rate(correlate_seconds),
        json_bytes as f64 / 1e6 / correlate_seconds
    );
    println!(
        "| ingest into memory (decode → parse → correlate → Parquet) | {:.0} events/s, {:.1} MB/s of JSON |",
        rate(memory_seconds),
        json_bytes as f64 / 1e6 / memory_seconds
    );
    println!(
        "| ingest into a local directory | {:.0} events/s, {:.1} MB/s of JSON |",
        rate(local_seconds),
        json_bytes as f64 / 1e6 / local_seconds
    );
    println!(
        "| ratio ingest (memory) / floor time | {:.2}× |",
        memory_seconds / floor_seconds
    );
    println!(
        "| rows written | {} spans, {} logs, {} invocations |",
        counters.span_rows, counters.log_rows, counters.invocation_rows
    );
    println!(
        "| max batch | {} events, {:.2} MB gzip, {:.1} MB JSON |",
        big_counters.events_in,
        big.len() as f64 * 0.75 / 1e6,
        big_json as f64 / 1e6
    );
    println!(
        "| peak heap for the max batch (input excluded) | {:.1} MB |",
        peak as f64 / 1e6
    );
    println!(
        "| batched as Kinesis invocations, into memory (all cores) | {:.0} events/s, {:.1} MB/s of JSON; {groups} batches, {:.2} s CPU per batch; {:.0} events/s of wall time |",
        rate(batched_seconds),
        json_bytes as f64 / 1e6 / batched_seconds,
        batched_seconds / groups.max(1) as f64,
        rate(batched_wall)
    );
    println!(
        "| objects written: one batch per payload / batched | {direct_objects} / {batched_objects} ({:.0}× fewer) |",
        direct_objects as f64 / batched_objects.max(1) as f64
    );
    println!(
        "| bytes written: one batch per payload / batched | {:.1} MB / {:.1} MB ({:.1} / {:.1} bytes per event) |",
        direct_bytes as f64 / 1e6,
        batched_bytes as f64 / 1e6,
        direct_bytes as f64 / events as f64,
        batched_bytes as f64 / events as f64
    );
}
