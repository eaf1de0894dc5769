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
-- client span's error and duration. Which invocations are uninstrumented, and
-- their service: filters/invocation_services.sql.
-- Every join is written with its smaller input first: DataFusion builds a
-- hash join's table from its left input, which cannot spill, and our tables
-- give it no row counts to swap them (see invocation_services.sql). The
-- parent-span self-join has no small side: it builds on the parents' three
-- narrow columns and streams the children's six (with the children first,
-- and the named calls before the few names of services without spans, the
-- map over the 10M-span bench index needed three ~600 MB tables and failed
-- under the default 2 GiB pool).
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
{{invocation_services}},
-- Invocations of services without spans.
dark_invocations AS (
    SELECT DISTINCT trace_id, request_id, function, service,
           CAST(duration_ms * 1000000 AS BIGINT) AS duration_ns,
           CASE WHEN failed THEN 'error' ELSE 'ok' END AS status_code
    FROM invocation_services
    WHERE uninstrumented
      AND end_time >= $time_from
      AND end_time < $time_to
),
dark_services AS (
    SELECT DISTINCT service, function FROM dark_invocations
),
-- The names that call a service without spans, as `kind:name` keys, each with
-- how closely it names the service: `n:` its service or function (0) or a
-- prefix of the function ending before a `-` (the function's length: `orders`
-- for `orders-api-prod`), `a:` the function as an ARN's last `:` segment (0;
-- a Lambda function's name has no `:`, so this is `ends_with(arn, ':' || f)`).
-- One row per key from one pass over dark_services (cut -2, -1, 0: the exact
-- keys; 1…: a `-` at that character). Calls are joined to these keys on
-- equality rather than tested against every service.
dark_cuts AS (
    SELECT service, function, unnest(generate_series(-2, length(function))) AS cut
    FROM dark_services
),
dark_names AS (
    SELECT service,
           CASE
               WHEN cut = -2 THEN 'n:' || service
               WHEN cut = -1 THEN 'n:' || function
               WHEN cut = 0 THEN 'a:' || function
               ELSE 'n:' || substr(function, 1, cut - 1)
           END AS name,
           CASE WHEN cut > 0 THEN length(function) ELSE 0 END AS distance
    FROM dark_cuts
    WHERE cut <= 0 OR substr(function, cut, 1) = '-'
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
    FROM start_parents p
    JOIN dark_invocations d ON p.request_id = d.request_id
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
-- The keys a call names its callee by (filters/callee_keys.sql, as the
-- correlation report's). A call that names no callee has a NULL key, which
-- matches nothing (not filtered first: that would read the attributes twice).
call_names AS (
    SELECT trace_id, span_id, caller, kind, duration_ns, status_code,
           unnest({{callee_keys}}) AS name
    FROM named_calls
),
-- The calls into services without spans: each X-Ray call (distance -1, and a
-- row number so that none is merged with another), and each call naming such a
-- service (dark_names) that has no child span. Of a call span's rows, only the
-- closest count: its X-Ray calls when it has any, else the services it names
-- most closely, once each. The closest are taken before the named calls with a
-- child span are dropped (the same rows: a span's named calls all have a child
-- or none has, and its X-Ray calls are closer than any): the window's sort
-- then reads the small batches of the name join, where after the join with
-- `children` each batch held that join's whole table (string views share
-- their buffers), a first batch of ~160 MB that the sort could not reserve
-- under the default 2 GiB pool on the 10M-span bench index.
dark_calls AS (
    SELECT trace_id, span_id, parent, child, kind, duration_ns, status_code,
           -1 AS distance, row_number() OVER () AS xray_call
    FROM xray_calls
    UNION ALL
    SELECT c.trace_id, c.span_id, c.caller AS parent, n.service AS child,
           CASE WHEN c.kind = 'producer' THEN 'async' ELSE 'sync' END AS kind,
           c.duration_ns, c.status_code, n.distance, NULL AS xray_call
    FROM dark_names n
    JOIN call_names c ON n.name = c.name
    WHERE c.caller <> n.service
),
dark_ranked AS (
    SELECT *, min(distance) OVER (PARTITION BY trace_id, span_id) AS closest
    FROM dark_calls
),
closest_dark_calls AS (
    SELECT DISTINCT d.trace_id, d.span_id, d.parent, d.child, d.kind, d.duration_ns,
           d.status_code, d.xray_call
    FROM dark_ranked d
    LEFT JOIN children ch ON ch.trace_id = d.trace_id AND ch.parent_span_id = d.span_id
    WHERE d.distance = d.closest
      AND (d.xray_call IS NOT NULL OR ch.parent_span_id IS NULL)
),
calls AS (
    SELECT parent.service AS parent, child.service AS child,
           CASE WHEN child.kind = 'consumer' THEN 'async' ELSE 'sync' END AS kind,
           child.duration_ns, child.status_code
    FROM window_spans parent
    JOIN window_spans child
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
    SELECT parent, child, kind, duration_ns, status_code FROM closest_dark_calls
)
SELECT parent, child, kind,
       count(*) AS call_count,
       sum(CASE WHEN status_code = 'error' THEN 1 ELSE 0 END) AS error_count,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ns) AS p50_ns,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ns) AS p99_ns
FROM calls
GROUP BY parent, child, kind
ORDER BY parent, child, kind
