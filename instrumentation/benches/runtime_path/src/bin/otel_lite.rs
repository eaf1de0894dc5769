//! The anchor: lambda-otel-lite's tower layer, in its default (sync) mode.
use lambda_otel_lite::{OtelTracingLayer, TelemetryConfig, init_telemetry};
use lambda_runtime::tower::Layer as _;
use lambda_runtime::{Error, LambdaEvent, Runtime, service_fn};
use serde_json::Value;

async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
    tracelake_runtime_bench::handler_body(tracelake_runtime_bench::spans_of(&event.payload));
    Ok(serde_json::json!({ "ok": true }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let start = std::time::Instant::now();
    let (_, completion_handler) = init_telemetry(TelemetryConfig::default()).await?;
    tracelake_runtime_bench::report_init(start);
    let service = OtelTracingLayer::new(completion_handler)
        .with_name("handler")
        .layer(service_fn(handler));
    let result = Runtime::new(service).run().await;
    tracelake_runtime_bench::report_memory();
    result
}
