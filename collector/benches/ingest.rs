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

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use base64::Engine as _;
use object_store::memory::InMemory;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, TracesData};
use tracelake_collector::sources::files::{FileBatchLimits, FileBatcher};
use tracelake_collector::{Collector, IndexStore, IngestCounters};
use tracelake_instrumentation::wire::{ids::TraceId, span_line};

/// Counts live and peak heap bytes.
struct CountingAllocator;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        pointer
    }
    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(pointer, layout, new_size) };
        if !new.is_null() {
            if new_size > layout.size() {
                let live = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size
                    - layout.size();
                PEAK.fetch_max(live, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn uuid(&mut self) -> String {
        let a = self.next();
        let b = self.next();
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            b >> 52,
            b & 0xffff_ffff_ffff
        )
    }
}

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_owned())),
        }),
        ..KeyValue::default()
    }
}

fn iso(ms: i64) -> String {
    let seconds = ms / 1000;
    let (h, m, s) = ((seconds / 3600) % 24, (seconds / 60) % 60, seconds % 60);
    format!("2025-11-29T{h:02}:{m:02}:{s:02}.{:03}Z", ms % 1000)
}

/// The events of one invocation on a stream, in the runtime's own formats.
fn invocation(
    rng: &mut Rng,
    service: &str,
    runtime: u64,
    start_ms: i64,
    events: &mut Vec<(i64, String)>,
) {
    let request_id = rng.uuid();
    let trace =
        TraceId(u128::from(rng.next()) << 64 | u128::from(rng.next()) | (0x6929_0000u128 << 96));
    let trace_hex = trace.to_string();
    let mut t = start_ms;
    events.push((
        t,
        format!("START RequestId: {request_id} Version: $LATEST\n"),
    ));
    let lines = 3 + rng.below(8);
    for i in 0..lines {
        t += 1 + rng.below(20) as i64;
        let amount = rng.below(100_000);
        let line = match runtime {
            0 => format!(
                r#"{{"timestamp":"{}","level":"INFO","message":"charged card {i} of {amount} cents","trace_id":"{trace_hex}","span_id":"{:016x}","request_id":"{request_id}","service":"{service}","xray_trace_id":"{}","function_request_id":"{request_id}","order_id":"o-{amount}","attempt":{i}}}"#,
                iso(t),
                rng.next() | 1,
                trace.to_xray()
            ),
            1 => format!(
                "{}\t{request_id}\tINFO\tprocessed item {i} with total {amount}\n",
                iso(t)
            ),
            2 => format!(
                "[INFO]\t{}\t{request_id}\tNo data changes in the table address {amount}\n",
                iso(t)
            ),
            3 => format!(
                r#"{{"level":"INFO","location":"collect.handler:{i}","message":"Collecting payment {amount}","timestamp":"2025-11-29 01:00:00,{:03}+0000","service":"{service}","cold_start":false,"function_name":"{service}","function_memory_size":128,"function_arn":"arn:aws:lambda:eu-west-1:123456789012:function:{service}","function_request_id":"{request_id}","xray_trace_id":"{}"}}"#,
                t % 1000,
                trace.to_xray()
            ),
            _ => format!("uninstrumented output line {i}: value={amount}\n"),
        };
        events.push((t, line));
    }
    if runtime == 0 {
        let spans = (0..6)
            .map(|i| Span {
                trace_id: trace.0.to_be_bytes().to_vec(),
                span_id: (rng.next() | 1).to_be_bytes().to_vec(),
                parent_span_id: if i == 0 {
                    Vec::new()
                } else {
                    (rng.next() | 1).to_be_bytes().to_vec()
                },
                name: if i == 0 {
                    format!("{service} invoke")
                } else {
                    format!("GET /items/{i}")
                },
                kind: if i == 0 { 2 } else { 3 },
                start_time_unix_nano: (start_ms as u64) * 1_000_000 + i,
                end_time_unix_nano: (t as u64) * 1_000_000,
                attributes: if i == 0 {
                    vec![
                        kv("faas.invocation_id", &request_id),
                        kv("faas.trigger", "http"),
                        kv("cloud.account.id", "123456789012"),
                    ]
                } else {
                    vec![
                        kv("http.request.method", "GET"),
                        kv("server.address", "api.internal"),
                    ]
                },
                status: Some(Status {
                    code: 1,
                    ..Status::default()
                }),
                ..Span::default()
            })
            .collect();
        let data = TracesData {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![
                        kv("service.name", service),
                        kv("faas.name", service),
                        kv("cloud.region", "eu-west-1"),
                    ],
                    ..Resource::default()
                }),
                scope_spans: vec![ScopeSpans {
                    spans,
                    ..ScopeSpans::default()
                }],
                ..ResourceSpans::default()
            }],
        };
        events.push((t, span_line::encode_json_line(&data)));
    }
    t += 1;
    events.push((t, format!("END RequestId: {request_id}\n")));
    events.push((
        t,
        format!(
            "REPORT RequestId: {request_id}\tDuration: {}.{:02} ms\tBilled Duration: {} ms\tMemory Size: 128 MB\tMax Memory Used: {} MB\t\nXRAY TraceId: {}\tSegmentId: {:016x}\tSampled: true\t\n",
            t - start_ms,
            rng.below(100),
            t - start_ms + 1,
            60 + rng.below(60),
            trace.to_xray(),
            rng.next()
        ),
    ));
}

