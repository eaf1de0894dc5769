//! The queries on an index built the real way: a simulated fleet's CloudWatch
//! payloads ingested by the collector, checked against the simulator's ground
//! truth (span counts, parent links, services per trace, error counts, edge
//! counts, and that every log line shown in a trace belongs to it).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use tracelake_collector::{Collector, IndexStore};
use tracelake_dashboards::query::{EngineOptions, QueryEngine, TimeRange, TraceSearch};
use tracelake_index::rows::StatusCode;
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

/// Default options with a long query timeout: a debug build on a shared
/// 2-core machine can take more than the default 30 s (the guard rails have
/// their own tests in `limits.rs`).
fn slow_machine_options() -> EngineOptions {
    EngineOptions {
        query_timeout: std::time::Duration::from_secs(600),
        ..EngineOptions::default()
    }
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
    let engine = QueryEngine::open(&sim.dir.path().to_string_lossy(), slow_machine_options())
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
        // Invocations drawn for functions that wrote no span are checked in
        // `uninstrumented_invocations_are_drawn`.
        for node in trace.spans.iter().filter(|node| !node.synthetic) {
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
            if node.span.parent_span_id.is_some() {
                // Its parent is either a written span or a drawn invocation.
                assert!(
                    trace
                        .spans
                        .iter()
                        .any(|n| Some(&n.span.span_id) == node.span.parent_span_id.as_ref())
                        || !spans.contains_key(node.span.parent_span_id.as_deref().unwrap_or(""))
                );
            }
            assert_eq!(
                node.span.status_code == Some(StatusCode::Error),
                expected.error
            );
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
    // (Edges into services without spans: `uninstrumented_services_are_on_the_map`.)
    let span_services: BTreeSet<&str> = truth.spans.iter().map(|s| s.service.as_str()).collect();
    let mut edges: BTreeMap<(String, String), i64> = BTreeMap::new();
    for edge in engine
        .service_map(&whole_run(start))
        .await
        .expect("query runs")
        .into_iter()
        .filter(|edge| span_services.contains(edge.child.as_str()))
    {
        *edges.entry((edge.parent, edge.child)).or_default() += edge.call_count;
    }
    assert!(!expected_edges.is_empty());
    assert_eq!(edges, expected_edges);

    // Services: every service that wrote a span, tagged with the team and
    // environment its telemetry was configured with.
    let summaries = engine
        .services(&whole_run(start))
        .await
        .expect("query runs");
    // (Services seen only through their invocations are not `instrumented`:
    // `uninstrumented_services_are_on_the_map`.)
    let summaries: Vec<_> = summaries.into_iter().filter(|s| s.instrumented).collect();
    let services: BTreeSet<String> = summaries.iter().map(|s| s.service.clone()).collect();
    let expected_services: BTreeSet<String> =
        truth.spans.iter().map(|s| s.service.clone()).collect();
    assert_eq!(services, expected_services);
    for summary in &summaries {
        let configured = sim
            .run
            .fleet
            .services
            .iter()
            .find(|s| s.name == summary.service)
            .expect("a service of the fleet");
        assert_eq!(
            summary.tags.get("team").map(String::as_str),
            Some(configured.team()),
            "{}",
            summary.service
        );
        assert_eq!(
            summary
                .tags
                .get("deployment.environment.name")
                .map(String::as_str),
            Some("production")
        );
        assert_eq!(
            summary.tags.get("faas.name"),
            Some(&configured.function_name)
        );
        assert!(!summary.tags.contains_key("faas.instance"));
    }
}

/// Services the simulator invoked without writing spans (uninstrumented
/// functions) are on the map, not `instrumented`, and called: each dark service
/// a Rust caller reaches directly (HTTP with `peer.service`, Lambda `Invoke`
/// with `faas.invoked_name`) has an edge from that caller, with one call per
/// client span of that hop when the caller has no other hop its spans could be
/// confused with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uninstrumented_services_are_on_the_map() {
    use tracelake_simulator::fleet::{EdgeKind, Runtime};
    use tracelake_simulator::render::EventKind;

    let sim = simulated().await;
    let engine = QueryEngine::open(&sim.dir.path().to_string_lossy(), slow_machine_options())
        .await
        .expect("index opens");
    let start = i64::try_from(SimulationConfig::default().start_ns).expect("start fits");
    let run = &sim.run;
    let fleet = &run.fleet;
    // The services invoked in the run: those whose stream got a REPORT.
    let batch_of: HashMap<&str, usize> = run
        .delivered
        .events
        .iter()
        .map(|event| (event.event_id.as_str(), event.batch))
        .collect();
    let invoked: BTreeSet<usize> = run
        .truth
        .events
        .iter()
        .filter(|event| event.kind == EventKind::PlatformReport)
        .map(|event| {
            let batch = batch_of[event.event_id.as_str()];
            run.streams[run.delivered.batches[batch].stream].service
        })
        .collect();
    let dark = |index: usize| fleet.services[index].runtime != Runtime::RustInstrumented;
    assert!(
        invoked.iter().any(|i| dark(*i)) && invoked.iter().any(|i| !dark(*i)),
        "the run invokes services with and without spans"
    );

    let summaries = engine
        .services(&whole_run(start))
        .await
        .expect("services run");
    let edges = engine
        .service_map(&whole_run(start))
        .await
        .expect("map runs");
    // A fleet service's node: its service name, or its function's when its
    // lines name no service.
    let node_of = |index: usize| {
        let service = &fleet.services[index];
        summaries
            .iter()
            .find(|s| s.service == service.name || s.service == service.function_name)
    };
    for &index in &invoked {
        let service = &fleet.services[index];
        let summary = node_of(index)
            .unwrap_or_else(|| panic!("{} was invoked but is not on the map", service.name));
        assert_eq!(summary.instrumented, !dark(index), "{}", summary.service);
        if dark(index) {
            assert_eq!(summary.span_count, 0, "{}", summary.service);
            assert!(
                summary.invocation_count.is_some_and(|n| n > 0),
                "{}",
                summary.service
            );
            assert_eq!(summary.functions, vec![service.function_name.clone()]);
        }
    }
    // Nothing else is on the map as uninstrumented.
    let dark_nodes = summaries.iter().filter(|s| !s.instrumented).count();
    assert_eq!(dark_nodes, invoked.iter().filter(|i| dark(**i)).count());

    let call_count = |parent: &str, child: &str| -> i64 {
        edges
            .iter()
            .filter(|e| e.parent == parent && e.child == child)
            .map(|e| e.call_count)
            .sum()
    };
    // The span name a Rust caller's client span of a hop carries.
    let span_name = |kind: EdgeKind, channel: &str| match kind {
        EdgeKind::Http => channel.split(' ').next().unwrap_or("GET").to_owned(),
        _ => "Lambda.Invoke".to_owned(),
    };
    // (A caller with two hops of the same span name, e.g. two `GET`s, leaves
    // the truth unsure which of them a span was: those are not checked.)
    let mut exact = 0;
    for caller in fleet
        .services
        .iter()
        .filter(|s| s.runtime == Runtime::RustInstrumented)
    {
        let hops: Vec<_> = caller
            .edges
            .iter()
            .filter(|e| matches!(e.kind, EdgeKind::Http | EdgeKind::LambdaInvoke))
            .collect();
        for hop in &hops {
            if !dark(hop.target) || !invoked.contains(&hop.target) {
                continue;
            }
            let name = span_name(hop.kind, &hop.channel);
            let spans = run
                .truth
                .spans
                .iter()
                .filter(|s| s.service == caller.name && s.name == name)
                .count();
            if spans == 0 {
                continue; // the caller never made this hop in the run
            }
            let child = &node_of(hop.target).expect("an invoked service").service;
            let calls = call_count(&caller.name, child);
            let alone = hops
                .iter()
                .filter(|other| span_name(other.kind, &other.channel) == name)
                .count()
                == 1;
            if alone {
                // Its only hop with that span name: every such span is a call into it.
                assert_eq!(
                    usize::try_from(calls).ok(),
                    Some(spans),
                    "{} -> {child}",
                    caller.name
                );
                exact += 1;
            }
        }
    }
    assert!(exact > 0, "the fleet has direct calls into dark services");
}

