//! Log search: the lines matching a [`LogSearch`] and their volume histogram.

use tracelake_instrumentation::wire::ids::TraceId;

use super::engine::QueryEngine;
use super::error::QueryError;
use std::collections::BTreeMap;

use super::model::{LogBucket, LogHistogram, LogHit, LogPage, LogVolume};
use super::params::PARTITION_SLACK_NS;
use super::params::{ParamValue, Params, TimeRange, day_bucket, positive_limit};
use super::{sql, trace};

/// Filters of a log search.
#[derive(Debug, Clone, PartialEq)]
pub struct LogSearch {
    /// Log timestamps searched.
    pub range: TimeRange,
    /// Case-insensitive substring of the message.
    pub text: Option<String>,
    /// Level (`ERROR`, …).
    pub level: Option<String>,
    /// Service.
    pub service: Option<String>,
    /// Trace.
    pub trace_id: Option<String>,
    /// Lambda request id (exact).
    pub request_id: Option<String>,
    /// Most lines returned; the answer says when more matched.
    pub limit: i64,
}

impl LogSearch {
    /// A search of `range` with no filters and a limit of 100.
    pub fn new(range: TimeRange) -> LogSearch {
        LogSearch {
            range,
            text: None,
            level: None,
            service: None,
            trace_id: None,
            request_id: None,
            limit: 100,
        }
    }

    /// The bound parameters of `search_logs.sql`.
    ///
    /// # Errors
    ///
    /// [`QueryError::InvalidParameter`] (`limit`) when the limit is not between 1
    /// and 10,000, and the errors of [`LogSearch::filter_params`].
    pub fn params(&self) -> Result<Params, QueryError> {
        // One more than asked, to tell the caller whether it was cut.
        Ok(self.filter_params()?.with(
            "limit",
            ParamValue::Int(Some(positive_limit(self.limit)?.saturating_add(1))),
        ))
    }

    /// The filters alone (no limit), as `log_histogram.sql` takes them.
    ///
    /// # Errors
    ///
    /// [`QueryError::InvalidTraceId`] when the trace id filter is not a trace id in
    /// any form [`TraceId::parse_any`] reads.
    pub fn filter_params(&self) -> Result<Params, QueryError> {
        let trace_id = match &self.trace_id {
            Some(text) => Some(
                TraceId::parse_any(text)
                    .map_err(|_| QueryError::InvalidTraceId(text.clone()))?
                    .to_string(),
            ),
            None => None,
        };
        Ok(Params::new()
            .range(&self.range, PARTITION_SLACK_NS)
            .text("text", self.text.as_deref())
            .text("level", self.level.as_deref())
            .text("service", self.service.as_deref())
            .text("trace_id", trace_id.as_deref())
            .text("request_id", self.request_id.as_deref()))
    }
}

impl QueryEngine {
    /// Log lines matching a search, most recent first, at most `limit` of
    /// them; [`LogPage::truncated`] says when more matched.
    ///
    /// # Errors
    ///
    /// The errors of [`LogSearch::params`] (limit, trace id), before anything
    /// runs; then the query's failure (see [`QueryError`]).
    pub async fn search_logs(&self, search: &LogSearch) -> Result<LogPage, QueryError> {
        let mut lines: Vec<LogHit> = self.run_typed(&sql::SEARCH_LOGS, &search.params()?).await?;
        let limit = usize::try_from(search.limit).unwrap_or(usize::MAX);
        let truncated = lines.len() > limit;
        lines.truncate(limit);
        for line in &mut lines {
            line.text =
                trace::readable_platform_text(line.format.as_deref(), line.message.as_deref());
        }
        Ok(LogPage {
            lines,
            limit: search.limit,
            truncated,
        })
    }

