-- Trace search, second pass: the Lambda invocations of the found traces, each
-- with `has_span` (a span of the trace carries its request id); those without
-- are what the trace view draws as spans of their functions (see
-- `trace/synthetic.rs`). For all found traces at once. Each table is filtered on the ids in the scan
-- (`array_has` of the list, which DataFusion turns into an IN list that prunes
-- row groups and pages), not only through the join with `wanted`, which made
-- the logs scan decode every line of the range before joining.
-- $trace_ids                       the found traces: 32-hex ids joined by ','
-- $partition_from, $partition_to   hour partitions scanned, 'YYYY-MM-DDHH'
WITH wanted AS (
    SELECT unnest(string_to_array($trace_ids, ',')) AS trace_id
),
span_requests AS (
    SELECT DISTINCT s.trace_id, s.request_id
    FROM spans s
    JOIN wanted w ON s.trace_id = w.trace_id
    WHERE s.dt || s.hour BETWEEN $partition_from AND $partition_to
      AND array_has(string_to_array($trace_ids, ','), s.trace_id)
      AND s.request_id IS NOT NULL
)
SELECT i.request_id, i.function, i.function_version, i.log_group, i.log_stream,
       i.start_time, i.end_time, i.duration_ms, i.billed_duration_ms, i.memory_size_mb,
       i.max_memory_used_mb, i.init_duration_ms, i.cold_start, i.status, i.error_type,
       i.trace_id, i.sampled, r.request_id IS NOT NULL AS has_span
FROM invocations i
JOIN wanted w ON i.trace_id = w.trace_id
LEFT JOIN span_requests r ON r.trace_id = i.trace_id AND r.request_id = i.request_id
WHERE i.dt || i.hour BETWEEN $partition_from AND $partition_to
  AND array_has(string_to_array($trace_ids, ','), i.trace_id)
  AND i.request_id IS NOT NULL
ORDER BY i.trace_id, i.end_time, i.request_id
