//! How `tracelake query` prints: aligned tables whose cells are formatted by
//! what their column holds, JSON, and the trace waterfall.

use serde_json::Value;
use tracelake_dashboards::query::TraceDetail;
use tracelake_dashboards::query::params::format_timestamp;
use tracelake_index::rows::StatusCode;

/// Writes to stdout; a closed pipe (`| head`) ends the output quietly.
pub(super) fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(error).context("cannot write to stdout"))
        }
        _ => Ok(()),
    }
}

pub(super) fn print_json(value: &Value) -> anyhow::Result<()> {
    emit(&format!("{}\n", serde_json::to_string_pretty(value)?))
}

fn format_time(ns: i64) -> String {
    format_timestamp(ns)
}

fn format_duration(ns: f64) -> String {
    if ns < 1e6 {
        format!("{:.1}µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.1}ms", ns / 1e6)
    } else {
        format!("{:.2}s", ns / 1e9)
    }
}

/// One cell, formatted by what its column holds.
fn cell(key: &str, value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(text) => text.replace(['\n', '\r'], " "),
        Value::Number(number) => {
            let as_float = number.as_f64().unwrap_or(0.0);
            if key.ends_with("_ns") {
                format_duration(as_float)
            } else if key == "timestamp" || key == "bucket" || key.ends_with("_start") {
                format_time(number.as_i64().unwrap_or(0))
            } else if key == "error_rate"
                || key == "cold_start_rate"
                || key == "linked_share"
                || key == "gap"
            {
                format!("{:.1}%", as_float * 100.0)
            } else if key == "cost_usd" {
                format!("{as_float:.6}")
            } else if number.is_f64() {
                format!("{as_float:.3}")
            } else {
                number.to_string()
            }
        }
        other => other.to_string(),
    }
}

/// Prints rows as JSON or as an aligned table of the given columns.
pub(super) fn output(json: bool, rows: Value, columns: &[(&str, &str)]) -> anyhow::Result<()> {
    if json {
        return print_json(&rows);
    }
    let values: Vec<Value> = match rows {
        Value::Array(values) => values,
        other => vec![other],
    };
    let cells: Vec<Vec<String>> = values
        .iter()
        .map(|row| {
            columns
                .iter()
                .map(|(_, key)| cell(key, &row[*key]))
                .collect()
        })
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(index, (title, _))| {
            cells
                .iter()
                .map(|row| row[index].chars().count())
                .chain([title.len()])
                .max()
                .unwrap_or(0)
                .min(100)
        })
        .collect();
    let line = |texts: Vec<String>| {
        texts
            .iter()
            .zip(&widths)
            .map(|(text, width)| {
                let shown: String = text.chars().take(*width).collect();
                format!("{shown:<width$}")
            })
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let titles = columns
        .iter()
        .map(|(title, _)| (*title).to_owned())
        .collect();
    let mut text = line(titles);
    text.push('\n');
    for row in cells {
        text.push_str(&line(row));
        text.push('\n');
    }
    text.push_str(&format!("({} rows)\n", values.len()));
    emit(&text)
}

