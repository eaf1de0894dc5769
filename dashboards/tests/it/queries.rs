//! Each query on the fixture index, checked against the fixture's rows.

use std::collections::{BTreeMap, BTreeSet};

use tracelake_dashboards::query::{
    EngineOptions, LogSearch, QueryEngine, QueryError, TimeRange, TraceSearch,
};

use crate::fixture::{self, PRICE, indexed, whole_range};

pub async fn engine() -> QueryEngine {
    let options = EngineOptions {
        price_per_gb_second: PRICE,
        ..EngineOptions::default()
    };
    QueryEngine::open(&indexed().root(), options)
        .await
        .expect("fixture index opens")
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 + 1e-9 * a.abs().max(b.abs())
}

#[tokio::test]
async fn trace_by_id_gives_the_tree_logs_invocations_and_cost() {
    let fleet = &indexed().fleet;
    let engine = engine().await;
    // Request 10: not failing, even (inventory is called), every 5th (a late line).
    let trace_id = &fleet.request_traces[10];
    let trace = engine
        .trace(trace_id, None)
        .await
        .expect("query runs")
        .expect("trace exists");
    let expected = fleet.spans_of(trace_id);
    assert_eq!(trace.span_count, expected.len());
    assert_eq!(trace.spans.len(), expected.len());
    assert_eq!(trace.error_count, 0);
    assert_eq!(
        trace.services,
        vec!["api-gateway", "inventory", "orders", "payments"]
    );

    // Parent links as written, depth-first order, the root first.
    let expected_parents: BTreeMap<&str, Option<&str>> = expected
        .iter()
        .map(|s| {
            (
                s["span_id"].as_str().unwrap_or(""),
                s["parent_span_id"].as_str(),
            )
        })
        .collect();
    for node in &trace.spans {
        assert_eq!(
            expected_parents[node.span.span_id.as_str()],
            node.span.parent_span_id.as_deref()
        );
    }
    assert_eq!(trace.spans[0].depth, 0);
    assert_eq!(trace.spans[0].span.name.as_deref(), Some("GET /orders"));
    let position: BTreeMap<&str, usize> = trace
        .spans
        .iter()
        .enumerate()
        .map(|(i, n)| (n.span.span_id.as_str(), i))
        .collect();
    for node in &trace.spans {
        if let Some(parent) = &node.span.parent_span_id {
            assert!(position[parent.as_str()] < position[node.span.span_id.as_str()]);
            assert_eq!(trace.spans[position[parent.as_str()]].depth + 1, node.depth);
        }
    }

    // Logs: the orders entry span holds its own line, the request-id-only line
    // and the unlinked late line joined by request id.
    let orders = trace
        .spans
        .iter()
        .find(|n| n.span.name.as_deref() == Some("POST /orders"))
        .expect("orders span");
    let messages: BTreeSet<&str> = orders
        .logs
        .iter()
        .filter_map(|l| l.message.as_deref())
        .collect();
    assert_eq!(
        messages,
        BTreeSet::from([
            "creating order",
            "linked by request id only",
            "late line needing another batch"
        ])
    );
    let late = orders
        .logs
        .iter()
        .find(|l| l.message.as_deref() == Some("late line needing another batch"))
        .expect("late line");
    assert_eq!(
        late.trace_id, None,
        "the joined line keeps its stored trace id"
    );
    let total_logs: usize =
        trace.spans.iter().map(|n| n.logs.len()).sum::<usize>() + trace.unattached_logs.len();
    assert_eq!(total_logs, 5, "gateway, 3 orders lines, inventory");
    assert!(trace.unattached_logs.is_empty());
    // The line of another service never appears.
    assert!(
        trace
            .spans
            .iter()
            .flat_map(|n| &n.logs)
            .all(|l| l.message.as_deref() != Some("nightly job ran"))
    );

    // Invocations: four, including the orders one whose REPORT has no trace id.
    let requests: BTreeSet<&str> = trace
        .invocations
        .iter()
        .filter_map(|i| i.request_id.as_deref())
        .collect();
    assert_eq!(
        requests,
        BTreeSet::from([
            "req-gw-0010",
            "req-inv-0010",
            "req-orders-0010",
            "req-pay-0010"
        ])
    );
    let expected_cost: f64 = fleet
        .invocations
        .iter()
        .filter(|i| requests.contains(i["request_id"].as_str().unwrap_or("")))
        .map(fixture::invocation_cost)
        .sum();
    assert!(expected_cost > 0.0);
    assert!(
        close(trace.cost_usd, expected_cost),
        "{} vs {expected_cost}",
        trace.cost_usd
    );
}

