//! The guard rails: timeout, memory pool, row caps, cancellation when the client
//! goes away, 5xx with a request id, and Jaeger search as one bounded query.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tower::ServiceExt;
use tracelake_dashboards::api::{AppState, router};
use tracelake_dashboards::query::limits::Deadline;
use tracelake_dashboards::query::{EngineOptions, QueryEngine, QueryError};

use crate::fixture::{self, PRICE, indexed};

/// A query whose answer is cheap to state and takes hours to compute: the
/// largest of billions of strings built over a four-way cross join of the
/// fixture (a plain count would be answered from file statistics).
const SLOW_SQL: &str = "SELECT max(a.span_id || b.span_id || c.span_id || d.message) AS n \
                        FROM spans a CROSS JOIN spans b CROSS JOIN spans c CROSS JOIN logs d";

async fn engine_with(adjust: impl FnOnce(&mut EngineOptions)) -> QueryEngine {
    let mut options = EngineOptions {
        price_per_gb_second: PRICE,
        ..EngineOptions::default()
    };
    adjust(&mut options);
    QueryEngine::open(&indexed().root(), options)
        .await
        .expect("fixture index opens")
}

fn app(engine: &QueryEngine) -> axum::Router {
    router(AppState {
        engine: engine.clone(),
        token: None,
    })
}

async fn send(app: &axum::Router, request: Request<Body>) -> (StatusCode, Option<String>, Value) {
    let response = app.clone().oneshot(request).await.expect("router answers");
    let status = response.status();
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let bytes = axum::body::to_bytes(response.into_body(), 16 << 20)
        .await
        .expect("body");
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, request_id, body)
}

fn post_sql(sql: &str) -> Request<Body> {
    Request::post("/api/tracelake/sql")
        .body(Body::from(serde_json::json!({ "sql": sql }).to_string()))
        .expect("request")
}