/// Every invocation of a trace is in its waterfall: those that wrote spans as
/// their spans, the others (uninstrumented functions linked by X-Ray, request id
/// or stream) as a drawn span of their function, with their lines under it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uninstrumented_invocations_are_drawn() {
    use tracelake_simulator::render::EventKind;
    use tracelake_simulator::truth::LinkScope;

    let sim = simulated().await;
    let engine = QueryEngine::open(&sim.dir.path().to_string_lossy(), slow_machine_options())
        .await
        .expect("index opens");
    let truth = &sim.run.truth;
    // Invocations per trace that can be tied to it: their REPORT line is.
    let mut linked_reports: BTreeMap<String, usize> = BTreeMap::new();
    for event in &truth.events {
        if event.kind == EventKind::PlatformReport
            && matches!(event.scope, LinkScope::Line | LinkScope::Batch)
            && let Some(trace) = event.trace_id
        {
            *linked_reports.entry(hex_trace(trace)).or_default() += 1;
        }
    }
    let traced: BTreeSet<String> = truth.spans.iter().map(|s| hex_trace(s.trace_id)).collect();
    let mut drawn = 0;
    let mut adopted = 0;
    let mut checked = 0;
    for (trace_id, reports) in linked_reports
        .iter()
        .filter(|(id, _)| traced.contains(*id))
        .take(60)
    {
        let trace = engine
            .trace(trace_id, None)
            .await
            .expect("query runs")
            .unwrap_or_else(|| panic!("trace {trace_id} is found"));
        let written_requests: BTreeSet<&str> = trace
            .spans
            .iter()
            .filter(|n| !n.synthetic)
            .filter_map(|n| n.span.request_id.as_deref())
            .collect();
        let synthetic: Vec<_> = trace.spans.iter().filter(|n| n.synthetic).collect();
        // Never more invocations than the trace has; at least all whose REPORT
        // line names the trace.
        assert!(
            written_requests.len() + synthetic.len() >= *reports,
            "{trace_id}: {} with spans + {} drawn < {reports} linked REPORT lines",
            written_requests.len(),
            synthetic.len()
        );
        for node in &synthetic {
            assert_eq!(node.span.kind.map(|kind| kind.as_str()), Some("server"));
            assert!(node.span.start_time <= node.span.end_time);
            assert!(!node.logs.is_empty(), "a drawn invocation shows its lines");
            // Its own lines: those naming its request, and those naming none
            // (linked by stream position) written on its stream while it ran.
            assert!(
                node.logs.iter().all(|l| match &l.request_id {
                    Some(_) => l.request_id == node.span.request_id,
                    None => {
                        l.log_stream == node.span.log_stream
                            && l.timestamp >= node.span.start_time
                            && l.timestamp <= node.span.end_time
                    }
                }),
                "only its own lines"
            );
            match &node.span.parent_span_id {
                Some(parent) => assert!(
                    trace.spans.iter().any(|n| &n.span.span_id == parent),
                    "hangs under a span of the trace"
                ),
                None => assert!(node.note.is_some(), "a root invocation says why"),
            }
            // Lines of JSON platform records read as text.
            for log in &node.logs {
                if log.format.as_deref() == Some("lambda_platform_json") {
                    assert!(log.text.as_deref().is_some_and(|t| !t.starts_with('{')));
                }
            }
        }
        adopted += trace
            .spans
            .iter()
            .filter(|n| !n.synthetic)
            .filter(|n| {
                synthetic
                    .iter()
                    .any(|s| Some(&s.span.span_id) == n.span.parent_span_id.as_ref())
            })
            .count();
        drawn += synthetic.len();
        checked += 1;
    }
    assert!(checked >= 20, "{checked} traces checked");
    assert!(
        drawn > 0,
        "the run has uninstrumented invocations in traces"
    );
    assert!(
        adopted > 0,
        "spans called by an uninstrumented function hang under its drawn invocation"
    );
}

