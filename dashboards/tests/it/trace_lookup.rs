//! Trace by id finds a trace's hours in `trace_index`, for every id form, and
//! opens traces that have logs and invocations but no span.

use serde_json::json;
use tracelake_dashboards::query::tables::Table;
use tracelake_dashboards::query::{EngineOptions, QueryEngine};

use crate::fixture::write_table;

/// 2026-11-20T10:00:00Z.
const HOUR_10_NS: i64 = 1_795_168_800 * 1_000_000_000;
const MS: i64 = 1_000_000;
/// A random W3C id whose first 8 hex digits read as an X-Ray epoch in July
/// 2026, four months before the trace ran: the epoch would point elsewhere.
const LOGS_ONLY: &str = "6a5b3c2d9f8e7d6c5b4a392817161514";
/// A 64-bit trace id, as Jaeger clients and older tracers write them.
const SIXTY_FOUR_BIT: &str = "00000000000000000af7651916cd43dd";
const REQUEST: &str = "7c9567b5-8f9a-4b6e-9f0e-3a1b2c3d4e5f";

fn write_fixture(root: &std::path::Path) -> anyhow::Result<()> {
    let start = HOUR_10_NS + 20 * 60 * 1_000 * MS;
    let logs = vec![
        json!({
            "timestamp": start + MS, "trace_id": LOGS_ONLY, "span_id": null,
            "request_id": REQUEST, "service": "billing", "level": "INFO",
            "message": "charging", "attributes": {}, "log_group": "/aws/lambda/billing",
            "log_stream": "2026/11/20/[$LATEST]abc", "event_id": "1", "format": "powertools",
            "link": "trace_id",
        }),
        json!({
            "timestamp": start + 2 * MS, "trace_id": LOGS_ONLY, "span_id": null,
            "request_id": null, "service": "billing", "level": "INFO",
            "message": "plain line on the stream", "attributes": {},
            "log_group": "/aws/lambda/billing", "log_stream": "2026/11/20/[$LATEST]abc",
            "event_id": "2", "format": "plain", "link": "stream",
        }),
    ];
    let invocations = vec![json!({
        "request_id": REQUEST, "function": "billing", "function_version": "$LATEST",
        "log_group": "/aws/lambda/billing", "log_stream": "2026/11/20/[$LATEST]abc",
        "start_time": start, "end_time": start + 5 * MS, "duration_ms": 5.0,
        "billed_duration_ms": 5, "memory_size_mb": 128, "max_memory_used_mb": 40,
        "init_duration_ms": null, "cold_start": false, "status": "success",
        "error_type": null, "trace_id": LOGS_ONLY, "sampled": true,
    })];
    let spans = vec![json!({
        "trace_id": SIXTY_FOUR_BIT, "span_id": "00f067aa0ba902b7", "parent_span_id": null,
        "name": "GET /orders", "kind": "server", "service": "orders",
        "start_time": start, "end_time": start + 3 * MS, "duration_ns": 3 * MS,
        "status_code": "ok", "status_message": null, "request_id": null,
        "faas_name": null, "faas_trigger": null, "cold_start": null, "cloud_region": null,
        "cloud_account_id": null, "attributes": {}, "resource_attributes": {},
        "events": [], "links": [], "log_group": "/aws/lambda/orders",
        "log_stream": "2026/11/20/[$LATEST]def",
    })];
    let trace_index = vec![
        json!({
            "trace_id": LOGS_ONLY, "min_start": start, "max_end": start + 5 * MS,
            "root_service": null, "root_name": null, "span_count": 0, "error_count": 0,
            "services": ["billing"],
        }),
        json!({
            "trace_id": SIXTY_FOUR_BIT, "min_start": start, "max_end": start + 3 * MS,
            "root_service": "orders", "root_name": "GET /orders", "span_count": 1,
            "error_count": 0, "services": ["orders"],
        }),
    ];
    write_table(root, Table::Logs, &logs, "timestamp")?;
    write_table(root, Table::Invocations, &invocations, "end_time")?;
    write_table(root, Table::Spans, &spans, "start_time")?;
    write_table(root, Table::TraceIndex, &trace_index, "min_start")?;
    // Another hour of data far from both traces.
    let far = HOUR_10_NS + 30 * 3_600_000 * MS;
    let other = vec![json!({
        "timestamp": far, "trace_id": null, "span_id": null, "request_id": null,
        "service": "cron", "level": "INFO", "message": "unrelated", "attributes": {},
        "log_group": "/aws/lambda/cron", "log_stream": "s", "event_id": "3",
        "format": "plain", "link": null,
    })];
    write_table(root, Table::Logs, &other, "timestamp")?;
    Ok(())
}

async fn engine(dir: &tempfile::TempDir) -> QueryEngine {
    write_fixture(dir.path()).expect("fixture written");
    QueryEngine::open(&dir.path().to_string_lossy(), EngineOptions::default())
        .await
        .expect("index opens")
}

