-- Trace search: the most recent traces with at least one span matching every
-- given filter, each summarised over all its spans in the time range, with its
-- root (the earliest span whose parent is not in the trace).
-- $partition_from, $partition_to   hour partitions scanned, 'YYYY-MM-DDHH'
-- $time_from, $time_to             span start time range [from, to)
-- the span filter                 filters/span_filter.sql, with its parameters
-- $limit                           number of traces returned
WITH window_spans AS (
    SELECT trace_id, span_id, parent_span_id, name, kind, service, start_time, end_time,
           duration_ns, status_code, attributes
    FROM spans
    WHERE dt || hour BETWEEN $partition_from AND $partition_to
      AND start_time >= $time_from
      AND start_time < $time_to
),
matching AS (
    SELECT DISTINCT trace_id
    FROM window_spans
    WHERE {{span_filter}}
),
summaries AS (
    SELECT s.trace_id,
           min(s.start_time) AS trace_start,
           max(s.end_time) AS trace_end,
           count(*) AS span_count,
           sum(CASE WHEN s.status_code = 'error' THEN 1 ELSE 0 END) AS error_count,
           array_agg(DISTINCT s.service ORDER BY s.service) AS services
    FROM window_spans s
    JOIN matching m ON s.trace_id = m.trace_id
    GROUP BY s.trace_id
    ORDER BY trace_start DESC, s.trace_id
    LIMIT $limit
),
-- The root: the earliest span whose parent is not in the trace (a span whose
-- caller was an uninstrumented service has a parent id but no parent row).
roots AS (
    SELECT child.trace_id, child.service, child.name,
           row_number() OVER (PARTITION BY child.trace_id ORDER BY child.start_time, child.span_id) AS position
    FROM window_spans child
    JOIN summaries t ON child.trace_id = t.trace_id
    LEFT JOIN window_spans parent
      ON child.trace_id = parent.trace_id AND child.parent_span_id = parent.span_id
    WHERE parent.span_id IS NULL
)
SELECT t.trace_id, t.trace_start, t.trace_end, t.span_count, t.error_count, t.services,
       r.service AS root_service, r.name AS root_name
FROM summaries t
LEFT JOIN roots r ON r.trace_id = t.trace_id AND r.position = 1
ORDER BY t.trace_start DESC, t.trace_id
