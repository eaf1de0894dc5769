//! `tracelake firehose [--data URL] [--addr A] [--access-key K]`: a Firehose
//! HTTP endpoint destination in front of the collector
//! (`tracelake_collector::sources::firehose`). Firehose only calls https on
//! port 443: put a TLS-terminating proxy or load balancer in front of it.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use tracelake_collector::sources::firehose::{
    FirehoseRequest, FirehoseResponseBody, MAX_REQUEST_BYTES, handle_firehose_request,
};
use tracelake_collector::{Collector, IndexStore};

/// The environment variable that may hold the access key instead of `--access-key`.
pub const ACCESS_KEY_VARIABLE: &str = "TRACELAKE_FIREHOSE_ACCESS_KEY";

/// Arguments of `tracelake firehose`.
#[derive(clap::Args)]
pub struct FirehoseArgs {
    /// Index root: a local directory or s3://bucket/prefix.
    #[arg(long, default_value = super::DEFAULT_DATA)]
    pub data: String,
    /// The address to listen on. Only 127.0.0.1 unless you choose otherwise.
    #[arg(long, default_value = "127.0.0.1:7071")]
    pub addr: SocketAddr,
    /// The access key configured on the Firehose stream (X-Amz-Firehose-Access-Key);
    /// also read from TRACELAKE_FIREHOSE_ACCESS_KEY. Required off 127.0.0.1.
    #[arg(long)]
    pub access_key: Option<String>,
}

struct State {
    collector: Collector,
    access_key: Option<String>,
}

/// Runs the endpoint until Ctrl-C.
pub fn run(args: FirehoseArgs) -> anyhow::Result<()> {
    let access_key = args
        .access_key
        .or_else(|| std::env::var(ACCESS_KEY_VARIABLE).ok())
        .filter(|k| !k.is_empty());
    if access_key.is_none() && !args.addr.ip().is_loopback() {
        anyhow::bail!(
            "listening on {} needs --access-key (or {ACCESS_KEY_VARIABLE}): anyone could write to the index",
            args.addr
        );
    }
    let store = IndexStore::open(&args.data)
        .with_context(|| format!("cannot open index at {}", args.data))?;
    let state = Arc::new(State {
        collector: Collector::new(store),
        access_key,
    });
    let app = axum::Router::new()
        .fallback(axum::routing::post(receive))
        .with_state(state);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(async move {
            let listener = tokio::net::TcpListener::bind(args.addr)
                .await
                .with_context(|| format!("cannot listen on {}", args.addr))?;
            eprintln!(
                "firehose endpoint on http://{} writing to {}",
                args.addr, args.data
            );
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await
                .context("firehose endpoint failed")
        })
}

async fn receive(
    axum::extract::State(state): axum::extract::State<Arc<State>>,
    headers: HeaderMap,
    body: Body,
) -> axum::response::Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let request_id = header("x-amz-firehose-request-id").unwrap_or_default();
    let body = match axum::body::to_bytes(body, MAX_REQUEST_BYTES).await {
        Ok(body) => body,
        Err(_) => {
            let response = FirehoseResponseBody {
                request_id: request_id.to_owned(),
                timestamp: chrono::Utc::now().timestamp_millis(),
                error_message: Some(format!(
                    "request body is larger than {MAX_REQUEST_BYTES} bytes"
                )),
            };
            return (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(response)).into_response();
        }
    };
    let response = handle_firehose_request(
        &state.collector,
        state.access_key.as_deref(),
        FirehoseRequest {
            access_key: header("x-amz-firehose-access-key"),
            request_id: Some(request_id).filter(|id| !id.is_empty()),
            content_encoding: header("content-encoding"),
            body: &body,
        },
    )
    .await;
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(response.body)).into_response()
}