#[tokio::test]
async fn trace_by_id_in_xray_form_and_errors() {
    let fleet = &indexed().fleet;
    let engine = engine().await;
    let trace_id = &fleet.request_traces[7];
    let xray = format!("1-{}-{}", &trace_id[..8], &trace_id[8..]);
    let trace = engine
        .trace(&xray, None)
        .await
        .expect("query runs")
        .expect("trace exists");
    assert_eq!(&trace.trace_id, trace_id);
    // Request 7 fails: gateway server+client, orders server+client, payments.
    assert_eq!(trace.error_count, 5);
    let errors: Vec<&str> = trace
        .spans
        .iter()
        .flat_map(|n| &n.logs)
        .filter(|l| l.level.map(|level| level.as_str()) == Some("ERROR"))
        .filter_map(|l| l.message.as_deref())
        .collect();
    assert_eq!(errors, vec!["payment declined for order 7"]);
}

#[tokio::test]
async fn trace_lookup_is_bounded_by_the_xray_epoch() {
    let fleet = &indexed().fleet;
    let engine = engine().await;
    let trace_id: tracelake_instrumentation::wire::ids::TraceId =
        tracelake_instrumentation::wire::ids::TraceId::parse(&fleet.request_traces[3])
            .expect("valid id");
    let range = engine
        .trace_range(&trace_id, None)
        .expect("x-ray id is bounded");
    let epoch = fixture::T0_NS + 3 * fixture::SPACING_SECONDS * 1_000_000_000;
    assert!(range.from_ns < epoch && epoch < range.to_ns);
    assert!(range.to_ns - range.from_ns <= 8 * 3_600 * 1_000_000_000);
    // A random (non X-Ray) id is not bounded.
    let random =
        tracelake_instrumentation::wire::ids::TraceId::parse("ffffffff5eed00000000000000000003")
            .expect("valid id");
    assert_eq!(engine.trace_range(&random, None), None);
    // A range that misses the trace finds nothing.
    let elsewhere = TimeRange::new(0, 3_600_000_000_000).expect("range");
    assert!(
        engine
            .trace(&fleet.request_traces[3], Some(elsewhere))
            .await
            .expect("query runs")
            .is_none()
    );
}

#[tokio::test]
async fn unknown_and_invalid_trace_ids() {
    let engine = engine().await;
    assert!(
        engine
            .trace("6b1ddd005eed0000000000000000ffff", None)
            .await
            .expect("query runs")
            .is_none()
    );
    for bad in [
        "",
        "xyz",
        "'; DROP TABLE spans; --",
        "00000000000000000000000000000000",
    ] {
        assert!(matches!(
            engine.trace(bad, None).await,
            Err(QueryError::InvalidTraceId(_))
        ));
    }
}

