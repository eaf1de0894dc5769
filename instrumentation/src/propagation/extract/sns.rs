//! SNS notifications: a link per record, from its message attributes.

use aws_lambda_events::event::sns::{SnsEvent, SnsMessage};
use opentelemetry_semantic_conventions::attribute as semconv;

use super::extracted::{ExtractContext, Extracted, arn_resource};
use crate::propagation::{
    SQS_XRAY_ATTRIBUTE, TRACEPARENT, TRACESTATE, TraceContext, XRAY_HEADER, context_from,
};
use crate::trigger::{EventSource, messaging_system};

/// The context of one SNS message: its `traceparent` message attribute, else
/// an `X-Amzn-Trace-Id` (or `AWSTraceHeader`) attribute.
pub fn sns_message_context(message: &SnsMessage) -> Option<TraceContext> {
    let attribute = |name: &str| {
        message
            .message_attributes
            .get(name)
            .map(|attribute| attribute.value.as_str())
    };
    context_from(
        attribute(TRACEPARENT),
        attribute(TRACESTATE),
        attribute(XRAY_HEADER).or_else(|| attribute(SQS_XRAY_ATTRIBUTE)),
    )
}

impl ExtractContext for SnsEvent {
    fn extract_context(&self) -> Extracted {
        let topic = self
            .records
            .first()
            .map(|record| arn_resource(&record.sns.topic_arn).to_owned())
            .filter(|topic| !topic.is_empty());
        let contexts = self
            .records
            .iter()
            .map(|record| sns_message_context(&record.sns))
            .collect();
        let mut extracted = Extracted::batch(
            EventSource::Sns.trigger(),
            Some(format!("process {}", topic.as_deref().unwrap_or("sns"))),
            self.records.len(),
            contexts,
        )
        .with_attribute(semconv::MESSAGING_SYSTEM, messaging_system::AWS_SNS)
        .with_attribute(semconv::MESSAGING_OPERATION_NAME, "process");
        if let Some(topic) = topic {
            extracted = extracted.with_attribute(semconv::MESSAGING_DESTINATION_NAME, topic);
        }
        extracted
    }
}
