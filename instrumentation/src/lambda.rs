//! The `lambda_runtime` layer: every invocation of a handler in its span.
//!
//! ```no_run
//! use lambda_runtime::{LambdaEvent, service_fn, tower::Layer as _};
//! use serde_json::Value;
//! use tracelake_instrumentation::lambda::TracingLayer;
//!
//! async fn handler(event: LambdaEvent<Value>) -> Result<Value, lambda_runtime::Error> {
//!     tracing::info!("handling");
//!     Ok(event.payload)
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), lambda_runtime::Error> {
//!     let telemetry = tracelake_instrumentation::init()?;
//!     let service = TracingLayer::new(telemetry).layer(service_fn(handler));
//!     lambda_runtime::run(service).await
//! }
//! ```
//!
//! The layer wraps the handler's service, so it sees the typed event: any
//! event type implementing [`ExtractContext`] (every `aws_lambda_events`
//! trigger, and `serde_json::Value`, detected by shape).

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use lambda_runtime::tower::{Layer, Service};
use lambda_runtime::{Context, LambdaEvent};
use tracing::instrument::{Instrument as _, Instrumented, WithDispatch, WithSubscriber as _};

use crate::propagation::extract::{ExtractContext, client_context_context};
use crate::unwind::Caught;
use crate::{ErrorReport, Invocation, InvocationSpan, Telemetry};

/// Builds the [`Invocation`] of a Lambda request: request id, X-Ray header and
/// invoked ARN from the runtime's [`Context`] (never from `_X_AMZN_TRACE_ID`,
/// which concurrent runtimes do not set), trigger and caller from the event,
/// and `ClientContext.custom` for a direct invoke whose event carries nothing.
pub fn invocation_for<T: ExtractContext>(payload: &T, context: &Context) -> Invocation {
    let mut invocation =
        Invocation::new(context.request_id.clone()).with_extracted(payload.extract_context());
    invocation.xray_header = context.xray_trace_id.clone().filter(|id| !id.is_empty());
    if !context.invoked_function_arn.is_empty() {
        invocation.invoked_arn = Some(context.invoked_function_arn.clone());
    }
    if invocation.parent.is_none()
        && let Some(client_context) = &context.client_context
    {
        invocation.parent = client_context_context(&client_context.custom);
    }
    invocation
}

/// How the layer reads a handler's error into the `exception` event.
pub trait ReportError<E> {
    /// The report of `error`.
    fn report(error: &E) -> ErrorReport;
}

/// Errors that are `Display` and `Debug` (the default): [`ErrorReport::of`].
#[derive(Clone, Copy, Debug, Default)]
pub struct DisplayedErrors;

impl<E: fmt::Display + fmt::Debug + 'static> ReportError<E> for DisplayedErrors {
    fn report(error: &E) -> ErrorReport {
        ErrorReport::of(error)
    }
}

/// Errors that are only `Debug`, as `lambda_runtime` requires of a handler's
/// error besides `Into<Diagnostic>` (a [`lambda_runtime::Diagnostic`] itself,
/// or a type converted into one): [`ErrorReport::of_debug`].
#[derive(Clone, Copy, Debug, Default)]
pub struct DebugErrors;

impl<E: fmt::Debug + 'static> ReportError<E> for DebugErrors {
    fn report(error: &E) -> ErrorReport {
        ErrorReport::of_debug(error)
    }
}

/// A tower layer that runs each invocation of the inner service in its span,
/// records errors and panics, and writes every span before the response returns.
///
/// The handler's error must be `Display` and `Debug`; for an error that is
/// only `Debug` (and `Into<lambda_runtime::Diagnostic>`), use
/// [`TracingLayer::with_debug_errors`].
#[derive(Clone, Debug)]
pub struct TracingLayer<R = DisplayedErrors> {
    telemetry: Telemetry,
    report: std::marker::PhantomData<R>,
}

impl TracingLayer {
    /// A layer writing through `telemetry`.
    pub fn new(telemetry: Telemetry) -> TracingLayer {
        TracingLayer {
            telemetry,
            report: std::marker::PhantomData,
        }
    }

    /// The layer for a handler whose error is only `Debug`, such as
    /// `lambda_runtime::Diagnostic` or a type with its own
    /// `Into<Diagnostic>`: the exception is read by [`ErrorReport::of_debug`].
    pub fn with_debug_errors(self) -> TracingLayer<DebugErrors> {
        TracingLayer {
            telemetry: self.telemetry,
            report: std::marker::PhantomData,
        }
    }
}

impl<S, R: Clone> Layer<S> for TracingLayer<R> {
    type Service = TracingService<S, R>;

    fn layer(&self, inner: S) -> TracingService<S, R> {
        TracingService {
            inner,
            telemetry: self.telemetry.clone(),
            report: std::marker::PhantomData,
        }
    }
}

/// The service made by [`TracingLayer`].
#[derive(Clone, Debug)]
pub struct TracingService<S, R = DisplayedErrors> {
    inner: S,
    telemetry: Telemetry,
    report: std::marker::PhantomData<R>,
}

