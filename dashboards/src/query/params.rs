//! Query parameters: time ranges, the hour partitions they touch, and the named
//! values bound to the SQL files.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use datafusion::common::metadata::ScalarAndMetadata;
use datafusion::common::{ParamValues, ScalarValue};
use serde::Serialize;

use super::error::QueryError;
use crate::params::values::divides_a_day;

/// Nanoseconds in one hour.
pub const HOUR_NS: i64 = 3_600 * 1_000_000_000;

/// Slack added on both sides of a time range when choosing the hour partitions
/// to read: a table may be partitioned by another time than the one filtered on
/// (an invocation's end versus its start, a log line's arrival).
pub const PARTITION_SLACK_NS: i64 = HOUR_NS;

/// A half-open time range `[from_ns, to_ns)` in nanoseconds since the epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TimeRange {
    /// Inclusive start.
    pub from_ns: i64,
    /// Exclusive end.
    pub to_ns: i64,
}

impl TimeRange {
    /// The range `[from_ns, to_ns)`; `None` when it is empty or reversed.
    pub fn new(from_ns: i64, to_ns: i64) -> Option<TimeRange> {
        (from_ns < to_ns).then_some(TimeRange { from_ns, to_ns })
    }

    /// The range ending now and lasting `seconds`.
    pub fn last_seconds(seconds: i64) -> TimeRange {
        let now = Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX);
        TimeRange {
            from_ns: now.saturating_sub(seconds.saturating_mul(1_000_000_000)),
            to_ns: now,
        }
    }

    /// The length of the range in seconds.
    pub fn seconds(&self) -> f64 {
        (self.to_ns - self.from_ns) as f64 / 1e9
    }

    /// The first and last hour partitions (`dt || hour`, `YYYY-MM-DDHH`) that can
    /// hold rows of this range, with `slack_ns` added on both sides for tables
    /// partitioned by a time other than the one filtered on.
    pub fn partitions(&self, slack_ns: i64) -> (String, String) {
        (
            partition_key(self.from_ns.saturating_sub(slack_ns)),
            partition_key(self.to_ns.saturating_add(slack_ns)),
        )
    }
}

/// The `dt || hour` key (`YYYY-MM-DDHH`) of the hour partition holding `time_ns`.
pub fn partition_key(time_ns: i64) -> String {
    let partition = tracelake_index::schema::HourPartition::of_nanos(time_ns);
    format!("{}{:02}", partition.date, partition.hour)
}

/// A timestamp in nanoseconds as `YYYY-MM-DD HH:MM:SS.mmm` (UTC).
pub fn format_timestamp(time_ns: i64) -> String {
    DateTime::<Utc>::from_timestamp_nanos(time_ns)
        .format("%Y-%m-%d %H:%M:%S%.3f")
        .to_string()
}

/// One bound value. Serialises with its type so that other engines (DuckDB in the
/// tests) can bind the same values.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum ParamValue {
    /// A string, or NULL.
    Text(Option<String>),
    /// A 64-bit integer, or NULL.
    Int(Option<i64>),
    /// A double.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A UTC timestamp in nanoseconds.
    TimestampNs(i64),
    /// An interval of whole seconds.
    IntervalSeconds(i64),
}

impl ParamValue {
    fn to_scalar(&self) -> ScalarValue {
        match self {
            ParamValue::Text(value) => ScalarValue::Utf8(value.clone()),
            ParamValue::Int(value) => ScalarValue::Int64(*value),
            ParamValue::Float(value) => ScalarValue::Float64(Some(*value)),
            ParamValue::Bool(value) => ScalarValue::Boolean(Some(*value)),
            ParamValue::TimestampNs(value) => {
                ScalarValue::TimestampNanosecond(Some(*value), Some("UTC".into()))
            }
            ParamValue::IntervalSeconds(seconds) => {
                ScalarValue::new_interval_mdn(0, 0, seconds.saturating_mul(1_000_000_000))
            }
        }
    }
}

/// The named parameters of one query (`$name` in the SQL).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Params(pub Vec<(String, ParamValue)>);

impl Params {
    /// No parameters.
    pub fn new() -> Params {
        Params::default()
    }

    /// Adds a parameter.
    pub fn with(mut self, name: &str, value: ParamValue) -> Params {
        self.0.push((name.to_owned(), value));
        self
    }

    /// Adds a string parameter (NULL when `None`).
    pub fn text(self, name: &str, value: Option<&str>) -> Params {
        self.with(name, ParamValue::Text(value.map(str::to_owned)))
    }

    /// Adds `$partition_from`, `$partition_to`, `$time_from` and `$time_to`.
    pub fn range(self, range: &TimeRange, partition_slack_ns: i64) -> Params {
        let (from, to) = range.partitions(partition_slack_ns);
        self.text("partition_from", Some(&from))
            .text("partition_to", Some(&to))
            .with("time_from", ParamValue::TimestampNs(range.from_ns))
            .with("time_to", ParamValue::TimestampNs(range.to_ns))
    }

    /// The values in DataFusion's form.
    pub fn to_param_values(&self) -> ParamValues {
        let map: HashMap<String, ScalarAndMetadata> = self
            .0
            .iter()
            .map(|(name, value)| (name.clone(), ScalarAndMetadata::from(value.to_scalar())))
            .collect();
        ParamValues::Map(map)
    }
}

/// The most rows a query may be asked for.
pub const MAX_LIMIT: i64 = 10_000;

/// `limit` when it is between 1 and [`MAX_LIMIT`].
pub(crate) fn positive_limit(limit: i64) -> Result<i64, QueryError> {
    if (1..=MAX_LIMIT).contains(&limit) {
        Ok(limit)
    } else {
        Err(QueryError::InvalidParameter {
            name: "limit",
            reason: format!("{limit} is not between 1 and {MAX_LIMIT}"),
        })
    }
}

/// Checks a histogram or RED bucket width: whole seconds that divide a day
/// ([`divides_a_day`], the rule the parameter parser applies too).
pub(crate) fn day_bucket(bucket_seconds: i64) -> Result<(), QueryError> {
    if divides_a_day(bucket_seconds) {
        Ok(())
    } else {
        Err(QueryError::InvalidParameter {
            name: "bucket",
            reason: format!("{bucket_seconds} s does not divide a day evenly"),
        })
    }
}
