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
