//! The output of real libraries, captured by `tests/fixtures/real/generate.sh`
//! and wrapped in the payload Lambda would deliver. Expected values come from
//! the libraries' own view (`*.expected.json`: the handler's request id, the
//! invocation's X-Ray trace, each log call, the spans an in-memory exporter
//! saw), never from our parser.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;
use tracelake_collector::correlate::CorrelatedBatch;
use tracelake_collector::decode::{DecodeLimits, Payload, decode_input};
use tracelake_collector::index::rows::LogRow;
use tracelake_collector::pipeline::parse_and_correlate as correlate;
use tracelake_instrumentation::wire::ids::TraceId;

fn real_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real")
}

/// The payload and the expectations of one case.
fn case(name: &str) -> (CorrelatedBatch, Value, usize) {
    let payload = std::fs::read(real_dir().join(format!("{name}.payload.json")))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let expected: Value = serde_json::from_slice(
        &std::fs::read(real_dir().join(format!("{name}.expected.json"))).expect("expected"),
    )
    .expect("expected json");
    let mut payloads = decode_input(&payload, &DecodeLimits::default());
    assert_eq!(payloads.len(), 1, "{name}");
    let Ok(Payload::Data(batch)) = payloads.remove(0) else {
        panic!("{name}: not a DATA_MESSAGE")
    };
    let events = batch.events_in();
    let out = correlate(batch, &DecodeLimits::default());
    assert!(out.quarantined.is_empty(), "{name}: {:?}", out.quarantined);
    assert_eq!(out.events_indexed as usize, events, "{name}");
    (out, expected, events)
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {value}"))
}

fn xray_as_w3c(expected: &Value) -> String {
    TraceId::parse(text(expected, "xray_trace_id"))
        .expect("the library's X-Ray id")
        .to_string()
}

/// The application rows (not the platform's), in delivery order.
fn app_rows(out: &CorrelatedBatch) -> Vec<&LogRow> {
    out.logs
        .iter()
        .filter(|row| !row.format.starts_with("lambda_platform"))
        .collect()
}

fn level(row: &LogRow) -> Option<String> {
    row.level.map(|level| level.to_string())
}

fn link(row: &LogRow) -> Option<String> {
    row.link.map(|link| link.to_string())
}

/// Each log call of the library, in order: its level, its message (when it was
/// text), the request id and the trace the library put on it.
fn assert_records(name: &str, out: &CorrelatedBatch, expected: &Value, trace: &str, how: &[&str]) {
    let rows = app_rows(out);
    let records = expected["records"].as_array().expect("records");
    assert_eq!(rows.len(), records.len(), "{name}: {rows:#?}");
    for (row, record) in rows.iter().zip(records) {
        assert_eq!(
            level(row).as_deref(),
            record["level"].as_str(),
            "{name}: {row:?}"
        );
        if let Some(message) = record["message"].as_str() {
            assert!(
                row.message.contains(message),
                "{name}: {:?} lacks {message:?}",
                row.message
            );
        }
        assert_eq!(
            row.trace_id.map(|id| id.to_string()).as_deref(),
            Some(trace),
            "{name}: {row:?}"
        );
        assert!(
            link(row).is_some_and(|link| how.contains(&link.as_str())),
            "{name}: link {:?} of {row:?}",
            row.link
        );
    }
}

#[test]
fn python_powertools_logger() {
    let (out, expected, _) = case("python_powertools");
    let trace = xray_as_w3c(&expected);
    assert_records("powertools", &out, &expected, &trace, &["trace_id"]);
    for row in app_rows(&out) {
        assert_eq!(row.format, "powertools");
        assert_eq!(
            row.request_id.as_deref(),
            Some(text(&expected, "request_id"))
        );
        assert_eq!(row.service.as_deref(), Some(text(&expected, "service")));
    }
    let structured = app_rows(&out)[1];
    assert!(
        structured.message.contains("ch_AZFlk2345C0"),
        "{}",
        structured.message
    );
}

#[test]
fn python_runtime_text_format_of_awslambdaric() {
    let (out, expected, _) = case("python_awslambdaric_text");
    let trace = xray_as_w3c(&expected);
    // The crash record carries no request id: linked by its position in the invocation.
    assert_records(
        "awslambdaric text",
        &out,
        &expected,
        &trace,
        &["request_id", "stream"],
    );
    let rows = app_rows(&out);
    for row in &rows[..2] {
        assert_eq!(row.format, "python_text");
        assert_eq!(
            row.request_id.as_deref(),
            Some(text(&expected, "request_id"))
        );
    }
    let crash = rows[2];
    assert!(crash.message.contains(text(&expected, "error_type")));
    assert!(crash.message.contains("Traceback (most recent call last):"));
    assert_eq!(
        out.invocations[0]
            .trace_id
            .map(|id| id.to_string())
            .as_deref(),
        Some(trace.as_str())
    );
}

#[test]
fn python_runtime_json_format_of_awslambdaric() {
    let (out, expected, _) = case("python_awslambdaric_json");
    let trace = xray_as_w3c(&expected);
    assert_records(
        "awslambdaric json",
        &out,
        &expected,
        &trace,
        &["request_id"],
    );
    for row in app_rows(&out) {
        assert_eq!(row.format, "lambda_json");
        assert_eq!(
            row.request_id.as_deref(),
            Some(text(&expected, "request_id"))
        );
    }
    let crash = app_rows(&out)[2];
    assert!(crash.message.starts_with(text(&expected, "error_type")));
    // Whole-second `timestamp`: no app row before its START.
    let start = out
        .logs
        .iter()
        .find(|r| r.message.starts_with("START"))
        .expect("start");
    assert!(
        app_rows(&out)
            .iter()
            .all(|r| r.timestamp_ns >= start.timestamp_ns)
    );
}

