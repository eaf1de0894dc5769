-- Trace by id, first step: the hour partitions a trace has rows in, from
-- trace_index. Compaction writes a row per trace and hour for every trace, those
-- seen only in logs and invocations included, so any id form (X-Ray, random W3C,
-- 64-bit) is found here; the X-Ray epoch is only a hint. With each hour, the
-- trace's spans there: a trace whose compacted hours hold none (logs and
-- invocations only) needs no spans query.
-- $trace_id   32 lowercase hex digits
SELECT dt || hour AS "partition", sum(span_count) AS span_count
FROM trace_index
WHERE trace_id = $trace_id
GROUP BY dt || hour
ORDER BY "partition"
