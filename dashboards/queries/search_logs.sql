-- Log search: the most recent log lines matching every given filter, each with
-- its trace id (the collector's link, or else the trace of its invocation).
-- $partition_from, $partition_to   hour partitions scanned, 'YYYY-MM-DDHH'
-- the log filter                  filters/log_filter.sql, with its parameters
-- $limit                           number of lines returned
WITH request_traces AS (
    SELECT request_id, max(trace_id) AS trace_id
    FROM invocations
    WHERE dt || hour BETWEEN $partition_from AND $partition_to
      AND trace_id IS NOT NULL
      AND request_id IS NOT NULL
    GROUP BY request_id
)
SELECT l."timestamp", coalesce(l.trace_id, r.trace_id) AS trace_id, l.span_id,
       l.request_id, l.service, l.level, l.message, l.log_group, l.log_stream,
       l.event_id, l.link, l.format
FROM logs l
LEFT JOIN request_traces r ON l.request_id = r.request_id
WHERE {{log_filter}}
ORDER BY l."timestamp" DESC, l.event_id
LIMIT $limit
