//! Natural keys, how duplicates merge, and the sort order of compacted files.
//!
//! Natural keys (DESIGN.md "Index engine"): logs by CloudWatch event
//! (`log_group`, `log_stream`, `event_id`), spans by (`trace_id`, `span_id`),
//! invocations by `request_id`. Copies of one key come from retried or
//! re-batched deliveries; they merge into one row whatever the order they are
//! met in, so that any order and split of the same events compacts to the same
//! files.

use std::cmp::Ordering;
use std::hash::Hash;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::error::ArrowError;

use crate::columns::{self, RowsError};
use crate::rows::{
    InvocationRow, InvocationStatus, Link, LogRow, SpanId, SpanRow, TraceId, TraceIndexRow,
};
use crate::schema;

/// A row of a table that compaction merges and sorts.
pub trait CompactRow: Sized + Send + 'static {
    /// The table's name.
    const TABLE: &'static str;
    /// What identifies one real-world record.
    type Key: Hash + Eq + Ord + Clone + Send;

    /// The row's natural key.
    fn natural_key(&self) -> Self::Key;
    /// One row from two copies of the same key; commutative, so the result
    /// does not depend on which copy came first.
    fn merge(self, other: Self) -> Self;
    /// The order of rows in a compacted file: by `trace_id`, then time, then key.
    fn output_cmp(&self, other: &Self) -> Ordering;
    /// The row's `trace_id`, for the file's min/max in the manifest.
    fn trace_id(&self) -> Option<TraceId>;
    /// About how many bytes the row takes in memory.
    fn estimated_bytes(&self) -> usize;
    /// Rows to a record batch.
    ///
    /// # Errors
    /// Arrow's, if the rows cannot be encoded (a bug).
    fn to_batch(rows: &[Self]) -> Result<RecordBatch, ArrowError>;
    /// A record batch to rows.
    ///
    /// # Errors
    /// [`RowsError`] for a batch that is not this table's.
    fn from_batch(batch: &RecordBatch) -> Result<Vec<Self>, RowsError>;
}

fn pairs_bytes(pairs: &[(String, String)]) -> usize {
    pairs.iter().map(|(k, v)| k.len() + v.len() + 48).sum()
}

fn option_bytes(value: &Option<impl AsRef<str>>) -> usize {
    value.as_ref().map_or(0, |value| value.as_ref().len())
}

