-- Correlation report, log lines: per service, how its lines are linked to a
-- trace (by the collector: trace_id, request_id, stream; or at query time by
-- the request id of an invocation whose REPORT names a trace), and how many
-- are linked to none.
-- $partition_from, $partition_to   hour partitions scanned, 'YYYY-MM-DDHH'
-- $time_from, $time_to             log timestamp range [from, to)
WITH request_traces AS (
    SELECT request_id, max(trace_id) AS trace_id
    FROM invocations
    WHERE dt || hour BETWEEN $partition_from AND $partition_to
      AND trace_id IS NOT NULL
      AND request_id IS NOT NULL
    GROUP BY request_id
),
-- Only lines with no trace of their own are joined by request id (a line
-- with a trace keeps it): those lines first, as the hash join's table; with
-- every line of the range there it held 1.3 GB on the 10M-span bench index.
lines AS (
    SELECT coalesce(l.service, l.log_group, 'unknown') AS service, l.log_group, l.link,
           l.trace_id, l.request_id, CAST(NULL AS VARCHAR) AS joined_trace_id
    FROM logs l
    WHERE l.dt || l.hour BETWEEN $partition_from AND $partition_to
      AND l."timestamp" >= $time_from
      AND l."timestamp" < $time_to
      AND NOT (l.request_id IS NULL AND l.format IN ('lambda_platform_text', 'lambda_platform_json'))
      AND (l.trace_id IS NOT NULL OR l.request_id IS NULL)
    UNION ALL
    SELECT coalesce(l.service, l.log_group, 'unknown') AS service, l.log_group, l.link,
           l.trace_id, l.request_id, r.trace_id AS joined_trace_id
    FROM logs l
    LEFT JOIN request_traces r ON l.request_id = r.request_id
    WHERE l.dt || l.hour BETWEEN $partition_from AND $partition_to
      AND l."timestamp" >= $time_from
      AND l."timestamp" < $time_to
      AND l.trace_id IS NULL
      AND l.request_id IS NOT NULL
)
SELECT service,
       min(log_group) AS log_group,
       count(*) AS log_lines,
       sum(CASE WHEN trace_id IS NOT NULL AND link = 'trace_id' THEN 1 ELSE 0 END) AS by_trace_id,
       sum(CASE WHEN trace_id IS NOT NULL AND link = 'request_id' THEN 1 ELSE 0 END) AS by_request_id,
       sum(CASE WHEN trace_id IS NOT NULL AND link = 'stream' THEN 1 ELSE 0 END) AS by_stream,
       sum(CASE WHEN trace_id IS NOT NULL AND (link IS NULL OR link NOT IN ('trace_id', 'request_id', 'stream')) THEN 1 ELSE 0 END) AS by_other,
       sum(CASE WHEN trace_id IS NULL AND joined_trace_id IS NOT NULL THEN 1 ELSE 0 END) AS by_query_join,
       sum(CASE WHEN trace_id IS NULL AND joined_trace_id IS NULL THEN 1 ELSE 0 END) AS unlinked,
       max(coalesce(trace_id, joined_trace_id)) AS example_trace_id,
       max(CASE WHEN trace_id IS NULL AND joined_trace_id IS NULL THEN request_id END) AS example_unlinked_request_id
FROM lines
GROUP BY service
ORDER BY service
