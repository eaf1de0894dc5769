//! Trace by id: which hour partitions hold a trace, and the trace itself
//! (spans, logs and invocations assembled by `trace.rs`).

use std::collections::BTreeSet;

use tracelake_instrumentation::wire::ids::TraceId;

use super::engine::QueryEngine;
use super::error::QueryError;
use super::model::{Invocation, LogLine, Span, TraceDetail};
use super::params::PARTITION_SLACK_NS;
use super::params::{HOUR_NS, ParamValue, Params, TimeRange, partition_key};
use super::{sql, trace};

impl QueryEngine {
    /// The time range a trace lookup scans: the given one, else around the
    /// X-Ray epoch of the id, else everything.
    pub fn trace_range(&self, trace_id: &TraceId, given: Option<TimeRange>) -> Option<TimeRange> {
        if let Some(range) = given {
            return Some(range);
        }
        let epoch_ns = i64::from(trace_id.xray_epoch_seconds()?) * 1_000_000_000;
        TimeRange::new(
            epoch_ns.saturating_sub(self.options.trace_lookback_ns),
            epoch_ns.saturating_add(self.options.trace_lookahead_ns),
        )
    }

    /// The parameters of the three trace-by-id queries.
    pub fn trace_params(&self, trace_id: &TraceId, given: Option<TimeRange>) -> Params {
        let (from, to) = match self.trace_range(trace_id, given) {
            Some(range) => range.partitions(PARTITION_SLACK_NS),
            // Lexically below and above every `YYYY-MM-DDHH`.
            None => ("0".to_owned(), "A".to_owned()),
        };
        // Without knowing which hours are compacted, invocations are also
        // joined by request id when linked to another trace (see
        // `trace_request_invocations.sql`).
        trace_query_params(trace_id, &from, &to, true)
    }

    /// The hour partitions (`YYYY-MM-DDHH`) in which `trace_index` lists the
    /// trace, sorted.
    ///
    /// # Errors
    ///
    /// The query's failure (see [`QueryError`]).
    pub async fn trace_hours(&self, trace_id: &TraceId) -> Result<Vec<String>, QueryError> {
        Ok(self
            .indexed_hours(trace_id)
            .await?
            .into_iter()
            .map(|hour| hour.partition)
            .collect())
    }

    /// The hours `trace_index` lists the trace in, with its spans there.
    async fn indexed_hours(&self, trace_id: &TraceId) -> Result<Vec<IndexedHour>, QueryError> {
        let params = Params::new().text("trace_id", Some(&trace_id.to_string()));
        self.run_typed(&sql::TRACE_HOURS, &params).await
    }

    /// The hour partitions (`YYYY-MM-DDHH`) whose live files include raw
    /// segments that no manifest covers yet: hours whose `trace_index` may not
    /// list every trace (a raw segment's `trace_index` rows come from its spans
    /// only; compaction rebuilds them from every table).
    ///
    /// # Errors
    ///
    /// [`QueryError::IndexRead`] when the hour directories or a manifest cannot be
    /// read.
    pub async fn uncompacted_hours(&self) -> Result<BTreeSet<String>, QueryError> {
        let hours = self
            .live
            .uncompacted_hours()
            .await
            .map_err(|error| self.index_read_error(error))?;
        Ok(hours
            .iter()
            .map(|hour| partition_key(hour.start_nanos()))
            .collect())
    }

    /// The hour partitions a trace lookup reads, as `(from, to)` bounds of
    /// `dt || hour`, or `None` when the trace is in no hour.
    ///
    /// The hours `trace_index` lists, plus, from the hours with raw segments
    /// (see [`QueryEngine::uncompacted_hours`]): the neighbours of those hours
    /// (a raw hour's logs may follow its spans into the next hour), and when
    /// `trace_index` knows nothing of the trace, the raw hours around its X-Ray
    /// epoch, or every raw hour when the id has no plausible epoch or no raw
    /// hour lies around it (a W3C id's random first digits often read as one).
    ///
    /// # Errors
    ///
    /// The errors of [`QueryEngine::trace_hours`] and
    /// [`QueryEngine::uncompacted_hours`].
    pub async fn trace_partitions(
        &self,
        trace_id: &TraceId,
    ) -> Result<Option<(String, String)>, QueryError> {
        Ok(self.trace_partitions_and_raw(trace_id).await?.0)
    }

