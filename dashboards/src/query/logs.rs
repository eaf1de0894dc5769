//! Log search: the lines matching a [`LogSearch`] and their volume histogram.

use tracelake_instrumentation::wire::ids::TraceId;

use super::engine::QueryEngine;
use super::error::QueryError;
use super::model::{LogHit, LogPage, LogVolume};
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

    /// Lines matching a log search (its limit aside) per level and bucket of
    /// `bucket_seconds`, for a volume histogram.
    ///
    /// # Errors
    ///
    /// [`QueryError::InvalidParameter`] (`bucket`) when `bucket_seconds` does not
    /// divide a day; [`QueryError::InvalidTraceId`] as in
    /// [`LogSearch::filter_params`]; then the query's failure (see [`QueryError`]).
    pub async fn log_histogram(
        &self,
        search: &LogSearch,
        bucket_seconds: i64,
    ) -> Result<Vec<LogVolume>, QueryError> {
        day_bucket(bucket_seconds)?;
        let params = search
            .filter_params()?
            .with("bucket", ParamValue::IntervalSeconds(bucket_seconds));
        self.run_typed(&sql::LOG_HISTOGRAM, &params).await
    }
}
