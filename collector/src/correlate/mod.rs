//! Correlate: link every log line of a batch to its trace, and build the rows.
//!
//! A line is linked, in order (DESIGN.md "Correlation"):
//! 1. by its own trace id ([`Link::TraceId`]);
//! 2. by its request id → the trace of that invocation ([`Link::RequestId`]), as
//!    named by our invocation span (`faas.invocation_id`), our log lines, the
//!    `aws.request_id` of a caller's Lambda `Invoke` CLIENT span, a
//!    `REPORT … XRAY TraceId`, `platform.start`'s tracing header or Powertools'
//!    `xray_trace_id`;
//! 3. by its log stream and position → the invocation running on that stream
//!    then ([`Link::Stream`]).
//!
//! A wrong link is worse than a missing one, so every rule stands down when the
//! batch contradicts itself: a request id named with two traces by sources of
//! equal weight links nothing, and a stream that shows two invocations running
//! at once (concurrent runtimes) links nothing by position.
//!
//! Position means delivery order, not timestamps: within one log stream
//! CloudWatch keeps the order lines were written in, while millisecond
//! timestamps tie at invocation boundaries.

mod spans;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tracelake_instrumentation::wire::ids::TraceId;

use crate::decode::LogEvent;
use crate::index::rows::{InvocationRow, LogRow, SharedNames, SpanRow};
use crate::parse::{self, InvocationStatus, InvokeError, ParsedBatch, ParsedLog, PlatformRecord};

pub use crate::index::rows::Link;

pub use crate::decode::QuarantinedEvent;

/// The rows one batch produces.
#[derive(Debug, Default)]
pub struct CorrelatedBatch {
    /// Span rows, one per span of the batch's span lines.
    pub spans: Vec<SpanRow>,
    /// Log rows, one per log or platform line, with its trace link.
    pub logs: Vec<LogRow>,
    /// Invocation rows, one per `REPORT` (or `platform.report`).
    pub invocations: Vec<InvocationRow>,
    /// Events that did not become rows, each with its reason.
    pub quarantined: Vec<QuarantinedEvent>,
    /// Events that became at least one row.
    pub events_indexed: u64,
}

/// How much a source of a request → trace mapping is trusted. Our own spans and
/// lines name the trace the invocation really ran in; the Lambda's X-Ray context
/// is only linked to it when a W3C parent arrived (docs/instrumentation.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Weight {
    Platform = 1,
    /// A Lambda `Invoke` CLIENT span names its callee's request id: the
    /// callee ran in the caller's trace. Below the callee's own spans and
    /// lines, which name the trace it really ran in.
    Invoker = 2,
    Instrumented = 3,
}

#[derive(Debug, Clone, Copy)]
enum RequestTrace {
    Known(TraceId, Weight),
    Conflict(Weight),
}

#[derive(Default)]
struct RequestTraces(HashMap<String, RequestTrace>);

impl RequestTraces {
    fn add(&mut self, request_id: &str, trace_id: TraceId, weight: Weight) {
        // The id is copied only for a request not seen before: most lines of
        // an invocation name the same one.
        let Some(slot) = self.0.get_mut(request_id) else {
            let first = RequestTrace::Known(trace_id, weight);
            self.0.insert(request_id.to_owned(), first);
            return;
        };
        *slot = match *slot {
            RequestTrace::Known(known, known_weight) => {
                if weight > known_weight {
                    RequestTrace::Known(trace_id, weight)
                } else if weight < known_weight || known == trace_id {
                    RequestTrace::Known(known, known_weight)
                } else {
                    RequestTrace::Conflict(weight)
                }
            }
            RequestTrace::Conflict(conflict_weight) if weight > conflict_weight => {
                RequestTrace::Known(trace_id, weight)
            }
            conflict @ RequestTrace::Conflict(_) => conflict,
        };
    }

    fn get(&self, request_id: &str) -> Option<TraceId> {
        match self.0.get(request_id)? {
            RequestTrace::Known(trace_id, _) => Some(*trace_id),
            RequestTrace::Conflict(_) => None,
        }
    }
}

/// The Lambda function a log group belongs to: `/aws/lambda/<name>` → `<name>`.
pub fn function_of_log_group(log_group: &str) -> &str {
    log_group.strip_prefix("/aws/lambda/").unwrap_or(log_group)
}

