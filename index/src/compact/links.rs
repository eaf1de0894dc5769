//! Links that need another batch, resolved during compaction (issue 8, part B).
//!
//! Compaction feeds every row it reads to a [`LinkEvidence`]: the rows of the
//! hour being compacted and, when [`LinkEvidence::READS_NEIGHBOUR_HOURS`] is
//! set, the live rows of the hours before and after it ([`Origin`] says which).
//! Rows may be observed more than once (a duplicate is observed before dedupe),
//! so evidence must be idempotent. Once every row has been observed, compaction
//! calls [`LinkEvidence::resolve`] on each deduplicated log row of the hour that
//! has no `trace_id`, before sorting (a resolved row moves to its trace).
//!
//! This first version links nothing: it keeps the ingest-time links as they
//! are. Part B replaces the body with request id → trace and stream-position
//! resolution, under the ingest precision rule (two traces for one request link
//! nothing).

use crate::rows::{InvocationRow, LogRow, SpanRow};
use crate::schema::HourPartition;

/// Where an observed row comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The hour being compacted.
    ThisHour,
    /// The hour before or after it (evidence only; never rewritten).
    NeighbourHour,
}

/// What compaction has learnt about request ids, streams and traces.
#[derive(Debug, Default)]
pub struct LinkEvidence {}

impl LinkEvidence {
    /// Whether compaction must read the neighbour hours' live spans,
    /// invocations and logs into [`LinkEvidence::observe_span`] and friends.
    pub const READS_NEIGHBOUR_HOURS: bool = false;

    /// Evidence for compacting `hour`.
    pub fn new(_hour: &HourPartition) -> LinkEvidence {
        LinkEvidence {}
    }

    /// Observes one span.
    pub fn observe_span(&mut self, _span: &SpanRow, _origin: Origin) {}

    /// Observes one invocation.
    pub fn observe_invocation(&mut self, _invocation: &InvocationRow, _origin: Origin) {}

    /// Observes one log row (including platform lines: `START`, `END`, `REPORT`).
    pub fn observe_log(&mut self, _log: &LogRow, _origin: Origin) {}

    /// Links one unlinked log row of the hour if the evidence allows; returns
    /// whether it did (then `trace_id` and `link` are set).
    pub fn resolve(&self, _log: &mut LogRow) -> bool {
        false
    }
}
