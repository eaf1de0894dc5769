//! Cost of the instrumentation, as the issue asks for it:
//!
//! - per invocation (one server span, 5 child spans, 10 log lines) against the
//!   same spans and lines through tracing-subscriber's own JSON formatter
//!   without OpenTelemetry;
//! - init (building a `Telemetry`: subscriber, tracer provider, exporter);
//! - bytes per span on stdout, in both span formats;
//! - log lines per second (what the simulator leans on).
//!
//! Run: `cargo bench -p tracelake-instrumentation --bench instrumentation`.
//! No network, no files: every output goes to memory.
//!
//! It also counts heap allocations per invocation, per init and per log line
//! (a counting allocator, switched on only while those are counted, so the
//! timed runs pay one relaxed load per allocation). The counts hardly depend
//! on the build profile, so a debug run shows them: with
//! `TRACELAKE_BENCH_QUICK=1` every timed loop is small enough for debug
//! (`TRACELAKE_BENCH_QUICK=1 cargo bench -p tracelake-instrumentation --profile dev
//! --bench instrumentation`); its times mean nothing.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The system allocator, counting allocations while [`COUNTING`] is on.
struct CountingAllocator;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call goes to `System` unchanged; only a counter is added.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.realloc(pointer, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Allocations (and reallocations) per call of `run`, over `calls` calls
/// after `calls` warm-up calls.
fn allocations_per_call(calls: u64, mut run: impl FnMut(u64)) -> f64 {
    for index in 0..calls {
        run(index);
    }
    ALLOCATIONS.store(0, Ordering::Relaxed);
    COUNTING.store(true, Ordering::Relaxed);
    for index in 0..calls {
        run(index);
    }
    COUNTING.store(false, Ordering::Relaxed);
    ALLOCATIONS.load(Ordering::Relaxed) as f64 / calls as f64
}

/// Whether `TRACELAKE_BENCH_QUICK` asks for small loops (a debug check).
fn quick() -> bool {
    std::env::var_os("TRACELAKE_BENCH_QUICK").is_some()
}

/// `(rounds, iterations)` of a timed loop: `full`, or small when quick.
fn size(full: (usize, u64)) -> (usize, u64) {
    if quick() {
        (3, (full.1 / 40).max(5))
    } else {
        full
    }
}

use tracelake_instrumentation::{
    Invocation, LineBuffer, Output, SpanFormat, Telemetry, TelemetryConfig, Trigger,
};

const XRAY: &str = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

/// The handler: 5 child spans with the usual attributes, 10 log lines.
fn handler_body() {
    tracing::info!(path = "/orders/o-42", "request received");
    for (index, table) in ["orders", "customers", "inventory", "prices", "shipping"]
        .iter()
        .enumerate()
    {
        let _span = tracing::info_span!(
            "dynamodb",
            otel.name = "GetItem",
            otel.kind = "client",
            db.system = "dynamodb",
            db.operation.name = "GetItem",
            aws.dynamodb.table_names = *table,
        )
        .entered();
        tracing::info!(table = *table, attempt = 1, "item loaded");
        if index == 4 {
            tracing::warn!(latency_ms = 87.5, "slow read");
        }
    }
    for step in 0..3 {
        tracing::debug!(step, "not written at INFO");
        tracing::info!(step, "pricing step done");
    }
}

fn config(format: SpanFormat) -> TelemetryConfig {
    TelemetryConfig::new("checkout")
        .with_function("checkout-prod", "42")
        .with_log_stream("2026/11/29/[42]0123456789abcdef0123456789abcdef")
        .with_log_group("/aws/lambda/checkout-prod")
        .with_region("eu-west-1")
        .with_account_id("123456789012")
        .with_memory_mb(512)
        .with_span_format(format)
}

fn invocation(index: u64) -> Invocation {
    Invocation::new(format!("8476a536-e9f4-11e8-9739-{index:012x}"))
        .with_xray_header(XRAY)
        .with_invoked_arn("arn:aws:lambda:eu-west-1:123456789012:function:checkout-prod")
        .with_trigger(Trigger::Http)
        .with_span_name("POST /orders/{id}")
        .with_attribute("http.request.method", "POST")
        .with_attribute("http.route", "/orders/{id}")
}

/// Median nanoseconds per iteration over `rounds` rounds of `iterations`.
fn measure(rounds: usize, iterations: u64, mut run: impl FnMut(u64)) -> f64 {
    for index in 0..iterations {
        run(index);
    }
    let mut per_iteration: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for index in 0..iterations {
                run(index);
            }
            start.elapsed().as_nanos() as f64 / iterations as f64
        })
        .collect();
    per_iteration.sort_by(f64::total_cmp);
    per_iteration[rounds / 2]
}

