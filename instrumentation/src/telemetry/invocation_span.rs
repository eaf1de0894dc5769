//! One invocation: its span ([`InvocationSpan`]) and the ways to run a handler
//! in it ([`Telemetry::start_invocation`], [`Telemetry::in_invocation`],
//! [`Telemetry::in_invocation_async`]).

use std::fmt;
use std::future::Future;
use std::panic::resume_unwind;
use std::sync::atomic::Ordering;
use std::time::{Duration, UNIX_EPOCH};

use opentelemetry::KeyValue;
use opentelemetry::trace::{Status, TraceContextExt as _};
use opentelemetry_semantic_conventions::attribute as semconv;
use tracing::instrument::WithSubscriber as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use super::Telemetry;
use super::sampler::with_next_root_decision;
use crate::attribute;
use crate::config::InitializationType;
use crate::error_report::ErrorReport;
use crate::id_generator::with_next_trace_id;
use crate::invocation::Invocation;
use crate::unwind::{Panic, catch, catch_future};

impl Telemetry {
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
            self.write_startup_warnings();
            let span = tracing::info_span!(
                target: "tracelake",
                parent: None,
                "invocation",
                otel.name = %span_name,
                otel.kind = kind.as_str(),
                { semconv::FAAS_TRIGGER } = invocation.trigger.as_str(),
                { semconv::FAAS_INVOCATION_ID } = %invocation.request_id,
                { semconv::FAAS_COLDSTART } = cold_start,
                { semconv::CLOUD_ACCOUNT_ID } = account_id,
                { semconv::AWS_LAMBDA_INVOKED_ARN } = invocation.invoked_arn.as_deref(),
                { attribute::XRAY_EXTRA } = xray_extra.as_deref(),
            );
            for (key, value) in &invocation.attributes {
                span.set_attribute(key.clone(), opentelemetry::Value::from(value.clone()));
            }
            let mut forced_trace_id = None;
            let mut root_decision = None;
            if let Some(parent) = &parent {
                match parent.to_span_context() {
                    Some(span_context) => {
                        let cx =
                            opentelemetry::Context::new().with_remote_span_context(span_context);
                        let _ = span.set_parent(cx);
                    }
                    // An X-Ray header with a Root and no Parent: same trace, no parent span.
                    // Its `Sampled` is kept as the root span's decision.
                    None => {
                        forced_trace_id = Some(parent.trace_id.0);
                        root_decision = parent.sampled;
                    }
                }
            }
            for link in &links {
                if let Some(span_context) = link.to_span_context() {
                    span.add_link(span_context);
                }
            }
            // Start the OpenTelemetry span now, while the forced id is in place.
            with_next_trace_id(forced_trace_id, || {
                with_next_root_decision(root_decision, || {
                    let _ = span.context();
                })
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
    ///
    /// # Errors
    ///
    /// The handler's own error, returned unchanged once it is recorded on the
    /// span. A panic is not turned into an error: it is recorded, then resumed.
    pub fn in_invocation<T, E: fmt::Display>(
        &self,
        invocation: &Invocation,
        handler: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        let started = self.start_invocation(invocation);
        let outcome = tracing::dispatcher::with_default(&self.current_dispatch(), || {
            let _entered = started.span.enter();
            catch(handler)
        });
        started.conclude(outcome, |_, _| {}, InvocationSpan::record_displayed)
    }

    /// The async form of [`Telemetry::in_invocation`].
    ///
    /// # Errors
    ///
    /// The future's own error, returned unchanged once it is recorded on the
    /// span; a panic is recorded, then resumed, as in [`Telemetry::in_invocation`].
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
        let outcome = catch_future(future).await;
        started.conclude(outcome, |_, _| {}, InvocationSpan::record_displayed)
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
    /// Ends the span with a handler's outcome: the one place every caller
    /// (both forms of [`Telemetry::in_invocation`], the Lambda layer) reads
    /// it. A response goes through `on_response` (an HTTP status), an error
    /// through `on_error` (recorded with its type), then the spans are written
    /// and the result returned; a panic is recorded and then resumed.
    pub(crate) fn conclude<T, E>(
        self,
        outcome: Result<Result<T, E>, Panic>,
        on_response: impl FnOnce(&InvocationSpan, &T),
        on_error: impl FnOnce(&InvocationSpan, &E),
    ) -> Result<T, E> {
        match outcome {
            Ok(Ok(value)) => {
                on_response(&self, &value);
                self.finish();
                Ok(value)
            }
            Ok(Err(error)) => {
                on_error(&self, &error);
                self.finish();
                Err(error)
            }
            Err(panic) => self.resume_panic(panic),
        }
    }

    /// Records a caught panic, writes the spans, and resumes the panic.
    pub(crate) fn resume_panic(self, panic: Panic) -> ! {
        self.record_panic(panic.as_ref());
        self.finish();
        resume_unwind(panic)
    }

    /// Records an error by its `Display` text and its type's name.
    fn record_displayed<E: fmt::Display>(&self, error: &E) {
        self.record_error(&error.to_string(), Some(std::any::type_name::<E>()));
    }

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
