//! Invocations drawn for functions that wrote no span: where they hang, what
//! id they get and which service they name. The platform lines are Lambda's
//! real formats (/work/shared/fixtures/cloudwatch/07_lambda_platform_text.jsonl
//! for text `REPORT … XRAY TraceId … SegmentId`, the Telemetry API's
//! `platform.start` / `platform.report` with `tracing` for JSON).

use serde_json::{Value, json};
use tracelake_dashboards::query::model::{SpanNode, TraceDetail};
use tracelake_dashboards::query::tables::Table;
use tracelake_dashboards::query::{EngineOptions, QueryEngine, TimeRange, TraceSearch};
use tracelake_index::rows::StatusCode;

use crate::fixture::write_table;

/// 2026-11-20T10:20:00Z, the epoch of [`XRAY_TRACE`].
const START_NS: i64 = 0x6b00_1ed0 * 1_000_000_000;
const MS: i64 = 1_000_000;
/// `1-6b001ed0-5d99321fbe45e68c20755760` as a W3C id.
const TRACE: &str = "6b001ed05d99321fbe45e68c20755760";
const XRAY_TRACE: &str = "1-6b001ed0-5d99321fbe45e68c20755760";

/// An uninstrumented Node function with X-Ray on and text platform lines: its
/// segment is named only by its REPORT line.
const GRAPHQL: &str = "support-graphql-fn006";
const GRAPHQL_REQUEST: &str = "ba08436c-4df7-4a82-b439-c5402193fb87";
const GRAPHQL_SEGMENT: &str = "d9488400950bf84b";
/// The instrumented service it called: its server span's parent is that segment.
const ENRICHER_REQUEST: &str = "0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5";
const ENRICHER_SERVER: &str = "6a7444d8b77ce4bd";
const ENRICHER_CLIENT: &str = "7ca40d89da3eda25";
/// An uninstrumented function with JSON platform lines, called by that client
/// span: its `platform.start` header names it as `Parent=`.
const PRICING: &str = "pricing-fn221";
const PRICING_REQUEST: &str = "6d68ca91-49c9-448d-89b8-7ca3e6dc66aa";
const PRICING_SEGMENT: &str = "54565fb41ac79632";
/// An uninstrumented Powertools function whose lines name the service
/// `cart-handler`, with text platform lines (named after the function).
const CART: &str = "cart-handler-fn016";
const CART_SERVICE: &str = "cart-handler";
const CART_REQUEST: &str = "52fdfc07-2182-454f-963f-5f0f9a621d72";
const CART_SEGMENT: &str = "90cbc97f4ee64a7f";
/// A trace of one cart-handler invocation and no written span.
const CART_ALONE_TRACE: &str = "6b001ed0aa99321fbe45e68c20755761";
const CART_ALONE_REQUEST: &str = "52fdfc07-2182-454f-963f-5f0f9a621d73";
/// An uninstrumented function whose REPORT line names no X-Ray segment (its
/// `invocations` row is tied to the trace all the same).
const DARK: &str = "orders-projector-fn3";
const DARK_REQUEST: &str = "814ba7cb-071e-4181-9a09-fa41db5bccad";

struct Lines {
    rows: Vec<Value>,
}

impl Lines {
    /// A line of `function`'s stream; `service` is what the collector wrote
    /// (the function name when the line names none).
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        at_ms: i64,
        function: &str,
        request: &str,
        service: &str,
        format: &str,
        message: &str,
        trace: Option<&str>,
    ) {
        let event = self.rows.len() + 1;
        self.rows.push(json!({
            "timestamp": START_NS + at_ms * MS, "trace_id": trace, "span_id": null,
            "request_id": request, "service": service, "level": "INFO",
            "message": message, "attributes": {},
            "log_group": format!("/aws/lambda/{function}"),
            "log_stream": "2026/11/20/[$LATEST]0123456789abcdef",
            "event_id": format!("{event:056}"), "format": format,
            "link": trace.map(|_| "trace_id"),
        }));
    }
}