/// Search counts what opening the trace shows: the invocations drawn without
/// spans of their own (tracelake's summary) and their spans (Jaeger search),
/// on the simulated fleet's traces with uninstrumented hops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_counts_the_invocations_the_trace_view_draws() {
    let sim = simulated().await;
    let engine = QueryEngine::open(&sim.dir.path().to_string_lossy(), slow_machine_options())
        .await
        .expect("index opens");
    let start = i64::try_from(SimulationConfig::default().start_ns).expect("start fits");
    let mut search = TraceSearch::new(whole_run(start));
    search.limit = 2_000;
    let summaries = engine.search_traces(&search).await.expect("search runs");
    let (jaeger, truncated) = engine
        .search_trace_spans(&search)
        .await
        .expect("Jaeger search runs");
    assert!(!truncated, "the span budget holds the whole run");
    let jaeger: HashMap<&str, &tracelake_dashboards::query::TraceDetail> = jaeger
        .iter()
        .map(|trace| (trace.trace_id.as_str(), trace))
        .collect();
    // The traces with drawn invocations first, then some without.
    let (with, without): (Vec<_>, Vec<_>) = summaries.iter().partition(|s| s.synthetic_count > 0);
    assert!(
        !with.is_empty(),
        "the run has traces with uninstrumented hops"
    );
    for summary in with.iter().take(25).chain(without.iter().take(5)) {
        let id = summary.trace_id.as_str();
        let opened = engine
            .trace(id, None)
            .await
            .expect("trace runs")
            .unwrap_or_else(|| panic!("{id} opens"));
        assert_eq!(
            summary.span_count,
            i64::try_from(opened.span_count).expect("fits"),
            "{id}"
        );
        assert_eq!(summary.synthetic_count, opened.synthetic_count, "{id}");
        assert_eq!(summary.services, opened.services, "{id}");
        assert_eq!(
            summary.error_count,
            i64::try_from(opened.error_count).expect("fits"),
            "{id}"
        );
        // Jaeger search answers the spans (written and drawn) of the trace view.
        let found = jaeger
            .get(id)
            .unwrap_or_else(|| panic!("{id} in Jaeger search"));
        let ids = |trace: &tracelake_dashboards::query::TraceDetail| {
            trace
                .spans
                .iter()
                .map(|node| {
                    (
                        node.span.span_id.clone(),
                        node.span.service.clone(),
                        node.synthetic,
                    )
                })
                .collect::<BTreeSet<_>>()
        };
        assert_eq!(ids(found), ids(&opened), "{id}");
        assert_eq!(found.synthetic_count, opened.synthetic_count, "{id}");
        assert_eq!(found.error_count, opened.error_count, "{id}");
    }
}

