-- Log volume: lines matching a log search per time bucket and level, for the
-- histogram above the search results.
-- Parameters: as search_logs.sql (without $limit), plus
-- $bucket                bucket width (an interval dividing a day evenly)
-- The request join serves only the trace filter: as in search_logs.sql, with
-- one it is built on the requests of that trace, without one it is not made
-- (every line of the range was the join's table).
WITH traced_invocations AS (
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
),
hits AS (
    SELECT l."timestamp", l.level
    FROM trace_requests r
    RIGHT JOIN logs l ON l.request_id = r.request_id
    WHERE $trace_id IS NOT NULL
      AND {{log_filter}}
    UNION ALL
    SELECT l."timestamp", l.level
    FROM no_requests r
    CROSS JOIN logs l
    WHERE $trace_id IS NULL
      AND {{log_filter}}
)
SELECT time_bucket($bucket, "timestamp") AS bucket,
       coalesce(level, 'NONE') AS level,
       count(*) AS line_count
FROM hits
GROUP BY 1, 2
ORDER BY bucket, level
