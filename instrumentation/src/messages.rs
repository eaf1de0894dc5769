//! One span per message of a batch.
//!
//! A batch invocation (SQS, SNS, Kinesis, DynamoDB Streams) has one CONSUMER
//! span, linked to every message's sender. These helpers add a child span per
//! message, linked to that message's sender alone, so that the work on each
//! message shows on its own.
//!
//! ```
//! use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
//! use tracelake_instrumentation::messages::for_each_sqs_message;
//! use tracelake_instrumentation::{Invocation, LineBuffer, Output, Telemetry, TelemetryConfig};
//!
//! let buffer = LineBuffer::new();
//! let telemetry = Telemetry::new(TelemetryConfig::new("worker"), Output::buffer(&buffer)).unwrap();
//! let mut event = SqsEvent::default();
//! event.records = vec![SqsMessage::default(), SqsMessage::default()];
//! let _ = telemetry.in_invocation(&Invocation::new("r"), || -> Result<(), String> {
//!     let sizes = for_each_sqs_message(&event, |message| message.body.as_deref().map_or(0, str::len));
//!     assert_eq!(sizes, vec![0, 0]);
//!     Ok(())
//! });
//! ```

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::attribute as semconv;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::attribute;
use crate::propagation::TraceContext;
use crate::propagation::extract::sqs_message_context;
use crate::trigger::InvocationKind;

/// A CONSUMER span named `name`, child of the current span, linked to `sender`.
/// Enter it (or instrument a future with it) around the work on one message.
pub fn message_span(
    name: &str,
    sender: Option<&TraceContext>,
    message_id: Option<&str>,
) -> tracing::Span {
    let span = tracing::info_span!(
        target: "tracelake",
        "message",
        otel.name = name,
        otel.kind = InvocationKind::Consumer.as_str(),
        { semconv::MESSAGING_OPERATION_NAME } = "process",
        { semconv::MESSAGING_MESSAGE_ID } = message_id,
    );
    if let Some(span_context) = sender.and_then(TraceContext::to_span_context) {
        span.add_link_with_attributes(
            span_context,
            vec![KeyValue::new(
                attribute::LINK,
                attribute::LINK_MESSAGE_SENDER,
            )],
        );
    }
    span
}

/// The span of one SQS message (see [`message_span`]).
pub fn sqs_message_span(message: &SqsMessage) -> tracing::Span {
    message_span(
        "process message",
        sqs_message_context(message).as_ref(),
        message.message_id.as_deref(),
    )
}

/// Runs `handle` on every message of `event`, each inside its own span.
pub fn for_each_sqs_message<R>(
    event: &SqsEvent,
    mut handle: impl FnMut(&SqsMessage) -> R,
) -> Vec<R> {
    event
        .records
        .iter()
        .map(|message| sqs_message_span(message).in_scope(|| handle(message)))
        .collect()
}
