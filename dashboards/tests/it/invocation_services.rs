//! One rule for which service a Lambda invocation is, whether it is
//! uninstrumented and whether it failed (`queries/filters/invocation_services.sql`),
//! seen through every query that uses it: the services list, the service map
//! and the correlation report must agree on an uninstrumented function whose
//! lines name a service other than the function.
//!
//! The fixture: `checkout` (instrumented, function `checkout-fn`) calls the
//! uninstrumented function `pay-handler-x`, whose Powertools lines name the
//! service `payments`, three times in one trace:
//! - C1 names `payments` (`peer.service`), and the invocation under it (its
//!   `platform.start` header names C1 as `Parent=`) timed out;
//! - C2 names the function's ARN (`faas.invoked_name`);
//! - C3 names `pay-handler`, a prefix of both `pay-handler-x` and of another
//!   uninstrumented function, `pay-handler-x-legacy` (whose lines name no
//!   service): the closer one, `pay-handler-x`, is the callee.

use serde_json::{Value, json};
use tracelake_dashboards::query::params::PARTITION_SLACK_NS;
use tracelake_dashboards::query::sql;
use tracelake_dashboards::query::tables::Table;
use tracelake_dashboards::query::{EngineOptions, Params, QueryEngine, TimeRange};

use crate::fixture::write_table;

/// 2026-11-20T10:20:00Z.
const START_NS: i64 = 0x6b00_1ed0 * 1_000_000_000;
const MS: i64 = 1_000_000;
const TRACE: &str = "6b001ed05d99321fbe45e68c20755770";
const XRAY_TRACE: &str = "1-6b001ed0-5d99321fbe45e68c20755770";
const OTHER_TRACE: &str = "6b001ed05d99321fbe45e68c20755771";

const CHECKOUT: &str = "checkout";
const CHECKOUT_FN: &str = "checkout-fn";
const CHECKOUT_REQUEST: &str = "11111111-1111-4111-8111-111111111111";
const SERVER: &str = "a000000000000001";
const C1: &str = "a000000000000002";
const C2: &str = "a000000000000003";
const C3: &str = "a000000000000004";

const PAY_FN: &str = "pay-handler-x";
const PAY_SERVICE: &str = "payments";
const PAY_ARN: &str = "arn:aws:lambda:eu-west-1:123456789012:function:pay-handler-x";
/// Under C1, by its `platform.start` header; timed out.
const PAY_1: &str = "22222222-2222-4222-8222-222222222221";
/// Under C2, named by the ARN only.
const PAY_2: &str = "22222222-2222-4222-8222-222222222222";
const LEGACY_FN: &str = "pay-handler-x-legacy";
const LEGACY_REQUEST: &str = "33333333-3333-4333-8333-333333333333";

fn line(
    at_ms: i64,
    function: &str,
    request: &str,
    service: &str,
    format: &str,
    message: &str,
) -> Value {
    json!({
        "timestamp": START_NS + at_ms * MS, "trace_id": null, "span_id": null,
        "request_id": request, "service": service, "level": "INFO",
        "message": message, "attributes": {},
        "log_group": format!("/aws/lambda/{function}"),
        "log_stream": "2026/11/20/[$LATEST]0123456789abcdef",
        "event_id": format!("{:056}", at_ms), "format": format, "link": null,
    })
}

#[allow(clippy::cast_precision_loss)] // milliseconds of a test fixture
fn invocation(
    request: &str,
    function: &str,
    from_ms: i64,
    to_ms: i64,
    status: &str,
    trace: &str,
) -> Value {
    json!({
        "request_id": request, "function": function, "function_version": "$LATEST",
        "log_group": format!("/aws/lambda/{function}"),
        "log_stream": "2026/11/20/[$LATEST]0123456789abcdef",
        "start_time": START_NS + from_ms * MS, "end_time": START_NS + to_ms * MS,
        "duration_ms": (to_ms - from_ms) as f64, "billed_duration_ms": to_ms - from_ms,
        "memory_size_mb": 128, "max_memory_used_mb": 64, "init_duration_ms": null,
        "cold_start": false, "status": status, "error_type": null,
        "trace_id": trace, "sampled": true,
    })
}

