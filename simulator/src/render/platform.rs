//! The Lambda platform's lines (`INIT_START`, `START`, `END`, `REPORT`, the
//! timeout and crash lines) in the function's log format: text, or the JSON
//! `platform.*` records.

use std::fmt::Write as _;

use crate::clock::{self, NANOS_PER_MILLI};
use crate::event::Carries;
use crate::fleet::LogFormat;
use crate::render::context::{InvocationContext, xray_text};
use crate::rng::SimRng;
use crate::traffic::Outcome;

/// A stable fake runtime version ARN per runtime and region.
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

/// `INIT_START` or `platform.initStart`: an execution environment's init.
pub fn platform_init(context: &InvocationContext<'_>, at_ns: u64) -> String {
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

/// `START` or `platform.start`, and what it carries.
pub fn platform_start(context: &InvocationContext<'_>, at_ns: u64) -> (String, Carries) {
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

/// `END` or `platform.runtimeDone`.
pub fn platform_end(context: &InvocationContext<'_>) -> String {
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

/// `REPORT` or `platform.report`, and what it carries.
pub fn platform_report(
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

/// The platform's own line for a timed-out or crashed invocation of a function
/// that logs text (`Task timed out after …`, `Runtime exited with error`); the
/// JSON format reports both in `platform.report` only.
pub fn failure(context: &InvocationContext<'_>) -> Option<String> {
    let service = context.service;
    let end = context.invocation.end_ns();
    match context.invocation.outcome {
        Outcome::Timeout if service.log_format == LogFormat::Text => {
            let mut line = String::with_capacity(96);
            clock::rfc3339_millis(&mut line, end);
            let _ = write!(
                line,
                " {} Task timed out after {:.2} seconds\n\n",
                context.request_id,
                service.timeout_ms as f64 / 1000.0
            );
            Some(line)
        }
        Outcome::Crash if service.log_format == LogFormat::Text => Some(format!(
            "RequestId: {} Error: Runtime exited with error: signal: killed\nRuntime.ExitError\n",
            context.request_id
        )),
        _ => None,
    }
}
