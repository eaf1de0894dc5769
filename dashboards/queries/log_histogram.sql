-- Log volume: lines matching a log search per time bucket and level, for the
-- histogram above the search results.
-- Parameters: as search_logs.sql (without $limit), plus
-- $bucket                bucket width (an interval dividing a day evenly)
-- The request join serves only the trace filter: as in search_logs.sql, with
-- one it is built on the requests of that trace, without one it is not made
-- (every line of the range was the join's table).
WITH {{log_trace_requests}},
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
