//! Links across batches: whatever the split of a stream into deliveries and the
//! order they arrive in, ingest (per batch) then compaction (the hour's link
//! resolution and `trace_index`) gives the same index, and never a wrong link.

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, TracesData};
use proptest::prelude::*;
use tracelake_collector::correlate::CorrelatedBatch;
use tracelake_collector::decode::{DecodeLimits, LogBatch, LogEvent};
use tracelake_collector::index::rows::{InvocationRow, LogRow, SpanRow, TraceIndexRow};
use tracelake_collector::index::schema::HourPartition;
use tracelake_collector::pipeline::parse_and_correlate as correlate;
use tracelake_index::compact::links::{LinkEvidence, Origin};
use tracelake_index::compact::trace_summary::TraceSummaries;
use tracelake_instrumentation::wire::ids::TraceId;
use tracelake_instrumentation::wire::span_line;

/// Traces the generated invocations run in: X-Ray-shaped and random W3C ids.
const TRACES: [&str; 4] = [
    "6749a1c0a1b2c3d4e5f60718293a4b5c",
    "6749a1c1ffeeddccbbaa998877665544",
    "0af7651916cd43dd8448eb211c80319c",
    "4bf92f3577b34da6a3ce929d0e0e4736",
];
const BASE_MS: i64 = 1_764_378_000_000;

/// How an invocation's trace is known.
#[derive(Debug, Clone, Copy)]
enum Evidence {
    /// Our invocation span (`faas.invocation_id`).
    Span,
    /// Our JSON log line naming trace and request.
    OwnLine,
    /// `REPORT … XRAY TraceId`.
    Xray,
    /// Nothing: the invocation's lines stay unlinked.
    Nothing,
}

/// A line an invocation writes between START and END.
#[derive(Debug, Clone, Copy)]
enum Line {
    /// Plain text: linkable only by position.
    Plain,
    /// Node text with the request id.
    Node,
    /// Powertools JSON naming another trace and no request: kept on its own trace.
    ForeignTrace,
    /// Powertools JSON naming the request and another trace (X-Ray weight):
    /// contradicts an X-Ray REPORT, so the request links nothing.
    Contradiction,
}

#[derive(Debug, Clone)]
struct Invocation {
    trace: usize,
    evidence: Evidence,
    lines: Vec<Line>,
}

fn invocation() -> impl Strategy<Value = Invocation> {
    let evidence = prop_oneof![
        Just(Evidence::Span),
        Just(Evidence::OwnLine),
        Just(Evidence::Xray),
        Just(Evidence::Nothing),
    ];
    let line = prop_oneof![
        6 => Just(Line::Plain),
        3 => Just(Line::Node),
        1 => Just(Line::ForeignTrace),
        1 => Just(Line::Contradiction),
    ];
    (0..TRACES.len(), evidence, prop::collection::vec(line, 0..5)).prop_map(
        |(trace, evidence, lines)| Invocation {
            trace,
            evidence,
            lines,
        },
    )
}

fn string_attribute(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_owned())),
        }),
        ..KeyValue::default()
    }
}

fn span_line(trace: &str, request_id: &str, span_id: u64, start_ms: i64) -> String {
    let trace = TraceId::parse(trace).expect("trace id");
    let start = (start_ms * 1_000_000) as u64;
    let span = Span {
        trace_id: trace.0.to_be_bytes().to_vec(),
        span_id: span_id.to_be_bytes().to_vec(),
        name: "handler".to_owned(),
        kind: 2,
        start_time_unix_nano: start,
        end_time_unix_nano: start + 3_000_000,
        attributes: vec![string_attribute("faas.invocation_id", request_id)],
        ..Span::default()
    };
    let data = TracesData {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![string_attribute("service.name", "checkout")],
                ..Resource::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans: vec![span],
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    };
    span_line::encode_json_line(&data)
}

fn xray(trace: &str) -> String {
    format!("1-{}-{}", &trace[..8], &trace[8..])
}