fn invocation(request: &str, function: &str, from_ms: i64, to_ms: i64) -> Value {
    json!({
        "request_id": request, "function": function, "function_version": "$LATEST",
        "log_group": format!("/aws/lambda/{function}"),
        "log_stream": "2026/11/20/[$LATEST]0123456789abcdef",
        "start_time": START_NS + from_ms * MS, "end_time": START_NS + to_ms * MS,
        "duration_ms": (to_ms - from_ms) as f64, "billed_duration_ms": to_ms - from_ms,
        "memory_size_mb": 128, "max_memory_used_mb": 64, "init_duration_ms": null,
        "cold_start": false, "status": "success", "error_type": null,
        "trace_id": TRACE, "sampled": true,
    })
}

fn span(id: &str, parent: &str, name: &str, kind: &str, from_ms: i64, to_ms: i64) -> Value {
    json!({
        "trace_id": TRACE, "span_id": id, "parent_span_id": parent,
        "name": name, "kind": kind, "service": "invoices-enricher",
        "start_time": START_NS + from_ms * MS, "end_time": START_NS + to_ms * MS,
        "duration_ns": (to_ms - from_ms) * MS, "status_code": "ok", "status_message": null,
        "request_id": ENRICHER_REQUEST, "faas_name": "invoices-enricher",
        "faas_trigger": "http", "cold_start": false, "cloud_region": "eu-west-1",
        "cloud_account_id": null, "attributes": {}, "resource_attributes": {},
        "events": [], "links": [], "log_group": "/aws/lambda/invoices-enricher",
        "log_stream": "2026/11/20/[$LATEST]fedcba9876543210",
    })
}

/// The text REPORT line of a function with X-Ray on, as Lambda writes it.
fn text_report(request: &str, duration_ms: i64, segment: Option<&str>) -> String {
    let mut line = format!(
        "REPORT RequestId: {request}\tDuration: {duration_ms}.00 ms\tBilled Duration: \
         {duration_ms} ms\tMemory Size: 128 MB\tMax Memory Used: 64 MB\t\n"
    );
    if let Some(segment) = segment {
        line.push_str(&format!(
            "XRAY TraceId: {XRAY_TRACE}\tSegmentId: {segment}\tSampled: true\t\n"
        ));
    }
    line
}

fn write_fixture(root: &std::path::Path) -> anyhow::Result<()> {
    write_fixture_failing(root, &[])
}

