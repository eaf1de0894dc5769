//! Service queries: the service list and its tags, operations, the service
//! map and RED (rate, errors, duration) series.

use super::engine::QueryEngine;
use super::error::QueryError;
use super::model::{Operation, RedPoint, ServiceEdge, ServiceSummary, ServiceTag};
use super::params::{ParamValue, Params, TimeRange, day_bucket};
use super::sql;

impl QueryEngine {
    /// Services with spans in the range, with their tags (see
    /// [`ServiceSummary::tags`]), and those seen only through their Lambda
    /// invocations ending in the range (`instrumented: false`), sorted by
    /// name.
    ///
    /// # Errors
    ///
    /// The failure of either query, services or their tags (see [`QueryError`]).
    pub async fn services(&self, range: &TimeRange) -> Result<Vec<ServiceSummary>, QueryError> {
        let params = Params::new().range(range, 0);
        let (mut services, tags) = futures::try_join!(
            self.run_typed::<ServiceSummary>(&sql::SERVICES, &params),
            self.run_typed::<ServiceTag>(&sql::SERVICE_TAGS, &params),
        )?;
        ServiceSummary::attach_tags(&mut services, &tags);
        Ok(services)
    }

    /// The services of [`QueryEngine::services`] that wrote spans: what
    /// Jaeger lists, since only they have traces to search.
    ///
    /// # Errors
    ///
    /// The errors of [`QueryEngine::services`].
    pub async fn instrumented_services(
        &self,
        range: &TimeRange,
    ) -> Result<Vec<ServiceSummary>, QueryError> {
        let mut services = self.services(range).await?;
        services.retain(|service| service.instrumented);
        Ok(services)
    }

    /// Operations of one service, optionally of one span kind.
    ///
    /// # Errors
    ///
    /// The query's failure (see [`QueryError`]). An unknown service or kind is no
    /// error: the list is empty.
    pub async fn operations(
        &self,
        range: &TimeRange,
        service: &str,
        kind: Option<&str>,
    ) -> Result<Vec<Operation>, QueryError> {
        let params = Params::new()
            .range(range, 0)
            .text("service", Some(service))
            .text("kind", kind);
        self.run_typed(&sql::OPERATIONS, &params).await
    }

    /// Edges of the service map over spans starting in the range, and into
    /// services without spans from the calls that reach their invocations
    /// (see `queries/service_map.sql`).
    ///
    /// # Errors
    ///
    /// The query's failure (see [`QueryError`]).
    pub async fn service_map(&self, range: &TimeRange) -> Result<Vec<ServiceEdge>, QueryError> {
        self.run_typed(&sql::SERVICE_MAP, &Params::new().range(range, 0))
            .await
    }

    /// RED series per service and operation, in buckets of `bucket_seconds`.
    ///
    /// # Errors
    ///
    /// [`QueryError::InvalidParameter`] (`bucket`) when `bucket_seconds` does not
    /// divide a day (1 to 86,400 s); then the query's failure (see [`QueryError`]).
    pub async fn red(
        &self,
        range: &TimeRange,
        service: Option<&str>,
        operation: Option<&str>,
        bucket_seconds: i64,
    ) -> Result<Vec<RedPoint>, QueryError> {
        self.red_series(range, service, operation, bucket_seconds, true)
            .await
    }

    /// RED series per service (all its operations together: the percentiles
    /// are over all its entry spans), in buckets of `bucket_seconds`.
    ///
    /// # Errors
    ///
    /// As [`QueryEngine::red`]: a `bucket_seconds` that does not divide a day, or
    /// the query's failure.
    pub async fn service_red(
        &self,
        range: &TimeRange,
        service: Option<&str>,
        bucket_seconds: i64,
    ) -> Result<Vec<RedPoint>, QueryError> {
        self.red_series(range, service, None, bucket_seconds, false)
            .await
    }

    async fn red_series(
        &self,
        range: &TimeRange,
        service: Option<&str>,
        operation: Option<&str>,
        bucket_seconds: i64,
        by_operation: bool,
    ) -> Result<Vec<RedPoint>, QueryError> {
        day_bucket(bucket_seconds)?;
        let params = Params::new()
            .range(range, 0)
            .text("service", service)
            .text("operation", operation)
            .with("bucket", ParamValue::IntervalSeconds(bucket_seconds))
            .with("by_operation", ParamValue::Bool(by_operation));
        let mut points: Vec<RedPoint> = self.run_typed(&sql::RED, &params).await?;
        for point in &mut points {
            point.rate_per_second = point.request_count as f64 / bucket_seconds as f64;
            point.error_rate = ratio(point.error_count, point.request_count);
        }
        Ok(points)
    }
}

/// `part / whole`, 0 when `whole` is 0.
pub(super) fn ratio(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}
