//! Assembles a trace from its rows: the span tree, logs under their spans,
//! invocations with their cost, and a span for every invocation that wrote
//! none (see [`invocation_spans`]).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::Value;

use super::model::{Invocation, LogLine, Span, SpanNode, TraceDetail};

/// Builds the trace view; `None` when there are no spans, logs or invocations.
/// A trace without written spans (logs and invocations only) opens like any
/// other: each invocation is drawn as a span of its function with its lines
/// under it (see [`invocation_spans`]); its times and services come from its
/// invocations and logs.
pub(super) fn assemble(
    trace_id: &str,
    spans: Vec<Span>,
    logs: Vec<LogLine>,
    mut invocations: Vec<Invocation>,
    price_per_gb_second: f64,
) -> Option<TraceDetail> {
    // At-least-once delivery can index a span twice; keep the first copy.
    let mut seen = HashSet::new();
    let spans: Vec<Span> = spans
        .into_iter()
        .filter(|span| seen.insert(span.span_id.clone()))
        .collect();
    if spans.is_empty() && logs.is_empty() && invocations.is_empty() {
        return None;
    }
    let mut logs = logs;
    for log in &mut logs {
        log.text = readable_platform_record(log);
    }
    // Counted over the spans the services wrote, before invocations are drawn.
    let services: BTreeSet<String> = spans
        .iter()
        .filter_map(|span| span.service.clone())
        .collect();
    let error_count = spans.iter().filter(|span| span.is_error()).count();
    let span_count = spans.len();
    let drawn = invocation_spans(trace_id, &spans, &logs, &invocations);
    let synthetic_count = drawn.len();
    let mut notes: HashMap<String, Option<String>> = HashMap::new();
    let mut spans = spans;
    for (span, note) in drawn {
        notes.insert(span.span_id.clone(), note);
        spans.push(span);
    }
    let status_of_request: HashMap<String, String> = invocations
        .iter()
        .filter_map(|i| Some((i.request_id.clone()?, i.status.clone()?)))
        .collect();

    let index_of: HashMap<&str, usize> = spans
        .iter()
        .enumerate()
        .map(|(index, span)| (span.span_id.as_str(), index))
        .collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); spans.len()];
    let mut roots = Vec::new();
    for (index, span) in spans.iter().enumerate() {
        match span
            .parent_span_id
            .as_deref()
            .and_then(|parent| index_of.get(parent))
        {
            Some(&parent) if parent != index => children[parent].push(index),
            // A root, or an orphan whose parent was not found: shown at the top.
            _ => roots.push(index),
        }
    }
    let by_start = |a: &usize, b: &usize| {
        (spans[*a].start_time, &spans[*a].span_id).cmp(&(spans[*b].start_time, &spans[*b].span_id))
    };
    roots.sort_by(by_start);
    for list in &mut children {
        list.sort_by(by_start);
    }

    // The entry span of each invocation: the earliest span of a request whose
    // parent ran in another request (or nowhere).
    let mut entry_span_of_request: HashMap<&str, usize> = HashMap::new();
    for (index, span) in spans.iter().enumerate() {
        let Some(request) = span.request_id.as_deref() else {
            continue;
        };
        let parent_request = span
            .parent_span_id
            .as_deref()
            .and_then(|parent| index_of.get(parent))
            .and_then(|&parent| spans[parent].request_id.as_deref());
        if parent_request == Some(request) {
            continue;
        }
        entry_span_of_request
            .entry(request)
            .and_modify(|current| {
                if spans[index].start_time < spans[*current].start_time {
                    *current = index;
                }
            })
            .or_insert(index);
    }

    let mut logs_of_span: Vec<Vec<LogLine>> = vec![Vec::new(); spans.len()];
    let mut unattached_logs = Vec::new();
    for log in logs {
        let by_span = log
            .span_id
            .as_deref()
            .and_then(|span| index_of.get(span).copied());
        let by_request = || {
            log.request_id
                .as_deref()
                .and_then(|request| entry_span_of_request.get(request).copied())
        };
        match by_span.or_else(by_request) {
            Some(index) => logs_of_span[index].push(log),
            None => unattached_logs.push(log),
        }
    }

    let mut seen_requests = HashSet::new();
    invocations.retain(|invocation| match &invocation.request_id {
        Some(request) => seen_requests.insert(request.clone()),
        None => true,
    });
    let mut cost_usd = 0.0;
    for invocation in &mut invocations {
        invocation.cost_usd = invocation.gb_seconds() * price_per_gb_second;
        cost_usd += invocation.cost_usd;
    }

    // A trace without written spans takes its time span from its invocations
    // and its lines; otherwise the spans (drawn invocations included) give it.
    let (start_time, end_time) = if span_count == 0 {
        let starts = invocations
            .iter()
            .filter_map(|invocation| invocation.start_time.or(invocation.end_time))
            .chain(unattached_logs.iter().filter_map(|log| log.timestamp));
        let ends = invocations
            .iter()
            .filter_map(|invocation| invocation.end_time)
            .chain(unattached_logs.iter().filter_map(|log| log.timestamp));
        (starts.min(), ends.max())
    } else {
        (
            spans.iter().filter_map(|span| span.start_time).min(),
            spans.iter().filter_map(|span| span.end_time).max(),
        )
    };
    let mut services = services;
    if services.is_empty() {
        services.extend(
            invocations
                .iter()
                .filter_map(|invocation| invocation.function.clone())
                .chain(unattached_logs.iter().filter_map(|log| log.service.clone())),
        );
    }
    let node_count = spans.len();
    let entry_spans: HashMap<usize, String> = entry_span_of_request
        .iter()
        .filter_map(|(request, &index)| Some((index, status_of_request.get(*request)?.clone())))
        .collect();

    // Depth-first order, iteratively so that a deep trace cannot overflow the stack.
    let mut order = Vec::with_capacity(node_count);
    let mut stack: Vec<(usize, usize)> = roots.iter().rev().map(|&root| (root, 0)).collect();
    let mut visited = vec![false; node_count];
    while let Some((index, depth)) = stack.pop() {
        if std::mem::replace(&mut visited[index], true) {
            continue;
        }
        order.push((index, depth));
        for &child in children[index].iter().rev() {
            stack.push((child, depth + 1));
        }
    }
    // Spans in a parent cycle are never reached from a root; show them at the top.
    for (index, seen) in visited.iter().enumerate() {
        if !seen {
            order.push((index, 0));
        }
    }

    let child_ids: Vec<Vec<String>> = children
        .iter()
        .map(|list| {
            list.iter()
                .map(|&child| spans[child].span_id.clone())
                .collect()
        })
        .collect();
    let mut slots: Vec<Option<Span>> = spans.into_iter().map(Some).collect();
    let mut nodes = Vec::with_capacity(node_count);
    for (index, depth) in order {
        if let Some(span) = slots[index].take() {
            let drawn = notes.remove(&span.span_id);
            nodes.push(SpanNode {
                depth,
                children: child_ids[index].clone(),
                logs: std::mem::take(&mut logs_of_span[index]),
                synthetic: drawn.is_some(),
                note: drawn.flatten(),
                invocation_status: entry_spans.get(&index).cloned(),
                span,
            });
        }
    }

    Some(TraceDetail {
        trace_id: trace_id.to_owned(),
        start_time,
        end_time,
        duration_ns: match (start_time, end_time) {
            (Some(start), Some(end)) => end.saturating_sub(start),
            _ => 0,
        },
        span_count,
        error_count,
        services: services.into_iter().collect(),
        synthetic_count,
        spans: nodes,
        unattached_logs,
        invocations,
        cost_usd,
    })
}

