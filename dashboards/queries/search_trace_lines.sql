-- Trace search, second pass: the log lines with a request id of the found
-- traces, each with `has_span` (a span of the trace carries its request id);
-- the lines of invocations without spans give the trace view their times,
-- service, cold start and X-Ray parent. For all found traces at once. As in
-- trace_logs.sql: lines linked to the trace, plus unlinked lines of the
-- trace's invocations, each given the trace id it belongs to.
-- $trace_ids, $partition_from, $partition_to: as in search_trace_invocations.sql
-- (and filtered on the ids in each scan, as there)
WITH wanted AS (
    SELECT unnest(string_to_array($trace_ids, ',')) AS trace_id
),
span_requests AS (
    SELECT DISTINCT s.trace_id, s.request_id
    FROM spans s
    JOIN wanted w ON s.trace_id = w.trace_id
    WHERE s.dt || s.hour BETWEEN $partition_from AND $partition_to
      AND array_has(string_to_array($trace_ids, ','), s.trace_id)
      AND s.request_id IS NOT NULL
),
invocation_requests AS (
    SELECT DISTINCT i.trace_id, i.request_id
    FROM invocations i
    JOIN wanted w ON i.trace_id = w.trace_id
    WHERE i.dt || i.hour BETWEEN $partition_from AND $partition_to
      AND array_has(string_to_array($trace_ids, ','), i.trace_id)
      AND i.request_id IS NOT NULL
),
lines AS (
    SELECT l."timestamp", l.trace_id, l.span_id, l.request_id, l.service, l.level, l.message,
           l.attributes, l.log_group, l.log_stream, l.event_id, l.format, l.link
    FROM logs l
    JOIN wanted w ON l.trace_id = w.trace_id
    WHERE l.dt || l.hour BETWEEN $partition_from AND $partition_to
      AND array_has(string_to_array($trace_ids, ','), l.trace_id)
      AND l.request_id IS NOT NULL
    UNION ALL
    SELECT l."timestamp", r.trace_id, l.span_id, l.request_id, l.service, l.level, l.message,
           l.attributes, l.log_group, l.log_stream, l.event_id, l.format, l.link
    FROM logs l
    JOIN invocation_requests r ON l.request_id = r.request_id
    WHERE l.trace_id IS NULL
      AND l.dt || l.hour BETWEEN $partition_from AND $partition_to
)
SELECT x."timestamp", x.trace_id, x.span_id, x.request_id, x.service, x.level, x.message,
       x.attributes, x.log_group, x.log_stream, x.event_id, x.format, x.link,
       s.request_id IS NOT NULL AS has_span
FROM lines x
LEFT JOIN span_requests s ON s.trace_id = x.trace_id AND s.request_id = x.request_id
ORDER BY x.trace_id, x."timestamp", x.event_id
