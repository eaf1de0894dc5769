-- Operations (span names) of one service, with their span kind.
-- $partition_from, $partition_to, $time_from, $time_to: as in search_traces.sql
-- $service   the service
-- $kind      span kind, or NULL for any
SELECT name, kind, count(*) AS span_count
FROM spans
WHERE dt || hour BETWEEN $partition_from AND $partition_to
  AND start_time >= $time_from
  AND start_time < $time_to
  AND service = $service
  AND ($kind IS NULL OR kind = $kind)
  AND name IS NOT NULL
GROUP BY name, kind
ORDER BY name, kind
