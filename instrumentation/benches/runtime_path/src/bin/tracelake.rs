//! The function with tracelake-instrumentation (`TRACELAKE_SPAN_FORMAT` picks the format).
use lambda_runtime::tower::Layer as _;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use tracelake_instrumentation::lambda::TracingLayer;

async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
    tracelake_runtime_bench::handler_body(tracelake_runtime_bench::spans_of(&event.payload));
    Ok(serde_json::json!({ "ok": true }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let start = std::time::Instant::now();
    let telemetry = tracelake_instrumentation::init()?;
    tracelake_runtime_bench::report_init(start);
    let result = lambda_runtime::run(TracingLayer::new(telemetry).layer(service_fn(handler))).await;
    tracelake_runtime_bench::report_memory();
    result
}