/// The fixture with the invocations of the given requests ended by `error`
/// or `timeout` (their REPORT status); a failure of [`ENRICHER_REQUEST`], the
/// instrumented service, adds its `invocations` row (its spans stay `ok`).
fn write_fixture_failing(root: &std::path::Path, failures: &[(&str, &str)]) -> anyhow::Result<()> {
    let mut lines = Lines { rows: Vec::new() };
    let text = "lambda_platform_text";
    let json = "lambda_platform_json";

    // support-graphql: START names no segment; its REPORT does.
    let start = format!("START RequestId: {GRAPHQL_REQUEST} Version: $LATEST");
    lines.push(0, GRAPHQL, GRAPHQL_REQUEST, GRAPHQL, text, &start, None);
    let call = "calling invoices-enricher: GET /invoices/{id}";
    lines.push(
        5,
        GRAPHQL,
        GRAPHQL_REQUEST,
        GRAPHQL,
        "node_text",
        call,
        None,
    );
    let end = format!("END RequestId: {GRAPHQL_REQUEST}");
    lines.push(300, GRAPHQL, GRAPHQL_REQUEST, GRAPHQL, text, &end, None);
    let report = text_report(GRAPHQL_REQUEST, 300, Some(GRAPHQL_SEGMENT));
    lines.push(
        300,
        GRAPHQL,
        GRAPHQL_REQUEST,
        GRAPHQL,
        text,
        &report,
        Some(TRACE),
    );

    // pricing: JSON platform lines whose header names the enricher's client span.
    let tracing = format!(
        r#"{{"spanId":"{PRICING_SEGMENT}","type":"X-Amzn-Trace-Id","value":"Root={XRAY_TRACE};Parent={ENRICHER_CLIENT};Sampled=1"}}"#
    );
    let start = format!(
        r#"{{"time":"2026-11-20T10:20:00.030Z","type":"platform.start","record":{{"requestId":"{PRICING_REQUEST}","version":"$LATEST","tracing":{tracing}}}}}"#
    );
    lines.push(
        30,
        PRICING,
        PRICING_REQUEST,
        PRICING,
        json,
        &start,
        Some(TRACE),
    );
    let report = format!(
        r#"{{"time":"2026-11-20T10:20:00.090Z","type":"platform.report","record":{{"requestId":"{PRICING_REQUEST}","metrics":{{"durationMs":60.0,"billedDurationMs":60,"memorySizeMB":128,"maxMemoryUsedMB":64}},"tracing":{tracing},"status":"success"}}}}"#
    );
    lines.push(
        90,
        PRICING,
        PRICING_REQUEST,
        PRICING,
        json,
        &report,
        Some(TRACE),
    );

    // cart-handler: Powertools lines name the service, platform lines the function.
    let start = format!("START RequestId: {CART_REQUEST} Version: $LATEST");
    lines.push(400, CART, CART_REQUEST, CART, text, &start, None);
    let powertools = format!(
        r#"{{"level":"INFO","location":"collect.handler:9","message":"Collecting payment","timestamp":"2026-11-20 10:20:00,401+0000","service":"{CART_SERVICE}","cold_start":false,"function_name":"{CART}","function_request_id":"{CART_REQUEST}"}}"#
    );
    lines.push(
        401,
        CART,
        CART_REQUEST,
        CART_SERVICE,
        "powertools",
        &powertools,
        None,
    );
    let report = text_report(CART_REQUEST, 50, Some(CART_SEGMENT));
    lines.push(450, CART, CART_REQUEST, CART, text, &report, Some(TRACE));

    // orders-projector: its lines name no segment.
    let start = format!("START RequestId: {DARK_REQUEST} Version: $LATEST");
    lines.push(500, DARK, DARK_REQUEST, DARK, text, &start, None);
    let report = text_report(DARK_REQUEST, 20, None);
    lines.push(520, DARK, DARK_REQUEST, DARK, text, &report, None);

    // Another trace, with no written span: one cart-handler invocation.
    let start = format!("START RequestId: {CART_ALONE_REQUEST} Version: $LATEST");
    lines.push(600, CART, CART_ALONE_REQUEST, CART, text, &start, None);
    let powertools = powertools.replace(CART_REQUEST, CART_ALONE_REQUEST);
    lines.push(
        601,
        CART,
        CART_ALONE_REQUEST,
        CART_SERVICE,
        "powertools",
        &powertools,
        None,
    );
    let report = text_report(CART_ALONE_REQUEST, 30, None);
    lines.push(630, CART, CART_ALONE_REQUEST, CART, text, &report, None);

    let mut alone = invocation(CART_ALONE_REQUEST, CART, 600, 630);
    alone["trace_id"] = json!(CART_ALONE_TRACE);
    let invocations = vec![
        alone,
        invocation(GRAPHQL_REQUEST, GRAPHQL, 0, 300),
        invocation(PRICING_REQUEST, PRICING, 30, 90),
        invocation(CART_REQUEST, CART, 400, 450),
        invocation(DARK_REQUEST, DARK, 500, 520),
    ];
    let mut invocations = invocations;
    if failures
        .iter()
        .any(|(request, _)| *request == ENRICHER_REQUEST)
    {
        let mut enricher = invocation(ENRICHER_REQUEST, "invoices-enricher", 10, 250);
        enricher["log_group"] = json!("/aws/lambda/invoices-enricher");
        invocations.push(enricher);
    }
    for (request, status) in failures {
        let row = invocations
            .iter_mut()
            .find(|row| row["request_id"] == *request)
            .ok_or_else(|| anyhow::anyhow!("no invocation {request}"))?;
        row["status"] = json!(status);
        if *status == "error" {
            row["error_type"] = json!("Runtime.HandlerError");
        }
    }
    let spans = vec![
        span(
            ENRICHER_SERVER,
            GRAPHQL_SEGMENT,
            "GET /invoices/{id}",
            "server",
            10,
            250,
        ),
        span(ENRICHER_CLIENT, ENRICHER_SERVER, "POST", "client", 20, 100),
    ];
    let trace_index = vec![
        json!({
            "trace_id": TRACE, "min_start": START_NS, "max_end": START_NS + 520 * MS,
            "root_service": null, "root_name": null, "span_count": 2, "error_count": 0,
            "services": ["invoices-enricher"],
        }),
        json!({
            "trace_id": CART_ALONE_TRACE, "min_start": START_NS + 600 * MS,
            "max_end": START_NS + 630 * MS, "root_service": null, "root_name": null,
            "span_count": 0, "error_count": 0, "services": [CART],
        }),
    ];
    write_table(root, Table::Logs, &lines.rows, "timestamp")?;
    write_table(root, Table::Invocations, &invocations, "end_time")?;
    write_table(root, Table::Spans, &spans, "start_time")?;
    write_table(root, Table::TraceIndex, &trace_index, "min_start")?;
    Ok(())
}

