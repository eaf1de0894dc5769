-- The requests of a log search's trace filter (CTEs of search_logs.sql and
-- log_histogram.sql, spliced at `{{log_trace_requests}}`): `traced_invocations`,
-- the REPORT rows of the range that name a trace; `trace_requests`, the
-- requests whose trace (the greatest, when their REPORT rows disagree) is
-- $trace_id, built on that trace's few requests; `no_requests`, the empty
-- stand-in a search without a trace filter joins instead.
-- $partition_from, $partition_to, $trace_id: as in filters/log_filter.sql
traced_invocations AS (
    SELECT request_id, trace_id
    FROM invocations
    WHERE dt || hour BETWEEN $partition_from AND $partition_to
      AND trace_id IS NOT NULL
      AND request_id IS NOT NULL
),
trace_requests AS (
    SELECT i.request_id, max(i.trace_id) AS trace_id
    FROM (SELECT DISTINCT request_id FROM traced_invocations WHERE trace_id = $trace_id) t
    JOIN traced_invocations i ON i.request_id = t.request_id
    GROUP BY i.request_id
    HAVING max(i.trace_id) = $trace_id
),
no_requests AS (
    SELECT CAST(NULL AS VARCHAR) AS request_id, CAST(NULL AS VARCHAR) AS trace_id
)
