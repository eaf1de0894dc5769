//! The whole collector for one input: decode → parse → correlate → index, with
//! counters and one structured log line per payload.

use crate::correlate::{self, CorrelatedBatch};
use crate::counters::IngestCounters;
use crate::decode::{self, DecodeLimits, DecodedPayload, Payload, QuarantinedEvent};
use crate::index::IndexStore;
use crate::index::writer::{IndexError, IndexWriter, QuarantineEvent, segment_name};
use crate::parse;

/// The parse and correlate stages for one log stream's batch:
/// [`parse::parse_batch`] then [`correlate::link`].
pub fn parse_and_correlate(batch: decode::LogBatch, limits: &DecodeLimits) -> CorrelatedBatch {
    correlate::link(parse::parse_batch(batch, limits))
}

/// Ingests inputs into one index.
#[derive(Clone, Debug)]
pub struct Collector {
    writer: IndexWriter,
    limits: DecodeLimits,
}

impl Collector {
    /// A collector writing into `store` with the default limits.
    pub fn new(store: IndexStore) -> Collector {
        Collector::with_limits(store, DecodeLimits::default())
    }

    /// A collector with explicit decode limits.
    pub fn with_limits(store: IndexStore, limits: DecodeLimits) -> Collector {
        Collector {
            writer: IndexWriter::new(store),
            limits,
        }
    }

    /// The store written to.
    pub fn store(&self) -> &IndexStore {
        self.writer.store()
    }

    /// The decode limits in force.
    pub fn limits(&self) -> &DecodeLimits {
        &self.limits
    }

    /// The writer of segments and quarantine records.
    pub fn writer(&self) -> &IndexWriter {
        &self.writer
    }

    /// Ingests any accepted input (see [`decode`]); `source` names it in logs and
    /// quarantine records. Bad input is quarantined and counted, never an error.
    ///
    /// # Errors
    /// [`IndexError`] only when the store cannot be written, or rows cannot be
    /// encoded (a bug): the caller should retry the input.
    pub async fn ingest(&self, bytes: &[u8], source: &str) -> Result<IngestCounters, IndexError> {
        let payloads = decode::decode_input(bytes, &self.limits);
        self.ingest_payloads(payloads, source).await
    }

    /// Ingests the `awslogs.data` string of a Lambda subscription event.
    ///
    /// # Errors
    /// As [`Collector::ingest`]: only when the store cannot be written.
    pub async fn ingest_lambda_event_data(
        &self,
        data: &str,
        source: &str,
    ) -> Result<IngestCounters, IndexError> {
        let payloads = decode::decode_lambda_event_data(data, &self.limits);
        self.ingest_payloads(payloads, source).await
    }

    /// Quarantines input that did not decode (or never became a payload) with
    /// its reason, and logs it: the one place payloads are quarantined, for the
    /// direct and the batched paths. Returns the quarantine record's location.
    ///
    /// # Errors
    /// [`IndexError`] when the quarantine record cannot be written.
    pub async fn quarantine_payload(
        &self,
        source: &str,
        reason: &str,
        bytes: &[u8],
    ) -> Result<String, IndexError> {
        let location = self
            .writer
            .quarantine_payload(source, reason, bytes)
            .await?;
        tracing::warn!(target: "tracelake::collector", source, %reason, quarantine = %location, payloads_quarantined = 1, "PayloadQuarantined");
        Ok(location)
    }

    /// Quarantines the events of one log stream's batch that did not become
    /// rows, each with its reason, in one record named after `segment`. Does
    /// nothing for no events.
    ///
    /// # Errors
    /// [`IndexError`] when the quarantine record cannot be written.
    pub async fn quarantine_events(
        &self,
        segment: &str,
        source: &str,
        log_group: &str,
        log_stream: &str,
        events: &[QuarantinedEvent],
    ) -> Result<(), IndexError> {
        if events.is_empty() {
            return Ok(());
        }
        self.writer
            .quarantine_events(
                segment,
                source,
                log_group,
                log_stream,
                events.iter().map(|q| QuarantineEvent {
                    id: &q.event.id,
                    timestamp_ms: q.event.timestamp_ms,
                    reason: &q.reason,
                    message: &q.event.message,
                }),
            )
            .await?;
        Ok(())
    }

    async fn ingest_payloads(
        &self,
        payloads: Vec<DecodedPayload>,
        source: &str,
    ) -> Result<IngestCounters, IndexError> {
        let mut total = IngestCounters::default();
        for payload in payloads {
            total += self.ingest_payload(payload, source).await?;
        }
        Ok(total)
    }

    async fn ingest_payload(
        &self,
        payload: DecodedPayload,
        source: &str,
    ) -> Result<IngestCounters, IndexError> {
        let mut counters = IngestCounters {
            payloads: 1,
            ..IngestCounters::default()
        };
        let batch = match payload {
            Ok(Payload::Control) => {
                counters.control_messages = 1;
                tracing::info!(target: "tracelake::collector", source, control_messages = 1, "ControlMessageReceived");
                return Ok(counters);
            }
            Err((error, bytes)) => {
                self.quarantine_payload(source, &error.to_string(), &bytes)
                    .await?;
                counters.payloads_quarantined = 1;
                return Ok(counters);
            }
            Ok(Payload::Data(batch)) => batch,
        };
        counters.events_in = batch.events_in() as u64;
        // Named by the events read, or, when every one was rejected, by those.
        let ids = |events: &[decode::LogEvent]| {
            Some((events.first()?.id.clone(), events.last()?.id.clone()))
        };
        let rejected: Vec<decode::LogEvent> =
            batch.rejected.iter().map(|q| q.event.clone()).collect();
        let segment = match ids(&batch.events).or_else(|| ids(&rejected)) {
            Some((first, last)) => segment_name(
                &batch.log_group,
                &batch.log_stream,
                &first,
                &last,
                batch.events_in(),
            ),
            None => return Ok(counters),
        };
        let log_group = batch.log_group.clone();
        let log_stream = batch.log_stream.clone();
        let correlated = parse_and_correlate(batch, &self.limits);
        let quarantined = correlated.quarantined;
        // An encode error is our own bug, not bad input: it fails the input so
        // that Lambda retries and, failing that, keeps it in its failure destination.
        let encoded =
            IndexWriter::encode_rows(correlated.spans, correlated.logs, correlated.invocations)?;
        // The segment's files and the quarantine record are put together: on
        // S3 each PUT is a round trip that the Lambda is billed for. Both are
        // named after the segment, so a retry after a failed PUT overwrites
        // whichever was written.
        let (written, ()) = futures::try_join!(
            self.writer.put_segment(&segment, encoded),
            self.quarantine_events(&segment, source, &log_group, &log_stream, &quarantined),
        )?;
        counters.span_rows = written.spans;
        counters.log_rows = written.logs;
        counters.invocation_rows = written.invocations;
        counters.events_indexed = correlated.events_indexed;
        counters.events_quarantined = quarantined.len() as u64;
        tracing::info!(
            target: "tracelake::collector",
            source,
            log_group = %log_group,
            log_stream = %log_stream,
            segment = %segment,
            events_in = counters.events_in,
            events_indexed = counters.events_indexed,
            events_quarantined = counters.events_quarantined,
            span_rows = counters.span_rows,
            log_rows = counters.log_rows,
            invocation_rows = counters.invocation_rows,
            "BatchIndexed"
        );
        Ok(counters)
    }
}