/// The trace as an indented waterfall, logs under their spans, then invocations.
pub(super) fn trace_text(trace: &TraceDetail) -> String {
    use std::fmt::Write;
    let mut text = String::new();
    let _ = writeln!(
        text,
        "trace {}  start {}  duration {}  spans {}  errors {}  services {}  cost ${:.8}",
        trace.trace_id,
        trace.start_time.map(format_time).unwrap_or_default(),
        format_duration(trace.duration_ns as f64),
        trace.span_count,
        trace.error_count,
        trace.services.len(),
        trace.cost_usd
    );
    let start = trace.start_time.unwrap_or(0);
    for node in &trace.spans {
        let span = &node.span;
        let _ = writeln!(
            text,
            "{:>9} {:>9}  {}{} {}{}{}",
            format!(
                "+{}",
                format_duration(span.start_time.unwrap_or(start).saturating_sub(start) as f64)
            ),
            format_duration(span.duration_ns.unwrap_or(0) as f64),
            "  ".repeat(node.depth),
            span.service.as_deref().unwrap_or("?"),
            span.name.as_deref().unwrap_or(""),
            if span.status_code == Some(StatusCode::Error) {
                "  [error]"
            } else {
                ""
            },
            if node.synthetic {
                "  [no span: drawn from its invocation]"
            } else {
                ""
            }
        );
        if let Some(note) = &node.note {
            let _ = writeln!(
                text,
                "{:>20}  {}  note: {}",
                "",
                "  ".repeat(node.depth),
                note.replace(['\n', '\r'], " ")
            );
        }
        for log in &node.logs {
            let _ = writeln!(
                text,
                "{:>20}  {}  | {:<5} {}",
                "",
                "  ".repeat(node.depth),
                log.level.map_or("-", |level| level.as_str()),
                log.readable_message()
                    .unwrap_or("")
                    .replace(['\n', '\r'], " ")
            );
        }
    }
    for log in &trace.unattached_logs {
        let _ = writeln!(
            text,
            "(no span) {:<5} {}",
            log.level.map_or("-", |level| level.as_str()),
            log.readable_message()
                .unwrap_or("")
                .replace(['\n', '\r'], " ")
        );
    }
    text.push_str("\ninvocations:\n");
    for invocation in &trace.invocations {
        // How it ended, as the REPORT says (`-` when no REPORT was seen), with
        // the error type of a failed one, as the waterfall's bar marks it.
        let status = match (invocation.status, invocation.error_type.as_deref()) {
            (Some(status), Some(error_type)) => format!("{} ({error_type})", status.as_str()),
            (Some(status), None) => status.as_str().to_owned(),
            (None, _) => "-".to_owned(),
        };
        let _ = writeln!(
            text,
            "  {:<30} {:<38} billed {:>6} ms × {:>5} MB  {}  {}  ${:.8}",
            invocation.function.as_deref().unwrap_or("?"),
            invocation.request_id.as_deref().unwrap_or("?"),
            invocation.billed_duration_ms.unwrap_or(0),
            invocation.memory_size_mb.unwrap_or(0),
            if invocation.cold_start == Some(true) {
                "cold"
            } else {
                "warm"
            },
            status,
            invocation.cost_usd
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use tracelake_dashboards::query::{LogLine, Span, SpanNode};

    use super::*;

    /// A drawn invocation prints its "no span" mark and its note, each listed
    /// invocation how it ended (with a failure's error type), and a JSON
    /// platform record under it prints as the text the trace view made of it
    /// (what the web UI shows), not as raw JSON.
    #[test]
    fn a_drawn_invocation_prints_its_note_and_platform_records_as_text() {
        let raw = r#"{"time":"2026-11-29T00:00:01.000Z","type":"platform.report","record":{"requestId":"r-1","metrics":{"durationMs":12.5}}}"#;
        let readable = "REPORT RequestId: r-1 Duration: 12.5 ms";
        let line = |message: &str, text: Option<&str>| -> LogLine {
            let mut line: LogLine = serde_json::from_value(json!({
                "timestamp": 1_795_910_401_000_000_000_i64,
                "request_id": "r-1",
                "message": message,
                "format": "lambda_platform_json",
            }))
            .expect("a log line");
            line.text = text.map(str::to_owned);
            line
        };
        let span: Span = serde_json::from_value(json!({
            "trace_id": "0123456789abcdef0123456789abcdef",
            "span_id": "89abcdef01234567",
            "name": "orders-worker",
            "service": "orders-worker",
            "start_time": 1_795_910_401_000_000_000_i64,
            "duration_ns": 12_500_000,
        }))
        .expect("a span");
        let note = "no Parent= in its platform lines: drawn at the root";
        let trace = TraceDetail {
            trace_id: span.trace_id.clone(),
            start_time: span.start_time,
            end_time: None,
            duration_ns: 12_500_000,
            span_count: 0,
            error_count: 0,
            services: vec!["orders-worker".to_owned()],
            synthetic_count: 1,
            spans: vec![SpanNode {
                span,
                depth: 0,
                children: Vec::new(),
                logs: vec![line(raw, Some(readable)), line("plain words", None)],
                synthetic: true,
                note: Some(note.to_owned()),
                invocation_status: None,
            }],
            unattached_logs: vec![line(raw, Some(readable))],
            invocations: vec![
                serde_json::from_value(json!({
                    "request_id": "2f0c-timeout",
                    "function": "orders-worker",
                    "billed_duration_ms": 3000,
                    "memory_size_mb": 128,
                    "cold_start": true,
                    "status": "timeout",
                    "error_type": "Sandbox.Timedout",
                }))
                .expect("an invocation"),
                serde_json::from_value(json!({
                    "request_id": "9a1d-success",
                    "function": "orders-worker",
                    "status": "success",
                }))
                .expect("an invocation"),
                serde_json::from_value(json!({"request_id": "7e4b-no-report"}))
                    .expect("an invocation"),
            ],
            cost_usd: 0.0,
        };
        let text = trace_text(&trace);
        let invocation_line = |request_id: &str| {
            text.lines()
                .find(|line| line.contains(request_id))
                .unwrap_or_else(|| panic!("{request_id} listed: {text}"))
                .to_owned()
        };
        assert!(
            invocation_line("2f0c-timeout").contains(" cold  timeout (Sandbox.Timedout)  $"),
            "{text}"
        );
        assert!(
            invocation_line("9a1d-success").contains(" warm  success  $"),
            "{text}"
        );
        assert!(
            invocation_line("7e4b-no-report").contains(" warm  -  $"),
            "{text}"
        );
        assert!(
            text.contains("orders-worker orders-worker  [no span: drawn from its invocation]"),
            "{text}"
        );
        assert!(text.contains(&format!("note: {note}")), "{text}");
        assert_eq!(text.matches(readable).count(), 2, "{text}");
        assert!(text.contains("plain words"), "{text}");
        assert!(!text.contains("platform.report"), "no raw JSON: {text}");
    }
}
