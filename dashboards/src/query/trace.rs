//! Assembles a trace from its rows: the span tree, logs under their spans,
//! invocations with their cost, and a span for every invocation that wrote
//! none (see [`invocation_spans`]).

use std::collections::{BTreeSet, HashMap, HashSet};

use tracelake_index::rows::{InvocationStatus, StatusCode};

use super::model::{Invocation, LogLine, Span, SpanNode, TraceDetail};

mod platform;
mod synthetic;

pub(super) use platform::{readable_platform_record, readable_platform_text};
pub(crate) use synthetic::SYNTHETIC_ATTRIBUTE;
pub(super) use synthetic::invocation_spans;

/// Builds the trace view; `None` when there are no spans, logs or invocations.
/// A trace without written spans (logs and invocations only) opens like any
/// other: each invocation is drawn as a span of its function with its lines
/// under it (see [`invocation_spans`]); its times come from its invocations
/// and logs, its services from its drawn invocations (the service each one's
/// lines name), undrawn invocations' functions and its other lines.
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
    // A delivery ingested twice under other segment names (a retry batched
    // differently) indexes its lines twice until compaction dedupes them on
    // their natural key; keep the first copy.
    let mut seen_lines = HashSet::new();
    let mut logs: Vec<LogLine> = logs
        .into_iter()
        .filter(
            |log| match (&log.log_group, &log.log_stream, &log.event_id) {
                (Some(group), Some(stream), Some(event)) => {
                    seen_lines.insert((group.clone(), stream.clone(), event.clone()))
                }
                _ => true,
            },
        )
        .collect();
    for log in &mut logs {
        log.text = readable_platform_record(log);
    }
    // Counted over the spans the services wrote, before invocations are drawn.
    let services: BTreeSet<String> = spans
        .iter()
        .filter_map(|span| span.service.clone())
        .collect();
    let span_count = spans.len();
    let drawn = invocation_spans(trace_id, &spans, &logs, &invocations);
    let error_count = spans
        .iter()
        .filter(|span| span.status_code == Some(StatusCode::Error))
        .count()
        + failed_drawn_count(&drawn);
    let synthetic_count = drawn.len();
    // For a trace without written spans: the services its bars name.
    let drawn_services: Vec<String> = drawn
        .iter()
        .filter_map(|(span, _)| span.service.clone())
        .collect();
    let drawn_requests: HashSet<String> = drawn
        .iter()
        .filter_map(|(span, _)| span.request_id.clone())
        .collect();
    let mut notes: HashMap<String, Option<String>> = HashMap::new();
    let mut spans = spans;
    for (span, note) in drawn {
        notes.insert(span.span_id.clone(), note);
        spans.push(span);
    }
    let status_of_request: HashMap<String, InvocationStatus> = invocations
        .iter()
        .filter_map(|i| Some((i.request_id.clone()?, i.status?)))
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

    // The trace's invocations by log group and stream, for the lines linked
    // by their stream position.
    let mut invocations_on_stream: HashMap<(&str, &str), Vec<&Invocation>> = HashMap::new();
    for invocation in &invocations {
        if let (Some(group), Some(stream)) = (&invocation.log_group, &invocation.log_stream) {
            invocations_on_stream
                .entry((group.as_str(), stream.as_str()))
                .or_default()
                .push(invocation);
        }
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
                .or_else(|| request_running_at(&log, &invocations_on_stream))
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
            drawn_services
                .into_iter()
                .chain(
                    invocations
                        .iter()
                        .filter(|invocation| {
                            invocation
                                .request_id
                                .as_ref()
                                .is_none_or(|request| !drawn_requests.contains(request))
                        })
                        .filter_map(|invocation| invocation.function.clone()),
                )
                .chain(unattached_logs.iter().filter_map(|log| log.service.clone())),
        );
    }
    let node_count = spans.len();
    let entry_spans: HashMap<usize, InvocationStatus> = entry_span_of_request
        .iter()
        .filter_map(|(request, &index)| Some((index, *status_of_request.get(*request)?)))
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
                invocation_status: entry_spans.get(&index).copied(),
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

