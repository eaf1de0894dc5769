-- Services seen in spans during a time range, with their span, trace and error
-- counts and the Lambda functions (faas.name) that ran them; then the services
-- that wrote no span but ran Lambda invocations ending in the range
-- (uninstrumented functions, `instrumented` false), with 0 spans, the traces
-- their invocations joined, their failed invocations, their invocations and
-- functions. Which invocations are uninstrumented or failed, and their
-- service: filters/invocation_services.sql.
-- $partition_from, $partition_to, $time_from, $time_to: as in search_traces.sql
WITH {{invocation_services}},
dark_invocations AS (
    SELECT DISTINCT trace_id, request_id, function, service, failed
    FROM invocation_services
    WHERE uninstrumented
      AND end_time >= $time_from
      AND end_time < $time_to
),
-- Spans of each service and trace: a service's traces are counted from these
-- rows (a hash aggregate DataFusion can spill to disk) rather than with
-- count(DISTINCT trace_id), which holds every trace id of a service in one
-- group in memory and failed at 10M spans under a 2 GiB pool.
service_traces AS (
    SELECT service, trace_id,
           count(*) AS span_count,
           sum(CASE WHEN status_code = 'error' THEN 1 ELSE 0 END) AS error_count
    FROM spans
    WHERE dt || hour BETWEEN $partition_from AND $partition_to
      AND start_time >= $time_from
      AND start_time < $time_to
      AND service IS NOT NULL
    GROUP BY service, trace_id
),
service_functions AS (
    SELECT service, array_agg(faas_name ORDER BY faas_name) AS functions
    FROM (
        SELECT DISTINCT service, faas_name
        FROM spans
        WHERE dt || hour BETWEEN $partition_from AND $partition_to
          AND start_time >= $time_from
          AND start_time < $time_to
          AND service IS NOT NULL
          AND faas_name IS NOT NULL
    ) named
    GROUP BY service
),
service_counts AS (
    SELECT service,
           CAST(sum(span_count) AS BIGINT) AS span_count,
           count(trace_id) AS trace_count,
           CAST(sum(error_count) AS BIGINT) AS error_count
    FROM service_traces
    GROUP BY service
),
instrumented AS (
    SELECT c.service, c.span_count, c.trace_count, c.error_count, f.functions,
           CAST(NULL AS BIGINT) AS invocation_count,
           true AS instrumented
    FROM service_counts c
    LEFT JOIN service_functions f ON f.service = c.service
),
uninstrumented AS (
    SELECT service,
           CAST(0 AS BIGINT) AS span_count,
           count(DISTINCT trace_id) AS trace_count,
           sum(CASE WHEN failed THEN 1 ELSE 0 END) AS error_count,
           array_agg(DISTINCT function ORDER BY function) AS functions,
           count(DISTINCT request_id) AS invocation_count,
           false AS instrumented
    FROM dark_invocations
    GROUP BY service
)
SELECT * FROM instrumented
UNION ALL
SELECT * FROM uninstrumented
ORDER BY service
