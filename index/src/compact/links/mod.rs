//! Links across batches, resolved when an hour is compacted.
//!
//! Ingest links a log line from the evidence of its own batch only
//! (the collector's `correlate`). Compaction sees every batch of an hour and of its
//! neighbour hours, and links again, in two passes so that rows can stream
//! through (and spill) in between:
//!
//! 1. **observe** ([`LinkEvidence::observe_log`] and friends): every span, log and invocation row of the
//!    hour and its neighbours adds *primary* evidence, the facts a line states
//!    itself, never a link some earlier step derived:
//!    - request id → trace, weighted as at ingest: our invocation spans
//!      (`faas.invocation_id`) and our own log lines weigh more than the Lambda
//!      platform's X-Ray context (`REPORT … XRAY TraceId`, `platform.start` and
//!      `platform.report` tracing) and other lines that name their trace
//!      (Powertools' `xray_trace_id`, …); a caller's Lambda `Invoke` CLIENT
//!      span names its callee's request id (`aws.request_id`) with a weight
//!      between the two, which links a callee that is not instrumented;
//!    - the platform lines of every log stream (`START`, `END`/`platform.runtimeDone`,
//!      `REPORT`) and where each request is named on it, in stream order.
//! 2. **apply** ([`LinkEvidence::relink`], [`LinkEvidence::resolve_invocation`]): every row of the hour that does not name its
//!    own trace gets its link again from scratch: by request id, else by its
//!    position on its stream. Invocations get the trace of their request.
//!
//! Because only primary evidence is observed and every derived link is
//! recomputed, the result does not depend on how the lines were split into
//! batches, nor on the order they arrived in, nor on whether an input was raw or
//! already compacted.
//!
//! The precision rules are those of ingest: a request named with two traces by
//! sources of equal weight links nothing; a line that names its own trace keeps
//! it and is never linked by position; a position inside two invocations at once
//! (a concurrent runtime) links nothing; a line naming a request after that
//! request's own `END`/`REPORT` is late output, not a sign of concurrency.
//!
//! **Stream order** is the order of CloudWatch event ids, compared as numbers:
//! an id is the event's millisecond timestamp shifted left by 144 bits plus a
//! sequence that grows in write order within a stream, so it keeps the order
//! lines were written in where millisecond timestamps tie. A row whose event id
//! is not a decimal number has no position: it is neither linked by position
//! nor used as a marker.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

mod platform;
mod request_trace;
mod stream;

use crate::rows::{InvocationRow, Link, LogRow, SpanRow, TraceId};
use crate::schema::HourPartition;

use platform::{Marker, SERVICELESS_FORMATS, function_of_log_group, platform_facts};
use request_trace::{ReportTrace, RequestTrace, Weight};
use stream::{Position, StreamEvidence, StreamIntervals};

const LINK_TRACE_ID: Link = Link::TraceId;
const LINK_REQUEST_ID: Link = Link::RequestId;
const LINK_STREAM: Link = Link::Stream;

/// Where an observed row comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The hour being compacted.
    ThisHour,
    /// The hour before or after it (evidence only; never rewritten).
    NeighbourHour,
}

/// The evidence of the hour being compacted and of its neighbours (pass 1),
/// and the links it gives (pass 2). Observing a row twice changes nothing.
#[derive(Debug, Default)]
pub struct LinkEvidence {
    request_names: HashMap<String, u32>,
    request_traces: HashMap<u32, RequestTrace>,
    report_traces: HashMap<u32, ReportTrace>,
    /// The service of a request's spans (the least name, when several).
    request_services: HashMap<u32, String>,
    /// When a request's START was written.
    start_times: HashMap<u32, i64>,
    /// Log group → log stream → what was seen on it.
    streams: ByStream<StreamEvidence>,
    /// Log group → log stream → its invocations, built at the first link
    /// after the last observation.
    intervals: OnceLock<ByStream<StreamIntervals>>,
}

