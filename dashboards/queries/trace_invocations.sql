-- Trace by id: the Lambda invocations (REPORT lines) of one trace, found by the
-- trace id of the REPORT line or by the request id of one of the trace's spans.
-- In hours compacted throughout (`$uncompacted` false), only invocations linked
-- to no trace are joined by request id, as trace_logs.sql joins unlinked
-- lines: compaction has linked every invocation to its request's trace (to
-- none on conflict), and `trace_id IS NULL` lets the scan skip every page
-- without an unlinked row (compacted files sort them last), where the join
-- read the hour's whole request_id column (15 MB, ~200 ms of each lookup on
-- the 10M-span bench index). Before compaction an invocation may still carry
-- the X-Ray trace of its REPORT while the spans of its request name a W3C
-- trace (delivered apart), so there every invocation is joined.
-- $trace_id, $partition_from, $partition_to: as in trace_spans.sql
-- $uncompacted   true when an hour of the range has raw segments
WITH trace_requests AS (
    SELECT DISTINCT request_id
    FROM spans
    WHERE trace_id = $trace_id
      AND request_id IS NOT NULL
      AND dt || hour BETWEEN $partition_from AND $partition_to
)
SELECT request_id, function, function_version, log_group, log_stream,
       start_time, end_time, duration_ms, billed_duration_ms, memory_size_mb,
       max_memory_used_mb, init_duration_ms, cold_start, status, error_type,
       trace_id, sampled
FROM invocations
WHERE trace_id = $trace_id
  AND dt || hour BETWEEN $partition_from AND $partition_to
UNION
SELECT i.request_id, i.function, i.function_version, i.log_group, i.log_stream,
       i.start_time, i.end_time, i.duration_ms, i.billed_duration_ms, i.memory_size_mb,
       i.max_memory_used_mb, i.init_duration_ms, i.cold_start, i.status, i.error_type,
       i.trace_id, i.sampled
FROM trace_requests r
JOIN invocations i ON i.request_id = r.request_id
WHERE (i.trace_id IS NULL OR $uncompacted)
  AND i.dt || i.hour BETWEEN $partition_from AND $partition_to
ORDER BY end_time, request_id
