//! [`Telemetry`]: the tracing subscriber, OpenTelemetry tracer provider and span
//! exporter of one service, writing to one [`Output`].

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Dispatch;
use tracing_subscriber::filter::FilterFn;
use tracing_subscriber::layer::{Layer, SubscriberExt as _};
use tracing_subscriber::registry::{LookupSpan, Registry};

mod error;
pub mod invocation_span;
mod layers;
mod sampler;

pub use error::{InitError, TelemetryError};

use crate::clock::Clock;
use crate::config::TelemetryConfig;
use crate::export::{LineSpanProcessor, SpanLines};
use crate::id_generator::XrayIdGenerator;
use crate::logs::{JsonLogLayer, RecentInvocations};
use crate::output::Output;
use layers::{TimingLayer, log_filter};
use sampler::RecordAllKeepDecision;

/// Span targets never exported: the runtime's own plumbing, which would
/// otherwise start a trace of its own around every invocation.
const UNEXPORTED_SPAN_TARGETS: [&str; 6] = [
    "lambda_runtime",
    "lambda_runtime_api_client",
    "hyper",
    "h2",
    "tower",
    "rustls",
];

/// The layers of a [`Telemetry`] (timing, OpenTelemetry spans, JSON log
/// lines), boxed, for a subscriber over `S`.
pub type TelemetryLayer<S> = Box<dyn Layer<S> + Send + Sync + 'static>;

/// The telemetry of one service: a tracing [`Dispatch`] that writes JSON log
/// lines and OpenTelemetry span lines to one [`Output`].
///
/// Nothing here is global: a process can hold many, each with its own output
/// (the simulator runs hundreds of services in one process). [`init`](crate::init)
/// builds one from the Lambda environment and installs it globally. Clones share
/// the same telemetry.
///
/// ```
/// use tracelake_instrumentation::{
///     Invocation, LineBuffer, Output, Telemetry, TelemetryConfig, Trigger,
///     wire::{log_line::LogLine, span_line::decode_span_line},
/// };
///
/// let buffer = LineBuffer::new();
/// let telemetry = Telemetry::new(
///     TelemetryConfig::new("checkout").with_function("checkout-prod", "$LATEST"),
///     Output::buffer(&buffer),
/// )
/// .unwrap();
///
/// let invocation = Invocation::new("8476a536-e9f4-11e8-9739-2dfe598c3fcd")
///     .with_xray_header("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
///     .with_trigger(Trigger::Http);
/// let answer: Result<u32, String> = telemetry.in_invocation(&invocation, || {
///     let _child = tracing::info_span!("load cart").entered();
///     tracing::info!(items = 3, "cart loaded");
///     Ok(3)
/// });
/// assert_eq!(answer, Ok(3));
///
/// // Spans are flushed when the invocation returns: one log line, one span line.
/// let lines = buffer.take_lines();
/// let log: LogLine = serde_json::from_str(&lines[0]).unwrap();
/// assert_eq!(log.trace_id.as_deref(), Some("5759e988bd862e3fe1be46a994272793"));
/// assert_eq!(log.request_id.as_deref(), Some("8476a536-e9f4-11e8-9739-2dfe598c3fcd"));
/// let spans = decode_span_line(&lines[1]).unwrap();
/// assert_eq!(spans.resource_spans[0].scope_spans[0].spans.len(), 2);
/// ```
#[derive(Clone)]
pub struct Telemetry {
    inner: Arc<Inner>,
}

struct Inner {
    config: TelemetryConfig,
    /// The telemetry's own subscriber, or (layered) the default one at first use.
    dispatch: std::sync::OnceLock<Dispatch>,
    /// Whether `dispatch` is the telemetry's own.
    own_dispatch: bool,
    provider: SdkTracerProvider,
    spans: Arc<SpanLines>,
    output: Output,
    /// Whether the next invocation is the cold start of an on-demand init.
    cold_start_pending: AtomicBool,
    /// The ids of the invocations that finished last.
    recent: Arc<RecentInvocations>,
    /// Reseeds the id generator (after a SnapStart restore).
    reseeder: crate::id_generator::Reseeder,
    /// What the environment said that could not be used, to be said at the
    /// first invocation: a layered telemetry has no subscriber to write
    /// through before the user installs theirs.
    startup_warnings: std::sync::Mutex<Vec<StartupWarning>>,
}

