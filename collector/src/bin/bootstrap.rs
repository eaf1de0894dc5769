//! The collector Lambda (`provided.al2023`): wiring only. The event's shape
//! picks the handler (see `tracelake_collector::lambda`).

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::value::RawValue;
use tracelake_collector::lambda::{INDEX_URL_VARIABLE, handle_event};
use tracelake_collector::{Collector, IndexStore};

/// jemalloc rather than glibc's malloc: a delivery's rows and small Parquet
/// files are many short-lived allocations (docs/collector.md, "Allocator").
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("AWS_LAMBDA_LOG_LEVEL")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_current_span(false)
        .without_time()
        .init();
    let url = std::env::var(INDEX_URL_VARIABLE).map_err(|_| {
        format!("{INDEX_URL_VARIABLE} must name the index root, e.g. s3://bucket/tracelake")
    })?;
    let collector = Collector::new(IndexStore::open(&url)?);
    let collector = &collector;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Box<RawValue>>| async move {
            let response =
                handle_event(collector, event.payload.get(), &event.context.request_id).await?;
            Ok::<serde_json::Value, Error>(response)
        },
    ))
    .await
}
