//! SNS: a `traceparent` message attribute on `Publish`, the topic on the span.

use opentelemetry_semantic_conventions::attribute as semconv;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use super::sqs::SQS_MAX_ATTRIBUTES;
use crate::propagation::TRACEPARENT;
use crate::propagation::inject::OutgoingContext;
use crate::trigger::messaging_system;

/// SNS `Publish` is a form: one more `MessageAttributes.entry.N`.
pub(super) fn inject_sns(body: &[u8], outgoing: &OutgoingContext) -> Option<Vec<u8>> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let mut highest = 0usize;
    for (key, value) in &pairs {
        if let Some(rest) = key.strip_prefix("MessageAttributes.entry.")
            && let Some((index, field)) = rest.split_once('.')
        {
            if field == "Name" && value == TRACEPARENT {
                return None;
            }
            highest = highest.max(index.parse().unwrap_or(0));
        }
    }
    if highest >= SQS_MAX_ATTRIBUTES {
        return None;
    }
    let entry = highest + 1;
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    serializer.extend_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    serializer.append_pair(
        &format!("MessageAttributes.entry.{entry}.Name"),
        TRACEPARENT,
    );
    serializer.append_pair(
        &format!("MessageAttributes.entry.{entry}.Value.DataType"),
        "String",
    );
    serializer.append_pair(
        &format!("MessageAttributes.entry.{entry}.Value.StringValue"),
        &outgoing.traceparent(),
    );
    Some(serializer.finish().into_bytes())
}

pub(super) fn record_sns(span: &tracing::Span, body: &[u8]) {
    span.set_attribute(semconv::MESSAGING_SYSTEM, messaging_system::AWS_SNS);
    if let Some((_, topic)) = form_urlencoded::parse(body).find(|(key, _)| key == "TopicArn")
        && let Some(name) = topic.rsplit(':').next()
    {
        span.set_attribute(semconv::MESSAGING_DESTINATION_NAME, name.to_owned());
    }
}
