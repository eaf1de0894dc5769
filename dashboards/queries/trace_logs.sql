-- Trace by id: the log lines of one trace. Lines the collector linked to the
-- trace, plus lines it left unlinked whose request id belongs to one of the
-- trace's invocations (a link that needed data from another batch).
-- The trace's few request ids come first, as the join's build side: DataFusion
-- then pushes them into the scan of `logs` as a dynamic filter, which the
-- compacted files' `request_id` bloom filters and statistics prune by row
-- group. With `logs` first, the join read the request id of every unlinked
-- line of the range (12,680 on the demo hour, ~11 ms of a logs-only lookup).
-- $trace_id, $partition_from, $partition_to: as in trace_spans.sql
WITH trace_requests AS (
    SELECT request_id
    FROM spans
    WHERE trace_id = $trace_id
      AND request_id IS NOT NULL
      AND dt || hour BETWEEN $partition_from AND $partition_to
    UNION
    SELECT request_id
    FROM invocations
    WHERE trace_id = $trace_id
      AND request_id IS NOT NULL
      AND dt || hour BETWEEN $partition_from AND $partition_to
)
SELECT "timestamp", trace_id, span_id, request_id, service, level, message,
       attributes, log_group, log_stream, event_id, format, link
FROM logs
WHERE trace_id = $trace_id
  AND dt || hour BETWEEN $partition_from AND $partition_to
UNION ALL
SELECT l."timestamp", l.trace_id, l.span_id, l.request_id, l.service, l.level, l.message,
       l.attributes, l.log_group, l.log_stream, l.event_id, l.format, l.link
FROM trace_requests r
JOIN logs l ON l.request_id = r.request_id
WHERE l.trace_id IS NULL
  AND l.dt || l.hour BETWEEN $partition_from AND $partition_to
ORDER BY "timestamp", event_id
