//! Load test of `tracelake serve` on loopback: 8 concurrent clients mixing
//! trace by id, trace search, the service map, RED and log search over the demo
//! index, for a bounded time and request count. Reports p50/p99 latency per
//! kind, errors and the process's peak RSS; exits non-zero on any error or an
//! RSS over the bound.
//!
//! ```text
//! cargo bench -p tracelake-dashboards --bench load
//! TRACELAKE_LOAD_DATA=./tracelake-data TRACELAKE_LOAD_SECONDS=60 cargo bench -p tracelake-dashboards --bench load
//! ```
//!
//! Without `TRACELAKE_LOAD_DATA`, the index is the default demo's (the
//! simulator's default fleet, ingested by the collector and compacted, as
//! `tracelake demo` leaves it) built once in `target/load-index`. Other knobs: `TRACELAKE_LOAD_CLIENTS` (8),
//! `TRACELAKE_LOAD_MAX_REQUESTS` (100,000), `TRACELAKE_LOAD_RSS_MB` (the bound,
//! 3,072: the 2,048 MiB query pool plus 1 GiB).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracelake_collector::{Collector, IndexStore};
use tracelake_dashboards::{ServeOptions, Server};
use tracelake_simulator::{SimulationConfig, simulate};

type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> BenchResult<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run())
}

/// The peak resident set of this process (server and clients), in MiB.
fn peak_rss_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
        })
        .map_or(0, |kb| kb / 1024)
}

async fn build_demo_index(dir: &PathBuf) -> BenchResult<()> {
    let marker = dir.join("complete");
    if marker.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    eprintln!("building the demo index in {}", dir.display());
    let run = simulate(&SimulationConfig::default(), &mut |_, _, _| {})?;
    let store = IndexStore::open(&dir.to_string_lossy())?;
    let collector = Collector::new(store.clone());
    for delivery in &run.delivered.deliveries {
        collector.ingest(&delivery.payload, "load-bench").await?;
    }
    // As `tracelake demo` does: the segments of each hour merged into one file
    // per table, sorted by trace id.
    let hours = tracelake_index::compact::hours_needing_compaction(&store).await?;
    tracelake_index::compact::compact_hours(
        &store,
        &hours,
        &tracelake_index::compact::CompactOptions::default(),
    )
    .await?;
    std::fs::write(marker, b"")?;
    Ok(())
}