    /// [`QueryEngine::trace_partitions`], the hours with raw segments, and the
    /// spans `trace_index` counts for the trace (`None` when it knows nothing
    /// of it).
    async fn trace_partitions_and_raw(
        &self,
        trace_id: &TraceId,
    ) -> Result<(Option<(String, String)>, BTreeSet<String>, Option<i64>), QueryError> {
        let (indexed, raw) =
            futures::try_join!(self.indexed_hours(trace_id), self.uncompacted_hours())?;
        let indexed_spans = (!indexed.is_empty()).then(|| {
            indexed
                .iter()
                .map(|hour| hour.span_count.unwrap_or(0))
                .sum()
        });
        let indexed: Vec<String> = indexed.into_iter().map(|hour| hour.partition).collect();
        let mut hours: BTreeSet<String> = indexed.iter().cloned().collect();
        for hour in &indexed {
            if let Some(start) = partition_start_ns(hour) {
                for neighbour in [start - HOUR_NS, start + HOUR_NS] {
                    let key = partition_key(neighbour);
                    if raw.contains(&key) {
                        hours.insert(key);
                    }
                }
            }
        }
        if indexed.is_empty() {
            // A W3C id's first 8 hex digits are random, yet 70% of them read
            // as an epoch between 2010 and 2100: when the hint names no raw
            // hour, the id is not taken for an X-Ray one and every raw hour is read.
            let hinted: Vec<String> = match self.trace_range(trace_id, None) {
                Some(hint) => {
                    let (from, to) = hint.partitions(PARTITION_SLACK_NS);
                    raw.range(from..=to).cloned().collect()
                }
                None => Vec::new(),
            };
            if hinted.is_empty() {
                hours.extend(raw.iter().cloned());
            } else {
                hours.extend(hinted);
            }
        }
        Ok((
            hours.first().cloned().zip(hours.last().cloned()),
            raw,
            indexed_spans,
        ))
    }

    /// A trace by id (W3C, X-Ray, 16 hex digits or hex with leading zeros
    /// dropped): spans as a tree, logs under their spans, invocations and cost.
    /// A trace with logs or invocations but no span is found too. `None` when
    /// nothing of it is found.
    ///
    /// Without `range`, the hours are found with [`QueryEngine::trace_partitions`].
    ///
    /// # Errors
    ///
    /// [`QueryError::InvalidTraceId`] when `trace_id` is not a trace id in any form
    /// [`TraceId::parse_any`] reads; the errors of
    /// [`QueryEngine::trace_partitions`] without a `range`; then the failure of
    /// one of the trace's queries (see [`QueryError`]). A trace found nowhere is
    /// `Ok(None)`, not an error.
    pub async fn trace(
        &self,
        trace_id: &str,
        range: Option<TimeRange>,
    ) -> Result<Option<TraceDetail>, QueryError> {
        let id = TraceId::parse_any(trace_id)
            .map_err(|_| QueryError::InvalidTraceId(trace_id.to_owned()))?;
        // Whether the spans query can be skipped: every hour read is
        // compacted and `trace_index` counts no span of the trace there (a
        // trace of logs and invocations only).
        let (params, no_spans) = match range {
            Some(range) => (self.trace_params(&id, Some(range)), false),
            None => match self.trace_partitions_and_raw(&id).await? {
                (Some((from, to)), raw, indexed_spans) => {
                    let uncompacted = raw.range(from.clone()..=to.clone()).next().is_some();
                    (
                        trace_query_params(&id, &from, &to, uncompacted),
                        !uncompacted && indexed_spans == Some(0),
                    )
                }
                (None, _, _) => return Ok(None),
            },
        };
        // The spans and the invocations linked to the trace name its request
        // ids; the unlinked lines and invocations of those requests are read
        // as soon as both are in, while the linked lines are still read.
        let requests = async {
            let spans = async {
                if no_spans {
                    Ok(Vec::new())
                } else {
                    self.run_typed::<Span>(&sql::TRACE_SPANS, &params).await
                }
            };
            let (spans, invocations) = futures::try_join!(
                spans,
                self.run_typed::<Invocation>(&sql::TRACE_INVOCATIONS, &params),
            )?;
            let span_requests = trace_request_ids(spans.iter().map(|span| &span.request_id));
            let trace_requests = trace_request_ids(
                spans
                    .iter()
                    .map(|span| &span.request_id)
                    .chain(invocations.iter().map(|invocation| &invocation.request_id)),
            );
            let (request_logs, request_invocations) = futures::try_join!(
                self.run_for_requests::<LogLine>(
                    &sql::TRACE_REQUEST_LOGS,
                    &params,
                    &trace_requests
                ),
                self.run_for_requests::<Invocation>(
                    &sql::TRACE_REQUEST_INVOCATIONS,
                    &params,
                    &span_requests
                ),
            )?;
            Ok::<_, QueryError>((spans, invocations, request_logs, request_invocations))
        };
        let ((spans, invocations, request_logs, request_invocations), logs) = futures::try_join!(
            requests,
            self.run_typed::<LogLine>(&sql::TRACE_LOGS, &params),
        )?;
        Ok(trace::assemble(
            &id.to_string(),
            spans,
            merge_lines(logs, request_logs),
            merge_invocations(invocations, request_invocations),
            self.options.price_per_gb_second,
        ))
    }