/// Log group → log stream → `T`.
type ByStream<T> = HashMap<Arc<str>, HashMap<Arc<str>, T>>;

impl LinkEvidence {
    /// Compaction reads the live rows of the hours before and after the one it
    /// compacts into the evidence: an invocation and its lines can straddle an
    /// hour boundary.
    pub const READS_NEIGHBOUR_HOURS: bool = true;

    /// No evidence yet, for compacting `hour`.
    pub fn new(hour: &HourPartition) -> LinkEvidence {
        let _ = hour;
        LinkEvidence::default()
    }

    fn intern(&mut self, request_id: &str) -> u32 {
        if let Some(&id) = self.request_names.get(request_id) {
            return id;
        }
        let id = self.request_names.len() as u32;
        self.request_names.insert(request_id.to_owned(), id);
        id
    }

    fn add_trace(&mut self, request_id: &str, trace_id: TraceId, weight: Weight) {
        let request = self.intern(request_id);
        let evidence = RequestTrace::Known(trace_id, weight);
        self.request_traces
            .entry(request)
            .and_modify(|known| *known = known.merge(evidence))
            .or_insert(evidence);
    }

    /// Observes a span: its `request_id` (`faas.invocation_id`) ran in its trace.
    pub fn observe_span(&mut self, span: &SpanRow, origin: Origin) {
        let _ = origin;
        self.intervals.take();
        if let Some(callee) = span.invoked_request_id() {
            self.add_trace(callee, span.trace_id, Weight::Invoker);
        }
        if let Some(request_id) = &span.request_id {
            let trace_id = span.trace_id;
            self.add_trace(request_id, trace_id, Weight::Instrumented);
            let request = self.intern(request_id);
            match self.request_services.get_mut(&request) {
                Some(known) if span.service < *known => known.clone_from(&span.service),
                Some(_) => {}
                None => {
                    self.request_services.insert(request, span.service.clone());
                }
            }
        }
    }

    /// Observes a log row: the trace it names with its request, the platform
    /// line it is, and where it names its request on its stream.
    pub fn observe_log(&mut self, log: &LogRow, origin: Origin) {
        let _ = origin;
        self.intervals.take();
        if let Some(facts) = platform_facts(log) {
            let Some(request_id) = log.request_id.as_deref() else {
                return;
            };
            if let Some(trace_id) = facts.xray_trace {
                self.add_trace(request_id, trace_id, Weight::Platform);
            }
            let request = self.intern(request_id);
            if facts.marker == Some(Marker::Start) {
                self.start_times
                    .entry(request)
                    .and_modify(|time| *time = (*time).min(log.timestamp_ns))
                    .or_insert(log.timestamp_ns);
            }
            if facts.is_report {
                let said = facts
                    .xray_trace
                    .map_or(ReportTrace::None, ReportTrace::Trace);
                self.report_traces
                    .entry(request)
                    .and_modify(|known| *known = known.merge(said))
                    .or_insert(said);
            }
            if let (Some(marker), Some(position)) = (facts.marker, Position::parse(&log.event_id)) {
                self.with_stream(log, |stream| {
                    stream.markers.push((position, request, marker));
                });
            }
            return;
        }
        let Some(request_id) = log.request_id.as_deref() else {
            return;
        };
        if log.link == Some(LINK_TRACE_ID)
            && let Some(trace_id) = log.trace_id
        {
            let weight = if log.format == "tracelake" {
                Weight::Instrumented
            } else {
                Weight::Platform
            };
            self.add_trace(request_id, trace_id, weight);
        }
        let request = self.intern(request_id);
        if let Some(position) = Position::parse(&log.event_id) {
            self.with_stream(log, |stream| {
                stream
                    .named
                    .entry(request)
                    .and_modify(|(first, last)| {
                        *first = (*first).min(position);
                        *last = (*last).max(position);
                    })
                    .or_insert((position, position));
            });
        }
    }