fn span(
    id: &str,
    parent: Option<&str>,
    kind: &str,
    from_ms: i64,
    to_ms: i64,
    attributes: Value,
) -> Value {
    json!({
        "trace_id": TRACE, "span_id": id, "parent_span_id": parent,
        "name": if kind == "server" { "POST /checkout" } else { "POST" }, "kind": kind,
        "service": CHECKOUT,
        "start_time": START_NS + from_ms * MS, "end_time": START_NS + to_ms * MS,
        "duration_ns": (to_ms - from_ms) * MS, "status_code": "ok", "status_message": null,
        "request_id": CHECKOUT_REQUEST, "faas_name": CHECKOUT_FN,
        "faas_trigger": "http", "cold_start": false, "cloud_region": "eu-west-1",
        "cloud_account_id": null, "attributes": attributes, "resource_attributes": {},
        "events": [], "links": [], "log_group": format!("/aws/lambda/{CHECKOUT_FN}"),
        "log_stream": "2026/11/20/[$LATEST]fedcba9876543210",
    })
}

fn powertools(request: &str) -> String {
    format!(
        r#"{{"level":"INFO","message":"Charging","service":"{PAY_SERVICE}","function_name":"{PAY_FN}","function_request_id":"{request}"}}"#
    )
}

fn write_fixture(root: &std::path::Path) -> anyhow::Result<()> {
    let tracing = format!(
        r#"{{"spanId":"b000000000000001","type":"X-Amzn-Trace-Id","value":"Root={XRAY_TRACE};Parent={C1};Sampled=1"}}"#
    );
    let start = format!(
        r#"{{"time":"2026-11-20T10:20:00.020Z","type":"platform.start","record":{{"requestId":"{PAY_1}","version":"$LATEST","tracing":{tracing}}}}}"#
    );
    let logs = vec![
        line(20, PAY_FN, PAY_1, PAY_FN, "lambda_platform_json", &start),
        line(
            21,
            PAY_FN,
            PAY_1,
            PAY_SERVICE,
            "powertools",
            &powertools(PAY_1),
        ),
        line(
            261,
            PAY_FN,
            PAY_2,
            PAY_SERVICE,
            "powertools",
            &powertools(PAY_2),
        ),
        line(
            701,
            LEGACY_FN,
            LEGACY_REQUEST,
            LEGACY_FN,
            "lambda_platform_text",
            "START",
        ),
    ];
    let invocations = vec![
        invocation(CHECKOUT_REQUEST, CHECKOUT_FN, 0, 500, "success", TRACE),
        invocation(PAY_1, PAY_FN, 20, 150, "timeout", TRACE),
        invocation(PAY_2, PAY_FN, 260, 300, "success", TRACE),
        invocation(LEGACY_REQUEST, LEGACY_FN, 700, 720, "error", OTHER_TRACE),
    ];
    let spans = vec![
        span(SERVER, None, "server", 0, 500, json!({})),
        span(
            C1,
            Some(SERVER),
            "client",
            10,
            200,
            json!({"peer.service": PAY_SERVICE}),
        ),
        span(
            C2,
            Some(SERVER),
            "client",
            250,
            400,
            json!({"faas.invoked_name": PAY_ARN}),
        ),
        span(
            C3,
            Some(SERVER),
            "client",
            410,
            480,
            json!({"peer.service": "pay-handler"}),
        ),
    ];
    write_table(root, Table::Logs, &logs, "timestamp")?;
    write_table(root, Table::Invocations, &invocations, "end_time")?;
    write_table(root, Table::Spans, &spans, "start_time")?;
    Ok(())
}

fn range() -> TimeRange {
    TimeRange::new(START_NS - 60_000 * MS, START_NS + 60_000 * MS).expect("range")
}

async fn engine(dir: &tempfile::TempDir) -> QueryEngine {
    write_fixture(dir.path()).expect("fixture written");
    QueryEngine::open(&dir.path().to_string_lossy(), EngineOptions::default())
        .await
        .expect("index opens")
}

