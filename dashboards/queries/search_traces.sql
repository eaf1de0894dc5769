-- Trace search: the most recent traces with at least one span matching every
-- given filter, each summarised over all its spans in the time range, with its
-- root (the earliest span whose parent is not in the trace). An errors-only
-- search also finds a trace whose failed invocation wrote no span and matches
-- the other filters as its drawn span would (filters/failed_invocation_traces.sql);
-- `error_count` counts written spans here, the search adds the failed drawn
-- invocations from its second pass.
-- $partition_from, $partition_to   hour partitions scanned, 'YYYY-MM-DDHH'
-- $time_from, $time_to             span start time range [from, to)
-- the span filter                 filters/span_filter.sql, with its parameters
-- $limit                           number of traces returned
WITH window_spans AS (
    SELECT trace_id, span_id, parent_span_id, name, kind, service, start_time, end_time,
           duration_ns, status_code, attributes, resource_attributes
    FROM spans
    WHERE dt || hour BETWEEN $partition_from AND $partition_to
      AND start_time >= $time_from
      AND start_time < $time_to
),
{{failed_invocation_traces}},
-- The traces with a matching span (or, for an errors-only search, a failed
-- invocation without spans: a row of failed_invocation_traces, which counts
-- as no written span), summarised and cut to the most recent
-- $limit in one aggregate (which spills) before anything is joined: every
-- join below builds its table from these few traces (the left input, which
-- DataFusion hashes and cannot spill) and streams the spans, which it prunes
-- by their trace ids. Joining the window's spans to the matching traces the
-- other way round held every span of the range in memory (10M spans over a
-- day: ResourcesExhausted under the default 2 GiB pool).
found AS (
    SELECT trace_id,
           min(start_time) AS trace_start,
           max(end_time) AS trace_end,
           sum(written) AS span_count,
           sum(CASE WHEN status_code = 'error' THEN 1 ELSE 0 END) AS error_count
    FROM (
        SELECT trace_id, start_time, end_time, status_code, 1 AS written,
               CASE WHEN {{span_filter}} THEN 1 ELSE 0 END AS matching
        FROM window_spans
        UNION ALL
        SELECT trace_id, NULL AS start_time, NULL AS end_time, NULL AS status_code,
               0 AS written, 1 AS matching
        FROM failed_invocation_traces
    ) candidates
    GROUP BY trace_id
    HAVING max(matching) = 1 AND sum(written) > 0
    ORDER BY trace_start DESC, trace_id
    LIMIT $limit
),
found_spans AS (
    SELECT s.trace_id, s.span_id, s.parent_span_id, s.service, s.name, s.start_time
    FROM found t
    JOIN window_spans s ON s.trace_id = t.trace_id
),
summaries AS (
    SELECT t.trace_id, t.trace_start, t.trace_end, t.span_count, t.error_count,
           array_agg(DISTINCT s.service ORDER BY s.service) AS services
    FROM found t
    JOIN found_spans s ON s.trace_id = t.trace_id
    GROUP BY t.trace_id, t.trace_start, t.trace_end, t.span_count, t.error_count
),
-- The root: the earliest span whose parent is not in the trace (a span whose
-- caller was an uninstrumented service has a parent id but no parent row).
roots AS (
    SELECT child.trace_id, child.service, child.name,
           row_number() OVER (PARTITION BY child.trace_id ORDER BY child.start_time, child.span_id) AS position
    FROM found_spans child
    LEFT JOIN found_spans parent
      ON child.trace_id = parent.trace_id AND child.parent_span_id = parent.span_id
    WHERE parent.span_id IS NULL
)
SELECT t.trace_id, t.trace_start, t.trace_end, t.span_count, t.error_count, t.services,
       r.service AS root_service, r.name AS root_name
FROM summaries t
LEFT JOIN roots r ON r.trace_id = t.trace_id AND r.position = 1
ORDER BY t.trace_start DESC, t.trace_id