impl<S, T, R> Service<LambdaEvent<T>> for TracingService<S, R>
where
    S: Service<LambdaEvent<T>>,
    S::Response: 'static,
    S::Error: 'static,
    R: ReportError<S::Error>,
    T: ExtractContext,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = TracingFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, event: LambdaEvent<T>) -> TracingFuture<S::Future> {
        let invocation = invocation_for(&event.payload, &event.context);
        self.call_traced(&invocation, event, crate::http::response_status)
    }
}

impl<S, R> TracingService<S, R> {
    /// Calls the inner service with `request` inside the span of `invocation`.
    fn call_traced<Request>(
        &mut self,
        invocation: &Invocation,
        request: Request,
        status_of: fn(&dyn Any) -> Option<i64>,
    ) -> TracingFuture<S::Future>
    where
        S: Service<Request>,
        S::Error: 'static,
        R: ReportError<S::Error>,
    {
        let report: fn(&dyn Any) -> Option<ErrorReport> =
            |error| error.downcast_ref::<S::Error>().map(R::report);
        let started = self.telemetry.start_invocation(invocation);
        let dispatch = self.telemetry.current_dispatch();
        let span = started.span().clone();
        let inner = &mut self.inner;
        let called = tracing::dispatcher::with_default(&dispatch, || {
            let _entered = span.enter();
            crate::unwind::catch(|| inner.call(request))
        });
        match called {
            Ok(future) => TracingFuture {
                running: Some((
                    Box::pin(crate::unwind::catch_future(
                        future.instrument(span).with_subscriber(dispatch),
                    )),
                    started,
                )),
                status_of,
                report,
            },
            Err(panic) => {
                // The span's last handle other than `started`: while it lives
                // the span does not end, and `finish` would write nothing.
                drop(span);
                started.resume_panic(panic)
            }
        }
    }
}

/// `lambda_http`: the layer around the handler's `Service<Request>`, inside
/// `lambda_http::run`. The request's headers, route and path and the Lambda
/// context it carries make the invocation; the response's status is recorded.
#[cfg(feature = "lambda-http")]
impl<S, B, R> Service<lambda_http::Request> for TracingService<S, R>
where
    S: Service<lambda_http::Request, Response = http::Response<B>>,
    S::Error: 'static,
    R: ReportError<S::Error>,
    B: 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = TracingFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: lambda_http::Request) -> TracingFuture<S::Future> {
        use lambda_http::RequestExt as _;
        let invocation = match request.lambda_context_ref() {
            Some(context) => invocation_for(&request, context),
            None => Invocation::new("").with_extracted(request.extract_context()),
        };
        self.call_traced(&invocation, request, http_response_status::<B>)
    }
}

#[cfg(feature = "lambda-http")]
fn http_response_status<B: 'static>(response: &dyn Any) -> Option<i64> {
    response
        .downcast_ref::<http::Response<B>>()
        .map(|response| i64::from(response.status().as_u16()))
}

/// The handler's future, in its span and dispatch, its panic caught.
type Handler<F> = Pin<Box<Caught<WithDispatch<Instrumented<F>>>>>;

/// The future of one traced invocation.
pub struct TracingFuture<F> {
    /// The handler and its invocation span, until the handler is done.
    running: Option<(Handler<F>, InvocationSpan)>,
    /// Reads the HTTP status of a response, when it is an HTTP response.
    status_of: fn(&dyn Any) -> Option<i64>,
    /// Reads the handler's error (its type behind `dyn Any`).
    report: fn(&dyn Any) -> Option<ErrorReport>,
}

impl<F> fmt::Debug for TracingFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracingFuture").finish_non_exhaustive()
    }
}

impl<F, R, E> Future for TracingFuture<F>
where
    F: Future<Output = Result<R, E>>,
    R: 'static,
    E: 'static,
{
    type Output = Result<R, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<R, E>> {
        let Some((handler, _)) = self.running.as_mut() else {
            return Poll::Pending;
        };
        let Poll::Ready(outcome) = handler.as_mut().poll(cx) else {
            return Poll::Pending;
        };
        let Some((_, started)) = self.running.take() else {
            return Poll::Pending;
        };
        let (status_of, report) = (self.status_of, self.report);
        Poll::Ready(started.conclude(
            outcome,
            |span, response| {
                if let Some(status_code) = status_of(response) {
                    span.record_http_status(status_code);
                }
            },
            |span, error| {
                if let Some(report) = report(error) {
                    span.record_report(&report);
                }
            },
        ))
    }
}

/// A runtime [`Context`] for tests and local runs: request id, X-Ray header
/// and invoked ARN set, the rest default.
pub fn test_context(request_id: &str, xray_header: Option<&str>, invoked_arn: &str) -> Context {
    let mut context = Context::default();
    context.request_id = request_id.to_owned();
    context.xray_trace_id = xray_header.map(str::to_owned);
    context.invoked_function_arn = invoked_arn.to_owned();
    context
}
