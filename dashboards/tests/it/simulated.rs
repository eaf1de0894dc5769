//! The queries on an index built the real way: a simulated fleet's CloudWatch
//! payloads ingested by the collector, checked against the simulator's ground
//! truth (span counts, parent links, services per trace, error counts, edge
//! counts, and that every log line shown in a trace belongs to it).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use tracelake_collector::{Collector, IndexStore};
use tracelake_dashboards::query::{EngineOptions, QueryEngine, TimeRange, TraceSearch};
use tracelake_simulator::{SimulationConfig, simulate};

pub struct Simulated {
    pub dir: tempfile::TempDir,
    pub run: tracelake_simulator::Simulation,
}

/// The simulated index, built once per test binary.
pub async fn simulated() -> &'static Simulated {
    static SIMULATED: tokio::sync::OnceCell<Simulated> = tokio::sync::OnceCell::const_new();
    SIMULATED
        .get_or_init(|| async {
            let config = SimulationConfig {
                services: 40,
                minutes: 1.0,
                rate: 1.5,
                ..SimulationConfig::default()
            };
            let run = simulate(&config, &mut |_, _, _| {}).expect("simulation runs");
            let dir = tempfile::tempdir().expect("temporary directory");
            let store = IndexStore::open(&dir.path().to_string_lossy()).expect("store opens");
            let collector = Collector::new(store);
            for delivery in &run.delivered.deliveries {
                collector
                    .ingest(&delivery.payload, "simulator")
                    .await
                    .expect("delivery is ingested");
            }
            Simulated { dir, run }
        })
        .await
}

fn hex_trace(id: u128) -> String {
    format!("{id:032x}")
}

fn hex_span(id: u64) -> String {
    format!("{id:016x}")
}

fn whole_run(config_start_ns: i64) -> TimeRange {
    TimeRange::new(
        config_start_ns - 3_600_000_000_000,
        config_start_ns + 6 * 3_600_000_000_000,
    )
    .expect("range")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_match_the_simulators_ground_truth() {
    let sim = simulated().await;
    let engine = QueryEngine::open(&sim.dir.path().to_string_lossy(), EngineOptions::default())
        .await
        .expect("index opens");
    let truth = &sim.run.truth;

    // Truth spans by trace (deduplicated: a span is written once).
    let mut spans_by_trace: BTreeMap<
        String,
        BTreeMap<String, &tracelake_simulator::render::TruthSpan>,
    > = BTreeMap::new();
    for span in &truth.spans {
        spans_by_trace
            .entry(hex_trace(span.trace_id))
            .or_default()
            .insert(hex_span(span.span_id), span);
    }
    assert!(spans_by_trace.len() >= 50, "the run has traces to check");
    let event_trace: HashMap<&str, Option<String>> = truth
        .events
        .iter()
        .map(|event| (event.event_id.as_str(), event.trace_id.map(hex_trace)))
        .collect();

    // Trace by id, for a spread of traces.
    let step = (spans_by_trace.len() / 25).max(1);
    let mut checked = 0;
    let mut logs_shown = 0;
    for (trace_id, spans) in spans_by_trace.iter().step_by(step) {
        let trace = engine
            .trace(trace_id, None)
            .await
            .expect("query runs")
            .unwrap_or_else(|| panic!("trace {trace_id} is found"));
        assert_eq!(trace.span_count, spans.len(), "span count of {trace_id}");
        for node in &trace.spans {
            let expected = spans
                .get(&node.span.span_id)
                .unwrap_or_else(|| panic!("span {} is in the truth", node.span.span_id));
            assert_eq!(
                node.span.parent_span_id,
                expected.parent_span_id.map(hex_span),
                "parent of {}",
                node.span.span_id
            );
            assert_eq!(
                node.span.service.as_deref(),
                Some(expected.service.as_str())
            );
            assert_eq!(node.span.name.as_deref(), Some(expected.name.as_str()));
            assert_eq!(node.span.is_error(), expected.error);
        }
        let services: BTreeSet<&str> = spans.values().map(|s| s.service.as_str()).collect();
        assert_eq!(
            trace
                .services
                .iter()
                .map(String::as_str)
                .collect::<BTreeSet<_>>(),
            services
        );
        assert_eq!(
            trace.error_count,
            spans.values().filter(|s| s.error).count()
        );
        // Precision: every log line shown in the trace belongs to it.
        for log in trace
            .spans
            .iter()
            .flat_map(|n| &n.logs)
            .chain(&trace.unattached_logs)
        {
            let event = log.event_id.as_deref().unwrap_or("");
            if let Some(expected) = event_trace.get(event) {
                assert_eq!(
                    expected.as_deref(),
                    Some(trace_id.as_str()),
                    "log {event} shown in {trace_id}"
                );
            }
            logs_shown += 1;
        }
        checked += 1;
    }
    assert!(checked >= 20);
    assert!(logs_shown > 0, "traces show their logs");

    // Search finds every traced trace in the run's range.
    let start = i64::try_from(SimulationConfig::default().start_ns).expect("start fits");
    let mut search = TraceSearch::new(whole_run(start));
    search.limit = 10_000;
    let found = engine.search_traces(&search).await.expect("search runs");
    let found_ids: BTreeSet<&str> = found.iter().map(|t| t.trace_id.as_str()).collect();
    assert_eq!(
        found_ids,
        spans_by_trace.keys().map(String::as_str).collect()
    );

    // Errors-only search finds exactly the traces with an error span.
    search.errors_only = true;
    let failing: BTreeSet<String> = engine
        .search_traces(&search)
        .await
        .expect("search runs")
        .into_iter()
        .map(|t| t.trace_id)
        .collect();
    let expected_failing: BTreeSet<String> = spans_by_trace
        .iter()
        .filter(|(_, spans)| spans.values().any(|s| s.error))
        .map(|(id, _)| id.clone())
        .collect();
    assert_eq!(failing, expected_failing);

    // Service map: cross-service parent → child pairs of the truth.
    let mut expected_edges: BTreeMap<(String, String), i64> = BTreeMap::new();
    for spans in spans_by_trace.values() {
        for span in spans.values() {
            let Some(parent) = span.parent_span_id.and_then(|p| spans.get(&hex_span(p))) else {
                continue;
            };
            if parent.service != span.service {
                *expected_edges
                    .entry((parent.service.clone(), span.service.clone()))
                    .or_default() += 1;
            }
        }
    }
    let mut edges: BTreeMap<(String, String), i64> = BTreeMap::new();
    for edge in engine
        .service_map(&whole_run(start))
        .await
        .expect("query runs")
    {
        *edges.entry((edge.parent, edge.child)).or_default() += edge.call_count;
    }
    assert!(!expected_edges.is_empty());
    assert_eq!(edges, expected_edges);

    // Services: every service that wrote a span.
    let services: BTreeSet<String> = engine
        .services(&whole_run(start))
        .await
        .expect("query runs")
        .into_iter()
        .map(|s| s.service)
        .collect();
    let expected_services: BTreeSet<String> =
        truth.spans.iter().map(|s| s.service.clone()).collect();
    assert_eq!(services, expected_services);
}
