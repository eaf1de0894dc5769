-- Correlation report, calls: per called service (or destination), the client
-- and producer spans that name it, and those whose context did not arrive: no
-- span has the call as parent, and no other invocation of the same trace began
-- during the call (after it, for a producer). The callee is `peer.service`,
-- else `faas.invoked_name`, else `messaging.destination.name`; calls that name
-- none (database and AWS API clients) are not counted.
-- $partition_from, $partition_to   hour partitions scanned, 'YYYY-MM-DDHH'
-- $time_from, $time_to             call start time range [from, to)
WITH calls AS (
    SELECT trace_id, span_id, service AS caller, kind, start_time, end_time, request_id,
           coalesce(map_extract(attributes, 'peer.service')[1],
                    map_extract(attributes, 'faas.invoked_name')[1],
                    map_extract(attributes, 'messaging.destination.name')[1]) AS callee
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
trace_invocations AS (
    SELECT trace_id, request_id, coalesce(start_time, end_time) AS started
    FROM invocations
    WHERE dt || hour BETWEEN $partition_from AND $partition_to
      AND trace_id IS NOT NULL
),
arrived AS (
    SELECT DISTINCT c.trace_id, c.span_id
    FROM named_calls c
    JOIN trace_invocations i ON i.trace_id = c.trace_id
    WHERE (c.request_id IS NULL OR i.request_id IS NULL OR i.request_id <> c.request_id)
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
