//! The dashboard SQL, one file per query in `dashboards/queries/`.
//!
//! The same text runs on DataFusion here, on DuckDB in the tests, and is the
//! starting point for Athena. Parameters are named (`$service`) and always bound,
//! never spliced into the text.
//!
//! The filters of a search are written once, in `queries/filters/`: the span
//! filter (tracelake's trace search and the Jaeger searches) and the log filter
//! (log search and its histogram) with the requests of its trace filter
//! (`log_trace_requests`), and the service a log group's lines name
//! (`log_group_services`), and the one rule for which service a Lambda
//! invocation is and whether it is uninstrumented or failed
//! (`invocation_services`: CTEs of the services list, the service map and the
//! correlation report; whether it failed is `invocation_failed`, which the
//! errors-only searches splice too), and the traces an errors-only search
//! finds by a failed invocation that wrote no span
//! (`failed_invocation_traces`: CTEs of both trace searches), and the keys a
//! call names its callee by (`callee_keys`: the service map and the
//! correlation report). A query names one with a
//! `{{span_filter}}`, `{{log_filter}}`, `{{log_trace_requests}}`,
//! `{{log_group_services}}`, `{{invocation_services}}`,
//! `{{failed_invocation_traces}}`, `{{callee_keys}}` or `{{invocation_failed}}`
//! marker, replaced by the fragment's text ([`DashboardQuery::sql`]).

use std::collections::HashMap;
use std::sync::LazyLock;

/// One SQL file of `dashboards/queries/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DashboardQuery {
    /// The file name without `.sql`.
    pub name: &'static str,
    /// The file's text, filter markers unreplaced.
    template: &'static str,
}

/// The shared filters: marker, then the text of `queries/filters/<name>.sql`.
const FILTERS: [(&str, &str); 8] = [
    (
        "{{span_filter}}",
        include_str!("../../queries/filters/span_filter.sql"),
    ),
    (
        "{{failed_invocation_traces}}",
        include_str!("../../queries/filters/failed_invocation_traces.sql"),
    ),
    (
        "{{log_filter}}",
        include_str!("../../queries/filters/log_filter.sql"),
    ),
    (
        "{{log_trace_requests}}",
        include_str!("../../queries/filters/log_trace_requests.sql"),
    ),
    // Before log_group_services: its text holds that marker.
    (
        "{{invocation_services}}",
        include_str!("../../queries/filters/invocation_services.sql"),
    ),
    (
        "{{log_group_services}}",
        include_str!("../../queries/filters/log_group_services.sql"),
    ),
    (
        "{{callee_keys}}",
        include_str!("../../queries/filters/callee_keys.sql"),
    ),
    // After invocation_services and failed_invocation_traces: both hold its marker.
    (
        "{{invocation_failed}}",
        include_str!("../../queries/filters/invocation_failed.sql"),
    ),
];

impl DashboardQuery {
    /// The SQL text, with the shared filters in place of their markers.
    pub fn sql(&self) -> &'static str {
        static ASSEMBLED: LazyLock<HashMap<&'static str, String>> = LazyLock::new(|| {
            ALL.iter()
                .map(|query| (query.name, assemble(query.template)))
                .collect()
        });
        ASSEMBLED
            .get(self.name)
            .map_or(self.template, String::as_str)
    }
}

/// `template` with each filter marker replaced by the filter's text (its
/// comment lines left out).
fn assemble(template: &str) -> String {
    FILTERS
        .iter()
        .fold(template.to_owned(), |text, (marker, filter)| {
            let body: Vec<&str> = filter
                .lines()
                .filter(|line| !line.trim_start().starts_with("--"))
                .collect();
            text.replace(marker, &body.join("\n"))
        })
}

macro_rules! dashboard_query {
    ($constant:ident, $name:literal) => {
        #[doc = concat!("`queries/", $name, ".sql`")]
        pub const $constant: DashboardQuery = DashboardQuery {
            name: $name,
            template: include_str!(concat!("../../queries/", $name, ".sql")),
        };
    };
}

