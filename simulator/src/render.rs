//! Rendering: every invocation becomes the CloudWatch log events its function
//! would write, in its runtime's real line format, plus the Lambda platform
//! lines in the function's log format.
//!
//! The formats follow the samples in `../shared/fixtures/cloudwatch/`. Each
//! event also records what a reader could link it by (its own trace id, a
//! request id, or trace evidence for its invocation), which the ground truth
//! uses to tell linkable lines from lines that carry nothing to link by.

use std::fmt::Write as _;

use crate::clock::{self, NANOS_PER_MILLI};
use crate::fleet::{EdgeKind, Fleet, LogFormat, Runtime, Service};
use crate::instrumented::{InstrumentedError, RustServices};
use crate::rng::SimRng;
use crate::streams::LogStream;
use crate::traffic::{Invocation, Outcome, Traffic, Trigger};

/// What kind of line an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// `INIT_START` or `platform.initStart`: the environment's init, in no trace.
    PlatformInit,
    /// `START` or `platform.start`.
    PlatformStart,
    /// `END` or `platform.runtimeDone`.
    PlatformEnd,
    /// `REPORT` or `platform.report`.
    PlatformReport,
    /// `Task timed out after …` or the runtime exit line.
    PlatformFailure,
    /// An application log line written during an invocation.
    AppLog,
    /// An application line written during init, outside any invocation.
    InitLog,
    /// A span line (OTLP JSON) from tracelake-instrumentation.
    SpanLine,
}

impl EventKind {
    /// A stable lowercase name, used in `truth/linkability.csv`.
    pub fn label(self) -> &'static str {
        match self {
            EventKind::PlatformInit => "platform_init",
            EventKind::PlatformStart => "platform_start",
            EventKind::PlatformEnd => "platform_end",
            EventKind::PlatformReport => "platform_report",
            EventKind::PlatformFailure => "platform_failure",
            EventKind::AppLog => "app_log",
            EventKind::InitLog => "init_log",
            EventKind::SpanLine => "span_line",
        }
    }
}

/// What an event carries that a reader can link it by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Carries {
    /// The line names its own trace (`trace_id`, Powertools `xray_trace_id`).
    pub own_trace: bool,
    /// The line names its invocation's request id.
    pub request_id: bool,
    /// The line ties the invocation's request id to its trace (our invocation
    /// span, `REPORT … XRAY TraceId`, the `tracing` of a JSON platform record).
    pub trace_evidence: bool,
}

/// One CloudWatch log event before delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct RawEvent {
    /// When the line was written (CloudWatch keeps milliseconds).
    pub timestamp_ns: u64,
    /// Order of writing, to break timestamp ties.
    pub seq: u64,
    /// Index of the log stream.
    pub stream: usize,
    /// The invocation that wrote it; `None` for init lines.
    pub invocation: Option<usize>,
    /// What kind of line it is.
    pub kind: EventKind,
    /// What it can be linked by.
    pub carries: Carries,
    /// The event text as CloudWatch delivers it.
    pub message: String,
}

/// A span written by an instrumented service: one row of `truth/spans.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct TruthSpan {
    /// 128-bit trace id.
    pub trace_id: u128,
    /// 64-bit span id.
    pub span_id: u64,
    /// Parent span id; `None` at a root. A parent may be the X-Ray segment of an
    /// uninstrumented caller, which writes no span line.
    pub parent_span_id: Option<u64>,
    /// The service that wrote it.
    pub service: String,
    /// Span name.
    pub name: String,
    /// Whether its status is error.
    pub error: bool,
}

