//! Rendering: every invocation becomes the CloudWatch log events its function
//! would write, in its runtime's real line format, plus the Lambda platform
//! lines in the function's log format.
//!
//! The formats follow the samples in `../shared/fixtures/cloudwatch/`. Each
//! event also records what a reader could link it by (its own trace id, a
//! request id, or trace evidence for its invocation), which the ground truth
//! uses to tell linkable lines from lines that carry nothing to link by.
//!
//! One module per format: [`node`], [`python`], [`powertools`], [`plain`] and
//! [`rust`] (real handlers run through tracelake-instrumentation) for the
//! application lines, [`platform`] for the Lambda platform's. They all read an
//! invocation's [`context`] and write [`crate::event`]s; none imports this
//! module.

pub mod context;
pub mod node;
pub mod plain;
pub mod platform;
pub mod powertools;
pub mod python;
pub mod rust;

pub use crate::event::{Carries, EventKind, EventSink, RawEvent, TruthSpan};
pub use context::{AppLine, InvocationContext, request_id_text, xray_text};

use crate::clock::NANOS_PER_MILLI;
use crate::fleet::{EdgeKind, Fleet, Runtime, Service};
use crate::render::rust::{InstrumentedError, RustServices};
use crate::rng::SimRng;
use crate::streams::LogStream;
use crate::traffic::{Invocation, Outcome, Traffic, Trigger};

/// Renders all traffic into per-stream events and the spans written.
pub struct Rendered {
    /// Every event, in writing order.
    pub events: Vec<RawEvent>,
    /// Every span written to a span line.
    pub spans: Vec<TruthSpan>,
}

/// Renders every invocation of `traffic`, callers before callees. Rust
/// services run through tracelake-instrumentation; each of their execution
/// environments gets its own id seed, drawn from `id_seeds`.
///
/// # Errors
///
/// [`InstrumentedError::Telemetry`] when a Rust service's telemetry rejects its
/// configuration; nothing is rendered then.
pub fn render(
    fleet: &Fleet,
    traffic: &Traffic,
    streams: &[LogStream],
    rng: &mut SimRng,
    id_seeds: SimRng,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Rendered, InstrumentedError> {
    let mut rust = RustServices::new(streams.len(), id_seeds);
    let mut last_use = vec![0usize; streams.len()];
    for (index, invocation) in traffic.invocations.iter().enumerate() {
        last_use[invocation.stream] = index;
    }
    let mut sink = EventSink::new();
    sink.reserve(traffic.invocations.len() * 10);
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
        events: sink.into_events(),
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
        let message = platform::platform_init(context, init_at);
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
    let (start_line, start_carries) = platform::platform_start(context, start);
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
                let (message, carries) = app_line(context, runtime, line);
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
    if let Some(line) = platform::failure(context) {
        sink.push(
            end,
            stream,
            Some(index),
            EventKind::PlatformFailure,
            request_only,
            line,
        );
    }
    let end_line = platform::platform_end(context);
    sink.push(
        end,
        stream,
        Some(index),
        EventKind::PlatformEnd,
        request_only,
        end_line,
    );
    let report_at = end + NANOS_PER_MILLI;
    let (report, report_carries) = platform::platform_report(context, report_at, rng);
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

/// One application line in `runtime`'s format, and what it carries.
fn app_line(
    context: &InvocationContext<'_>,
    runtime: Runtime,
    line: &AppLine,
) -> (String, Carries) {
    let mut carries = Carries {
        request_id: true,
        ..Carries::default()
    };
    let mut out = String::with_capacity(160);
    let write = match runtime {
        Runtime::NodeText => node::text_line,
        Runtime::NodeJson => node::json_line,
        Runtime::PythonText => python::text_line,
        Runtime::PythonJson => python::json_line,
        Runtime::Powertools => powertools::line,
        Runtime::PlainText | Runtime::RustInstrumented => plain::line,
    };
    write(context, line, &mut out, &mut carries);
    (out, carries)
}

/// The line a runtime writes while its environment initialises, if any.
fn init_log_line(runtime: Runtime, at_ns: u64) -> Option<String> {
    let write = match runtime {
        Runtime::PythonText => python::init_line,
        Runtime::PlainText => plain::init_line,
        Runtime::NodeText => node::init_line,
        _ => return None,
    };
    let mut line = String::with_capacity(96);
    write(&mut line, at_ns);
    Some(line)
}
