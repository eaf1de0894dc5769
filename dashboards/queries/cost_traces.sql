-- Lambda cost per trace, summed over the invocations whose REPORT names the trace.
-- $partition_from, $partition_to, $time_from, $time_to: as in cold_starts.sql
-- $price_per_gb_second   USD per GB-second
-- $limit                 number of traces returned, most expensive first
SELECT trace_id,
       count(*) AS invocations,
       count(DISTINCT function) AS functions,
       sum(CAST(billed_duration_ms AS DOUBLE)) AS billed_ms,
       sum(CAST(billed_duration_ms AS DOUBLE) * CAST(memory_size_mb AS DOUBLE)) / 1024000.0 * $price_per_gb_second AS cost_usd
FROM invocations
WHERE dt || hour BETWEEN $partition_from AND $partition_to
  AND end_time >= $time_from
  AND end_time < $time_to
  AND trace_id IS NOT NULL
GROUP BY trace_id
ORDER BY cost_usd DESC, trace_id
LIMIT $limit