/// The request id in UUID form (version 4 bits set).
pub fn request_id_text(bits: u128) -> String {
    let v = (bits & !(0xf << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        (v >> 96) as u32,
        (v >> 80) as u16,
        (v >> 64) as u16,
        (v >> 48) as u16,
        v & 0xffff_ffff_ffff
    )
}

/// A trace id in X-Ray form.
pub fn xray_text(trace_id: u128) -> String {
    tracelake_instrumentation::wire::ids::TraceId(trace_id).to_xray()
}

/// One application log line, before it is put in a runtime's format.
#[derive(Debug, Clone, PartialEq)]
pub struct AppLine {
    /// When it is written.
    pub at_ns: u64,
    /// Level as tracelake writes it: `DEBUG`, `INFO`, `WARN`, `ERROR`.
    pub level: &'static str,
    /// The message.
    pub message: String,
    /// Index of the call it is about, if any (its client span is current).
    pub call: Option<usize>,
}

/// Everything known about one invocation while rendering it.
pub struct InvocationContext<'a> {
    /// The fleet.
    pub fleet: &'a Fleet,
    /// The invocation.
    pub invocation: &'a Invocation,
    /// Its service.
    pub service: &'a Service,
    /// Its log stream.
    pub stream: &'a LogStream,
    /// `xxxxxxxx-xxxx-4xxx-…`.
    pub request_id: String,
    /// Its trace.
    pub trace_id: u128,
    /// The span or X-Ray segment of the caller that the trace context names.
    pub parent_span_id: Option<u64>,
    /// The invocation's own span (or X-Ray segment) id.
    pub span_id: u64,
    /// The client/producer span id of each call, in call order.
    pub call_span_ids: Vec<u64>,
    /// The request id of each call's callee invocation, in call order.
    pub callee_request_ids: Vec<String>,
    /// The application lines of this invocation.
    pub lines: Vec<AppLine>,
    /// Trigger description for span names and log lines.
    pub entry_name: String,
}

/// Renders all traffic into per-stream events and the spans written.
pub struct Rendered {
    /// Every event, in writing order.
    pub events: Vec<RawEvent>,
    /// Every span written to a span line.
    pub spans: Vec<TruthSpan>,
}

/// Writes events into the run's event list, numbering them.
pub struct EventSink {
    events: Vec<RawEvent>,
    next_seq: u64,
}

impl EventSink {
    fn new() -> EventSink {
        EventSink {
            events: Vec::new(),
            next_seq: 0,
        }
    }

    /// Adds one event.
    pub fn push(
        &mut self,
        timestamp_ns: u64,
        stream: usize,
        invocation: Option<usize>,
        kind: EventKind,
        carries: Carries,
        message: String,
    ) {
        self.events.push(RawEvent {
            timestamp_ns,
            seq: self.next_seq,
            stream,
            invocation,
            kind,
            carries,
            message,
        });
        self.next_seq += 1;
    }
}

