//! Trace search: the traces matching a [`TraceSearch`], as summaries or, for a
//! Jaeger search, as full traces within a span budget.
//!
//! A search matches spans; then one more pass (two queries, whatever the
//! number of traces) reads the found traces' invocations that wrote no span
//! and their lines, so that a summary counts the invocations the trace view
//! draws ([`TraceSummary::synthetic_count`]) and those of them that failed
//! ([`TraceSummary::error_count`]), and a Jaeger search answers the same spans
//! as opening the trace. An errors-only search also finds a trace whose only
//! failure is such an invocation (`queries/filters/failed_invocation_traces.sql`).

use std::collections::BTreeMap;

use super::engine::QueryEngine;
use super::error::QueryError;
use super::model::{Invocation, LogLine, Span, TraceDetail, TraceSummary};
use super::params::{PARTITION_SLACK_NS, ParamValue, Params, TimeRange, positive_limit};
use super::{sql, trace};

/// Filters of a trace search. Every filter given must hold for one span of a
/// trace; the summary covers all its spans in the range.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceSearch {
    /// Span start times searched.
    pub range: TimeRange,
    /// Service name.
    pub service: Option<String>,
    /// Span name.
    pub operation: Option<String>,
    /// Span kind.
    pub kind: Option<String>,
    /// Minimum span duration in nanoseconds.
    pub min_duration_ns: Option<i64>,
    /// Maximum span duration in nanoseconds.
    pub max_duration_ns: Option<i64>,
    /// Only spans with status error, or invocations that wrote no span and
    /// failed (the trace view draws them with status error).
    pub errors_only: bool,
    /// Only spans with status OK (Jaeger's tag `otel.status_code=OK`).
    pub ok_only: bool,
    /// Span attribute equalities (at most [`TraceSearch::MAX_ATTRIBUTES`]).
    pub attributes: Vec<(String, String)>,
    /// Most traces returned.
    pub limit: i64,
}

impl TraceSearch {
    /// How many attribute filters one search takes.
    pub const MAX_ATTRIBUTES: usize = 3;

    /// A search of `range` with no filters and a limit of 20.
    pub fn new(range: TimeRange) -> TraceSearch {
        TraceSearch {
            range,
            service: None,
            operation: None,
            kind: None,
            min_duration_ns: None,
            max_duration_ns: None,
            errors_only: false,
            ok_only: false,
            attributes: Vec::new(),
            limit: 20,
        }
    }

    /// The bound parameters of `search_traces.sql`.
    ///
    /// # Errors
    ///
    /// [`QueryError::InvalidParameter`] when more than [`TraceSearch::MAX_ATTRIBUTES`]
    /// attribute filters are given (`attributes`) or the limit is not between 1
    /// and 10,000 (`limit`).
    pub fn params(&self) -> Result<Params, QueryError> {
        if self.attributes.len() > Self::MAX_ATTRIBUTES {
            return Err(QueryError::InvalidParameter {
                name: "attributes",
                reason: format!(
                    "{} attribute filters given, at most {} are supported",
                    self.attributes.len(),
                    Self::MAX_ATTRIBUTES
                ),
            });
        }
        let mut params = Params::new()
            .range(&self.range, 0)
            .text("service", self.service.as_deref())
            .text("operation", self.operation.as_deref())
            .text("kind", self.kind.as_deref())
            .with("min_duration_ns", ParamValue::Int(self.min_duration_ns))
            .with("max_duration_ns", ParamValue::Int(self.max_duration_ns))
            .with("errors_only", ParamValue::Bool(self.errors_only))
            .with("ok_only", ParamValue::Bool(self.ok_only))
            .with("limit", ParamValue::Int(Some(positive_limit(self.limit)?)));
        for slot in 0..Self::MAX_ATTRIBUTES {
            let pair = self.attributes.get(slot);
            params = params
                .text(
                    &format!("attribute_key_{}", slot + 1),
                    pair.map(|(key, _)| key.as_str()),
                )
                .text(
                    &format!("attribute_value_{}", slot + 1),
                    pair.map(|(_, value)| value.as_str()),
                );
        }
        Ok(params)
    }
}

/// A row of the search's second pass, with whether a span of its trace
/// carries its request id.
#[derive(serde::Deserialize)]
struct WithSpanFlag<T> {
    #[serde(flatten)]
    row: T,
    #[serde(default)]
    has_span: bool,
}

