//! The dashboard SQL, one file per query in `dashboards/queries/`.
//!
//! The same text runs on DataFusion here, on DuckDB in the tests, and is the
//! starting point for Athena. Parameters are named (`$service`) and always bound,
//! never spliced into the text.
//!
//! The filters of a search are written once, in `queries/filters/`: the span
//! filter (tracelake's trace search and the Jaeger searches) and the log filter
//! (log search and its histogram), and the service a log group's lines name
//! (`log_group_services`), and the one rule for which service a Lambda
//! invocation is and whether it is uninstrumented or failed
//! (`invocation_services`: CTEs of the services list, the service map and the
//! correlation report). A query names one with a `{{span_filter}}`,
//! `{{log_filter}}`, `{{log_group_services}}` or `{{invocation_services}}`
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
const FILTERS: [(&str, &str); 4] = [
    (
        "{{span_filter}}",
        include_str!("../../queries/filters/span_filter.sql"),
    ),
    (
        "{{log_filter}}",
        include_str!("../../queries/filters/log_filter.sql"),
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
    use tracelake_index::rows::InvocationStatus;

    #[test]
    fn every_marker_is_replaced_and_the_searches_share_their_filters() {
        for query in ALL {
            assert!(!query.sql().contains("{{"), "{}", query.name);
        }
        let span_filter = "($kind IS NULL OR kind = $kind)";
        assert!(SEARCH_TRACES.sql().contains(span_filter));
        assert!(SEARCH_TRACE_SPANS.sql().contains(span_filter));
        let log_filter = "coalesce(l.trace_id, r.trace_id) = $trace_id";
        assert!(SEARCH_LOGS.sql().contains(log_filter));
        assert!(LOG_HISTOGRAM.sql().contains(log_filter));
    }

    /// The queries that name a Lambda invocation's service or decide whether
    /// it is uninstrumented or failed all splice the one rule, and none
    /// defines its own: no query file builds the spans' services or compares
    /// `invocations.status` outside that filter.
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
    }

    /// Every `status` value the SQL compares is one of the string forms of
    /// `invocations.status` (one per [`InvocationStatus`] variant).
    #[test]
    fn invocation_statuses_are_the_index_forms() {
        let forms: Vec<&str> = InvocationStatus::ALL.iter().map(|s| s.as_str()).collect();
        let mut compared = 0;
        let texts = FILTERS.iter().map(|(_, text)| *text);
        for text in texts.chain(ALL.iter().map(|query| query.template)) {
            for line in text
                .lines()
                .filter(|line| !line.trim_start().starts_with("--"))
            {
                let Some(at) = line.find("status IN (") else {
                    continue;
                };
                let list = &line[at + "status IN (".len()..];
                let list = &list[..list.find(')').expect("a closed list")];
                for value in list.split(',') {
                    let value = value.trim().trim_matches('\'');
                    assert!(forms.contains(&value), "{value} in {line}");
                    compared += 1;
                }
            }
        }
        assert!(compared > 0, "the rule compares statuses");
    }
}
