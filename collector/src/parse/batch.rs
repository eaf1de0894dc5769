//! The parse stage for a whole batch: every event of one log stream's batch
//! to what it says, before correlation links anything.

use crate::decode::{DecodeLimits, LogBatch, LogEvent, QuarantinedEvent};

use tracelake_instrumentation::wire::span_line::LineOrigin;

use super::event::parse_event_from;
use super::log::{ParsedEvent, ParsedLog};
use super::otlp::ParsedSpan;

/// One log stream's batch, parsed: the parse stage's output and the correlate
/// stage's input.
#[derive(Debug, Default)]
pub struct ParsedBatch {
    /// The batch's log group.
    pub log_group: String,
    /// The batch's log stream.
    pub log_stream: String,
    /// The spans of its span lines.
    pub spans: Vec<ParsedSpan>,
    /// Its log and platform lines, each with the event it came from, in
    /// delivery order (correlation links by position).
    pub logs: Vec<(LogEvent, ParsedLog)>,
    /// Events that did not parse or were rejected by decode, each with its reason.
    pub quarantined: Vec<QuarantinedEvent>,
    /// Span lines that became spans.
    pub span_events: u64,
}

/// Parses every event of a batch. An event over the CloudWatch event size, or
/// a span line that does not decode, is quarantined with its reason.
pub fn parse_batch(batch: LogBatch, limits: &DecodeLimits) -> ParsedBatch {
    let LogBatch {
        log_group,
        log_stream,
        events,
        rejected,
        ..
    } = batch;
    let origin = LineOrigin::new(log_group.clone(), log_stream.clone());
    let mut out = ParsedBatch {
        log_group,
        log_stream,
        quarantined: rejected,
        logs: Vec::with_capacity(events.len()),
        ..ParsedBatch::default()
    };
    for event in events {
        if let Some(reason) = limits.oversized_event(event.message.len()) {
            out.quarantined.push(QuarantinedEvent { event, reason });
            continue;
        }
        match parse_event_from(&event.message, &origin) {
            ParsedEvent::Spans(spans) => {
                out.span_events += 1;
                out.spans.extend(spans);
            }
            ParsedEvent::Invalid(reason) => out.quarantined.push(QuarantinedEvent {
                event,
                reason: format!("unreadable span line: {reason}"),
            }),
            ParsedEvent::Log(log) => out.logs.push((event, *log)),
        }
    }
    out
}