impl QueryEngine {
    /// Traces matching a search, most recent first.
    ///
    /// # Errors
    ///
    /// The errors of [`TraceSearch::params`], before anything runs; then the
    /// failure of the search or of the query for invocations without spans (see
    /// [`QueryError`]).
    pub async fn search_traces(
        &self,
        search: &TraceSearch,
    ) -> Result<Vec<TraceSummary>, QueryError> {
        let mut found: Vec<TraceSummary> = self
            .run_typed(&sql::SEARCH_TRACES, &search.params()?)
            .await?;
        let ids: Vec<&str> = found.iter().map(|s| s.trace_id.as_str()).collect();
        let mut unspanned = self.unspanned_invocations(&search.range, &ids).await?;
        for summary in &mut found {
            summary.duration_ns = match (summary.trace_start, summary.trace_end) {
                (Some(start), Some(end)) => end.saturating_sub(start),
                _ => 0,
            };
            let (lines, invocations) = unspanned.remove(&summary.trace_id).unwrap_or_default();
            let drawn = trace::invocation_spans(&summary.trace_id, &[], &lines, &invocations);
            summary.synthetic_count = drawn.len();
            summary.error_count = summary.error_count.saturating_add(
                i64::try_from(trace::failed_drawn_count(&drawn)).unwrap_or(i64::MAX),
            );
        }
        Ok(found)
    }

    /// The invocations of the given traces that wrote no span, and their
    /// lines, by trace: two queries for all traces (none for no trace).
    async fn unspanned_invocations(
        &self,
        range: &TimeRange,
        trace_ids: &[&str],
    ) -> Result<BTreeMap<String, (Vec<LogLine>, Vec<Invocation>)>, QueryError> {
        let mut by_trace: BTreeMap<String, (Vec<LogLine>, Vec<Invocation>)> = BTreeMap::new();
        if trace_ids.is_empty() {
            return Ok(by_trace);
        }
        let (from, to) = range.partitions(PARTITION_SLACK_NS);
        let params = Params::new()
            .text("trace_ids", Some(&trace_ids.join(",")))
            .text("partition_from", Some(&from))
            .text("partition_to", Some(&to));
        let (lines, invocations) = futures::try_join!(
            self.run_typed::<WithSpanFlag<LogLine>>(&sql::SEARCH_TRACE_LINES, &params),
            self.run_typed::<WithSpanFlag<Invocation>>(&sql::SEARCH_TRACE_INVOCATIONS, &params),
        )?;
        for line in lines.into_iter().filter(|row| !row.has_span) {
            if let Some(trace_id) = line.row.trace_id.clone() {
                by_trace.entry(trace_id).or_default().0.push(line.row);
            }
        }
        for invocation in invocations.into_iter().filter(|row| !row.has_span) {
            if let Some(trace_id) = invocation.row.trace_id.clone() {
                by_trace.entry(trace_id).or_default().1.push(invocation.row);
            }
        }
        Ok(by_trace)
    }

    /// Full traces for a Jaeger search in one query, plus the pass for
    /// invocations without spans: the spans of the matching traces and the
    /// spans drawn for those invocations (with their lines), at most [`EngineOptions::span_budget`](crate::query::EngineOptions::span_budget)
    /// spans in all. The flag is true when the budget cut the answer (the last
    /// trace may then miss spans, and older matches are left out).
    ///
    /// # Errors
    ///
    /// The errors of [`TraceSearch::params`], before anything runs; then the
    /// query's failure (see [`QueryError`]). Reaching the span budget is not an
    /// error: the flag says so.
    pub async fn search_trace_spans(
        &self,
        search: &TraceSearch,
    ) -> Result<(Vec<TraceDetail>, bool), QueryError> {
        let budget = i64::try_from(self.options.span_budget).unwrap_or(i64::MAX);
        let params = search
            .params()?
            .with("span_budget", ParamValue::Int(Some(budget)));
        let spans: Vec<Span> = self.run_typed(&sql::SEARCH_TRACE_SPANS, &params).await?;
        let truncated = spans.len() >= self.options.span_budget;
        let mut by_trace: Vec<(String, Vec<Span>)> = Vec::new();
        for span in spans {
            match by_trace.last_mut() {
                Some((trace_id, list)) if *trace_id == span.trace_id => list.push(span),
                _ => by_trace.push((span.trace_id.clone(), vec![span])),
            }
        }
        let ids: Vec<&str> = by_trace.iter().map(|(id, _)| id.as_str()).collect();
        let mut unspanned = self.unspanned_invocations(&search.range, &ids).await?;
        let traces = by_trace
            .into_iter()
            .filter_map(|(trace_id, spans)| {
                let (lines, invocations) = unspanned.remove(&trace_id).unwrap_or_default();
                trace::assemble(
                    &trace_id,
                    spans,
                    lines,
                    invocations,
                    self.options.price_per_gb_second,
                )
            })
            .collect();
        Ok((traces, truncated))
    }
}