/// How many of the drawn invocations failed (their REPORT status `error` or
/// `timeout`, which [`invocation_spans`] marks as status error on the bar):
/// what a trace's `error_count` adds to its written error spans, in the trace
/// view and in both searches, as X-Ray counts a fault on any segment of the
/// trace.
pub(super) fn failed_drawn_count(drawn: &[(Span, Option<String>)]) -> usize {
    drawn
        .iter()
        .filter(|(span, _)| span.status_code == Some(StatusCode::Error))
        .count()
}

/// The request that ran on a line's log stream when it was written: the one
/// invocation of the trace on that stream whose START..REPORT holds the
/// line's time ([`Invocation::start_or_estimate`], as its bar is drawn), for a
/// line linked by its stream position, which names no request itself (plain
/// `print` output). `None` when none or several do.
fn request_running_at<'a>(
    log: &LogLine,
    invocations_on_stream: &HashMap<(&str, &str), Vec<&'a Invocation>>,
) -> Option<&'a str> {
    let key = (log.log_group.as_deref()?, log.log_stream.as_deref()?);
    let at = log.timestamp?;
    let mut running = invocations_on_stream
        .get(&key)?
        .iter()
        .filter_map(|invocation| {
            let (start, end) = (invocation.start_or_estimate()?, invocation.end_time?);
            (start <= at && at <= end).then_some(invocation.request_id.as_deref()?)
        });
    let request = running.next()?;
    running.next().is_none().then_some(request)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use tracelake_index::rows::Link;

    use super::synthetic::{XrayContext, xray_context};
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
            xray_context(&log(START, "lambda_platform_json")),
            Some(XrayContext {
                segment: Some("54565fb41ac79632".to_owned()),
                parent: Some("53995c3f42cd8ad8".to_owned()),
            })
        );
        // A report without `tracing` names nothing.
        assert_eq!(xray_context(&log(REPORT, "lambda_platform_json")), None);
    }

    // Text REPORT lines of /work/shared/fixtures/cloudwatch/07_lambda_platform_text.jsonl.
    const TEXT_REPORT_XRAY: &str = "REPORT RequestId: f08bb4c8-d6b2-4f05-ac17-af7e2ba005fb\tDuration: 619.31 ms\tBilled Duration: 700 ms\tMemory Size: 128 MB\tMax Memory Used: 118 MB\t\nXRAY TraceId: 1-5e61292c-cc1229a4dfbeae1043928548\tSegmentId: 07a85e713f6302b2\tSampled: true\t\n";
    const TEXT_REPORT_DOCS: &str = "REPORT RequestId: c793869b-ee49-115b-a5b6-4fd21e8dedac\tDuration: 128.83 ms\tBilled Duration: 200 ms\tMemory Size: 128 MB\tMax Memory Used: 74 MB\tInit Duration: 166.62 ms\tXRAY TraceId: 1-5d9d007f-0a8c7fd02xmpl480aed55ef0\tSegmentId: 3d752xmpl1bbe37e\tSampled: true";

    #[test]
    fn text_report_names_its_segment() {
        assert_eq!(
            xray_context(&log(TEXT_REPORT_XRAY, "lambda_platform_text")),
            Some(XrayContext {
                segment: Some("07a85e713f6302b2".to_owned()),
                parent: None,
            })
        );
        // AWS's documented example has placeholder ids that are not hex.
        assert_eq!(
            xray_context(&log(TEXT_REPORT_DOCS, "lambda_platform_text")),
            None
        );
        // Only a platform REPORT line: an app line quoting one names nothing.
        assert_eq!(xray_context(&log(TEXT_REPORT_XRAY, "node_text")), None);
        assert_eq!(
            xray_context(&log(
                "START RequestId: f08bb4c8-d6b2-4f05-ac17-af7e2ba005fb Version: $LATEST",
                "lambda_platform_text"
            )),
            None
        );
    }

    #[test]
    fn json_report_names_its_segment() {
        // A platform.report with `tracing`, as the Telemetry API documents it.
        let report = r#"{"time":"2024-01-01T00:00:01.000Z","type":"platform.report","record":{"requestId":"6f7f0961-0000-4000-8000-000000000001","metrics":{"durationMs":1.5,"billedDurationMs":2,"memorySizeMB":128,"maxMemoryUsedMB":61},"tracing":{"spanId":"54565fb41ac79632","type":"X-Amzn-Trace-Id","value":"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"},"status":"success"}}"#;
        assert_eq!(
            xray_context(&log(report, "lambda_platform_json")),
            Some(XrayContext {
                segment: Some("54565fb41ac79632".to_owned()),
                parent: Some("53995c3f42cd8ad8".to_owned()),
            })
        );
    }

    fn invocation(request: &str, stream: &str, start_ns: Option<i64>, end_ns: i64) -> Invocation {
        Invocation {
            request_id: Some(request.to_owned()),
            function: Some("billing".to_owned()),
            function_version: None,
            log_group: Some("/aws/lambda/billing".to_owned()),
            log_stream: Some(stream.to_owned()),
            start_time: start_ns,
            end_time: Some(end_ns),
            duration_ms: Some(2.0),
            billed_duration_ms: Some(2),
            memory_size_mb: Some(128),
            max_memory_used_mb: Some(40),
            init_duration_ms: None,
            cold_start: Some(false),
            status: Some(InvocationStatus::Success),
            error_type: None,
            trace_id: Some("5759e988bd862e3fe1be46a994272793".to_owned()),
            sampled: Some(true),
            cost_usd: 0.0,
        }
    }

    fn line_on(stream: &str, event_id: &str, at_ns: i64) -> LogLine {
        LogLine {
            timestamp: Some(at_ns),
            log_group: Some("/aws/lambda/billing".to_owned()),
            log_stream: Some(stream.to_owned()),
            event_id: Some(event_id.to_owned()),
            link: Some(Link::Stream),
            ..log("charging card", "plain")
        }
    }

    /// Lines linked by their stream position name no request: each goes under
    /// the invocation that ran on its stream at its time (START..REPORT, or the
    /// REPORT's duration back from its end without a START), and a line no
    /// invocation's time holds stays unattached.
    #[test]
    fn a_stream_linked_line_goes_under_the_invocation_running_on_its_stream() {
        const MS: i64 = 1_000_000;
        let invocations = vec![
            invocation("req-a", "stream-1", Some(10 * MS), 12 * MS),
            invocation("req-b", "stream-1", None, 22 * MS),
            invocation("req-c", "stream-2", Some(10 * MS), 12 * MS),
        ];
        let logs = vec![
            line_on("stream-1", "1", 11 * MS),
            line_on("stream-1", "2", 21 * MS),
            line_on("stream-1", "3", 15 * MS),
        ];
        let trace = assemble(
            "5759e988bd862e3fe1be46a994272793",
            vec![],
            logs,
            invocations,
            0.0,
        )
        .expect("a trace");
        let under = |request: &str| -> Vec<String> {
            trace
                .spans
                .iter()
                .find(|node| node.span.request_id.as_deref() == Some(request))
                .unwrap_or_else(|| panic!("a bar for {request}"))
                .logs
                .iter()
                .filter_map(|log| log.event_id.clone())
                .collect()
        };
        assert_eq!(under("req-a"), ["1"]);
        assert_eq!(under("req-b"), ["2"]);
        assert!(under("req-c").is_empty(), "another stream's invocation");
        let unattached: Vec<_> = trace
            .unattached_logs
            .iter()
            .filter_map(|log| log.event_id.as_deref())
            .collect();
        assert_eq!(unattached, ["3"]);
    }

    /// The same line indexed twice (a delivery ingested again under other
    /// segment names, before compaction dedupes it) is shown once.
    #[test]
    fn a_line_indexed_twice_is_shown_once() {
        const MS: i64 = 1_000_000;
        let invocations = vec![invocation("req-a", "stream-1", Some(10 * MS), 12 * MS)];
        let line = line_on("stream-1", "1", 11 * MS);
        let trace = assemble(
            "5759e988bd862e3fe1be46a994272793",
            vec![],
            vec![line.clone(), line],
            invocations,
            0.0,
        )
        .expect("a trace");
        let shown: usize = trace
            .spans
            .iter()
            .map(|node| node.logs.len())
            .sum::<usize>()
            + trace.unattached_logs.len();
        assert_eq!(shown, 1);
    }
}
