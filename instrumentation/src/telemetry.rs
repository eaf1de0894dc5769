//! [`Telemetry`]: the tracing subscriber, OpenTelemetry tracer provider and span
//! exporter of one service, writing to one [`Output`].

use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, UNIX_EPOCH};

use opentelemetry::KeyValue;
use opentelemetry::trace::{Status, TraceContextExt as _, TracerProvider as _};
use opentelemetry_sdk::trace::{SdkTracerProvider, ShouldSample};
use opentelemetry_semantic_conventions::attribute as semconv;
use tracing::Dispatch;
use tracing::instrument::WithSubscriber as _;
use tracing::level_filters::LevelFilter;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::filter::{EnvFilter, FilterFn};
use tracing_subscriber::layer::{Filter, Layer, SubscriberExt as _};
use tracing_subscriber::registry::{LookupSpan, Registry};

use crate::clock::Clock;
use crate::config::{InitializationType, TelemetryConfig};
use crate::error_report::ErrorReport;
use crate::export::{LineSpanProcessor, SpanLines, set_ending_span_times};
use crate::id_generator::{XrayIdGenerator, with_next_trace_id};
use crate::invocation::Invocation;
use crate::logs::{JsonLogLayer, RecentInvocations};
use crate::output::Output;

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

/// Why a telemetry could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The level is neither a level name nor `RUST_LOG` directives.
    #[error("invalid log level {level:?}: {reason}")]
    InvalidLevel {
        /// The level as configured.
        level: String,
        /// What the filter parser said.
        reason: String,
    },
}