#[tokio::test]
async fn a_trace_with_only_logs_and_invocations_opens() {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = engine(&dir).await;
    let trace = engine
        .trace(LOGS_ONLY, None)
        .await
        .expect("lookup runs")
        .expect("a trace with logs and invocations is found");
    assert_eq!(trace.trace_id, LOGS_ONLY);
    // No written span: the invocation is drawn as a span of its function,
    // with its lines under it: the one naming its request, and the one linked
    // by its stream position, written on its stream while it ran.
    assert_eq!(trace.span_count, 0);
    assert_eq!(trace.synthetic_count, 1);
    assert_eq!(trace.spans.len(), 1);
    let bar = &trace.spans[0];
    assert!(bar.synthetic);
    assert_eq!(bar.span.service.as_deref(), Some("billing"));
    assert_eq!(bar.span.start_time, Some(HOUR_10_NS + 20 * 60 * 1_000 * MS));
    assert_eq!(
        bar.span.end_time,
        Some(HOUR_10_NS + 20 * 60 * 1_000 * MS + 5 * MS)
    );
    let under_bar: Vec<_> = bar
        .logs
        .iter()
        .filter_map(|log| log.message.as_deref())
        .collect();
    assert_eq!(under_bar, ["charging", "plain line on the stream"]);
    assert!(trace.unattached_logs.is_empty());
    assert_eq!(trace.invocations.len(), 1);
    assert_eq!(trace.invocations[0].request_id.as_deref(), Some(REQUEST));
    assert!(trace.cost_usd > 0.0);
    assert_eq!(trace.services, ["billing"]);
    let start = HOUR_10_NS + 20 * 60 * 1_000 * MS;
    assert_eq!(trace.start_time, Some(start));
    assert_eq!(trace.end_time, Some(start + 5 * MS));
    // Its X-Ray-looking epoch points four months away; trace_index says where it is.
    let id = tracelake_instrumentation::wire::ids::TraceId::parse(LOGS_ONLY).expect("id");
    assert!(id.xray_epoch_seconds().is_some());
    assert_eq!(
        engine.trace_hours(&id).await.expect("trace_index read"),
        ["2026-11-2010"]
    );
}

#[tokio::test]
async fn every_id_form_finds_the_trace() {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = engine(&dir).await;
    for form in [
        SIXTY_FOUR_BIT,
        "0af7651916cd43dd",
        "af7651916cd43dd",
        "0AF7651916CD43DD",
    ] {
        let trace = engine
            .trace(form, None)
            .await
            .expect("lookup runs")
            .unwrap_or_else(|| panic!("{form} is found"));
        assert_eq!(trace.trace_id, SIXTY_FOUR_BIT, "{form}");
        assert_eq!(trace.span_count, 1, "{form}");
    }
    let xray = format!("1-{}-{}", &LOGS_ONLY[..8], &LOGS_ONLY[8..]);
    let trace = engine.trace(&xray, None).await.expect("lookup runs");
    assert_eq!(trace.map(|t| t.trace_id).as_deref(), Some(LOGS_ONLY));
    // An id of no trace is not found, and a malformed one is an error.
    assert!(
        engine
            .trace("4bf92f3577b34da6a3ce929d0e0e4736", None)
            .await
            .expect("lookup runs")
            .is_none()
    );
    assert!(engine.trace("not-a-trace", None).await.is_err());
}

/// pino/winston lines carrying a caller's W3C trace, before any compaction
/// wrote `trace_index` rows for them: the id's first 8 hex digits read as an
/// epoch in 2078, where there is no data, so the lookup must not stop there.
#[tokio::test]
async fn a_w3c_trace_seen_only_in_raw_logs_opens_without_a_range() {
    const W3C: &str = "cc60779e5dc76de136258d4f01d500d4";
    let dir = tempfile::tempdir().expect("temp dir");
    let start = HOUR_10_NS + 7 * 60 * 1_000 * MS;
    let logs = vec![json!({
        "timestamp": start, "trace_id": W3C, "span_id": "626ca667616ca38d",
        "request_id": null, "service": "cart", "level": "ERROR",
        "message": "winston error", "attributes": {}, "log_group": "/aws/lambda/cart",
        "log_stream": "2026/11/20/[$LATEST]abc", "event_id": "1", "format": "json",
        "link": "trace_id",
    })];
    write_table(dir.path(), Table::Logs, &logs, "timestamp").expect("logs written");
    let engine = QueryEngine::open(&dir.path().to_string_lossy(), EngineOptions::default())
        .await
        .expect("index opens");
    let id = tracelake_instrumentation::wire::ids::TraceId::parse(W3C).expect("id");
    assert!(id.xray_epoch_seconds().is_some(), "the id looks like X-Ray");
    let trace = engine
        .trace(W3C, None)
        .await
        .expect("lookup runs")
        .expect("the trace of raw log lines is found");
    assert_eq!(trace.trace_id, W3C);
    assert_eq!(trace.unattached_logs.len(), 1);
}

