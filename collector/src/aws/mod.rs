//! AWS tooling behind `tracelake aws` (the `aws` cargo feature): subscribing
//! log groups to the collector, backfilling history, and reporting status.
//!
//! Built on `aws-sdk-cloudwatchlogs` and `aws-config`, so the standard `AWS_*`
//! variables, profiles and `AWS_ENDPOINT_URL` apply. Throttling is retried by
//! the SDK's standard retry strategy (exponential backoff with jitter) with
//! [`MAX_ATTEMPTS`] attempts. None of this is linked into the Lambda binary.
//!
//! - [`subscribe`]: put an idempotent subscription filter named
//!   [`FILTER_NAME`] on every selected log group (or one account-level policy),
//!   never replacing another tool's filter and never subscribing the
//!   collector's own log group; [`subscribe::unsubscribe`] removes exactly it.
//! - [`backfill`]: replay a log group's history through `FilterLogEvents` into
//!   the same payloads a subscription delivers, keeping CloudWatch's event ids.

pub mod backfill;
pub mod subscribe;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
/// The SDK, for callers that configure their own client.
pub use aws_sdk_cloudwatchlogs as sdk;
pub use aws_sdk_cloudwatchlogs::Client;

/// The name of the subscription filter (and account policy) tracelake owns.
pub const FILTER_NAME: &str = "tracelake";

/// Attempts per API call, throttling included.
pub const MAX_ATTEMPTS: u32 = 10;

/// Why an AWS operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// A CloudWatch Logs API call failed (after retries).
    #[error("{operation} failed: {message}")]
    Api {
        /// The API operation, e.g. `PutSubscriptionFilter`.
        operation: &'static str,
        /// The error with its context chain.
        message: String,
        /// The error.
        #[source]
        source: Box<aws_sdk_cloudwatchlogs::Error>,
    },
    /// The index could not be written (backfill).
    #[error(transparent)]
    Index(#[from] crate::index::writer::IndexError),
    /// A checkpoint could not be read or written.
    #[error("backfill checkpoint {location}: {reason}")]
    Checkpoint {
        /// Where the checkpoint lives.
        location: String,
        /// What went wrong.
        reason: String,
    },
    /// The arguments do not make sense.
    #[error("{0}")]
    Invalid(String),
}

impl AwsError {
    pub(crate) fn api<E, R>(
        operation: &'static str,
        error: aws_sdk_cloudwatchlogs::error::SdkError<E, R>,
    ) -> AwsError
    where
        E: std::error::Error + Send + Sync + 'static,
        aws_sdk_cloudwatchlogs::Error: From<aws_sdk_cloudwatchlogs::error::SdkError<E, R>>,
        R: std::fmt::Debug,
    {
        let message = aws_sdk_cloudwatchlogs::error::DisplayErrorContext(&error).to_string();
        AwsError::Api {
            operation,
            message,
            source: Box::new(aws_sdk_cloudwatchlogs::Error::from(error)),
        }
    }
}

/// A CloudWatch Logs client from the environment (`AWS_REGION`,
/// `AWS_PROFILE`, `AWS_ENDPOINT_URL`, credentials, …), retrying throttled
/// calls with backoff.
pub async fn client_from_env() -> Client {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .load()
        .await;
    Client::new(&config)
}