/// The function version in a Lambda log stream name: `2026/11/29/[$LATEST]abc…` → `$LATEST`.
pub fn version_of_log_stream(log_stream: &str) -> Option<&str> {
    let start = log_stream.find('[')? + 1;
    let end = start + log_stream[start..].find(']')?;
    Some(&log_stream[start..end]).filter(|version| !version.is_empty())
}

/// Links every parsed event of a batch to its trace, and builds its rows.
/// Takes the parse stage's output ([`parse::parse_batch`]); never parses.
pub fn link(batch: ParsedBatch) -> CorrelatedBatch {
    let ParsedBatch {
        log_group,
        log_stream,
        spans,
        logs: parsed,
        quarantined,
        span_events,
    } = batch;
    let mut out = CorrelatedBatch {
        spans: spans.into_iter().map(spans::span_row).collect(),
        quarantined,
        events_indexed: span_events,
        ..CorrelatedBatch::default()
    };

    // Who ran in which trace, from every source in the batch.
    let mut request_traces = RequestTraces::default();
    let mut request_services: HashMap<String, Arc<str>> = HashMap::new();
    for span in &out.spans {
        if let Some(callee) = span.invoked_request_id() {
            request_traces.add(callee, span.trace_id, Weight::Invoker);
        }
        if let Some(request_id) = &span.request_id {
            request_traces.add(request_id, span.trace_id, Weight::Instrumented);
            if !request_services.contains_key(request_id) {
                let service = Arc::from(span.service.as_str());
                request_services.insert(request_id.clone(), service);
            }
        }
    }
    for (_, log) in &parsed {
        let Some(request_id) = &log.request_id else {
            continue;
        };
        match (&log.platform, log.trace_id) {
            (Some(PlatformRecord::Report(report)), _) => {
                if let Some(trace_id) = report.trace_id {
                    request_traces.add(request_id, trace_id, Weight::Platform);
                }
            }
            (
                Some(PlatformRecord::Start {
                    trace_id: Some(trace_id),
                    ..
                }),
                _,
            ) => request_traces.add(request_id, *trace_id, Weight::Platform),
            (None, Some(trace_id)) => {
                // Our lines and OpenTelemetry's log fields name the trace the code
                // really ran in; an X-Ray field names Lambda's own context.
                let weight = match log.format {
                    Some(parse::LineFormat::Tracelake) => Weight::Instrumented,
                    _ if !log.trace_from_xray => Weight::Instrumented,
                    _ => Weight::Platform,
                };
                request_traces.add(request_id, trace_id, weight);
            }
            _ => {}
        }
    }

    let running: Vec<Option<String>> = requests_running_by_position(&parsed)
        .into_iter()
        .map(|request| request.map(str::to_owned))
        .collect();
    // Every row of the batch shares these (rows.rs): one allocation each.
    let log_group: Arc<str> = Arc::from(log_group);
    let log_stream: Arc<str> = Arc::from(log_stream);
    let function: Arc<str> = Arc::from(function_of_log_group(&log_group));
    let stream_version = version_of_log_stream(&log_stream).map(str::to_owned);

    // Invocation facts gathered from START, timeouts and runtime exits.
    let mut starts: HashMap<&str, (i64, Option<&str>)> = HashMap::new();
    let mut failures: HashMap<&str, (InvocationStatus, Option<&str>)> = HashMap::new();
    // The runtime's reports of handler errors, and the requests whose
    // `platform.runtimeDone` said `success` (which overrules a report that
    // could be a handled error logged the same way).
    let mut runtime_errors: Vec<(&str, &InvokeError)> = Vec::new();
    let mut runtime_done_success: HashSet<&str> = HashSet::new();
    for (index, (event, log)) in parsed.iter().enumerate() {
        match &log.platform {
            Some(PlatformRecord::Start {
                request_id,
                version,
                ..
            }) => {
                starts.insert(request_id, (event.timestamp_ns(), version.as_deref()));
            }
            Some(PlatformRecord::Timeout { request_id }) => {
                failures.insert(request_id, (InvocationStatus::Timeout, None));
            }
            Some(PlatformRecord::RuntimeExit { request_id, error }) => {
                failures
                    .entry(request_id)
                    .or_insert((InvocationStatus::Error, Some(error.as_str())));
            }
            Some(PlatformRecord::End {
                request_id,
                status: Some(InvocationStatus::Success),
                ..
            }) => {
                runtime_done_success.insert(request_id);
            }
            Some(PlatformRecord::End {
                request_id,
                status: Some(status),
                error_type,
            }) => {
                failures
                    .entry(request_id)
                    .or_insert((*status, error_type.as_deref()));
            }
            _ => {}
        }
        // The runtime's own report (a REPORT says nothing of a handler's
        // error): of the request it names, else (Python's text crash record
        // names none) of the request running on the stream.
        if let Some(error) = &log.invoke_error
            && let Some(request_id) = log.request_id.as_deref().or(running[index].as_deref())
        {
            runtime_errors.push((request_id, error));
        }
    }
    for (request_id, error) in runtime_errors {
        if error.could_be_handled && runtime_done_success.contains(request_id) {
            continue;
        }
        // A failed runtimeDone or a runtime exit seen first may name no type.
        let failure = failures
            .entry(request_id)
            .or_insert((InvocationStatus::Error, None));
        if failure.0 == InvocationStatus::Error && failure.1.is_none() {
            failure.1 = error.error_type.as_deref();
        }
    }

    for (event, log) in &parsed {
        if let Some(PlatformRecord::Report(report)) = &log.platform {
            let (start_time_ns, start_version) = starts
                .get(report.request_id.as_str())
                .map_or((None, None), |(time, version)| (Some(*time), *version));
            let mut status = report.status;
            let mut error_type = report.error_type.clone();
            if let Some((failure, failure_error)) = failures.get(report.request_id.as_str()) {
                if status == InvocationStatus::Success || *failure == InvocationStatus::Timeout {
                    status = *failure;
                }
                if error_type.is_none() {
                    error_type = failure_error.map(str::to_owned);
                }
            }
            out.invocations.push(InvocationRow {
                request_id: report.request_id.clone(),
                function: function.to_string(),
                function_version: start_version
                    .map(str::to_owned)
                    .or_else(|| stream_version.clone()),
                log_group: log_group.clone(),
                log_stream: log_stream.clone(),
                start_time_ns,
                end_time_ns: event.timestamp_ns(),
                duration_ms: report.duration_ms,
                billed_duration_ms: report.billed_duration_ms,
                memory_size_mb: report.memory_size_mb,
                max_memory_used_mb: report.max_memory_used_mb,
                init_duration_ms: report.init_duration_ms,
                cold_start: report.init_duration_ms.is_some(),
                status,
                error_type,
                trace_id: request_traces.get(&report.request_id).or(report.trace_id),
                sampled: report.sampled,
            });
        }
    }

    // Rows take the parsed lines by value: no message is copied twice.
    out.logs.reserve_exact(parsed.len());
    let mut named_services = SharedNames::default();
    for ((event, log), running) in parsed.into_iter().zip(running) {
        let (trace_id, link) = if let Some(trace_id) = log.trace_id {
            (Some(trace_id), Some(Link::TraceId))
        } else if let Some(request_id) = &log.request_id {
            match request_traces.get(request_id) {
                Some(trace_id) => (Some(trace_id), Some(Link::RequestId)),
                None => (None, None),
            }
        } else if let Some(request_id) = running.as_deref() {
            match request_traces.get(request_id) {
                Some(trace_id) => (Some(trace_id), Some(Link::Stream)),
                None => (None, None),
            }
        } else {
            (None, None)
        };
        let service = match log.service {
            Some(named) => named_services.share(&named),
            None => log
                .request_id
                .as_deref()
                .or(running.as_deref())
                .and_then(|request_id| request_services.get(request_id).cloned())
                .unwrap_or_else(|| function.clone()),
        };
        out.logs.push(LogRow {
            timestamp_ns: parse::time::row_timestamp_ns(log.time, event.timestamp_ms),
            trace_id,
            span_id: log.span_id,
            request_id: log.request_id,
            service: Some(service),
            level: log.level,
            message: log.message,
            attributes: log.attributes,
            log_group: log_group.clone(),
            log_stream: log_stream.clone(),
            event_id: event.id,
            format: log
                .format
                .unwrap_or(parse::LineFormat::Plain)
                .as_str()
                .into(),
            link,
        });
        out.events_indexed += 1;
    }

    for span in &mut out.spans {
        span.log_group.clone_from(&log_group);
        span.log_stream.clone_from(&log_stream);
    }
    out
}