/// The attribute that marks a span drawn for an invocation that wrote none.
pub const SYNTHETIC_ATTRIBUTE: &str = "tracelake.synthetic";

/// Where an invocation's `platform.start` says it sits in X-Ray: its own
/// segment id (`tracing.spanId`) and the `Parent=` of its trace header.
#[derive(Debug, Default, PartialEq)]
struct StartContext {
    segment: Option<String>,
    parent: Option<String>,
}

fn span_id_text(text: &str) -> Option<String> {
    let text = text.trim();
    (text.len() == 16 && text.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| text.to_ascii_lowercase())
}

/// The X-Ray context of a JSON `platform.start` record; `None` for other lines.
fn start_context(log: &LogLine) -> Option<StartContext> {
    if log.format.as_deref() != Some("lambda_platform_json") {
        return None;
    }
    let record: Value = serde_json::from_str(log.message.as_deref()?).ok()?;
    if record.get("type")?.as_str()? != "platform.start" {
        return None;
    }
    let tracing = record.get("record")?.get("tracing");
    let header = tracing
        .and_then(|t| t.get("value"))
        .and_then(Value::as_str)
        .unwrap_or("");
    Some(StartContext {
        segment: tracing
            .and_then(|t| t.get("spanId"))
            .and_then(Value::as_str)
            .and_then(span_id_text),
        parent: header
            .split(';')
            .find_map(|part| part.trim().strip_prefix("Parent="))
            .and_then(span_id_text),
    })
}