async fn open_trace() -> TraceDetail {
    open(TRACE).await
}

async fn open(trace: &str) -> TraceDetail {
    let dir = tempfile::tempdir().expect("temp dir");
    write_fixture(dir.path()).expect("fixture written");
    let engine = QueryEngine::open(&dir.path().to_string_lossy(), EngineOptions::default())
        .await
        .expect("index opens");
    engine
        .trace(trace, None)
        .await
        .expect("lookup runs")
        .expect("the trace is found")
}

fn drawn<'a>(trace: &'a TraceDetail, request: &str) -> &'a SpanNode {
    trace
        .spans
        .iter()
        .find(|node| node.synthetic && node.span.request_id.as_deref() == Some(request))
        .unwrap_or_else(|| panic!("the invocation {request} is drawn"))
}

fn node<'a>(trace: &'a TraceDetail, id: &str) -> &'a SpanNode {
    trace
        .spans
        .iter()
        .find(|node| node.span.span_id == id)
        .unwrap_or_else(|| panic!("span {id} is in the trace"))
}

#[tokio::test]
async fn spans_called_by_a_text_format_function_hang_under_its_report_segment() {
    let trace = open_trace().await;
    assert_eq!(trace.span_count, 2);
    assert_eq!(trace.synthetic_count, 4);
    let bar = drawn(&trace, GRAPHQL_REQUEST);
    // The id its REPORT line names, not one made up from its request id.
    assert_eq!(bar.span.span_id, GRAPHQL_SEGMENT);
    assert_eq!(bar.depth, 0);
    assert_eq!(bar.children, [ENRICHER_SERVER]);
    let server = node(&trace, ENRICHER_SERVER);
    assert_eq!(server.depth, 1, "the called span hangs under the bar");
    assert_eq!(node(&trace, ENRICHER_CLIENT).depth, 2);
    // Its own lines stay under it.
    assert!(bar.logs.iter().any(|l| {
        l.message
            .as_deref()
            .is_some_and(|m| m.contains("SegmentId"))
    }));
}

#[tokio::test]
async fn a_function_without_a_segment_keeps_a_drawn_id_at_the_root() {
    let trace = open_trace().await;
    let bar = drawn(&trace, DARK_REQUEST);
    let id = &bar.span.span_id;
    assert_eq!(id.len(), 16);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    let others = [
        GRAPHQL_SEGMENT,
        PRICING_SEGMENT,
        CART_SEGMENT,
        ENRICHER_SERVER,
        ENRICHER_CLIENT,
    ];
    assert!(!others.contains(&id.as_str()), "{id} is its own");
    assert_eq!(bar.span.parent_span_id, None);
    assert_eq!(bar.depth, 0);
    assert!(bar.note.is_some(), "a root invocation says why");
    // The cart function's segment is its own too, though nothing hangs under it.
    assert_eq!(drawn(&trace, CART_REQUEST).span.span_id, CART_SEGMENT);
}

