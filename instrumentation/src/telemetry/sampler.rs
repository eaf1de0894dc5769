//! The sampler: record everything, keep the caller's sampling decision.

use std::cell::Cell;

use opentelemetry::KeyValue;
use opentelemetry::trace::TraceContextExt as _;
use opentelemetry_sdk::trace::ShouldSample;

thread_local! {
    /// The caller's decision for the next root span started on this thread:
    /// an X-Ray header can say `Sampled=0` without naming a parent segment,
    /// which OpenTelemetry cannot express as a parent context.
    static NEXT_ROOT_SAMPLED: Cell<Option<bool>> = const { Cell::new(None) };
}

/// Runs `f` with `sampled` as the caller's decision for any root span it
/// starts, on this thread (`None`: no decision, the span is sampled).
pub(crate) fn with_next_root_decision<R>(sampled: Option<bool>, f: impl FnOnce() -> R) -> R {
    let previous = NEXT_ROOT_SAMPLED.with(|slot| slot.replace(sampled));
    let result = f();
    NEXT_ROOT_SAMPLED.with(|slot| slot.set(previous));
    result
}

/// Every span is recorded and written (spans on stdout cost no per-trace
/// fee), but the sampling decision a caller made is kept: a span whose parent
/// is not sampled is recorded without the sampled flag, so that what it sends
/// on (`traceparent` flags, X-Ray `Sampled`) says what the caller said.
#[derive(Debug, Clone)]
pub(crate) struct RecordAllKeepDecision;

impl ShouldSample for RecordAllKeepDecision {
    fn should_sample(
        &self,
        parent_context: Option<&opentelemetry::Context>,
        _trace_id: opentelemetry::trace::TraceId,
        _name: &str,
        _span_kind: &opentelemetry::trace::SpanKind,
        _attributes: &[KeyValue],
        _links: &[opentelemetry::trace::Link],
    ) -> opentelemetry_sdk::trace::SamplingResult {
        use opentelemetry_sdk::trace::{SamplingDecision, SamplingResult};
        let parent = parent_context
            .filter(|cx| cx.has_active_span())
            .map(|cx| cx.span().span_context().clone());
        let decision = match &parent {
            Some(parent) if !parent.is_sampled() => SamplingDecision::RecordOnly,
            Some(_) => SamplingDecision::RecordAndSample,
            None if NEXT_ROOT_SAMPLED.with(Cell::get) == Some(false) => {
                SamplingDecision::RecordOnly
            }
            None => SamplingDecision::RecordAndSample,
        };
        SamplingResult {
            decision,
            attributes: Vec::new(),
            trace_state: parent
                .map(|parent| parent.trace_state().clone())
                .unwrap_or_default(),
        }
    }
}
