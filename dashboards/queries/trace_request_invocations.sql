-- Trace by id, second step: invocations whose request id is one of the trace's
-- spans' but which are not linked to the trace.
-- In hours compacted throughout (`$uncompacted` false), only invocations
-- linked to no trace: compaction has linked every invocation to its request's
-- trace (to none on conflict; an SQS batch handler's stays on its REPORT's
-- own X-Ray trace, docs/dashboards.md), and `trace_id IS NULL` lets the scan skip every
-- page without an unlinked row (compacted files sort them last). Before
-- compaction an invocation may still carry the X-Ray trace of its REPORT while
-- the spans of its request name a W3C trace (delivered apart), so there every
-- invocation of those requests is read.
-- $request_ids   the request ids of the trace's spans, comma-separated, as in
--                trace_request_logs.sql (which says why a list, not a join)
-- $trace_id, $partition_from, $partition_to: as in trace_spans.sql
-- $uncompacted   true when an hour of the range has raw segments
SELECT request_id, function, function_version, log_group, log_stream,
       start_time, end_time, duration_ms, billed_duration_ms, memory_size_mb,
       max_memory_used_mb, init_duration_ms, cold_start, status, error_type,
       trace_id, sampled
FROM invocations
WHERE array_has(string_to_array($request_ids, ','), request_id)
  AND (trace_id IS NULL OR ($uncompacted AND trace_id <> $trace_id))
  AND dt || hour BETWEEN $partition_from AND $partition_to
ORDER BY end_time, request_id
