-- A log group's service: the one its lines name themselves (a structured
-- `service` field) rather than the function name the collector falls back to
-- when a line names none. Used as a CTE by services.sql, service_map.sql and
-- correlation_invocations.sql, which name a Lambda function's service alike.
-- $partition_from, $partition_to: the hour partitions scanned.
SELECT log_group,
       coalesce(max(CASE WHEN service <> replace(log_group, '/aws/lambda/', '') THEN service END),
                max(service)) AS service
FROM logs
WHERE dt || hour BETWEEN $partition_from AND $partition_to
  AND service IS NOT NULL
GROUP BY log_group
