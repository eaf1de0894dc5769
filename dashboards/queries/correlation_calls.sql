-- Correlation report, calls: per called service (or destination), the client
-- and producer spans that name it, and those whose context did not arrive: no
-- span has the call as parent, and no invocation of the callee in the same
-- trace began during the call (after it, for a producer). The callee is
-- `peer.service`, else `faas.invoked_name`; a call that names neither but a
-- messaging destination (`messaging.destination.name`) is a call into that
-- queue, topic or stream, named `<system>:<destination>` with an `aws_` prefix
-- of `messaging.system` dropped (`sqs:orders-queue`, `sns:…`; `messaging:`
-- when no system is named), the node X-Ray and Jaeger draw for a messaging
-- system. Calls that name none (database and AWS API clients) are not counted.
-- An invocation is of a named callee when its function, or its service (the
-- one of its spans, else of its log group's lines: filters/invocation_services.sql),
-- is the callee, or its function is named `<callee>-…` (or the callee
-- is the function's ARN). A call into a destination arrived only when a span
-- has it as parent (an instrumented consumer continued the trace): the
-- consumer's name is never guessed and an invocation is never tied to a
-- publish by time alone, so a publish nothing continued counts against the
-- destination itself.
-- $partition_from, $partition_to   hour partitions scanned, 'YYYY-MM-DDHH'
-- $time_from, $time_to             call start time range [from, to)
WITH calls AS (
    SELECT trace_id, span_id, service AS caller, kind, start_time, end_time, request_id,
           coalesce(map_extract(attributes, 'peer.service')[1],
                    map_extract(attributes, 'faas.invoked_name')[1],
                    CASE
                        WHEN map_extract(attributes, 'messaging.system')[1] IS NULL THEN 'messaging'
                        WHEN starts_with(map_extract(attributes, 'messaging.system')[1], 'aws_')
                            THEN substr(map_extract(attributes, 'messaging.system')[1], 5)
                        ELSE map_extract(attributes, 'messaging.system')[1]
                    END || ':' || map_extract(attributes, 'messaging.destination.name')[1]) AS callee,
           map_extract(attributes, 'peer.service')[1] IS NULL
               AND map_extract(attributes, 'faas.invoked_name')[1] IS NULL AS to_destination
    FROM spans
    WHERE dt || hour BETWEEN $partition_from AND $partition_to
      AND start_time >= $time_from
      AND start_time < $time_to
      AND kind IN ('client', 'producer')
),
named_calls AS (
    SELECT * FROM calls WHERE callee IS NOT NULL
),
children AS (
    SELECT DISTINCT trace_id, parent_span_id
    FROM spans
    WHERE dt || hour BETWEEN $partition_from AND $partition_to
      AND parent_span_id IS NOT NULL
),
{{invocation_services}},
trace_invocations AS (
    SELECT trace_id, request_id, function, service,
           coalesce(start_time, end_time) AS started
    FROM invocation_services
    WHERE trace_id IS NOT NULL
),
-- The keys an invocation is named by, as `kind:name` (as service_map.sql's
-- dark_names): `n:` its function, its service and each prefix of its function
-- ending before a `-` (`orders` and `orders-api` for `orders-api-prod`), and
-- `a:` its function (a Lambda function's name has no `:`, so a callee naming
-- the function's ARN ends with `:` and the function). One row per key from one
-- pass (cut -2, -1, 0: the exact keys; 1…: the part before the cut-th `-`).
invocation_cuts AS (
    SELECT trace_id, request_id, function, service, started,
           unnest(generate_series(-2, coalesce(length(function) - length(replace(function, '-', '')), 0))) AS cut
    FROM trace_invocations
),
invocation_names AS (
    SELECT trace_id, request_id, started,
           CASE
               WHEN cut = -2 THEN 'n:' || service
               WHEN cut = -1 THEN 'n:' || function
               WHEN cut = 0 THEN 'a:' || function
               ELSE 'n:' || array_to_string(array_slice(string_to_array(function, '-'), 1, cut), '-')
           END AS name
    FROM invocation_cuts
),
-- The keys a call names its callee by (filters/callee_keys.sql, as the
-- service map's). Calls into a destination are never tied to an invocation.
call_names AS (
    SELECT trace_id, span_id, kind, start_time, end_time, request_id,
           unnest({{callee_keys}}) AS name
    FROM named_calls
    WHERE NOT to_destination
),
-- Invocations of a named callee that began during a call naming it (after
-- it, for a producer: an asynchronous Invoke): an equality join on the trace
-- and the callee's key, rather than pairing each call with every invocation
-- of its trace (docs/dashboards.md: no gain measured on 10M yet).
arrived AS (
    SELECT DISTINCT c.trace_id, c.span_id
    FROM call_names c
    JOIN invocation_names i ON i.trace_id = c.trace_id AND i.name = c.name
    WHERE (c.request_id IS NULL OR i.request_id <> c.request_id)
      AND i.started >= c.start_time
      AND (c.kind = 'producer' OR i.started <= c.end_time)
),
marked AS (
    SELECT c.callee, c.caller, c.trace_id, c.kind,
           ch.parent_span_id IS NULL AND a.span_id IS NULL AS lost
    FROM named_calls c
    LEFT JOIN children ch ON ch.trace_id = c.trace_id AND ch.parent_span_id = c.span_id
    LEFT JOIN arrived a ON a.trace_id = c.trace_id AND a.span_id = c.span_id
)
SELECT callee AS service,
       count(*) AS inbound_calls,
       sum(CASE WHEN lost THEN 1 ELSE 0 END) AS inbound_without_context,
       max(CASE WHEN lost THEN trace_id END) AS example_lost_trace_id,
       max(CASE WHEN lost THEN caller END) AS example_caller
FROM marked
GROUP BY callee
ORDER BY callee
