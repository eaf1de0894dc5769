//! The Jaeger v3 API reads its parameters through the typed structs, as
//! tracelake's own routes do: the same span kinds, and 400s that name the
//! parameter at fault.

use axum::http::StatusCode;
use serde_json::Value;

use crate::api::{app, get, range_query, urlencode};
use crate::fixture;

/// `(name, kind)` of every operation in a v3 (`operations`, `spanKind`) or
/// tracelake (a list, `kind`) answer.
fn operations(body: &Value, list: &str, kind: &str) -> Vec<(String, String)> {
    let rows = if list.is_empty() {
        body.as_array()
    } else {
        body[list].as_array()
    };
    rows.expect("a list of operations")
        .iter()
        .map(|row| {
            (
                row["name"].as_str().expect("name").to_owned(),
                row[kind].as_str().expect("kind").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn v3_span_kinds_read_as_the_tracelake_route_reads_them() {
    let app = app(None).await;
    // The fixture's `orders` service has one server span and two client ones.
    for (kind, expected) in [
        ("server", vec!["POST /orders"]),
        ("client", vec!["charge card", "reserve stock"]),
    ] {
        let (status, body) = get(
            &app,
            &format!(
                "/api/tracelake/operations?service=orders&kind={kind}&{}",
                range_query()
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let tracelake = operations(&body, "", "kind");
        let names: Vec<&str> = tracelake.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, expected);
        assert!(tracelake.iter().all(|(_, k)| k == kind), "{tracelake:?}");

        let upper = kind.to_ascii_uppercase();
        for form in [
            kind.to_owned(),
            upper.clone(),
            format!("SPAN_KIND_{upper}"),
            format!("span_kind_{kind}"),
        ] {
            for key in ["span_kind", "spanKind"] {
                let (status, body) = get(
                    &app,
                    &format!("/api/v3/operations?service=orders&{key}={form}"),
                )
                .await;
                assert_eq!(status, StatusCode::OK, "{key}={form}: {body}");
                assert_eq!(
                    operations(&body, "operations", "spanKind"),
                    tracelake,
                    "{key}={form}"
                );
            }
        }
    }
    // No kind: every operation, as the tracelake route gives them.
    let (_, body) = get(&app, "/api/v3/operations?service=orders").await;
    let (_, all) = get(
        &app,
        &format!("/api/tracelake/operations?service=orders&{}", range_query()),
    )
    .await;
    assert_eq!(
        operations(&body, "operations", "spanKind"),
        operations(&all, "", "kind")
    );
}

#[tokio::test]
async fn v3_bad_parameters_are_400s_naming_the_parameter() {
    let app = app(None).await;
    for form in ["bogus", "SPAN_KIND_BOGUS", "SPAN_KIND_UNSPECIFIED"] {
        let (status, body) = get(
            &app,
            &format!("/api/v3/operations?service=orders&span_kind={form}"),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{form}: {body}");
        let error = body["error"].as_str().expect("error message");
        assert!(
            error.contains("span_kind") && error.contains(form),
            "{error}"
        );
    }
    // The tracelake route refuses the same value.
    let (status, _) = get(&app, "/api/tracelake/operations?service=orders&kind=bogus").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = get(&app, "/api/v3/operations?span_kind=server").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("service"))
    );

    let range = fixture::whole_range();
    let from = urlencode(&chrono::DateTime::from_timestamp_nanos(range.from_ns).to_rfc3339());
    let to = urlencode(&chrono::DateTime::from_timestamp_nanos(range.to_ns).to_rfc3339());
    let search = format!(
        "/api/v3/traces?query.service_name=inventory&query.start_time_min={from}&query.start_time_max={to}"
    );
    for (extra, named) in [
        ("query.num_traces=abc", "query.num_traces"),
        ("query.search_depth=abc", "query.search_depth"),
        ("query.duration_min=fast", "query.duration_min"),
        ("query.duration_max=1x", "query.duration_max"),
        ("query.attributes=notjson", "query.attributes"),
    ] {
        let (status, body) = get(&app, &format!("{search}&{extra}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{extra}: {body}");
        let error = body["error"].as_str().expect("error message");
        assert!(error.starts_with(named), "{extra}: {error}");
    }
    let (status, body) = get(
        &app,
        "/api/v3/traces?query.service_name=x&query.start_time_min=yesterday",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let error = body["error"].as_str().expect("error message");
    assert!(
        error.contains("query.start_time_min") && error.contains("yesterday"),
        "{error}"
    );
    // num_traces alone limits the search as search_depth does.
    let (status, body) = get(&app, &format!("{search}&query.num_traces=3")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let trace_ids: std::collections::BTreeSet<&str> = body["result"]["resourceSpans"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["scopeSpans"][0]["spans"].as_array().into_iter().flatten())
        .filter_map(|s| s["traceId"].as_str())
        .collect();
    assert_eq!(trace_ids.len(), 3);

    let (status, body) = get(&app, "/api/v3/traces/not-a-trace-id").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("not-a-trace-id"))
    );
    let (status, body) = get(
        &app,
        "/api/v3/traces/6b1ddd005eed0000000000000000ffff?start_time=soon&end_time=later",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("start_time"))
    );
}

/// The trace ids of a v1 search answer.
fn v1_trace_ids(body: &Value) -> std::collections::BTreeSet<String> {
    body["data"]
        .as_array()
        .expect("a list of traces")
        .iter()
        .filter_map(|t| t["traceID"].as_str().map(str::to_owned))
        .collect()
}

/// Jaeger's storages match a search tag on the span's tags or on its
/// process's tags (the resource attributes), and Grafana and the Jaeger UI
/// show `team` or `deployment.environment.name` as process tags: searching
/// for one must find the traces, as tracelake's own search must.
#[tokio::test]
async fn a_tag_search_matches_process_tags_as_jaeger_does() {
    let fleet = &fixture::indexed().fleet;
    let app = app(None).await;
    let range = fixture::whole_range();
    let (start, end) = (range.from_ns / 1_000, range.to_ns / 1_000);
    let payments: std::collections::BTreeSet<String> = fleet
        .spans
        .iter()
        .filter(|span| span["service"] == "payments")
        .filter_map(|span| span["trace_id"].as_str().map(str::to_owned))
        .collect();
    assert!(payments.len() > 5, "the fixture has payments traces");
    assert_eq!(fixture::team_of("payments"), "money");

    let tags = urlencode(r#"{"team":"money"}"#);
    let (status, body) = get(
        &app,
        &format!("/api/traces?service=payments&tags={tags}&limit=1000&start={start}&end={end}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(v1_trace_ids(&body), payments);
    // The repeatable form, with a span attribute beside the process tag.
    let (_, body) = get(
        &app,
        &format!(
            "/api/traces?service=payments&tag=team:money&tag=http.route:charge&limit=1000&start={start}&end={end}"
        ),
    )
    .await;
    assert_eq!(v1_trace_ids(&body), payments);
    // Another service's team matches no payments span.
    let tags = urlencode(r#"{"team":"edge"}"#);
    let (status, body) = get(
        &app,
        &format!("/api/traces?service=payments&tags={tags}&limit=1000&start={start}&end={end}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"], serde_json::json!([]));

    // tracelake's search reads the same filter.
    let (status, body) = get(
        &app,
        &format!(
            "/api/tracelake/traces?service=payments&tag=team:money&limit=1000&{}",
            range_query()
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let found: std::collections::BTreeSet<String> = body
        .as_array()
        .expect("trace summaries")
        .iter()
        .filter_map(|t| t["trace_id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(found, payments);
}

/// 2026-11-20T10:20:00Z.
const TAGGED_START_NS: i64 = 1_795_170_000 * 1_000_000_000;
const TAGGED_TRACE: &str = "6b1ee5a0c0ffee00c0ffee00c0ffee01";
const TAGGED_REQUEST: &str = "3f2a8c1e-5b6d-4e7f-8a9b-0c1d2e3f4a5b";

/// An index of one span as tracelake-instrumentation writes it: its
/// invocation id and cold start both as attributes and in their own columns.
async fn tagged_span_app(dir: &tempfile::TempDir) -> axum::Router {
    use tracelake_dashboards::api::{AppState, router};
    use tracelake_dashboards::query::tables::Table;
    use tracelake_dashboards::query::{EngineOptions, QueryEngine};

    let ms = 1_000_000;
    let spans = vec![serde_json::json!({
        "trace_id": TAGGED_TRACE, "span_id": "0a1b2c3d4e5f6071", "parent_span_id": null,
        "name": "GET /orders", "kind": "server", "service": "orders",
        "start_time": TAGGED_START_NS, "end_time": TAGGED_START_NS + 3 * ms,
        "duration_ns": 3 * ms, "status_code": "ok", "status_message": null,
        "request_id": TAGGED_REQUEST, "faas_name": "orders", "faas_trigger": "http",
        "cold_start": true, "cloud_region": "us-east-1", "cloud_account_id": null,
        "attributes": {
            "faas.invocation_id": TAGGED_REQUEST, "faas.coldstart": "true",
            "faas.trigger": "http",
        },
        "resource_attributes": {"service.name": "orders"},
        "events": [], "links": [], "log_group": "/aws/lambda/orders",
        "log_stream": "2026/11/20/[$LATEST]abc",
    })];
    let trace_index = vec![serde_json::json!({
        "trace_id": TAGGED_TRACE, "min_start": TAGGED_START_NS,
        "max_end": TAGGED_START_NS + 3 * ms, "root_service": "orders",
        "root_name": "GET /orders", "span_count": 1, "error_count": 0,
        "services": ["orders"],
    })];
    fixture::write_table(dir.path(), Table::Spans, &spans, "start_time").expect("spans written");
    fixture::write_table(dir.path(), Table::TraceIndex, &trace_index, "min_start")
        .expect("trace index written");
    let engine = QueryEngine::open(&dir.path().to_string_lossy(), EngineOptions::default())
        .await
        .expect("index opens");
    router(AppState {
        engine,
        token: None,
    })
}

/// A span's invocation id and cold start are tags once each (the cold start
/// typed `bool`, as the OpenTelemetry translator maps a boolean attribute),
/// not once from the attributes and again from their columns.
#[tokio::test]
async fn a_v1_span_names_each_tag_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = tagged_span_app(&dir).await;
    let (status, body) = get(&app, &format!("/api/traces/{TAGGED_TRACE}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let tags = body["data"][0]["spans"][0]["tags"]
        .as_array()
        .expect("the span's tags");
    let keys: Vec<&str> = tags.iter().filter_map(|t| t["key"].as_str()).collect();
    let unique: std::collections::BTreeSet<&str> = keys.iter().copied().collect();
    assert_eq!(keys.len(), unique.len(), "a key given twice: {keys:?}");
    let tag = |key: &str| tags.iter().find(|t| t["key"] == key).cloned();
    assert_eq!(
        tag("faas.coldstart"),
        Some(serde_json::json!({"key": "faas.coldstart", "type": "bool", "value": true}))
    );
    assert_eq!(
        tag("faas.invocation_id"),
        Some(
            serde_json::json!({"key": "faas.invocation_id", "type": "string", "value": TAGGED_REQUEST})
        )
    );
    assert_eq!(
        tag("faas.trigger"),
        Some(serde_json::json!({"key": "faas.trigger", "type": "string", "value": "http"}))
    );
}

/// A failed span shows `otel.status_code=ERROR` beside `error=true` (the
/// translator's mapping of its status): a search on either tag finds the
/// same traces, as Jaeger's storage, which keeps both as tags, does.
#[tokio::test]
async fn a_status_code_tag_search_finds_the_failed_traces() {
    let app = app(None).await;
    let range = fixture::whole_range();
    let (start, end) = (range.from_ns / 1_000, range.to_ns / 1_000);
    let search = |tags: &str| {
        format!(
            "/api/traces?service=payments&tags={}&limit=1000&start={start}&end={end}",
            urlencode(tags)
        )
    };
    let (status, body) = get(&app, &search(r#"{"error":"true"}"#)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let failed = v1_trace_ids(&body);
    assert!(!failed.is_empty(), "the fixture has failed payments");
    let (status, body) = get(&app, &search(r#"{"otel.status_code":"ERROR"}"#)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(v1_trace_ids(&body), failed);
}

/// A search given only `start` (or only `end`) searches from it (or up to
/// it), the other bound Jaeger's default, rather than ignoring it.
#[tokio::test]
async fn a_search_with_one_bound_keeps_it() {
    let fleet = &fixture::indexed().fleet;
    let app = app(None).await;
    let range = fixture::whole_range();
    let middle_ns = range.from_ns + (range.to_ns - range.from_ns) / 2;
    let payments = |keep: &dyn Fn(i64) -> bool| -> std::collections::BTreeSet<String> {
        fleet
            .spans
            .iter()
            .filter(|span| span["service"] == "payments")
            .filter(|span| span["start_time"].as_i64().is_some_and(keep))
            .filter_map(|span| span["trace_id"].as_str().map(str::to_owned))
            .collect()
    };
    let after = payments(&|start| start >= middle_ns);
    // `end` is inclusive to the millisecond, as Grafana's ms are.
    let before = payments(&|start| start < middle_ns + 1_000_000);
    assert!(!after.is_empty() && !before.is_empty());
    assert!(after.len() < payments(&|_| true).len());

    let micros = middle_ns / 1_000;
    let (status, body) = get(
        &app,
        &format!("/api/traces?service=payments&start={micros}&limit=1000"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(v1_trace_ids(&body), after);
    let (status, body) = get(
        &app,
        &format!("/api/traces?service=payments&end={micros}&limit=1000"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(v1_trace_ids(&body), before);
}

/// A `traceID=` list answers the traces found and, as Jaeger does, names each
/// id it did not find in the envelope's errors (the Jaeger UI's trace
/// comparison shows them), rather than leaving them out unsaid.
#[tokio::test]
async fn a_trace_id_list_names_the_ids_not_found() {
    let fleet = &fixture::indexed().fleet;
    let app = app(None).await;
    let known = &fleet.request_traces[0];
    let unknown = "6b1ddd005eed0000000000000000ffff";
    let (status, body) = get(
        &app,
        &format!("/api/traces?traceID={known}&traceID={unknown}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        v1_trace_ids(&body),
        std::collections::BTreeSet::from([known.clone()])
    );
    assert_eq!(
        body["errors"],
        serde_json::json!([{"code": 404, "msg": "trace not found", "traceID": unknown}])
    );
    // Every id found: no errors.
    let (_, body) = get(&app, &format!("/api/traces?traceID={known}")).await;
    assert!(body["errors"].is_null(), "{body}");
}

/// A span whose status is OK shows `otel.status_code=OK`: a search on that
/// tag finds its trace, as Jaeger's storage, which keeps it as a tag, does,
/// and not a trace whose spans all failed.
#[tokio::test]
async fn an_ok_status_code_tag_search_finds_the_ok_spans() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = tagged_span_app(&dir).await;
    let (status, body) = get(&app, &format!("/api/traces/{TAGGED_TRACE}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let shown = body["data"][0]["spans"][0]["tags"]
        .as_array()
        .expect("the span's tags")
        .iter()
        .any(|t| t["key"] == "otel.status_code" && t["value"] == "OK");
    assert!(shown, "the span shows otel.status_code=OK: {body}");
    let (start, end) = (TAGGED_START_NS / 1_000 - 1, TAGGED_START_NS / 1_000 + 1_000);
    let search = |tags: &str| {
        format!(
            "/api/traces?service=orders&tags={}&start={start}&end={end}",
            urlencode(tags)
        )
    };
    let (status, body) = get(&app, &search(r#"{"otel.status_code":"OK"}"#)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        v1_trace_ids(&body),
        std::collections::BTreeSet::from([TAGGED_TRACE.to_owned()])
    );
    // The span did not fail: an OK search for failed spans finds nothing.
    let (status, body) = get(&app, &search(r#"{"otel.status_code":"ERROR"}"#)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"], serde_json::json!([]));
}
