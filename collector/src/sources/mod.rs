//! Batched sources: many subscription payloads in, one set of segments out.
//!
//! A direct Lambda subscription delivers one small batch per invocation, and
//! each becomes up to four Parquet objects. The buffered paths hand the
//! collector many payloads at once (DESIGN.md "Sources: fewer, larger batches"):
//! - [`kinesis`]: a Kinesis Data Streams event, up to 10,000 records of one shard;
//! - [`s3`]: an object that Firehose delivered to S3 (concatenated gzip members,
//!   each of concatenated payloads), read as a stream and split into members as
//!   the bytes arrive (`members`);
//! - [`firehose`]: a Firehose HTTP endpoint request;
//! - [`files`]: files and directories of deliveries (`tracelake ingest`).
//!
//! Each collects its payloads into a [`Batch`], which merges the events of each
//! log stream across deliveries (in delivery order, without the duplicates a
//! retried delivery brings), correlates each stream once, and writes all rows
//! as one segment per table and hour. The segment's name comes from the input's
//! identity (shard and sequence numbers; bucket, key and ETag; request id; file
//! contents), so a retried batch overwrites the same objects.

pub mod files;
pub mod firehose;
pub mod kinesis;
mod members;
pub mod s3;

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::correlate::CorrelatedBatch;
use crate::counters::IngestCounters;
use crate::decode::{DecodeLimits, DecodedPayload, LogBatch, LogEvent, Payload, QuarantinedEvent};
use crate::index::schema::{HOUR_NANOS, HourPartition};
use crate::index::writer::{EncodedSegment, IndexError, IndexWriter, SEGMENT_PUTS_AT_ONCE};
use crate::pipeline::Collector;
use futures::{StreamExt, TryStreamExt};

/// Batch segment names are the index's, defined with the segment names of the
/// direct path.
pub use crate::index::writer::batch_segment_name;

/// The events of one log stream gathered from every payload of a batch.
#[derive(Debug, Default)]
struct StreamEvents {
    owner: String,
    events: Vec<LogEvent>,
    rejected: Vec<QuarantinedEvent>,
    seen: HashSet<String>,
}

/// Payloads gathered from one batched input, written as one set of segments.
///
/// Undecodable payloads are quarantined as they are added (their bytes are in
/// hand then); everything else waits for [`Batch::finish`].
#[derive(Debug)]
pub struct Batch<'a> {
    collector: &'a Collector,
    segment: String,
    source: String,
    streams: BTreeMap<(String, String), StreamEvents>,
    counters: IngestCounters,
    log_text_bytes: usize,
}

