//! The baseline: a plain lambda_runtime function, no telemetry.
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
    tracelake_runtime_bench::handler_body(tracelake_runtime_bench::spans_of(&event.payload));
    Ok(serde_json::json!({ "ok": true }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let start = std::time::Instant::now();
    tracelake_runtime_bench::report_init(start);
    let result = lambda_runtime::run(service_fn(handler)).await;
    tracelake_runtime_bench::report_memory();
    result
}
