-- Log search: the most recent log lines matching every given filter, each with
-- its trace id (the collector's link, or else the trace of its invocation).
-- $partition_from, $partition_to   hour partitions scanned, 'YYYY-MM-DDHH'
-- the log filter                  filters/log_filter.sql, with its parameters
-- $limit                           number of lines returned
-- A line's trace is its own, else the trace its request's REPORT names
-- (`request_traces`: one per request, the greatest if they disagree). Every
-- join is built on its small side (DataFusion hashes a join's left input and
-- cannot spill it; our tables give it no row counts to swap them): without a
-- trace filter the lines are cut to the limit first and only those lines'
-- requests are looked up; with one, only the requests of that trace are
-- joined to the lines. Joining every line of the range to every traced request
-- held 1.3 GB on the 10M-span bench index (ResourcesExhausted under the
-- default 2 GiB pool).
WITH {{log_trace_requests}},
hits AS (
    SELECT l."timestamp", coalesce(l.trace_id, r.trace_id) AS trace_id, l.span_id,
           l.request_id, l.service, l.level, l.message, l.log_group, l.log_stream,
           l.event_id, l.link, l.format
    FROM trace_requests r
    RIGHT JOIN logs l ON l.request_id = r.request_id
    WHERE $trace_id IS NOT NULL
      AND {{log_filter}}
    UNION ALL
    SELECT l."timestamp", l.trace_id, l.span_id,
           l.request_id, l.service, l.level, l.message, l.log_group, l.log_stream,
           l.event_id, l.link, l.format
    FROM no_requests r
    CROSS JOIN logs l
    WHERE $trace_id IS NULL
      AND {{log_filter}}
),
page AS (
    SELECT *
    FROM hits
    ORDER BY "timestamp" DESC, event_id
    LIMIT $limit
),
page_traces AS (
    SELECT i.request_id, max(i.trace_id) AS trace_id
    FROM (SELECT DISTINCT request_id FROM page WHERE trace_id IS NULL) p
    JOIN traced_invocations i ON i.request_id = p.request_id
    GROUP BY i.request_id
)
SELECT p."timestamp", coalesce(p.trace_id, r.trace_id) AS trace_id, p.span_id,
       p.request_id, p.service, p.level, p.message, p.log_group, p.log_stream,
       p.event_id, p.link, p.format
FROM page p
LEFT JOIN page_traces r ON p.request_id = r.request_id
ORDER BY p."timestamp" DESC, p.event_id