/// Why [`init`](crate::init) failed.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The configuration is invalid.
    #[error(transparent)]
    Telemetry(#[from] TelemetryError),
    /// A global tracing subscriber was already installed.
    #[error(
        "a global tracing subscriber is already installed (for example by \
         lambda_runtime::tracing::init_default_subscriber()): remove that call, or keep \
         your own subscriber and add tracelake's layer to it with \
         tracelake_instrumentation::layers() instead of init()"
    )]
    AlreadyInitialized,
}

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
        let tracer = self.inner.provider.tracer(crate::SCOPE_NAME);
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

    /// Starts the span of `invocation` (not entered). Finish it with
    /// [`InvocationSpan::finish`], which ends it and flushes its spans.
    pub fn start_invocation(&self, invocation: &Invocation) -> InvocationSpan {
        let cold_start = self.cold_start(invocation);
        let config = &self.inner.config;
        let span_name = invocation
            .span_name
            .clone()
            .or_else(|| config.function_name.clone())
            .unwrap_or_else(|| config.service_name.clone());
        let kind = invocation
            .kind
            .unwrap_or_else(|| invocation.trigger.span_kind());
        let (parent, links) = invocation.resolve_parent();
        let xray_extra = parent
            .as_ref()
            .filter(|parent| !parent.xray_extra.is_empty())
            .or_else(|| links.iter().find(|link| !link.xray_extra.is_empty()))
            .map(|context| {
                context
                    .xray_extra
                    .iter()
                    .map(|(key, value)| format!("{key}={value}"))
                    .collect::<Vec<_>>()
                    .join(";")
            });
        let account_id = config
            .account_id
            .as_deref()
            .or_else(|| invocation.account_id_from_arn());

        let span = tracing::dispatcher::with_default(&self.current_dispatch(), || {
            let span = tracing::info_span!(
                target: "tracelake",
                parent: None,
                "invocation",
                otel.name = %span_name,
                otel.kind = kind.as_str(),
                faas.trigger = invocation.trigger.as_str(),
                faas.invocation_id = %invocation.request_id,
                faas.coldstart = cold_start,
                cloud.account.id = account_id,
                aws.lambda.invoked_arn = invocation.invoked_arn.as_deref(),
                tracelake.xray_extra = xray_extra.as_deref(),
            );
            for (key, value) in &invocation.attributes {
                span.set_attribute(key.clone(), opentelemetry::Value::from(value.clone()));
            }
            let mut forced_trace_id = None;
            if let Some(parent) = &parent {
                match parent.to_span_context() {
                    Some(span_context) => {
                        let cx =
                            opentelemetry::Context::new().with_remote_span_context(span_context);
                        let _ = span.set_parent(cx);
                    }
                    // An X-Ray header with a Root and no Parent: same trace, no parent span.
                    None => forced_trace_id = Some(parent.trace_id.0),
                }
            }
            for link in &links {
                if let Some(span_context) = link.to_span_context() {
                    span.add_link(span_context);
                }
            }
            // Start the OpenTelemetry span now, while the forced id is in place.
            with_next_trace_id(forced_trace_id, || {
                let _ = span.context();
            });
            span
        });
        InvocationSpan {
            span,
            telemetry: self.clone(),
            request_id: invocation.request_id.clone(),
        }
    }

    /// `faas.coldstart` of the invocation starting now: true for the first
    /// one of an on-demand or SnapStart environment, false otherwise. The
    /// first invocation after a SnapStart restore reseeds the id generator
    /// first, so that environments restored from one snapshot do not repeat
    /// each other's ids.
    fn cold_start(&self, invocation: &Invocation) -> Option<bool> {
        let pending = self.inner.cold_start_pending.swap(false, Ordering::Relaxed);
        if pending && self.inner.config.initialization_type == InitializationType::SnapStart {
            self.inner.reseeder.reseed();
        }
        invocation.cold_start.or(Some(pending))
    }

    /// Runs `handler` as one invocation: inside the invocation span, with this
    /// telemetry as the default dispatch. An `Err` or a panic is recorded on the
    /// span; every span is written before this returns (or the panic resumes).
    pub fn in_invocation<T, E: fmt::Display>(
        &self,
        invocation: &Invocation,
        handler: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        let started = self.start_invocation(invocation);
        let outcome = tracing::dispatcher::with_default(&self.current_dispatch(), || {
            let _entered = started.span.enter();
            catch_unwind(AssertUnwindSafe(handler))
        });
        match outcome {
            Ok(Ok(value)) => {
                started.finish();
                Ok(value)
            }
            Ok(Err(error)) => {
                started.record_error(&error.to_string(), Some(std::any::type_name::<E>()));
                started.finish();
                Err(error)
            }
            Err(panic) => {
                started.record_panic(panic.as_ref());
                started.finish();
                resume_unwind(panic)
            }
        }
    }

    /// The async form of [`Telemetry::in_invocation`].
    pub async fn in_invocation_async<T, E, F>(
        &self,
        invocation: &Invocation,
        handler: F,
    ) -> Result<T, E>
    where
        E: fmt::Display,
        F: Future<Output = Result<T, E>>,
    {
        let started = self.start_invocation(invocation);
        let future = tracing::Instrument::instrument(handler, started.span.clone())
            .with_subscriber(self.current_dispatch());
        match (CatchUnwind {
            inner: Box::pin(future),
        })
        .await
        {
            Ok(Ok(value)) => {
                started.finish();
                Ok(value)
            }
            Ok(Err(error)) => {
                started.record_error(&error.to_string(), Some(std::any::type_name::<E>()));
                started.finish();
                Err(error)
            }
            Err(panic) => {
                started.record_panic(panic.as_ref());
                started.finish();
                resume_unwind(panic)
            }
        }
    }

    pub(crate) fn clock(&self) -> &Clock {
        &self.inner.config.clock
    }
}

/// The span of one invocation, started by [`Telemetry::start_invocation`].
#[derive(Debug)]
pub struct InvocationSpan {
    span: tracing::Span,
    telemetry: Telemetry,
    request_id: String,
}

impl InvocationSpan {
    /// The tracing span: enter it, or instrument the handler's future with it.
    pub fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// Marks the invocation failed: error status plus an `exception` event.
    pub fn record_error(&self, message: &str, error_type: Option<&str>) {
        self.record_exception(message, error_type, None);
    }

    /// Marks the invocation failed by `report`: error status plus an
    /// `exception` event with `exception.type`, `exception.message` and, when
    /// the error has sources, the cause chain as `exception.stacktrace`.
    pub fn record_report(&self, report: &ErrorReport) {
        self.record_exception(
            &report.message,
            Some(&report.error_type),
            report.cause_chain(),
        );
    }

