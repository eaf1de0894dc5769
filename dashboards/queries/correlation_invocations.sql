-- Correlation report, invocations: per service, Lambda invocations ending in
-- the range and those tied to no trace (no trace id on the REPORT, no span
-- and no linked log line of that request). The service of a function:
-- filters/invocation_services.sql.
-- $partition_from, $partition_to   hour partitions scanned, 'YYYY-MM-DDHH'
-- $time_from, $time_to             invocation end time range [from, to)
-- traced_requests may name a request more than once (UNION ALL: deduplicating
-- every request id of the range cost a whole aggregate); the counts below
-- are of distinct requests.
WITH traced_requests AS (
    SELECT request_id
    FROM spans
    WHERE dt || hour BETWEEN $partition_from AND $partition_to
      AND request_id IS NOT NULL
    UNION ALL
    SELECT request_id
    FROM logs
    WHERE dt || hour BETWEEN $partition_from AND $partition_to
      AND request_id IS NOT NULL
      AND trace_id IS NOT NULL
),
{{invocation_services}},
-- Only invocations whose REPORT names no trace are joined to the traced
-- requests, with those invocations first (the hash join's table, which cannot
-- spill, is its left input): with every invocation of the range on that side
-- the report failed on the 10M-span bench index under the default pool.
marked AS (
    SELECT coalesce(i.service, 'unknown') AS service, i.function, i.request_id,
           false AS untraced
    FROM invocation_services i
    WHERE i.end_time >= $time_from
      AND i.end_time < $time_to
      AND i.trace_id IS NOT NULL
    UNION ALL
    SELECT coalesce(i.service, 'unknown') AS service, i.function, i.request_id,
           t.request_id IS NULL AS untraced
    FROM invocation_services i
    LEFT JOIN traced_requests t ON i.request_id = t.request_id
    WHERE i.end_time >= $time_from
      AND i.end_time < $time_to
      AND i.trace_id IS NULL
)
SELECT service,
       min(function) AS function,
       count(DISTINCT request_id) AS invocations,
       count(DISTINCT CASE WHEN untraced THEN request_id END) AS invocations_without_trace,
       max(CASE WHEN untraced THEN request_id END) AS example_untraced_request_id
FROM marked
GROUP BY service
ORDER BY service
