-- Services seen in spans during a time range, with their span, trace and error
-- counts and the Lambda functions (faas.name) that ran them.
-- $partition_from, $partition_to, $time_from, $time_to: as in search_traces.sql
SELECT service,
       count(*) AS span_count,
       count(DISTINCT trace_id) AS trace_count,
       sum(CASE WHEN status_code = 'error' THEN 1 ELSE 0 END) AS error_count,
       array_agg(DISTINCT faas_name ORDER BY faas_name) FILTER (WHERE faas_name IS NOT NULL) AS functions
FROM spans
WHERE dt || hour BETWEEN $partition_from AND $partition_to
  AND start_time >= $time_from
  AND start_time < $time_to
  AND service IS NOT NULL
GROUP BY service
ORDER BY service
