//! SQS batches: a link per message, from its `traceparent` message attribute or `AWSTraceHeader`.

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use opentelemetry_semantic_conventions::attribute as semconv;

use super::extracted::{ExtractContext, Extracted, arn_resource};
use crate::propagation::{SQS_XRAY_ATTRIBUTE, TRACEPARENT, TRACESTATE, TraceContext, context_from};
use crate::trigger::{EventSource, messaging_system};

/// The context of one SQS message: its `traceparent` message attribute, else
/// its `AWSTraceHeader` system attribute.
pub fn sqs_message_context(message: &SqsMessage) -> Option<TraceContext> {
    let attribute = |name: &str| {
        message
            .message_attributes
            .get(name)
            .and_then(|attribute| attribute.string_value.as_deref())
    };
    context_from(
        attribute(TRACEPARENT),
        attribute(TRACESTATE),
        message
            .attributes
            .get(SQS_XRAY_ATTRIBUTE)
            .map(String::as_str),
    )
}

impl ExtractContext for SqsEvent {
    fn extract_context(&self) -> Extracted {
        let queue = self
            .records
            .first()
            .and_then(|record| record.event_source_arn.as_deref())
            .map(arn_resource);
        let contexts = self.records.iter().map(sqs_message_context).collect();
        let mut extracted = Extracted::batch(
            EventSource::Sqs.trigger(),
            Some(format!("process {}", queue.unwrap_or("sqs"))),
            self.records.len(),
            contexts,
        )
        .with_attribute(semconv::MESSAGING_SYSTEM, messaging_system::AWS_SQS)
        .with_attribute(semconv::MESSAGING_OPERATION_NAME, "process");
        if let Some(queue) = queue {
            extracted = extracted.with_attribute(semconv::MESSAGING_DESTINATION_NAME, queue);
        }
        extracted
    }
}
