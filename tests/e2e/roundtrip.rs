//! From a handler wrapped by instrumentation to index rows, through the
//! collector, in both span formats.

use std::collections::HashMap;

use arrow::array::{Array, AsArray as _};
use tracelake_collector::index::read::read_table;
use tracelake_collector::{Collector, IndexStore};
use tracelake_instrumentation::{
    Invocation, LineBuffer, Output, SpanFormat, Telemetry, TelemetryConfig, Trigger,
};

const REQUEST_ID: &str = "8f5e4c1a-93b2-4f0e-a7d1-2c6b9e0f4a37";
const XRAY: &str = "Root=1-6929e000-8c398be037738dc042009320;Parent=94ae789b969f1cc5;Sampled=1";
const TRACE_ID: &str = "6929e0008c398be037738dc042009320";

/// The CloudWatch events of one invocation: Lambda's platform lines around what
/// the handler wrote, plus a line printed without tracing.
fn invocation_events(span_format: SpanFormat) -> Vec<String> {
    let buffer = LineBuffer::new();
    let config = TelemetryConfig::new("checkout")
        .with_function("checkout-fn", "$LATEST")
        .with_log_stream("2026/11/29/[$LATEST]0123456789abcdef")
        .with_region("eu-west-1")
        .with_account_id("123456789012")
        .with_memory_mb(256)
        .with_span_format(span_format);
    let telemetry = Telemetry::new(config, Output::buffer(&buffer)).expect("telemetry");
    let invocation = Invocation::new(REQUEST_ID)
        .with_xray_header(XRAY)
        .with_trigger(Trigger::Http);
    let result: Result<(), String> = telemetry.in_invocation(&invocation, || {
        tracing::info!(order_id = 42, "received order");
        let charge = tracing::info_span!("charge card");
        let _entered = charge.enter();
        tracing::warn!(attempt = 1, "card declined once");
        Ok(())
    });
    result.expect("handler");
    let mut events = vec![format!("START RequestId: {REQUEST_ID} Version: $LATEST\n")];
    let mut lines = buffer.take_lines();
    // A println! from the handler lands between its traced lines.
    lines.insert(1, "printed without tracing\n".to_owned());
    events.extend(lines);
    events.push(format!("END RequestId: {REQUEST_ID}\n"));
    events.push(format!(
        "REPORT RequestId: {REQUEST_ID}\tDuration: 12.50 ms\tBilled Duration: 13 ms\tMemory Size: 256 MB\tMax Memory Used: 70 MB\tInit Duration: 0.90 ms\t\nXRAY TraceId: 1-6929e000-8c398be037738dc042009320\tSegmentId: 94ae789b969f1cc5\tSampled: true\t\n"
    ));
    events
}

fn subscription_payload(events: &[String]) -> Vec<u8> {
    let log_events: Vec<serde_json::Value> = events
        .iter()
        .enumerate()
        .map(|(i, message)| {
            serde_json::json!({"id": format!("3800000000000000000000000000000000000000000000000000{i:04}"), "timestamp": 1_764_378_000_000i64 + i as i64, "message": message})
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/checkout-fn",
        "logStream": "2026/11/29/[$LATEST]0123456789abcdef", "subscriptionFilters": ["tracelake"], "logEvents": log_events,
    }))
    .expect("json")
}

/// (column → value) per row of a table, strings only.
fn rows(store: &IndexStore, table: &str, columns: &[&str]) -> Vec<HashMap<String, Option<String>>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let batches = runtime.block_on(read_table(store, table)).expect("read");
    let mut out = Vec::new();
    for batch in batches {
        for row in 0..batch.num_rows() {
            let mut values = HashMap::new();
            for column in columns {
                let array = batch
                    .column_by_name(column)
                    .unwrap_or_else(|| panic!("{table}.{column}"));
                let text = array.as_string::<i32>();
                values.insert(
                    (*column).to_owned(),
                    (!text.is_null(row)).then(|| text.value(row).to_owned()),
                );
            }
            out.push(values);
        }
    }
    out
}