    /// Runs a second-step trace query for `request_ids` (comma-separated, see
    /// [`trace_request_ids`]); nothing to read, and no query, when there are none.
    async fn run_for_requests<T: serde::de::DeserializeOwned>(
        &self,
        query: &super::sql::DashboardQuery,
        params: &Params,
        request_ids: &str,
    ) -> Result<Vec<T>, QueryError> {
        if request_ids.is_empty() {
            return Ok(Vec::new());
        }
        let params = params.clone().text("request_ids", Some(request_ids));
        self.run_typed(query, &params).await
    }
}

/// The distinct request ids among `ids`, sorted and comma-separated, as
/// `trace_request_logs.sql` and `trace_request_invocations.sql` take them. An
/// id holding a comma (never a Lambda request id, which is a UUID) would be
/// split into others, so it is left out.
pub fn trace_request_ids<'a>(ids: impl Iterator<Item = &'a Option<String>>) -> String {
    let ids: BTreeSet<&str> = ids
        .filter_map(|id| id.as_deref())
        .filter(|id| !id.is_empty() && !id.contains(','))
        .collect();
    ids.into_iter().collect::<Vec<_>>().join(",")
}

/// The trace's lines: those linked to it and those of its requests left
/// unlinked (two disjoint sets: `trace_id` is the trace or NULL), in the order
/// of `ORDER BY "timestamp", event_id`, NULLs last.
fn merge_lines(mut linked: Vec<LogLine>, unlinked: Vec<LogLine>) -> Vec<LogLine> {
    if unlinked.is_empty() {
        return linked;
    }
    linked.extend(unlinked);
    linked.sort_by(|a, b| {
        nulls_last(&a.timestamp, &b.timestamp).then_with(|| nulls_last(&a.event_id, &b.event_id))
    });
    linked
}

/// The trace's invocations: those linked to it and the others of its
/// requests, without repeats (SQL's `UNION`), in the order of `ORDER BY
/// end_time, request_id`, NULLs last. Repeats are equal in every column, so
/// after the sort they fall in the same run of equal `(end_time, request_id)`:
/// only that run is searched, not the whole list (a trace may have thousands).
fn merge_invocations(linked: Vec<Invocation>, by_request: Vec<Invocation>) -> Vec<Invocation> {
    let mut sorted: Vec<Invocation> = linked.into_iter().chain(by_request).collect();
    sorted.sort_by(|a, b| {
        nulls_last(&a.end_time, &b.end_time).then_with(|| nulls_last(&a.request_id, &b.request_id))
    });
    let mut merged: Vec<Invocation> = Vec::with_capacity(sorted.len());
    let mut run_start = 0;
    for invocation in sorted {
        let same_run = merged.get(run_start).is_some_and(|first| {
            first.end_time == invocation.end_time && first.request_id == invocation.request_id
        });
        if !same_run {
            run_start = merged.len();
        }
        if !merged[run_start..].contains(&invocation) {
            merged.push(invocation);
        }
    }
    merged
}