/// A request whose span carries a W3C trace while its REPORT (another
/// delivery) names the function's X-Ray trace: before compaction relinks it,
/// its invocation row carries the X-Ray trace, and the trace opened by its W3C
/// id still shows the invocation through the span's request id.
#[tokio::test]
async fn before_compaction_an_invocation_of_another_trace_shows_by_its_request_id() {
    const W3C: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const XRAY: &str = "6b0c5a500123456789abcdef01234567";
    const MIXED_REQUEST: &str = "11111111-2222-4333-8444-555555555555";
    let dir = tempfile::tempdir().expect("temp dir");
    let start = HOUR_10_NS + 40 * 60 * 1_000 * MS;
    let spans = vec![json!({
        "trace_id": W3C, "span_id": "00f067aa0ba902b7", "parent_span_id": "b7ad6b7169203331",
        "name": "GET /orders", "kind": "server", "service": "mixed-svc",
        "start_time": start + MS, "end_time": start + 30 * MS, "duration_ns": 29 * MS,
        "status_code": "unset", "status_message": null, "request_id": MIXED_REQUEST,
        "faas_name": "mixed-fn", "faas_trigger": null, "cold_start": null, "cloud_region": null,
        "cloud_account_id": null, "attributes": {}, "resource_attributes": {},
        "events": [], "links": [], "log_group": "/aws/lambda/mixed-fn",
        "log_stream": "2026/11/20/[$LATEST]0001",
    })];
    let invocations = vec![json!({
        "request_id": MIXED_REQUEST, "function": "mixed-fn", "function_version": "$LATEST",
        "log_group": "/aws/lambda/mixed-fn", "log_stream": "2026/11/20/[$LATEST]0001",
        "start_time": start, "end_time": start + 32 * MS, "duration_ms": 31.0,
        "billed_duration_ms": 32, "memory_size_mb": 128, "max_memory_used_mb": 60,
        "init_duration_ms": null, "cold_start": false, "status": "success",
        "error_type": null, "trace_id": XRAY, "sampled": true,
    })];
    let trace_index = vec![json!({
        "trace_id": W3C, "min_start": start + MS, "max_end": start + 30 * MS,
        "root_service": null, "root_name": null, "span_count": 1, "error_count": 0,
        "services": ["mixed-svc"],
    })];
    write_table(dir.path(), Table::Spans, &spans, "start_time").expect("spans");
    write_table(dir.path(), Table::Invocations, &invocations, "end_time").expect("invocations");
    write_table(dir.path(), Table::TraceIndex, &trace_index, "min_start").expect("trace_index");
    let engine = QueryEngine::open(&dir.path().to_string_lossy(), EngineOptions::default())
        .await
        .expect("index opens");
    let trace = engine
        .trace(W3C, None)
        .await
        .expect("lookup runs")
        .expect("the trace is found");
    let requests: Vec<_> = trace
        .invocations
        .iter()
        .filter_map(|invocation| invocation.request_id.as_deref())
        .collect();
    assert_eq!(requests, [MIXED_REQUEST]);
    assert!(trace.cost_usd > 0.0);
}

#[tokio::test]
async fn a_compacted_trace_without_spans_is_read_without_a_spans_query() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_fixture(dir.path()).expect("fixture written");
    let store =
        tracelake_collector::IndexStore::open(&dir.path().to_string_lossy()).expect("store");
    crate::fixture::compact_every_hour(&store).await;
    let engine = QueryEngine::open(&dir.path().to_string_lossy(), EngineOptions::default())
        .await
        .expect("index opens");
    assert!(engine.uncompacted_hours().await.expect("listed").is_empty());

    let before = engine.stats().started();
    let trace = engine
        .trace(LOGS_ONLY, None)
        .await
        .expect("lookup runs")
        .expect("found");
    // trace_index (which counts no span of it), its invocations, its lines,
    // and the unlinked lines of its request: no spans query.
    assert_eq!(engine.stats().started() - before, 4);
    assert_eq!(trace.span_count, 0);
    assert_eq!(trace.invocations.len(), 1);
    let lines: usize = trace
        .spans
        .iter()
        .map(|span| span.logs.len())
        .sum::<usize>()
        + trace.unattached_logs.len();
    // Compaction relinks lines from their evidence: the fixture's stream line
    // has none, so only the line naming the trace stays linked.
    let linked = engine
        .sql(&format!(
            "SELECT count(*) AS n FROM logs WHERE trace_id = '{LOGS_ONLY}'"
        ))
        .await
        .expect("count");
    let linked = tracelake_dashboards::query::rows::batches_to_rows(&linked.batches).expect("rows")
        [0]["n"]
        .as_u64();
    assert_eq!(linked, Some(1));
    assert_eq!(lines, 1);

    // A trace with a span is still read with its spans query.
    let before = engine.stats().started();
    let with_span = engine
        .trace(SIXTY_FOUR_BIT, None)
        .await
        .expect("lookup runs")
        .expect("found");
    assert_eq!(with_span.span_count, 1);
    assert_eq!(engine.stats().started() - before, 4);
}
