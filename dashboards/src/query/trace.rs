//! Assembles a trace from its rows: the span tree, logs under their spans,
//! invocations with their cost.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::model::{Invocation, LogLine, Span, SpanNode, TraceDetail};

/// Builds the trace view; `None` when there are no spans, logs or invocations.
/// A trace without spans (logs and invocations only) has no span nodes: its
/// logs are unattached, and its times and services come from its invocations
/// and logs.
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

    let (start_time, end_time, services) = if spans.is_empty() {
        let starts = invocations
            .iter()
            .filter_map(|invocation| invocation.start_time.or(invocation.end_time))
            .chain(unattached_logs.iter().filter_map(|log| log.timestamp));
        let ends = invocations
            .iter()
            .filter_map(|invocation| invocation.end_time)
            .chain(unattached_logs.iter().filter_map(|log| log.timestamp));
        let services: BTreeSet<String> = invocations
            .iter()
            .filter_map(|invocation| invocation.function.clone())
            .chain(unattached_logs.iter().filter_map(|log| log.service.clone()))
            .collect();
        (starts.min(), ends.max(), services)
    } else {
        (
            spans.iter().filter_map(|span| span.start_time).min(),
            spans.iter().filter_map(|span| span.end_time).max(),
            spans
                .iter()
                .filter_map(|span| span.service.clone())
                .collect(),
        )
    };
    let error_count = spans.iter().filter(|span| span.is_error()).count();
    let span_count = spans.len();

    // Depth-first order, iteratively so that a deep trace cannot overflow the stack.
    let mut order = Vec::with_capacity(span_count);
    let mut stack: Vec<(usize, usize)> = roots.iter().rev().map(|&root| (root, 0)).collect();
    let mut visited = vec![false; span_count];
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
    let mut nodes = Vec::with_capacity(span_count);
    for (index, depth) in order {
        if let Some(span) = slots[index].take() {
            nodes.push(SpanNode {
                span,
                depth,
                children: child_ids[index].clone(),
                logs: std::mem::take(&mut logs_of_span[index]),
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
        spans: nodes,
        unattached_logs,
        invocations,
        cost_usd,
    })
}