#[tokio::test]
async fn trace_search_filters() {
    let fleet = &indexed().fleet;
    let engine = engine().await;

    let mut search = TraceSearch::new(whole_range());
    search.limit = 1000;
    let all = engine.search_traces(&search).await.expect("search runs");
    assert_eq!(
        all.len(),
        fleet.request_traces.len() + fleet.notifier_traces.len()
    );
    // Most recent first.
    assert!(all.windows(2).all(|w| w[0].trace_start >= w[1].trace_start));

    search.service = Some("payments".to_owned());
    search.errors_only = true;
    let failing = engine.search_traces(&search).await.expect("search runs");
    let expected: BTreeSet<String> = (0..fixture::TRACES)
        .filter(|i| i % 7 == 0)
        .map(|i| fleet.request_traces[i].clone())
        .collect();
    assert_eq!(
        failing
            .iter()
            .map(|t| t.trace_id.clone())
            .collect::<BTreeSet<_>>(),
        expected
    );
    for summary in &failing {
        assert_eq!(summary.root_service.as_deref(), Some("api-gateway"));
        assert_eq!(summary.root_name.as_deref(), Some("GET /orders"));
        assert_eq!(summary.error_count, 5);
        assert_eq!(
            summary.span_count as usize,
            fleet.spans_of(&summary.trace_id).len()
        );
        assert!(summary.services.contains(&"payments".to_owned()));
        assert!(summary.duration_ns >= 300_000_000);
    }

    let mut inventory = TraceSearch::new(whole_range());
    inventory.service = Some("inventory".to_owned());
    inventory.operation = Some("reserve".to_owned());
    inventory.limit = 1000;
    assert_eq!(
        engine
            .search_traces(&inventory)
            .await
            .expect("search runs")
            .len(),
        fixture::TRACES / 2
    );

    // Duration bounds apply to a span: the gateway's root lasts 300 + (i*37 % 50) ms.
    let mut slow = TraceSearch::new(whole_range());
    slow.service = Some("api-gateway".to_owned());
    slow.operation = Some("GET /orders".to_owned());
    slow.min_duration_ns = Some(340_000_000);
    slow.limit = 1000;
    let expected_slow = (0..fixture::TRACES).filter(|i| (i * 37) % 50 >= 40).count();
    assert_eq!(
        engine
            .search_traces(&slow)
            .await
            .expect("search runs")
            .len(),
        expected_slow
    );

    let mut attribute = TraceSearch::new(whole_range());
    attribute.service = Some("notifier".to_owned());
    attribute.attributes = vec![("http.route".to_owned(), "process order".to_owned())];
    attribute.limit = 5;
    assert_eq!(
        engine
            .search_traces(&attribute)
            .await
            .expect("search runs")
            .len(),
        5
    );
    attribute.attributes = vec![("http.route".to_owned(), "' OR '1'='1".to_owned())];
    assert!(
        engine
            .search_traces(&attribute)
            .await
            .expect("search runs")
            .is_empty()
    );

    let mut too_many = TraceSearch::new(whole_range());
    too_many.limit = 0;
    assert!(matches!(
        engine.search_traces(&too_many).await,
        Err(QueryError::InvalidParameter { name: "limit", .. })
    ));
}

#[tokio::test]
async fn services_and_operations() {
    let engine = engine().await;
    let services = engine.services(&whole_range()).await.expect("query runs");
    let names: Vec<&str> = services.iter().map(|s| s.service.as_str()).collect();
    assert_eq!(
        names,
        vec!["api-gateway", "inventory", "notifier", "orders", "payments"]
    );
    let payments = services
        .iter()
        .find(|s| s.service == "payments")
        .expect("payments");
    assert_eq!(payments.span_count, fixture::TRACES as i64);
    assert_eq!(payments.error_count, 6);

    let operations = engine
        .operations(&whole_range(), "orders", None)
        .await
        .expect("query runs");
    let names: Vec<(&str, Option<&str>)> = operations
        .iter()
        .map(|o| (o.name.as_str(), o.kind.map(|kind| kind.as_str())))
        .collect();
    assert_eq!(
        names,
        vec![
            ("POST /orders", Some("server")),
            ("charge card", Some("client")),
            ("publish order", Some("producer")),
            ("reserve stock", Some("client")),
        ]
    );
    let servers = engine
        .operations(&whole_range(), "orders", Some("server"))
        .await
        .expect("query runs");
    assert_eq!(servers.len(), 1);
}

#[tokio::test]
async fn service_map_has_sync_and_async_edges() {
    let fleet = &indexed().fleet;
    let engine = engine().await;
    let edges = engine
        .service_map(&whole_range())
        .await
        .expect("query runs");
    let sync: BTreeMap<(String, String), i64> = edges
        .iter()
        .filter(|e| e.kind == "sync")
        .map(|e| ((e.parent.clone(), e.child.clone()), e.call_count))
        .collect();
    assert_eq!(sync, fleet.parent_edges());
    let payments = edges
        .iter()
        .find(|e| e.parent == "orders" && e.child == "payments")
        .expect("orders → payments");
    assert_eq!(payments.error_count, 6);
    let p50 = payments.p50_ns.expect("p50");
    let p99 = payments.p99_ns.expect("p99");
    assert!((90e6..=140e6).contains(&p50) && p50 <= p99);
    let notifier: Vec<_> = edges.iter().filter(|e| e.child == "notifier").collect();
    assert_eq!(notifier.len(), 1);
    assert_eq!(notifier[0].parent, "orders");
    assert_eq!(notifier[0].kind, "async");
    assert_eq!(notifier[0].call_count, fixture::TRACES as i64);
}

