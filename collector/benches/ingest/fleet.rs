//! The simulator's demo fleet at its real delivery sizes.

use std::sync::Arc;

use crate::cost::*;
use crate::passes::*;
use object_store::memory::InMemory;
use tracelake_collector::{Collector, IndexStore};

/// The demo fleet's deliveries at their real sizes, direct (one Lambda
/// invocation per delivery) and batched (`tracelake ingest`).
pub(crate) fn fleet_corpus() {
    let minutes: f64 = std::env::var("TRACELAKE_BENCH_FLEET_MINUTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2.0);
    let config = tracelake_simulator::SimulationConfig {
        minutes,
        ..tracelake_simulator::SimulationConfig::default()
    };
    let simulation = tracelake_simulator::simulate(&config, &mut |_, _, _| {}).expect("simulate");
    let payloads: Vec<Vec<u8>> = simulation
        .delivered
        .deliveries
        .iter()
        .map(|delivery| delivery.payload.clone())
        .collect();
    let json_bytes = json_bytes_of(&payloads);
    let input_bytes: usize = payloads.iter().map(Vec::len).sum();
    let (events, floor_seconds, floor_peak) = measured(|| floor(&payloads));
    println!();
    println!(
        "demo fleet corpus: 300 services, {minutes} simulated minutes, seed 1: {} deliveries, {events} events ({:.1} per delivery), {:.1} MB of Lambda events, {:.1} MB of DATA_MESSAGE JSON",
        payloads.len(),
        events as f64 / payloads.len() as f64,
        input_bytes as f64 / 1e6,
        json_bytes as f64 / 1e6
    );
    let memory = || {
        Collector::new(IndexStore::from_object_store(
            Arc::new(InMemory::new()),
            Default::default(),
        ))
    };
    let direct = memory();
    let (counters, direct_seconds, direct_peak) = measured(|| ingest_all(&direct, &payloads));
    // A CONTROL_MESSAGE carries one event, which the floor counts and ingest does not.
    assert_eq!(counters.events_in + counters.control_messages, events);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let batched = memory();
    let ((batched_counters, groups), batched_seconds, batched_peak) =
        measured(|| batch_files(&runtime, &batched, &payloads, "delivery"));
    assert_eq!(
        batched_counters.events_in + batched_counters.control_messages,
        events
    );
    // Rates per CPU second (the machine is shared); wall rates beside them.
    let row = |name: &str, cost: Cost, peak: usize| {
        println!(
            "| {name} | {:.0} events/s | {:.1} MB/s of JSON | {:.2}× | {:.1} MB | {:.2} s CPU, {:.2} s wall ({:.0} events/s) |",
            events as f64 / cost.cpu,
            json_bytes as f64 / 1e6 / cost.cpu,
            cost.cpu / floor_seconds.cpu,
            peak as f64 / 1e6,
            cost.cpu,
            cost.wall,
            events as f64 / cost.wall,
        );
    };
    println!();
    println!(
        "| demo fleet, into memory | events per CPU s | MB/s | ratio to floor (CPU) | peak heap | CPU, wall |"
    );
    println!("|---|---|---|---|---|---|");
    row(
        "floor: base64 + gunzip + JSON parse",
        floor_seconds,
        floor_peak,
    );
    row(
        "direct: `Collector::ingest` per delivery (the Lambda path)",
        direct_seconds,
        direct_peak,
    );
    row(
        &format!(
            "batched: `FileBatcher::add_files` ({groups} batches, the `tracelake ingest` path, all cores)"
        ),
        batched_seconds,
        batched_peak,
    );
    println!(
        "| per delivery, direct | {:.2} ms CPU | | | | |",
        direct_seconds.cpu * 1e3 / payloads.len() as f64
    );
    delivery_cost(&payloads);
}

/// Least squares `y = fixed + per_event × events`.
pub(crate) fn fit(points: &[(f64, f64)]) -> (f64, f64) {
    let n = points.len() as f64;
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(sx, sy), (x, y)| (sx + x, sy + y));
    let (mx, my) = (sx / n, sy / n);
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (x, y) in points {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
    }
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    (my - slope * mx, slope)
}

/// One delivery's cost through the Lambda path, stage by stage (the steps of
/// `Collector::ingest`, through the same public functions), each fitted as a
/// fixed part per delivery plus a part per event.
pub(crate) fn delivery_cost(payloads: &[Vec<u8>]) {
    use tracelake_collector::decode::{self, DecodeLimits, Payload};
    use tracelake_collector::index::writer::segment_name;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let collector = Collector::new(IndexStore::from_object_store(
        Arc::new(InMemory::new()),
        Default::default(),
    ));
    let limits = DecodeLimits::default();
    let stages = [
        "decode",
        "parse + correlate",
        "Arrow + Parquet + PUT (InMemory)",
    ];
    let mut points: [Vec<(f64, f64)>; 3] = Default::default();
    let mut files = 0u64;
    for payload in payloads {
        let started = thread_cpu();
        let decoded = decode::decode_input(payload, &limits);
        let decode_seconds = thread_cpu() - started;
        for batch in decoded {
            let Ok(Payload::Data(batch)) = batch else {
                continue;
            };
            let (Some(first), Some(last)) = (batch.events.first(), batch.events.last()) else {
                continue;
            };
            let events = batch.events_in() as f64;
            let segment = segment_name(
                &batch.log_group,
                &batch.log_stream,
                &first.id,
                &last.id,
                batch.events_in(),
            );
            let started = thread_cpu();
            let correlated = tracelake_collector::pipeline::parse_and_correlate(batch, &limits);
            let parse_seconds = thread_cpu() - started;
            let started = thread_cpu();
            let written = runtime
                .block_on(collector.writer().write_rows(
                    &segment,
                    correlated.spans,
                    correlated.logs,
                    correlated.invocations,
                ))
                .expect("write");
            let write_seconds = thread_cpu() - started;
            files += written.files;
            points[0].push((events, decode_seconds));
            points[1].push((events, parse_seconds));
            points[2].push((events, write_seconds));
        }
    }
    let deliveries = points[0].len();
    println!();
    println!(
        "| one delivery, direct path, by stage, CPU time ({deliveries} data deliveries, {:.2} Parquet files each) | mean per delivery | fixed part (fit) | per event (fit) |",
        files as f64 / deliveries as f64
    );
    println!("|---|---|---|---|");
    for (name, points) in stages.iter().zip(&points) {
        let (fixed, per_event) = fit(points);
        let mean = points.iter().map(|(_, y)| y).sum::<f64>() / points.len() as f64;
        println!(
            "| {name} | {:.1} µs | {:.1} µs | {:.2} µs |",
            mean * 1e6,
            fixed * 1e6,
            per_event * 1e6
        );
    }
}