    fn record_exception(&self, message: &str, error_type: Option<&str>, chain: Option<String>) {
        self.span.set_status(Status::error(message.to_owned()));
        let mut attributes = vec![KeyValue::new(
            semconv::EXCEPTION_MESSAGE,
            message.to_owned(),
        )];
        if let Some(error_type) = error_type {
            attributes.push(KeyValue::new(
                semconv::EXCEPTION_TYPE,
                error_type.to_owned(),
            ));
        }
        if let Some(chain) = chain {
            attributes.push(KeyValue::new(semconv::EXCEPTION_STACKTRACE, chain));
        }
        let now = UNIX_EPOCH + Duration::from_nanos(self.telemetry.clock().now_unix_nanos());
        self.span
            .add_event_with_timestamp("exception", now, attributes);
    }

    /// Records the HTTP response status as `http.response.status_code`; a 5xx
    /// marks the span failed (a server span's error, by the HTTP semantic
    /// conventions; a 4xx is the client's).
    pub fn record_http_status(&self, status_code: i64) {
        self.span
            .set_attribute(semconv::HTTP_RESPONSE_STATUS_CODE, status_code);
        if (500..600).contains(&status_code) {
            self.span.set_status(Status::error(String::new()));
            self.span
                .set_attribute(semconv::ERROR_TYPE, status_code.to_string());
        }
    }

    /// Marks the invocation failed by a panic with this payload.
    pub fn record_panic(&self, payload: &(dyn std::any::Any + Send)) {
        let message = payload
            .downcast_ref::<&str>()
            .map(|text| (*text).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "handler panicked".to_owned());
        self.record_error(&format!("panic: {message}"), Some("panic"));
    }

    /// Ends the invocation span and writes every ended span to the output.
    /// Returns how many spans were written.
    pub fn finish(self) -> usize {
        let InvocationSpan {
            span,
            telemetry,
            request_id,
        } = self;
        let context = span.context();
        let span_context = context.span().span_context().clone();
        if span_context.is_valid() {
            telemetry.inner.recent.push(
                &request_id,
                u128::from_be_bytes(span_context.trace_id().to_bytes()),
                u64::from_be_bytes(span_context.span_id().to_bytes()),
            );
        }
        drop(span);
        telemetry.flush()
    }
}

/// Polls a future, turning a panic into an `Err` with its payload.
pub(crate) struct CatchUnwind<F> {
    pub(crate) inner: Pin<Box<F>>,
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn std::any::Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let inner = self.inner.as_mut();
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

/// The filter of the log layer: a plain level, or `RUST_LOG` directives.
///
/// It filters events only: every span the OpenTelemetry layer records must
/// also reach the log layer, which reads its ids and request id from it.
enum LogFilter {
    Level(LevelFilter),
    Directives(Box<EnvFilter>),
}

impl<S> Filter<S> for LogFilter
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fn enabled(
        &self,
        meta: &tracing::Metadata<'_>,
        cx: &tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        if meta.is_span() {
            return true;
        }
        match self {
            LogFilter::Level(level) => <LevelFilter as Filter<S>>::enabled(level, meta, cx),
            LogFilter::Directives(filter) => <EnvFilter as Filter<S>>::enabled(filter, meta, cx),
        }
    }

    fn callsite_enabled(
        &self,
        meta: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        if meta.is_span() {
            return tracing::subscriber::Interest::always();
        }
        match self {
            LogFilter::Level(level) => <LevelFilter as Filter<S>>::callsite_enabled(level, meta),
            LogFilter::Directives(filter) => {
                <EnvFilter as Filter<S>>::callsite_enabled(filter, meta)
            }
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        // Spans pass at every level; the OpenTelemetry layer's hint bounds them.
        None
    }

    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if let LogFilter::Directives(filter) = self {
            <EnvFilter as Filter<S>>::on_new_span(filter, attrs, id, ctx);
        }
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if let LogFilter::Directives(filter) = self {
            <EnvFilter as Filter<S>>::on_record(filter, id, values, ctx);
        }
    }

