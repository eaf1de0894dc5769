//! An EventBridge consumer: the sender's context travels in `detail.traceparent`.
//!
//! Run locally (`cargo run -p tracelake-instrumentation --example eventbridge_consumer`)
//! it handles one sample event and prints its lines.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::tower::{Layer as _, Service as _};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::{Value, json};
use tracelake_instrumentation::lambda::{TracingLayer, test_context};
use tracelake_instrumentation::propagation::inject::OutgoingContext;
use tracelake_instrumentation::wire::ids::{SpanId, TraceId};

async fn handler(event: LambdaEvent<EventBridgeEvent<Value>>) -> Result<(), lambda_runtime::Error> {
    let detail = &event.payload.detail;
    let _span = tracing::info_span!("update inventory", sku = %detail["sku"]).entered();
    match detail["quantity"].as_i64() {
        Some(quantity) if quantity >= 0 => {
            tracing::info!(
                quantity,
                source = event.payload.source.as_str(),
                "inventory updated"
            );
            Ok(())
        }
        _ => Err(format!("invalid quantity in {}", event.payload.detail_type).into()),
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let telemetry = tracelake_instrumentation::init()?;
    let mut service = TracingLayer::new(telemetry).layer(service_fn(handler));
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return lambda_runtime::run(service).await;
    }
    // Local run: an event whose publisher put its context in the detail.
    let publisher = OutgoingContext {
        trace_id: TraceId(0x5759_e988_bd86_2e3f_e1be_46a9_9427_2793),
        span_id: SpanId(0x0102_0304_0506_0708),
        sampled: true,
        trace_state: None,
        xray_extra: Vec::new(),
    };
    let mut detail = json!({ "sku": "sku-7", "quantity": 3 });
    publisher.inject_json(&mut detail);
    let event: EventBridgeEvent<Value> = serde_json::from_value(json!({
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "OrderPlaced",
        "source": "com.example.orders",
        "account": "123456789012",
        "time": "2026-11-29T01:02:03Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": detail,
    }))?;
    let context = test_context(
        "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
        None,
        "arn:aws:lambda:eu-west-1:123456789012:function:inventory",
    );
    service.call(LambdaEvent::new(event, context)).await?;
    Ok(())
}