/// A setting from the environment that could not be used; the telemetry
/// falls back and says so in a WARN line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StartupWarning {
    /// `AWS_LAMBDA_LOG_LEVEL`/`RUST_LOG` could not be read: INFO is used.
    UnreadLevel {
        /// The value.
        level: String,
        /// Why it could not be read.
        reason: String,
    },
    /// `TRACELAKE_SPAN_FORMAT` names no format: OTLP JSON is used.
    UnknownSpanFormat {
        /// The value.
        value: String,
    },
}

impl StartupWarning {
    /// Writes the WARN line, through the current dispatch.
    pub(crate) fn write(&self) {
        match self {
            StartupWarning::UnreadLevel { level, reason } => tracing::warn!(
                level = level.as_str(),
                reason = reason.as_str(),
                "invalid log level, using INFO"
            ),
            StartupWarning::UnknownSpanFormat { value } => tracing::warn!(
                value = value.as_str(),
                "unknown TRACELAKE_SPAN_FORMAT (compact or json), using OTLP JSON"
            ),
        }
    }

    /// The warning for `TRACELAKE_SPAN_FORMAT` in the process environment,
    /// when it is set and names no format.
    pub(crate) fn of_span_format_env() -> Option<StartupWarning> {
        let value = std::env::var("TRACELAKE_SPAN_FORMAT").ok()?;
        (!value.trim().is_empty() && crate::SpanFormat::parse(&value).is_none())
            .then_some(StartupWarning::UnknownSpanFormat { value })
    }
}

impl fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Telemetry")
            .field("service", &self.inner.config.service_name)
            .finish_non_exhaustive()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.spans.flush();
        let _ = self.provider.shutdown();
    }
}

impl Telemetry {
    /// Keeps a warning about the environment, for a WARN line at the first
    /// invocation (see [`crate::layers`]).
    pub(crate) fn warn_at_first_invocation(&self, warning: StartupWarning) {
        if let Ok(mut pending) = self.inner.startup_warnings.lock() {
            pending.push(warning);
        }
    }

    /// Writes the WARN lines kept by [`Telemetry::warn_at_first_invocation`], once.
    pub(crate) fn write_startup_warnings(&self) {
        let pending = self
            .inner
            .startup_warnings
            .lock()
            .map(|mut pending| std::mem::take(&mut *pending))
            .unwrap_or_default();
        for warning in pending {
            warning.write();
        }
    }
    fn build(config: TelemetryConfig, output: Output) -> Result<Telemetry, TelemetryError> {
        // The level is checked once here; each layer set parses it again.
        log_filter(&config.level)?;
        let spans = Arc::new(SpanLines::new(&config, output.clone()));
        let id_generator = match config.id_seed {
            Some(seed) => XrayIdGenerator::seeded(config.clock.clone(), seed),
            None => XrayIdGenerator::new(config.clock.clone()),
        };
        let reseeder = id_generator.reseeder();
        let provider = SdkTracerProvider::builder()
            .with_span_processor(LineSpanProcessor {
                lines: spans.clone(),
            })
            .with_sampler(RecordAllKeepDecision)
            .with_id_generator(id_generator)
            .with_resource(opentelemetry_sdk::Resource::builder_empty().build())
            .build();
        let recent = Arc::new(RecentInvocations::default());
        let cold_start_pending =
            AtomicBool::new(config.initialization_type.first_invocation_is_cold());
        let telemetry = Telemetry {
            inner: Arc::new(Inner {
                config,
                dispatch: std::sync::OnceLock::new(),
                own_dispatch: false,
                provider,
                spans,
                output,
                cold_start_pending,
                recent,
                reseeder,
                startup_warnings: std::sync::Mutex::new(Vec::new()),
            }),
        };
        Ok(telemetry)
    }

    /// Builds the telemetry of one service with its own subscriber (a
    /// [`Registry`] with the telemetry's layers). Nothing is installed globally
    /// and the process environment is not read.
    ///
    /// # Errors
    ///
    /// [`TelemetryError::InvalidLevel`] when the configured level is neither a
    /// level name nor `RUST_LOG` directives.
    pub fn new(config: TelemetryConfig, output: Output) -> Result<Telemetry, TelemetryError> {
        let mut telemetry = Telemetry::build(config, output)?;
        let layer = telemetry.layer::<Registry>()?;
        let dispatch = Dispatch::new(Registry::default().with(layer));
        let inner = Arc::get_mut(&mut telemetry.inner).expect("not shared yet");
        let _ = inner.dispatch.set(dispatch);
        inner.own_dispatch = true;
        Ok(telemetry)
    }

