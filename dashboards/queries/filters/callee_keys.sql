-- The keys a call names its callee by, as `kind:name` (the keys of the
-- invocations it may have called: service_map.sql's dark_names,
-- correlation_calls.sql's invocation_names): `n:` the callee, and `a:` the
-- last `:` segment of a callee that has one (an ARN's function). A list, for
-- `unnest`; a NULL callee gives a NULL key, which matches nothing.
-- Spliced where a query writes the callee_keys marker, over a `callee` column.
CASE
    WHEN strpos(callee, ':') > 0
        THEN ['n:' || callee, 'a:' || reverse(split_part(reverse(callee), ':', 1))]
    ELSE ['n:' || callee]
END
