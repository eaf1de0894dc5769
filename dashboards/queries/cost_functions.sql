-- Lambda cost per function: billed duration × memory × price per GB-second.
-- $partition_from, $partition_to, $time_from, $time_to: as in cold_starts.sql
-- $price_per_gb_second   USD per GB-second
-- $limit                 number of functions returned, most expensive first
SELECT function,
       count(*) AS invocations,
       sum(CAST(billed_duration_ms AS DOUBLE)) AS billed_ms,
       sum(CAST(billed_duration_ms AS DOUBLE) * CAST(memory_size_mb AS DOUBLE)) / 1024000.0 AS gb_seconds,
       sum(CAST(billed_duration_ms AS DOUBLE) * CAST(memory_size_mb AS DOUBLE)) / 1024000.0 * $price_per_gb_second AS cost_usd
FROM invocations
WHERE dt || hour BETWEEN $partition_from AND $partition_to
  AND end_time >= $time_from
  AND end_time < $time_to
GROUP BY function
ORDER BY cost_usd DESC, function
LIMIT $limit