    /// Runs `update` on the evidence of the row's stream; the names (shared
    /// `Arc`s) are cloned only for a stream not seen before.
    fn with_stream(&mut self, log: &LogRow, update: impl FnOnce(&mut StreamEvidence)) {
        if let Some(evidence) = self
            .streams
            .get_mut(&*log.log_group)
            .and_then(|streams| streams.get_mut(&*log.log_stream))
        {
            update(evidence);
            return;
        }
        let mut evidence = StreamEvidence::default();
        update(&mut evidence);
        self.streams
            .entry(log.log_group.clone())
            .or_default()
            .insert(log.log_stream.clone(), evidence);
    }

    /// Observes an invocation row. Its `trace_id` is derived (by ingest or an
    /// earlier compaction), so it is not evidence; the REPORT log row that
    /// produced it is.
    pub fn observe_invocation(&mut self, invocation: &InvocationRow, origin: Origin) {
        let _ = (invocation, origin);
    }

    /// Every stream's invocations, from the markers observed so far.
    fn intervals(&self) -> &ByStream<StreamIntervals> {
        self.intervals.get_or_init(|| {
            self.streams
                .iter()
                .map(|(group, streams)| {
                    let streams = streams
                        .iter()
                        .map(|(stream, evidence)| {
                            (stream.clone(), StreamIntervals::build(evidence))
                        })
                        .collect();
                    (group.clone(), streams)
                })
                .collect()
        })
    }
}

/// What [`LinkEvidence::relink`] did to a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relinked {
    /// The row names its own trace; left as it is.
    Own,
    /// The row was not linked and now is.
    Linked,
    /// The row was linked and no longer is: the wider evidence contradicts it.
    Unlinked,
    /// Linked (or not) as before, possibly by another rule to the same trace.
    Same,
    /// Linked before to another trace than now.
    Changed,
}

impl LinkEvidence {
    /// The trace a request ran in (32 hex digits), when the evidence names
    /// exactly one.
    pub fn trace_of_request(&self, request_id: &str) -> Option<TraceId> {
        let request = self.request_names.get(request_id)?;
        self.trace_of(*request)
    }

    fn trace_of(&self, request: u32) -> Option<TraceId> {
        match self.request_traces.get(&request)? {
            RequestTrace::Known(trace_id, _) => Some(*trace_id),
            RequestTrace::Conflict(_) => None,
        }
    }

    /// The request running on the row's stream at the row's position.
    fn running(&self, log: &LogRow) -> Option<u32> {
        let position = Position::parse(&log.event_id)?;
        let intervals = self
            .intervals()
            .get(&*log.log_group)?
            .get(&*log.log_stream)?;
        intervals.running_at(position)
    }

    /// Links a log row of the hour again from the evidence ([`LinkEvidence::relink`]);
    /// whether it is linked now and was not before.
    pub fn resolve(&self, log: &mut LogRow) -> bool {
        self.relink(log) == Relinked::Linked
    }