/// One GET over a fresh loopback connection: the status and the body.
async fn get(addr: SocketAddr, path: &str) -> BenchResult<(u16, Vec<u8>)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n").as_bytes(),
        )
        .await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let head_end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no HTTP head")?;
    let status_line = std::str::from_utf8(&response[..head_end])?
        .lines()
        .next()
        .unwrap_or("");
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no status")?;
    let head = std::str::from_utf8(&response[..head_end])?.to_ascii_lowercase();
    let mut body = response[head_end + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    Ok((status, body))
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&data[..line_end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        let end = (start + size).min(data.len());
        out.extend_from_slice(&data[start..end]);
        data = &data[(end + 2).min(data.len())..];
    }
    out
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

async fn run() -> BenchResult<()> {
    let seconds = env_number("TRACELAKE_LOAD_SECONDS", 60);
    let clients = env_number("TRACELAKE_LOAD_CLIENTS", 8);
    let max_requests = env_number("TRACELAKE_LOAD_MAX_REQUESTS", 100_000);
    let rss_bound_mb = env_number("TRACELAKE_LOAD_RSS_MB", 3_072);
    let data = match std::env::var("TRACELAKE_LOAD_DATA") {
        Ok(dir) => PathBuf::from(dir),
        Err(_) => {
            let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/load-index"));
            build_demo_index(&dir).await?;
            dir
        }
    };
    let mut options = ServeOptions::new(data.to_string_lossy());
    options.addr = "127.0.0.1:0".parse()?;
    let server = Server::bind(options).await?;
    let addr = server.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));

    // What the clients ask for: the traces, services and words of the data.
    let (status, body) = get(addr, "/api/tracelake/traces?lookback=1h&limit=200").await?;
    if status != 200 {
        return Err(format!("trace search answered {status}").into());
    }
    let traces: serde_json::Value = serde_json::from_slice(&body)?;
    let trace_ids: Vec<String> = traces
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|t| t["trace_id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let (_, body) = get(addr, "/api/tracelake/services?lookback=1h").await?;
    let services: Vec<String> = serde_json::from_slice::<serde_json::Value>(&body)?
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|s| s["service"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if trace_ids.is_empty() || services.is_empty() {
        return Err("the index has no traces or services in its last hour".into());
    }
    eprintln!(
        "{} traces and {} services to ask for; {clients} clients for {seconds} s or {max_requests} requests",
        trace_ids.len(),
        services.len()
    );

    let trace_ids = Arc::new(trace_ids);
    let services = Arc::new(services);
    let sent = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for client in 0..clients {
        let (trace_ids, services, sent) = (trace_ids.clone(), services.clone(), sent.clone());
        tasks.push(tokio::spawn(async move {
            let mut timings: Vec<(&'static str, f64, bool)> = Vec::new();
            let mut turn = client as usize;
            while Instant::now() < deadline && sent.fetch_add(1, Ordering::Relaxed) < max_requests {
                turn += 1;
                let service = &services[turn % services.len()];
                let service_q: String =
                    url::form_urlencoded::byte_serialize(service.as_bytes()).collect();
                let (kind, path) = match turn % 5 {
                    0 => (
                        "trace by id",
                        format!(
                            "/api/tracelake/traces/{}",
                            trace_ids[turn % trace_ids.len()]
                        ),
                    ),
                    1 => (
                        "trace search",
                        format!("/api/tracelake/traces?lookback=1h&service={service_q}&limit=20"),
                    ),
                    2 => ("service map", "/api/tracelake/map?lookback=1h".to_owned()),
                    3 => (
                        "RED",
                        format!("/api/tracelake/red?lookback=1h&service={service_q}&by=service"),
                    ),
                    _ => (
                        "log search",
                        format!("/api/tracelake/logs?lookback=1h&service={service_q}&limit=100"),
                    ),
                };
                let started = Instant::now();
                let ok = matches!(get(addr, &path).await, Ok((200, _)));
                timings.push((kind, started.elapsed().as_secs_f64() * 1e3, ok));
            }
            timings
        }));
    }
    let mut by_kind: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut all = Vec::new();
    let mut errors = 0u64;
    for task in tasks {
        for (kind, ms, ok) in task.await? {
            if !ok {
                errors += 1;
            }
            by_kind.entry(kind).or_default().push(ms);
            all.push(ms);
        }
    }
    let peak = peak_rss_mb();
    let _ = stop.send(());
    serving.await??;

    println!("| requests | kind | p50 ms | p99 ms |");
    println!("|---:|---|---:|---:|");
    for (kind, timings) in &mut by_kind {
        timings.sort_by(f64::total_cmp);
        println!(
            "| {} | {kind} | {:.1} | {:.1} |",
            timings.len(),
            percentile(timings, 0.5),
            percentile(timings, 0.99)
        );
    }
    all.sort_by(f64::total_cmp);
    println!(
        "| {} | all | {:.1} | {:.1} |",
        all.len(),
        percentile(&all, 0.5),
        percentile(&all, 0.99)
    );
    println!("errors: {errors}; peak RSS: {peak} MiB (bound {rss_bound_mb} MiB)");
    if errors > 0 {
        return Err(format!("{errors} requests failed").into());
    }
    if peak > rss_bound_mb {
        return Err(format!("peak RSS {peak} MiB over the {rss_bound_mb} MiB bound").into());
    }
    Ok(())
}
