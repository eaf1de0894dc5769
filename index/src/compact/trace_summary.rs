//! `trace_index` of a compacted hour: one row per trace seen in the hour, from
//! its spans, and from its logs and invocations when it has no span there.
//!
//! Trace by id reads `trace_index` to find the hours a trace lives in, whatever
//! form its id has, so every trace with any row in the hour gets a row: one with
//! spans is summarised from them (`min_start`/`max_end` of its spans, its root,
//! `span_count`, `error_count`, the services of its spans); one seen only in
//! logs and invocations (Powertools, X-Ray, uninstrumented services) has
//! `span_count = 0`, times from its log lines and invocations, no root, and as
//! services the services of its log lines and the functions of its invocations.

use std::collections::{BTreeSet, HashMap};

use crate::rows::{InvocationRow, LogRow, SpanId, SpanRow, StatusCode, TraceId, TraceIndexRow};

#[derive(Debug, Default)]
struct Summary {
    span_count: i64,
    error_count: i64,
    span_min: Option<i64>,
    span_max: Option<i64>,
    span_services: BTreeSet<String>,
    /// (start, span id, service, name) of the earliest root span.
    root: Option<(i64, SpanId, String, String)>,
    other_min: Option<i64>,
    other_max: Option<i64>,
    other_services: BTreeSet<String>,
}

fn widen(min: &mut Option<i64>, max: &mut Option<i64>, from: i64, to: i64) {
    *min = Some(min.map_or(from, |m| m.min(from)));
    *max = Some(max.map_or(to, |m| m.max(to)));
}

/// Accumulates the final rows of one hour into its `trace_index`. The result
/// does not depend on the order rows are added in.
#[derive(Debug, Default)]
pub struct TraceSummaries {
    traces: HashMap<TraceId, Summary>,
}

impl TraceSummaries {
    /// No trace yet.
    pub fn new() -> TraceSummaries {
        TraceSummaries::default()
    }

    /// Runs `update` on a trace's summary; the id is copied only for a new trace.
    fn update(&mut self, trace_id: TraceId, update: impl FnOnce(&mut Summary)) {
        if let Some(summary) = self.traces.get_mut(&trace_id) {
            update(summary);
            return;
        }
        let mut summary = Summary::default();
        update(&mut summary);
        self.traces.insert(trace_id, summary);
    }

    /// Adds a span (after dedupe: each span once).
    pub fn observe_span(&mut self, span: &SpanRow) {
        self.update(span.trace_id, |summary| {
            summary.span_count += 1;
            if span.status_code == StatusCode::Error {
                summary.error_count += 1;
            }
            let end = span.end_time_ns.max(span.start_time_ns);
            widen(
                &mut summary.span_min,
                &mut summary.span_max,
                span.start_time_ns,
                end,
            );
            if !summary.span_services.contains(&span.service) {
                summary.span_services.insert(span.service.clone());
            }
            if span.parent_span_id.is_none() {
                let earlier = summary.root.as_ref().is_none_or(|(start, span_id, _, _)| {
                    (span.start_time_ns, span.span_id) < (*start, *span_id)
                });
                if earlier {
                    summary.root = Some((
                        span.start_time_ns,
                        span.span_id,
                        span.service.clone(),
                        span.name.clone(),
                    ));
                }
            }
        });
    }

    /// Adds a log row; rows with no trace are ignored.
    pub fn observe_log(&mut self, log: &LogRow) {
        let Some(trace_id) = log.trace_id else {
            return;
        };
        self.update(trace_id, |summary| {
            widen(
                &mut summary.other_min,
                &mut summary.other_max,
                log.timestamp_ns,
                log.timestamp_ns,
            );
            if let Some(service) = &log.service
                && !summary.other_services.contains(&**service)
            {
                summary.other_services.insert(service.to_string());
            }
        });
    }

    /// Adds an invocation row; rows with no trace are ignored.
    pub fn observe_invocation(&mut self, invocation: &InvocationRow) {
        let Some(trace_id) = invocation.trace_id else {
            return;
        };
        let start = invocation
            .start_time_ns
            .unwrap_or(invocation.end_time_ns)
            .min(invocation.end_time_ns);
        self.update(trace_id, |summary| {
            widen(
                &mut summary.other_min,
                &mut summary.other_max,
                start,
                invocation.end_time_ns,
            );
            if !summary.other_services.contains(&invocation.function) {
                summary.other_services.insert(invocation.function.clone());
            }
        });
    }

