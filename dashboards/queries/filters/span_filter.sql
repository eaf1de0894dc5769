-- The span filter of a trace search, shared by search_traces.sql (tracelake's
-- search) and search_trace_spans.sql (Jaeger v1 and v3 search): a span matches
-- when it passes every given filter. Spliced after WHERE where a query writes
-- span_filter marker, over columns of `spans` without a table alias.
-- $service, $operation, $kind      exact match, or NULL for any
-- $min_duration_ns, $max_duration_ns   span duration bounds, or NULL
-- $errors_only                     true: only spans with status 'error' match
-- $ok_only                         true: only spans with status 'ok' match (Jaeger's
--     tag otel.status_code=OK)
-- $attribute_key_1, $attribute_value_1, … _3   tag equality, NULL key for none: the
--     span's attribute or its resource's (Jaeger's process tags), as Jaeger's
--     storages match a tag on either
($service IS NULL OR service = $service)
      AND ($operation IS NULL OR name = $operation)
      AND ($kind IS NULL OR kind = $kind)
      AND ($min_duration_ns IS NULL OR duration_ns >= $min_duration_ns)
      AND ($max_duration_ns IS NULL OR duration_ns <= $max_duration_ns)
      AND (NOT $errors_only OR status_code = 'error')
      AND (NOT $ok_only OR status_code = 'ok')
      AND ($attribute_key_1 IS NULL
           OR array_has(map_extract(attributes, $attribute_key_1), $attribute_value_1)
           OR array_has(map_extract(resource_attributes, $attribute_key_1), $attribute_value_1))
      AND ($attribute_key_2 IS NULL
           OR array_has(map_extract(attributes, $attribute_key_2), $attribute_value_2)
           OR array_has(map_extract(resource_attributes, $attribute_key_2), $attribute_value_2))
      AND ($attribute_key_3 IS NULL
           OR array_has(map_extract(attributes, $attribute_key_3), $attribute_value_3)
           OR array_has(map_extract(resource_attributes, $attribute_key_3), $attribute_value_3))