/// Orders optional trace ids with the unlinked rows last.
fn trace_order(a: Option<TraceId>, b: Option<TraceId>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.cmp(&b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// The smaller of two options' values, or the one that is set.
fn min_some<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl CompactRow for SpanRow {
    const TABLE: &'static str = schema::SPANS;
    type Key = (TraceId, SpanId);

    fn natural_key(&self) -> Self::Key {
        (self.trace_id, self.span_id)
    }

    fn merge(self, other: Self) -> Self {
        // Copies of a span come from one span line: equal in practice. Should
        // they differ, the later-ending one wins, then the larger by content.
        let key = |s: &SpanRow| (s.end_time_ns, s.attributes.len(), s.events.len());
        match key(&self).cmp(&key(&other)) {
            Ordering::Less => other,
            Ordering::Greater => self,
            Ordering::Equal => {
                if (&other.log_group, &other.log_stream) < (&self.log_group, &self.log_stream) {
                    other
                } else {
                    self
                }
            }
        }
    }

    fn output_cmp(&self, other: &Self) -> Ordering {
        (&self.trace_id, self.start_time_ns, &self.span_id).cmp(&(
            &other.trace_id,
            other.start_time_ns,
            &other.span_id,
        ))
    }

    fn trace_id(&self) -> Option<TraceId> {
        Some(self.trace_id)
    }

    fn estimated_bytes(&self) -> usize {
        std::mem::size_of::<SpanRow>()
            + self.name.len()
            + self.service.len()
            + option_bytes(&self.status_message)
            + option_bytes(&self.request_id)
            + option_bytes(&self.faas_name)
            + option_bytes(&self.faas_trigger)
            + option_bytes(&self.cloud_region)
            + option_bytes(&self.cloud_account_id)
            + pairs_bytes(&self.attributes)
            + pairs_bytes(&self.resource_attributes)
            + self
                .events
                .iter()
                .map(|e| 64 + e.name.len() + pairs_bytes(&e.attributes))
                .sum::<usize>()
            + self
                .links
                .iter()
                .map(|l| 64 + pairs_bytes(&l.attributes))
                .sum::<usize>()
            + self.log_group.len()
            + self.log_stream.len()
    }

    fn to_batch(rows: &[Self]) -> Result<RecordBatch, ArrowError> {
        columns::spans_batch(rows)
    }

    fn from_batch(batch: &RecordBatch) -> Result<Vec<Self>, RowsError> {
        columns::spans_from_batch(batch)
    }
}

fn link_strength(link: Option<Link>) -> u8 {
    match link {
        Some(Link::TraceId) => 3,
        Some(Link::RequestId) => 2,
        Some(Link::Stream) => 1,
        None => 0,
    }
}

impl CompactRow for LogRow {
    const TABLE: &'static str = schema::LOGS;
    type Key = (Arc<str>, Arc<str>, String);

    fn natural_key(&self) -> Self::Key {
        (
            self.log_group.clone(),
            self.log_stream.clone(),
            self.event_id.clone(),
        )
    }

    fn merge(self, other: Self) -> Self {
        // A copy linked by stronger evidence wins (a batch that held the
        // invocation's START links what another batch could not); between two
        // equally strong links, the smaller trace id, so that order never matters.
        let strength = |l: &LogRow| link_strength(l.link);
        match strength(&self).cmp(&strength(&other)) {
            Ordering::Less => other,
            Ordering::Greater => self,
            Ordering::Equal => {
                let key = |l: &LogRow| (l.trace_id, l.service.clone(), l.span_id);
                if key(&other) < key(&self) {
                    other
                } else {
                    self
                }
            }
        }
    }

    fn output_cmp(&self, other: &Self) -> Ordering {
        trace_order(self.trace_id, other.trace_id).then_with(|| {
            (
                self.timestamp_ns,
                &self.log_group,
                &self.log_stream,
                &self.event_id,
            )
                .cmp(&(
                    other.timestamp_ns,
                    &other.log_group,
                    &other.log_stream,
                    &other.event_id,
                ))
        })
    }

    fn trace_id(&self) -> Option<TraceId> {
        self.trace_id
    }

    fn estimated_bytes(&self) -> usize {
        std::mem::size_of::<LogRow>()
            + option_bytes(&self.request_id)
            + option_bytes(&self.service)
            + self.message.len()
            + pairs_bytes(&self.attributes)
            + self.log_group.len()
            + self.log_stream.len()
            + self.event_id.len()
    }

    fn to_batch(rows: &[Self]) -> Result<RecordBatch, ArrowError> {
        columns::logs_batch(rows)
    }

    fn from_batch(batch: &RecordBatch) -> Result<Vec<Self>, RowsError> {
        columns::logs_from_batch(batch)
    }
}

fn status_severity(status: InvocationStatus) -> u8 {
    match status {
        InvocationStatus::Success => 0,
        InvocationStatus::Error => 1,
        InvocationStatus::Timeout => 2,
    }
}

impl CompactRow for InvocationRow {
    const TABLE: &'static str = schema::INVOCATIONS;
    type Key = String;

    fn natural_key(&self) -> Self::Key {
        self.request_id.clone()
    }

    fn merge(self, other: Self) -> Self {
        // Copies of one REPORT differ by what else their batch held (its START,
        // a timeout line, the trace): keep every fact either copy knew.
        let status = if status_severity(other.status) > status_severity(self.status) {
            other.status
        } else {
            self.status
        };
        InvocationRow {
            function_version: min_some(self.function_version, other.function_version),
            start_time_ns: min_some(self.start_time_ns, other.start_time_ns),
            end_time_ns: self.end_time_ns.max(other.end_time_ns),
            billed_duration_ms: self.billed_duration_ms.or(other.billed_duration_ms),
            memory_size_mb: self.memory_size_mb.or(other.memory_size_mb),
            max_memory_used_mb: self.max_memory_used_mb.or(other.max_memory_used_mb),
            init_duration_ms: self.init_duration_ms.or(other.init_duration_ms),
            cold_start: self.cold_start || other.cold_start,
            status,
            error_type: min_some(self.error_type, other.error_type),
            trace_id: min_some(self.trace_id, other.trace_id),
            sampled: self.sampled.or(other.sampled),
            ..self
        }
    }

    fn output_cmp(&self, other: &Self) -> Ordering {
        trace_order(self.trace_id, other.trace_id).then_with(|| {
            (self.end_time_ns, &self.request_id).cmp(&(other.end_time_ns, &other.request_id))
        })
    }

    fn trace_id(&self) -> Option<TraceId> {
        self.trace_id
    }

    fn estimated_bytes(&self) -> usize {
        std::mem::size_of::<InvocationRow>()
            + self.request_id.len()
            + self.function.len()
            + option_bytes(&self.function_version)
            + self.log_group.len()
            + self.log_stream.len()
            + option_bytes(&self.error_type)
    }

    fn to_batch(rows: &[Self]) -> Result<RecordBatch, ArrowError> {
        columns::invocations_batch(rows)
    }

    fn from_batch(batch: &RecordBatch) -> Result<Vec<Self>, RowsError> {
        columns::invocations_from_batch(batch)
    }
}

impl CompactRow for TraceIndexRow {
    const TABLE: &'static str = schema::TRACE_INDEX;
    type Key = TraceId;

    fn natural_key(&self) -> Self::Key {
        self.trace_id
    }

    fn merge(self, other: Self) -> Self {
        // Compaction rebuilds trace_index rather than merging it; a merge of
        // two summaries of one trace is their union.
        let mut services = self.services;
        for service in other.services {
            if !services.contains(&service) {
                services.push(service);
            }
        }
        services.sort();
        TraceIndexRow {
            min_start_ns: self.min_start_ns.min(other.min_start_ns),
            max_end_ns: self.max_end_ns.max(other.max_end_ns),
            root_service: min_some(self.root_service, other.root_service),
            root_name: min_some(self.root_name, other.root_name),
            span_count: self.span_count + other.span_count,
            error_count: self.error_count + other.error_count,
            services,
            ..self
        }
    }

    fn output_cmp(&self, other: &Self) -> Ordering {
        self.trace_id.cmp(&other.trace_id)
    }

    fn trace_id(&self) -> Option<TraceId> {
        Some(self.trace_id)
    }

    fn estimated_bytes(&self) -> usize {
        std::mem::size_of::<TraceIndexRow>()
            + option_bytes(&self.root_service)
            + option_bytes(&self.root_name)
            + self.services.iter().map(|s| s.len() + 24).sum::<usize>()
    }

    fn to_batch(rows: &[Self]) -> Result<RecordBatch, ArrowError> {
        columns::trace_index_batch(rows)
    }

    fn from_batch(batch: &RecordBatch) -> Result<Vec<Self>, RowsError> {
        columns::trace_index_from_batch(batch)
    }
}
