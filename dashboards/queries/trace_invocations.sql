-- Trace by id: the Lambda invocations (REPORT lines) linked to one trace.
-- Invocations found by the request id of one of the trace's spans come from
-- trace_request_invocations.sql, run once the spans are known.
-- $trace_id, $partition_from, $partition_to: as in trace_spans.sql
SELECT request_id, function, function_version, log_group, log_stream,
       start_time, end_time, duration_ms, billed_duration_ms, memory_size_mb,
       max_memory_used_mb, init_duration_ms, cold_start, status, error_type,
       trace_id, sampled
FROM invocations
WHERE trace_id = $trace_id
  AND dt || hour BETWEEN $partition_from AND $partition_to
ORDER BY end_time, request_id
