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

pub mod account_policy;
pub mod backfill;
pub mod subscribe;
pub mod validate;

use aws_config::BehaviorVersion;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
/// The SDK, for callers that configure their own client.
pub use aws_sdk_cloudwatchlogs as sdk;
pub use aws_sdk_cloudwatchlogs::Client;

/// The name of the subscription filter (and account policy) tracelake owns.
pub const FILTER_NAME: &str = "tracelake";

/// Attempts per API call, throttling included.
pub const MAX_ATTEMPTS: u32 = 8;

/// The longest wait between two attempts (exponential backoff with jitter up
/// to this).
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Time to open a connection to the endpoint.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Time for one attempt of a call.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(20);

/// Time for a whole call, its retries included.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(60);

/// Time for one call to the instance metadata service (credentials on EC2),
/// tried once: off EC2 nothing answers there, and the default client's
/// retries cost seconds before the error.
pub const IMDS_TIMEOUT: Duration = Duration::from_secs(1);

/// Why an AWS operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// A CloudWatch Logs API call failed (after retries).
    #[error("{operation} failed: {message}")]
    Api {
        /// The API operation, e.g. `PutSubscriptionFilter`.
        operation: &'static str,
        /// What went wrong, readably: the service's error code and message
        /// with the HTTP status, or the chain of causes of a failure to get an
        /// answer.
        message: String,
        /// The SDK's error, for callers that match on it. Not a `#[source]`:
        /// `message` already says everything it would add, and printing the
        /// chain would repeat it.
        error: Box<aws_sdk_cloudwatchlogs::Error>,
    },
    /// The index could not be written (backfill).
    #[error(transparent)]
    Index(#[from] crate::index::writer::IndexError),
    /// The hours a backfill wrote could not be compacted.
    #[error("compacting the hours backfilled: {0}")]
    Compaction(#[from] crate::index::compact::CompactionError),
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
    /// No region or no credentials: nothing was called.
    #[error("{0}")]
    Setup(String),
}

impl AwsError {
    /// An [`AwsError::Api`] for a failed call of `operation`, with a readable
    /// message: `CODE: message (HTTP status)` for an error the service
    /// answered, or the causes joined by `: ` for one it never answered
    /// (connection refused, timeout). Never the SDK's debug dump, which
    /// `DisplayErrorContext` appends.
    pub(crate) fn api<E>(
        operation: &'static str,
        error: aws_sdk_cloudwatchlogs::error::SdkError<
            E,
            aws_sdk_cloudwatchlogs::config::http::HttpResponse,
        >,
    ) -> AwsError
    where
        E: aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata
            + std::error::Error
            + Send
            + Sync
            + 'static,
        aws_sdk_cloudwatchlogs::Error: From<
            aws_sdk_cloudwatchlogs::error::SdkError<
                E,
                aws_sdk_cloudwatchlogs::config::http::HttpResponse,
            >,
        >,
    {
        use aws_sdk_cloudwatchlogs::error::{ProvideErrorMetadata as _, SdkError};
        let message = match &error {
            SdkError::ServiceError(_) => service_error_message(
                error.code(),
                error.message(),
                error.raw_response().map(|raw| raw.status().as_u16()),
            ),
            other => cause_chain(other),
        };
        AwsError::Api {
            operation,
            message,
            error: Box::new(aws_sdk_cloudwatchlogs::Error::from(error)),
        }
    }
}

/// `CODE: message (HTTP status)`, or what the answer was when it carried no
/// AWS error code (a proxy's or a mock's error page).
fn service_error_message(code: Option<&str>, message: Option<&str>, status: Option<u16>) -> String {
    let status = status.map_or_else(String::new, |status| format!(" (HTTP {status})"));
    match (code, message) {
        (Some(code), Some(message)) if !message.is_empty() => format!("{code}: {message}{status}"),
        (Some(code), _) => format!("{code}{status}"),
        (None, _) => format!(
            "the endpoint answered without an AWS error code{status}; is AWS_ENDPOINT_URL an endpoint that implements this operation?"
        ),
    }
}

/// An error and its sources, joined by `: `. An object store's message names
/// only the location, and the reason (credentials, endpoint, bucket) is in its
/// sources.
fn cause_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // Some layers repeat their source's text; say it once.
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// A CloudWatch Logs client from the environment (`AWS_REGION`,
/// `AWS_PROFILE`, `AWS_ENDPOINT_URL`, credentials, …), retrying throttled
/// calls with backoff ([`MAX_ATTEMPTS`], [`MAX_BACKOFF`]) within bounded
/// times ([`CONNECT_TIMEOUT`], [`ATTEMPT_TIMEOUT`], [`OPERATION_TIMEOUT`]).
///
/// The region and the credentials are checked before anything else, so that
/// a shell without them fails at once with one line saying what to set. The
/// region comes from `AWS_REGION` / `AWS_DEFAULT_REGION` or the profile (as
/// the AWS CLI reads it; never from instance metadata); credentials from the
/// SDK's default chain, with instance metadata asked once with a 1-second
/// timeout ([`IMDS_TIMEOUT`]).
///
/// # Errors
/// [`AwsError::Setup`] when no region or no credentials are found.
pub async fn client_from_env() -> Result<Client, AwsError> {
    use aws_config::meta::region::RegionProviderChain;
    use aws_config::provider_config::ProviderConfig;
    use aws_sdk_cloudwatchlogs::config::ProvideCredentials as _;

    let region = RegionProviderChain::first_try(
        aws_config::environment::EnvironmentVariableRegionProvider::new(),
    )
    .or_else(aws_config::profile::ProfileFileRegionProvider::new())
    .region()
    .await
    .ok_or_else(|| {
        AwsError::Setup(
            "no AWS region: set AWS_REGION (e.g. AWS_REGION=us-east-1) or use a profile with a region (AWS_PROFILE)".into(),
        )
    })?;
    let provider_config = ProviderConfig::without_region()
        .with_http_client(https_client())
        .with_region(Some(region.clone()));
    let imds = aws_config::imds::Client::builder()
        .configure(&provider_config)
        .max_attempts(1)
        .connect_timeout(IMDS_TIMEOUT)
        .read_timeout(IMDS_TIMEOUT)
        .build();
    let credentials = aws_config::default_provider::credentials::DefaultCredentialsChain::builder()
        .configure(provider_config)
        .imds_client(imds)
        .build()
        .await;
    if let Err(error) = credentials.provide_credentials().await {
        return Err(AwsError::Setup(format!(
            "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (after `aws configure` or `aws sso login`), or run with an instance or task role (the SDK's credential chain said: {})",
            cause_chain(&error)
        )));
    }
    let config = aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .region(region)
        .credentials_provider(credentials)
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(MAX_ATTEMPTS)
                .with_max_backoff(MAX_BACKOFF),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        )
        .load()
        .await;
    Ok(Client::new(&config))
}

/// The HTTPS client every SDK call goes through: rustls with the ring crypto
/// provider (see collector/Cargo.toml for why not the SDK's default client).
pub fn https_client() -> aws_sdk_cloudwatchlogs::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_errors_read_as_code_message_and_status() {
        assert_eq!(
            service_error_message(
                Some("ResourceNotFoundException"),
                Some("The specified log group does not exist."),
                Some(400)
            ),
            "ResourceNotFoundException: The specified log group does not exist. (HTTP 400)"
        );
        assert_eq!(
            service_error_message(Some("ThrottlingException"), None, None),
            "ThrottlingException"
        );
        let no_code = service_error_message(None, None, Some(500));
        assert!(
            no_code.starts_with("the endpoint answered without an AWS error code (HTTP 500)"),
            "{no_code}"
        );
    }

    #[test]
    fn other_failures_read_as_their_causes_without_debug_output() {
        #[derive(Debug, thiserror::Error)]
        #[error("dispatch failure")]
        struct Outer(#[source] std::io::Error);
        let error = Outer(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "connection refused",
        ));
        assert_eq!(cause_chain(&error), "dispatch failure: connection refused");
    }
}
