-- Athena / Glue tables over the tracelake index, format v1 (DESIGN.md "Index").
-- Replace s3://BUCKET/PREFIX with the index root (TRACELAKE_INDEX_URL of the
-- collector). Partitions are found by partition projection: no MSCK REPAIR, no
-- crawler. Each table reads the Hive symlink manifest of each hour
-- (v1/_symlink/<table>/dt=…/hour=…/manifest), which lists the hour's live files
-- as of its last compaction (docs/index.md): never a raw segment that a
-- compacted file already holds. An hour appears once it has been compacted. Times are Parquet TIMESTAMP(NANOS, UTC); Athena engine v3 reads them
-- as timestamp(3) with millisecond precision (duration_ns keeps the exact value).

CREATE DATABASE IF NOT EXISTS tracelake;

CREATE EXTERNAL TABLE IF NOT EXISTS tracelake.spans (
  trace_id string,
  span_id string,
  parent_span_id string,
  name string,
  kind string,
  service string,
  start_time timestamp,
  end_time timestamp,
  duration_ns bigint,
  status_code string,
  status_message string,
  request_id string,
  faas_name string,
  faas_trigger string,
  cold_start boolean,
  cloud_region string,
  cloud_account_id string,
  attributes map<string,string>,
  resource_attributes map<string,string>,
  events array<struct<time:timestamp,name:string,attributes:map<string,string>>>,
  links array<struct<trace_id:string,span_id:string,attributes:map<string,string>>>,
  log_group string,
  log_stream string
)
PARTITIONED BY (dt string, hour string)
ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'
STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://BUCKET/PREFIX/v1/_symlink/spans/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2024-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'projection.hour.type' = 'integer',
  'projection.hour.range' = '0,23',
  'projection.hour.digits' = '2',
  'storage.location.template' = 's3://BUCKET/PREFIX/v1/_symlink/spans/dt=${dt}/hour=${hour}/'
);

CREATE EXTERNAL TABLE IF NOT EXISTS tracelake.logs (
  `timestamp` timestamp,
  trace_id string,
  span_id string,
  request_id string,
  service string,
  level string,
  message string,
  attributes map<string,string>,
  log_group string,
  log_stream string,
  event_id string,
  format string,
  link string
)
PARTITIONED BY (dt string, hour string)
ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'
STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://BUCKET/PREFIX/v1/_symlink/logs/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2024-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'projection.hour.type' = 'integer',
  'projection.hour.range' = '0,23',
  'projection.hour.digits' = '2',
  'storage.location.template' = 's3://BUCKET/PREFIX/v1/_symlink/logs/dt=${dt}/hour=${hour}/'
);

CREATE EXTERNAL TABLE IF NOT EXISTS tracelake.invocations (
  request_id string,
  function string,
  function_version string,
  log_group string,
  log_stream string,
  start_time timestamp,
  end_time timestamp,
  duration_ms double,
  billed_duration_ms bigint,
  memory_size_mb bigint,
  max_memory_used_mb bigint,
  init_duration_ms double,
  cold_start boolean,
  status string,
  error_type string,
  trace_id string,
  sampled boolean
)
PARTITIONED BY (dt string, hour string)
ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'
STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://BUCKET/PREFIX/v1/_symlink/invocations/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2024-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'projection.hour.type' = 'integer',
  'projection.hour.range' = '0,23',
  'projection.hour.digits' = '2',
  'storage.location.template' = 's3://BUCKET/PREFIX/v1/_symlink/invocations/dt=${dt}/hour=${hour}/'
);

CREATE EXTERNAL TABLE IF NOT EXISTS tracelake.trace_index (
  trace_id string,
  min_start timestamp,
  max_end timestamp,
  root_service string,
  root_name string,
  span_count bigint,
  error_count bigint,
  services array<string>
)
PARTITIONED BY (dt string, hour string)
ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'
STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://BUCKET/PREFIX/v1/_symlink/trace_index/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2024-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'projection.hour.type' = 'integer',
  'projection.hour.range' = '0,23',
  'projection.hour.digits' = '2',
  'storage.location.template' = 's3://BUCKET/PREFIX/v1/_symlink/trace_index/dt=${dt}/hour=${hour}/'
);