    /// Lines matching a log search (its limit aside) per bucket of
    /// `bucket_seconds` (every bucket of the range, empty ones with 0 lines)
    /// and per level and bucket, for a volume histogram.
    ///
    /// # Errors
    ///
    /// [`QueryError::InvalidParameter`] (`bucket`) when `bucket_seconds` does not
    /// divide a day or makes more than `MAX_HISTOGRAM_BUCKETS` (10,000) buckets over
    /// the range; [`QueryError::InvalidTraceId`] as in
    /// [`LogSearch::filter_params`]; then the query's failure (see [`QueryError`]).
    pub async fn log_histogram(
        &self,
        search: &LogSearch,
        bucket_seconds: i64,
    ) -> Result<LogHistogram, QueryError> {
        day_bucket(bucket_seconds)?;
        let mut buckets = empty_buckets(&search.range, bucket_seconds)?;
        let params = search
            .filter_params()?
            .with("bucket", ParamValue::IntervalSeconds(bucket_seconds));
        let volumes: Vec<LogVolume> = self.run_typed(&sql::LOG_HISTOGRAM, &params).await?;
        for volume in &volumes {
            *buckets.entry(volume.bucket).or_default() += volume.line_count;
        }
        Ok(LogHistogram {
            bucket_seconds,
            buckets: buckets
                .into_iter()
                .map(|(bucket, line_count)| LogBucket { bucket, line_count })
                .collect(),
            volumes,
        })
    }
}

/// Most buckets one log histogram holds.
pub const MAX_HISTOGRAM_BUCKETS: i128 = 10_000;

/// Every bucket of `bucket_seconds` (aligned on the epoch, as `time_bucket`)
/// that overlaps `range`, each with 0 lines.
fn empty_buckets(range: &TimeRange, bucket_seconds: i64) -> Result<BTreeMap<i64, i64>, QueryError> {
    let width = i128::from(bucket_seconds) * 1_000_000_000;
    let first = i128::from(range.from_ns).div_euclid(width) * width;
    let count = (i128::from(range.to_ns) - first + width - 1).div_euclid(width);
    if count > MAX_HISTOGRAM_BUCKETS {
        return Err(QueryError::InvalidParameter {
            name: "bucket",
            reason: format!(
                "{bucket_seconds} s buckets over the range make {count} bars, more than \
                 {MAX_HISTOGRAM_BUCKETS}: choose a wider bucket or a shorter range"
            ),
        });
    }
    Ok((0..count)
        .filter_map(|index| i64::try_from(first + index * width).ok())
        .map(|bucket| (bucket, 0))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: i64 = 1_000_000_000;

    #[test]
    fn empty_buckets_cover_the_range_from_the_bucket_of_its_start() {
        // 10:00:30 to 10:03:00 in minutes: 10:00, 10:01 and 10:02; 10:03 is past the end.
        let hour = 1_795_168_800 * SECOND;
        let range = TimeRange::new(hour + 30 * SECOND, hour + 180 * SECOND).expect("range");
        let buckets = empty_buckets(&range, 60).expect("buckets");
        assert_eq!(
            buckets.into_iter().collect::<Vec<_>>(),
            vec![(hour, 0), (hour + 60 * SECOND, 0), (hour + 120 * SECOND, 0)]
        );
        // A range before 1970 starts at the bucket below its start too.
        let range = TimeRange::new(-90 * SECOND, -SECOND).expect("range");
        let starts: Vec<i64> = empty_buckets(&range, 60)
            .expect("buckets")
            .into_keys()
            .collect();
        assert_eq!(starts, vec![-120 * SECOND, -60 * SECOND]);
    }

    #[test]
    fn too_many_buckets_are_refused() {
        let range = TimeRange::new(0, 20_000 * SECOND).expect("range");
        assert_eq!(empty_buckets(&range, 2).expect("10,000 bars").len(), 10_000);
        let error = empty_buckets(&range, 1).expect_err("20,000 bars");
        assert!(
            matches!(&error, QueryError::InvalidParameter { name: "bucket", reason } if reason.contains("20000 bars")),
            "{error}"
        );
    }
}