/// One Lambda subscription event holding `target_events` events of one stream.
fn lambda_event(rng: &mut Rng, index: usize, target_events: usize) -> (Vec<u8>, usize) {
    lambda_event_padded(rng, index, target_events, 0)
}

/// Like [`lambda_event`], with `padding` random hex digits appended to each
/// plain or runtime line (stack traces, payload dumps: text that compresses
/// about as badly as real logs do).
fn lambda_event_padded(
    rng: &mut Rng,
    index: usize,
    target_events: usize,
    padding: usize,
) -> (Vec<u8>, usize) {
    let service = format!("svc-{:03}", index % 300);
    let runtime = (index % 10).min(4) as u64; // half ours, the rest spread over formats
    let mut events = Vec::new();
    let mut t = 1_764_378_000_000 + index as i64 * 10;
    while events.len() < target_events {
        let line_format = if runtime == 0 { 0 } else { rng.below(5) };
        invocation(rng, &service, line_format, t, &mut events);
        t = events.last().map_or(t, |(time, _)| *time) + 5;
    }
    events.truncate(target_events);
    if padding > 0 {
        for (_, message) in events.iter_mut().filter(|(_, m)| !m.starts_with('{')) {
            let hex: String = (0..padding / 16)
                .map(|_| format!("{:016x}", rng.next()))
                .collect();
            message.insert_str(message.trim_end().len(), &format!(" detail={hex}"));
        }
    }
    let log_events: Vec<serde_json::Value> = events
        .iter()
        .enumerate()
        .map(|(i, (time, message))| {
            serde_json::json!({"id": format!("{}", 37_000_000_000_000_000_000u128 + (index * 100_000 + i) as u128), "timestamp": time, "message": message})
        })
        .collect();
    let json = serde_json::to_vec(&serde_json::json!({
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": format!("/aws/lambda/{service}"),
        "logStream": format!("2025/11/29/[$LATEST]{:032x}", rng.next()),
        "subscriptionFilters": ["tracelake"],
        "logEvents": log_events,
    }))
    .expect("json");
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(&json).expect("gzip");
    let compressed = gzip.finish().expect("gzip");
    let data = base64::engine::general_purpose::STANDARD.encode(compressed);
    (
        format!(r#"{{"awslogs":{{"data":"{data}"}}}}"#).into_bytes(),
        json.len(),
    )
}

fn floor(payloads: &[Vec<u8>]) -> u64 {
    let mut events = 0u64;
    for payload in payloads {
        let wrapper: serde_json::Value = serde_json::from_slice(payload).expect("json");
        let data = wrapper["awslogs"]["data"].as_str().expect("data");
        let gzip = base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("base64");
        let mut json = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gzip[..]), &mut json)
            .expect("gunzip");
        let value: serde_json::Value = serde_json::from_slice(&json).expect("json");
        events += value["logEvents"].as_array().map_or(0, |a| a.len() as u64);
    }
    events
}