#[test]
fn node_powertools_logger() {
    let (out, expected, _) = case("node_powertools_logger");
    let trace = xray_as_w3c(&expected);
    assert_records("powertools ts", &out, &expected, &trace, &["trace_id"]);
    for row in app_rows(&out) {
        assert_eq!(row.format, "powertools");
        assert_eq!(
            row.request_id.as_deref(),
            Some(text(&expected, "request_id"))
        );
        assert_eq!(row.service.as_deref(), Some(text(&expected, "service")));
    }
}

#[test]
fn node_pino_with_opentelemetry_instrumentation() {
    let (out, expected, _) = case("node_pino_otel");
    let otel_trace = text(&expected["records"][0], "trace_id");
    assert_ne!(otel_trace, xray_as_w3c(&expected), "the two traces differ");
    assert_records("pino", &out, &expected, otel_trace, &["trace_id"]);
    for (row, record) in app_rows(&out)
        .iter()
        .zip(expected["records"].as_array().expect("records"))
    {
        assert_eq!(
            row.span_id.map(|id| id.to_string()).as_deref(),
            record["span_id"].as_str()
        );
    }
}

#[test]
fn python_opentelemetry_logging_instrumentation_in_text_lines() {
    let (out, expected, _) = case("python_otel_logging_instrumentation");
    let xray = xray_as_w3c(&expected);
    let rows = app_rows(&out);
    let records = expected["records"].as_array().expect("records");
    assert_eq!(rows.len(), records.len(), "{rows:#?}");
    for (row, record) in rows.iter().zip(records) {
        assert_eq!(level(row).as_deref(), record["level"].as_str(), "{row:?}");
        assert!(row.message.contains(text(record, "message")));
        match record["trace_id"].as_str() {
            // Inside a span: the line names its trace and is linked by it.
            Some(trace) => {
                assert_eq!(
                    row.trace_id.map(|id| id.to_string()).as_deref(),
                    Some(trace),
                    "{row:?}"
                );
                assert_eq!(
                    row.span_id.map(|id| id.to_string()).as_deref(),
                    record["span_id"].as_str()
                );
                assert_eq!(link(row).as_deref(), Some("trace_id"));
            }
            // Outside (trace_id=0): linked by its position in the invocation.
            None => {
                assert_eq!(
                    row.trace_id.map(|id| id.to_string()).as_deref(),
                    Some(xray.as_str()),
                    "{row:?}"
                );
                assert_eq!(link(row).as_deref(), Some("stream"));
            }
        }
    }
}

/// Every span the library's in-memory exporter saw is a `spans` row with the
/// same ids, name and parent; the invocation is linked to the library's trace.
fn assert_spans(name: &str) {
    let (out, expected, _) = case(name);
    let spans = expected["spans"].as_array().expect("spans");
    let want: BTreeSet<(String, String, String, Option<String>)> = spans
        .iter()
        .map(|s| {
            (
                text(s, "trace_id").to_owned(),
                text(s, "span_id").to_owned(),
                text(s, "name").to_owned(),
                s["parent_span_id"].as_str().map(str::to_owned),
            )
        })
        .collect();
    let got: BTreeSet<(String, String, String, Option<String>)> = out
        .spans
        .iter()
        .map(|s| {
            (
                s.trace_id.to_string(),
                s.span_id.to_string(),
                s.name.clone(),
                s.parent_span_id.map(|id| id.to_string()),
            )
        })
        .collect();
    assert_eq!(got, want, "{name}");
    for span in spans {
        let row = out
            .spans
            .iter()
            .find(|row| row.span_id.to_string() == text(span, "span_id"))
            .expect("row");
        assert_eq!(row.service, text(span, "service"), "{name}");
        assert_eq!(
            row.request_id.as_deref(),
            span["request_id"].as_str(),
            "{name}"
        );
        if let Some(cold) = span["cold_start"].as_bool() {
            assert_eq!(row.cold_start, Some(cold), "{name}: {}", row.name);
        }
    }
    let root = spans
        .iter()
        .find(|s| s["request_id"].as_str() == Some(text(&expected, "request_id")))
        .expect("the invocation's span");
    assert_eq!(out.invocations.len(), 1);
    assert_eq!(
        out.invocations[0]
            .trace_id
            .map(|id| id.to_string())
            .as_deref(),
        root["trace_id"].as_str(),
        "{name}: the instrumented trace wins over Lambda's X-Ray context"
    );
}

#[test]
fn python_opentelemetry_sdk_with_the_otlp_json_file_exporter() {
    assert_spans("python_otel_sdk_json_file");
}

#[test]
fn python_otlp_stdout_span_exporter() {
    assert_spans("python_otlp_stdout_span_exporter");
}

#[test]
fn python_lambda_otel_lite() {
    assert_spans("python_lambda_otel_lite");
}

#[test]
fn every_real_fixture_is_tested_here() {
    let source = include_str!("real.rs");
    for entry in std::fs::read_dir(real_dir()).expect("real fixtures") {
        let name = entry
            .expect("entry")
            .file_name()
            .into_string()
            .expect("utf-8");
        if let Some(case) = name.strip_suffix(".payload.json") {
            assert!(
                source.contains(&format!("\"{case}\"")),
                "{case} has no test"
            );
        }
    }
}