dashboard_query!(TRACE_HOURS, "trace_hours");
dashboard_query!(TRACE_SPANS, "trace_spans");
dashboard_query!(TRACE_LOGS, "trace_logs");
dashboard_query!(TRACE_INVOCATIONS, "trace_invocations");
dashboard_query!(TRACE_REQUEST_LOGS, "trace_request_logs");
dashboard_query!(TRACE_REQUEST_INVOCATIONS, "trace_request_invocations");
dashboard_query!(SEARCH_TRACES, "search_traces");
dashboard_query!(SEARCH_TRACE_SPANS, "search_trace_spans");
dashboard_query!(SEARCH_TRACE_INVOCATIONS, "search_trace_invocations");
dashboard_query!(SEARCH_TRACE_LINES, "search_trace_lines");
dashboard_query!(SERVICES, "services");
dashboard_query!(SERVICE_TAGS, "service_tags");
dashboard_query!(OPERATIONS, "operations");
dashboard_query!(SERVICE_MAP, "service_map");
dashboard_query!(RED, "red");
dashboard_query!(COLD_STARTS, "cold_starts");
dashboard_query!(COST_FUNCTIONS, "cost_functions");
dashboard_query!(COST_TRACES, "cost_traces");
dashboard_query!(SEARCH_LOGS, "search_logs");
dashboard_query!(LOG_HISTOGRAM, "log_histogram");
dashboard_query!(CORRELATION_LOGS, "correlation_logs");
dashboard_query!(CORRELATION_INVOCATIONS, "correlation_invocations");
dashboard_query!(CORRELATION_CALLS, "correlation_calls");

/// Every dashboard query, so that tests can run each one on another engine.
pub const ALL: [DashboardQuery; 23] = [
    TRACE_HOURS,
    TRACE_SPANS,
    TRACE_LOGS,
    TRACE_INVOCATIONS,
    TRACE_REQUEST_LOGS,
    TRACE_REQUEST_INVOCATIONS,
    SEARCH_TRACES,
    SEARCH_TRACE_SPANS,
    SEARCH_TRACE_INVOCATIONS,
    SEARCH_TRACE_LINES,
    SERVICES,
    SERVICE_TAGS,
    OPERATIONS,
    SERVICE_MAP,
    RED,
    COLD_STARTS,
    COST_FUNCTIONS,
    COST_TRACES,
    SEARCH_LOGS,
    LOG_HISTOGRAM,
    CORRELATION_LOGS,
    CORRELATION_INVOCATIONS,
    CORRELATION_CALLS,
];

#[cfg(test)]
mod tests {
    use super::*;
    use tracelake_index::rows::{InvocationStatus, Link, LogLevel, SpanKind, StatusCode};

    #[test]
    fn every_marker_is_replaced_and_the_searches_share_their_filters() {
        for query in ALL {
            assert!(!query.sql().contains("{{"), "{}", query.name);
        }
        let span_filter = "($kind IS NULL OR kind = $kind)";
        assert!(SEARCH_TRACES.sql().contains(span_filter));
        assert!(SEARCH_TRACE_SPANS.sql().contains(span_filter));
        let failed_drawn = "failed_invocation_traces AS (";
        assert!(SEARCH_TRACES.sql().contains(failed_drawn));
        assert!(SEARCH_TRACE_SPANS.sql().contains(failed_drawn));
        let log_filter = "coalesce(l.trace_id, r.trace_id) = $trace_id";
        assert!(SEARCH_LOGS.sql().contains(log_filter));
        assert!(LOG_HISTOGRAM.sql().contains(log_filter));
        let callee_keys = "reverse(split_part(reverse(callee), ':', 1))";
        for query in [SERVICE_MAP, CORRELATION_CALLS] {
            assert!(query.sql().contains(callee_keys), "{}", query.name);
            assert!(!query.template.contains(callee_keys), "{}", query.name);
        }
        let trace_requests = "HAVING max(i.trace_id) = $trace_id";
        for query in [SEARCH_LOGS, LOG_HISTOGRAM] {
            assert!(query.sql().contains(trace_requests), "{}", query.name);
            assert!(!query.template.contains(trace_requests), "{}", query.name);
        }
    }

