-- Service map: edges from a calling service to a called one, with call count,
-- error count (of the called side) and latency percentiles of the called span.
-- A parent → child span pair across services is a call; its kind is 'async'
-- when the child is a consumer span. A span link to a span of another service
-- is an 'async' call too, unless that span is also the parent.
-- Services that wrote no span but ran Lambda invocations (uninstrumented
-- functions) are called too: an invocation of such a service whose
-- `platform.start` X-Ray header names as `Parent=` a span of another service
-- is a call from that span (its error and duration are the invocation's, from
-- its REPORT); a client or producer span that names such a service
-- (`peer.service`, else `faas.invoked_name`: the service, its function, a
-- function named `<name>-…` or the function's ARN; the closest such name
-- only), has no child span and no such invocation under it is a call with the
-- client span's error and duration. A service's name is the one its spans carry for the function
-- (`faas.name`), else the one its log group's lines name, else the function.
-- $partition_from, $partition_to, $time_from, $time_to: as in search_traces.sql
WITH window_spans AS (
    SELECT trace_id, span_id, parent_span_id, service, kind, duration_ns, status_code, links
    FROM spans
    WHERE dt || hour BETWEEN $partition_from AND $partition_to
      AND start_time >= $time_from
      AND start_time < $time_to
),
linked AS (
    SELECT service, parent_span_id, duration_ns, status_code, unnest(links) AS link
    FROM window_spans
),
span_services AS (
    SELECT DISTINCT service
    FROM spans
    WHERE dt || hour BETWEEN $partition_from AND $partition_to
      AND service IS NOT NULL
),
function_services AS (
    SELECT DISTINCT faas_name
    FROM spans
    WHERE dt || hour BETWEEN $partition_from AND $partition_to
      AND faas_name IS NOT NULL
),
group_services AS (
    {{log_group_services}}
),
-- Invocations of services without spans.
dark_invocations AS (
    SELECT DISTINCT i.trace_id, i.request_id, i.function,
           coalesce(g.service, i.function) AS service,
           CAST(i.duration_ms * 1000000 AS BIGINT) AS duration_ns,
           CASE WHEN i.status IN ('error', 'timeout', 'failure') THEN 'error' ELSE 'ok' END AS status_code
    FROM invocations i
    LEFT JOIN function_services f ON f.faas_name = i.function
    LEFT JOIN group_services g ON g.log_group = i.log_group
    LEFT JOIN span_services s ON s.service = coalesce(g.service, i.function)
    WHERE i.dt || i.hour BETWEEN $partition_from AND $partition_to
      AND i.end_time >= $time_from
      AND i.end_time < $time_to
      AND i.function IS NOT NULL
      AND f.faas_name IS NULL
      AND s.service IS NULL
),
dark_services AS (
    SELECT DISTINCT service, function FROM dark_invocations
),
-- The X-Ray `Parent=` of each invocation's platform.start record.
start_parents AS (
    SELECT request_id,
           max(lower(substr(message, strpos(message, 'Parent=') + 7, 16))) AS parent_span_id
    FROM logs
    WHERE dt || hour BETWEEN $partition_from AND $partition_to
      AND format = 'lambda_platform_json'
      AND request_id IS NOT NULL
      AND strpos(message, 'platform.start') > 0
      AND strpos(message, 'Parent=') > 0
    GROUP BY request_id
),
xray_calls AS (
    SELECT caller.trace_id, caller.span_id, caller.service AS parent, d.service AS child,
           CASE WHEN caller.kind = 'producer' THEN 'async' ELSE 'sync' END AS kind,
           d.duration_ns, d.status_code
    FROM dark_invocations d
    JOIN start_parents p ON p.request_id = d.request_id
    JOIN window_spans caller
      ON caller.trace_id = d.trace_id AND caller.span_id = p.parent_span_id
    WHERE caller.service <> d.service
),
named_calls AS (
    SELECT trace_id, span_id, service AS caller, kind, duration_ns, status_code,
           coalesce(map_extract(attributes, 'peer.service')[1],
                    map_extract(attributes, 'faas.invoked_name')[1]) AS callee
    FROM spans
    WHERE dt || hour BETWEEN $partition_from AND $partition_to
      AND start_time >= $time_from
      AND start_time < $time_to
      AND kind IN ('client', 'producer')
),
children AS (
    SELECT DISTINCT trace_id, parent_span_id
    FROM spans
    WHERE dt || hour BETWEEN $partition_from AND $partition_to
      AND parent_span_id IS NOT NULL
),
-- Each call naming a service without spans, with how closely it names it:
-- 0 for the service, its function or the function's ARN, else the length of
-- the function named `<name>-…`; only the closest match counts.
peer_matches AS (
    SELECT c.trace_id, c.span_id, c.caller, c.kind, c.duration_ns, c.status_code,
           ds.service AS child,
           CASE
               WHEN ds.service = c.callee OR ds.function = c.callee
                    OR ends_with(c.callee, ':' || ds.function) THEN 0
               ELSE length(ds.function)
           END AS distance
    FROM named_calls c
    JOIN dark_services ds
      ON ds.service = c.callee
      OR ds.function = c.callee
      OR starts_with(ds.function, c.callee || '-')
      OR ends_with(c.callee, ':' || ds.function)
    LEFT JOIN children ch ON ch.trace_id = c.trace_id AND ch.parent_span_id = c.span_id
    LEFT JOIN xray_calls x ON x.trace_id = c.trace_id AND x.span_id = c.span_id
    WHERE c.callee IS NOT NULL
      AND c.caller <> ds.service
      AND ch.parent_span_id IS NULL
      AND x.span_id IS NULL
),
peer_ranked AS (
    SELECT *, min(distance) OVER (PARTITION BY trace_id, span_id) AS closest
    FROM peer_matches
),
peer_calls AS (
    SELECT DISTINCT trace_id, span_id, caller AS parent, child,
           CASE WHEN kind = 'producer' THEN 'async' ELSE 'sync' END AS kind,
           duration_ns, status_code
    FROM peer_ranked
    WHERE distance = closest
),
calls AS (
    SELECT parent.service AS parent, child.service AS child,
           CASE WHEN child.kind = 'consumer' THEN 'async' ELSE 'sync' END AS kind,
           child.duration_ns, child.status_code
    FROM window_spans child
    JOIN window_spans parent
      ON child.trace_id = parent.trace_id AND child.parent_span_id = parent.span_id
    WHERE parent.service <> child.service
    UNION ALL
    SELECT producer.service AS parent, consumer.service AS child, 'async' AS kind,
           consumer.duration_ns, consumer.status_code
    FROM linked consumer
    JOIN window_spans producer
      ON producer.trace_id = consumer.link['trace_id']
     AND producer.span_id = consumer.link['span_id']
    WHERE producer.service <> consumer.service
      AND (consumer.parent_span_id IS NULL OR consumer.parent_span_id <> producer.span_id)
    UNION ALL
    SELECT parent, child, kind, duration_ns, status_code FROM xray_calls
    UNION ALL
    SELECT parent, child, kind, duration_ns, status_code FROM peer_calls
)
SELECT parent, child, kind,
       count(*) AS call_count,
       sum(CASE WHEN status_code = 'error' THEN 1 ELSE 0 END) AS error_count,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ns) AS p50_ns,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ns) AS p99_ns
FROM calls
GROUP BY parent, child, kind
ORDER BY parent, child, kind