#[derive(Clone, Default)]
struct MemoryWriter(Arc<Mutex<Vec<u8>>>);

impl Write for MemoryWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// tracing-subscriber's JSON formatter, same spans and events, no OpenTelemetry.
fn baseline_invocation_ns() -> (f64, usize) {
    let sink = MemoryWriter::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::INFO)
        .with_current_span(true)
        .with_span_list(false)
        .with_writer(move || writer.clone())
        .finish();
    let dispatch = tracing::Dispatch::new(subscriber);
    let (rounds, iterations) = size((9, 2_000));
    let ns = tracing::dispatcher::with_default(&dispatch, || {
        measure(rounds, iterations, |index| {
            let request_id = format!("8476a536-e9f4-11e8-9739-{index:012x}");
            let span = tracing::info_span!(
                "invocation",
                otel.name = "POST /orders/{id}",
                faas.trigger = "http",
                faas.invocation_id = request_id.as_str(),
            );
            span.in_scope(handler_body);
            drop(span);
            sink.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clear();
        })
    });
    let bytes = {
        let _guard = tracing::dispatcher::set_default(&dispatch);
        tracing::info_span!("invocation", faas.invocation_id = "x").in_scope(handler_body);
        sink.0.lock().map(|bytes| bytes.len()).unwrap_or_default()
    };
    (ns, bytes)
}

fn telemetry_invocation_ns(format: SpanFormat) -> f64 {
    let (rounds, iterations) = size((9, 2_000));
    telemetry_invocations(format, |run| measure(rounds, iterations, run))
}

/// Runs `harness` with one invocation of the handler per call, on one telemetry.
fn telemetry_invocations(
    format: SpanFormat,
    harness: impl FnOnce(&mut dyn FnMut(u64)) -> f64,
) -> f64 {
    let buffer = LineBuffer::new();
    let telemetry = Telemetry::new(config(format), Output::buffer(&buffer)).expect("telemetry");
    harness(&mut |index| {
        let result: Result<(), String> = telemetry.in_invocation(&invocation(index), || {
            handler_body();
            Ok(())
        });
        black_box(result).ok();
        buffer.take();
    })
}

/// A handler with `children` client spans and no log line.
fn spans_only(children: usize) {
    for index in 0..children {
        let _span = tracing::info_span!(
            "dynamodb",
            otel.name = "GetItem",
            otel.kind = "client",
            db.system = "dynamodb",
            db.operation.name = "GetItem",
            aws.dynamodb.table_names = if index % 2 == 0 {
                "orders"
            } else {
                "customers"
            },
        )
        .entered();
    }
}

/// Bytes of span lines per span, and of log lines per line, over 200 invocations.
fn bytes_per_span(format: SpanFormat) -> (f64, f64) {
    bytes_per_span_with(format, handler_body)
}

fn bytes_per_span_with(format: SpanFormat, body: impl Fn()) -> (f64, f64) {
    let buffer = LineBuffer::new();
    let telemetry = Telemetry::new(config(format), Output::buffer(&buffer)).expect("telemetry");
    for index in 0..200 {
        let _ = telemetry.in_invocation(&invocation(index), || -> Result<(), String> {
            body();
            Ok(())
        });
    }
    let (mut span_bytes, mut spans, mut log_bytes, mut logs) = (0usize, 0usize, 0usize, 0usize);
    for line in buffer.take_lines() {
        if tracelake_instrumentation::wire::span_line::is_span_line(&line) {
            let data = tracelake_instrumentation::wire::span_line::decode_span_line(&line)
                .expect("span line");
            spans += data
                .resource_spans
                .iter()
                .flat_map(|r| &r.scope_spans)
                .map(|s| s.spans.len())
                .sum::<usize>();
            span_bytes += line.len() + 1;
        } else {
            logs += 1;
            log_bytes += line.len() + 1;
        }
    }
    (
        span_bytes as f64 / spans as f64,
        log_bytes as f64 / logs as f64,
    )
}

fn init_ns() -> f64 {
    let (rounds, iterations) = size((9, 200));
    measure(rounds, iterations, init_once)
}

fn init_once(_: u64) {
    let telemetry = Telemetry::new(
        config(SpanFormat::OtlpJson),
        Output::buffer(&LineBuffer::new()),
    )
    .expect("telemetry");
    black_box(telemetry);
}

/// Log lines per second inside one long invocation (spans are not the cost here).
fn log_lines_per_second() -> f64 {
    let lines = if quick() { 5_000 } else { 200_000u64 };
    let start = Instant::now();
    log_lines(lines, |write| write());
    lines as f64 / start.elapsed().as_secs_f64()
}

