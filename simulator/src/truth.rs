//! Ground truth: which trace every delivered event belongs to, which spans were
//! written, and whether an event can be linked from the batch it arrived in.
//!
//! The collector never reads it; tests and `tracelake demo` score the index
//! against it with [`Truth::score`].

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::delivery::Delivered;
use crate::event::{EventKind, RawEvent, TruthSpan};
use crate::traffic::Traffic;

/// How an event can be linked to its trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LinkScope {
    /// The line names its trace itself.
    Line,
    /// The line can be linked from its own batch: its request id, or its stream
    /// and time (when START, the end of the invocation and the invocation's
    /// trace evidence are all in the batch), lead to trace evidence in the batch.
    Batch,
    /// The evidence that links the line arrived in another batch.
    CrossBatch,
    /// Nothing anywhere ties the line to its trace (an uninstrumented service
    /// without X-Ray, a crashed Rust invocation without X-Ray).
    Unlinkable,
    /// The line belongs to no trace (init lines).
    NoTrace,
}

impl LinkScope {
    /// A stable lowercase name, used in `truth/linkability.csv`.
    pub fn label(self) -> &'static str {
        match self {
            LinkScope::Line => "line",
            LinkScope::Batch => "batch",
            LinkScope::CrossBatch => "cross_batch",
            LinkScope::Unlinkable => "unlinkable",
            LinkScope::NoTrace => "no_trace",
        }
    }
}

/// The truth about one delivered event.
#[derive(Debug, Clone, PartialEq)]
pub struct TruthEvent {
    /// The CloudWatch event id.
    pub event_id: String,
    /// The trace it belongs to, if any.
    pub trace_id: Option<u128>,
    /// What kind of line it is.
    pub kind: EventKind,
    /// How it can be linked.
    pub scope: LinkScope,
}

/// The ground truth of a run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Truth {
    /// Every event, once, in stream order.
    pub events: Vec<TruthEvent>,
    /// Every span written to a span line.
    pub spans: Vec<TruthSpan>,
}

/// Builds the truth from the rendered events and their delivery.
pub fn build(
    traffic: &Traffic,
    raw: &[RawEvent],
    delivered: &Delivered,
    spans: Vec<TruthSpan>,
) -> Truth {
    #[derive(Clone, Default)]
    struct Seen {
        evidence_batches: Vec<usize>,
        start_batch: Option<usize>,
        end_batch: Option<usize>,
    }
    let mut seen = vec![Seen::default(); traffic.invocations.len()];
    for event in &delivered.events {
        let raw_event = &raw[event.raw];
        let Some(invocation) = raw_event.invocation else {
            continue;
        };
        let entry = &mut seen[invocation];
        if raw_event.carries.trace_evidence && !entry.evidence_batches.contains(&event.batch) {
            entry.evidence_batches.push(event.batch);
        }
        match raw_event.kind {
            EventKind::PlatformStart => entry.start_batch = Some(event.batch),
            EventKind::PlatformReport => entry.end_batch = Some(event.batch),
            _ => {}
        }
    }
    let events = delivered
        .events
        .iter()
        .map(|event| {
            let raw_event = &raw[event.raw];
            let (trace_id, scope) = match raw_event.invocation {
                None => (None, LinkScope::NoTrace),
                Some(invocation) => {
                    let trace = traffic.invocations[invocation].trace;
                    let entry = &seen[invocation];
                    let evidence_here = entry.evidence_batches.contains(&event.batch);
                    let evidence_anywhere = !entry.evidence_batches.is_empty();
                    let carries = raw_event.carries;
                    let scope = if carries.own_trace {
                        LinkScope::Line
                    } else if evidence_here
                        && (carries.request_id
                            || (entry.start_batch == Some(event.batch)
                                && entry.end_batch == Some(event.batch)))
                    {
                        LinkScope::Batch
                    } else if evidence_anywhere {
                        LinkScope::CrossBatch
                    } else {
                        LinkScope::Unlinkable
                    };
                    (Some(traffic.traces[trace].trace_id), scope)
                }
            };
            TruthEvent {
                event_id: event.event_id.clone(),
                trace_id,
                kind: raw_event.kind,
                scope,
            }
        })
        .collect();
    Truth { events, spans }
}

/// How one scope's lines fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScopeRecall {
    /// Lines of this scope that have a trace and are in the index.
    pub expected: u64,
    /// Of those, lines linked to their trace.
    pub linked: u64,
}

