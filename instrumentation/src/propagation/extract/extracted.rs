//! What an event says about its invocation ([`Extracted`]), the trait that
//! reads it ([`ExtractContext`]), and the readers every trigger shares.

use serde_json::Value;

use crate::invocation::{AttributeValue, Invocation};
use crate::propagation::{TRACEPARENT, TRACESTATE, TraceContext, XRAY_HEADER, context_from};
use crate::trigger::{InvocationKind, Trigger};
use opentelemetry_semantic_conventions::attribute as semconv;

/// What an event says about its invocation: trigger, span kind and name, the
/// caller's context, links, and attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// `faas.trigger`.
    pub trigger: Trigger,
    /// SERVER or CONSUMER.
    pub kind: InvocationKind,
    /// The span name, when the event gives one (`GET /orders/{id}`, `process orders`).
    pub span_name: Option<String>,
    /// The caller's context.
    pub parent: Option<TraceContext>,
    /// One link per message of a batch that carried a context.
    pub links: Vec<TraceContext>,
    /// Span attributes from the event.
    pub attributes: Vec<(String, AttributeValue)>,
}

impl Extracted {
    /// Nothing known: an `other` trigger with a SERVER span.
    pub fn none() -> Extracted {
        Extracted {
            trigger: Trigger::Other,
            kind: InvocationKind::Server,
            span_name: None,
            parent: None,
            links: Vec::new(),
            attributes: Vec::new(),
        }
    }

    pub(crate) fn with_attribute(
        mut self,
        key: &str,
        value: impl Into<AttributeValue>,
    ) -> Extracted {
        self.attributes.push((key.to_owned(), value.into()));
        self
    }

    /// A batch: a link per message context, and the parent when every message
    /// names the same caller.
    pub(crate) fn batch(
        trigger: Trigger,
        span_name: Option<String>,
        message_count: usize,
        contexts: Vec<Option<TraceContext>>,
    ) -> Extracted {
        let all_carry = !contexts.is_empty() && contexts.iter().all(Option::is_some);
        let links: Vec<TraceContext> = contexts.into_iter().flatten().collect();
        let parent = match links.first() {
            Some(first) if all_carry && links.iter().all(|link| link.same_caller(first)) => {
                Some(first.clone())
            }
            _ => None,
        };
        let mut extracted = Extracted {
            trigger,
            kind: InvocationKind::Consumer,
            span_name,
            parent,
            links,
            attributes: Vec::new(),
        };
        if message_count > 1 {
            extracted = extracted.with_attribute(
                semconv::MESSAGING_BATCH_MESSAGE_COUNT,
                i64::try_from(message_count).unwrap_or(i64::MAX),
            );
        }
        extracted
    }
}

/// An event that can carry trace context.
///
/// [`TracingLayer`](crate::lambda::TracingLayer) needs it of the handler's
/// event type. The trigger types of `aws_lambda_events` and `serde_json::Value`
/// have it; an event struct of your own (the cargo-lambda template's
/// `Request`) needs the impl, which may say that it carries nothing (a direct
/// invoke's `ClientContext` is still read):
///
/// ```no_run
/// use lambda_runtime::{LambdaEvent, service_fn, tower::Layer as _};
/// use tracelake_instrumentation::lambda::TracingLayer;
/// use tracelake_instrumentation::propagation::extract::{ExtractContext, Extracted};
///
/// #[derive(serde::Deserialize)]
/// struct Request {
///     command: String,
/// }
///
/// impl ExtractContext for Request {
///     fn extract_context(&self) -> Extracted {
///         Extracted::none()
///     }
/// }
///
/// async fn handler(event: LambdaEvent<Request>) -> Result<String, lambda_runtime::Error> {
///     Ok(event.payload.command)
/// }
///
/// # async fn run() -> Result<(), lambda_runtime::Error> {
/// let telemetry = tracelake_instrumentation::init()?;
/// lambda_runtime::run(TracingLayer::new(telemetry).layer(service_fn(handler))).await
/// # }
/// ```
pub trait ExtractContext {
    /// Reads the trigger, names and context of the event. Never fails: an
    /// event without readable context gives an [`Extracted`] without parent.
    fn extract_context(&self) -> Extracted;
}

impl Invocation {
    /// Takes the trigger, kind, name, parent, links and attributes that were
    /// extracted from the event.
    pub fn with_extracted(mut self, extracted: Extracted) -> Self {
        self.trigger = extracted.trigger;
        self.kind = Some(extracted.kind);
        if extracted.span_name.is_some() {
            self.span_name = extracted.span_name;
        }
        if extracted.parent.is_some() {
            self.parent = extracted.parent;
        }
        self.links.extend(extracted.links);
        self.attributes.extend(extracted.attributes);
        self
    }
}

/// The last part of an ARN (`arn:aws:sqs:eu-west-1:123456789012:orders` → `orders`).
pub(crate) fn arn_resource(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}

/// Reads `traceparent`/`tracestate` (then `X-Amzn-Trace-Id`) at the top of a
/// JSON object: EventBridge `detail`, Step Functions input, a Kinesis record.
pub fn json_context(object: &Value) -> Option<TraceContext> {
    let text = |name: &str| object.get(name).and_then(Value::as_str);
    context_from(text(TRACEPARENT), text(TRACESTATE), text(XRAY_HEADER))
}
