-- Trace by id, first step: the hour partitions a trace has rows in, from
-- trace_index. Compaction writes a row per trace and hour for every trace, those
-- seen only in logs and invocations included, so any id form (X-Ray, random W3C,
-- 64-bit) is found here; the X-Ray epoch is only a hint.
-- $trace_id   32 lowercase hex digits
SELECT DISTINCT dt || hour AS "partition"
FROM trace_index
WHERE trace_id = $trace_id
ORDER BY "partition"
