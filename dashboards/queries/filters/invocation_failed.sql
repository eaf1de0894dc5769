-- Whether a Lambda invocation failed: its REPORT status is `error` or
-- `timeout` (the `invocations.status` values besides `success`). The one rule
-- of invocation_services.sql (its `failed`) and failed_invocation_traces.sql
-- (the errors-only search's invocations without spans). Spliced where a query
-- writes the invocation_failed marker, over `invocations` columns without a
-- table alias.
status IN ('error', 'timeout')
