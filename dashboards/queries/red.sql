-- RED: rate, errors and duration of each service's entry spans (server and
-- consumer kinds, i.e. the requests it handles) per operation and time bucket,
-- or per service and time bucket (percentiles over all its operations).
-- $partition_from, $partition_to, $time_from, $time_to: as in search_traces.sql
-- $service, $operation   exact match, or NULL for all
-- $bucket                bucket width (an interval dividing a day evenly)
-- $by_operation          true: one series per operation; false: per service (operation NULL)
WITH entry_spans AS (
    SELECT service, CASE WHEN $by_operation THEN name ELSE NULL END AS operation,
           duration_ns, status_code,
           time_bucket($bucket, start_time) AS bucket
    FROM spans
    WHERE dt || hour BETWEEN $partition_from AND $partition_to
      AND start_time >= $time_from
      AND start_time < $time_to
      AND kind IN ('server', 'consumer')
      AND ($service IS NULL OR service = $service)
      AND ($operation IS NULL OR name = $operation)
)
SELECT service, operation, bucket,
       count(*) AS request_count,
       sum(CASE WHEN status_code = 'error' THEN 1 ELSE 0 END) AS error_count,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ns) AS p50_ns,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY duration_ns) AS p90_ns,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ns) AS p99_ns
FROM entry_spans
GROUP BY service, operation, bucket
ORDER BY service, operation, bucket