/// The events of one stream in write order, with the trace each line truly
/// belongs to (`None`: no trace, or a line we do not score).
fn stream_events(stream: usize, invocations: &[Invocation]) -> Vec<(LogEvent, Option<String>)> {
    let mut events = Vec::new();
    let mut sequence = 0u64;
    let mut push = |message: String, truth: Option<&str>, events: &mut Vec<_>| {
        sequence += 1;
        // Timestamps tie in pairs, as milliseconds do at invocation boundaries.
        let timestamp_ms = BASE_MS + (sequence / 2) as i64;
        events.push((
            LogEvent {
                id: format!("{timestamp_ms}{stream:04}{sequence:016}"),
                timestamp_ms,
                message,
            },
            truth.map(str::to_owned),
        ));
    };
    for (number, invocation) in invocations.iter().enumerate() {
        let request = format!("{stream:08x}-0000-4000-8000-{number:012x}");
        let trace = TRACES[invocation.trace];
        let other = TRACES[(invocation.trace + 1) % TRACES.len()];
        let time = "2025-11-29T01:00:00.000Z";
        push(
            format!("START RequestId: {request} Version: $LATEST"),
            Some(trace),
            &mut events,
        );
        match invocation.evidence {
            Evidence::Span => push(
                span_line(trace, &request, 0x1000 + number as u64, BASE_MS),
                None,
                &mut events,
            ),
            Evidence::OwnLine => push(
                format!(
                    r#"{{"timestamp":"{time}","level":"INFO","message":"own","service":"checkout","trace_id":"{trace}","request_id":"{request}"}}"#
                ),
                Some(trace),
                &mut events,
            ),
            Evidence::Xray | Evidence::Nothing => {}
        }
        for line in &invocation.lines {
            // A line naming the request with another trace contradicts only
            // evidence of its own weight (X-Ray); alone it would be the
            // request's only evidence, and a false one.
            let line = match (line, invocation.evidence) {
                (Line::Contradiction, Evidence::Nothing) => &Line::ForeignTrace,
                (line, _) => line,
            };
            match line {
                Line::Plain => push("plain work".to_owned(), Some(trace), &mut events),
                Line::Node => push(
                    format!("{time}\t{request}\tINFO\tnode work"),
                    Some(trace),
                    &mut events,
                ),
                Line::ForeignTrace => push(
                    format!(
                        r#"{{"level":"INFO","location":"x:1","message":"foreign","timestamp":"{time}","service":"checkout","xray_trace_id":"{}"}}"#,
                        xray(other)
                    ),
                    Some(other),
                    &mut events,
                ),
                Line::Contradiction => push(
                    format!(
                        r#"{{"level":"INFO","location":"x:1","message":"contradiction","timestamp":"{time}","service":"checkout","function_request_id":"{request}","xray_trace_id":"{}"}}"#,
                        xray(other)
                    ),
                    Some(other),
                    &mut events,
                ),
            }
        }
        push(
            format!("END RequestId: {request}"),
            Some(trace),
            &mut events,
        );
        let xray_field = match invocation.evidence {
            Evidence::Xray => format!(
                "\nXRAY TraceId: {}\tSegmentId: 07a85e713f6302b2\tSampled: true",
                xray(trace)
            ),
            _ => String::new(),
        };
        push(
            format!(
                "REPORT RequestId: {request}\tDuration: 2.00 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 50 MB\t{xray_field}"
            ),
            Some(trace),
            &mut events,
        );
    }
    events
}

/// What a compacted hour holds, in a canonical order.
#[derive(Debug, PartialEq)]
struct Compacted {
    /// event id → (trace, link).
    logs: BTreeMap<String, (Option<String>, Option<String>)>,
    /// request id → trace.
    invocations: BTreeMap<String, Option<String>>,
    trace_index: Vec<TraceIndexRow>,
}

/// The compaction of one hour's rows, as far as links and `trace_index` go.
fn compact(
    spans: &[SpanRow],
    mut logs: Vec<LogRow>,
    mut invocations: Vec<InvocationRow>,
) -> Compacted {
    let mut evidence = LinkEvidence::new(&HourPartition::of_nanos(BASE_MS * 1_000_000));
    for span in spans {
        evidence.observe_span(span, Origin::ThisHour);
    }
    for invocation in &invocations {
        evidence.observe_invocation(invocation, Origin::ThisHour);
    }
    for log in &logs {
        evidence.observe_log(log, Origin::ThisHour);
    }
    let resolver = evidence;
    let mut summaries = TraceSummaries::new();
    for span in spans {
        summaries.observe_span(span);
    }
    for log in &mut logs {
        resolver.resolve(log);
        summaries.observe_log(log);
    }
    for invocation in &mut invocations {
        resolver.resolve_invocation(invocation);
        summaries.observe_invocation(invocation);
    }
    Compacted {
        logs: logs
            .into_iter()
            .map(|log| {
                (
                    log.event_id,
                    (
                        log.trace_id.map(|id| id.to_string()),
                        log.link.map(|link| link.as_str().to_owned()),
                    ),
                )
            })
            .collect(),
        invocations: invocations
            .into_iter()
            .map(|invocation| {
                (
                    invocation.request_id,
                    invocation.trace_id.map(|id| id.to_string()),
                )
            })
            .collect(),
        trace_index: summaries.finish(),
    }
}

