//! Kinesis Data Streams events: CloudWatch Logs → Kinesis → the collector.
//!
//! Each record's data is one gzipped subscription payload (DATA_MESSAGE or
//! CONTROL_MESSAGE), as a subscription filter or account-level policy with a
//! Kinesis destination writes it. One invocation, up to 10,000 records of one
//! shard, becomes one set of segments named by the stream, the shard and the
//! first and last sequence numbers, so a retried batch overwrites.
//!
//! The response is a partial batch response (`ReportBatchItemFailures` on the
//! event source mapping). Bad input is quarantined and acknowledged, never
//! reported as a failure (it would be retried forever and block the shard).
//! Only records that could not be written are reported; since all records of an
//! invocation share one segment, a write failure reports them all and Lambda
//! retries the batch from the first one.

use aws_lambda_events::event::kinesis::KinesisEvent;
use aws_lambda_events::event::streams::KinesisEventResponse;

use super::{Batch, batch_segment_name};
use crate::counters::IngestCounters;
use crate::decode;
use crate::pipeline::Collector;

/// What one Kinesis invocation did: the response for Lambda and the counters.
#[derive(Debug, Clone, Default)]
pub struct KinesisOutcome {
    /// The partial batch response to return to Lambda.
    pub response: KinesisEventResponse,
    /// What happened to the events of all records.
    pub counters: IngestCounters,
    /// The segment written.
    pub segment: String,
}

/// The shard of a record: its event id is `shardId-000000000000:<sequence number>`.
fn shard_of(event_id: Option<&str>) -> &str {
    event_id
        .and_then(|id| id.split_once(':'))
        .map_or("", |(shard, _)| shard)
}

/// The stream name of `arn:aws:kinesis:<region>:<account>:stream/<name>`.
fn stream_of(arn: Option<&str>) -> &str {
    arn.and_then(|arn| arn.rsplit_once("stream/"))
        .map_or("", |(_, name)| name)
}

/// The segment name of a Kinesis batch: stream, shard, first and last sequence
/// numbers and the record count.
pub fn kinesis_segment_name(event: &KinesisEvent) -> String {
    let first = event.records.first();
    let last = event.records.last();
    let shard = shard_of(first.and_then(|r| r.event_id.as_deref()));
    let stream = stream_of(first.and_then(|r| r.event_source_arn.as_deref()));
    let first_sequence = first.map_or("", |r| r.kinesis.sequence_number.as_str());
    let last_sequence = last.map_or("", |r| r.kinesis.sequence_number.as_str());
    let count = event.records.len().to_string();
    batch_segment_name(
        "kinesis",
        shard,
        &[stream, shard, first_sequence, last_sequence, &count],
    )
}

/// Handles one Kinesis event: decodes every record, writes one set of
/// segments, and answers with the records that could not be written.
pub async fn handle_kinesis_event(collector: &Collector, event: KinesisEvent) -> KinesisOutcome {
    let segment = kinesis_segment_name(&event);
    let mut outcome = KinesisOutcome {
        segment: segment.clone(),
        ..KinesisOutcome::default()
    };
    if event.records.is_empty() {
        return outcome;
    }
    let mut batch = Batch::new(collector, segment.clone(), format!("kinesis:{segment}"));
    let mut failure = None;
    for record in &event.records {
        let source = format!(
            "kinesis:{}:{}",
            stream_of(record.event_source_arn.as_deref()),
            record.event_id.as_deref().unwrap_or_default()
        );
        let payloads = decode::decode_input(&record.kinesis.data.0, collector.limits());
        if let Err(error) = batch.add(payloads, &source).await {
            failure = Some(error);
            break;
        }
    }
    let result = match failure {
        Some(error) => Err(error),
        None => batch.finish().await,
    };
    match result {
        Ok(counters) => outcome.counters = counters,
        Err(error) => {
            tracing::error!(target: "tracelake::collector", segment = %segment, records = event.records.len(), %error, "KinesisBatchWriteError");
            outcome.response.set_failures(
                event
                    .records
                    .iter()
                    .map(|record| record.kinesis.sequence_number.clone()),
            );
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_and_stream_come_from_the_event_id_and_arn() {
        assert_eq!(
            shard_of(Some(
                "shardId-000000000003:49590338271490256608559692538361571095921575989136588898"
            )),
            "shardId-000000000003"
        );
        assert_eq!(shard_of(None), "");
        assert_eq!(
            stream_of(Some(
                "arn:aws:kinesis:us-east-1:123456789012:stream/tracelake-logs"
            )),
            "tracelake-logs"
        );
    }
}
