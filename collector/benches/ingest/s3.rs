//! The Lambda path against S3: each delivery of the demo fleet ingested
//! through `Collector::ingest` into a bucket on a local `moto_server`, which
//! speaks S3's protocol, reached directly and through a proxy that adds a
//! network's latency ([`crate::latency`]). The CPU of the path is measured
//! elsewhere; here the figure is the wall time of a delivery, which Lambda
//! bills.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tracelake_collector::{Collector, IndexStore};
use tracelake_testkit::Moto;

/// `TRACELAKE_BENCH_CORPUS=s3`: `TRACELAKE_BENCH_S3_DELIVERIES` (default 300)
/// deliveries of one simulated minute of the demo fleet, one at a time, for
/// each one-way latency in `TRACELAKE_BENCH_S3_LATENCY_MS` (default `0,10`).
pub(crate) fn s3_corpus() {
    let deliveries: usize = std::env::var("TRACELAKE_BENCH_S3_DELIVERIES")
        .map_or(Ok(300), |v| v.trim().parse())
        .ok()
        .filter(|deliveries| *deliveries > 0)
        .expect("TRACELAKE_BENCH_S3_DELIVERIES: a whole number of deliveries above 0");
    let latencies: Vec<u64> = std::env::var("TRACELAKE_BENCH_S3_LATENCY_MS")
        .unwrap_or_else(|_| "0,10".to_owned())
        .split(',')
        .map(|ms| {
            ms.trim()
                .parse()
                .expect("TRACELAKE_BENCH_S3_LATENCY_MS: whole milliseconds, comma-separated")
        })
        .collect();
    let config = tracelake_simulator::SimulationConfig {
        minutes: 1.0,
        ..tracelake_simulator::SimulationConfig::default()
    };
    let simulation = tracelake_simulator::simulate(&config, &mut |_, _, _| {}).expect("simulate");
    let payloads: Vec<&[u8]> = simulation
        .delivered
        .deliveries
        .iter()
        .map(|delivery| delivery.payload.as_slice())
        .take(deliveries)
        .collect();
    let moto = Moto::start();
    moto.create_bucket("tracelake-bench");
    println!();
    for latency in latencies {
        let upstream = SocketAddr::from(([127, 0, 0, 1], moto.port()));
        let endpoint = if latency == 0 {
            upstream
        } else {
            crate::latency::start(upstream, Duration::from_millis(latency))
        };
        let options = moto.object_store_options().into_iter().map(|(key, value)| {
            let value = if key == "aws_endpoint" {
                format!("http://{endpoint}")
            } else {
                value
            };
            (key, value)
        });
        let store = IndexStore::open_with_options(
            &format!("s3://tracelake-bench/latency-{latency}ms"),
            options,
        )
        .expect("s3 store");
        lambda_path(&Collector::new(store), &payloads, latency);
    }
}

/// Ingests `payloads` one at a time, as Lambda invocations, and prints the
/// wall time per delivery.
fn lambda_path(collector: &Collector, payloads: &[&[u8]], latency_ms: u64) {
    // The Lambda handler's runtime: one thread.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (mut walls, mut events) = (Vec::new(), 0u64);
    for (number, payload) in payloads.iter().enumerate() {
        let started = Instant::now();
        let counters = runtime
            .block_on(collector.ingest(payload, &format!("bench-{number}")))
            .expect("ingest into moto");
        walls.push(started.elapsed().as_secs_f64() * 1e3);
        events += counters.events_in;
    }
    let files = runtime
        .block_on(collector.store().list("v1"))
        .expect("list the bucket")
        .iter()
        .filter(|object| object.location.as_ref().ends_with(".parquet"))
        .count();
    walls.sort_by(f64::total_cmp);
    let quantile = |q: f64| walls[((walls.len() - 1) as f64 * q).round() as usize];
    let mean = walls.iter().sum::<f64>() / walls.len() as f64;
    println!(
        "| Lambda path into S3 (moto_server, +{latency_ms} ms each way), {} deliveries, {events} events, {:.2} Parquet files each | wall ms per delivery: mean {mean:.2}, p50 {:.2}, p95 {:.2}, max {:.2} |",
        walls.len(),
        files as f64 / walls.len() as f64,
        quantile(0.5),
        quantile(0.95),
        quantile(1.0),
    );
}