fn round_trip(span_format: SpanFormat) {
    let events = invocation_events(span_format);
    let is_envelope = events.iter().any(|e| e.contains("__otel_otlp_stdout"));
    assert_eq!(
        is_envelope,
        span_format == SpanFormat::Compact,
        "the span format shows on stdout"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let store = IndexStore::open(dir.path().to_str().expect("path")).expect("store");
    let collector = Collector::new(store.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let counters = runtime
        .block_on(collector.ingest(&subscription_payload(&events), "roundtrip"))
        .expect("ingest");
    assert_eq!(counters.events_in as usize, events.len());
    assert_eq!(counters.events_quarantined, 0);
    assert_eq!(counters.invocation_rows, 1);

    let spans = rows(
        &store,
        "spans",
        &[
            "trace_id",
            "span_id",
            "parent_span_id",
            "name",
            "kind",
            "service",
            "request_id",
            "faas_trigger",
        ],
    );
    assert_eq!(spans.len(), 2, "{spans:?}");
    let get = |row: &HashMap<String, Option<String>>, key: &str| row[key].clone();
    let server = spans
        .iter()
        .find(|s| get(s, "request_id").as_deref() == Some(REQUEST_ID))
        .expect("invocation span");
    let child = spans
        .iter()
        .find(|s| get(s, "name").as_deref() == Some("charge card"))
        .expect("child span");
    assert_eq!(
        get(server, "trace_id").as_deref(),
        Some(TRACE_ID),
        "the trace comes from the invocation's X-Ray context"
    );
    assert_eq!(get(server, "kind").as_deref(), Some("server"));
    assert_eq!(get(server, "service").as_deref(), Some("checkout"));
    assert_eq!(get(server, "faas_trigger").as_deref(), Some("http"));
    assert_eq!(get(child, "trace_id").as_deref(), Some(TRACE_ID));
    assert_eq!(get(child, "parent_span_id"), get(server, "span_id"));

    let logs = rows(
        &store,
        "logs",
        &[
            "message",
            "trace_id",
            "span_id",
            "request_id",
            "service",
            "format",
            "link",
            "level",
        ],
    );
    let log = |needle: &str| {
        logs.iter()
            .find(|l| get(l, "message").is_some_and(|m| m.contains(needle)))
            .unwrap_or_else(|| panic!("no log {needle}"))
    };
    let received = log("received order");
    assert_eq!(get(received, "format").as_deref(), Some("tracelake"));
    assert_eq!(get(received, "trace_id").as_deref(), Some(TRACE_ID));
    assert_eq!(get(received, "link").as_deref(), Some("trace_id"));
    assert_eq!(get(received, "span_id"), get(server, "span_id"));
    assert_eq!(get(received, "request_id").as_deref(), Some(REQUEST_ID));
    let declined = log("card declined once");
    assert_eq!(get(declined, "span_id"), get(child, "span_id"));
    assert_eq!(get(declined, "level").as_deref(), Some("WARN"));
    let printed = log("printed without tracing");
    assert_eq!(get(printed, "trace_id").as_deref(), Some(TRACE_ID));
    assert_eq!(get(printed, "link").as_deref(), Some("stream"));
    assert_eq!(get(printed, "service").as_deref(), Some("checkout"));
    let report = log("REPORT RequestId");
    assert_eq!(get(report, "link").as_deref(), Some("request_id"));
    assert!(
        logs.iter()
            .all(|l| get(l, "trace_id").as_deref() == Some(TRACE_ID)),
        "every line of the invocation is linked"
    );
}

#[test]
fn handler_output_becomes_index_rows_with_otlp_json_spans() {
    round_trip(SpanFormat::OtlpJson);
}

#[test]
fn handler_output_becomes_index_rows_with_compact_spans() {
    round_trip(SpanFormat::Compact);
}