/// Renders every invocation of `traffic`, callers before callees. Rust
/// services run through tracelake-instrumentation with ids seeded by `seed`.
pub fn render(
    fleet: &Fleet,
    traffic: &Traffic,
    streams: &[LogStream],
    rng: &mut SimRng,
    seed: u64,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Rendered, InstrumentedError> {
    let mut rust = RustServices::new(streams.len(), seed);
    let mut last_use = vec![0usize; streams.len()];
    for (index, invocation) in traffic.invocations.iter().enumerate() {
        last_use[invocation.stream] = index;
    }
    let mut sink = EventSink::new();
    sink.events.reserve(traffic.invocations.len() * 10);
    let mut spans = Vec::new();
    let mut call_span_ids: Vec<Vec<u64>> = vec![Vec::new(); traffic.invocations.len()];
    let total = traffic.invocations.len();
    for (index, invocation) in traffic.invocations.iter().enumerate() {
        if index % 4096 == 0 {
            progress(index, total);
        }
        let service = &fleet.services[invocation.service];
        let stream = &streams[invocation.stream];
        let trace_id = traffic.traces[invocation.trace].trace_id;
        let parent_span_id = invocation
            .parent
            .and_then(|(caller, call)| call_span_ids[caller].get(call).copied());
        let span_id = nonzero(rng.next_u64());
        // Instrumented services propagate the client or producer span of each
        // call (filled in when the handler runs); others their X-Ray segment.
        let own_calls = vec![span_id; invocation.calls.len()];
        let entry_name = entry_name(fleet, traffic, invocation, service);
        let lines = plan_app_lines(fleet, service, invocation, &entry_name, rng);
        let mut context = InvocationContext {
            fleet,
            invocation,
            service,
            stream,
            request_id: request_id_text(invocation.request_id),
            trace_id,
            parent_span_id,
            span_id,
            call_span_ids: own_calls,
            callee_request_ids: invocation
                .calls
                .iter()
                .map(|call| {
                    traffic
                        .invocations
                        .get(call.callee)
                        .map_or_else(String::new, |callee| request_id_text(callee.request_id))
                })
                .collect(),
            lines,
            entry_name,
        };
        render_invocation(&mut context, index, rng, &mut rust, &mut sink, &mut spans)?;
        call_span_ids[index] = context.call_span_ids;
        if last_use[invocation.stream] == index {
            rust.retire_stream(invocation.stream);
        }
    }
    progress(total, total);
    Ok(Rendered {
        events: sink.events,
        spans,
    })
}

fn nonzero(value: u64) -> u64 {
    value.max(1)
}

fn entry_name(
    fleet: &Fleet,
    traffic: &Traffic,
    invocation: &Invocation,
    service: &Service,
) -> String {
    match (invocation.trigger, invocation.parent) {
        (Trigger::Hop(kind), Some((caller, call))) => {
            let caller_invocation = &traffic.invocations[caller];
            let caller_service = &fleet.services[caller_invocation.service];
            let channel = caller_invocation
                .calls
                .get(call)
                .and_then(|c| caller_service.edges.get(c.edge))
                .map(|edge| edge.channel.as_str())
                .unwrap_or("unknown");
            match kind {
                EdgeKind::Http => channel.to_owned(),
                EdgeKind::StepFunctions | EdgeKind::LambdaInvoke => service.function_name.clone(),
                _ => format!("{channel} process"),
            }
        }
        _ => {
            let resource = service.name.split('-').next().unwrap_or("root");
            format!("GET /{resource}")
        }
    }
}

const DOMAIN_LINES: [&str; 8] = [
    "loaded {n} records from table {d}",
    "cache miss for {d} key {n}",
    "validated {d} payload ({n} fields)",
    "wrote {n} items to {d} table",
    "resolved {n} {d} references",
    "feature flag {d}-v{n} enabled",
    "computed {d} totals over {n} rows",
    "fetched {d} config version {n}",
];

fn plan_app_lines(
    fleet: &Fleet,
    service: &Service,
    invocation: &Invocation,
    entry_name: &str,
    rng: &mut SimRng,
) -> Vec<AppLine> {
    let start = invocation.start_ns;
    let end = invocation.end_ns();
    let mut lines = Vec::with_capacity(4 + invocation.calls.len() * 2);
    lines.push(AppLine {
        at_ns: start + NANOS_PER_MILLI / 5,
        level: "INFO",
        message: format!("handling {entry_name}"),
        call: None,
    });
    let domain = service.name.split('-').next().unwrap_or("item");
    for _ in 0..rng.below(3) {
        let template = DOMAIN_LINES[rng.below(DOMAIN_LINES.len() as u64) as usize];
        let at = start + rng.below(invocation.duration_ns.max(1));
        lines.push(AppLine {
            at_ns: at,
            level: if rng.chance(0.3) { "DEBUG" } else { "INFO" },
            message: template
                .replace("{d}", domain)
                .replace("{n}", &rng.between(1, 5000).to_string()),
            call: None,
        });
    }
    for (call_index, call) in invocation.calls.iter().enumerate() {
        let Some(edge) = service.edges.get(call.edge) else {
            continue;
        };
        let target = &fleet.services[edge.target].name;
        let message = match edge.kind {
            EdgeKind::Http => format!("calling {target}: {}", edge.channel),
            EdgeKind::LambdaInvoke => format!("invoking {}", edge.channel),
            kind => format!("publishing to {} ({})", edge.channel, kind.label()),
        };
        lines.push(AppLine {
            at_ns: call.send_ns,
            level: "INFO",
            message,
            call: Some(call_index),
        });
        if edge.kind.is_sync() {
            let millis = (call.done_ns - call.send_ns) / NANOS_PER_MILLI;
            lines.push(AppLine {
                at_ns: call.done_ns,
                level: if millis > 1000 { "WARN" } else { "DEBUG" },
                message: format!("{target} answered 200 in {millis} ms"),
                call: None,
            });
        }
    }
    if rng.chance(0.05) {
        lines.push(AppLine {
            at_ns: start + rng.below(invocation.duration_ns.max(1)),
            level: "WARN",
            message: format!("throttled by {domain} table, retrying in 50 ms"),
            call: None,
        });
    }
    match invocation.outcome {
        Outcome::Success => lines.push(AppLine {
            at_ns: end,
            level: "INFO",
            message: format!(
                "completed in {} ms",
                invocation.duration_ns / NANOS_PER_MILLI
            ),
            call: None,
        }),
        Outcome::Error => lines.push(AppLine {
            at_ns: end,
            level: "ERROR",
            message: format!(
                "request failed: {domain} not found for id {}",
                rng.between(1, 99_999)
            ),
            call: None,
        }),
        Outcome::Crash => lines.push(AppLine {
            at_ns: end.saturating_sub(NANOS_PER_MILLI / 2).max(start),
            level: "ERROR",
            message: "allocating buffer for batch failed: out of memory".to_owned(),
            call: None,
        }),
        Outcome::Timeout => {}
    }
    // Lines are written in time order; the sort is stable for equal times.
    lines.sort_by_key(|line| line.at_ns);
    lines.retain(|line| line.at_ns <= end);
    lines
}

fn render_invocation(
    context: &mut InvocationContext<'_>,
    index: usize,
    rng: &mut SimRng,
    rust: &mut RustServices,
    sink: &mut EventSink,
    spans: &mut Vec<TruthSpan>,
) -> Result<(), InstrumentedError> {
    let invocation = context.invocation;
    let service = context.service;
    let stream = invocation.stream;
    let start = invocation.start_ns;
    let end = invocation.end_ns();

    if let Some(init_ns) = invocation.init_ns {
        let init_at = start.saturating_sub(init_ns + NANOS_PER_MILLI);
        let message = platform_init(context, init_at, rng);
        sink.push(
            init_at,
            stream,
            None,
            EventKind::PlatformInit,
            Carries::default(),
            message,
        );
        if let Some(line) = init_log_line(service.runtime, init_at + init_ns / 2) {
            sink.push(
                init_at + init_ns / 2,
                stream,
                None,
                EventKind::InitLog,
                Carries::default(),
                line,
            );
        }
    }
    let (start_line, start_carries) = platform_start(context, start);
    sink.push(
        start,
        stream,
        Some(index),
        EventKind::PlatformStart,
        start_carries,
        start_line,
    );

    match service.runtime {
        Runtime::RustInstrumented => {
            context.call_span_ids = rust.run_invocation(context, index, sink, spans)?;
        }
        runtime => {
            for line in &context.lines {
                let (message, carries) = format_app_line(context, runtime, line);
                sink.push(
                    line.at_ns,
                    stream,
                    Some(index),
                    EventKind::AppLog,
                    carries,
                    message,
                );
            }
        }
    }

    let request_only = Carries {
        request_id: true,
        ..Carries::default()
    };
    match invocation.outcome {
        Outcome::Timeout if service.log_format == LogFormat::Text => {
            let mut line = String::with_capacity(96);
            clock::rfc3339_millis(&mut line, end);
            let _ = write!(
                line,
                " {} Task timed out after {:.2} seconds\n\n",
                context.request_id,
                service.timeout_ms as f64 / 1000.0
            );
            sink.push(
                end,
                stream,
                Some(index),
                EventKind::PlatformFailure,
                request_only,
                line,
            );
        }
        Outcome::Crash if service.log_format == LogFormat::Text => {
            let line = format!(
                "RequestId: {} Error: Runtime exited with error: signal: killed\nRuntime.ExitError\n",
                context.request_id
            );
            sink.push(
                end,
                stream,
                Some(index),
                EventKind::PlatformFailure,
                request_only,
                line,
            );
        }
        _ => {}
    }
    let end_line = platform_end(context);
    sink.push(
        end,
        stream,
        Some(index),
        EventKind::PlatformEnd,
        request_only,
        end_line,
    );
    let report_at = end + NANOS_PER_MILLI;
    let (report, report_carries) = platform_report(context, report_at, rng);
    sink.push(
        report_at,
        stream,
        Some(index),
        EventKind::PlatformReport,
        report_carries,
        report,
    );
    Ok(())
}

fn init_log_line(runtime: Runtime, at_ns: u64) -> Option<String> {
    let mut line = String::with_capacity(96);
    match runtime {
        Runtime::PythonText => {
            line.push_str("[INFO]\t");
            clock::rfc3339_millis(&mut line, at_ns);
            line.push_str("\t\tFound credentials in environment variables.\n");
        }
        Runtime::PlainText => {
            go_log_time(&mut line, at_ns);
            line.push_str(" loading configuration from /var/task/config.json\n");
        }
        Runtime::NodeText => {
            clock::rfc3339_millis(&mut line, at_ns);
            line.push_str("\tundefined\tINFO\tconnection pool ready (size 8)\n");
        }
        _ => return None,
    }
    Some(line)
}

fn go_log_time(out: &mut String, at_ns: u64) {
    let t = clock::CivilTime::from_epoch_nanos(at_ns);
    let _ = write!(
        out,
        "{:04}/{:02}/{:02} {:02}:{:02}:{:02}",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    );
}

fn runtime_arn(context: &InvocationContext<'_>) -> String {
    // A stable fake digest per runtime and region.
    let version = context.service.runtime.runtime_version();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in version.bytes().chain(context.fleet.region.bytes()) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    format!(
        "arn:aws:lambda:{}::runtime:{:016x}{:016x}{:016x}{:016x}",
        context.fleet.region,
        hash,
        hash.rotate_left(16),
        hash.rotate_left(32),
        hash.rotate_left(48)
    )
}

fn platform_init(context: &InvocationContext<'_>, at_ns: u64, _rng: &mut SimRng) -> String {
    let version = context.service.runtime.runtime_version();
    let arn = runtime_arn(context);
    match context.service.log_format {
        LogFormat::Text => {
            format!("INIT_START Runtime Version: {version}\tRuntime Version ARN: {arn}\n")
        }
        LogFormat::Json => {
            let mut line = String::with_capacity(320);
            line.push_str("{\"time\":\"");
            clock::rfc3339_millis(&mut line, at_ns);
            let _ = write!(
                line,
                "\",\"type\":\"platform.initStart\",\"record\":{{\"initializationType\":\"on-demand\",\"phase\":\"init\",\"runtimeVersion\":\"{version}\",\"runtimeVersionArn\":\"{arn}\",\"functionName\":\"{}\",\"functionVersion\":\"$LATEST\"}}}}",
                context.service.function_name
            );
            line
        }
    }
}

fn xray_header(context: &InvocationContext<'_>) -> String {
    format!(
        "Root={};Parent={:016x};Sampled=1",
        xray_text(context.trace_id),
        context.span_id
    )
}

fn platform_start(context: &InvocationContext<'_>, at_ns: u64) -> (String, Carries) {
    let mut carries = Carries {
        request_id: true,
        ..Carries::default()
    };
    match context.service.log_format {
        LogFormat::Text => (
            format!("START RequestId: {} Version: $LATEST\n", context.request_id),
            carries,
        ),
        LogFormat::Json => {
            let mut line = String::with_capacity(256);
            line.push_str("{\"time\":\"");
            clock::rfc3339_millis(&mut line, at_ns);
            let _ = write!(
                line,
                "\",\"type\":\"platform.start\",\"record\":{{\"requestId\":\"{}\",\"version\":\"$LATEST\"",
                context.request_id
            );
            if context.service.xray_active {
                carries.trace_evidence = true;
                let _ = write!(
                    line,
                    ",\"tracing\":{{\"spanId\":\"{:016x}\",\"type\":\"X-Amzn-Trace-Id\",\"value\":\"{}\"}}",
                    context.span_id,
                    xray_header(context)
                );
            }
            line.push_str("}}");
            (line, carries)
        }
    }
}

fn platform_end(context: &InvocationContext<'_>) -> String {
    match context.service.log_format {
        LogFormat::Text => format!("END RequestId: {}\n", context.request_id),
        LogFormat::Json => {
            let invocation = context.invocation;
            let status = match invocation.outcome {
                Outcome::Success => "success",
                Outcome::Error => "error",
                Outcome::Timeout => "timeout",
                Outcome::Crash => "failure",
            };
            let mut line = String::with_capacity(256);
            line.push_str("{\"time\":\"");
            clock::rfc3339_millis(&mut line, invocation.end_ns());
            let _ = write!(
                line,
                "\",\"type\":\"platform.runtimeDone\",\"record\":{{\"requestId\":\"{}\",\"status\":\"{status}\",\"metrics\":{{\"durationMs\":{:.3},\"producedBytes\":{}}}}}}}",
                context.request_id,
                invocation.duration_ns as f64 / NANOS_PER_MILLI as f64,
                if status == "success" { 64 } else { 0 }
            );
            line
        }
    }
}

fn platform_report(
    context: &InvocationContext<'_>,
    at_ns: u64,
    rng: &mut SimRng,
) -> (String, Carries) {
    let invocation = context.invocation;
    let service = context.service;
    let duration_ms = invocation.duration_ns as f64 / NANOS_PER_MILLI as f64;
    let billed_ms = invocation.duration_ns.div_ceil(NANOS_PER_MILLI).max(1);
    let max_used = if invocation.outcome == Outcome::Crash {
        service.memory_mb
    } else {
        (40 + rng.below(u64::from(service.memory_mb) / 2) as u32).min(service.memory_mb)
    };
    let init_ms = invocation
        .init_ns
        .map(|ns| ns as f64 / NANOS_PER_MILLI as f64);
    let mut carries = Carries {
        request_id: true,
        ..Carries::default()
    };
    let mut line = String::with_capacity(300);
    match service.log_format {
        LogFormat::Text => {
            let _ = write!(
                line,
                "REPORT RequestId: {}\tDuration: {duration_ms:.2} ms\tBilled Duration: {billed_ms} ms\tMemory Size: {} MB\tMax Memory Used: {max_used} MB\t",
                context.request_id, service.memory_mb
            );
            if let Some(init_ms) = init_ms {
                let _ = write!(line, "Init Duration: {init_ms:.2} ms\t");
            }
            match invocation.outcome {
                Outcome::Timeout => line.push_str("Status: timeout"),
                Outcome::Crash => line.push_str("Status: error\tError Type: Runtime.ExitError"),
                Outcome::Success | Outcome::Error => {}
            }
            line.push('\n');
            if service.xray_active {
                carries.trace_evidence = true;
                let _ = writeln!(
                    line,
                    "XRAY TraceId: {}\tSegmentId: {:016x}\tSampled: true\t",
                    xray_text(context.trace_id),
                    context.span_id
                );
            }
        }
        LogFormat::Json => {
            line.push_str("{\"time\":\"");
            clock::rfc3339_millis(&mut line, at_ns);
            let _ = write!(
                line,
                "\",\"type\":\"platform.report\",\"record\":{{\"requestId\":\"{}\",\"metrics\":{{\"durationMs\":{duration_ms:.3},\"billedDurationMs\":{billed_ms},\"memorySizeMB\":{},\"maxMemoryUsedMB\":{max_used}",
                context.request_id, service.memory_mb
            );
            if let Some(init_ms) = init_ms {
                let _ = write!(line, ",\"initDurationMs\":{init_ms:.3}");
            }
            line.push('}');
            if service.xray_active {
                carries.trace_evidence = true;
                let _ = write!(
                    line,
                    ",\"tracing\":{{\"spanId\":\"{:016x}\",\"type\":\"X-Amzn-Trace-Id\",\"value\":\"{}\"}}",
                    context.span_id,
                    xray_header(context)
                );
            }
            let status = match invocation.outcome {
                Outcome::Success | Outcome::Error => "success",
                Outcome::Timeout => "timeout",
                Outcome::Crash => "error",
            };
            let _ = write!(line, ",\"status\":\"{status}\"");
            if invocation.outcome == Outcome::Crash {
                line.push_str(",\"errorType\":\"Runtime.ExitError\"");
            }
            line.push_str("}}");
        }
    }
    (line, carries)
}

fn json_string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

fn format_app_line(
    context: &InvocationContext<'_>,
    runtime: Runtime,
    line: &AppLine,
) -> (String, Carries) {
    let mut carries = Carries {
        request_id: true,
        ..Carries::default()
    };
    let mut out = String::with_capacity(160);
    let request_id = &context.request_id;
    match runtime {
        Runtime::NodeText => {
            clock::rfc3339_millis(&mut out, line.at_ns);
            if line.level == "ERROR" {
                let _ = writeln!(
                    out,
                    "\t{request_id}\tERROR\tInvoke Error \t{{\"errorType\":\"Error\",\"errorMessage\":{msg},\"stack\":[\"Error: {plain}\",\"    at Runtime.handler (/var/task/index.js:42:11)\"]}}",
                    msg = json_string(&line.message),
                    plain = line.message.replace('"', "'"),
                );
            } else if line.message.starts_with("handling ") {
                // console.log of an object: Node joins the lines with \r.
                let _ = writeln!(
                    out,
                    "\t{request_id}\t{}\t{}\r{{\r  \"source\": \"{}\"\r}}",
                    line.level, line.message, context.entry_name
                );
            } else {
                let _ = writeln!(out, "\t{request_id}\t{}\t{}", line.level, line.message);
            }
        }
        Runtime::NodeJson => {
            out.push_str("{\"timestamp\":\"");
            clock::rfc3339_millis(&mut out, line.at_ns);
            let _ = write!(
                out,
                "\",\"level\":\"{}\",\"requestId\":\"{request_id}\",\"message\":{}",
                line.level,
                json_string(&line.message)
            );
            if line.level == "ERROR" {
                out.push_str(",\"errorType\":\"Error\",\"stackTrace\":[\"at Runtime.handler (/var/task/index.mjs:42:11)\"]");
            }
            out.push('}');
        }
        Runtime::PythonText => {
            let level = python_level(line.level);
            let _ = write!(out, "[{level}]\t");
            clock::rfc3339_millis(&mut out, line.at_ns);
            let _ = writeln!(out, "\t{request_id}\t{}", line.message);
        }
        Runtime::PythonJson => {
            out.push_str("{\"timestamp\": \"");
            clock::rfc3339_seconds(&mut out, line.at_ns);
            let _ = write!(
                out,
                "\", \"level\": \"{}\", \"message\": {}, \"logger\": \"root\", \"requestId\": \"{request_id}\"}}",
                python_level(line.level),
                json_string(&line.message)
            );
        }
        Runtime::Powertools => {
            let service = context.service;
            let mut timestamp = String::with_capacity(32);
            clock::powertools_python(&mut timestamp, line.at_ns);
            let _ = write!(
                out,
                "{{\"level\":\"{}\",\"location\":\"handler:{}\",\"message\":{},\"timestamp\":\"{timestamp}\",\"service\":\"{}\",\"cold_start\":{},\"function_name\":\"{}\",\"function_memory_size\":{},\"function_arn\":\"{}\",\"function_request_id\":\"{request_id}\"",
                python_level(line.level),
                20 + line.message.len() % 60,
                json_string(&line.message),
                service.name,
                context.invocation.init_ns.is_some(),
                service.function_name,
                service.memory_mb,
                context.fleet.function_arn(service),
            );
            if service.xray_active {
                carries.own_trace = true;
                let _ = write!(
                    out,
                    ",\"xray_trace_id\":\"{}\"",
                    xray_text(context.trace_id)
                );
            }
            if line.level == "ERROR" {
                out.push_str(",\"exception_name\":\"KeyError\",\"exception\":\"Traceback (most recent call last):\\n  File \\\"/var/task/app.py\\\", line 31, in handler\\nKeyError: 'id'\"");
            }
            out.push('}');
        }
        Runtime::PlainText | Runtime::RustInstrumented => {
            carries.request_id = false;
            go_log_time(&mut out, line.at_ns);
            let _ = writeln!(
                out,
                " {}: {}",
                line.level.to_ascii_lowercase(),
                line.message
            );
        }
    }
    (out, carries)
}

fn python_level(level: &str) -> &str {
    match level {
        "WARN" => "WARNING",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_look_like_uuid_v4() {
        let text = request_id_text(u128::MAX);
        assert_eq!(text.len(), 36);
        assert_eq!(&text[14..15], "4");
        assert!(matches!(&text[19..20], "8" | "9" | "a" | "b"), "{text}");
        assert_eq!(text.matches('-').count(), 4);
        assert_ne!(request_id_text(1), request_id_text(2));
    }
}
