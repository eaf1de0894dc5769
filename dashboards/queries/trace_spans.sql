-- Trace by id: every span of one trace, for the waterfall.
-- $trace_id          32 lowercase hex digits
-- $partition_from    first hour partition scanned, 'YYYY-MM-DDHH' (dt || hour)
-- $partition_to      last hour partition scanned, inclusive
SELECT trace_id, span_id, parent_span_id, name, kind, service,
       start_time, end_time, duration_ns, status_code, status_message,
       request_id, faas_name, faas_trigger, cold_start, cloud_region, cloud_account_id,
       attributes, resource_attributes, events, links, log_group, log_stream
FROM spans
WHERE trace_id = $trace_id
  AND dt || hour BETWEEN $partition_from AND $partition_to
ORDER BY start_time, span_id