/// Allocations per log line, in the same loop as [`log_lines_per_second`].
fn allocations_per_log_line() -> f64 {
    let lines = 2_000;
    let mut per_line = 0.0;
    log_lines(lines, |write| {
        per_line = allocations_per_call(1, |_| write());
    });
    per_line / lines as f64
}

/// Writes `lines` log lines inside one invocation and span; `harness` runs
/// the loop it is given (to time or count it).
fn log_lines(lines: u64, harness: impl FnOnce(&mut dyn FnMut())) {
    let buffer = LineBuffer::new();
    let telemetry =
        Telemetry::new(config(SpanFormat::Compact), Output::buffer(&buffer)).expect("telemetry");
    let _ = telemetry.in_invocation(&invocation(0), || -> Result<(), String> {
        let _span = tracing::info_span!("work").entered();
        harness(&mut || {
            for index in 0..lines {
                tracing::info!(index, user = "u-17", "line written");
                if index % 10_000 == 0 {
                    buffer.take();
                }
            }
        });
        Ok(())
    });
}

/// Bytes per span at 1, 6 and 20 spans per invocation (the invocation span
/// and 0, 5 or 19 CLIENT children), both formats. Sizes do not depend on the
/// build profile.
fn print_sizes() {
    println!("bytes per span on stdout at 1 / 6 / 20 spans per invocation (no log lines):");
    for format in [SpanFormat::OtlpJson, SpanFormat::Compact] {
        let sizes: Vec<String> = [0, 5, 19]
            .into_iter()
            .map(|children| {
                format!(
                    "{:.0}",
                    bytes_per_span_with(format, || spans_only(children)).0
                )
            })
            .collect();
        println!("  {format:?}: {}", sizes.join(" / "));
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported.
    // TRACELAKE_BENCH_SIZES_ONLY=1 prints the sizes alone (quick, any profile).
    if std::env::var_os("TRACELAKE_BENCH_SIZES_ONLY").is_some() {
        print_sizes();
        return;
    }
    let started = Instant::now();
    let (baseline, baseline_bytes) = baseline_invocation_ns();
    let json = telemetry_invocation_ns(SpanFormat::OtlpJson);
    let compact = telemetry_invocation_ns(SpanFormat::Compact);
    let init = init_ns();
    let (json_span_bytes, log_bytes) = bytes_per_span(SpanFormat::OtlpJson);
    let (compact_span_bytes, _) = bytes_per_span(SpanFormat::Compact);
    let (json_20, _) = bytes_per_span_with(SpanFormat::OtlpJson, || spans_only(19));
    let (compact_20, _) = bytes_per_span_with(SpanFormat::Compact, || spans_only(19));
    let lines_per_second = log_lines_per_second();
    let json_allocations =
        telemetry_invocations(SpanFormat::OtlpJson, |run| allocations_per_call(50, run));
    let compact_allocations =
        telemetry_invocations(SpanFormat::Compact, |run| allocations_per_call(50, run));
    let init_allocations = allocations_per_call(20, init_once);
    let line_allocations = allocations_per_log_line();

    let (rounds, iterations) = size((9, 2_000));
    println!(
        "per invocation (1 server span, 5 child spans, 10 log lines), median of {rounds} x {iterations}:"
    );
    println!(
        "  tracing-subscriber JSON, no OpenTelemetry  {:>9.1} µs  ({baseline_bytes} bytes of log lines)",
        baseline / 1000.0
    );
    println!(
        "  tracelake, OTLP JSON spans                 {:>9.1} µs  ratio {:.2}",
        json / 1000.0,
        json / baseline
    );
    println!(
        "  tracelake, compact spans                   {:>9.1} µs  ratio {:.2}",
        compact / 1000.0,
        compact / baseline
    );
    let (rounds, iterations) = size((9, 200));
    println!(
        "init (Telemetry::new), median of {rounds} x {iterations}:    {:>9.1} µs",
        init / 1000.0
    );
    println!("bytes per span on stdout, OTLP JSON:         {json_span_bytes:>9.0}");
    println!("bytes per span on stdout, compact:           {compact_span_bytes:>9.0}");
    println!("  same, 20 spans per invocation, OTLP JSON:  {json_20:>9.0}");
    println!("  same, 20 spans per invocation, compact:    {compact_20:>9.0}");
    println!("bytes per log line:                          {log_bytes:>9.0}");
    println!("log lines per second (one thread):           {lines_per_second:>9.0}");
    println!("heap allocations per invocation, OTLP JSON:  {json_allocations:>9.1}");
    println!("heap allocations per invocation, compact:    {compact_allocations:>9.1}");
    println!("heap allocations per init:                   {init_allocations:>9.1}");
    println!("heap allocations per log line:               {line_allocations:>9.2}");
    print_sizes();
    eprintln!("bench ran in {:.1} s", started.elapsed().as_secs_f64());
}
