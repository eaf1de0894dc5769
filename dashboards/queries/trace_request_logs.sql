-- Trace by id, second step: the lines the collector left unlinked (a link that
-- needed data from another batch, or a request that served several traces)
-- whose request id is one of the trace's: its spans' and its REPORT lines'
-- (trace_spans.sql and trace_invocations.sql). The ids come as a list rather
-- than as a join with those tables: DataFusion turns `array_has` of a constant
-- list into an IN list, which the compacted files' `request_id` bloom filters
-- and page statistics prune by row group and page, and the spans and REPORT
-- rows are not read a second time.
-- $request_ids   the trace's request ids, comma-separated (Lambda request ids
--                are UUIDs; the engine leaves out any id holding a comma)
-- $partition_from, $partition_to: as in trace_spans.sql
SELECT "timestamp", trace_id, span_id, request_id, service, level, message,
       attributes, log_group, log_stream, event_id, format, link
FROM logs
WHERE trace_id IS NULL
  AND array_has(string_to_array($request_ids, ','), request_id)
  AND dt || hour BETWEEN $partition_from AND $partition_to
ORDER BY "timestamp", event_id
