-- Trace by id: the log lines linked to one trace. Lines the collector left
-- unlinked whose request id belongs to the trace come from
-- trace_request_logs.sql, run once the trace's request ids are known.
-- $trace_id, $partition_from, $partition_to: as in trace_spans.sql
SELECT "timestamp", trace_id, span_id, request_id, service, level, message,
       attributes, log_group, log_stream, event_id, format, link
FROM logs
WHERE trace_id = $trace_id
  AND dt || hour BETWEEN $partition_from AND $partition_to
ORDER BY "timestamp", event_id
