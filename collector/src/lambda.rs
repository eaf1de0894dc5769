//! The collector as a Lambda function: one binary behind every source, told
//! apart by the event's shape, each handler a plain function that tests call.
//!
//! | event | shape | handler |
//! |---|---|---|
//! | CloudWatch Logs subscription | `{"awslogs":{"data":…}}` | [`handle_subscription_event`] |
//! | Kinesis Data Streams | `{"Records":[{"eventSource":"aws:kinesis",…}]}` | [`crate::sources::kinesis::handle_kinesis_event`] |
//! | S3 object created (Firehose → S3) | `{"Records":[{"eventSource":"aws:s3",…}]}` | [`crate::sources::s3::handle_s3_event`] |
//!
//! An event of no known shape is quarantined and acknowledged: retrying it
//! would not make it readable.

use std::sync::Arc;

use aws_lambda_events::event::kinesis::KinesisEvent;
use aws_lambda_events::event::s3::S3Event;
use serde::Deserialize;

use crate::counters::IngestCounters;
use crate::index::IndexStore;
use crate::index::writer::IndexError;
use crate::pipeline::Collector;
use crate::sources::s3::{ObjectLimits, S3SourceError, handle_s3_event};

/// The environment variable naming the index root (`s3://bucket/prefix`).
pub const INDEX_URL_VARIABLE: &str = "TRACELAKE_INDEX_URL";

/// The Lambda event of a CloudWatch Logs subscription: `{"awslogs":{"data":…}}`.
///
/// Read as a plain string and decoded by [`crate::decode`] with its size limits,
/// rather than by `aws_lambda_events`' deserializer, which gunzips without bound.
#[derive(Debug, Clone, Deserialize)]
pub struct SubscriptionEvent {
    /// The subscription's payload.
    pub awslogs: SubscriptionData,
}

/// The `awslogs` member: base64 of a gzipped subscription payload.
#[derive(Debug, Clone, Deserialize)]
pub struct SubscriptionData {
    /// Base64 of the gzipped `DATA_MESSAGE` or `CONTROL_MESSAGE` JSON.
    pub data: String,
}

/// Handles one subscription event. Bad input is quarantined and acknowledged;
/// only a failed write to the store is an error, so that Lambda retries.
///
/// # Errors
/// When the index cannot be written.
pub async fn handle_subscription_event(
    collector: &Collector,
    event: SubscriptionEvent,
    request_id: &str,
) -> Result<IngestCounters, IndexError> {
    let source = format!("lambda:{request_id}");
    collector
        .ingest_lambda_event_data(&event.awslogs.data, &source)
        .await
}

/// Which source an event came from, read from its shape alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventShape {
    /// `{"awslogs":…}`.
    Subscription,
    /// `Records` with `eventSource` `aws:kinesis`.
    Kinesis,
    /// `Records` with `eventSource` `aws:s3`.
    S3,
    /// An EventBridge schedule (`"source": "aws.events"`): compaction and GC.
    Scheduled,
    /// Anything else.
    Unknown,
}

#[derive(Deserialize)]
struct ShapeProbe {
    awslogs: Option<serde::de::IgnoredAny>,
    source: Option<String>,
    #[serde(rename = "detail-type")]
    detail_type: Option<String>,
    #[serde(rename = "Records")]
    records: Option<Vec<RecordProbe>>,
}

#[derive(Deserialize)]
struct RecordProbe {
    #[serde(rename = "eventSource")]
    event_source: Option<String>,
}

/// Tells an event's source from its shape.
pub fn event_shape(event: &str) -> EventShape {
    let Ok(probe) = serde_json::from_str::<ShapeProbe>(event) else {
        return EventShape::Unknown;
    };
    if probe.awslogs.is_some() {
        return EventShape::Subscription;
    }
    if probe.source.as_deref() == Some("aws.events")
        && probe.detail_type.as_deref() == Some("Scheduled Event")
    {
        return EventShape::Scheduled;
    }
    let source = probe
        .records
        .as_ref()
        .and_then(|records| records.first())
        .and_then(|record| record.event_source.as_deref());
    match source {
        Some("aws:kinesis") => EventShape::Kinesis,
        Some("aws:s3") => EventShape::S3,
        _ => EventShape::Unknown,
    }
}

