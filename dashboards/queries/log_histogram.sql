-- Log volume: lines matching a log search per time bucket and level, for the
-- histogram above the search results.
-- Parameters: as search_logs.sql (without $limit), plus
-- $bucket                bucket width (an interval dividing a day evenly)
WITH request_traces AS (
    SELECT request_id, max(trace_id) AS trace_id
    FROM invocations
    WHERE dt || hour BETWEEN $partition_from AND $partition_to
      AND trace_id IS NOT NULL
      AND request_id IS NOT NULL
    GROUP BY request_id
)
SELECT time_bucket($bucket, l."timestamp") AS bucket,
       coalesce(l.level, 'NONE') AS level,
       count(*) AS line_count
FROM logs l
LEFT JOIN request_traces r ON l.request_id = r.request_id
WHERE {{log_filter}}
GROUP BY 1, 2
ORDER BY bucket, level