/// For each line without a request id or trace id of its own, the request that
/// was running on the stream when it was written, if exactly one was.
///
/// A request runs from its START to its END or REPORT. Lines before the first
/// platform line of the batch belong to the request that line ends, when it ends
/// one whose START came in an earlier batch. Two requests running at once, or a
/// line naming another request while one runs, mean a concurrent runtime: then
/// no line of the batch is linked by position. A line naming a request whose
/// END or REPORT came earlier in the batch is late output of that request (Node
/// work left running after the handler returned), not a concurrent one.
fn requests_running_by_position(parsed: &[(LogEvent, ParsedLog)]) -> Vec<Option<&str>> {
    let mut running: Vec<Option<&str>> = vec![None; parsed.len()];
    let leading = parsed.iter().find_map(|(_, log)| match &log.platform {
        Some(PlatformRecord::Start { .. }) => Some(None),
        Some(PlatformRecord::End { request_id, .. }) => Some(Some(request_id.as_str())),
        Some(PlatformRecord::Report(report)) => Some(Some(report.request_id.as_str())),
        _ => None,
    });
    let mut current: Option<&str> = leading.flatten();
    let mut ended: Vec<&str> = Vec::new();
    for (index, (_, log)) in parsed.iter().enumerate() {
        match &log.platform {
            Some(PlatformRecord::Start { request_id, .. }) => {
                if current.is_some_and(|running| running != request_id) {
                    return vec![None; parsed.len()];
                }
                current = Some(request_id);
            }
            Some(PlatformRecord::End { request_id, .. }) => {
                if current.is_some_and(|running| running != request_id) {
                    return vec![None; parsed.len()];
                }
                ended.push(request_id);
                current = None;
            }
            Some(PlatformRecord::Report(report)) => {
                ended.push(report.request_id.as_str());
                current = None;
            }
            _ => {
                if let (Some(own), Some(running)) = (log.request_id.as_deref(), current)
                    && own != running
                    && !ended.contains(&own)
                {
                    return vec![None; parsed.len()];
                }
                if log.request_id.is_none() && log.trace_id.is_none() {
                    running[index] = current;
                }
            }
        }
    }
    running
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{DecodeLimits, LogBatch};
    use crate::pipeline::parse_and_correlate as correlate;

    fn event(id: u32, message: &str) -> LogEvent {
        LogEvent {
            id: id.to_string(),
            timestamp_ms: 1_700_000_000_000 + i64::from(id),
            message: message.to_owned(),
        }
    }

    fn batch(messages: &[&str]) -> LogBatch {
        LogBatch {
            owner: "123456789012".into(),
            log_group: "/aws/lambda/checkout".into(),
            log_stream: "2026/11/29/[$LATEST]abc".into(),
            events: messages
                .iter()
                .enumerate()
                .map(|(i, m)| event(i as u32, m))
                .collect(),
            ..LogBatch::default()
        }
    }

    const R1: &str = "11111111-1111-4111-8111-111111111111";
    const R2: &str = "22222222-2222-4222-8222-222222222222";

    #[test]
    fn stream_links_stand_down_under_concurrency() {
        let lines = [
            format!("START RequestId: {R1} Version: $LATEST"),
            format!("START RequestId: {R2} Version: $LATEST"),
            "plain line".to_owned(),
            format!(
                "REPORT RequestId: {R1}\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 50 MB\t\nXRAY TraceId: 1-5e61292c-cc1229a4dfbeae1043928548\tSegmentId: 07a85e713f6302b2\tSampled: true"
            ),
        ];
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let out = correlate(batch(&refs), &DecodeLimits::default());
        let plain = out.logs.iter().find(|l| l.message == "plain line").unwrap();
        assert_eq!(plain.trace_id, None);
    }

    #[test]
    fn a_late_line_of_an_ended_request_keeps_position_links() {
        // Node: a promise of R1 logs after R1's END, while R2 runs.
        let report = |request: &str, xray: &str| {
            format!(
                "REPORT RequestId: {request}\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 50 MB\t\nXRAY TraceId: 1-{xray}\tSegmentId: 07a85e713f6302b2\tSampled: true"
            )
        };
        let lines = [
            format!("START RequestId: {R1} Version: $LATEST"),
            "plain in r1".to_owned(),
            format!("END RequestId: {R1}"),
            report(R1, "5e61292c-cc1229a4dfbeae1043928548"),
            format!("START RequestId: {R2} Version: $LATEST"),
            format!("2026-11-29T10:00:00.105Z\t{R1}\tINFO\tlate r1 line"),
            "plain in r2".to_owned(),
            format!("END RequestId: {R2}"),
            report(R2, "5d83c0ad-b8eb33a0b1de97d804fac890"),
        ];
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let out = correlate(batch(&refs), &DecodeLimits::default());
        let trace_of = |message: &str| {
            let line = out.logs.iter().find(|l| l.message == message).unwrap();
            line.trace_id.map(|id| id.to_string())
        };
        assert_eq!(
            trace_of("plain in r1").as_deref(),
            Some("5e61292ccc1229a4dfbeae1043928548")
        );
        assert_eq!(
            trace_of("late r1 line").as_deref(),
            Some("5e61292ccc1229a4dfbeae1043928548")
        );
        assert_eq!(
            trace_of("plain in r2").as_deref(),
            Some("5d83c0adb8eb33a0b1de97d804fac890")
        );
    }

    #[test]
    fn an_invoke_span_in_the_batch_links_the_callees_lines() {
        // A function that invokes itself: the Invoke CLIENT span and the
        // callee's (uninstrumented, no X-Ray) lines in one batch.
        let trace = "6745aaaa0123456789abcdef01234567";
        let call = opentelemetry_proto::tonic::trace::v1::Span {
            trace_id: TraceId::parse(trace).unwrap().0.to_be_bytes().to_vec(),
            span_id: 0x1111_2222_3333_4444_u64.to_be_bytes().to_vec(),
            name: "Lambda.Invoke".into(),
            kind: 3,
            start_time_unix_nano: 1_700_000_000_000_000_000,
            end_time_unix_nano: 1_700_000_000_010_000_000,
            attributes: [
                ("rpc.system", "aws-api"),
                ("rpc.service", "Lambda"),
                ("rpc.method", "Invoke"),
                ("aws.request_id", R2),
            ]
            .into_iter()
            .map(
                |(key, value)| opentelemetry_proto::tonic::common::v1::KeyValue {
                    key: key.into(),
                    value: Some(opentelemetry_proto::tonic::common::v1::AnyValue {
                        value: Some(
                            opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(
                                value.into(),
                            ),
                        ),
                    }),
                    ..Default::default()
                },
            )
            .collect(),
            ..Default::default()
        };
        let data = opentelemetry_proto::tonic::trace::v1::TracesData {
            resource_spans: vec![opentelemetry_proto::tonic::trace::v1::ResourceSpans {
                scope_spans: vec![opentelemetry_proto::tonic::trace::v1::ScopeSpans {
                    spans: vec![call],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let span_line = tracelake_instrumentation::wire::span_line::encode_json_line(&data);
        let lines = [
            span_line,
            format!("START RequestId: {R2} Version: $LATEST"),
            format!("2026-11-29T10:00:00.105Z\t{R2}\tINFO\treserving"),
            "plain callee line".to_owned(),
            format!("END RequestId: {R2}"),
            format!(
                "REPORT RequestId: {R2}\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 50 MB\t"
            ),
        ];
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let out = correlate(batch(&refs), &DecodeLimits::default());
        assert_eq!(out.spans.len(), 1);
        let line = |message: &str| out.logs.iter().find(|l| l.message == message).unwrap();
        assert_eq!(line("reserving").trace_id, TraceId::parse_any(trace).ok());
        assert_eq!(line("reserving").link, Some(Link::RequestId));
        assert_eq!(
            line("plain callee line").trace_id,
            TraceId::parse_any(trace).ok()
        );
        assert_eq!(out.invocations[0].trace_id, TraceId::parse_any(trace).ok());
    }

    #[test]
    fn conflicting_platform_traces_link_nothing() {
        let mut traces = RequestTraces::default();
        let a = TraceId::parse("5e61292ccc1229a4dfbeae1043928548").unwrap();
        let b = TraceId::parse("5d83c0adb8eb33a0b1de97d804fac890").unwrap();
        traces.add(R1, a, Weight::Platform);
        traces.add(R1, b, Weight::Platform);
        assert_eq!(traces.get(R1), None);
        traces.add(R1, b, Weight::Instrumented);
        assert_eq!(traces.get(R1), Some(b));
        traces.add(R1, a, Weight::Platform);
        assert_eq!(traces.get(R1), Some(b));
    }

    #[test]
    fn names_come_from_group_and_stream() {
        assert_eq!(function_of_log_group("/aws/lambda/checkout"), "checkout");
        assert_eq!(function_of_log_group("custom"), "custom");
        assert_eq!(
            version_of_log_stream("2019/03/13/[$LATEST]94fa867e"),
            Some("$LATEST")
        );
        assert_eq!(version_of_log_stream("2019/03/13/[7]94fa867e"), Some("7"));
        assert_eq!(version_of_log_stream("logStream1"), None);
    }
}