/// The errors-only search finds exactly the traces with an error, counted as
/// the trace view counts it: a written span with status error, or an
/// invocation without a span of its own that failed (a timeout or a crash of
/// the simulated fleet, drawn with status error); a trace it finds whose
/// written spans have no error in the truth has as many errors as failed
/// bars. (This small run may have no such trace: the fixture of
/// `drawn_invocations` has one for certain.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_only_search_finds_traces_whose_only_failure_is_drawn() {
    let sim = simulated().await;
    let engine = QueryEngine::open(&sim.dir.path().to_string_lossy(), slow_machine_options())
        .await
        .expect("index opens");
    let truth = &sim.run.truth;
    let start = i64::try_from(SimulationConfig::default().start_ns).expect("start fits");
    let mut search = TraceSearch::new(whole_run(start));
    search.limit = 10_000;
    let all = engine.search_traces(&search).await.expect("search runs");
    assert!(all.len() < 10_000, "the limit holds the whole run");
    search.errors_only = true;
    let errors = engine
        .search_traces(&search)
        .await
        .expect("errors-only search runs");
    let (jaeger, truncated) = engine
        .search_trace_spans(&search)
        .await
        .expect("Jaeger errors-only search runs");
    assert!(!truncated, "the span budget holds the failed traces");
    let with_errors: BTreeSet<&str> = all
        .iter()
        .filter(|s| s.error_count > 0)
        .map(|s| s.trace_id.as_str())
        .collect();
    let found: BTreeSet<&str> = errors.iter().map(|s| s.trace_id.as_str()).collect();
    assert_eq!(found, with_errors);
    let found_jaeger: BTreeSet<&str> = jaeger.iter().map(|t| t.trace_id.as_str()).collect();
    assert_eq!(found_jaeger, with_errors);
    let span_errors: BTreeSet<String> = truth
        .spans
        .iter()
        .filter(|s| s.error)
        .map(|s| hex_trace(s.trace_id))
        .collect();
    let only_drawn: Vec<&str> = found
        .iter()
        .filter(|id| !span_errors.contains(**id))
        .copied()
        .collect();
    assert!(!found.is_empty(), "the run has failed traces");
    for id in only_drawn {
        let opened = engine
            .trace(id, None)
            .await
            .expect("trace runs")
            .unwrap_or_else(|| panic!("{id} opens"));
        let failed_bars = opened
            .spans
            .iter()
            .filter(|n| n.synthetic && n.span.status_code == Some(StatusCode::Error))
            .count();
        assert!(failed_bars > 0, "{id}: a drawn invocation failed");
        assert_eq!(opened.error_count, failed_bars, "{id}");
    }
}

