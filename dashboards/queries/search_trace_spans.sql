-- Jaeger search in one pass: the spans of the most recent traces with at least
-- one span matching every given filter, capped by a span budget (as Quickwit's
-- Jaeger service fetches the matching traces' spans in one search).
-- Parameters: as search_traces.sql, plus
-- $span_budget                     most spans returned over all traces
-- An errors-only search also finds a trace whose failed invocation wrote no
-- span (filters/failed_invocation_traces.sql), as search_traces.sql does.
WITH window_spans AS (
    SELECT trace_id, span_id, parent_span_id, name, kind, service,
           start_time, end_time, duration_ns, status_code, status_message,
           request_id, faas_name, faas_trigger, cold_start, cloud_region, cloud_account_id,
           attributes, resource_attributes, events, links, log_group, log_stream
    FROM spans
    WHERE dt || hour BETWEEN $partition_from AND $partition_to
      AND start_time >= $time_from
      AND start_time < $time_to
),
{{failed_invocation_traces}},
matching AS (
    SELECT DISTINCT trace_id
    FROM window_spans
    WHERE {{span_filter}}
    UNION
    SELECT trace_id FROM failed_invocation_traces
),
latest AS (
    SELECT s.trace_id, min(s.start_time) AS trace_start
    FROM window_spans s
    JOIN matching m ON s.trace_id = m.trace_id
    GROUP BY s.trace_id
    ORDER BY trace_start DESC, s.trace_id
    LIMIT $limit
)
SELECT s.trace_id, s.span_id, s.parent_span_id, s.name, s.kind, s.service,
       s.start_time, s.end_time, s.duration_ns, s.status_code, s.status_message,
       s.request_id, s.faas_name, s.faas_trigger, s.cold_start, s.cloud_region, s.cloud_account_id,
       s.attributes, s.resource_attributes, s.events, s.links, s.log_group, s.log_stream
FROM window_spans s
JOIN latest t ON s.trace_id = t.trace_id
ORDER BY t.trace_start DESC, s.trace_id, s.start_time, s.span_id
LIMIT $span_budget
