//! Linking log lines to traces within a batch, through the whole pipeline.

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, TracesData};
use tracelake_collector::decode::DecodeLimits;
use tracelake_collector::index::read::read_log_links;
use tracelake_collector::index::stats::index_stats;
use tracelake_collector::pipeline::parse_and_correlate as correlate;
use tracelake_instrumentation::wire::{ids::TraceId, log_line::LogLine, span_line};

use super::support::*;

const TRACED: &str = "f08bb4c8-d6b2-4f05-ac17-af7e2ba005fb"; // REPORT with XRAY in fixture 07
const UNTRACED: &str = "4ce9340a-b765-490f-ad8a-02ab3415e2bf"; // REPORT without XRAY in fixture 07
const SPANNED: &str = "9d1c1f0e-52c4-4c1e-9a55-0c8b0f6e2a11";
const SPAN_TRACE: &str = "675ea3c0a1b2c3d4e5f60718293a4b5c";

fn string_attribute(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_owned())),
        }),
        ..KeyValue::default()
    }
}

/// A span line as instrumentation writes it: the invocation span of `SPANNED`.
fn invocation_span_line() -> String {
    let trace = TraceId::parse(SPAN_TRACE).expect("trace id");
    let span = Span {
        trace_id: trace.0.to_be_bytes().to_vec(),
        span_id: 0x1122_3344_5566_7788u64.to_be_bytes().to_vec(),
        name: "orders".to_owned(),
        kind: 2,
        start_time_unix_nano: 1_764_378_000_000_000_000,
        end_time_unix_nano: 1_764_378_000_020_000_000,
        attributes: vec![
            string_attribute("faas.invocation_id", SPANNED),
            string_attribute("faas.trigger", "http"),
        ],
        ..Span::default()
    };
    let data = TracesData {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![string_attribute("service.name", "orders-api")],
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

fn start(request_id: &str) -> String {
    format!("START RequestId: {request_id} Version: $LATEST\n")
}

fn end(request_id: &str) -> String {
    format!("END RequestId: {request_id}\n")
}

fn report_of(request_id: &str) -> String {
    fixture_messages("07_lambda_platform_text.jsonl")
        .into_iter()
        .find(|m| m.starts_with("REPORT") && m.contains(request_id))
        .unwrap_or_else(|| panic!("fixture 07 has a REPORT for {request_id}"))
}

fn node_lines_of(request_id: &str) -> Vec<String> {
    fixture_messages("09_node_text_app_logs.jsonl")
        .into_iter()
        .filter(|m| m.contains(request_id))
        .collect()
}

/// One stream's batch with every kind of link, and a request that has no trace.
pub fn mixed_batch() -> Vec<String> {
    let own = LogLine {
        timestamp: "2025-11-29T01:00:00.000001Z".into(),
        level: "INFO".into(),
        message: "line with its own trace id".into(),
        trace_id: Some("1-5759e988-bd862e3fe1be46a994272793".into()),
        span_id: Some("53995c3f42cd8ad8".into()),
        request_id: None,
        service: "checkout".into(),
        xray_trace_id: None,
        function_request_id: None,
        fields: Default::default(),
    };
    let mut lines = vec![start(TRACED)];
    lines.extend(node_lines_of(TRACED));
    lines.push("plain line while the traced request runs".into());
    lines.push(end(TRACED));
    lines.push(report_of(TRACED));
    lines.push("plain line between invocations".into());
    lines.push(start(UNTRACED));
    lines.extend(node_lines_of(UNTRACED));
    lines.push("plain line while the untraced request runs".into());
    lines.push(end(UNTRACED));
    lines.push(report_of(UNTRACED));
    lines.push(start(SPANNED));
    lines.push(invocation_span_line());
    lines.push(format!(
        "[INFO]\t2025-11-29T01:00:00.010Z\t{SPANNED}\tpython line of the spanned request"
    ));
    lines.push("plain line while the spanned request runs".into());
    lines.push(serde_json::to_string(&own).expect("log line"));
    lines.push(end(SPANNED));
    lines
}

#[test]
fn every_linkable_line_is_linked_and_others_stay_unlinked() {
    let lines = mixed_batch();
    let out = correlate(
        batch_of("/aws/lambda/checkout", "2025/11/29/[$LATEST]s1", &lines),
        &DecodeLimits::default(),
    );
    let expect = |needle: &str, trace: Option<&str>, link: Option<&str>| {
        let rows: Vec<_> = out
            .logs
            .iter()
            .filter(|r| r.message.contains(needle))
            .collect();
        assert!(!rows.is_empty(), "no row contains {needle:?}");
        for row in rows {
            assert_eq!(
                (
                    row.trace_id.map(|id| id.to_string()).as_deref(),
                    row.link.map(|l| l.as_str())
                ),
                (trace, link),
                "{needle}: {row:?}"
            );
        }
    };
    let xray = Some("5e61292ccc1229a4dfbeae1043928548");
    expect("Patched console output", xray, Some("request_id"));
    expect("Root=1-5e61292c", xray, Some("request_id"));
    expect(
        &format!("START RequestId: {TRACED}"),
        xray,
        Some("request_id"),
    );
    expect(
        &format!("REPORT RequestId: {TRACED}"),
        xray,
        Some("request_id"),
    );
    expect(
        "plain line while the traced request runs",
        xray,
        Some("stream"),
    );
    expect("plain line between invocations", None, None);
    expect("EVENT", None, None);
    expect(&format!("REPORT RequestId: {UNTRACED}"), None, None);
    expect("plain line while the untraced request runs", None, None);
    expect(
        "python line of the spanned request",
        Some(SPAN_TRACE),
        Some("request_id"),
    );
    expect(
        "plain line while the spanned request runs",
        Some(SPAN_TRACE),
        Some("stream"),
    );
    expect(
        "line with its own trace id",
        Some("5759e988bd862e3fe1be46a994272793"),
        Some("trace_id"),
    );

    assert_eq!(out.spans.len(), 1);
    assert_eq!(out.spans[0].request_id.as_deref(), Some(SPANNED));
    assert_eq!(out.spans[0].service, "orders-api");
    assert_eq!(&*out.spans[0].log_stream, "2025/11/29/[$LATEST]s1");
    let python = out
        .logs
        .iter()
        .find(|r| r.message.contains("python line"))
        .expect("row");
    assert_eq!(
        python.service.as_deref(),
        Some("orders-api"),
        "service comes from the request's span"
    );
    assert_eq!(out.invocations.len(), 2);
    assert_eq!(
        out.invocations
            .iter()
            .find(|i| i.request_id == TRACED)
            .and_then(|i| i.start_time_ns),
        Some(1_764_378_000_000_000_000)
    );
    assert_eq!(out.events_indexed as usize, lines.len());
}

#[test]
fn a_line_of_another_request_stays_unlinked_when_its_own_request_is_unknown() {
    // A Node line of a request this batch knows nothing about, written while a
    // traced request runs on the stream: its own request id wins over position.
    let mut lines = vec![start(TRACED)];
    lines.extend(node_lines_of(UNTRACED));
    lines.push(end(TRACED));
    lines.push(report_of(TRACED));
    let out = correlate(
        batch_of("/aws/lambda/checkout", "s", &lines),
        &DecodeLimits::default(),
    );
    let foreign = out
        .logs
        .iter()
        .find(|r| r.message.starts_with("EVENT"))
        .expect("row");
    assert_eq!(foreign.trace_id, None);
    // And position linking stood down for the whole batch (two requests at once).
    assert!(
        out.logs
            .iter()
            .all(|r| r.link.map(|l| l.as_str()) != Some("stream"))
    );
}

#[test]
fn xray_and_w3c_forms_of_one_trace_link_to_the_same_id() {
    let w3c = LogLine {
        timestamp: "2025-11-29T01:00:00Z".into(),
        level: "INFO".into(),
        message: "w3c".into(),
        trace_id: Some("5759E988BD862E3FE1BE46A994272793".into()),
        span_id: None,
        request_id: None,
        service: "s".into(),
        xray_trace_id: None,
        function_request_id: None,
        fields: Default::default(),
    };
    let xray = LogLine {
        message: "xray".into(),
        trace_id: Some("1-5759e988-bd862e3fe1be46a994272793".into()),
        ..w3c.clone()
    };
    let lines = [
        serde_json::to_string(&w3c).expect("json"),
        serde_json::to_string(&xray).expect("json"),
    ];
    let out = correlate(
        batch_of("/aws/lambda/s", "s", &lines),
        &DecodeLimits::default(),
    );
    assert_eq!(out.logs[0].trace_id, out.logs[1].trace_id);
    assert_eq!(
        out.logs[0].trace_id.map(|id| id.to_string()).as_deref(),
        Some("5759e988bd862e3fe1be46a994272793")
    );
}

#[test]
fn a_batch_ingested_twice_gives_identical_row_counts() {
    let collector = memory_collector();
    let payload = data_message_json(&batch_of(
        "/aws/lambda/checkout",
        "2025/11/29/[$LATEST]s1",
        &mixed_batch(),
    ));
    let rt = runtime();
    let first = rt
        .block_on(collector.ingest(&payload, "first"))
        .expect("ingest");
    let after_first = rt.block_on(index_stats(collector.store())).expect("stats");
    let second = rt
        .block_on(collector.ingest(&payload, "retry"))
        .expect("ingest again");
    let after_second = rt.block_on(index_stats(collector.store())).expect("stats");
    assert_eq!(first, second);
    assert_eq!(
        after_first, after_second,
        "a retried batch overwrites its own segment"
    );
    let rows = |table: &str| {
        after_second
            .iter()
            .filter(|s| s.table == table)
            .map(|s| s.rows)
            .sum::<u64>()
    };
    assert_eq!(rows("logs"), first.log_rows);
    assert_eq!(rows("spans"), 1);
    assert_eq!(rows("invocations"), 2);
    assert_eq!(rows("trace_index"), 1);
    assert_eq!(
        first.events_in,
        first.events_indexed + first.events_quarantined
    );
    let links = rt
        .block_on(read_log_links(collector.store()))
        .expect("links");
    assert_eq!(links.len() as u64, first.log_rows);
    assert!(links.iter().any(|l| l.link.as_deref() == Some("stream")));
}
