-- Trace by id: the Lambda invocations (REPORT lines) of one trace, found by the
-- trace id of the REPORT line or, for an invocation linked to no trace, by the
-- request id of one of the trace's spans (as trace_logs.sql finds unlinked
-- lines). An invocation linked to another trace stays in that one: compaction
-- links an invocation to its request's trace, and to none on conflict. The
-- `trace_id IS NULL` also lets the scan skip every page without an unlinked
-- row (the compacted files sort them last): without it the join read the
-- hour's whole request_id column, 15 MB and ~200 ms per lookup on the
-- 10M-span bench index.
-- $trace_id, $partition_from, $partition_to: as in trace_spans.sql
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
FROM invocations i
JOIN trace_requests r ON i.request_id = r.request_id
WHERE i.trace_id IS NULL
  AND i.dt || i.hour BETWEEN $partition_from AND $partition_to
ORDER BY end_time, request_id
