//! Field case 12 (`shared/fixtures/field/`): trace ids as Jaeger, Grafana and
//! people write them (16 hex, leading zeros dropped, upper case, X-Ray) find the
//! same trace through the CLI and the Jaeger v1 and v3 endpoints; what is not an
//! id gets a clear 400.

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;
use tracelake_dashboards::api::{AppState, router};
use tracelake_dashboards::query::{EngineOptions, QueryEngine};

fn field_case(name: &str) -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .map(|dir| dir.join("shared/fixtures/field").join(name))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "no shared/fixtures/field/{name} beside {}",
                manifest.display()
            )
        })
}

fn tracelake(args: &[&str]) -> std::process::Output {
    super::support::tracelake()
        .args(args)
        .output()
        .expect("run tracelake")
}

/// The two traces of case 12, as stored, and the forms users paste for each.
const CASES: [(&str, &[&str]); 2] = [
    (
        "0000000000000000a7890b687652000e",
        &[
            "a7890b687652000e",
            "0000000000000000a7890b687652000e",
            "A7890B687652000E",
            "000a7890b687652000e",
        ],
    ),
    (
        "0ac9e59c5cd0b169a71419360b31161b",
        &[
            "ac9e59c5cd0b169a71419360b31161b",
            "0ac9e59c5cd0b169a71419360b31161b",
            "1-0ac9e59c-5cd0b169a71419360b31161b",
        ],
    ),
];

pub(super) fn ingest_case_12() -> tempfile::TempDir {
    let data = tempfile::tempdir().expect("tempdir");
    let path = field_case("12_jaeger_short_and_unpadded_trace_ids.json");
    let output = tracelake(&[
        "ingest",
        "--data",
        data.path().to_str().expect("utf-8"),
        path.to_str().expect("utf-8"),
    ]);
    assert!(
        output.status.success(),
        "ingest failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    data
}

#[test]
fn the_cli_finds_a_trace_by_every_form_of_its_id() {
    let data = ingest_case_12();
    let dir = data.path().to_str().expect("utf-8");
    for (stored, forms) in CASES {
        for form in forms {
            let output = tracelake(&["query", "--data", dir, "--json", "trace", form]);
            assert!(
                output.status.success(),
                "query trace {form}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let trace: serde_json::Value =
                serde_json::from_slice(&output.stdout).expect("json trace");
            assert_eq!(trace["trace_id"], stored, "{form}");
        }
    }
    let output = tracelake(&["query", "--data", dir, "trace", "not-a-trace-id"]);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("invalid trace id"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, serde_json::Value) {
    let response = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
        .await
        .expect("router answers");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 16 << 20)
        .await
        .expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jaeger_v1_v3_and_the_json_api_accept_every_form() {
    let data = ingest_case_12();
    let engine = QueryEngine::open(
        data.path().to_str().expect("utf-8"),
        EngineOptions::default(),
    )
    .await
    .expect("index opens");
    let app = router(AppState {
        engine,
        token: None::<Arc<str>>,
    });
    for (stored, forms) in CASES {
        for form in forms {
            let (status, body) = get(&app, &format!("/api/traces/{form}")).await;
            assert_eq!(status, StatusCode::OK, "v1 {form}: {body}");
            assert_eq!(body["data"][0]["traceID"], stored, "v1 {form}");

            let (status, body) = get(&app, &format!("/api/v3/traces/{form}")).await;
            assert_eq!(status, StatusCode::OK, "v3 {form}: {body}");
            let span = &body["result"]["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
            assert_eq!(span["traceId"], stored, "v3 {form}: {body}");

            let (status, body) = get(&app, &format!("/api/tracelake/traces/{form}")).await;
            assert_eq!(status, StatusCode::OK, "api {form}: {body}");
            assert_eq!(body["trace_id"], stored, "api {form}");
        }
    }
    for bad in [
        "not-hex",
        "0",
        "1-0ac9e59c",
        "0a7890b687652000e0a7890b687652000e",
    ] {
        let (status, _) = get(&app, &format!("/api/traces/{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "v1 {bad}");
        let (status, _) = get(&app, &format!("/api/v3/traces/{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "v3 {bad}");
    }
}
