//! Simulator throughput: CloudWatch log events produced per second of run time,
//! on one core (the simulator is single-threaded).
//!
//! `cargo bench -p tracelake-simulator --bench throughput [-- SERVICES MINUTES RATE]`
//!
//! Each run simulates the whole pipeline: planning, running every invocation
//! (the Rust services through tracelake-instrumentation), batching, gzip and
//! base64. The figure is the best of three runs.

use std::time::Instant;

use tracelake_simulator::{SimulationConfig, simulate};

fn main() {
    // `cargo bench` passes `--bench`; keep only numeric arguments.
    let numbers: Vec<f64> = std::env::args()
        .skip(1)
        .filter_map(|arg| arg.parse().ok())
        .collect();
    let config = SimulationConfig {
        services: numbers.first().map_or(300, |n| *n as usize),
        minutes: numbers.get(1).copied().unwrap_or(10.0),
        rate: numbers.get(2).copied().unwrap_or(20.0),
        ..SimulationConfig::default()
    };
    println!(
        "simulating {} services, {} minutes at {} root requests/s (seed {})",
        config.services, config.minutes, config.rate, config.seed
    );
    let mut best = f64::MAX;
    let mut summary = None;
    for run in 1..=3 {
        let started = Instant::now();
        let simulation = match simulate(&config, &mut |_, _, _| {}) {
            Ok(simulation) => simulation,
            Err(error) => {
                eprintln!("simulation failed: {error}");
                std::process::exit(1);
            }
        };
        let seconds = started.elapsed().as_secs_f64();
        let s = simulation.summary;
        println!(
            "run {run}: {:.2} s, {} events, {} spans, {} deliveries, {:.1} MB of payloads: {:.0} events/s",
            seconds,
            s.events,
            s.spans,
            s.deliveries,
            s.payload_bytes as f64 / 1e6,
            s.events as f64 / seconds
        );
        best = best.min(seconds);
        summary = Some(s);
    }
    if let Some(s) = summary {
        println!(
            "best: {:.2} s, {:.0} log events/s, {:.0} spans/s, {:.1} MB/s of payload",
            best,
            s.events as f64 / best,
            s.spans as f64 / best,
            s.payload_bytes as f64 / 1e6 / best
        );
    }
}