/// The services list names the function by its lines' service, not
/// instrumented, and counts the timeout (an `invocations.status` other than
/// `success`) as an error; the function with no service of its own is a node
/// of its own.
#[tokio::test]
async fn the_services_list_names_uninstrumented_functions_by_their_lines() {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = engine(&dir).await;
    let services = engine.services(&range()).await.expect("services run");
    let names: Vec<(&str, bool)> = services
        .iter()
        .map(|s| (s.service.as_str(), s.instrumented))
        .collect();
    assert_eq!(
        names,
        vec![(CHECKOUT, true), (LEGACY_FN, false), (PAY_SERVICE, false)]
    );
    let payments = &services[2];
    assert_eq!(payments.functions, vec![PAY_FN.to_owned()]);
    assert_eq!(payments.invocation_count, Some(2));
    assert_eq!(
        payments.error_count, 1,
        "the timeout is a failed invocation"
    );
    assert_eq!(payments.trace_count, 1);
    let legacy = &services[1];
    assert_eq!(legacy.error_count, 1);
    assert_eq!(legacy.functions, vec![LEGACY_FN.to_owned()]);
}

/// The map draws the three calls into `payments`: by X-Ray parent (with the
/// invocation's timeout as its error), by ARN, and by the closest function
/// prefix; none into the farther `pay-handler-x-legacy`.
#[tokio::test]
async fn the_map_matches_calls_by_service_arn_and_closest_prefix() {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = engine(&dir).await;
    let edges = engine.service_map(&range()).await.expect("map runs");
    let found: Vec<(&str, &str, &str, i64, i64)> = edges
        .iter()
        .map(|e| {
            (
                e.parent.as_str(),
                e.child.as_str(),
                e.kind.as_str(),
                e.call_count,
                e.error_count,
            )
        })
        .collect();
    assert_eq!(found, vec![(CHECKOUT, PAY_SERVICE, "sync", 3, 1)]);
    // The X-Ray call lasts as its invocation (130 ms), the named ones as their
    // client spans (150 ms, 70 ms): the median is 130 ms.
    assert_eq!(edges[0].p50_ns, Some(130.0 * 1e6));
}

/// The correlation report gives each invocation the same service, and a call
/// naming `payments` arrived: the invocation of `payments` that began during
/// it is found by that service, though its function is named otherwise.
#[tokio::test]
async fn the_correlation_report_uses_the_same_service() {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = engine(&dir).await;
    let params = Params::new().range(&range(), PARTITION_SLACK_NS);
    let invocations = engine
        .run(&sql::CORRELATION_INVOCATIONS, &params)
        .await
        .expect("correlation invocations run");
    let by_service: Vec<(String, i64)> = invocations
        .iter()
        .map(|row| {
            (
                row["service"].as_str().unwrap_or_default().to_owned(),
                row["invocations"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        by_service,
        vec![
            (CHECKOUT.to_owned(), 1),
            (LEGACY_FN.to_owned(), 1),
            (PAY_SERVICE.to_owned(), 2)
        ]
    );
    let calls = engine
        .run(&sql::CORRELATION_CALLS, &params)
        .await
        .expect("correlation calls run");
    let payments = calls
        .iter()
        .find(|row| row["service"] == PAY_SERVICE)
        .expect("calls name payments");
    assert_eq!(payments["inbound_calls"], 1);
    assert_eq!(payments["inbound_without_context"], 0);
}

/// Each call of the correlation report is matched to its callee's invocations
/// by the key it names it by (`correlation_calls.sql` joins on the trace and
/// a callee key): C2's ARN reaches `pay-handler-x`'s invocation that began
/// during it, while C3's `pay-handler` (a prefix of two functions) has no
/// invocation beginning during it in its trace, and C1's `payments` (the
/// service the lines name) arrived; each callee is its own row.
#[tokio::test]
async fn the_correlation_report_matches_each_callee_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = engine(&dir).await;
    let params = Params::new().range(&range(), PARTITION_SLACK_NS);
    let calls = engine
        .run(&sql::CORRELATION_CALLS, &params)
        .await
        .expect("correlation calls run");
    let rows: Vec<(String, i64, i64)> = calls
        .iter()
        .map(|row| {
            (
                row["service"].as_str().unwrap_or_default().to_owned(),
                row["inbound_calls"].as_i64().unwrap_or_default(),
                row["inbound_without_context"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (PAY_ARN.to_owned(), 1, 0),
            ("pay-handler".to_owned(), 1, 1),
            (PAY_SERVICE.to_owned(), 1, 0),
        ]
    );
}
