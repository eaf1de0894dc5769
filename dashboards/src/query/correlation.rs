//! The correlation report: per service, how much of its telemetry is tied to
//! traces, worst first. Three queries (`correlation_logs.sql`,
//! `correlation_invocations.sql`, `correlation_calls.sql`) merged here by
//! service.
//!
//! A caller names its callee by `peer.service` (or `faas.invoked_name`, or a
//! queue, topic or stream as `<system>:<destination>`, e.g.
//! `sqs:orders-queue`); lines and invocations carry the service of their log
//! group, which for an uninstrumented function is its function name. A callee
//! named by callers is merged into the row of the service or function of that
//! name, else into the row of a function whose name starts with `<callee>-`
//! (the common `<service>-<suffix>` naming); otherwise (a queue, topic or
//! stream always) it keeps a row of its own, marked
//! [`ServiceCorrelation::named_by_callers_only`]: calls into a destination
//! whose consumer did not join the trace count against the destination, as
//! the report has no evidence of which function consumes it.

use std::collections::BTreeMap;

use super::engine::QueryEngine;
use super::error::QueryError;
use super::model::{CorrelationCalls, CorrelationInvocations, CorrelationLogs, ServiceCorrelation};
use super::params::PARTITION_SLACK_NS;
use super::params::{Params, TimeRange};
use super::sql;

impl QueryEngine {
    /// The correlation report over the range: per service, its log lines by
    /// link kind, its invocations without a trace and the calls to it whose
    /// context did not arrive, worst first (see `correlation.rs`).
    ///
    /// # Errors
    ///
    /// The failure of one of its three queries (see [`QueryError`]).
    pub async fn correlation(
        &self,
        range: &TimeRange,
    ) -> Result<Vec<ServiceCorrelation>, QueryError> {
        let params = Params::new().range(range, PARTITION_SLACK_NS);
        let (logs, invocations, calls) = futures::try_join!(
            self.run_typed::<CorrelationLogs>(&sql::CORRELATION_LOGS, &params),
            self.run_typed::<CorrelationInvocations>(&sql::CORRELATION_INVOCATIONS, &params),
            self.run_typed::<CorrelationCalls>(&sql::CORRELATION_CALLS, &params),
        )?;
        Ok(merge(logs, invocations, calls))
    }
}

fn empty_row(service: &str) -> ServiceCorrelation {
    ServiceCorrelation {
        service: service.to_owned(),
        function: None,
        log_lines: 0,
        by_trace_id: 0,
        by_request_id: 0,
        by_stream: 0,
        by_other: 0,
        by_query_join: 0,
        unlinked: 0,
        linked_share: 1.0,
        invocations: 0,
        invocations_without_trace: 0,
        inbound_calls: 0,
        inbound_without_context: 0,
        named_by_callers_only: false,
        gap: 0.0,
        example_trace_ids: Vec::new(),
        example_request_ids: Vec::new(),
    }
}

fn push_unique(list: &mut Vec<String>, value: Option<String>) {
    if let Some(value) = value
        && !list.contains(&value)
    {
        list.push(value);
    }
}