#[tokio::test]
async fn a_powertools_function_is_drawn_as_its_service() {
    let trace = open_trace().await;
    let bar = drawn(&trace, CART_REQUEST);
    assert_eq!(bar.span.service.as_deref(), Some(CART_SERVICE));
    assert_eq!(bar.span.faas_name.as_deref(), Some(CART));
    assert_eq!(bar.span.name.as_deref(), Some(CART));
    // Functions whose lines name no service of their own keep the function.
    assert_eq!(
        drawn(&trace, GRAPHQL_REQUEST).span.service.as_deref(),
        Some(GRAPHQL)
    );
    assert_eq!(
        drawn(&trace, PRICING_REQUEST).span.service.as_deref(),
        Some(PRICING)
    );
    // A trace without written spans lists the service its bar names.
    let alone = open(CART_ALONE_TRACE).await;
    assert_eq!(alone.span_count, 0);
    let bar = drawn(&alone, CART_ALONE_REQUEST);
    assert_eq!(bar.span.service.as_deref(), Some(CART_SERVICE));
    assert_eq!(alone.services, [CART_SERVICE]);
}

#[tokio::test]
async fn a_platform_start_parent_hangs_the_bar_under_its_caller() {
    let trace = open_trace().await;
    let bar = drawn(&trace, PRICING_REQUEST);
    assert_eq!(bar.span.span_id, PRICING_SEGMENT);
    assert_eq!(bar.span.parent_span_id.as_deref(), Some(ENRICHER_CLIENT));
    let client = node(&trace, ENRICHER_CLIENT);
    assert_eq!(client.children, [PRICING_SEGMENT]);
    assert_eq!(bar.depth, client.depth + 1);
    assert_eq!(bar.note, None, "where it hangs is known");
}

/// An engine over the fixture with the given invocations failed, and the
/// directory that holds it.
async fn failing_engine(failures: &[(&str, &str)]) -> (tempfile::TempDir, QueryEngine) {
    let dir = tempfile::tempdir().expect("temp dir");
    write_fixture_failing(dir.path(), failures).expect("fixture written");
    let engine = QueryEngine::open(&dir.path().to_string_lossy(), EngineOptions::default())
        .await
        .expect("index opens");
    (dir, engine)
}

/// An errors-only search around the fixture's traces.
fn errors_only() -> TraceSearch {
    let hour = 3_600_000_000_000;
    let mut search =
        TraceSearch::new(TimeRange::new(START_NS - hour, START_NS + hour).expect("range"));
    search.errors_only = true;
    search
}

/// The trace ids a search finds, in tracelake's search and in Jaeger's, with
/// the error count each answers.
async fn found(
    engine: &QueryEngine,
    search: &TraceSearch,
) -> (Vec<(String, i64)>, Vec<(String, usize)>) {
    let summaries = engine.search_traces(search).await.expect("search runs");
    let (traces, truncated) = engine
        .search_trace_spans(search)
        .await
        .expect("Jaeger search runs");
    assert!(!truncated);
    (
        summaries
            .into_iter()
            .map(|s| (s.trace_id, s.error_count))
            .collect(),
        traces
            .into_iter()
            .map(|t| (t.trace_id, t.error_count))
            .collect(),
    )
}

/// A trace whose only failures are invocations without spans of their own (an
/// uninstrumented function's error and another's timeout; its written spans
/// are all `ok`) has two errors in the trace view, in tracelake's search and
/// in Jaeger search, and the errors-only searches find it, as X-Ray counts a
/// fault on any segment of a trace.
#[tokio::test]
async fn a_trace_whose_only_failures_are_drawn_invocations_has_errors() {
    let (_dir, engine) =
        failing_engine(&[(PRICING_REQUEST, "error"), (CART_REQUEST, "timeout")]).await;
    let trace = engine
        .trace(TRACE, None)
        .await
        .expect("lookup runs")
        .expect("the trace is found");
    assert!(
        trace
            .spans
            .iter()
            .filter(|node| !node.synthetic)
            .all(|node| node.span.status_code != Some(StatusCode::Error)),
        "no written span failed"
    );
    assert_eq!(
        drawn(&trace, PRICING_REQUEST).span.status_code,
        Some(StatusCode::Error)
    );
    assert_eq!(
        drawn(&trace, CART_REQUEST).span.status_code,
        Some(StatusCode::Error)
    );
    assert_eq!(
        drawn(&trace, DARK_REQUEST).span.status_code,
        Some(StatusCode::Unset)
    );
    assert_eq!(trace.error_count, 2);
    let (summaries, jaeger) = found(&engine, &errors_only()).await;
    assert_eq!(summaries, [(TRACE.to_owned(), 2)]);
    assert_eq!(jaeger, [(TRACE.to_owned(), 2)]);
    // Without the errors filter the same trace counts the same errors.
    let mut all = errors_only();
    all.errors_only = false;
    let (summaries, jaeger) = found(&engine, &all).await;
    assert_eq!(summaries, [(TRACE.to_owned(), 2)]);
    assert_eq!(jaeger, [(TRACE.to_owned(), 2)]);
}

