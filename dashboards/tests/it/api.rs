//! The HTTP API: tracelake's JSON API, Jaeger v1 and v3 field by field, auth,
//! and hostile parameters.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt;
use tracelake_dashboards::api::{AppState, router};

use crate::fixture::{self, indexed};
use crate::queries::engine;

pub(crate) async fn app(token: Option<&str>) -> axum::Router {
    router(AppState {
        engine: engine().await,
        token: token.map(Arc::from),
    })
}

async fn call(app: &axum::Router, uri: &str, token: Option<&str>) -> (StatusCode, Value) {
    let mut request = Request::get(uri);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("router answers");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 16 << 20)
        .await
        .expect("body");
    let body = serde_json::from_slice(&bytes)
        .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, body)
}

pub(crate) async fn get(app: &axum::Router, uri: &str) -> (StatusCode, Value) {
    call(app, uri, None).await
}

/// µs since the epoch of the fixture's range.
fn micros(ns: i64) -> i64 {
    ns / 1_000
}

pub(crate) fn range_query() -> String {
    let range = fixture::whole_range();
    format!(
        "from={}&to={}",
        range.from_ns / 1_000_000,
        range.to_ns / 1_000_000
    )
}

#[tokio::test]
async fn jaeger_v1_trace_field_by_field() {
    let fleet = &indexed().fleet;
    let app = app(None).await;
    let trace_id = &fleet.request_traces[7];
    let (status, body) = get(&app, &format!("/api/traces/{trace_id}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["total"], 0);
    assert_eq!(body["limit"], 0);
    assert_eq!(body["offset"], 0);
    assert!(body["errors"].is_null());
    let trace = &body["data"][0];
    assert_eq!(trace["traceID"], trace_id.as_str());
    assert!(trace["warnings"].is_null());
    let spans = trace["spans"].as_array().expect("spans");
    assert_eq!(spans.len(), fleet.spans_of(trace_id).len());

    let root = spans
        .iter()
        .find(|s| s["operationName"] == "GET /orders")
        .expect("root span");
    let source = fleet
        .spans_of(trace_id)
        .into_iter()
        .find(|s| s["name"] == "GET /orders")
        .expect("source row");
    assert_eq!(root["traceID"], trace_id.as_str());
    assert_eq!(root["spanID"], source["span_id"]);
    assert_eq!(root["references"], serde_json::json!([]));
    assert_eq!(
        root["startTime"],
        micros(source["start_time"].as_i64().unwrap_or(0))
    );
    assert_eq!(
        root["duration"],
        source["duration_ns"].as_i64().unwrap_or(0) / 1_000
    );
    assert!(root["warnings"].is_null());
    let tags = root["tags"].as_array().expect("tags");
    let tag = |key: &str| tags.iter().find(|t| t["key"] == key).cloned();
    assert_eq!(
        tag("span.kind"),
        Some(serde_json::json!({"key": "span.kind", "type": "string", "value": "server"}))
    );
    assert_eq!(
        tag("error"),
        Some(serde_json::json!({"key": "error", "type": "bool", "value": true}))
    );
    assert_eq!(
        tag("otel.status_code").map(|t| t["value"].clone()),
        Some("ERROR".into())
    );
    assert_eq!(
        tag("otel.status_description").map(|t| t["value"].clone()),
        Some("card declined".into())
    );
    assert_eq!(
        tag("http.route").map(|t| t["type"].clone()),
        Some("string".into())
    );

    // Process: serviceName and resource attributes as tags.
    let process_id = root["processID"].as_str().expect("processID");
    let process = &trace["processes"][process_id];
    assert_eq!(process["serviceName"], "api-gateway");
    assert!(
        process["tags"]
            .as_array()
            .expect("process tags")
            .iter()
            .any(|t| t["key"] == "cloud.provider" && t["value"] == "aws")
    );

    // A child's first reference is CHILD_OF its parent; logs are span logs.
    let payments = spans
        .iter()
        .find(|s| s["operationName"] == "charge")
        .expect("payments span");
    let parent = fleet
        .spans_of(trace_id)
        .into_iter()
        .find(|s| s["name"] == "charge")
        .expect("source row")["parent_span_id"]
        .clone();
    assert_eq!(payments["references"][0]["refType"], "CHILD_OF");
    assert_eq!(payments["references"][0]["spanID"], parent);
    assert_eq!(payments["references"][0]["traceID"], trace_id.as_str());
    let logs = payments["logs"].as_array().expect("logs");
    assert!(logs.iter().any(|log| {
        log["fields"].as_array().is_some_and(|f| {
            f.iter()
                .any(|kv| kv["key"] == "message" && kv["value"] == "payment declined for order 7")
        })
    }));
    assert!(logs.iter().any(|log| {
        log["fields"][0]["value"] == "exception" && log["timestamp"].as_i64().is_some()
    }));
}

#[tokio::test]
async fn jaeger_v1_not_found_and_bad_ids() {
    let app = app(None).await;
    let (status, body) = get(&app, "/api/traces/6b1ddd005eed0000000000000000ffff").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["data"].is_null());
    assert_eq!(body["total"], 0);
    assert_eq!(body["errors"][0]["code"], 404);
    assert_eq!(
        body["errors"][0]["traceID"],
        "6b1ddd005eed0000000000000000ffff"
    );
    assert!(
        body["errors"][0]["msg"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );

    let (status, body) = get(&app, "/api/traces/not-hex").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["code"], 400);
}

#[tokio::test]
async fn jaeger_v1_accepts_micro_and_milliseconds() {
    let fleet = &indexed().fleet;
    let app = app(None).await;
    let trace_id = &fleet.request_traces[30];
    let start_ns = fixture::T0_NS + 30 * fixture::SPACING_SECONDS * 1_000_000_000;
    let in_micros = format!(
        "/api/traces/{trace_id}?start={}&end={}",
        start_ns / 1_000 - 1_000_000,
        start_ns / 1_000 + 10_000_000
    );
    let in_millis = format!(
        "/api/traces/{trace_id}?start={}&end={}",
        start_ns / 1_000_000 - 1_000,
        start_ns / 1_000_000 + 10_000
    );
    for uri in [in_micros, in_millis] {
        let (status, body) = get(&app, &uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
        assert_eq!(body["data"][0]["traceID"], trace_id.as_str());
    }
    // A window a day earlier, in either unit, misses the trace.
    let (status, _) = get(
        &app,
        &format!(
            "/api/traces/{trace_id}?start={}&end={}",
            start_ns / 1_000_000 - 86_400_000,
            start_ns / 1_000_000 - 86_000_000
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = get(&app, &format!("/api/traces/{trace_id}?start=abc&end=1")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["code"], 400);
}

#[tokio::test]
async fn jaeger_v1_search_services_operations_dependencies() {
    let fleet = &indexed().fleet;
    let app = app(None).await;
    let range = fixture::whole_range();
    let (start, end) = (range.from_ns / 1_000, range.to_ns / 1_000);

    let (status, body) = get(&app, "/api/services").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["data"],
        serde_json::json!(["api-gateway", "inventory", "notifier", "orders", "payments"])
    );
    assert_eq!(body["total"], 5);

    let (_, body) = get(&app, "/api/services/orders/operations").await;
    assert_eq!(
        body["data"],
        serde_json::json!([
            "POST /orders",
            "charge card",
            "publish order",
            "reserve stock"
        ])
    );
    let (_, body) = get(&app, "/api/services/api%20gateway%2Fx/operations").await;
    assert_eq!(body["data"], serde_json::json!([]));

    let (status, body) = get(&app, "/api/operations?service=orders&spanKind=server").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["data"],
        serde_json::json!([{"name": "POST /orders", "spanKind": "server"}])
    );
    let (status, body) = get(&app, "/api/operations").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["code"], 400);

    // Search: tags as JSON, Go durations, limit; full traces come back.
    let tags = urlencode(r#"{"error":"true"}"#);
    let (status, body) = get(
        &app,
        &format!("/api/traces?service=payments&tags={tags}&minDuration=50ms&maxDuration=1.5s&limit=100&start={start}&end={end}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let found: Vec<&str> = body["data"]
        .as_array()
        .expect("traces")
        .iter()
        .filter_map(|t| t["traceID"].as_str())
        .collect();
    assert_eq!(found.len(), 6);
    assert!(
        body["data"][0]["spans"]
            .as_array()
            .is_some_and(|s| s.len() >= 5)
    );
    // The repeatable tag=k:v form.
    let (_, body) = get(
        &app,
        &format!("/api/traces?service=notifier&tag=http.route:process%20order&limit=3&start={start}&end={end}"),
    )
    .await;
    assert_eq!(body["data"].as_array().map(Vec::len), Some(3));
    // minDuration above every span: nothing.
    let (_, body) = get(
        &app,
        &format!("/api/traces?service=payments&minDuration=2s&start={start}&end={end}"),
    )
    .await;
    assert_eq!(body["data"], serde_json::json!([]));
    // By traceID, repeatable, no service needed.
    let (_, body) = get(
        &app,
        &format!(
            "/api/traces?traceID={}&traceID={}",
            fleet.request_traces[0], fleet.request_traces[1]
        ),
    )
    .await;
    assert_eq!(body["data"].as_array().map(Vec::len), Some(2));

    for bad in [
        "/api/traces".to_owned(),
        format!("/api/traces?service=orders&minDuration=fast&start={start}&end={end}"),
        format!("/api/traces?service=orders&tags=notjson&start={start}&end={end}"),
        format!("/api/traces?service=orders&limit=ten&start={start}&end={end}"),
    ] {
        let (status, body) = get(&app, &bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(body["errors"][0]["code"], 400, "{bad}");
    }

    let end_ms = range.to_ns / 1_000_000;
    let lookback = (range.to_ns - range.from_ns) / 1_000_000;
    let (status, body) = get(
        &app,
        &format!("/api/dependencies?endTs={end_ms}&lookback={lookback}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let deps = body["data"].as_array().expect("dependencies");
    let find = |p: &str, c: &str| {
        deps.iter()
            .find(|d| d["parent"] == p && d["child"] == c)
            .and_then(|d| d["callCount"].as_i64())
    };
    assert_eq!(find("api-gateway", "orders"), Some(40));
    assert_eq!(find("orders", "payments"), Some(40));
    assert_eq!(find("orders", "inventory"), Some(20));
    assert_eq!(find("orders", "notifier"), Some(40));
    assert_eq!(deps.len(), 4);
}

#[tokio::test]
async fn jaeger_dependencies_out_of_range_names_the_parameter_and_range() {
    let app = app(None).await;
    let max_end_ms = i64::MAX / 1_000_000;
    let end_ms = whole_range_end_ms();
    for (uri, parameter, range) in [
        // A lookback that overflows nanoseconds (and goes before 1970).
        (
            format!("/api/dependencies?endTs={end_ms}&lookback={}", i64::MAX),
            "lookback",
            format!("between 1 and {end_ms} ms"),
        ),
        (
            format!("/api/dependencies?endTs={end_ms}&lookback=0"),
            "lookback",
            format!("between 1 and {end_ms} ms"),
        ),
        // An endTs whose nanoseconds do not fit.
        (
            format!("/api/dependencies?endTs={}&lookback=1000", i64::MAX),
            "endTs",
            format!("between 0 and {max_end_ms}"),
        ),
        (
            "/api/dependencies?endTs=-5&lookback=1000".to_owned(),
            "endTs",
            format!("between 0 and {max_end_ms}"),
        ),
    ] {
        let (status, body) = get(&app, &uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(body["errors"][0]["code"], 400, "{uri}");
        let message = body["errors"][0]["msg"].as_str().unwrap_or("");
        assert!(message.starts_with(parameter), "{uri}: {message}");
        assert!(message.contains(&range), "{uri}: {message}");
    }
    // The widest range allowed is answered.
    let (status, body) = get(
        &app,
        &format!("/api/dependencies?endTs={end_ms}&lookback={end_ms}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"].as_array().map(Vec::len), Some(4));
}

fn whole_range_end_ms() -> i64 {
    crate::fixture::whole_range().to_ns / 1_000_000
}

pub(crate) fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn jaeger_v3_shapes() {
    let fleet = &indexed().fleet;
    let app = app(None).await;
    let (status, body) = get(&app, "/api/v3/services").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["services"].as_array().map(Vec::len), Some(5));

    let (_, body) = get(&app, "/api/v3/operations?service=payments").await;
    assert_eq!(
        body["operations"],
        serde_json::json!([{"name": "charge", "spanKind": "server"}])
    );

    let trace_id = &fleet.request_traces[2];
    let (status, body) = get(&app, &format!("/api/v3/traces/{trace_id}")).await;
    assert_eq!(status, StatusCode::OK);
    let resources = body["result"]["resourceSpans"]
        .as_array()
        .expect("resourceSpans");
    assert_eq!(resources.len(), 4, "one resource per service");
    let spans: Vec<&Value> = resources
        .iter()
        .flat_map(|r| r["scopeSpans"][0]["spans"].as_array().into_iter().flatten())
        .collect();
    assert_eq!(spans.len(), fleet.spans_of(trace_id).len());
    let root = spans
        .iter()
        .find(|s| s["name"] == "GET /orders")
        .expect("root");
    assert_eq!(root["kind"], 2);
    assert!(root.get("parentSpanId").is_none());
    assert_eq!(root["traceId"], trace_id.as_str());
    assert!(
        root["startTimeUnixNano"]
            .as_str()
            .is_some_and(|t| t.parse::<i64>().is_ok())
    );
    let charge = spans
        .iter()
        .find(|s| s["name"] == "charge")
        .expect("charge");
    assert!(charge["parentSpanId"].as_str().is_some());
    assert!(resources.iter().any(|r| {
        r["resource"]["attributes"].as_array().is_some_and(|a| {
            a.iter()
                .any(|kv| kv["key"] == "service.name" && kv["value"]["stringValue"] == "payments")
        })
    }));

    let (status, _) = get(&app, "/api/v3/traces/6b1ddd005eed0000000000000000ffff").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let range = fixture::whole_range();
    let from = chrono::DateTime::from_timestamp_nanos(range.from_ns).to_rfc3339();
    let to = chrono::DateTime::from_timestamp_nanos(range.to_ns).to_rfc3339();
    let (status, body) = get(
        &app,
        &format!(
            "/api/v3/traces?query.service_name=inventory&query.start_time_min={}&query.start_time_max={}&query.search_depth=4",
            urlencode(&from),
            urlencode(&to)
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let trace_ids: std::collections::BTreeSet<&str> = body["result"]["resourceSpans"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["scopeSpans"][0]["spans"].as_array().into_iter().flatten())
        .filter_map(|s| s["traceId"].as_str())
        .collect();
    assert_eq!(trace_ids.len(), 4);
    // camelCase names and a no-match 404.
    let (status, _) = get(
        &app,
        &format!(
            "/api/v3/traces?query.serviceName=inventory&query.startTimeMin={}&query.startTimeMax={}&query.durationMin=10s",
            urlencode(&from),
            urlencode(&to)
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = get(
        &app,
        "/api/v3/traces?query.service_name=x&query.start_time_min=yesterday",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().is_some());
}

#[tokio::test]
async fn tracelake_json_api() {
    let fleet = &indexed().fleet;
    let app = app(None).await;
    let q = range_query();

    let (status, body) = get(
        &app,
        &format!("/api/tracelake/traces/{}", fleet.request_traces[0]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["span_count"],
        fleet.spans_of(&fleet.request_traces[0]).len()
    );
    assert!(body["cost_usd"].as_f64().is_some_and(|c| c > 0.0));

    let (_, body) = get(
        &app,
        &format!("/api/tracelake/traces?{q}&service=payments&errors=true&limit=100"),
    )
    .await;
    assert_eq!(body.as_array().map(Vec::len), Some(6));
    let (_, body) = get(&app, &format!("/api/tracelake/map?{q}")).await;
    assert_eq!(body.as_array().map(Vec::len), Some(4));
    let (_, body) = get(
        &app,
        &format!("/api/tracelake/red?{q}&service=payments&bucket=1h"),
    )
    .await;
    assert_eq!(
        body.as_array().map(|points| points
            .iter()
            .filter_map(|p| p["request_count"].as_i64())
            .sum::<i64>()),
        Some(40)
    );
    let (_, body) = get(
        &app,
        &format!("/api/tracelake/coldstarts?{q}&function=orders"),
    )
    .await;
    assert_eq!(body[0]["function"], "orders");
    let (_, body) = get(&app, &format!("/api/tracelake/cost?{q}&by=trace&limit=2")).await;
    assert_eq!(body.as_array().map(Vec::len), Some(2));
    let (_, body) = get(
        &app,
        &format!("/api/tracelake/logs?{q}&q=declined&level=error"),
    )
    .await;
    assert_eq!(body["lines"].as_array().map(Vec::len), Some(6));
    assert_eq!(body["truncated"], false);
    let (_, body) = get(
        &app,
        &format!("/api/tracelake/logs?{q}&q=declined&level=error&limit=4"),
    )
    .await;
    assert_eq!(body["lines"].as_array().map(Vec::len), Some(4));
    assert_eq!(body["truncated"], true);
    let (_, body) = get(&app, &format!("/api/tracelake/services?{q}")).await;
    assert_eq!(body.as_array().map(Vec::len), Some(5));
    // Each service's tags are its spans' resource attributes, without the
    // sandbox id (`faas.instance`) or the service's own name.
    for service in body.as_array().into_iter().flatten() {
        let name = service["service"].as_str().expect("a name");
        assert_eq!(
            service["tags"],
            serde_json::json!({
                "cloud.provider": "aws",
                "deployment.environment.name": "production",
                "team": fixture::team_of(name),
            }),
            "{name}"
        );
    }
    let (_, body) = get(&app, "/api/tracelake/range").await;
    assert_eq!(body["latest_hour_ns"], fixture::T0_NS + 3_600_000_000_000);

    let response = app
        .clone()
        .oneshot(
            Request::post("/api/tracelake/sql")
                .body(Body::from(
                    r#"{"sql": "SELECT count(*) AS n FROM invocations"}"#,
                ))
                .expect("request"),
        )
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::OK);

    for bad in [
        format!("/api/tracelake/traces?{q}&limit=0"),
        format!("/api/tracelake/traces?{q}&limit=100000"),
        format!("/api/tracelake/red?{q}&bucket=7s"),
        format!("/api/tracelake/red?{q}&bucket=1.5s"),
        format!("/api/tracelake/red?{q}&bucket=0s"),
        format!("/api/tracelake/red?{q}&bucket=-1m"),
        format!("/api/tracelake/red?{q}&bucket=soon"),
        format!("/api/tracelake/red?{q}&by=region"),
        format!("/api/tracelake/red?{q}&by=service&operation=x"),
        // The histogram reads `bucket` as RED does (1500ms once became 1 s here).
        format!("/api/tracelake/logs/histogram?{q}&bucket=1500ms"),
        format!("/api/tracelake/logs/histogram?{q}&bucket=0s"),
        format!("/api/tracelake/logs/histogram?{q}&bucket=-1m"),
        format!("/api/tracelake/logs?{q}&level=loud"),
        format!("/api/tracelake/traces?{q}&minDuration=-1s"),
        format!("/api/tracelake/traces?{q}&kind=sideways"),
        format!("/api/tracelake/cost?{q}&by=region"),
        "/api/tracelake/traces?from=10&to=5".to_owned(),
        "/api/tracelake/services?from=yesterday".to_owned(),
        "/api/tracelake/logs?traceId=nope".to_owned(),
        "/api/tracelake/operations".to_owned(),
        "/api/tracelake/traces/zz".to_owned(),
    ] {
        let (status, body) = get(&app, &bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{bad}"
        );
    }
    let (status, body) = get(&app, "/api/nothing/here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error"].is_string());
}

#[tokio::test]
async fn malicious_parameters_change_nothing() {
    let fleet = &indexed().fleet;
    let app = app(None).await;
    let q = range_query();
    for hostile in [
        "orders' OR '1'='1",
        "orders\"; DROP TABLE spans; --",
        "'; DELETE FROM logs; --",
        "${service}",
        "$1",
    ] {
        let name = urlencode(hostile);
        let (status, body) = get(&app, &format!("/api/tracelake/traces?{q}&service={name}")).await;
        assert_eq!(status, StatusCode::OK, "{hostile}");
        assert_eq!(body, serde_json::json!([]), "{hostile} matches nothing");
        let (status, body) = get(&app, &format!("/api/traces?service={name}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["data"], serde_json::json!([]));
        let (status, _) = get(&app, &format!("/api/tracelake/logs?{q}&q={name}")).await;
        assert_eq!(status, StatusCode::OK);
    }
    let response = app
        .clone()
        .oneshot(
            Request::post("/api/tracelake/sql")
                .body(Body::from(r#"{"sql": "DROP TABLE spans"}"#))
                .expect("request"),
        )
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let (status, _) = get(&app, &format!("/api/tracelake/services?{q}&service=%00%01")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = get(&app, &format!("/api/tracelake/traces?{q}&service=%00")).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "control characters are refused"
    );

    // Everything is still there.
    let (_, body) = get(&app, &format!("/api/tracelake/services?{q}")).await;
    let spans: i64 = body
        .as_array()
        .expect("services")
        .iter()
        .filter_map(|s| s["span_count"].as_i64())
        .sum();
    assert_eq!(spans as usize, fleet.spans.len());

    // Path traversal in asset paths.
    for path in [
        "/assets/../Cargo.toml",
        "/assets/%2e%2e/%2e%2e/Cargo.toml",
        "/assets/vendor/../../src/lib.rs",
        "/assets/..%5c..%5cCargo.toml",
    ] {
        let (status, body) = get(&app, path).await;
        assert!(status.is_client_error(), "{path}: {status}");
        assert!(!body.to_string().contains("[package]"), "{path}");
    }
    let (status, _) = get(&app, "/assets/app.js").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = get(&app, "/assets/vendor/cytoscape/LICENSE").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn bearer_token_on_and_off() {
    let open = app(None).await;
    let (status, _) = get(&open, "/api/services").await;
    assert_eq!(status, StatusCode::OK);

    let locked = app(Some("s3cret-token")).await;
    for uri in [
        "/api/services",
        "/api/v3/services",
        "/api/tracelake/range",
        "/api/tracelake/traces",
        "/api/dependencies",
    ] {
        let (status, body) = call(&locked, uri, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
        // Jaeger v1 routes answer in the envelope, the others `{"error"}`.
        let message = if uri == "/api/services" || uri == "/api/dependencies" {
            &body["errors"][0]["msg"]
        } else {
            &body["error"]
        };
        assert!(message.is_string(), "{uri}: {body}");
        let (status, _) = call(&locked, uri, Some("wrong-token!")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
        let (status, _) = call(&locked, uri, Some("s3cret-token")).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
    }
    // Unknown API paths are not revealed without the token either.
    let (status, _) = call(&locked, "/api/secret", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The UI shell itself loads, and asks for the token.
    let (status, _) = call(&locked, "/", None).await;
    assert_eq!(status, StatusCode::OK);
}

/// A Jaeger v1 route answers its errors in the v1 envelope, a refused token
/// and an unknown path under the v1 API included (the Jaeger UI shows the
/// envelope's messages), and the bearer scheme is read in any case, as HTTP
/// authentication schemes are (RFC 9110, 11.1).
#[tokio::test]
async fn jaeger_v1_auth_and_unknown_paths_answer_the_envelope() {
    let locked = app(Some("s3cret-token")).await;
    let send = |uri: &str, authorization: Option<&str>| {
        let mut request = Request::get(uri);
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        let app = locked.clone();
        let request = request.body(Body::empty()).expect("request");
        async move {
            let response = app.oneshot(request).await.expect("router answers");
            let status = response.status();
            let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .expect("body");
            let body: Value = serde_json::from_slice(&bytes).expect("a JSON body");
            (status, body)
        }
    };
    for uri in ["/api/services", "/api/dependencies", "/api/traces/abc"] {
        let (status, body) = send(uri, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
        assert_eq!(body["errors"][0]["code"], 401, "{uri}: {body}");
        assert!(body["errors"][0]["msg"].is_string(), "{uri}: {body}");
        assert!(body["data"].is_null(), "{uri}: {body}");
    }
    // tracelake's own and the v3 routes keep their `error` form.
    for uri in ["/api/tracelake/range", "/api/v3/services"] {
        let (status, body) = send(uri, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
        assert!(body["error"].is_string(), "{uri}: {body}");
    }
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let (status, body) = send("/api/services", Some(&format!("{scheme} s3cret-token"))).await;
        assert_eq!(status, StatusCode::OK, "{scheme}: {body}");
    }
    let (status, _) = send("/api/services", Some("Basic s3cret-token")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A service name with an unescaped slash makes a path no route has.
    let (status, body) = send(
        "/api/services/team/orders/operations",
        Some("Bearer s3cret-token"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["errors"][0]["code"], 404, "{body}");
}

/// `shared/fixtures/field/<name>` beside the repository; panics (failing the
/// test loudly) when there is none.
fn field_fixture(name: &str) -> Vec<u8> {
    let manifest = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let path = manifest
        .ancestors()
        .map(|dir| dir.join("shared/fixtures/field").join(name))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "no shared/fixtures/field/{name} beside {}",
                manifest.display()
            )
        });
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Field case 07: two pino lines carry an OpenTelemetry trace id whose
/// service wrote no span and no invocation. Jaeger shows nothing of a trace
/// without spans, so the lines get a span of their service, as its logs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jaeger_trace_of_log_lines_only_has_a_span_per_service() {
    const TRACE: &str = "8ed12a364f9bfedd4a7edc321dcaaef9";
    let input = field_fixture("07_pino_otel_trace_id_fields.json");
    // Expected values from the input: the pino lines that name the trace.
    let payload: Value = serde_json::from_slice(&input).expect("fixture is JSON");
    let service = payload["logGroup"]
        .as_str()
        .and_then(|group| group.strip_prefix("/aws/lambda/"))
        .expect("a Lambda log group")
        .to_owned();
    let lines: Vec<(i64, Value)> = payload["logEvents"]
        .as_array()
        .expect("logEvents")
        .iter()
        .filter_map(|event| {
            let line: Value = serde_json::from_str(event["message"].as_str()?.trim()).ok()?;
            (line["trace_id"] == TRACE).then(|| (event["timestamp"].as_i64().unwrap_or(0), line))
        })
        .collect();
    assert_eq!(lines.len(), 2, "the fixture's pino lines of {TRACE}");
    let span_id = lines[0].1["span_id"].as_str().expect("span_id").to_owned();
    // pino levels: 50 is error.
    let error_line = lines
        .iter()
        .find(|(_, line)| line["level"] == 50)
        .map(|(_, line)| line["msg"].as_str().unwrap_or("").to_owned())
        .expect("a line at pino level 50");

    let dir = tempfile::tempdir().expect("temporary directory");
    let store =
        tracelake_collector::IndexStore::open(&dir.path().to_string_lossy()).expect("store opens");
    tracelake_collector::Collector::new(store)
        .ingest(&input, "field/07")
        .await
        .expect("fixture is ingested");
    let engine = tracelake_dashboards::query::QueryEngine::open(
        &dir.path().to_string_lossy(),
        tracelake_dashboards::query::EngineOptions {
            query_timeout: std::time::Duration::from_secs(600),
            ..tracelake_dashboards::query::EngineOptions::default()
        },
    )
    .await
    .expect("index opens");
    let app = router(AppState {
        engine,
        token: None,
    });

    let (status, body) = get(&app, &format!("/api/traces/{TRACE}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let trace = &body["data"][0];
    assert_eq!(trace["traceID"], TRACE);
    let spans = trace["spans"].as_array().expect("spans");
    assert_eq!(spans.len(), 1, "one span per service: {trace}");
    let span = &spans[0];
    assert_eq!(span["spanID"], span_id.as_str(), "the span the lines name");
    assert_eq!(span["traceID"], TRACE);
    assert_eq!(span["references"], serde_json::json!([]));
    let process_id = span["processID"].as_str().expect("processID");
    assert_eq!(
        trace["processes"][process_id]["serviceName"],
        service.as_str()
    );
    assert_eq!(span["startTime"], lines[0].0 * 1_000);
    assert_eq!(span["duration"], (lines[1].0 - lines[0].0) * 1_000);
    let tags = span["tags"].as_array().expect("tags");
    let tag = |key: &str| {
        tags.iter()
            .find(|t| t["key"] == key)
            .map(|t| t["value"].clone())
    };
    assert_eq!(tag("error"), Some(Value::Bool(true)));
    assert_eq!(tag("otel.status_code"), Some("ERROR".into()));
    assert_eq!(
        tag("otel.status_description"),
        Some(error_line.as_str().into())
    );
    assert_eq!(tag("tracelake.synthetic"), Some("log_lines".into()));
    let logs = span["logs"].as_array().expect("logs");
    assert_eq!(logs.len(), lines.len());
    for (log, (millis, line)) in logs.iter().zip(&lines) {
        assert_eq!(log["timestamp"], millis * 1_000);
        let field = |key: &str| {
            log["fields"]
                .as_array()
                .and_then(|f| f.iter().find(|kv| kv["key"] == key))
                .map(|kv| kv["value"].clone())
        };
        // The stored message is the whole pino line.
        let message = field("message").expect("message field");
        let msg = line["msg"].as_str().expect("msg");
        assert!(
            message.as_str().is_some_and(|m| m.contains(msg)),
            "{message}"
        );
        let level = if line["level"] == 50 { "ERROR" } else { "INFO" };
        assert_eq!(field("level"), Some(level.into()));
    }

    // v3 shares the drawing: one resource of the service, the lines as events.
    let (status, body) = get(&app, &format!("/api/v3/traces/{TRACE}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let resources = body["result"]["resourceSpans"]
        .as_array()
        .expect("resources");
    assert_eq!(resources.len(), 1, "{body}");
    assert!(
        resources[0]["resource"]["attributes"]
            .as_array()
            .is_some_and(|a| a
                .iter()
                .any(|kv| kv["key"] == "service.name"
                    && kv["value"]["stringValue"] == service.as_str()))
    );
    let span = &resources[0]["scopeSpans"][0]["spans"][0];
    assert_eq!(span["spanId"], span_id.as_str());
    assert_eq!(span["status"]["code"], 2);
    let events = span["events"].as_array().expect("events");
    assert_eq!(events.len(), lines.len());
    assert!(events.iter().all(|event| event["name"] == "log"));
    assert!(events.iter().any(|event| {
        event["attributes"].as_array().is_some_and(|a| {
            a.iter().any(|kv| {
                kv["key"] == "message"
                    && kv["value"]["stringValue"]
                        .as_str()
                        .is_some_and(|m| m.contains(&error_line))
            })
        })
    }));
}

async fn post_sql(app: &axum::Router, sql: &str) -> Value {
    let response = app
        .clone()
        .oneshot(
            Request::post("/api/tracelake/sql")
                .body(Body::from(serde_json::json!({ "sql": sql }).to_string()))
                .expect("request"),
        )
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::OK, "{sql}");
    let bytes = axum::body::to_bytes(response.into_body(), 16 << 20)
        .await
        .expect("body");
    serde_json::from_slice(&bytes).expect("JSON")
}

/// Two columns of one name (the qualifier is not part of DataFusion's output
/// name) both reach the JSON rows: the second as `n_1`.
#[tokio::test]
async fn sql_keeps_every_column_of_the_same_name() {
    let app = app(None).await;
    let spans = post_sql(&app, "SELECT count(*) AS n FROM spans").await;
    let invocations = post_sql(&app, "SELECT count(*) AS n FROM invocations").await;
    let (spans, invocations) = (&spans["rows"][0]["n"], &invocations["rows"][0]["n"]);
    assert_ne!(
        spans, invocations,
        "the fixture's counts tell the columns apart"
    );
    let both = post_sql(
        &app,
        "SELECT a.n, b.n FROM (SELECT count(*) AS n FROM spans) a \
         CROSS JOIN (SELECT count(*) AS n FROM invocations) b",
    )
    .await;
    assert_eq!(
        both["rows"],
        serde_json::json!([{ "n": spans, "n_1": invocations }])
    );
}

/// The answer names its columns in the `SELECT`'s order (a row's keys come
/// alphabetically), with the same suffixed names as the rows, also when no row
/// came back.
#[tokio::test]
async fn sql_names_its_columns_in_the_query_order() {
    let app = app(None).await;
    let answer = post_sql(
        &app,
        "SELECT b.zulu, a.alpha, b.alpha, a.alpha_1 \
         FROM (SELECT 1 AS alpha, 3 AS alpha_1) a \
         CROSS JOIN (SELECT count(*) AS zulu, 2 AS alpha FROM spans) b",
    )
    .await;
    assert_eq!(
        answer["columns"],
        serde_json::json!(["zulu", "alpha", "alpha_2", "alpha_1"])
    );
    let row = answer["rows"][0].as_object().expect("one row");
    assert_eq!(
        (&row["alpha"], &row["alpha_2"], &row["alpha_1"]),
        (
            &serde_json::json!(1),
            &serde_json::json!(2),
            &serde_json::json!(3)
        ),
        "each name is its column's"
    );
    let mut keys: Vec<&String> = row.keys().collect();
    keys.sort();
    let mut columns: Vec<&str> = answer["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    columns.sort_unstable();
    assert_eq!(keys, columns, "the same names as the row's keys");
    let empty = post_sql(&app, "SELECT service, span_id FROM spans WHERE false").await;
    assert_eq!(empty["rows"], serde_json::json!([]));
    assert_eq!(empty["columns"], serde_json::json!(["service", "span_id"]));
}

/// The log histogram has every bucket of its range: those before the fixture's
/// first line are there with 0 lines, and the buckets add up to the lines the
/// log search finds over the same range.
#[tokio::test]
async fn log_histogram_keeps_empty_buckets() {
    let app = app(None).await;
    const MINUTE_NS: i64 = 60_000_000_000;
    // Half an hour before the fleet's first second and half an hour of it, in 5 min buckets.
    let (from_ns, to_ns) = (
        fixture::T0_NS - 30 * MINUTE_NS,
        fixture::T0_NS + 30 * MINUTE_NS,
    );
    let q = format!("from={}&to={}", from_ns / 1_000_000, to_ns / 1_000_000);
    let (status, body) = get(
        &app,
        &format!("/api/tracelake/logs/histogram?{q}&bucket=5m"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["bucket_seconds"], 300);
    let buckets = body["buckets"].as_array().expect("every bucket");
    let starts: Vec<i64> = buckets
        .iter()
        .filter_map(|b| b["bucket"].as_i64())
        .collect();
    let expected: Vec<i64> = (0..12).map(|i| from_ns + i * 5 * MINUTE_NS).collect();
    assert_eq!(starts, expected);
    let count = |b: &Value| b["line_count"].as_i64().expect("a count");
    for bucket in &buckets[..6] {
        assert_eq!(
            count(bucket),
            0,
            "no line before the fleet starts: {bucket}"
        );
    }
    let (_, page) = get(&app, &format!("/api/tracelake/logs?{q}&limit=5000")).await;
    assert_eq!(page["truncated"], false);
    let lines = page["lines"].as_array().map_or(0, Vec::len) as i64;
    assert!(lines > 0, "the fixture logs in its first half hour");
    assert_eq!(buckets.iter().map(count).sum::<i64>(), lines);
    let by_level: i64 = body["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .map(count)
        .sum();
    assert_eq!(by_level, lines);
}