/// SQL's ascending order with NULLs last (DataFusion's and DuckDB's default).
fn nulls_last<T: Ord>(a: &Option<T>, b: &Option<T>) -> std::cmp::Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.cmp(b),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    }
}

/// One row of `trace_hours.sql`.
#[derive(serde::Deserialize)]
struct IndexedHour {
    /// `YYYY-MM-DDHH`.
    partition: String,
    /// The trace's spans in that hour, as `trace_index` counts them.
    span_count: Option<i64>,
}

/// The parameters of the trace-by-id queries over the hours `from..=to`
/// (`YYYY-MM-DDHH`); `uncompacted` when one of them has raw segments.
fn trace_query_params(trace_id: &TraceId, from: &str, to: &str, uncompacted: bool) -> Params {
    Params::new()
        .text("trace_id", Some(&trace_id.to_string()))
        .text("partition_from", Some(from))
        .text("partition_to", Some(to))
        .with("uncompacted", ParamValue::Bool(uncompacted))
}

/// The start of an hour partition `YYYY-MM-DDHH`, in ns.
fn partition_start_ns(key: &str) -> Option<i64> {
    let day = chrono::NaiveDate::parse_from_str(key.get(..10)?, "%Y-%m-%d").ok()?;
    let hour: u32 = key.get(10..)?.parse().ok()?;
    day.and_hms_opt(hour, 0, 0)?.and_utc().timestamp_nanos_opt()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn line(timestamp: Option<i64>, event_id: &str) -> LogLine {
        serde_json::from_value(json!({"timestamp": timestamp, "event_id": event_id}))
            .expect("a log line")
    }

    fn invocation(request_id: &str, end_time: Option<i64>) -> Invocation {
        serde_json::from_value(json!({"request_id": request_id, "end_time": end_time}))
            .expect("an invocation")
    }

    #[test]
    fn request_ids_are_distinct_sorted_and_never_split_by_a_comma() {
        let ids = [
            Some("b7".to_owned()),
            None,
            Some("a1".to_owned()),
            Some("b7".to_owned()),
            Some(String::new()),
            Some("x,y".to_owned()),
        ];
        assert_eq!(trace_request_ids(ids.iter()), "a1,b7");
        assert_eq!(trace_request_ids([None].iter()), "");
    }

    #[test]
    fn unlinked_lines_merge_in_time_then_event_order_with_nulls_last() {
        let linked = vec![line(Some(20), "2"), line(Some(40), "4"), line(None, "9")];
        let unlinked = vec![line(Some(20), "1"), line(Some(30), "3")];
        let order: Vec<(Option<i64>, String)> = merge_lines(linked, unlinked)
            .into_iter()
            .map(|line| (line.timestamp, line.event_id.unwrap_or_default()))
            .collect();
        assert_eq!(
            order,
            [
                (Some(20), "1".to_owned()),
                (Some(20), "2".to_owned()),
                (Some(30), "3".to_owned()),
                (Some(40), "4".to_owned()),
                (None, "9".to_owned()),
            ]
        );
    }

    #[test]
    fn invocations_found_both_ways_are_kept_once_in_end_time_order() {
        let linked = vec![invocation("r2", Some(20)), invocation("r1", None)];
        let by_request = vec![invocation("r2", Some(20)), invocation("r3", Some(10))];
        let order: Vec<String> = merge_invocations(linked, by_request)
            .into_iter()
            .filter_map(|invocation| invocation.request_id)
            .collect();
        assert_eq!(order, ["r3", "r2", "r1"]);
    }

    #[test]
    fn a_repeat_is_dropped_even_behind_another_row_of_the_same_request_and_end() {
        let of = |function: &str| -> Invocation {
            serde_json::from_value(
                json!({"request_id": "r1", "end_time": 20, "function": function}),
            )
            .expect("an invocation")
        };
        let merged = merge_invocations(vec![of("a"), of("b")], vec![of("a")]);
        let functions: Vec<String> = merged
            .into_iter()
            .filter_map(|invocation| invocation.function)
            .collect();
        assert_eq!(functions, ["a", "b"]);
    }
}