/// A stable 16-hex-digit id for an invocation without an X-Ray segment id
/// (FNV-1a of its request id), so that the same trace draws the same ids.
fn request_span_id(request_id: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in request_id.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// Spans for the invocations of a trace that wrote no span of their own: an
/// uninstrumented function linked to the trace by X-Ray, its request id or its
/// stream. Each is drawn as a `server` span of its function over the time of
/// its `invocations` row (else of its lines), with its cold start, timeout or
/// error, and gets a note when where it hangs is not known.
///
/// It hangs under the span that its `platform.start` header names as `Parent=`
/// when that span is in the trace. Its own id is its X-Ray segment id, so that
/// spans of instrumented services it called (whose parent is that segment)
/// hang under it. Otherwise it sits at the root with a note.
pub(super) fn invocation_spans(
    trace_id: &str,
    spans: &[Span],
    logs: &[LogLine],
    invocations: &[Invocation],
) -> Vec<(Span, Option<String>)> {
    let span_ids: HashSet<&str> = spans.iter().map(|span| span.span_id.as_str()).collect();
    let with_spans: HashSet<&str> = spans
        .iter()
        .filter_map(|span| span.request_id.as_deref())
        .collect();
    let mut lines_of: BTreeMap<&str, Vec<&LogLine>> = BTreeMap::new();
    for log in logs {
        if let Some(request) = log.request_id.as_deref()
            && !with_spans.contains(request)
        {
            lines_of.entry(request).or_default().push(log);
        }
    }
    let mut rows_of: BTreeMap<&str, &Invocation> = BTreeMap::new();
    for invocation in invocations {
        if let Some(request) = invocation.request_id.as_deref()
            && !with_spans.contains(request)
        {
            rows_of.entry(request).or_insert(invocation);
        }
    }
    let requests: BTreeSet<&str> = lines_of.keys().chain(rows_of.keys()).copied().collect();

    let mut taken: HashSet<String> = span_ids.iter().map(|id| (*id).to_owned()).collect();
    let mut drawn = Vec::new();
    for request in requests {
        let lines = lines_of.get(request).map(Vec::as_slice).unwrap_or(&[]);
        let row = rows_of.get(request).copied();
        let first_line = lines.iter().filter_map(|l| l.timestamp).min();
        let last_line = lines.iter().filter_map(|l| l.timestamp).max();
        let end = row.and_then(|r| r.end_time).or(last_line);
        let start = row
            .and_then(|r| {
                r.start_time.or_else(|| {
                    let millis = r.duration_ms?;
                    Some(r.end_time? - (millis * 1e6) as i64)
                })
            })
            .or(first_line);
        let (Some(start), Some(end)) = (start, end) else {
            continue;
        };
        let end = end.max(start);
        let context = lines
            .iter()
            .find_map(|l| start_context(l))
            .unwrap_or_default();
        let parent = context
            .parent
            .clone()
            .filter(|parent| span_ids.contains(parent.as_str()));
        let own_id = [context.segment.clone(), context.parent.clone()]
            .into_iter()
            .flatten()
            .find(|id| !taken.contains(id))
            .unwrap_or_else(|| request_span_id(request));
        taken.insert(own_id.clone());
        let function = row
            .and_then(|r| r.function.clone())
            .or_else(|| {
                lines
                    .iter()
                    .find_map(|l| l.log_group.as_deref()?.strip_prefix("/aws/lambda/"))
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| "unknown function".to_owned());
        let service = lines
            .iter()
            .find_map(|l| l.service.clone())
            .unwrap_or_else(|| function.clone());
        let status = row.and_then(|r| r.status.as_deref());
        let failed = matches!(status, Some("error" | "timeout" | "failure"));
        let status_message = match status {
            Some("timeout") => Some("Task timed out".to_owned()),
            Some("error" | "failure") => row
                .and_then(|r| r.error_type.clone())
                .or_else(|| Some("invocation failed".to_owned())),
            _ => None,
        };
        let cold_start = row.and_then(|r| r.cold_start).or_else(|| {
            lines
                .iter()
                .any(|l| {
                    l.message.as_deref().is_some_and(|m| {
                        m.contains("Init Duration") || m.contains("initDurationMs")
                    })
                })
                .then_some(true)
        });
        let mut attributes = BTreeMap::new();
        attributes.insert(SYNTHETIC_ATTRIBUTE.to_owned(), "invocation".to_owned());
        attributes.insert("faas.invocation_id".to_owned(), request.to_owned());
        // A `Parent=` that is the invocation's own segment says nothing of its caller.
        let foreign_parent = context
            .parent
            .as_deref()
            .is_some_and(|p| Some(p) != context.segment.as_deref() && p != own_id);
        let note = if parent.is_some() {
            None
        } else if foreign_parent {
            Some(
                "no span of this function: drawn from its Lambda platform lines; \
                 its caller (X-Ray Parent) wrote no span in this trace"
                    .to_owned(),
            )
        } else {
            Some(
                "no span of this function: drawn from its Lambda platform lines; \
                 its caller is not known (no X-Ray Parent of another span in platform.start)"
                    .to_owned(),
            )
        };
        drawn.push((
            Span {
                trace_id: trace_id.to_owned(),
                span_id: own_id,
                parent_span_id: parent,
                name: Some(function.clone()),
                kind: Some("server".to_owned()),
                service: Some(service),
                start_time: Some(start),
                end_time: Some(end),
                duration_ns: Some(end - start),
                status_code: Some(if failed { "error" } else { "unset" }.to_owned()),
                status_message,
                request_id: Some(request.to_owned()),
                faas_name: Some(function),
                faas_trigger: None,
                cold_start,
                cloud_region: None,
                cloud_account_id: None,
                attributes,
                resource_attributes: BTreeMap::new(),
                events: Vec::new(),
                links: Vec::new(),
                log_group: row
                    .and_then(|r| r.log_group.clone())
                    .or_else(|| lines.iter().find_map(|l| l.log_group.clone())),
                log_stream: row
                    .and_then(|r| r.log_stream.clone())
                    .or_else(|| lines.iter().find_map(|l| l.log_stream.clone())),
            },
            note,
        ));
    }
    drawn
}

fn number(record: &Value, key: &str) -> Option<String> {
    let value = record.get(key)?;
    value
        .as_f64()
        .map(|n| format!("{n}"))
        .or_else(|| value.as_str().map(str::to_owned))
}

/// A JSON Lambda platform record as the text line Lambda writes in its text
/// format, so that a person reads `REPORT RequestId: … Duration: 12.5 ms` and
/// not a JSON object. `None` for every other line.
pub(super) fn readable_platform_record(log: &LogLine) -> Option<String> {
    readable_platform_text(log.format.as_deref(), log.message.as_deref())
}

/// [`readable_platform_record`] for a line given by its format and message.
pub(super) fn readable_platform_text(
    format: Option<&str>,
    message: Option<&str>,
) -> Option<String> {
    if format != Some("lambda_platform_json") {
        return None;
    }
    let parsed: Value = serde_json::from_str(message?).ok()?;
    let kind = parsed.get("type")?.as_str()?;
    let record = parsed.get("record").cloned().unwrap_or(Value::Null);
    let text = |key: &str| record.get(key).and_then(Value::as_str).unwrap_or("");
    let metrics = record.get("metrics").cloned().unwrap_or(Value::Null);
    let metric = |key: &str| number(&metrics, key);
    let tracing = record
        .get("tracing")
        .and_then(|t| t.get("value"))
        .and_then(Value::as_str)
        .map(|value| format!(" Tracing: {value}"))
        .unwrap_or_default();
    let line = match kind {
        "platform.initStart" => format!(
            "INIT_START Runtime Version: {} Runtime Version ARN: {}",
            text("runtimeVersion"),
            text("runtimeVersionArn")
        ),
        "platform.start" => format!(
            "START RequestId: {} Version: {}{tracing}",
            text("requestId"),
            text("version")
        ),
        "platform.runtimeDone" => {
            let mut line = format!(
                "END RequestId: {} Status: {}",
                text("requestId"),
                text("status")
            );
            if let Some(duration) = metric("durationMs") {
                line.push_str(&format!(" Duration: {duration} ms"));
            }
            line
        }
        "platform.report" => {
            let mut line = format!("REPORT RequestId: {}", text("requestId"));
            for (key, label, unit) in [
                ("durationMs", "Duration", "ms"),
                ("billedDurationMs", "Billed Duration", "ms"),
                ("memorySizeMB", "Memory Size", "MB"),
                ("maxMemoryUsedMB", "Max Memory Used", "MB"),
                ("initDurationMs", "Init Duration", "ms"),
            ] {
                if let Some(value) = metric(key) {
                    line.push_str(&format!(" {label}: {value} {unit}"));
                }
            }
            let status = text("status");
            if !status.is_empty() && status != "success" {
                line.push_str(&format!(" Status: {status}"));
            }
            if let Some(error) = record.get("errorType").and_then(Value::as_str) {
                line.push_str(&format!(" Error Type: {error}"));
            }
            line.push_str(&tracing);
            line
        }
        other => {
            let name = other.strip_prefix("platform.").unwrap_or(other);
            format!("{name} {record}")
        }
    };
    Some(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(message: &str, format: &str) -> LogLine {
        LogLine {
            timestamp: Some(1),
            trace_id: None,
            span_id: None,
            request_id: None,
            service: None,
            level: None,
            message: Some(message.to_owned()),
            attributes: BTreeMap::new(),
            log_group: None,
            log_stream: None,
            event_id: None,
            format: Some(format.to_owned()),
            text: None,
            link: None,
        }
    }

    // The record shapes of the Lambda JSON log format, as AWS documents them.
    const REPORT: &str = r#"{"time":"2024-01-01T00:00:01.000Z","type":"platform.report","record":{"requestId":"6f7f0961-0000-4000-8000-000000000001","metrics":{"durationMs":1.5,"billedDurationMs":2,"memorySizeMB":128,"maxMemoryUsedMB":61,"initDurationMs":210.3},"status":"timeout"}}"#;
    const START: &str = r#"{"time":"2024-01-01T00:00:00.000Z","type":"platform.start","record":{"requestId":"6f7f0961-0000-4000-8000-000000000001","version":"$LATEST","tracing":{"spanId":"54565fb41ac79632","type":"X-Amzn-Trace-Id","value":"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"}}}"#;

    #[test]
    fn json_platform_records_read_as_text() {
        let report = readable_platform_record(&log(REPORT, "lambda_platform_json"));
        assert_eq!(
            report.as_deref(),
            Some(
                "REPORT RequestId: 6f7f0961-0000-4000-8000-000000000001 Duration: 1.5 ms \
                 Billed Duration: 2 ms Memory Size: 128 MB Max Memory Used: 61 MB \
                 Init Duration: 210.3 ms Status: timeout"
            )
        );
        let start = readable_platform_record(&log(START, "lambda_platform_json"));
        assert!(start.is_some_and(|s| s.starts_with(
            "START RequestId: 6f7f0961-0000-4000-8000-000000000001 Version: $LATEST Tracing: Root="
        )));
        assert_eq!(readable_platform_record(&log(REPORT, "plain")), None);
        assert_eq!(
            readable_platform_record(&log("{}", "lambda_platform_json")),
            None
        );
    }

    #[test]
    fn platform_start_names_segment_and_parent() {
        assert_eq!(
            start_context(&log(START, "lambda_platform_json")),
            Some(StartContext {
                segment: Some("54565fb41ac79632".to_owned()),
                parent: Some("53995c3f42cd8ad8".to_owned()),
            })
        );
        assert_eq!(start_context(&log(REPORT, "lambda_platform_json")), None);
    }
}
