-- Tags of each service: the resource attributes of its spans (team,
-- deployment.environment.name, cloud.region, service.namespace, faas.name,
-- whatever OTEL_RESOURCE_ATTRIBUTES set), with how many spans carry each value,
-- so that the caller keeps each key's most frequent value. Keys that name one
-- process or sandbox rather than the service are left out: they would make a
-- group per instance.
-- $partition_from, $partition_to, $time_from, $time_to: as in search_traces.sql
WITH entries AS (
    SELECT service, unnest(map_entries(resource_attributes)) AS entry
    FROM spans
    WHERE dt || hour BETWEEN $partition_from AND $partition_to
      AND start_time >= $time_from
      AND start_time < $time_to
      AND service IS NOT NULL
)
SELECT service, entry['key'] AS key, entry['value'] AS value, count(*) AS span_count
FROM entries
WHERE entry['key'] NOT IN ('service.name', 'service.instance.id', 'faas.instance',
                           'host.name', 'host.id', 'process.pid', 'container.id',
                           'aws.log.stream.names', 'aws.log.stream.arns')
  AND entry['value'] IS NOT NULL
GROUP BY service, entry['key'], entry['value']
ORDER BY service, key, value