    /// The queries that name a Lambda invocation's service or decide whether
    /// it is uninstrumented or failed all splice the one rule, and none
    /// defines its own: no query file builds the spans' services, and no
    /// query or other filter compares `invocations.status` outside
    /// `invocation_failed`.
    #[test]
    fn the_invocation_rule_is_defined_once() {
        let rule = FILTERS
            .iter()
            .find(|(marker, _)| *marker == "{{invocation_services}}")
            .map(|(_, text)| {
                let body: Vec<&str> = text
                    .lines()
                    .filter(|line| !line.trim_start().starts_with("--"))
                    .collect();
                assemble(&body.join("\n"))
            })
            .expect("the invocation_services filter");
        for query in [
            SERVICES,
            SERVICE_MAP,
            CORRELATION_INVOCATIONS,
            CORRELATION_CALLS,
        ] {
            assert!(
                query.template.contains("{{invocation_services}}"),
                "{}",
                query.name
            );
            assert!(query.sql().contains(&rule), "{}", query.name);
        }
        for query in ALL {
            let own = query.template;
            for definition in [
                "function_services AS",
                "span_services AS",
                "group_services AS",
                "faas_name IS NULL",
                "status IN (",
                "failure",
            ] {
                assert!(!own.contains(definition), "{}: {definition}", query.name);
            }
        }
        // Whether an invocation failed is one filter of its own, which the
        // errors-only searches splice too (their drawn invocations' service
        // is the trace view's, not this rule's).
        let failed = "status IN ('error', 'timeout')";
        for (marker, text) in FILTERS {
            let defines = marker == "{{invocation_failed}}";
            assert_eq!(text.contains(failed), defines, "{marker}");
            assert!(defines || !text.contains("status IN ("), "{marker}");
        }
        for query in [
            SERVICES,
            SERVICE_MAP,
            CORRELATION_INVOCATIONS,
            CORRELATION_CALLS,
            SEARCH_TRACES,
            SEARCH_TRACE_SPANS,
        ] {
            assert!(query.sql().contains(failed), "{}", query.name);
        }
    }