#[tokio::test]
async fn red_counts_every_entry_span_once() {
    let fleet = &indexed().fleet;
    let engine = engine().await;
    let points = engine
        .red(&whole_range(), None, None, 600)
        .await
        .expect("query runs");
    let total: i64 = points.iter().map(|p| p.request_count).sum();
    let entries = fleet
        .spans
        .iter()
        .filter(|s| s["kind"] == "server" || s["kind"] == "consumer")
        .count();
    assert_eq!(total as usize, entries);
    assert!(points.iter().all(|p| p.bucket % 600_000_000_000 == 0));
    let payment_errors: i64 = points
        .iter()
        .filter(|p| p.service == "payments")
        .map(|p| p.error_count)
        .sum();
    assert_eq!(payment_errors, 6);
    for point in &points {
        assert!(close(
            point.rate_per_second,
            point.request_count as f64 / 600.0
        ));
        let (p50, p90, p99) = (
            point.p50_ns.unwrap_or(0.0),
            point.p90_ns.unwrap_or(0.0),
            point.p99_ns.unwrap_or(0.0),
        );
        assert!(p50 > 0.0 && p50 <= p90 && p90 <= p99);
    }
    let only = engine
        .red(&whole_range(), Some("orders"), Some("POST /orders"), 3600)
        .await
        .expect("query runs");
    assert_eq!(
        only.iter().map(|p| p.request_count).sum::<i64>(),
        fixture::TRACES as i64
    );
    assert!(matches!(
        engine.red(&whole_range(), None, None, 7).await,
        Err(QueryError::InvalidParameter { name: "bucket", .. })
    ));
}

#[tokio::test]
async fn cold_starts_and_cost() {
    let fleet = &indexed().fleet;
    let engine = engine().await;
    let cold = engine
        .cold_starts(&whole_range(), None)
        .await
        .expect("query runs");
    for row in &cold {
        let function = row.function.as_deref().unwrap_or("");
        let invocations: Vec<_> = fleet
            .invocations
            .iter()
            .filter(|i| i["function"] == function)
            .collect();
        let cold_count = invocations
            .iter()
            .filter(|i| i["cold_start"] == true)
            .count();
        assert_eq!(row.invocations as usize, invocations.len());
        assert_eq!(row.cold_starts as usize, cold_count);
        assert!(close(
            row.cold_start_rate,
            cold_count as f64 / invocations.len() as f64
        ));
        assert!(row.init_p50_ms.unwrap_or(0.0) >= 150.0);
    }
    assert_eq!(cold.len(), 5);

    let by_function = engine
        .cost_by_function(&whole_range(), 100)
        .await
        .expect("query runs");
    assert_eq!(by_function.len(), 5);
    for row in &by_function {
        let expected = fleet.cost_of_function(row.function.as_deref().unwrap_or(""));
        assert!(close(row.cost_usd.unwrap_or(0.0), expected));
    }
    assert_eq!(
        by_function[0].function.as_deref(),
        Some("orders"),
        "512 MB × longest"
    );

    let by_trace = engine
        .cost_by_trace(&whole_range(), 3)
        .await
        .expect("query runs");
    assert_eq!(by_trace.len(), 3);
    assert!(by_trace.windows(2).all(|w| w[0].cost_usd >= w[1].cost_usd));
}