/// The correlation report against the simulator's truth: the services that
/// neither write spans nor run with X-Ray are the least linked, their lines
/// and invocations tied to nothing; services with X-Ray have every invocation
/// in a trace; a report never claims more linked lines than the truth allows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn correlation_report_matches_the_truth() {
    use tracelake_dashboards::query::model::CorrelationCalls;
    use tracelake_dashboards::query::{PARTITION_SLACK_NS, Params, sql};
    use tracelake_simulator::fleet::{EdgeKind, Runtime};

    let sim = simulated().await;
    let engine = QueryEngine::open(&sim.dir.path().to_string_lossy(), slow_machine_options())
        .await
        .expect("index opens");
    let start = i64::try_from(SimulationConfig::default().start_ns).expect("start fits");
    let report = engine
        .correlation(&whole_run(start))
        .await
        .expect("report runs");
    let row_of = |service: &tracelake_simulator::fleet::Service| {
        report
            .iter()
            .find(|row| row.service == service.name || row.service == service.function_name)
    };
    // Dark: no span lines and no X-Ray, so nothing ties their lines to a trace.
    let (dark, lit): (Vec<_>, Vec<_>) = sim
        .run
        .fleet
        .services
        .iter()
        .filter(|service| row_of(service).is_some_and(|row| row.log_lines > 0))
        .partition(|service| service.runtime != Runtime::RustInstrumented && !service.xray_active);
    assert!(
        !dark.is_empty() && !lit.is_empty(),
        "the fleet has both kinds"
    );
    let worst_lit = lit
        .iter()
        .filter_map(|service| row_of(service))
        .map(|row| row.linked_share)
        .fold(f64::INFINITY, f64::min);
    for service in &dark {
        let row = row_of(service).expect("row");
        assert!(
            row.linked_share < worst_lit,
            "{}: {} linked, not below every traced service ({worst_lit})",
            row.service,
            row.linked_share
        );
        assert_eq!(
            row.unlinked, row.log_lines,
            "{}: no line is linked",
            row.service
        );
        assert_eq!(
            row.invocations_without_trace, row.invocations,
            "{}: no invocation is in a trace",
            row.service
        );
        assert!(row.invocations > 0);
        assert!(!row.example_request_ids.is_empty(), "a line to look at");
    }
    // Worst first: the dark services lead the report (callee-only rows aside).
    let leading: BTreeSet<&str> = report
        .iter()
        .filter(|row| !row.named_by_callers_only)
        .take(dark.len())
        .map(|row| row.service.as_str())
        .collect();
    let dark_rows: BTreeSet<&str> = dark
        .iter()
        .filter_map(|service| row_of(service))
        .map(|row| row.service.as_str())
        .collect();
    assert_eq!(leading, dark_rows);
    // With X-Ray, every invocation is in a trace.
    for service in lit.iter().filter(|service| service.xray_active) {
        let row = row_of(service).expect("row");
        assert_eq!(row.invocations_without_trace, 0, "{}", row.service);
    }
    // Inbound calls to a dark service over HTTP never carry their context on.
    let dark_called: Vec<_> = dark
        .iter()
        .filter_map(|service| {
            report
                .iter()
                .find(|row| row.service == service.function_name)
        })
        .filter(|row| row.inbound_calls > 0)
        .collect();
    for row in &dark_called {
        assert_eq!(
            row.inbound_without_context, row.inbound_calls,
            "{}",
            row.service
        );
        assert!(!row.example_trace_ids.is_empty());
    }
    // Inbound calls that lost their context, per callee as the callers name
    // it, against the fleet: a call reaches the edge's target, whose
    // invocation is tied to the trace unless the target is dark (for a
    // queue, topic or stream, named `<system>:<destination>`: unless the
    // consumer writes spans). (A dark
    // target of a Lambda `Invoke` is tied only by compaction, which reads the
    // caller's `aws.request_id`; this index is ingested only, so such
    // callees are left out.) Callees all of whose targets are dark lose every
    // call's context; callees all of whose targets are tied lose none.
    let fleet = &sim.run.fleet;
    let mut targets_of: BTreeMap<String, Vec<(Option<bool>, bool)>> = BTreeMap::new();
    for caller in &fleet.services {
        if caller.runtime != Runtime::RustInstrumented {
            continue; // writes no call span
        }
        for edge in &caller.edges {
            let target = &fleet.services[edge.target];
            // A call into a queue, topic or stream names the destination as
            // `<messaging.system without aws_>:<destination>`.
            let callee = match edge.kind {
                EdgeKind::Http => target.name.clone(),
                EdgeKind::LambdaInvoke => edge.channel.clone(),
                kind => {
                    let system = kind.label();
                    let system = system.strip_prefix("aws_").unwrap_or(system);
                    format!("{system}:{}", edge.channel)
                }
            };
            let dark = target.runtime != Runtime::RustInstrumented && !target.xray_active;
            let destination = !matches!(edge.kind, EdgeKind::Http | EdgeKind::LambdaInvoke);
            let tied = if destination {
                // Only a consumer span with the publish as parent ties a
                // publish to its consumer: an uninstrumented consumer with
                // X-Ray joins the trace, but nothing in the index says which
                // publish it read (its platform.start `Parent=` is its own
                // segment), so its publishes count as lost.
                Some(target.runtime == Runtime::RustInstrumented)
            } else if dark && edge.kind == EdgeKind::LambdaInvoke && fleet.invoke_request_ids {
                None
            } else {
                Some(!dark)
            };
            targets_of
                .entry(callee)
                .or_default()
                .push((tied, destination));
        }
    }
    let calls: Vec<CorrelationCalls> = engine
        .run(
            &sql::CORRELATION_CALLS,
            &Params::new().range(&whole_run(start), PARTITION_SLACK_NS),
        )
        .await
        .expect("calls query runs")
        .into_iter()
        .map(|row| serde_json::from_value(serde_json::Value::Object(row)).expect("a calls row"))
        .collect();
    let (mut all_lost, mut none_lost, mut lost_at_destinations) = (0, 0, 0);
    for row in calls.iter().filter(|row| row.inbound_calls > 0) {
        let targets = targets_of
            .get(&row.service)
            .unwrap_or_else(|| panic!("{}: callers name no such callee", row.service));
        if targets.iter().all(|(_, destination)| *destination) {
            // A queue or topic: every publish span names it.
            let publishes = sim
                .run
                .truth
                .spans
                .iter()
                .filter(|span| {
                    row.service
                        .split_once(':')
                        .is_some_and(|(_, channel)| span.name == format!("{channel} publish"))
                })
                .count();
            assert_eq!(
                usize::try_from(row.inbound_calls).ok(),
                Some(publishes),
                "{}: calls",
                row.service
            );
        }
        if targets.iter().all(|(tied, _)| *tied == Some(false)) {
            assert_eq!(
                row.inbound_without_context, row.inbound_calls,
                "{}: every call to a dark callee loses its context",
                row.service
            );
            assert!(row.example_lost_trace_id.is_some(), "{}", row.service);
            all_lost += 1;
            if targets.iter().all(|(_, destination)| *destination) {
                lost_at_destinations += 1;
            }
        } else if targets.iter().all(|(tied, _)| *tied == Some(true)) {
            assert_eq!(
                row.inbound_without_context, 0,
                "{}: every callee's invocation joins the trace",
                row.service
            );
            none_lost += 1;
        }
    }
    assert!(
        all_lost > 0 && none_lost > 0 && lost_at_destinations > 0,
        "the run has dark and tied callees, and a queue or topic read by dark consumers \
         ({all_lost} dark, {none_lost} tied, {lost_at_destinations} dark destinations)"
    );
    // Precision: linked lines per service never exceed what the truth links.
    let linked_total: i64 = report.iter().map(|row| row.log_lines - row.unlinked).sum();
    let linkable = sim
        .run
        .truth
        .events
        .iter()
        .filter(|event| event.trace_id.is_some())
        .count();
    assert!(
        usize::try_from(linked_total).unwrap_or(usize::MAX) <= linkable,
        "{linked_total} linked lines, only {linkable} belong to a trace"
    );
}
