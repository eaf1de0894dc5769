-- Service map: edges from a calling service to a called one, with call count,
-- error count (of the called side) and latency percentiles of the called span.
-- A parent → child span pair across services is a call; its kind is 'async'
-- when the child is a consumer span. A span link to a span of another service
-- is an 'async' call too, unless that span is also the parent.
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
)
SELECT parent, child, kind,
       count(*) AS call_count,
       sum(CASE WHEN status_code = 'error' THEN 1 ELSE 0 END) AS error_count,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ns) AS p50_ns,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ns) AS p99_ns
FROM calls
GROUP BY parent, child, kind
ORDER BY parent, child, kind