    /// The rows, sorted by trace id.
    pub fn finish(self) -> Vec<TraceIndexRow> {
        let mut rows: Vec<TraceIndexRow> = self
            .traces
            .into_iter()
            .map(|(trace_id, summary)| {
                let (min_start_ns, max_end_ns, services) = if summary.span_count > 0 {
                    (
                        summary.span_min.unwrap_or_default(),
                        summary.span_max.unwrap_or_default(),
                        summary.span_services,
                    )
                } else {
                    (
                        summary.other_min.unwrap_or_default(),
                        summary.other_max.unwrap_or_default(),
                        summary.other_services,
                    )
                };
                let (root_service, root_name) = match summary.root {
                    Some((_, _, service, name)) => (Some(service), Some(name)),
                    None => (None, None),
                };
                TraceIndexRow {
                    trace_id,
                    min_start_ns,
                    max_end_ns,
                    root_service,
                    root_name,
                    span_count: summary.span_count,
                    error_count: summary.error_count,
                    services: services.into_iter().collect(),
                }
            })
            .collect();
        rows.sort_unstable_by_key(|row| row.trace_id);
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T1: TraceId = TraceId(0x5e61292ccc1229a4dfbeae1043928548);
    const T2: TraceId = TraceId(0x5d83c0adb8eb33a0b1de97d804fac890);

    fn span(span_id: &str, parent: Option<&str>, service: &str, start: i64, end: i64) -> SpanRow {
        SpanRow {
            trace_id: T1,
            span_id: SpanId::parse(span_id).unwrap(),
            parent_span_id: parent.map(|id| SpanId::parse(id).unwrap()),
            name: format!("op-{span_id}"),
            service: service.into(),
            start_time_ns: start,
            end_time_ns: end,
            status_code: if service == "db" {
                StatusCode::Error
            } else {
                StatusCode::Ok
            },
            ..SpanRow::default()
        }
    }

    #[test]
    fn a_trace_with_spans_is_summarised_from_them() {
        let mut summaries = TraceSummaries::new();
        summaries.observe_span(&span(
            "00000000000000b2",
            Some("00000000000000a1"),
            "db",
            20,
            90,
        ));
        summaries.observe_span(&span("00000000000000a1", None, "api", 10, 100));
        summaries.observe_log(&LogRow {
            timestamp_ns: 5,
            trace_id: Some(T1),
            service: Some("api".into()),
            ..LogRow::default()
        });
        let rows = summaries.finish();
        assert_eq!(rows.len(), 1);
        let row = &rows[0];
        assert_eq!((row.min_start_ns, row.max_end_ns), (10, 100));
        assert_eq!(row.root_service.as_deref(), Some("api"));
        assert_eq!(row.root_name.as_deref(), Some("op-00000000000000a1"));
        assert_eq!((row.span_count, row.error_count), (2, 1));
        assert_eq!(row.services, vec!["api".to_owned(), "db".to_owned()]);
    }

    #[test]
    fn a_trace_seen_only_in_logs_and_invocations_gets_a_row() {
        let mut summaries = TraceSummaries::new();
        summaries.observe_log(&LogRow {
            timestamp_ns: 1_500,
            trace_id: Some(T2),
            service: Some("payments".into()),
            ..LogRow::default()
        });
        summaries.observe_log(&LogRow {
            timestamp_ns: 9,
            ..LogRow::default()
        });
        summaries.observe_invocation(&InvocationRow {
            request_id: "r".into(),
            function: "payments-fn".into(),
            start_time_ns: Some(1_000),
            end_time_ns: 2_000,
            trace_id: Some(T2),
            ..InvocationRow::default()
        });
        let rows = summaries.finish();
        assert_eq!(rows.len(), 1);
        let row = &rows[0];
        assert_eq!(row.trace_id, T2);
        assert_eq!((row.min_start_ns, row.max_end_ns), (1_000, 2_000));
        assert_eq!(row.span_count, 0);
        assert_eq!(row.root_service, None);
        assert_eq!(
            row.services,
            vec!["payments".to_owned(), "payments-fn".to_owned()]
        );
    }
}
