//! The collector as a Lambda function: the handler behind a CloudWatch Logs
//! subscription filter, kept a plain function so that tests call it directly.

use serde::Deserialize;

use crate::counters::IngestCounters;
use crate::index::writer::IndexError;
use crate::pipeline::Collector;

/// The environment variable naming the index root (`s3://bucket/prefix`).
pub const INDEX_URL_VARIABLE: &str = "TRACELAKE_INDEX_URL";

/// The Lambda event of a CloudWatch Logs subscription: `{"awslogs":{"data":…}}`.
///
/// Read as a plain string and decoded by [`crate::decode`] with its size limits,
/// rather than by `aws_lambda_events`' deserializer, which gunzips without bound.
#[derive(Debug, Clone, Deserialize)]
pub struct SubscriptionEvent {
    pub awslogs: SubscriptionData,
}

/// The `awslogs` member: base64 of a gzipped subscription payload.
#[derive(Debug, Clone, Deserialize)]
pub struct SubscriptionData {
    pub data: String,
}

/// Handles one subscription event. Bad input is quarantined and acknowledged;
/// only a failed write to the store is an error, so that Lambda retries.
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
