-- Cold starts per function: invocations, cold starts and init duration percentiles.
-- $partition_from, $partition_to   hour partitions scanned, 'YYYY-MM-DDHH'
-- $time_from, $time_to             invocation end time range [from, to)
-- $function                        exact match, or NULL for all
SELECT function,
       count(*) AS invocations,
       sum(CASE WHEN cold_start THEN 1 ELSE 0 END) AS cold_starts,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY init_duration_ms) AS init_p50_ms,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY init_duration_ms) AS init_p99_ms
FROM invocations
WHERE dt || hour BETWEEN $partition_from AND $partition_to
  AND end_time >= $time_from
  AND end_time < $time_to
  AND ($function IS NULL OR function = $function)
GROUP BY function
ORDER BY cold_starts DESC, function
