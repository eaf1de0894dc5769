//! Simulator throughput: CloudWatch log events produced per second of run time,
//! on one core (the simulator is single-threaded).
//!
//! `cargo bench -p tracelake-simulator --bench throughput [-- SERVICES MINUTES RATE]`
//!
//! Each run simulates the whole pipeline: planning, running every invocation
//! (the Rust services through tracelake-instrumentation), batching, gzip and
//! base64. The figure is the best of three runs.

use std::time::Instant;

use tracelake_simulator::{Phase, SimulationConfig, simulate};

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
    let mut best_cpu = f64::MAX;
    let mut summary = None;
    for run in 1..=3 {
        let started = Instant::now();
        let cpu_started = thread_cpu_seconds();
        let mut phases: Vec<(Phase, Instant)> = Vec::new();
        let result = simulate(&config, &mut |phase, _, _| {
            if phases.last().map(|(p, _)| *p) != Some(phase) {
                phases.push((phase, Instant::now()));
            }
        });
        let finished = Instant::now();
        let simulation = match result {
            Ok(simulation) => simulation,
            Err(error) => {
                eprintln!("simulation failed: {error}");
                std::process::exit(1);
            }
        };
        let seconds = started.elapsed().as_secs_f64();
        let cpu = thread_cpu_seconds()
            .zip(cpu_started)
            .map(|(end, start)| end - start);
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
        let mut split = String::new();
        for (index, (phase, at)) in phases.iter().enumerate() {
            let until = phases.get(index + 1).map_or(finished, |(_, next)| *next);
            split.push_str(&format!(" {phase:?} {:.2} s", (until - *at).as_secs_f64()));
        }
        println!("       phases:{split}");
        if let Some(cpu) = cpu {
            println!(
                "       on-CPU {:.2} s: {:.0} events per CPU-second",
                cpu,
                s.events as f64 / cpu
            );
            best_cpu = best_cpu.min(cpu);
        }
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
        if best_cpu < f64::MAX {
            println!(
                "best on-CPU: {:.2} s, {:.0} log events per CPU-second",
                best_cpu,
                s.events as f64 / best_cpu
            );
        }
    }
}

/// Time this thread has spent on a CPU (Linux `/proc/thread-self/schedstat`), so
/// that the figure holds on a machine shared with other work.
fn thread_cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some(nanos / 1e9)
}
