//! Trace search: the traces matching a [`TraceSearch`], as summaries or, for a
//! Jaeger search, as full traces within a span budget.

use super::engine::QueryEngine;
use super::error::QueryError;
use super::model::{Span, TraceDetail, TraceSummary};
use super::params::{ParamValue, Params, TimeRange, positive_limit};
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
    /// Only spans with status error.
    pub errors_only: bool,
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
            attributes: Vec::new(),
            limit: 20,
        }
    }

    /// The bound parameters of `search_traces.sql`.
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

impl QueryEngine {
    /// Traces matching a search, most recent first.
    pub async fn search_traces(
        &self,
        search: &TraceSearch,
    ) -> Result<Vec<TraceSummary>, QueryError> {
        let mut found: Vec<TraceSummary> = self
            .run_typed(&sql::SEARCH_TRACES, &search.params()?)
            .await?;
        for summary in &mut found {
            summary.duration_ns = match (summary.trace_start, summary.trace_end) {
                (Some(start), Some(end)) => end.saturating_sub(start),
                _ => 0,
            };
        }
        Ok(found)
    }

    /// Full traces for a Jaeger search in one query: the spans of the matching
    /// traces (no logs or invocations), at most [`EngineOptions::span_budget`](crate::query::EngineOptions::span_budget)
    /// spans in all. The flag is true when the budget cut the answer (the last
    /// trace may then miss spans, and older matches are left out).
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
        let traces = by_trace
            .into_iter()
            .filter_map(|(trace_id, spans)| {
                trace::assemble(
                    &trace_id,
                    spans,
                    Vec::new(),
                    Vec::new(),
                    self.options.price_per_gb_second,
                )
            })
            .collect();
        Ok((traces, truncated))
    }
}
