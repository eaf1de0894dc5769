//! Rust services: real handlers run through tracelake-instrumentation.
//!
//! Each execution environment (log stream) of a Rust service gets its own
//! [`Telemetry`], built from an explicit [`TelemetryConfig`] (service, function,
//! log stream, memory, region, account) with a seeded id generator and the
//! simulator's [`ManualClock`], writing to one shared [`LineBuffer`]. A handler
//! logs through `tracing`, opens a client or producer span per call, and the
//! telemetry writes every span before the invocation returns. The simulator
//! moves the clock to each action's time and collects each line the moment it
//! is written, so a line's CloudWatch timestamp is the time it was logged.
//!
//! A timed-out or crashed invocation never reaches the flush: Lambda stops the
//! process first, so its spans are lost and its environment is discarded.

use std::time::{Duration, UNIX_EPOCH};

use opentelemetry::trace::TraceContextExt as _;
use opentelemetry_semantic_conventions::attribute as semconv;
use tracelake_instrumentation::wire::span_line::is_span_line;
use tracelake_instrumentation::{
    Invocation as InstrumentedInvocation, LineBuffer, ManualClock, Output, SpanFormat, Telemetry,
    TelemetryConfig, Trigger as FaasTrigger,
};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::event::{Carries, EventKind, EventSink, TruthSpan};
use crate::fleet::EdgeKind;
use crate::render::context::{InvocationContext, xray_text};
use crate::rng::SimRng;
use crate::traffic::{Outcome, Trigger};

/// Why a Rust service could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum InstrumentedError {
    /// The telemetry rejected its configuration.
    #[error("building the telemetry of {service}: {message}")]
    Telemetry {
        /// The service.
        service: String,
        /// What the telemetry said.
        message: String,
    },
}

/// The Rust services of a run: one telemetry per live execution environment.
pub struct RustServices {
    clock: ManualClock,
    buffer: LineBuffer,
    telemetries: Vec<Option<Telemetry>>,
    id_seeds: SimRng,
    scratch: Vec<u8>,
}

enum Action {
    Log(usize),
    CallStart(usize),
    CallEnd(usize),
}

impl RustServices {
    /// Prepares for a run over `stream_count` log streams. Every telemetry
    /// built (one per execution environment) draws its id seed from `id_seeds`.
    pub fn new(stream_count: usize, id_seeds: SimRng) -> RustServices {
        RustServices {
            clock: ManualClock::default(),
            buffer: LineBuffer::new(),
            telemetries: (0..stream_count).map(|_| None).collect(),
            id_seeds,
            scratch: Vec::with_capacity(16 * 1024),
        }
    }

    fn set_clock(&self, at_ns: u64) {
        self.clock.set(UNIX_EPOCH + Duration::from_nanos(at_ns));
    }

    fn telemetry(
        &mut self,
        context: &InvocationContext<'_>,
    ) -> Result<Telemetry, InstrumentedError> {
        let stream = context.invocation.stream;
        if let Some(Some(telemetry)) = self.telemetries.get(stream) {
            return Ok(telemetry.clone());
        }
        let service = context.service;
        let config = TelemetryConfig::new(service.name.clone())
            .with_function(service.function_name.clone(), "$LATEST")
            .with_log_stream(context.stream.name.clone())
            .with_log_group(service.log_group.clone())
            .with_memory_mb(u64::from(service.memory_mb))
            .with_region(context.fleet.region.clone())
            .with_account_id(context.fleet.account_id.clone())
            // What OTEL_RESOURCE_ATTRIBUTES sets in a real fleet: the service
            // map groups services by these tags.
            .with_resource_attribute("team", service.team())
            .with_resource_attribute("deployment.environment.name", "production")
            .with_span_format(if service.compact_spans {
                SpanFormat::Compact
            } else {
                SpanFormat::OtlpJson
            })
            .with_level("debug")
            .with_clock(tracelake_instrumentation::Clock::Manual(self.clock.clone()))
            // Each environment, and each rebuild of one after a timeout or a
            // crash, draws its own seed: sandboxes never share an id sequence.
            .with_id_seed(self.id_seeds.next_u64());
        let telemetry = Telemetry::new(config, Output::buffer(&self.buffer)).map_err(|error| {
            InstrumentedError::Telemetry {
                service: service.name.clone(),
                message: error.to_string(),
            }
        })?;
        if let Some(slot) = self.telemetries.get_mut(stream) {
            *slot = Some(telemetry.clone());
        }
        Ok(telemetry)
    }

