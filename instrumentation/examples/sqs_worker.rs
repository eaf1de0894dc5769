//! An SQS worker: one CONSUMER span per batch, linked to every sender, and a
//! child span per message.
//!
//! Run locally (`cargo run -p tracelake-instrumentation --example sqs_worker`)
//! it handles one sample batch and prints its lines.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_runtime::tower::{Layer as _, Service as _};
use lambda_runtime::{LambdaEvent, service_fn};
use tracelake_instrumentation::lambda::{TracingLayer, test_context};
use tracelake_instrumentation::messages::for_each_sqs_message;
use tracelake_instrumentation::propagation::inject::OutgoingContext;
use tracelake_instrumentation::wire::ids::{SpanId, TraceId};

fn process(message: &SqsMessage) -> Result<(), String> {
    let body = message.body.as_deref().unwrap_or_default();
    let order: serde_json::Value =
        serde_json::from_str(body).map_err(|error| format!("bad order body: {error}"))?;
    let order_id = order["orderId"].as_str().unwrap_or("unknown");
    tracing::info!(order_id, "order processed");
    Ok(())
}

async fn handler(event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    let outcomes = for_each_sqs_message(&event.payload, process);
    let mut response = SqsBatchResponse::default();
    for (message, outcome) in event.payload.records.iter().zip(outcomes) {
        if let Err(reason) = outcome {
            tracing::warn!(reason = reason.as_str(), "message failed, left for retry");
            let mut failure = aws_lambda_events::event::sqs::BatchItemFailure::default();
            failure.item_identifier = message.message_id.clone().unwrap_or_default();
            response.batch_item_failures.push(failure);
        }
    }
    Ok(response)
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let telemetry = tracelake_instrumentation::init()?;
    let mut service = TracingLayer::new(telemetry).layer(service_fn(handler));
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return lambda_runtime::run(service).await;
    }
    // Local run: two messages from one sender, one of them unreadable.
    let sender = OutgoingContext {
        trace_id: TraceId(0x5759_e988_bd86_2e3f_e1be_46a9_9427_2793),
        span_id: SpanId(0x5399_5c3f_42cd_8ad8),
        sampled: true,
        trace_state: None,
        xray_extra: Vec::new(),
    };
    let mut event = SqsEvent::default();
    for (id, body) in [("m-1", r#"{"orderId":"o-42"}"#), ("m-2", "not json")] {
        let mut message = SqsMessage::default();
        message.message_id = Some(id.to_owned());
        message.body = Some(body.to_owned());
        message.event_source_arn = Some("arn:aws:sqs:eu-west-1:123456789012:orders".to_owned());
        sender.inject_sqs_message(&mut message);
        event.records.push(message);
    }
    let context = test_context(
        "d1a5e0b4-7c36-4f4e-9d5e-2a0b6a0f7c11",
        Some("Root=1-6745aaaa-0123456789abcdef01234567;Parent=1111111111111111;Sampled=1"),
        "arn:aws:lambda:eu-west-1:123456789012:function:orders-worker",
    );
    service.call(LambdaEvent::new(event, context)).await?;
    Ok(())
}
