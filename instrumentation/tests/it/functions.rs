//! The functions that child processes run against the scripted Runtime API
//! (see [`super::runtime_api`]): the real `lambda_runtime` client, our layer,
//! telemetry built by `init()` from the environment, writing to stdout.

use std::sync::atomic::{AtomicUsize, Ordering};

use lambda_runtime::tower::Layer as _;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::{Value, json};
use tracelake_instrumentation::lambda::TracingLayer;

/// Every this many invocations, the long-run function reports its memory.
pub const MEMORY_SAMPLE_EVERY: usize = 250;

static INVOCATIONS: AtomicUsize = AtomicUsize::new(0);

/// The resident set size of this process, from /proc.
pub fn rss_bytes() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kilobytes: usize = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .expect("VmRSS line");
    kilobytes * 1024
}

/// Five child spans and two log lines: six spans per invocation.
async fn six_spans(event: LambdaEvent<Value>) -> Result<Value, lambda_runtime::Error> {
    tracing::info!(path = "/orders", "request received");
    for table in ["orders", "customers", "inventory", "prices", "shipping"] {
        let _span = tracing::info_span!(
            "GetItem",
            otel.kind = "client",
            db.system = "dynamodb",
            aws.dynamodb.table_names = table,
        )
        .entered();
    }
    tracing::info!("request handled");
    let count = INVOCATIONS.fetch_add(1, Ordering::Relaxed) + 1;
    if count.is_multiple_of(MEMORY_SAMPLE_EVERY) {
        eprintln!(
            "MEMORY invocations={count} heap={} rss={}",
            super::ALLOCATOR.live_bytes(),
            rss_bytes()
        );
    }
    Ok(json!({ "ok": true, "request": event.context.request_id }))
}

#[derive(Debug)]
struct LoadFailed {
    source: std::io::Error,
}

impl std::fmt::Display for LoadFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("could not load the cart")
    }
}

impl std::error::Error for LoadFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Fails, panics or answers with the context it would send on, as the event's
/// `action` says.
async fn fails_or_sends(event: LambdaEvent<Value>) -> Result<Value, lambda_runtime::Error> {
    match event.payload.get("action").and_then(Value::as_str) {
        Some("fail") => Err(Box::new(LoadFailed {
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "cart.json missing"),
        })),
        Some("panic") => panic!("the cart exploded"),
        _ => {
            let outgoing =
                tracelake_instrumentation::propagation::inject::OutgoingContext::current()
                    .expect("inside the invocation span");
            let mut headers = http::HeaderMap::new();
            outgoing.inject_http_headers(&mut headers);
            Ok(json!({
                "x-amzn-trace-id": headers["x-amzn-trace-id"].to_str().unwrap(),
                "traceparent": headers["traceparent"].to_str().unwrap(),
            }))
        }
    }
}

/// The standard template's setup: a subscriber of the user's own (a `fmt`
/// layer writing to stderr), with tracelake's layer added to it.
fn layered_setup() -> tracelake_instrumentation::Telemetry {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let (telemetry, layer) = tracelake_instrumentation::layers().expect("layers");
    tracing_subscriber::registry()
        .with(layer)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(false),
        )
        .init();
    // init() now meets the user's subscriber and says what to do.
    match tracelake_instrumentation::init() {
        Err(error) => eprintln!("INIT ERROR {error}"),
        Ok(_) => panic!("init() succeeded over an existing subscriber"),
    }
    telemetry
}

/// The status an HTTP test event asks for, in its `x-answer-status` header.
fn asked_status(headers: Option<&Value>) -> u16 {
    headers
        .and_then(|headers| headers.get("x-answer-status"))
        .and_then(Value::as_str)
        .and_then(|status| status.parse().ok())
        .unwrap_or(200)
}

/// Any HTTP trigger, typed as JSON: answers `{"statusCode": …}`.
async fn http_value(event: LambdaEvent<Value>) -> Result<Value, lambda_runtime::Error> {
    let status = asked_status(event.payload.get("headers"));
    tracing::info!(status, "answering");
    Ok(json!({ "statusCode": status, "body": "" }))
}

/// A `lambda_http` handler: answers the status the request asks for.
#[cfg(feature = "lambda-http")]
async fn http_handler(
    request: lambda_http::Request,
) -> Result<lambda_http::Response<lambda_http::Body>, lambda_http::Error> {
    let status = request
        .headers()
        .get("x-answer-status")
        .and_then(|value| value.to_str().ok())
        .and_then(|status| status.parse().ok())
        .unwrap_or(200u16);
    tracing::info!(status, "answering");
    Ok(lambda_http::Response::builder()
        .status(status)
        .body(lambda_http::Body::from("answer"))?)
}

/// Runs the function named `scenario` until the scripted API closes.
pub fn run(scenario: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let telemetry = if scenario == "layered" {
        layered_setup()
    } else {
        tracelake_instrumentation::init().expect("init")
    };
    let result = runtime.block_on(async move {
        match scenario {
            "six_spans" => {
                lambda_runtime::run(TracingLayer::new(telemetry).layer(service_fn(six_spans))).await
            }
            "fails_or_sends" | "layered" => {
                lambda_runtime::run(TracingLayer::new(telemetry).layer(service_fn(fails_or_sends)))
                    .await
            }
            "http_value" => {
                lambda_runtime::run(TracingLayer::new(telemetry).layer(service_fn(http_value)))
                    .await
            }
            #[cfg(feature = "lambda-http")]
            "lambda_http" => {
                lambda_http::run(
                    TracingLayer::new(telemetry).layer(lambda_http::service_fn(http_handler)),
                )
                .await
            }
            #[cfg(feature = "aws-sdk")]
            "sdk_calls" => {
                lambda_runtime::run(
                    TracingLayer::new(telemetry).layer(service_fn(super::aws_sdk_calls::sdk_calls)),
                )
                .await
            }
            other => panic!("unknown scenario {other}"),
        }
    });
    // The script ends by closing the connection: that is the expected end.
    eprintln!("RUNTIME ENDED {result:?}");
}