/// Without a failure the errors-only searches find nothing; the failed
/// invocation of a function that wrote spans counts through its spans (here
/// `ok`), not as a drawn invocation, so its trace has no error either.
#[tokio::test]
async fn only_a_failed_invocation_without_spans_adds_an_error() {
    for failures in [&[][..], &[(ENRICHER_REQUEST, "error")][..]] {
        let (_dir, engine) = failing_engine(failures).await;
        let trace = engine
            .trace(TRACE, None)
            .await
            .expect("lookup runs")
            .expect("the trace is found");
        assert_eq!(trace.error_count, 0, "{failures:?}");
        let (summaries, jaeger) = found(&engine, &errors_only()).await;
        assert!(summaries.is_empty(), "{failures:?}: {summaries:?}");
        assert!(jaeger.is_empty(), "{failures:?}: {jaeger:?}");
    }
}

/// A filter case: what it sets, how it sets it, whether the trace is found.
type FilterCase = (&'static str, fn(&mut TraceSearch), bool);

/// A failed drawn invocation meets the other filters of an errors-only search
/// as its drawn span does: its service (the one its own lines name, else its
/// function), its function as the operation, kind `server`, its duration, and
/// no attributes.
#[tokio::test]
async fn a_failed_drawn_invocation_meets_the_filters_as_its_bar() {
    // cart-handler (Powertools lines name the service) timed out after 50 ms.
    let (_dir, engine) = failing_engine(&[(CART_REQUEST, "timeout")]).await;
    let cases: [FilterCase; 10] = [
        (
            "its service",
            |s| s.service = Some(CART_SERVICE.to_owned()),
            true,
        ),
        (
            "its function is not its service",
            |s| s.service = Some(CART.to_owned()),
            false,
        ),
        (
            "a service without errors",
            |s| s.service = Some("invoices-enricher".to_owned()),
            false,
        ),
        (
            "its function as the operation",
            |s| s.operation = Some(CART.to_owned()),
            true,
        ),
        (
            "another operation",
            |s| s.operation = Some(PRICING.to_owned()),
            false,
        ),
        ("kind server", |s| s.kind = Some("server".to_owned()), true),
        ("kind client", |s| s.kind = Some("client".to_owned()), false),
        (
            "shorter than it ran",
            |s| s.min_duration_ns = Some(40 * MS),
            true,
        ),
        (
            "longer than it ran",
            |s| s.min_duration_ns = Some(60 * MS),
            false,
        ),
        (
            "an attribute",
            |s| s.attributes = vec![("faas.invocation_id".to_owned(), CART_REQUEST.to_owned())],
            false,
        ),
    ];
    for (case, filter, finds) in cases {
        let mut search = errors_only();
        filter(&mut search);
        let (summaries, jaeger) = found(&engine, &search).await;
        let expected = if finds {
            vec![(TRACE.to_owned(), 1)]
        } else {
            Vec::new()
        };
        assert_eq!(summaries, expected, "{case}");
        let expected = if finds {
            vec![(TRACE.to_owned(), 1_usize)]
        } else {
            Vec::new()
        };
        assert_eq!(jaeger, expected, "{case}");
    }
}