#[tokio::test]
async fn log_search() {
    let fleet = &indexed().fleet;
    let engine = engine().await;
    let mut search = LogSearch::new(whole_range());
    search.text = Some("DECLINED".to_owned());
    let page = engine.search_logs(&search).await.expect("query runs");
    assert!(!page.truncated);
    let hits = page.lines;
    assert_eq!(hits.len(), 6);
    assert!(
        hits.iter()
            .all(|h| h.level.map(|level| level.as_str()) == Some("ERROR"))
    );
    assert!(hits.iter().all(|h| h.trace_id.is_some()));

    let mut late = LogSearch::new(whole_range());
    late.text = Some("late line".to_owned());
    late.level = Some("WARN".to_owned());
    let hits = engine.search_logs(&late).await.expect("query runs").lines;
    assert_eq!(hits.len(), 8);
    // Unlinked lines get the trace of their invocation when its REPORT names one;
    // the orders REPORT carries none, so they stay without one: never a guess.
    assert!(hits.iter().all(|h| h.trace_id.is_none()));

    let mut by_trace = LogSearch::new(whole_range());
    by_trace.trace_id = Some(fleet.request_traces[1].clone());
    let hits = engine
        .search_logs(&by_trace)
        .await
        .expect("query runs")
        .lines;
    assert_eq!(hits.len(), 3, "gateway, orders, orders request-id line");

    // The row cap: two of the six lines, and the answer says it was cut.
    let mut capped = search.clone();
    capped.limit = 2;
    let page = engine.search_logs(&capped).await.expect("query runs");
    assert_eq!((page.lines.len(), page.truncated), (2, true));

    // The request-id filter: every line of that invocation, and only those.
    let request = hits
        .iter()
        .find_map(|hit| hit.request_id.clone())
        .expect("a line of the trace names its request");
    let mut by_request = LogSearch::new(whole_range());
    by_request.request_id = Some(request.clone());
    let lines = engine
        .search_logs(&by_request)
        .await
        .expect("query runs")
        .lines;
    assert!(!lines.is_empty());
    assert!(
        lines
            .iter()
            .all(|h| h.request_id.as_deref() == Some(request.as_str()))
    );

    let mut quoted = LogSearch::new(whole_range());
    quoted.text = Some("%' OR 1=1 --".to_owned());
    assert!(
        engine
            .search_logs(&quoted)
            .await
            .expect("query runs")
            .lines
            .is_empty()
    );

    let mut bad = LogSearch::new(whole_range());
    bad.trace_id = Some("not-a-trace".to_owned());
    assert!(matches!(
        engine.search_logs(&bad).await,
        Err(QueryError::InvalidTraceId(_))
    ));
}

#[tokio::test]
async fn ad_hoc_sql_is_read_only() {
    let fleet = &indexed().fleet;
    let engine = engine().await;
    let batches = engine
        .sql("SELECT count(*) AS n FROM spans")
        .await
        .expect("query runs")
        .batches;
    let rows = tracelake_dashboards::query::rows::batches_to_rows(&batches).expect("rows");
    assert_eq!(rows[0]["n"], fleet.spans.len());
    let partitions = engine
        .sql("SELECT DISTINCT dt, hour FROM spans ORDER BY dt, hour")
        .await
        .expect("query runs")
        .batches;
    assert_eq!(
        tracelake_dashboards::query::rows::batches_to_rows(&partitions)
            .expect("rows")
            .len(),
        2
    );
    for statement in [
        "CREATE TABLE x AS SELECT 1",
        "CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd'",
        "DROP TABLE spans",
        "INSERT INTO spans SELECT * FROM spans",
        "SET datafusion.execution.batch_size = 1",
    ] {
        assert!(
            matches!(engine.sql(statement).await, Err(QueryError::Sql(_))),
            "{statement} must be rejected"
        );
    }
    // Still there.
    let batches = engine
        .sql("SELECT count(*) AS n FROM spans")
        .await
        .expect("query runs")
        .batches;
    assert_eq!(
        tracelake_dashboards::query::rows::batches_to_rows(&batches).expect("rows")[0]["n"],
        fleet.spans.len()
    );
}

#[tokio::test]
async fn empty_and_missing_indexes() {
    let empty = tempfile::tempdir().expect("temporary directory");
    let engine = QueryEngine::open(&empty.path().to_string_lossy(), EngineOptions::default())
        .await
        .expect("an empty index opens");
    assert!(
        engine
            .services(&whole_range())
            .await
            .expect("query runs")
            .is_empty()
    );
    assert_eq!(engine.latest_span_hour().await.expect("listing runs"), None);
    assert!(matches!(
        QueryEngine::open("/nonexistent/tracelake-data", EngineOptions::default()).await,
        Err(QueryError::InvalidLocation { .. })
    ));
    assert!(matches!(
        QueryEngine::open("ftp://example.com/x", EngineOptions::default()).await,
        Err(QueryError::InvalidLocation { .. })
    ));
}

#[tokio::test]
async fn latest_hour_comes_from_the_partitions() {
    let engine = engine().await;
    let latest = engine.latest_span_hour().await.expect("listing runs");
    // The fleet spans 10:00 to 11:30 on 2026-11-20.
    assert_eq!(latest, Some(fixture::T0_NS + 3_600_000_000_000));
}
