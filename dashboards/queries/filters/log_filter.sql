-- The log filter of a log search, shared by search_logs.sql and
-- log_histogram.sql: a line matches when it passes every given filter.
-- Spliced where a query writes the log_filter marker, over `logs l` left-joined to
-- `request_traces r` (a line's trace id is its own, else its invocation's).
-- $partition_from, $partition_to   hour partitions scanned, 'YYYY-MM-DDHH'
-- $time_from, $time_to             log timestamp range [from, to)
-- $text                            case-insensitive substring of the message, or NULL
-- $level, $service, $trace_id, $request_id   exact match, or NULL for any
l.dt || l.hour BETWEEN $partition_from AND $partition_to
  AND l."timestamp" >= $time_from
  AND l."timestamp" < $time_to
  AND ($text IS NULL OR strpos(lower(l.message), lower($text)) > 0)
  AND ($level IS NULL OR l.level = $level)
  AND ($service IS NULL OR l.service = $service)
  AND ($trace_id IS NULL OR coalesce(l.trace_id, r.trace_id) = $trace_id)
  AND ($request_id IS NULL OR l.request_id = $request_id)
