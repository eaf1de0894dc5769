-- Log search: the most recent log lines matching every given filter, each with
-- its trace id (the collector's link, or else the trace of its invocation).
-- $partition_from, $partition_to   hour partitions scanned, 'YYYY-MM-DDHH'
-- $time_from, $time_to             log timestamp range [from, to)
-- $text                            case-insensitive substring of the message, or NULL
-- $level, $service, $trace_id, $request_id   exact match, or NULL for any
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
WHERE l.dt || l.hour BETWEEN $partition_from AND $partition_to
  AND l."timestamp" >= $time_from
  AND l."timestamp" < $time_to
  AND ($text IS NULL OR strpos(lower(l.message), lower($text)) > 0)
  AND ($level IS NULL OR l.level = $level)
  AND ($service IS NULL OR l.service = $service)
  AND ($trace_id IS NULL OR coalesce(l.trace_id, r.trace_id) = $trace_id)
  AND ($request_id IS NULL OR l.request_id = $request_id)
ORDER BY l."timestamp" DESC, l.event_id
LIMIT $limit