    fn on_enter(&self, id: &tracing::span::Id, ctx: tracing_subscriber::layer::Context<'_, S>) {
        if let LogFilter::Directives(filter) = self {
            <EnvFilter as Filter<S>>::on_enter(filter, id, ctx);
        }
    }

    fn on_exit(&self, id: &tracing::span::Id, ctx: tracing_subscriber::layer::Context<'_, S>) {
        if let LogFilter::Directives(filter) = self {
            <EnvFilter as Filter<S>>::on_exit(filter, id, ctx);
        }
    }

    fn on_close(&self, id: tracing::span::Id, ctx: tracing_subscriber::layer::Context<'_, S>) {
        if let LogFilter::Directives(filter) = self {
            <EnvFilter as Filter<S>>::on_close(filter, id, ctx);
        }
    }
}

/// The log filter, and the most verbose level at which spans are exported
/// (INFO, or more verbose when the log level is).
fn log_filter(level: &str) -> Result<(LogFilter, LevelFilter), TelemetryError> {
    let text = level.trim();
    let simple = match text.to_ascii_lowercase().as_str() {
        "fatal" | "critical" => Some(LevelFilter::ERROR),
        "warning" => Some(LevelFilter::WARN),
        "" => Some(LevelFilter::INFO),
        other => other.parse::<LevelFilter>().ok(),
    };
    if let Some(level) = simple {
        let span_level = level.max(LevelFilter::INFO);
        return Ok((LogFilter::Level(level), span_level));
    }
    let filter =
        EnvFilter::builder()
            .parse(text)
            .map_err(|error| TelemetryError::InvalidLevel {
                level: text.to_owned(),
                reason: error.to_string(),
            })?;
    let span_level = <EnvFilter as Filter<Registry>>::max_level_hint(&filter)
        .unwrap_or(LevelFilter::INFO)
        .max(LevelFilter::INFO);
    Ok((LogFilter::Directives(Box::new(filter)), span_level))
}

/// Under a manual clock, records each span's start and end on that clock, and
/// hands them to the exporter as the span ends.
struct TimingLayer {
    clock: Clock,
}

struct ManualTimes {
    start: u64,
}

impl<S> Layer<S> for TimingLayer
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        _attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(ManualTimes {
                start: self.clock.now_unix_nanos(),
            });
        }
    }

    fn on_close(&self, id: tracing::span::Id, ctx: tracing_subscriber::layer::Context<'_, S>) {
        if let Some(span) = ctx.span(&id)
            && let Some(times) = span.extensions().get::<ManualTimes>()
        {
            set_ending_span_times(times.start, self.clock.now_unix_nanos());
        }
    }
}

/// Every span is recorded and written (spans on stdout cost no per-trace
/// fee), but the sampling decision a caller made is kept: a span whose parent
/// is not sampled is recorded without the sampled flag, so that what it sends
/// on (`traceparent` flags, X-Ray `Sampled`) says what the caller said.
#[derive(Debug, Clone)]
struct RecordAllKeepDecision;

impl ShouldSample for RecordAllKeepDecision {
    fn should_sample(
        &self,
        parent_context: Option<&opentelemetry::Context>,
        _trace_id: opentelemetry::trace::TraceId,
        _name: &str,
        _span_kind: &opentelemetry::trace::SpanKind,
        _attributes: &[KeyValue],
        _links: &[opentelemetry::trace::Link],
    ) -> opentelemetry_sdk::trace::SamplingResult {
        use opentelemetry_sdk::trace::{SamplingDecision, SamplingResult};
        let parent = parent_context
            .filter(|cx| cx.has_active_span())
            .map(|cx| cx.span().span_context().clone());
        let decision = match &parent {
            Some(parent) if !parent.is_sampled() => SamplingDecision::RecordOnly,
            _ => SamplingDecision::RecordAndSample,
        };
        SamplingResult {
            decision,
            attributes: Vec::new(),
            trace_state: parent
                .map(|parent| parent.trace_state().clone())
                .unwrap_or_default(),
        }
    }
}