/// Waits until `done` holds, checking every 20 ms for at most `limit`.
async fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    done()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_past_its_timeout_gets_a_504_with_a_request_id() {
    let engine = engine_with(|options| options.query_timeout = Duration::from_millis(50)).await;
    let app = app(&engine);
    let (status, header_id, body) = send(&app, post_sql(SLOW_SQL)).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body}");
    let message = body["error"].as_str().unwrap_or("");
    assert!(message.contains("timeout"), "{message}");
    let header_id = header_id.expect("every answer names its request");
    assert_eq!(body["request_id"], header_id.as_str());
    // The body names the request's deadline and the time it ran from its
    // arrival, which is at least the deadline (it was stopped at it).
    assert_eq!(body["deadline_ms"], 50, "{body}");
    let elapsed = body["elapsed_ms"].as_u64().expect("elapsed_ms");
    assert!(elapsed >= 50, "{body}");
    assert!(
        eventually(Duration::from_secs(30), || engine.stats().active() == 0).await,
        "the timed-out query was stopped"
    );

    // A caller's own id is kept, so that its logs and ours line up.
    let mut request = post_sql(SLOW_SQL);
    request
        .headers_mut()
        .insert("x-request-id", "grafana-1234".parse().expect("header"));
    let (status, header_id, body) = send(&app, request).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(header_id.as_deref(), Some("grafana-1234"));
    assert_eq!(body["request_id"], "grafana-1234");

    // A client error stays a 4xx, with the id too.
    let (status, header_id, body) = send(&app, post_sql("SELECT nope FROM nowhere")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["request_id"], header_id.expect("id").as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_past_its_deadline_runs_no_query() {
    // A deadline that has passed when the request arrives at its first query
    // (as after waiting in a queue, or listing a slow store): nothing runs.
    let engine = engine_with(|options| options.query_timeout = Duration::ZERO).await;
    let app = app(&engine);
    let trace_id = indexed().fleet.request_traces[0].clone();
    for request in [
        post_sql("SELECT 1 AS one"),
        Request::get(format!("/api/tracelake/traces/{trace_id}"))
            .body(Body::empty())
            .expect("request"),
        Request::get(format!("/api/traces/{trace_id}"))
            .body(Body::empty())
            .expect("request"),
    ] {
        let uri = request.uri().to_string();
        let (status, _, body) = send(&app, request).await;
        assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{uri}: {body}");
        assert_eq!(engine.stats().started(), 0, "{uri}: no query started");
        if uri.starts_with("/api/tracelake/") {
            assert_eq!(body["deadline_ms"], 0, "{body}");
        } else {
            // Jaeger's envelope.
            assert_eq!(body["errors"][0]["code"], 504, "{body}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_deadline_covers_every_query_of_a_request() {
    // Per-query timeouts would give the second query a fresh 50 ms; the
    // request's deadline has passed when the first one is stopped, so the
    // second is refused without running.
    let engine = engine_with(|options| options.query_timeout = Duration::from_secs(600)).await;
    let deadline = Deadline::starting_now(Duration::from_millis(50));
    let (slow, quick) = deadline
        .scope(async {
            (
                engine.sql(SLOW_SQL).await,
                engine.sql("SELECT 1 AS one").await,
            )
        })
        .await;
    for (name, result) in [("slow", slow), ("quick", quick)] {
        match result {
            Err(QueryError::Timeout {
                elapsed, deadline, ..
            }) => {
                assert_eq!(deadline, Duration::from_millis(50), "{name}");
                assert!(elapsed >= deadline, "{name}: {elapsed:?}");
            }
            other => panic!("{name}: expected a timeout, got {other:?}"),
        }
    }
    assert_eq!(engine.stats().started(), 1, "only the first query ran");
    assert!(
        eventually(Duration::from_secs(30), || engine.stats().active() == 0).await,
        "the timed-out query was stopped"
    );
    // Outside a request, each query has the engine's timeout from its start.
    let rows = engine.sql("SELECT 1 AS one").await.expect("runs");
    assert!(!rows.truncated);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_join_is_cut_at_the_row_cap_or_refused_by_the_memory_pool() {
    let spans = indexed().fleet.spans.len();
    assert!(spans > 5, "the fixture has more spans than the cap");

    let capped = engine_with(|options| options.sql_row_cap = 5).await;
    let (status, _, body) = send(
        &app(&capped),
        post_sql("SELECT a.span_id, b.span_id AS other FROM spans a CROSS JOIN spans b"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["rows"].as_array().map(Vec::len), Some(5));
    assert_eq!(body["truncated"], true);
    assert_eq!(body["row_cap"], 5);
    // Under the cap, nothing is said to be cut.
    let (_, _, body) = send(&app(&capped), post_sql("SELECT count(*) AS n FROM spans")).await;
    assert_eq!(body["rows"][0]["n"], spans);
    assert_eq!(body["truncated"], false);

    // A join must hold one side in memory and cannot spill: a pool smaller
    // than that side refuses it with a 503 that says why.
    let small = engine_with(|options| options.memory_limit_bytes = 4 << 10).await;
    let (status, _, body) = send(
        &app(&small),
        post_sql("SELECT max(a.name || b.name) AS n FROM spans a CROSS JOIN spans b"),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let message = body["error"].as_str().unwrap_or("");
    assert!(message.contains("memory"), "{message}");
    assert!(eventually(Duration::from_secs(30), || small.stats().active() == 0).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_request_stops_its_query() {
    let engine = engine_with(|options| options.query_timeout = Duration::from_secs(600)).await;
    // The server on its own runtime, as `tracelake serve` runs it, so that a
    // busy query cannot starve this test's clock.
    let (addr_sender, addr_receiver) = std::sync::mpsc::channel();
    let (stop_sender, stop_receiver) = tokio::sync::oneshot::channel::<()>();
    let served = app(&engine);
    let server = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("server runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            addr_sender
                .send(listener.local_addr().expect("address"))
                .expect("address sent");
            axum::serve(listener, served)
                .with_graceful_shutdown(async move {
                    let _ = stop_receiver.await;
                })
                .await
                .expect("server runs");
        });
    });
    let addr = addr_receiver.recv().expect("server started");

    let body = serde_json::json!({ "sql": SLOW_SQL }).to_string();
    let mut client = tokio::net::TcpStream::connect(addr).await.expect("connect");
    client
        .write_all(
            format!(
                "POST /api/tracelake/sql HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .expect("request sent");
    assert!(
        eventually(Duration::from_secs(60), || engine.stats().active() == 1).await,
        "the query started"
    );
    // The query is long: it is still running when the browser gives up.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(engine.stats().active(), 1, "still running");
    drop(client);
    assert!(
        eventually(Duration::from_secs(60), || engine.stats().active() == 0).await,
        "the query stopped when its client went away"
    );
    let _ = stop_sender.send(());
    server.join().expect("server thread ends");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jaeger_search_is_a_bounded_number_of_queries_within_the_span_budget() {
    let range = fixture::whole_range();
    let (start, end) = (range.from_ns / 1_000, range.to_ns / 1_000);
    let engine = engine_with(|_| {}).await;
    let app = app(&engine);
    let before = engine.stats().started();
    let (status, _, body) = send(
        &app,
        Request::get(format!(
            "/api/traces?service=orders&limit=100&start={start}&end={end}"
        ))
        .body(Body::empty())
        .expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let traces = body["data"].as_array().cloned().unwrap_or_default();
    assert!(traces.len() >= 10, "many traces match: {}", traces.len());
    assert_eq!(
        engine.stats().started() - before,
        3,
        "three queries whatever the number of traces: the spans, then the \
         invocations without spans of the found traces and their lines"
    );
    // Each trace comes back whole: as many spans as the fixture wrote.
    let fleet = &indexed().fleet;
    for trace in &traces {
        let id = trace["traceID"].as_str().expect("trace id");
        assert_eq!(
            trace["spans"].as_array().map(Vec::len),
            Some(fleet.spans_of(id).len()),
            "{id}"
        );
    }

    // v3 the same way.
    let before = engine.stats().started();
    let from = chrono_text(range.from_ns);
    let to = chrono_text(range.to_ns);
    let (status, _, _) = send(
        &app,
        Request::get(format!(
            "/api/v3/traces?query.service_name=orders&query.start_time_min={from}&query.start_time_max={to}&query.num_traces=100"
        ))
        .body(Body::empty())
        .expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(engine.stats().started() - before, 3);

    // A span budget smaller than the answer caps it.
    let budget = engine_with(|options| options.span_budget = 7).await;
    let (_, _, body) = send(
        &self::app(&budget),
        Request::get(format!(
            "/api/traces?service=orders&limit=100&start={start}&end={end}"
        ))
        .body(Body::empty())
        .expect("request"),
    )
    .await;
    let spans: usize = body["data"]
        .as_array()
        .map(|traces| {
            traces
                .iter()
                .map(|t| t["spans"].as_array().map_or(0, Vec::len))
                .sum()
        })
        .unwrap_or(0);
    assert_eq!(spans, 7);
    // The trace the budget cut says so where Jaeger and Grafana show it; the
    // whole ones before it carry no warning.
    let traces = body["data"].as_array().cloned().unwrap_or_default();
    let (last, whole) = traces.split_last().expect("some traces");
    let warning = last["warnings"][0].as_str().unwrap_or("");
    assert!(warning.contains("span budget of 7"), "{last}");
    for trace in whole {
        assert!(trace["warnings"].is_null(), "{trace}");
    }
    // Under the budget nothing is flagged.
    let (_, _, body) = send(
        &app,
        Request::get(format!(
            "/api/traces?service=orders&limit=100&start={start}&end={end}"
        ))
        .body(Body::empty())
        .expect("request"),
    )
    .await;
    for trace in body["data"].as_array().cloned().unwrap_or_default() {
        assert!(trace["warnings"].is_null(), "{trace}");
    }
}

fn chrono_text(ns: i64) -> String {
    let seconds = ns.div_euclid(1_000_000_000);
    let nanos = u32::try_from(ns.rem_euclid(1_000_000_000)).unwrap_or(0);
    chrono::DateTime::from_timestamp(seconds, nanos)
        .expect("valid time")
        .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}
