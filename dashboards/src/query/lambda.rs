//! Lambda queries: cold starts and cost per function and per trace.

use super::engine::QueryEngine;
use super::error::QueryError;
use super::model::{ColdStarts, FunctionCost, TraceCost};
use super::params::PARTITION_SLACK_NS;
use super::params::{ParamValue, Params, TimeRange, positive_limit};
use super::services::ratio;
use super::sql;

impl QueryEngine {
    /// Cold starts per function over invocations ending in the range.
    ///
    /// # Errors
    ///
    /// The query's failure (see [`QueryError`]).
    pub async fn cold_starts(
        &self,
        range: &TimeRange,
        function: Option<&str>,
    ) -> Result<Vec<ColdStarts>, QueryError> {
        let params = Params::new()
            .range(range, PARTITION_SLACK_NS)
            .text("function", function);
        let mut rows: Vec<ColdStarts> = self.run_typed(&sql::COLD_STARTS, &params).await?;
        for row in &mut rows {
            row.cold_start_rate = ratio(row.cold_starts, row.invocations);
        }
        Ok(rows)
    }

    fn cost_params(&self, range: &TimeRange, limit: i64) -> Result<Params, QueryError> {
        Ok(Params::new()
            .range(range, PARTITION_SLACK_NS)
            .with(
                "price_per_gb_second",
                ParamValue::Float(self.options.price_per_gb_second),
            )
            .with("limit", ParamValue::Int(Some(positive_limit(limit)?))))
    }

    /// Lambda cost per function, most expensive first.
    ///
    /// # Errors
    ///
    /// [`QueryError::InvalidParameter`] (`limit`) when `limit` is not between 1 and
    /// 10,000; otherwise the query's failure (see [`QueryError`]).
    pub async fn cost_by_function(
        &self,
        range: &TimeRange,
        limit: i64,
    ) -> Result<Vec<FunctionCost>, QueryError> {
        self.run_typed(&sql::COST_FUNCTIONS, &self.cost_params(range, limit)?)
            .await
    }

    /// Lambda cost per trace, most expensive first.
    ///
    /// # Errors
    ///
    /// [`QueryError::InvalidParameter`] (`limit`) when `limit` is not between 1 and
    /// 10,000; otherwise the query's failure (see [`QueryError`]).
    pub async fn cost_by_trace(
        &self,
        range: &TimeRange,
        limit: i64,
    ) -> Result<Vec<TraceCost>, QueryError> {
        self.run_typed(&sql::COST_TRACES, &self.cost_params(range, limit)?)
            .await
    }
}