/// Ingests the streams split into batches at `cuts`, delivered in `order`,
/// then compacts.
fn ingest_and_compact(
    streams: &[Vec<(LogEvent, Option<String>)>],
    cuts: &[Vec<bool>],
    order: &[usize],
) -> Compacted {
    let mut batches = Vec::new();
    for (stream, events) in streams.iter().enumerate() {
        let mut current = Vec::new();
        for (index, (event, _)) in events.iter().enumerate() {
            current.push(event.clone());
            let cut = cuts[stream].get(index).copied().unwrap_or(false);
            if cut || index + 1 == events.len() {
                batches.push(LogBatch {
                    owner: "123456789012".to_owned(),
                    log_group: format!("/aws/lambda/fn-{}", stream % 2),
                    log_stream: format!("2025/11/29/[$LATEST]{stream:032x}"),
                    events: std::mem::take(&mut current),
                    rejected: Vec::new(),
                });
            }
        }
    }
    let mut spans = Vec::new();
    let mut logs = Vec::new();
    let mut invocations = Vec::new();
    let count = batches.len();
    let mut slots: Vec<Option<LogBatch>> = batches.into_iter().map(Some).collect();
    for position in order.iter().map(|o| o % count.max(1)).chain(0..count) {
        if let Some(batch) = slots.get_mut(position).and_then(Option::take) {
            let CorrelatedBatch {
                spans: s,
                logs: l,
                invocations: i,
                ..
            } = correlate(batch, &DecodeLimits::default());
            spans.extend(s);
            logs.extend(l);
            invocations.extend(i);
        }
    }
    compact(&spans, logs, invocations)
}

