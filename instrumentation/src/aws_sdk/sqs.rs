//! SQS: `traceparent` and `AWSTraceHeader` on each message sent, the queue and
//! batch size on the span.

use opentelemetry_semantic_conventions::attribute as semconv;
use serde_json::{Map, Value};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::propagation::TRACEPARENT;
use crate::propagation::inject::OutgoingContext;
use crate::trigger::messaging_system;

/// SQS (and SNS) allow 10 message attributes per message.
pub(super) const SQS_MAX_ATTRIBUTES: usize = 10;

pub(super) fn sqs_message(message: &mut Map<String, Value>, outgoing: &OutgoingContext) -> bool {
    let mut changed = false;
    let attributes = message
        .entry("MessageAttributes")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(attributes) = attributes.as_object_mut()
        && !attributes.contains_key(TRACEPARENT)
        && attributes.len() < SQS_MAX_ATTRIBUTES
    {
        attributes.insert(
            TRACEPARENT.to_owned(),
            serde_json::json!({ "DataType": "String", "StringValue": outgoing.traceparent() }),
        );
        changed = true;
    }
    let system = message
        .entry("MessageSystemAttributes")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(system) = system.as_object_mut()
        && !system.contains_key(crate::propagation::SQS_XRAY_ATTRIBUTE)
    {
        system.insert(
            crate::propagation::SQS_XRAY_ATTRIBUTE.to_owned(),
            serde_json::json!({ "DataType": "String", "StringValue": outgoing.xray_header() }),
        );
        changed = true;
    }
    changed
}

pub(super) fn inject_sqs(object: &mut Map<String, Value>, outgoing: &OutgoingContext) -> bool {
    match object.get_mut("Entries").and_then(Value::as_array_mut) {
        Some(entries) => entries
            .iter_mut()
            .filter_map(Value::as_object_mut)
            .fold(false, |changed, entry| {
                sqs_message(entry, outgoing) | changed
            }),
        None => sqs_message(object, outgoing),
    }
}

pub(super) fn record_sqs(span: &tracing::Span, body: &[u8]) {
    span.set_attribute(semconv::MESSAGING_SYSTEM, messaging_system::AWS_SQS);
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    if let Some(queue) = value
        .get("QueueUrl")
        .and_then(Value::as_str)
        .and_then(|url| url.rsplit('/').next())
    {
        span.set_attribute(semconv::MESSAGING_DESTINATION_NAME, queue.to_owned());
    }
    if let Some(entries) = value.get("Entries").and_then(Value::as_array) {
        span.set_attribute(
            semconv::MESSAGING_BATCH_MESSAGE_COUNT,
            i64::try_from(entries.len()).unwrap_or(i64::MAX),
        );
    }
}