impl ScopeRecall {
    /// `linked / expected`, 1 when nothing was expected.
    pub fn recall(&self) -> f64 {
        if self.expected == 0 {
            1.0
        } else {
            self.linked as f64 / self.expected as f64
        }
    }
}

/// Correlation quality of an index against the truth.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Score {
    /// Rows read from the index.
    pub rows: u64,
    /// Rows whose event id is not in the truth.
    pub unknown_rows: u64,
    /// Rows whose event id was already seen (a batch indexed twice).
    pub duplicate_rows: u64,
    /// Rows with a trace id.
    pub linked: u64,
    /// Rows linked to their true trace.
    pub linked_correctly: u64,
    /// Rows linked to a trace that is not theirs (including lines of no trace).
    pub linked_wrongly: u64,
    /// Event ids of a few wrong links, for the report.
    pub wrong_examples: Vec<String>,
    /// Lines that name their trace themselves.
    pub line: ScopeRecall,
    /// Lines linkable within their own batch.
    pub batch: ScopeRecall,
    /// Lines whose linking evidence is in another batch.
    pub cross_batch: ScopeRecall,
    /// Lines with a trace but nothing to link them by.
    pub unlinkable: ScopeRecall,
    /// Application lines (which always belong in the logs table) missing from it.
    pub missing_app_lines: u64,
}

impl Score {
    /// Share of linked rows that are linked to their true trace (1 when none is linked).
    pub fn precision(&self) -> f64 {
        if self.linked == 0 {
            1.0
        } else {
            self.linked_correctly as f64 / self.linked as f64
        }
    }

    /// Recall over lines linkable from the batch they arrived in (line and batch scopes).
    pub fn in_batch_recall(&self) -> f64 {
        let expected = self.line.expected + self.batch.expected;
        if expected == 0 {
            1.0
        } else {
            (self.line.linked + self.batch.linked) as f64 / expected as f64
        }
    }
}

fn parse_trace(text: &str) -> Option<u128> {
    tracelake_instrumentation::wire::ids::TraceId::parse(text)
        .ok()
        .map(|id| id.0)
}

impl Truth {
    /// Scores index rows, each an event id and the trace id it was linked to
    /// (any form `TraceId::parse` reads), against the truth.
    pub fn score<I, E, T>(&self, rows: I) -> Score
    where
        I: IntoIterator<Item = (E, Option<T>)>,
        E: AsRef<str>,
        T: AsRef<str>,
    {
        let index: HashMap<&str, usize> = self
            .events
            .iter()
            .enumerate()
            .map(|(i, event)| (event.event_id.as_str(), i))
            .collect();
        let mut present = vec![false; self.events.len()];
        let mut score = Score::default();
        for (event_id, trace) in rows {
            score.rows += 1;
            let Some(&position) = index.get(event_id.as_ref()) else {
                score.unknown_rows += 1;
                continue;
            };
            if present[position] {
                score.duplicate_rows += 1;
                continue;
            }
            present[position] = true;
            let truth = &self.events[position];
            let observed = trace.as_ref().and_then(|t| parse_trace(t.as_ref()));
            let has_text = trace.as_ref().is_some_and(|t| !t.as_ref().is_empty());
            if has_text {
                score.linked += 1;
                if observed.is_some() && observed == truth.trace_id {
                    score.linked_correctly += 1;
                } else {
                    score.linked_wrongly += 1;
                    if score.wrong_examples.len() < 10 {
                        score.wrong_examples.push(truth.event_id.clone());
                    }
                }
            }
            let correct = has_text && observed.is_some() && observed == truth.trace_id;
            let bucket = match truth.scope {
                LinkScope::Line => &mut score.line,
                LinkScope::Batch => &mut score.batch,
                LinkScope::CrossBatch => &mut score.cross_batch,
                LinkScope::Unlinkable => &mut score.unlinkable,
                LinkScope::NoTrace => continue,
            };
            bucket.expected += 1;
            bucket.linked += u64::from(correct);
        }
        score.missing_app_lines = self
            .events
            .iter()
            .zip(&present)
            .filter(|(event, seen)| event.kind == EventKind::AppLog && !**seen)
            .count() as u64;
        score
    }

    /// `truth/log_events.csv`: `event_id,trace_id`, trace_id empty for no trace.
    pub fn log_events_csv(&self) -> String {
        let mut out = String::with_capacity(self.events.len() * 92 + 32);
        out.push_str("event_id,trace_id\n");
        for event in &self.events {
            out.push_str(&event.event_id);
            out.push(',');
            if let Some(trace) = event.trace_id {
                let _ = write!(out, "{trace:032x}");
            }
            out.push('\n');
        }
        out
    }