    /// The lines of every query and shared filter, comments left out.
    fn sql_lines() -> impl Iterator<Item = &'static str> {
        FILTERS
            .iter()
            .map(|(_, text)| *text)
            .chain(ALL.iter().map(|query| query.template))
            .flat_map(str::lines)
            .filter(|line| !line.trim_start().starts_with("--"))
    }

    /// The string literals `column` is compared with on `line`
    /// (`column = 'v'`, `<>`, `!=`, `IN ('a', 'b')`, `NOT IN (…)`, with or
    /// without a table alias); a comparison with a parameter has none.
    fn compared_literals<'a>(line: &'a str, column: &str) -> Vec<&'a str> {
        let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
        let mut values = Vec::new();
        let mut from = 0;
        while let Some(at) = line[from..].find(column) {
            let start = from + at;
            let end = start + column.len();
            from = end;
            let before = line[..start].chars().next_back();
            let after = line[end..].chars().next();
            if before.is_some_and(|c| word(c) || c == '$') || after.is_some_and(word) {
                continue;
            }
            let tail = line[end..].trim_start();
            let list = if let Some(list) = tail
                .strip_prefix("NOT IN (")
                .or_else(|| tail.strip_prefix("IN ("))
            {
                &list[..list.find(')').unwrap_or(list.len())]
            } else if let Some(value) = ["=", "<>", "!="]
                .iter()
                .find_map(|operator| tail.strip_prefix(operator))
            {
                let value = value.trim_start();
                let Some(quoted) = value.strip_prefix('\'') else {
                    continue;
                };
                &value[..quoted.find('\'').map_or(value.len(), |close| close + 2)]
            } else {
                continue;
            };
            for value in list.split(',') {
                let value = value.trim();
                if let Some(text) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
                    values.push(text);
                }
            }
        }
        values
    }

    #[test]
    fn compared_literals_reads_each_comparison_form() {
        assert_eq!(
            compared_literals("AND i.status IN ('error', 'timeout') AS failed", "status"),
            ["error", "timeout"]
        );
        assert_eq!(
            compared_literals("WHEN status_code = 'error' OR kind <> 'server'", "kind"),
            ["server"]
        );
        assert!(compared_literals("WHEN status_code = 'error'", "status").is_empty());
        assert!(compared_literals("($kind IS NULL OR kind = $kind)", "kind").is_empty());
        assert_eq!(
            compared_literals("link NOT IN ('trace_id', 'stream')", "link"),
            ["trace_id", "stream"]
        );
    }

    /// Every value the SQL compares a closed-set column with is one of the
    /// string forms of its index enum: `invocations.status`
    /// ([`InvocationStatus`]), `spans.kind` ([`SpanKind`]),
    /// `spans.status_code` ([`StatusCode`]), `logs.level` ([`LogLevel`]) and
    /// `logs.link` ([`Link`]).
    #[test]
    fn compared_column_values_are_the_index_forms() {
        fn forms<T: Copy>(all: &[T], as_str: fn(T) -> &'static str) -> Vec<&'static str> {
            all.iter().map(|value| as_str(*value)).collect()
        }
        // Column, its forms, whether some query compares it with a literal
        // today (so that a reader that finds nothing fails).
        let columns = [
            (
                "status",
                forms(InvocationStatus::ALL, InvocationStatus::as_str),
                true,
            ),
            ("kind", forms(SpanKind::ALL, SpanKind::as_str), true),
            (
                "status_code",
                forms(StatusCode::ALL, StatusCode::as_str),
                true,
            ),
            ("level", forms(LogLevel::ALL, LogLevel::as_str), false),
            ("link", forms(Link::ALL, Link::as_str), true),
        ];
        for (column, forms, compared_today) in columns {
            let mut compared = 0;
            for line in sql_lines() {
                for value in compared_literals(line, column) {
                    assert!(forms.contains(&value), "{column} = '{value}' in {line}");
                    compared += 1;
                }
            }
            assert!(!compared_today || compared > 0, "the SQL compares {column}");
        }
    }

    /// Every attribute key the SQL names (`map_extract(attributes, 'key')`,
    /// the keys `service_tags` leaves out) is a semantic-convention key, as
    /// the Rust code names it: SQL cannot import the constants, so the list
    /// below does, and a key the SQL spells differently fails here.
    #[test]
    fn attribute_keys_are_the_semantic_conventions() {
        use opentelemetry_semantic_conventions::attribute as semconv;
        #[allow(deprecated)] // `peer.service`: still what callers write
        let keys = [
            semconv::SERVICE_NAME,
            semconv::SERVICE_INSTANCE_ID,
            semconv::FAAS_INSTANCE,
            semconv::FAAS_INVOKED_NAME,
            semconv::HOST_NAME,
            semconv::HOST_ID,
            semconv::PROCESS_PID,
            semconv::CONTAINER_ID,
            semconv::AWS_LOG_STREAM_NAMES,
            semconv::AWS_LOG_STREAM_ARNS,
            semconv::MESSAGING_SYSTEM,
            semconv::MESSAGING_DESTINATION_NAME,
            semconv::PEER_SERVICE,
        ];
        let mut named = 0;
        for line in sql_lines() {
            let mut from = 0;
            while let Some(open) = line[from..].find('\'').map(|at| from + at) {
                let Some(close) = line[open + 1..].find('\'').map(|at| open + 1 + at) else {
                    break;
                };
                from = close + 1;
                let literal = &line[open + 1..close];
                let dotted = literal.contains('.')
                    && literal
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.');
                // A platform line's type searched for in a message is no key.
                let in_message = line[..open].trim_end().ends_with("strpos(message,");
                if dotted && !in_message {
                    assert!(keys.contains(&literal), "'{literal}' in {line}");
                    named += 1;
                }
            }
        }
        assert!(named > 0, "the SQL names attribute keys");
    }
}