fn scenario() -> impl Strategy<Value = (Vec<Vec<Invocation>>, Vec<Vec<bool>>, Vec<usize>)> {
    prop::collection::vec(prop::collection::vec(invocation(), 1..6), 1..4).prop_flat_map(
        |streams| {
            let cuts: Vec<_> = streams
                .iter()
                .map(|invocations| prop::collection::vec(any::<bool>(), invocations.len() * 9))
                .collect();
            let order = prop::collection::vec(0usize..1000, 0..60);
            (Just(streams), cuts, order)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_split_and_order_gives_the_same_compacted_index((streams, cuts, order) in scenario()) {
        let events: Vec<_> = streams
            .iter()
            .enumerate()
            .map(|(stream, invocations)| stream_events(stream, invocations))
            .collect();
        let whole: Vec<Vec<bool>> = events.iter().map(|_| Vec::new()).collect();
        let reference = ingest_and_compact(&events, &whole, &[]);
        let split = ingest_and_compact(&events, &cuts, &order);
        prop_assert_eq!(&split, &reference);

        // Never a wrong link, and every line whose invocation's trace is known
        // without contradiction is linked.
        let truth: BTreeMap<&str, Option<&str>> = events
            .iter()
            .flatten()
            .map(|(event, trace)| (event.id.as_str(), trace.as_deref()))
            .collect();
        for (event_id, (trace, _)) in &split.logs {
            if let Some(trace) = trace {
                prop_assert_eq!(Some(trace.as_str()), truth[event_id.as_str()], "event {}", event_id);
            }
        }
        for (stream, invocations) in streams.iter().enumerate() {
            for (number, invocation) in invocations.iter().enumerate() {
                // A contradicted request keeps its REPORT's X-Ray trace, as at ingest.
                let known = !matches!(invocation.evidence, Evidence::Nothing);
                let request = format!("{stream:08x}-0000-4000-8000-{number:012x}");
                let expected = known.then(|| TRACES[invocation.trace].to_owned());
                prop_assert_eq!(&split.invocations[&request], &expected, "request {}", request);
            }
        }
    }
}

#[test]
fn a_line_whose_start_came_in_the_previous_delivery_is_linked_after_compaction() {
    let invocations = vec![Invocation {
        trace: 2,
        evidence: Evidence::Xray,
        lines: vec![Line::Plain, Line::Plain],
    }];
    let events = vec![stream_events(0, &invocations)];
    // START and the lines in the first delivery; END and the REPORT, which
    // names the trace, in the next.
    let mut cuts = vec![false; events[0].len()];
    cuts[2] = true;
    let first: Vec<LogEvent> = events[0][..3]
        .iter()
        .map(|(event, _)| event.clone())
        .collect();
    // At ingest the plain lines are unlinked: their trace is in another batch.
    let first = correlate(
        LogBatch {
            owner: "123456789012".to_owned(),
            log_group: "/aws/lambda/fn-0".to_owned(),
            log_stream: format!("2025/11/29/[$LATEST]{:032x}", 0),
            events: first,
            rejected: Vec::new(),
        },
        &DecodeLimits::default(),
    );
    let plain_at_ingest: Vec<_> = first
        .logs
        .iter()
        .filter(|log| log.message == "plain work")
        .collect();
    assert_eq!(plain_at_ingest.len(), 2);
    assert!(plain_at_ingest.iter().all(|log| log.trace_id.is_none()));

    let compacted = ingest_and_compact(&events, &[cuts], &[]);
    for (event, truth) in &events[0] {
        if event.message == "plain work" {
            let (trace, link) = &compacted.logs[&event.id];
            assert_eq!(trace, truth);
            assert_eq!(link.as_deref(), Some("stream"));
        }
    }
}

/// A simulated fleet straddling an hour boundary, ingested batch by batch and
/// then compacted: no wrong link, and the lines whose evidence came in another
/// batch are linked.
#[tokio::test]
async fn compaction_links_a_simulated_fleets_cross_batch_lines()
-> Result<(), Box<dyn std::error::Error>> {
    use tracelake_collector::index::read::read_log_links;
    use tracelake_collector::{Collector, IndexStore};
    use tracelake_index::compact::{CompactOptions, compact_hours, hours_needing_compaction};
    use tracelake_simulator::{SimulationConfig, simulate};

    let config = SimulationConfig {
        seed: 11,
        services: 40,
        minutes: 3.0,
        // 90 s before 2026-11-29T01:00:00Z: invocations and streams cross the hour.
        start_ns: (1_795_914_000 - 90) * 1_000_000_000,
        ..SimulationConfig::default()
    };
    let run = simulate(&config, &mut |_, _, _| {})?;
    let dir = tempfile::tempdir()?;
    let store = IndexStore::open(&dir.path().to_string_lossy())?;
    let collector = Collector::new(store.clone());
    for (number, delivery) in run.delivered.deliveries.iter().enumerate() {
        collector
            .ingest(&delivery.payload, &format!("delivery-{number}"))
            .await?;
    }
    let score_of = |links: &[tracelake_collector::index::read::LogLink]| {
        run.truth.score(
            links
                .iter()
                .map(|link| (link.event_id.as_str(), link.trace_id.as_deref())),
        )
    };
    let before = score_of(&read_log_links(&store).await?);
    let hours = hours_needing_compaction(&store).await?;
    assert!(hours.len() >= 2, "the fleet spans two hours: {hours:?}");
    compact_hours(&store, &hours, &CompactOptions::default()).await?;
    let after = score_of(&read_log_links(&store).await?);

    assert!(
        before.cross_batch.expected > before.cross_batch.linked,
        "ingest alone leaves cross-batch lines unlinked"
    );
    assert_eq!(after.rows, before.rows, "compaction keeps every row");
    assert_eq!(after.duplicate_rows, 0);
    assert_eq!(
        after.linked_wrongly, 0,
        "wrong links: {:?}",
        after.wrong_examples
    );
    assert!(
        after.line.linked + after.batch.linked >= before.line.linked + before.batch.linked,
        "in-batch links are kept"
    );
    assert!(
        after.cross_batch.recall() >= 0.999,
        "cross-batch recall {} ({} of {})",
        after.cross_batch.recall(),
        after.cross_batch.linked,
        after.cross_batch.expected
    );
    Ok(())
}

/// Recall over the lines of invocations started by a Lambda `Invoke`.
#[derive(Debug, Default)]
struct InvokedRecall {
    /// Lines of such invocations that belong to a trace.
    expected: u64,
    /// Of those, linked to it.
    linked: u64,
    /// Of those, linked to it though their service writes nothing that names
    /// the trace (no spans, no X-Ray): only the caller's `aws.request_id` can.
    linked_without_own_evidence: u64,
}

/// A simulated fleet ingested batch by batch and compacted, with its truth
/// and score, and the recall over the `Invoke` callees' lines.
async fn simulate_ingest_compact(
    invoke_request_ids: bool,
) -> Result<(tracelake_simulator::truth::Score, InvokedRecall), Box<dyn std::error::Error>> {
    use std::collections::HashMap;
    use tracelake_collector::index::read::read_log_links;
    use tracelake_collector::{Collector, IndexStore};
    use tracelake_index::compact::{CompactOptions, compact_hours, hours_needing_compaction};
    use tracelake_simulator::fleet::{EdgeKind, FleetConfig, Runtime};
    use tracelake_simulator::{SimulationConfig, simulate};

    let config = SimulationConfig {
        seed: 17,
        services: 120,
        minutes: 3.0,
        fleet: FleetConfig {
            invoke_request_ids,
            ..FleetConfig::default()
        },
        ..SimulationConfig::default()
    };
    let run = simulate(&config, &mut |_, _, _| {})?;
    let dir = tempfile::tempdir()?;
    let store = IndexStore::open(&dir.path().to_string_lossy())?;
    let collector = Collector::new(store.clone());
    for (number, delivery) in run.delivered.deliveries.iter().enumerate() {
        collector
            .ingest(&delivery.payload, &format!("delivery-{number}"))
            .await?;
    }
    compact_hours(
        &store,
        &hours_needing_compaction(&store).await?,
        &CompactOptions::default(),
    )
    .await?;
    let links = read_log_links(&store).await?;
    let score = run.truth.score(
        links
            .iter()
            .map(|link| (link.event_id.as_str(), link.trace_id.as_deref())),
    );

    // The callees of Invoke edges whose service names no trace of its own
    // (not instrumented, no X-Ray, not Powertools), by event id.
    let fleet = &run.fleet;
    let bare_callee: Vec<bool> = (0..fleet.services.len())
        .map(|index| {
            let service = &fleet.services[index];
            let invoked = fleet
                .services
                .iter()
                .flat_map(|caller| &caller.edges)
                .any(|edge| edge.kind == EdgeKind::LambdaInvoke && edge.target == index);
            invoked
                && !service.xray_active
                && !matches!(
                    service.runtime,
                    Runtime::RustInstrumented | Runtime::Powertools
                )
        })
        .collect();
    let service_of: HashMap<&str, usize> = run
        .delivered
        .events
        .iter()
        .map(|event| {
            let stream = run.delivered.batches[event.batch].stream;
            (event.event_id.as_str(), run.streams[stream].service)
        })
        .collect();
    let truth: HashMap<&str, Option<u128>> = run
        .truth
        .events
        .iter()
        .map(|event| (event.event_id.as_str(), event.trace_id))
        .collect();
    let mut recall = InvokedRecall::default();
    for link in &links {
        if !run.truth.invoked_events.contains(&link.event_id) {
            continue;
        }
        let Some(Some(expected)) = truth.get(link.event_id.as_str()) else {
            continue;
        };
        recall.expected += 1;
        let linked = link
            .trace_id
            .as_deref()
            .and_then(|text| TraceId::parse(text).ok())
            .is_some_and(|trace| trace.0 == *expected);
        recall.linked += u64::from(linked);
        let bare = service_of
            .get(link.event_id.as_str())
            .is_some_and(|service| bare_callee[*service]);
        recall.linked_without_own_evidence += u64::from(linked && bare);
    }
    Ok((score, recall))
}

/// Callees invoked through the instrumented SDK's `Lambda.Invoke` that write
/// nothing naming their trace join the caller's trace through the span's
/// `aws.request_id`, with no wrong link; without that attribute they do not.
#[tokio::test]
async fn invoked_callees_join_their_callers_trace_through_the_request_id()
-> Result<(), Box<dyn std::error::Error>> {
    let (with, with_recall) = simulate_ingest_compact(true).await?;
    let (without, without_recall) = simulate_ingest_compact(false).await?;
    eprintln!(
        "invoked callees' lines: with aws.request_id {with_recall:?}, without {without_recall:?}; \
         cross-batch recall with {}/{}, without {}/{}",
        with.cross_batch.linked,
        with.cross_batch.expected,
        without.cross_batch.linked,
        without.cross_batch.expected
    );
    for score in [&with, &without] {
        assert_eq!(
            score.linked_wrongly, 0,
            "wrong links: {:?}",
            score.wrong_examples
        );
    }
    assert_eq!(with_recall.expected, without_recall.expected);
    assert!(
        with_recall.linked_without_own_evidence > 0,
        "the fleet has Invoke callees without evidence of their own"
    );
    assert_eq!(
        without_recall.linked_without_own_evidence, 0,
        "nothing else links them"
    );
    assert!(
        with.cross_batch.recall() >= 0.999,
        "cross-batch recall {} ({} of {})",
        with.cross_batch.recall(),
        with.cross_batch.linked,
        with.cross_batch.expected
    );
    Ok(())
}