/// Merges the three queries' rows into one row per service, worst first.
pub(super) fn merge(
    logs: Vec<CorrelationLogs>,
    invocations: Vec<CorrelationInvocations>,
    calls: Vec<CorrelationCalls>,
) -> Vec<ServiceCorrelation> {
    // Lines written outside a request (init) carry their function's name as
    // service; the invocations query knows the function's service.
    let service_of_function: BTreeMap<String, String> = invocations
        .iter()
        .filter_map(|row| Some((row.function.clone()?, row.service.clone())))
        .filter(|(function, service)| function != service)
        .collect();
    let mut rows: BTreeMap<String, ServiceCorrelation> = BTreeMap::new();
    for line in logs {
        let service = service_of_function
            .get(&line.service)
            .cloned()
            .unwrap_or_else(|| line.service.clone());
        let row = rows
            .entry(service.clone())
            .or_insert_with(|| empty_row(&service));
        row.log_lines += line.log_lines;
        row.by_trace_id += line.by_trace_id;
        row.by_request_id += line.by_request_id;
        row.by_stream += line.by_stream;
        row.by_other += line.by_other;
        row.by_query_join += line.by_query_join;
        row.unlinked += line.unlinked;
        push_unique(&mut row.example_trace_ids, line.example_trace_id);
        push_unique(
            &mut row.example_request_ids,
            line.example_unlinked_request_id,
        );
    }
    for invocation in invocations {
        let row = rows
            .entry(invocation.service.clone())
            .or_insert_with(|| empty_row(&invocation.service));
        row.invocations += invocation.invocations;
        row.invocations_without_trace += invocation.invocations_without_trace;
        if row.function.is_none() {
            row.function = invocation.function;
        }
        push_unique(
            &mut row.example_request_ids,
            invocation.example_untraced_request_id,
        );
    }
    for call in calls {
        let key = callee_row(&rows, &call.service).unwrap_or_else(|| call.service.clone());
        let row = rows.entry(key).or_insert_with(|| {
            let mut row = empty_row(&call.service);
            row.named_by_callers_only = true;
            row
        });
        row.inbound_calls += call.inbound_calls;
        row.inbound_without_context += call.inbound_without_context;
        push_unique(&mut row.example_trace_ids, call.example_lost_trace_id);
    }
    let mut rows: Vec<ServiceCorrelation> = rows.into_values().collect();
    for row in &mut rows {
        let linked = row.log_lines - row.unlinked;
        row.linked_share = if row.log_lines == 0 {
            1.0
        } else {
            linked as f64 / row.log_lines as f64
        };
        let mut gaps = Vec::new();
        if row.log_lines > 0 {
            gaps.push(1.0 - row.linked_share);
        }
        if row.invocations > 0 {
            gaps.push(row.invocations_without_trace as f64 / row.invocations as f64);
        }
        if row.inbound_calls > 0 {
            gaps.push(row.inbound_without_context as f64 / row.inbound_calls as f64);
        }
        row.gap = if gaps.is_empty() {
            0.0
        } else {
            gaps.iter().sum::<f64>() / gaps.len() as f64
        };
    }
    rows.sort_by(|a, b| {
        b.gap
            .total_cmp(&a.gap)
            .then(b.log_lines.cmp(&a.log_lines))
            .then_with(|| a.service.cmp(&b.service))
    });
    rows
}

/// The row a callee named by its callers belongs to.
fn callee_row(rows: &BTreeMap<String, ServiceCorrelation>, callee: &str) -> Option<String> {
    if rows.contains_key(callee) {
        return Some(callee.to_owned());
    }
    let prefix = format!("{callee}-");
    rows.values()
        .find(|row| {
            row.function
                .as_deref()
                .is_some_and(|function| function == callee || function.starts_with(&prefix))
        })
        .map(|row| row.service.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logs(service: &str, lines: i64, unlinked: i64) -> CorrelationLogs {
        CorrelationLogs {
            service: service.to_owned(),
            log_group: None,
            log_lines: lines,
            by_trace_id: lines - unlinked,
            by_request_id: 0,
            by_stream: 0,
            by_other: 0,
            by_query_join: 0,
            unlinked,
            example_trace_id: None,
            example_unlinked_request_id: None,
        }
    }

    #[test]
    fn worst_first_and_callees_merged_by_function() {
        let rows = merge(
            vec![logs("orders", 100, 0), logs("billing-fn004", 50, 50)],
            vec![CorrelationInvocations {
                service: "billing-fn004".to_owned(),
                function: Some("billing-fn004".to_owned()),
                invocations: 10,
                invocations_without_trace: 10,
                example_untraced_request_id: Some("r1".to_owned()),
            }],
            vec![
                CorrelationCalls {
                    service: "billing".to_owned(),
                    inbound_calls: 4,
                    inbound_without_context: 4,
                    example_lost_trace_id: Some("t1".to_owned()),
                    example_caller: Some("orders".to_owned()),
                },
                CorrelationCalls {
                    service: "sqs:orders-queue".to_owned(),
                    inbound_calls: 2,
                    inbound_without_context: 1,
                    example_lost_trace_id: None,
                    example_caller: None,
                },
            ],
        );
        let names: Vec<&str> = rows.iter().map(|r| r.service.as_str()).collect();
        assert_eq!(names, ["billing-fn004", "sqs:orders-queue", "orders"]);
        assert_eq!(rows[0].inbound_calls, 4);
        assert_eq!(rows[0].gap, 1.0);
        assert_eq!(rows[0].example_trace_ids, ["t1"]);
        assert!(rows[1].named_by_callers_only);
        assert_eq!(rows[2].linked_share, 1.0);
    }
}