fn ingest_all(collector: &Collector, payloads: &[Vec<u8>]) -> IngestCounters {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut total = IngestCounters::default();
    for payload in payloads {
        total += runtime
            .block_on(collector.ingest(payload, "bench"))
            .expect("ingest");
    }
    total
}

/// The `tracelake ingest` path: `FileBatcher::add_files` over windows of
/// 1,024 files (decoded on all cores, as the CLI reads a directory).
fn batch_files(
    runtime: &tokio::runtime::Runtime,
    collector: &Collector,
    payloads: &[Vec<u8>],
    prefix: &str,
) -> (IngestCounters, u64) {
    runtime.block_on(async {
        let mut batcher = FileBatcher::new(collector, FileBatchLimits::default());
        let files: Vec<(String, &[u8])> = payloads
            .iter()
            .enumerate()
            .map(|(number, payload)| (format!("{prefix}-{number}"), payload.as_slice()))
            .collect();
        for window in files.chunks(1024) {
            batcher.add_files(window).await.expect("ingest");
        }
        batcher.finish().await.expect("ingest")
    })
}

/// The decompressed `DATA_MESSAGE` JSON bytes of Lambda subscription events.
fn json_bytes_of(payloads: &[Vec<u8>]) -> usize {
    let mut bytes = 0;
    for payload in payloads {
        let wrapper: serde_json::Value = serde_json::from_slice(payload).expect("json");
        let data = wrapper["awslogs"]["data"].as_str().expect("data");
        let gzip = base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("base64");
        let mut json = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gzip[..]), &mut json)
            .expect("gunzip");
        bytes += json.len();
    }
    bytes
}

/// Seconds on the CPU of one `schedstat` file (Linux; 0 elsewhere).
fn schedstat_seconds(path: &std::path::Path) -> f64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0.0, |ns| ns as f64 / 1e9)
}

/// CPU seconds of the calling thread: what a pass costs on a machine shared
/// with other builds, where wall time also counts the waits for a core.
fn thread_cpu() -> f64 {
    schedstat_seconds(std::path::Path::new("/proc/thread-self/schedstat"))
}

/// CPU seconds of every live thread of the process (the rayon pool included).
fn process_cpu() -> f64 {
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks
                .filter_map(Result::ok)
                .map(|task| schedstat_seconds(&task.path().join("schedstat")))
                .sum()
        })
        .unwrap_or(0.0)
}

/// A pass's cost: wall seconds and CPU seconds (all threads).
#[derive(Clone, Copy)]
struct Cost {
    wall: f64,
    cpu: f64,
}

/// Runs `pass` and returns its result, its cost and its peak heap above
/// what was live before it.
fn measured<T>(pass: impl FnOnce() -> T) -> (T, Cost, usize) {
    let baseline = LIVE.load(Ordering::Relaxed);
    PEAK.store(baseline, Ordering::Relaxed);
    let (started, cpu) = (Instant::now(), process_cpu());
    let out = pass();
    let cost = Cost {
        wall: started.elapsed().as_secs_f64(),
        cpu: process_cpu() - cpu,
    };
    (out, cost, PEAK.load(Ordering::Relaxed) - baseline)
}

/// The demo fleet's deliveries at their real sizes, direct (one Lambda
/// invocation per delivery) and batched (`tracelake ingest`).
fn fleet_corpus() {
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
fn fit(points: &[(f64, f64)]) -> (f64, f64) {
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
fn delivery_cost(payloads: &[Vec<u8>]) {
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

fn main() {
    let corpus = std::env::var("TRACELAKE_BENCH_CORPUS").unwrap_or_default();
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
    let objects = |collector: &Collector| {
        runtime
            .block_on(collector.store().list("v1"))
            .expect("list")
            .len()
    };
    let (direct_objects, batched_objects) = (objects(&memory), objects(&batched));

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
}