/// Why an invocation failed; Lambda then retries it.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The index could not be written.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// A delivered S3 object could not be read, or the index written.
    #[error(transparent)]
    S3(#[from] S3SourceError),
    /// The scheduled compaction or GC failed.
    #[error(transparent)]
    Maintenance(#[from] crate::maintenance::MaintenanceError),
}

/// Handles any event the collector is subscribed to and returns the response
/// for Lambda (the counters, or the partial batch response for Kinesis).
///
/// # Errors
/// When the index cannot be written or a delivered object cannot be read.
pub async fn handle_event(
    collector: &Collector,
    event: &str,
    request_id: &str,
) -> Result<serde_json::Value, HandlerError> {
    let quarantine_unreadable = |reason: String| async move {
        let location = collector
            .writer()
            .quarantine_payload(&format!("lambda:{request_id}"), &reason, event.as_bytes())
            .await
            .map_err(IndexError::from)?;
        tracing::warn!(target: "tracelake::collector", request_id, %reason, quarantine = %location, payloads_quarantined = 1, "PayloadQuarantined");
        let counters = IngestCounters {
            payloads: 1,
            payloads_quarantined: 1,
            ..IngestCounters::default()
        };
        Ok::<_, HandlerError>(serde_json::to_value(counters).unwrap_or_default())
    };
    match event_shape(event) {
        EventShape::Subscription => match serde_json::from_str::<SubscriptionEvent>(event) {
            Ok(subscription) => {
                let counters =
                    handle_subscription_event(collector, subscription, request_id).await?;
                Ok(serde_json::to_value(counters).unwrap_or_default())
            }
            Err(error) => {
                quarantine_unreadable(format!("unreadable subscription event: {error}")).await
            }
        },
        EventShape::Kinesis => match serde_json::from_str::<KinesisEvent>(event) {
            Ok(kinesis) => {
                let outcome =
                    crate::sources::kinesis::handle_kinesis_event(collector, kinesis).await;
                Ok(serde_json::to_value(outcome.response).unwrap_or_default())
            }
            Err(error) => {
                quarantine_unreadable(format!("unreadable kinesis event: {error}")).await?;
                // Acknowledged: an empty partial batch response is complete success.
                Ok(serde_json::to_value(
                    aws_lambda_events::event::streams::KinesisEventResponse::default(),
                )
                .unwrap_or_default())
            }
        },
        EventShape::S3 => match serde_json::from_str::<S3Event>(event) {
            Ok(s3) => {
                let counters =
                    handle_s3_event(collector, &s3, &ObjectLimits::default(), open_bucket).await?;
                Ok(serde_json::to_value(counters).unwrap_or_default())
            }
            Err(error) => quarantine_unreadable(format!("unreadable s3 event: {error}")).await,
        },
        EventShape::Scheduled => {
            let options = crate::maintenance::MaintenanceOptions::default();
            let report = crate::maintenance::run_scheduled_maintenance(
                collector.store(),
                chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX),
                &options,
            )
            .await?;
            Ok(serde_json::to_value(report).unwrap_or_default())
        }
        EventShape::Unknown => {
            quarantine_unreadable("an event of no shape the collector reads".to_owned()).await
        }
    }
}

/// Opens a delivery bucket with the Lambda's credentials and region.
fn open_bucket(
    bucket: &str,
) -> Result<Arc<dyn object_store::ObjectStore>, crate::index::store::StoreError> {
    Ok(IndexStore::open(&format!("s3://{bucket}"))?.object_store())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_kinesis_event_is_quarantined_and_acknowledged() {
        let collector = crate::Collector::new(IndexStore::from_object_store(
            Arc::new(object_store::memory::InMemory::new()),
            object_store::path::Path::default(),
        ));
        let event = r#"{"Records":[{"eventSource":"aws:kinesis","kinesis":{"data":"%%%"}}]}"#;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let response = runtime
            .block_on(handle_event(&collector, event, "req-1"))
            .expect("acknowledged");
        assert_eq!(response, serde_json::json!({"batchItemFailures": []}));
        let quarantined = runtime
            .block_on(collector.store().list("v1/quarantine"))
            .expect("list");
        assert_eq!(quarantined.len(), 1);
    }

    #[test]
    fn shapes_are_told_apart() {
        assert_eq!(
            event_shape(r#"{"awslogs":{"data":"x"}}"#),
            EventShape::Subscription
        );
        assert_eq!(
            event_shape(r#"{"Records":[{"eventSource":"aws:kinesis","kinesis":{}}]}"#),
            EventShape::Kinesis
        );
        assert_eq!(
            event_shape(r#"{"Records":[{"eventSource":"aws:s3","s3":{}}]}"#),
            EventShape::S3
        );
        // The sample of the EventBridge documentation ("Amazon EventBridge events").
        assert_eq!(
            event_shape(
                r#"{"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2015-10-08T16:53:06Z","region":"us-east-1","resources":["arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule"],"detail":{}}"#
            ),
            EventShape::Scheduled
        );
        assert_eq!(event_shape(r#"{"Records":[]}"#), EventShape::Unknown);
        assert_eq!(event_shape("not json"), EventShape::Unknown);
    }
}
