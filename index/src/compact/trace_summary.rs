//! `trace_index` rows rebuilt by compaction: one row per trace and hour
//! (issue 8, part B extends it).
//!
//! Compaction calls [`TraceSummaries::observe_span`], `observe_log` and
//! `observe_invocation` with every row it writes for the hour, in their final
//! form (deduplicated, links resolved), then [`TraceSummaries::finish`] for the
//! rows of the compacted `trace_index`, which it sorts by `trace_id`.
//!
//! This first version summarises spans only (as the collector does per
//! segment); part B adds the traces seen only in logs and invocations.

use std::collections::HashMap;

use crate::rows::{InvocationRow, LogRow, SpanRow, TraceIndexRow};
use crate::writer::trace_index_rows;

/// The traces of one hour, as they are being written.
#[derive(Debug, Default)]
pub struct TraceSummaries {
    traces: HashMap<String, TraceIndexRow>,
}

impl TraceSummaries {
    /// No traces yet.
    pub fn new() -> TraceSummaries {
        TraceSummaries::default()
    }

    /// Adds one span to its trace.
    pub fn observe_span(&mut self, span: &SpanRow) {
        for summary in trace_index_rows(std::slice::from_ref(span)) {
            match self.traces.get_mut(&summary.trace_id) {
                Some(row) => merge_summary(row, summary),
                None => {
                    self.traces.insert(summary.trace_id.clone(), summary);
                }
            }
        }
    }

    /// Adds one log row to its trace (not yet: part B).
    pub fn observe_log(&mut self, _log: &LogRow) {}

    /// Adds one invocation to its trace (not yet: part B).
    pub fn observe_invocation(&mut self, _invocation: &InvocationRow) {}

    /// One row per trace, sorted by `trace_id`.
    pub fn finish(self) -> Vec<TraceIndexRow> {
        let mut rows: Vec<TraceIndexRow> = self.traces.into_values().collect();
        rows.sort_by(|a, b| a.trace_id.cmp(&b.trace_id));
        rows
    }
}

fn merge_summary(row: &mut TraceIndexRow, other: TraceIndexRow) {
    row.min_start_ns = row.min_start_ns.min(other.min_start_ns);
    row.max_end_ns = row.max_end_ns.max(other.max_end_ns);
    row.span_count += other.span_count;
    row.error_count += other.error_count;
    if other.root_service.is_some() {
        // Several roots (a broken trace): keep the smallest, whatever the order seen.
        let candidate = (other.root_service, other.root_name);
        let current = (row.root_service.take(), row.root_name.take());
        let chosen = if current.0.is_none() || candidate < current {
            candidate
        } else {
            current
        };
        row.root_service = chosen.0;
        row.root_name = chosen.1;
    }
    for service in other.services {
        if let Err(position) = row.services.binary_search(&service) {
            row.services.insert(position, service);
        }
    }
}