    /// Moves the lines written so far into `sink`, stamped `at_ns`.
    fn collect(
        &mut self,
        at_ns: u64,
        context: &InvocationContext<'_>,
        index: usize,
        sink: &mut EventSink,
    ) {
        self.scratch.clear();
        self.buffer.drain_into(&mut self.scratch);
        if self.scratch.is_empty() {
            return;
        }
        // The telemetry writes UTF-8; the lossy path is only a fallback.
        let text = match std::str::from_utf8(&self.scratch) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(&self.scratch),
        };
        for line in text.lines() {
            if is_span_line(line) {
                let carries = Carries {
                    own_trace: true,
                    request_id: true,
                    trace_evidence: true,
                };
                sink.push(
                    at_ns,
                    context.invocation.stream,
                    Some(index),
                    EventKind::SpanLine,
                    carries,
                    line.to_owned(),
                );
            } else {
                let carries = Carries {
                    own_trace: true,
                    request_id: true,
                    trace_evidence: false,
                };
                sink.push(
                    at_ns,
                    context.invocation.stream,
                    Some(index),
                    EventKind::AppLog,
                    carries,
                    line.to_owned(),
                );
            }
        }
    }

    /// Runs one invocation's handler and returns the span id of each call's
    /// client or producer span, which the callee receives as its parent.
    ///
    /// # Errors
    ///
    /// [`InstrumentedError::Telemetry`] when the service's telemetry, built on its
    /// first invocation in an execution environment, rejects its configuration.
    pub fn run_invocation(
        &mut self,
        context: &InvocationContext<'_>,
        index: usize,
        sink: &mut EventSink,
        spans: &mut Vec<TruthSpan>,
    ) -> Result<Vec<u64>, InstrumentedError> {
        let telemetry = self.telemetry(context)?;
        let invocation = context.invocation;
        let service = context.service;

        let (trigger, kind_attributes): (FaasTrigger, Vec<(&str, String)>) =
            match invocation.trigger {
                Trigger::ApiRoot | Trigger::Hop(EdgeKind::Http) => (FaasTrigger::Http, Vec::new()),
                Trigger::Hop(EdgeKind::Kinesis) => (
                    FaasTrigger::PubSub,
                    vec![(semconv::MESSAGING_SYSTEM, "aws_kinesis".to_owned())],
                ),
                Trigger::Hop(EdgeKind::StepFunctions | EdgeKind::LambdaInvoke) => {
                    (FaasTrigger::Other, Vec::new())
                }
                Trigger::Hop(kind) => (
                    FaasTrigger::PubSub,
                    vec![(semconv::MESSAGING_SYSTEM, kind.label().to_owned())],
                ),
            };
        let xray_header = match context.parent_span_id {
            Some(parent) => format!(
                "Root={};Parent={parent:016x};Sampled=1",
                xray_text(context.trace_id)
            ),
            None => format!("Root={};Sampled=1", xray_text(context.trace_id)),
        };
        let mut request = InstrumentedInvocation::new(context.request_id.clone())
            .with_xray_header(xray_header)
            .with_invoked_arn(context.fleet.function_arn(service))
            .with_trigger(trigger)
            .with_span_name(context.entry_name.clone());
        for (key, value) in kind_attributes {
            request = request.with_attribute(key, value);
        }

        self.set_clock(invocation.start_ns);
        let started = telemetry.start_invocation(&request);
        let server_span_id = tracing::dispatcher::with_default(telemetry.dispatch(), || {
            let id = started.span().context().span().span_context().span_id();
            u64::from_be_bytes(id.to_bytes())
        });
        let mut call_names = vec![String::new(); invocation.calls.len()];

        let mut actions: Vec<(u64, u8, Action)> =
            Vec::with_capacity(context.lines.len() + 2 * invocation.calls.len());
        for (line_index, line) in context.lines.iter().enumerate() {
            actions.push((line.at_ns, 1, Action::Log(line_index)));
        }
        for (call_index, call) in invocation.calls.iter().enumerate() {
            actions.push((call.send_ns, 0, Action::CallStart(call_index)));
            actions.push((call.done_ns, 2, Action::CallEnd(call_index)));
        }
        actions.sort_by_key(|(at, order, _)| (*at, *order));

        let mut call_spans: Vec<Option<tracing::Span>> =
            (0..invocation.calls.len()).map(|_| None).collect();
        let mut call_span_ids = vec![0u64; invocation.calls.len()];
        let dispatch = telemetry.dispatch().clone();
        for (at_ns, _, action) in actions {
            self.set_clock(at_ns);
            tracing::dispatcher::with_default(&dispatch, || {
                let _server = started.span().enter();
                match action {
                    Action::CallStart(call_index) => {
                        let call = &invocation.calls[call_index];
                        let Some(edge) = service.edges.get(call.edge) else {
                            return;
                        };
                        let target = &context.fleet.services[edge.target].name;
                        let name = match edge.kind {
                            EdgeKind::Http => {
                                edge.channel.split(' ').next().unwrap_or("GET").to_owned()
                            }
                            EdgeKind::LambdaInvoke => "Lambda.Invoke".to_owned(),
                            _ => format!("{} publish", edge.channel),
                        };
                        let span = match edge.kind {
                            // As the `aws-sdk` interceptor writes it: the
                            // callee's request id comes with the response.
                            EdgeKind::LambdaInvoke => {
                                let span = tracing::info_span!(
                                    "aws sdk call",
                                    otel.name = "Lambda.Invoke",
                                    otel.kind = "client",
                                    rpc.system = "aws-api",
                                    rpc.service = "Lambda",
                                    rpc.method = "Invoke",
                                    faas.invoked_name = %edge.channel,
                                    faas.invoked_provider = "aws",
                                    aws.request_id = tracing::field::Empty,
                                );
                                if context.fleet.invoke_request_ids
                                    && let Some(callee) = context.callee_request_ids.get(call_index)
                                {
                                    span.record("aws.request_id", callee.as_str());
                                }
                                span
                            }
                            EdgeKind::Http => {
                                let method = name.as_str();
                                tracing::info_span!(
                                    "http_client",
                                    otel.name = %method,
                                    otel.kind = "client",
                                    http.request.method = %method,
                                    server.address = %format!("{target}.internal"),
                                    peer.service = %target,
                                )
                            }
                            kind => tracing::info_span!(
                                "publish",
                                otel.name = %name,
                                otel.kind = "producer",
                                messaging.system = kind.label(),
                                messaging.destination.name = %edge.channel,
                            ),
                        };
                        let span_context = span.context();
                        let id = span_context.span().span_context().span_id();
                        call_span_ids[call_index] = u64::from_be_bytes(id.to_bytes());
                        call_spans[call_index] = Some(span);
                        call_names[call_index] = name;
                    }
                    Action::CallEnd(call_index) => {
                        // Dropping the span ends it at the clock's time.
                        call_spans[call_index] = None;
                    }
                    Action::Log(line_index) => {
                        let line = &context.lines[line_index];
                        let call_span = line
                            .call
                            .and_then(|call| call_spans.get(call))
                            .and_then(Option::as_ref);
                        let _call = call_span.map(|span| span.enter());
                        let message = line.message.as_str();
                        match line.level {
                            "ERROR" => tracing::error!("{message}"),
                            "WARN" => tracing::warn!("{message}"),
                            "DEBUG" => tracing::debug!("{message}"),
                            _ => tracing::info!("{message}"),
                        }
                    }
                }
            });
            self.collect(at_ns, context, index, sink);
        }
        drop(call_spans);

        let end = invocation.end_ns();
        self.set_clock(end);
        match invocation.outcome {
            Outcome::Success | Outcome::Error => {
                if invocation.outcome == Outcome::Error {
                    started.record_error("handler returned an error", Some("NotFound"));
                }
                started.finish();
                self.collect(end, context, index, sink);
                let error = invocation.outcome == Outcome::Error;
                spans.push(TruthSpan {
                    trace_id: context.trace_id,
                    span_id: server_span_id,
                    parent_span_id: context.parent_span_id,
                    service: service.name.clone(),
                    name: context.entry_name.clone(),
                    error,
                });
                for (call_index, name) in call_names.iter().enumerate() {
                    spans.push(TruthSpan {
                        trace_id: context.trace_id,
                        span_id: call_span_ids[call_index],
                        parent_span_id: Some(server_span_id),
                        service: service.name.clone(),
                        name: name.clone(),
                        error: false,
                    });
                }
            }
            Outcome::Timeout | Outcome::Crash => {
                // The process is stopped before the flush: drop the environment and
                // whatever it still held.
                drop(started);
                if let Some(slot) = self.telemetries.get_mut(invocation.stream) {
                    *slot = None;
                }
                drop(telemetry);
                self.buffer.take();
            }
        }
        Ok(call_span_ids)
    }

    /// Drops the telemetry of environments that will not run again.
    pub fn retire_stream(&mut self, stream: usize) {
        if let Some(slot) = self.telemetries.get_mut(stream) {
            *slot = None;
        }
        self.buffer.take();
    }
}
