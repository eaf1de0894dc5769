//! The collector Lambda (`provided.al2023`): wiring only.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use tracelake_collector::lambda::{
    INDEX_URL_VARIABLE, SubscriptionEvent, handle_subscription_event,
};
use tracelake_collector::{Collector, IndexStore, IngestCounters};

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
        move |event: LambdaEvent<SubscriptionEvent>| async move {
            let counters: IngestCounters =
                handle_subscription_event(collector, event.payload, &event.context.request_id)
                    .await?;
            Ok::<IngestCounters, Error>(counters)
        },
    ))
    .await
}
