-- Which service each Lambda invocation is, and whether it is uninstrumented:
-- the one rule of services.sql, service_map.sql, correlation_invocations.sql
-- and correlation_calls.sql. Spliced inside a WITH clause where a query writes
-- the invocation_services marker (followed by a comma and the query's own CTEs);
-- it defines the CTEs span_services, function_services, group_services and
-- invocation_services.
-- A function's service is the one its spans carry for it (`faas.name`), else
-- the one its log group's lines name (log_group_services.sql), else the
-- function. An invocation is uninstrumented when no span in the scanned
-- partitions names its function (`faas.name`) or carries its service; it
-- failed as invocation_failed.sql says.
-- `invocation_services` has every invocation of the scanned partitions, with
-- the invocations columns a query may need, `service`, `uninstrumented` and
-- `failed`; a query filters it by time itself.
-- The joins are written small side first (RIGHT JOIN): DataFusion builds a
-- hash join's table from its left input, and our tables give it no row
-- counts to swap them, so `invocations i LEFT JOIN …` held every invocation
-- of the range in memory (2 GB of HashJoinInput, which cannot spill, for the
-- services list on the 10M-span bench index: ResourcesExhausted) where these
-- hold one row per function, log group and service.
-- $partition_from, $partition_to: the hour partitions scanned.
span_services AS (
    SELECT DISTINCT service
    FROM spans
    WHERE dt || hour BETWEEN $partition_from AND $partition_to
      AND service IS NOT NULL
),
function_services AS (
    SELECT faas_name, max(service) AS service
    FROM spans
    WHERE dt || hour BETWEEN $partition_from AND $partition_to
      AND faas_name IS NOT NULL
    GROUP BY faas_name
),
group_services AS (
    {{log_group_services}}
),
invocation_services AS (
    SELECT i.trace_id, i.request_id, i.function, i.log_group, i.start_time, i.end_time,
           i.duration_ms, i.status,
           coalesce(f.service, g.service, i.function) AS service,
           i.function IS NOT NULL AND f.faas_name IS NULL AND s.service IS NULL AS uninstrumented,
           {{invocation_failed}} AS failed
    FROM span_services s
    RIGHT JOIN (group_services g
        RIGHT JOIN (function_services f
            RIGHT JOIN invocations i ON f.faas_name = i.function)
        ON g.log_group = i.log_group)
    ON s.service = coalesce(f.service, g.service, i.function)
    WHERE i.dt || i.hour BETWEEN $partition_from AND $partition_to
)