    /// `truth/linkability.csv`: `event_id,kind,scope`.
    pub fn linkability_csv(&self) -> String {
        let mut out = String::with_capacity(self.events.len() * 80 + 32);
        out.push_str("event_id,kind,scope\n");
        for event in &self.events {
            let _ = writeln!(
                out,
                "{},{},{}",
                event.event_id,
                event.kind.label(),
                event.scope.label()
            );
        }
        out
    }

    /// `truth/spans.csv`: `trace_id,span_id,parent_span_id,service,name,error`.
    pub fn spans_csv(&self) -> String {
        let mut out = String::with_capacity(self.spans.len() * 110 + 64);
        out.push_str("trace_id,span_id,parent_span_id,service,name,error\n");
        for span in &self.spans {
            let _ = write!(out, "{:032x},{:016x},", span.trace_id, span.span_id);
            if let Some(parent) = span.parent_span_id {
                let _ = write!(out, "{parent:016x}");
            }
            let _ = writeln!(
                out,
                ",{},{},{}",
                csv_field(&span.service),
                csv_field(&span.name),
                span.error
            );
        }
        out
    }
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str, trace: Option<u128>, scope: LinkScope) -> TruthEvent {
        TruthEvent {
            event_id: id.to_owned(),
            trace_id: trace,
            kind: EventKind::AppLog,
            scope,
        }
    }

    #[test]
    fn score_counts_wrong_links_and_recall_per_scope() {
        let truth = Truth {
            events: vec![
                event("1", Some(0xa), LinkScope::Line),
                event("2", Some(0xa), LinkScope::Batch),
                event("3", Some(0xb), LinkScope::CrossBatch),
                event("4", None, LinkScope::NoTrace),
                event("5", Some(0xb), LinkScope::Batch),
            ],
            spans: Vec::new(),
        };
        let a = format!("{:032x}", 0xa);
        let b = format!("{:032x}", 0xb);
        let rows = vec![
            ("1", Some(a.clone())),
            ("2", Some(a.clone())),
            ("3", None),
            ("4", Some(b.clone())), // a line of no trace linked: wrong
            ("5", Some(a.clone())), // linked to the wrong trace
            ("5", Some(b.clone())), // a duplicate row
            ("9", None),            // not in the truth
        ];
        let score = truth.score(rows);
        assert_eq!(score.rows, 7);
        assert_eq!(score.unknown_rows, 1);
        assert_eq!(score.duplicate_rows, 1);
        assert_eq!(score.linked, 4);
        assert_eq!(score.linked_correctly, 2);
        assert_eq!(score.linked_wrongly, 2);
        assert_eq!(score.precision(), 0.5);
        assert_eq!(
            score.line,
            ScopeRecall {
                expected: 1,
                linked: 1
            }
        );
        assert_eq!(
            score.batch,
            ScopeRecall {
                expected: 2,
                linked: 1
            }
        );
        assert_eq!(
            score.cross_batch,
            ScopeRecall {
                expected: 1,
                linked: 0
            }
        );
        assert!((score.in_batch_recall() - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(score.missing_app_lines, 0);
    }

    #[test]
    fn xray_form_links_count_and_missing_lines_are_reported() {
        let trace = 0x5759e988bd862e3fe1be46a994272793u128;
        let truth = Truth {
            events: vec![
                event("1", Some(trace), LinkScope::Line),
                event("2", Some(trace), LinkScope::Batch),
            ],
            spans: Vec::new(),
        };
        let score = truth.score([("1", Some("1-5759e988-bd862e3fe1be46a994272793"))]);
        assert_eq!(score.linked_correctly, 1);
        assert_eq!(score.missing_app_lines, 1);
    }

    #[test]
    fn csv_files_have_their_headers_and_quote_when_needed() {
        let truth = Truth {
            events: vec![event("42", None, LinkScope::NoTrace)],
            spans: vec![TruthSpan {
                trace_id: 1,
                span_id: 2,
                parent_span_id: None,
                service: "orders-api".to_owned(),
                name: "GET /a,b".to_owned(),
                error: true,
            }],
        };
        assert_eq!(truth.log_events_csv(), "event_id,trace_id\n42,\n");
        assert_eq!(
            truth.spans_csv(),
            "trace_id,span_id,parent_span_id,service,name,error\n00000000000000000000000000000001,0000000000000002,,orders-api,\"GET /a,b\",true\n"
        );
        assert_eq!(
            truth.linkability_csv(),
            "event_id,kind,scope\n42,app_log,no_trace\n"
        );
    }
}
