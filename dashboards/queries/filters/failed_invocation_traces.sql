-- The errors-only trace search's second half, shared by search_traces.sql
-- (tracelake's search) and search_trace_spans.sql (Jaeger v1 and v3 search):
-- a trace has an error when a span the services wrote has status error, or an
-- invocation of the trace that wrote no span failed (the trace view draws it
-- as a span of its function with status error, trace/synthetic.rs), as X-Ray
-- counts a fault on any segment of a trace. Spliced inside a WITH clause where
-- a query writes the failed_invocation_traces marker (followed by a comma and
-- the query's own CTEs); it defines the CTEs failed_invocations,
-- failed_invocation_services and failed_invocation_traces, the last with one
-- row per trace that has such an invocation matching the span filter as its
-- drawn span would (empty unless $errors_only).
-- A failed invocation is one filters/invocation_failed.sql says failed (the
-- rule of filters/invocation_services.sql too); one wrote no span when no
-- span of its trace carries its request id (as search_trace_invocations.sql).
-- Its drawn span, as the span filter sees it: named after its function, kind
-- `server`, its REPORT duration, its service the largest `service` other than
-- its function on its request's own (non-platform) lines, else its function
-- (read only for a service filter), as the trace view names the bar
-- (trace/synthetic.rs `service_of`; not invocation_services.sql's service,
-- which is its function's, from its spans or its log group's lines), no
-- attributes (an attribute filter never matches it), starting (else ending)
-- in the search's range.
-- $partition_from, $partition_to, $time_from, $time_to, and the span filter's
-- parameters: as in search_traces.sql.
failed_invocations AS (
    SELECT trace_id, request_id, function
    FROM invocations
    WHERE dt || hour BETWEEN $partition_from AND $partition_to
      AND $errors_only
      AND NOT $ok_only
      AND {{invocation_failed}}
      AND trace_id IS NOT NULL
      AND request_id IS NOT NULL
      AND coalesce(start_time, end_time) >= $time_from
      AND coalesce(start_time, end_time) < $time_to
      AND ($operation IS NULL OR function = $operation)
      AND ($kind IS NULL OR $kind = 'server')
      AND ($min_duration_ns IS NULL OR duration_ms * 1000000 >= $min_duration_ns)
      AND ($max_duration_ns IS NULL OR duration_ms * 1000000 <= $max_duration_ns)
      AND $attribute_key_1 IS NULL
      AND $attribute_key_2 IS NULL
      AND $attribute_key_3 IS NULL
),
failed_invocation_services AS (
    SELECT f.trace_id, f.request_id, coalesce(max(l.service), f.function) AS service
    FROM failed_invocations f
    LEFT JOIN (
        SELECT request_id, service, format
        FROM logs
        WHERE dt || hour BETWEEN $partition_from AND $partition_to
          AND $service IS NOT NULL
          AND request_id IS NOT NULL
          AND service IS NOT NULL
    ) l
      ON l.request_id = f.request_id
     AND l.service <> f.function
     AND (l.format IS NULL OR l.format NOT IN ('lambda_platform_text', 'lambda_platform_json'))
    GROUP BY f.trace_id, f.request_id, f.function
),
failed_invocation_traces AS (
    SELECT DISTINCT f.trace_id
    FROM failed_invocation_services f
    LEFT JOIN (
        SELECT trace_id, request_id
        FROM spans
        WHERE dt || hour BETWEEN $partition_from AND $partition_to
          AND request_id IS NOT NULL
    ) s
      ON s.trace_id = f.trace_id AND s.request_id = f.request_id
    WHERE s.request_id IS NULL
      AND ($service IS NULL OR f.service = $service)
)