impl<'a> Batch<'a> {
    /// An empty batch that will be written as `segment`; `source` names the
    /// input in logs and quarantine records.
    pub fn new(collector: &'a Collector, segment: String, source: String) -> Batch<'a> {
        Batch {
            collector,
            segment,
            source,
            streams: BTreeMap::new(),
            counters: IngestCounters::default(),
            log_text_bytes: 0,
        }
    }

    /// The segment name the batch will be written as.
    pub fn segment(&self) -> &str {
        &self.segment
    }

    /// Renames the segment the batch will be written as (a caller that names
    /// it from everything it holds knows the name only at the end).
    pub fn set_segment(&mut self, segment: String) {
        self.segment = segment;
    }

    /// Events gathered so far, duplicates left out.
    pub fn events(&self) -> usize {
        self.streams.values().map(|s| s.events.len()).sum()
    }

    /// Bytes of log text gathered so far (the batch's memory, roughly).
    pub fn log_text_bytes(&self) -> usize {
        self.log_text_bytes
    }

    /// Adds decoded payloads. A payload that failed to decode is quarantined now
    /// with its reason; `source` names where it came from within the batch.
    ///
    /// # Errors
    /// Only when the quarantine record cannot be written to the store.
    pub async fn add(
        &mut self,
        payloads: Vec<DecodedPayload>,
        source: &str,
    ) -> Result<(), IndexError> {
        for payload in payloads {
            self.counters.payloads += 1;
            match payload {
                Ok(Payload::Control) => {
                    self.counters.control_messages += 1;
                    tracing::info!(target: "tracelake::collector", source, control_messages = 1, "ControlMessageReceived");
                }
                Ok(Payload::Data(batch)) => self.add_log_batch(batch),
                Err((error, bytes)) => {
                    self.collector
                        .quarantine_payload(source, &error.to_string(), &bytes)
                        .await?;
                    self.counters.payloads_quarantined += 1;
                }
            }
        }
        Ok(())
    }

    /// Quarantines input that never became a payload (an object too large to
    /// read), with its reason.
    ///
    /// # Errors
    /// Only when the quarantine record cannot be written to the store.
    pub async fn quarantine(
        &mut self,
        source: &str,
        reason: &str,
        bytes: &[u8],
    ) -> Result<(), IndexError> {
        self.collector
            .quarantine_payload(source, reason, bytes)
            .await?;
        self.counters.payloads += 1;
        self.counters.payloads_quarantined += 1;
        Ok(())
    }

    fn add_log_batch(&mut self, batch: LogBatch) {
        self.counters.events_in += batch.events_in() as u64;
        let stream = self
            .streams
            .entry((batch.log_group, batch.log_stream))
            .or_default();
        if stream.owner.is_empty() {
            stream.owner = batch.owner;
        }
        stream.rejected.extend(batch.rejected);
        for event in batch.events {
            // CloudWatch's event id is unique within a log group; a retried
            // delivery in the same batch repeats it.
            if !stream.seen.insert(event.id.clone()) {
                self.counters.events_duplicate += 1;
                continue;
            }
            self.log_text_bytes += event.message.len();
            stream.events.push(event);
        }
    }

    /// Correlates each log stream's events and writes all rows as one segment
    /// per table and hour. Returns what happened to every event added.
    ///
    /// # Errors
    /// When the store cannot be written (or rows cannot be encoded, a bug); the
    /// whole input should then be retried, and its retry overwrites.
    pub async fn finish(self) -> Result<IngestCounters, IndexError> {
        Ok(self.finish_with_hours().await?.0)
    }

    /// As [`Batch::finish`], also returning the hour partitions the rows were
    /// written to (every table's), so that a caller can compact them.
    ///
    /// # Errors
    /// As [`Batch::finish`].
    pub async fn finish_with_hours(
        self,
    ) -> Result<(IngestCounters, BTreeSet<HourPartition>), IndexError> {
        let collector = self.collector;
        self.into_gathered().prepare()?.write(collector).await
    }

    /// What the batch gathered, without the collector: the part of finishing
    /// that needs no store can run on another thread ([`GatheredBatch::prepare`]).
    fn into_gathered(self) -> GatheredBatch {
        GatheredBatch {
            limits: *self.collector.limits(),
            segment: self.segment,
            source: self.source,
            streams: self.streams,
            counters: self.counters,
        }
    }
}

/// A batch's payloads, gathered and not yet correlated.
#[derive(Debug)]
struct GatheredBatch {
    limits: DecodeLimits,
    segment: String,
    source: String,
    streams: BTreeMap<(String, String), StreamEvents>,
    counters: IngestCounters,
}

impl GatheredBatch {
    /// Correlates each log stream's events and encodes all rows as the files
    /// of one segment: the CPU work of finishing a batch, on all cores.
    fn prepare(self) -> Result<PreparedBatch, IndexError> {
        let GatheredBatch {
            limits,
            segment,
            source,
            streams,
            mut counters,
        } = self;
        let stream_count = streams.len();
        let batches: Vec<(usize, LogBatch)> = streams
            .into_iter()
            .enumerate()
            .filter(|(_, (_, stream))| !stream.events.is_empty() || !stream.rejected.is_empty())
            .map(|(number, ((log_group, log_stream), stream))| {
                let batch = LogBatch {
                    owner: stream.owner,
                    log_group,
                    log_stream,
                    events: stream.events,
                    rejected: stream.rejected,
                };
                (number, batch)
            })
            .collect();
        // Each stream is parsed and correlated on its own, so streams go to all
        // cores; the results are gathered in stream order, as one thread would.
        let correlated: Vec<_> = {
            use rayon::prelude::*;
            batches
                .into_par_iter()
                .map(|(number, mut batch)| {
                    // Deliveries of one stream can arrive out of order (across
                    // shards or retries); within a delivery CloudWatch keeps write
                    // order, which a stable sort on the timestamp preserves for ties.
                    batch.events.sort_by_key(|event| event.timestamp_ms);
                    let (log_group, log_stream) =
                        (batch.log_group.clone(), batch.log_stream.clone());
                    (
                        number,
                        log_group,
                        log_stream,
                        crate::pipeline::parse_and_correlate(batch, &limits),
                    )
                })
                .collect()
        };
        // Sized first: growing these copied a large group's rows over and over.
        let rows_of = |rows: fn(&CorrelatedBatch) -> usize| {
            correlated.iter().map(|(_, _, _, batch)| rows(batch)).sum()
        };
        let mut spans = Vec::with_capacity(rows_of(|batch| batch.spans.len()));
        let mut logs = Vec::with_capacity(rows_of(|batch| batch.logs.len()));
        let mut invocations = Vec::with_capacity(rows_of(|batch| batch.invocations.len()));
        let mut quarantined_batches = Vec::new();
        for (number, log_group, log_stream, correlated) in correlated {
            counters.events_indexed += correlated.events_indexed;
            counters.events_quarantined += correlated.quarantined.len() as u64;
            spans.extend(correlated.spans);
            logs.extend(correlated.logs);
            invocations.extend(correlated.invocations);
            if !correlated.quarantined.is_empty() {
                quarantined_batches.push((number, log_group, log_stream, correlated.quarantined));
            }
        }
        // By hour number first: one formatted date per hour, not per row.
        let hours: BTreeSet<HourPartition> = spans
            .iter()
            .map(|row| row.start_time_ns)
            .chain(logs.iter().map(|row| row.timestamp_ns))
            .chain(invocations.iter().map(|row| row.end_time_ns))
            .map(|nanos| nanos.div_euclid(HOUR_NANOS))
            .collect::<BTreeSet<i64>>()
            .into_iter()
            .map(HourPartition::of_hour_number)
            .collect();
        let encoded = if !spans.is_empty() || !logs.is_empty() || !invocations.is_empty() {
            Some(IndexWriter::encode_rows(spans, logs, invocations)?)
        } else {
            None
        };
        Ok(PreparedBatch {
            segment,
            source,
            stream_count,
            counters,
            hours,
            encoded,
            quarantined_batches,
        })
    }
}

/// A batch correlated and encoded, not yet written.
#[derive(Debug)]
struct PreparedBatch {
    segment: String,
    source: String,
    stream_count: usize,
    counters: IngestCounters,
    hours: BTreeSet<HourPartition>,
    encoded: Option<EncodedSegment>,
    /// Per log stream (its number in the batch, group, stream): the events
    /// that did not become rows.
    quarantined_batches: Vec<(usize, String, String, Vec<QuarantinedEvent>)>,
}

impl PreparedBatch {
    /// Writes the segment's files and the quarantined events, and logs the
    /// batch. Returns what happened to every event added, and the hours written.
    async fn write(
        self,
        collector: &Collector,
    ) -> Result<(IngestCounters, BTreeSet<HourPartition>), IndexError> {
        let PreparedBatch {
            segment,
            source,
            stream_count,
            mut counters,
            hours,
            encoded,
            quarantined_batches,
        } = self;
        // The segment's files and its quarantine records are put together, as
        // on the direct path (`Collector::ingest`): each PUT is a round trip.
        let files = async {
            match encoded {
                Some(encoded) => collector
                    .writer()
                    .put_segment(&segment, encoded)
                    .await
                    .map(Some),
                None => Ok(None),
            }
        };
        let (segment_name, source_name) = (&segment, &source);
        let records = futures::stream::iter(quarantined_batches.into_iter().map(
            |(number, log_group, log_stream, quarantined)| async move {
                collector
                    .quarantine_events(
                        &format!("{segment_name}-{number:05}"),
                        source_name,
                        &log_group,
                        &log_stream,
                        &quarantined,
                    )
                    .await
            },
        ))
        .buffer_unordered(SEGMENT_PUTS_AT_ONCE)
        .try_collect::<()>();
        if let (Some(written), ()) = futures::try_join!(files, records)? {
            counters.span_rows = written.spans;
            counters.log_rows = written.logs;
            counters.invocation_rows = written.invocations;
        }
        tracing::info!(
            target: "tracelake::collector",
            source,
            segment = %segment,
            log_streams = stream_count,
            payloads = counters.payloads,
            events_in = counters.events_in,
            events_duplicate = counters.events_duplicate,
            events_indexed = counters.events_indexed,
            events_quarantined = counters.events_quarantined,
            span_rows = counters.span_rows,
            log_rows = counters.log_rows,
            invocation_rows = counters.invocation_rows,
            "BatchIndexed"
        );
        Ok((counters, hours))
    }
}