    /// Builds the telemetry of one service for a subscriber of the caller's:
    /// returns it with the layer to add to that subscriber (when a global
    /// subscriber is installed by other code, or to keep a `fmt` layer of
    /// one's own). Invocations then run in whatever subscriber is the default
    /// when they start.
    ///
    /// ```
    /// use tracing_subscriber::layer::SubscriberExt as _;
    /// use tracelake_instrumentation::{Invocation, LineBuffer, Output, Telemetry, TelemetryConfig};
    ///
    /// let buffer = LineBuffer::new();
    /// let (telemetry, layer) =
    ///     Telemetry::new_layered(TelemetryConfig::new("orders"), Output::buffer(&buffer)).unwrap();
    /// let subscriber = tracing_subscriber::registry().with(layer);
    /// tracing::subscriber::with_default(subscriber, || {
    ///     let _ = telemetry.in_invocation(&Invocation::new("req-1"), || -> Result<(), String> {
    ///         tracing::info!("hello");
    ///         Ok(())
    ///     });
    /// });
    /// assert_eq!(buffer.take_lines().len(), 2); // one log line, one span line
    /// ```
    ///
    /// # Errors
    ///
    /// [`TelemetryError::InvalidLevel`] when the configured level is neither a
    /// level name nor `RUST_LOG` directives.
    pub fn new_layered<S>(
        config: TelemetryConfig,
        output: Output,
    ) -> Result<(Telemetry, TelemetryLayer<S>), TelemetryError>
    where
        S: tracing::Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
    {
        let telemetry = Telemetry::build(config, output)?;
        let layer = telemetry.layer::<S>()?;
        Ok((telemetry, layer))
    }

    /// The layers that record this telemetry's spans and log lines, for a
    /// subscriber over `S`.
    fn layer<S>(&self) -> Result<TelemetryLayer<S>, TelemetryError>
    where
        S: tracing::Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
    {
        let config = &self.inner.config;
        let (log_filter, span_level) = log_filter(&config.level)?;
        let tracer = self
            .inner
            .provider
            .tracer_with_scope(crate::export::instrumentation_scope());
        let timing = (!config.clock.is_system()).then(|| TimingLayer {
            clock: config.clock.clone(),
        });
        let span_filter = FilterFn::new(move |metadata| {
            metadata.is_span()
                && *metadata.level() <= span_level
                && !UNEXPORTED_SPAN_TARGETS
                    .iter()
                    .any(|target| metadata.target().starts_with(target))
        })
        .with_max_level_hint(span_level);
        let otel = tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_location(false)
            .with_threads(false)
            .with_target(false)
            .with_level(false)
            .with_tracked_inactivity(false)
            .with_context_activation(false)
            .with_filter(span_filter);
        let logs = JsonLogLayer::new(
            &config.service_name,
            self.inner.output.clone(),
            config.clock.clone(),
            self.inner.recent.clone(),
        )
        .with_filter(log_filter);
        Ok(Box::new(Layer::and_then(
            Layer::and_then(timing, otel),
            logs,
        )))
    }

    /// The dispatch invocations run in: the telemetry's own, or the default
    /// one now (for a telemetry built by [`Telemetry::new_layered`]).
    pub(crate) fn current_dispatch(&self) -> Dispatch {
        match self.inner.dispatch.get() {
            Some(dispatch) if self.inner.own_dispatch => dispatch.clone(),
            _ => tracing::dispatcher::get_default(Dispatch::clone),
        }
    }

    /// The tracing dispatch: use it with `tracing::dispatcher::with_default`, or
    /// `WithSubscriber::with_subscriber` for futures. For a telemetry built by
    /// [`Telemetry::new_layered`], the default dispatch at the first call.
    pub fn dispatch(&self) -> &Dispatch {
        self.inner
            .dispatch
            .get_or_init(|| tracing::dispatcher::get_default(Dispatch::clone))
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &TelemetryConfig {
        &self.inner.config
    }

    /// The OpenTelemetry tracer provider (for code that uses the OpenTelemetry API
    /// directly; its spans go to the same output).
    pub fn tracer_provider(&self) -> &SdkTracerProvider {
        &self.inner.provider
    }

    /// Writes every span that has ended and not been written yet. Returns how many.
    pub fn flush(&self) -> usize {
        self.inner.spans.flush()
    }

    pub(crate) fn clock(&self) -> &Clock {
        &self.inner.config.clock
    }
}
