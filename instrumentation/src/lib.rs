//! tracelake instrumentation: OpenTelemetry spans and trace-correlated JSON logs
//! for Rust AWS Lambdas, written to stdout with no network call.
//!
//! - [`Telemetry`] is one service's tracing subscriber, OpenTelemetry tracer
//!   provider and span exporter, writing to one [`Output`]. [`init`] builds it
//!   from the Lambda environment and installs it globally; [`Telemetry::new`]
//!   builds it from a [`TelemetryConfig`] without touching anything global.
//! - [`Invocation`] describes one invocation; [`Telemetry::in_invocation`] runs a
//!   handler inside its span and writes every span before returning.
//! - [`propagation`] reads trace context from every trigger event and writes it
//!   into outgoing carriers.
//! - [`wire`] defines the line formats that the collector reads.
//!
//! ```
//! use tracelake_instrumentation::{Invocation, LineBuffer, Output, Telemetry, TelemetryConfig};
//!
//! let buffer = LineBuffer::new();
//! let telemetry = Telemetry::new(TelemetryConfig::new("orders"), Output::buffer(&buffer)).unwrap();
//! let result: Result<(), String> = telemetry.in_invocation(&Invocation::new("req-1"), || {
//!     tracing::info!("hello");
//!     Ok(())
//! });
//! assert!(result.is_ok());
//! assert_eq!(buffer.take_lines().len(), 2); // one log line, one span line
//! ```

#![warn(missing_docs)]

pub mod attribute;
#[cfg(feature = "aws-sdk")]
pub mod aws_sdk;
pub mod clock;
pub mod config;
pub mod error_report;
mod export;
pub mod http;
pub mod id_generator;
pub mod invocation;
#[cfg(feature = "lambda-runtime")]
pub mod lambda;
mod logs;
pub mod messages;
pub mod output;
pub mod propagation;
pub mod telemetry;
pub mod trigger;
mod unwind;
pub mod wire;

pub use clock::{Clock, ManualClock};
pub use config::{InitializationType, TelemetryConfig};
pub use error_report::ErrorReport;
pub use export::SCOPE_NAME;
pub use id_generator::XrayIdGenerator;
pub use invocation::{AttributeValue, Invocation};
pub use output::{LineBuffer, Output};
pub use propagation::TraceContext;
use telemetry::StartupWarning;
pub use telemetry::invocation_span::InvocationSpan;
pub use telemetry::{InitError, Telemetry, TelemetryError, TelemetryLayer};
pub use trigger::{EventSource, InvocationKind, Trigger};
pub use wire::span_line::SpanFormat;

/// Builds a [`Telemetry`] from the Lambda environment
/// ([`TelemetryConfig::from_env`]), writing to stdout, and installs it as the
/// global tracing subscriber.
///
/// A log level in the environment that cannot be read does not stop the
/// function: INFO is used, and the first line written says why.
///
/// # Errors
///
/// [`InitError::AlreadyInitialized`] when a global tracing subscriber is
/// already installed: its message names the usual culprit
/// (`lambda_runtime::tracing::init_default_subscriber()`) and points to
/// [`layers`], which adds tracelake to a subscriber of your own.
pub fn init() -> Result<Telemetry, InitError> {
    let config = TelemetryConfig::from_env();
    let telemetry = match init_with(config.clone(), Output::stdout()) {
        Err(InitError::Telemetry(TelemetryError::InvalidLevel { level, reason })) => {
            let telemetry = init_with(config.with_level("info"), Output::stdout())?;
            StartupWarning::UnreadLevel { level, reason }.write();
            telemetry
        }
        other => other?,
    };
    if let Some(warning) = StartupWarning::of_span_format_env() {
        // At the first invocation, as `layers()` does: the line then carries
        // the request and trace ids.
        telemetry.warn_at_first_invocation(warning);
    }
    Ok(telemetry)
}

/// Sets a span attribute on the current span: in a handler, outside any span
/// of its own, that is the invocation span.
///
/// ```
/// use tracelake_instrumentation::{Invocation, LineBuffer, Output, Telemetry, TelemetryConfig};
///
/// let buffer = LineBuffer::new();
/// let telemetry = Telemetry::new(TelemetryConfig::new("orders"), Output::buffer(&buffer)).unwrap();
/// let _ = telemetry.in_invocation(&Invocation::new("req-1"), || -> Result<(), String> {
///     tracelake_instrumentation::set_attribute("order.id", "o-42");
///     tracelake_instrumentation::set_attribute("order.items", 3i64);
///     Ok(())
/// });
/// let lines = buffer.take_lines();
/// assert!(lines[0].contains(r#"{"key":"order.items","value":{"intValue":"3"}}"#));
/// ```
pub fn set_attribute(key: impl Into<String>, value: impl Into<AttributeValue>) {
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    tracing::Span::current().set_attribute(key.into(), opentelemetry::Value::from(value.into()));
}

/// Builds a [`Telemetry`] from the Lambda environment, writing to stdout, for a
/// subscriber of your own: add the layer to it, and install it yourself. Use
/// this instead of [`init`] when another subscriber must stay (a `fmt` layer,
/// a template that called `lambda_runtime::tracing::init_default_subscriber()`).
///
/// ```no_run
/// use tracing_subscriber::layer::SubscriberExt as _;
/// use tracing_subscriber::util::SubscriberInitExt as _;
///
/// let (telemetry, layer) = tracelake_instrumentation::layers().unwrap();
/// tracing_subscriber::registry()
///     .with(layer)
///     .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
///     .init();
/// # drop(telemetry);
/// ```
///
/// A log level in the environment that cannot be read does not stop the
/// function: INFO is used (and a warning is written at the first invocation).
///
/// # Errors
///
/// None in practice: the only configuration error, an invalid level, falls
/// back to INFO. The `Result` leaves room for configuration checks.
pub fn layers<S>() -> Result<(Telemetry, TelemetryLayer<S>), TelemetryError>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a> + Send + Sync,
{
    let config = TelemetryConfig::from_env();
    let (telemetry, layer) = match Telemetry::new_layered(config.clone(), Output::stdout()) {
        Err(TelemetryError::InvalidLevel { level, reason }) => {
            let (telemetry, layer) =
                Telemetry::new_layered(config.with_level("info"), Output::stdout())?;
            telemetry.warn_at_first_invocation(StartupWarning::UnreadLevel { level, reason });
            (telemetry, layer)
        }
        other => other?,
    };
    if let Some(warning) = StartupWarning::of_span_format_env() {
        telemetry.warn_at_first_invocation(warning);
    }
    Ok((telemetry, layer))
}

/// Builds a [`Telemetry`] from `config` and `output` and installs it as the
/// global tracing subscriber.
///
/// # Errors
///
/// [`InitError::Telemetry`] for an invalid configuration;
/// [`InitError::AlreadyInitialized`] when a global subscriber exists (use
/// [`layers`] then).
pub fn init_with(config: TelemetryConfig, output: Output) -> Result<Telemetry, InitError> {
    let telemetry = Telemetry::new(config, output)?;
    tracing::dispatcher::set_global_default(telemetry.dispatch().clone())
        .map_err(|_| InitError::AlreadyInitialized)?;
    Ok(telemetry)
}