    /// Links a log row again from the evidence, unless it names its own trace:
    /// by its request id, else by its position on its stream.
    ///
    /// A row of a format that never names its service (plain text, runtime
    /// text, platform lines) also gets its service again, as at ingest: the
    /// service of its request's spans, else the function of its log group.
    pub fn relink(&self, log: &mut LogRow) -> Relinked {
        let request = match log.request_id.as_deref() {
            Some(request_id) => self.request_names.get(request_id).copied(),
            // A line naming its own trace is never linked by position.
            None if log.link != Some(LINK_TRACE_ID) => self.running(log),
            None => None,
        };
        if SERVICELESS_FORMATS.contains(&log.format.as_ref()) {
            let service = request
                .and_then(|request| self.request_services.get(&request))
                .map_or_else(|| function_of_log_group(&log.log_group), String::as_str);
            if log.service.as_deref() != Some(service) {
                log.service = Some(Arc::from(service));
            }
        }
        if log.link == Some(LINK_TRACE_ID) {
            return Relinked::Own;
        }
        let (trace_id, link) = if log.request_id.is_some() {
            match request.and_then(|request| self.trace_of(request)) {
                Some(trace_id) => (Some(trace_id), Some(LINK_REQUEST_ID)),
                None => (None, None),
            }
        } else {
            match request.and_then(|request| self.trace_of(request)) {
                Some(trace_id) => (Some(trace_id), Some(LINK_STREAM)),
                None => (None, None),
            }
        };
        let outcome = match (&log.trace_id, &trace_id) {
            (None, Some(_)) => Relinked::Linked,
            (Some(_), None) => Relinked::Unlinked,
            (Some(before), Some(after)) if before != after => Relinked::Changed,
            _ => Relinked::Same,
        };
        log.trace_id = trace_id;
        log.link = link;
        outcome
    }

    /// Sets an invocation's trace: its request's trace, else the X-Ray trace of
    /// its REPORT (as at ingest). When no REPORT row of the request was seen,
    /// the row keeps the trace it has unless the evidence names one. Its
    /// `start_time` is its START's time, when the START came in another batch
    /// than the REPORT.
    pub fn resolve_invocation(&self, invocation: &mut InvocationRow) {
        let request = self.request_names.get(&invocation.request_id).copied();
        if let Some(&start) = request.and_then(|request| self.start_times.get(&request))
            && start <= invocation.end_time_ns
        {
            invocation.start_time_ns = Some(start);
        }
        let resolved = request.and_then(|request| self.trace_of(request));
        let report = request.and_then(|request| self.report_traces.get(&request).copied());
        invocation.trace_id = match (resolved, report) {
            (Some(trace_id), _) => Some(trace_id),
            (None, Some(ReportTrace::Trace(trace_id))) => Some(trace_id),
            (None, Some(ReportTrace::None | ReportTrace::Conflict)) => None,
            (None, None) => invocation.trace_id.take(),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::SpanId;

    const GROUP: &str = "/aws/lambda/checkout";
    const STREAM: &str = "2026/11/29/[$LATEST]abc";
    const R1: &str = "11111111-1111-4111-8111-111111111111";
    const R2: &str = "22222222-2222-4222-8222-222222222222";
    const T1: TraceId = TraceId(0x5e61292ccc1229a4dfbeae1043928548);
    const T2: TraceId = TraceId(0x5d83c0adb8eb33a0b1de97d804fac890);

    fn log(event_id: u64, format: &'static str, message: &str, request_id: Option<&str>) -> LogRow {
        LogRow {
            timestamp_ns: 1_700_000_000_000_000_000 + event_id as i64,
            request_id: request_id.map(str::to_owned),
            message: message.to_owned(),
            log_group: GROUP.into(),
            log_stream: STREAM.into(),
            event_id: event_id.to_string(),
            format: format.into(),
            ..LogRow::default()
        }
    }

    fn start(event_id: u64, request_id: &str) -> LogRow {
        log(
            event_id,
            "lambda_platform_text",
            &format!("START RequestId: {request_id} Version: $LATEST"),
            Some(request_id),
        )
    }

    fn end(event_id: u64, request_id: &str) -> LogRow {
        log(
            event_id,
            "lambda_platform_text",
            &format!("END RequestId: {request_id}"),
            Some(request_id),
        )
    }

    fn report(event_id: u64, request_id: &str, xray: Option<&str>) -> LogRow {
        let xray = xray.map_or(String::new(), |id| {
            format!("\nXRAY TraceId: {id}\tSegmentId: 07a85e713f6302b2\tSampled: true")
        });
        log(
            event_id,
            "lambda_platform_text",
            &format!(
                "REPORT RequestId: {request_id}\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 50 MB\t{xray}"
            ),
            Some(request_id),
        )
    }

    fn plain(event_id: u64, message: &str) -> LogRow {
        log(event_id, "plain", message, None)
    }

    fn span(trace_id: TraceId, request_id: &str) -> SpanRow {
        SpanRow {
            trace_id,
            span_id: SpanId(0x07a85e713f6302b2),
            request_id: Some(request_id.into()),
            ..SpanRow::default()
        }
    }

    fn resolve(spans: &[SpanRow], logs: &[LogRow]) -> LinkEvidence {
        let mut evidence = LinkEvidence::new(&HourPartition::of_nanos(0));
        // Each row twice: observing is idempotent.
        for span in spans.iter().chain(spans) {
            evidence.observe_span(span, Origin::ThisHour);
        }
        for row in logs.iter().chain(logs) {
            evidence.observe_log(row, Origin::NeighbourHour);
        }
        evidence
    }

    fn relink(resolver: &LinkEvidence, logs: &mut [LogRow]) {
        for row in logs {
            resolver.relink(row);
        }
    }

    /// A caller's `Lambda.Invoke` CLIENT span in trace `trace_id` whose response
    /// named `callee` as the request id.
    fn invoke_span(trace_id: TraceId, callee: &str, service: &str, method: &str) -> SpanRow {
        SpanRow {
            trace_id,
            span_id: SpanId(0x1111222233334444),
            kind: crate::rows::SpanKind::Client,
            request_id: None,
            attributes: vec![
                ("rpc.system".into(), "aws-api".into()),
                ("rpc.service".into(), service.into()),
                ("rpc.method".into(), method.into()),
                ("aws.request_id".into(), callee.into()),
            ],
            ..SpanRow::default()
        }
    }

    #[test]
    fn an_invoke_span_links_its_uninstrumented_callee() {
        // The callee (no spans, no X-Ray) logs node text lines with its request
        // id and a plain line; the caller's span arrived in another batch.
        let mut logs = vec![
            start(1, R1),
            log(2, "node_text", "reserving", Some(R1)),
            plain(3, "plain output"),
            end(4, R1),
            report(5, R1, None),
        ];
        let resolver = resolve(&[invoke_span(T1, R1, "Lambda", "Invoke")], &logs);
        relink(&resolver, &mut logs);
        for row in &logs {
            assert_eq!(row.trace_id, Some(T1), "{}", row.message);
        }
        assert_eq!(logs[1].link, Some(LINK_REQUEST_ID));
        assert_eq!(logs[2].link, Some(LINK_STREAM));

        // Another operation's request id names no invocation.
        let mut logs = vec![start(1, R1), log(2, "node_text", "x", Some(R1)), end(3, R1)];
        let resolver = resolve(&[invoke_span(T1, R1, "Lambda", "GetFunction")], &logs);
        relink(&resolver, &mut logs);
        assert_eq!(logs[1].trace_id, None);
        let resolver = resolve(&[invoke_span(T1, R1, "SQS", "Invoke")], &logs);
        relink(&resolver, &mut logs);
        assert_eq!(logs[1].trace_id, None);
    }

    #[test]
    fn the_callees_own_spans_outweigh_its_invoker_and_the_invoker_its_xray() {
        let mut logs = vec![
            start(1, R1),
            log(2, "node_text", "x", Some(R1)),
            end(3, R1),
            report(4, R1, Some("1-5d83c0ad-b8eb33a0b1de97d804fac890")),
        ];
        // The invoker (T1) against the callee's X-Ray context (T2): the invoker.
        let resolver = resolve(&[invoke_span(T1, R1, "Lambda", "Invoke")], &logs);
        relink(&resolver, &mut logs);
        assert_eq!(logs[1].trace_id, Some(T1));
        // The callee's own invocation span (T2) against the invoker (T1): its own.
        let resolver = resolve(
            &[invoke_span(T1, R1, "Lambda", "Invoke"), span(T2, R1)],
            &logs,
        );
        relink(&resolver, &mut logs);
        assert_eq!(logs[1].trace_id, Some(T2));
        // Two invokers naming one request id in two traces: nothing.
        let resolver = resolve(
            &[
                invoke_span(T1, R1, "Lambda", "Invoke"),
                invoke_span(T2, R1, "Lambda", "Invoke"),
            ],
            &logs[..3],
        );
        let mut first = logs[..3].to_vec();
        relink(&resolver, &mut first);
        assert_eq!(first[1].trace_id, None);
    }

    #[test]
    fn event_ids_order_as_numbers() {
        let small = Position::parse("99").unwrap();
        let large = Position::parse("100").unwrap();
        assert!(small < large);
        let fixture =
            Position::parse("34622316099697884706540976068822859012661220141643892546").unwrap();
        let next =
            Position::parse("34622316099697884706540976068822859012661220141643892547").unwrap();
        assert!(fixture < next);
        // The timestamp is the id shifted right by 144 bits (fixture 03).
        let timestamp = (u128::from(fixture.0[0]) << 48) | u128::from(fixture.0[1] >> 16);
        assert_eq!(timestamp, 1_552_518_348_220);
        assert_eq!(Position::parse("12a"), None);
        assert_eq!(Position::parse(""), None);
        assert_eq!(Position::parse(&"9".repeat(80)), None);
    }

    #[test]
    fn a_line_after_a_start_in_another_batch_links_by_position() {
        // START in one batch; the line and the REPORT (with the X-Ray trace) in the next.
        let mut logs = vec![
            start(1, R1),
            plain(2, "working"),
            end(3, R1),
            report(4, R1, Some("1-5e61292c-cc1229a4dfbeae1043928548")),
        ];
        let resolver = resolve(&[], &logs);
        relink(&resolver, &mut logs);
        assert_eq!(logs[1].trace_id, Some(T1));
        assert_eq!(logs[1].link, Some(LINK_STREAM));
        // Platform lines link through their own request id.
        assert_eq!(logs[0].trace_id, Some(T1));
        assert_eq!(logs[0].link, Some(LINK_REQUEST_ID));
    }

    #[test]
    fn lines_between_invocations_and_under_concurrency_stay_unlinked() {
        let mut logs = vec![
            start(1, R1),
            end(2, R1),
            plain(3, "between"),
            start(4, R2),
            start(5, R1.replace('1', "3").as_str()),
            plain(6, "concurrent"),
            end(7, R2),
        ];
        let spans = [span(T1, R1), span(T2, R2)];
        let resolver = resolve(&spans, &logs);
        relink(&resolver, &mut logs);
        assert_eq!(logs[2].trace_id, None);
        assert_eq!(logs[5].trace_id, None);
        assert_eq!(logs[0].trace_id, Some(T1));
    }

    #[test]
    fn a_line_naming_another_request_makes_the_invocation_ambiguous() {
        let mut logs = vec![
            start(1, R1),
            plain(2, "whose?"),
            log(3, "node_text", "other request", Some(R2)),
            end(4, R1),
        ];
        let resolver = resolve(&[span(T1, R1), span(T2, R2)], &logs);
        relink(&resolver, &mut logs);
        assert_eq!(logs[1].trace_id, None);
        assert_eq!(logs[2].trace_id, Some(T2));
    }

    #[test]
    fn a_late_line_of_an_ended_request_is_not_concurrency() {
        let mut logs = vec![
            start(1, R1),
            plain(2, "in r1"),
            end(3, R1),
            start(4, R2),
            log(5, "node_text", "late r1 line", Some(R1)),
            plain(6, "in r2"),
            end(7, R2),
        ];
        let resolver = resolve(&[span(T1, R1), span(T2, R2)], &logs);
        relink(&resolver, &mut logs);
        assert_eq!(logs[1].trace_id, Some(T1));
        assert_eq!(logs[4].trace_id, Some(T1));
        assert_eq!(logs[5].trace_id, Some(T2));
        assert_eq!(logs[5].link, Some(LINK_STREAM));
    }

    #[test]
    fn leading_lines_belong_to_the_request_that_ends_first() {
        let mut logs = vec![plain(1, "tail"), report(2, R1, None), plain(3, "after")];
        let resolver = resolve(&[span(T1, R1)], &logs);
        relink(&resolver, &mut logs);
        assert_eq!(logs[0].trace_id, Some(T1));
        assert_eq!(logs[2].trace_id, None);
    }

    #[test]
    fn conflicting_traces_of_equal_weight_link_nothing() {
        let mut own = log(5, "powertools", "names its trace", Some(R1));
        own.trace_id = Some(T2);
        own.link = Some(LINK_TRACE_ID);
        let mut logs = vec![
            start(1, R1),
            plain(2, "line"),
            report(3, R1, Some("1-5e61292c-cc1229a4dfbeae1043928548")),
            own,
        ];
        let resolver = resolve(&[], &logs);
        relink(&resolver, &mut logs);
        assert_eq!(resolver.trace_of_request(R1), None);
        assert_eq!(logs[1].trace_id, None);
        assert_eq!(logs[0].trace_id, None);
        // A line naming its own trace keeps it.
        assert_eq!(logs[3].trace_id, Some(T2));
        assert_eq!(logs[3].link, Some(LINK_TRACE_ID));
        // Our span outweighs the platform: the request is then known.
        let resolver = resolve(&[span(T1, R1)], &logs);
        assert_eq!(resolver.trace_of_request(R1), Some(T1));
    }

    #[test]
    fn a_derived_link_contradicted_by_wider_evidence_is_removed() {
        let mut stale = plain(2, "line");
        stale.trace_id = Some(T2);
        stale.link = Some(LINK_STREAM);
        let mut logs = vec![start(1, R1), stale, end(3, R1)];
        let resolver = resolve(&[span(T1, R1)], &logs);
        assert_eq!(resolver.relink(&mut logs[1]), Relinked::Changed);
        assert_eq!(logs[1].trace_id, Some(T1));
    }

    #[test]
    fn invocations_take_their_request_trace_else_their_report() {
        let logs = vec![report(2, R1, Some("1-5d83c0ad-b8eb33a0b1de97d804fac890"))];
        let mut invocation = InvocationRow {
            request_id: R1.into(),
            ..InvocationRow::default()
        };
        resolve(&[], &logs).resolve_invocation(&mut invocation);
        assert_eq!(invocation.trace_id, Some(T2));
        resolve(&[span(T1, R1)], &logs).resolve_invocation(&mut invocation);
        assert_eq!(invocation.trace_id, Some(T1));
    }

    #[test]
    fn json_platform_records_are_markers_and_evidence() {
        let start_json = format!(
            r#"{{"time":"2026-11-29T10:00:00.000Z","type":"platform.start","record":{{"requestId":"{R1}","version":"$LATEST","tracing":{{"spanId":"a","type":"X-Amzn-Trace-Id","value":"Root=1-5e61292c-cc1229a4dfbeae1043928548;Parent=07a85e713f6302b2;Sampled=1"}}}}}}"#
        );
        let done_json = format!(
            r#"{{"time":"2026-11-29T10:00:00.100Z","type":"platform.runtimeDone","record":{{"requestId":"{R1}","status":"success"}}}}"#
        );
        let mut logs = vec![
            log(1, "lambda_platform_json", &start_json, Some(R1)),
            plain(2, "inside"),
            log(3, "lambda_platform_json", &done_json, Some(R1)),
            plain(4, "outside"),
        ];
        let resolver = resolve(&[], &logs);
        relink(&resolver, &mut logs);
        assert_eq!(logs[1].trace_id, Some(T1));
        assert_eq!(logs[3].trace_id, None);
    }
}
