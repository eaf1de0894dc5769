//! Reading trace context from trigger events.
//!
//! Every event type of `aws_lambda_events` that can start an invocation
//! implements [`ExtractContext`]; so does `serde_json::Value`, which detects the
//! event's type by its shape. The result, [`Extracted`], feeds
//! [`Invocation::with_extracted`](crate::Invocation::with_extracted).
//!
//! | trigger | where the context is read |
//! |---|---|
//! | API Gateway REST and HTTP, ALB, Function URL | `traceparent`/`tracestate` headers, then `X-Amzn-Trace-Id` |
//! | SQS | the `traceparent` message attribute, then the `AWSTraceHeader` system attribute, per message |
//! | SNS | the `traceparent` message attribute, then `X-Amzn-Trace-Id`, per record |
//! | EventBridge | `detail.traceparent` |
//! | Kinesis | `traceparent` in a record's data, when the data is a JSON object |
//! | DynamoDB Streams | a `traceparent` string attribute of the new (else old) image |
//! | Step Functions, direct invoke | `traceparent` at the top of the input; `ClientContext.custom` |
//!
//! A batch (SQS, SNS, Kinesis, DynamoDB) gets one CONSUMER span with a link per
//! message that carried a context. When every message names the same caller
//! (a batch of one, most often), that caller is also the parent.

use std::collections::HashMap;

use aws_lambda_events::event::alb::AlbTargetGroupRequest;
use aws_lambda_events::event::apigw::{ApiGatewayProxyRequest, ApiGatewayV2httpRequest};
use aws_lambda_events::event::dynamodb;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::kinesis::{KinesisEvent, KinesisEventRecord};
use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlRequest;
use aws_lambda_events::event::sns::{SnsEvent, SnsMessage};
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use serde_json::Value;

use crate::invocation::{AttributeValue, InvocationKind, Trigger};
use crate::propagation::{
    SQS_XRAY_ATTRIBUTE, TRACEPARENT, TRACESTATE, TraceContext, XRAY_HEADER, context_from,
};

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

    fn with_attribute(mut self, key: &str, value: impl Into<AttributeValue>) -> Extracted {
        self.attributes.push((key.to_owned(), value.into()));
        self
    }

    /// A batch: a link per message context, and the parent when every message
    /// names the same caller.
    fn batch(
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
                "messaging.batch.message_count",
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

fn header<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// Reads `traceparent`/`tracestate`, then `X-Amzn-Trace-Id`, from HTTP headers.
pub fn context_from_headers(headers: &http::HeaderMap) -> Option<TraceContext> {
    context_from(
        header(headers, TRACEPARENT),
        header(headers, TRACESTATE),
        header(headers, XRAY_HEADER),
    )
}

pub(crate) fn http_extracted(
    method: &str,
    route: Option<&str>,
    path: Option<&str>,
    parent: Option<TraceContext>,
) -> Extracted {
    let route = route.filter(|route| !route.is_empty() && *route != "$default");
    let span_name = match route {
        Some(route) => format!("{method} {route}"),
        None => method.to_owned(),
    };
    let mut extracted = Extracted {
        trigger: Trigger::Http,
        kind: InvocationKind::Server,
        span_name: Some(span_name),
        parent,
        links: Vec::new(),
        attributes: Vec::new(),
    }
    .with_attribute("http.request.method", method);
    if let Some(route) = route {
        extracted = extracted.with_attribute("http.route", route);
    }
    if let Some(path) = path {
        extracted = extracted.with_attribute("url.path", path);
    }
    extracted
}

impl ExtractContext for ApiGatewayProxyRequest {
    fn extract_context(&self) -> Extracted {
        let parent = context_from_headers(&self.headers)
            .or_else(|| context_from_headers(&self.multi_value_headers));
        http_extracted(
            self.http_method.as_str(),
            self.resource.as_deref(),
            self.path.as_deref(),
            parent,
        )
    }
}

impl ExtractContext for ApiGatewayV2httpRequest {
    fn extract_context(&self) -> Extracted {
        // `routeKey` is `GET /items/{id}` (or `$default`); the route is its second word.
        let route = self
            .route_key
            .as_deref()
            .map(|key| key.split_once(' ').map_or(key, |(_, route)| route));
        http_extracted(
            self.request_context.http.method.as_str(),
            route,
            self.raw_path.as_deref(),
            context_from_headers(&self.headers),
        )
    }
}

impl ExtractContext for AlbTargetGroupRequest {
    fn extract_context(&self) -> Extracted {
        let parent = context_from_headers(&self.headers)
            .or_else(|| context_from_headers(&self.multi_value_headers));
        http_extracted(
            self.http_method.as_str(),
            None,
            self.path.as_deref(),
            parent,
        )
    }
}

impl ExtractContext for LambdaFunctionUrlRequest {
    fn extract_context(&self) -> Extracted {
        let method = self
            .request_context
            .http
            .method
            .as_deref()
            .unwrap_or("HTTP");
        http_extracted(
            method,
            None,
            self.raw_path.as_deref(),
            context_from_headers(&self.headers),
        )
    }
}

/// The last part of an ARN (`arn:aws:sqs:eu-west-1:123456789012:orders` → `orders`).
fn arn_resource(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}

/// The context of one SQS message: its `traceparent` message attribute, else
/// its `AWSTraceHeader` system attribute.
pub fn sqs_message_context(message: &SqsMessage) -> Option<TraceContext> {
    let attribute = |name: &str| {
        message
            .message_attributes
            .get(name)
            .and_then(|attribute| attribute.string_value.as_deref())
    };
    context_from(
        attribute(TRACEPARENT),
        attribute(TRACESTATE),
        message
            .attributes
            .get(SQS_XRAY_ATTRIBUTE)
            .map(String::as_str),
    )
}

impl ExtractContext for SqsEvent {
    fn extract_context(&self) -> Extracted {
        let queue = self
            .records
            .first()
            .and_then(|record| record.event_source_arn.as_deref())
            .map(arn_resource);
        let contexts = self.records.iter().map(sqs_message_context).collect();
        let mut extracted = Extracted::batch(
            Trigger::PubSub,
            Some(format!("process {}", queue.unwrap_or("sqs"))),
            self.records.len(),
            contexts,
        )
        .with_attribute("messaging.system", "aws_sqs")
        .with_attribute("messaging.operation.name", "process");
        if let Some(queue) = queue {
            extracted = extracted.with_attribute("messaging.destination.name", queue);
        }
        extracted
    }
}

/// The context of one SNS message: its `traceparent` message attribute, else
/// an `X-Amzn-Trace-Id` (or `AWSTraceHeader`) attribute.
pub fn sns_message_context(message: &SnsMessage) -> Option<TraceContext> {
    let attribute = |name: &str| {
        message
            .message_attributes
            .get(name)
            .map(|attribute| attribute.value.as_str())
    };
    context_from(
        attribute(TRACEPARENT),
        attribute(TRACESTATE),
        attribute(XRAY_HEADER).or_else(|| attribute(SQS_XRAY_ATTRIBUTE)),
    )
}

impl ExtractContext for SnsEvent {
    fn extract_context(&self) -> Extracted {
        let topic = self
            .records
            .first()
            .map(|record| arn_resource(&record.sns.topic_arn).to_owned())
            .filter(|topic| !topic.is_empty());
        let contexts = self
            .records
            .iter()
            .map(|record| sns_message_context(&record.sns))
            .collect();
        let mut extracted = Extracted::batch(
            Trigger::PubSub,
            Some(format!("process {}", topic.as_deref().unwrap_or("sns"))),
            self.records.len(),
            contexts,
        )
        .with_attribute("messaging.system", "aws_sns")
        .with_attribute("messaging.operation.name", "process");
        if let Some(topic) = topic {
            extracted = extracted.with_attribute("messaging.destination.name", topic);
        }
        extracted
    }
}

/// Reads `traceparent`/`tracestate` (then `X-Amzn-Trace-Id`) at the top of a
/// JSON object: EventBridge `detail`, Step Functions input, a Kinesis record.
pub fn json_context(object: &Value) -> Option<TraceContext> {
    let text = |name: &str| object.get(name).and_then(Value::as_str);
    context_from(text(TRACEPARENT), text(TRACESTATE), text(XRAY_HEADER))
}

impl ExtractContext for EventBridgeEvent<Value> {
    fn extract_context(&self) -> Extracted {
        // A schedule is a timer, not a message.
        if self.source == "aws.events" && self.detail_type == "Scheduled Event"
            || self.source == "aws.scheduler"
        {
            let mut extracted = Extracted::none();
            extracted.trigger = Trigger::Timer;
            return extracted;
        }
        let mut extracted = Extracted::batch(
            Trigger::PubSub,
            Some(format!("process {}", self.detail_type)),
            1,
            vec![json_context(&self.detail)],
        )
        .with_attribute("messaging.system", "aws_eventbridge")
        .with_attribute("messaging.operation.name", "process")
        .with_attribute("messaging.destination.name", self.detail_type.clone());
        extracted.links.clear();
        extracted = extracted.with_attribute("aws.eventbridge.source", self.source.clone());
        extracted
    }
}

/// The context in a Kinesis record's data, when the data is a JSON object
/// carrying a `traceparent`.
pub fn kinesis_record_context(record: &KinesisEventRecord) -> Option<TraceContext> {
    let data: &[u8] = &record.kinesis.data.0;
    if !data.trim_ascii_start().starts_with(b"{") {
        return None;
    }
    let object: Value = serde_json::from_slice(data).ok()?;
    json_context(&object)
}

impl ExtractContext for KinesisEvent {
    fn extract_context(&self) -> Extracted {
        let stream = self
            .records
            .first()
            .and_then(|record| record.event_source_arn.as_deref())
            .map(|arn| arn_resource(arn).trim_start_matches("stream/").to_owned());
        let contexts = self.records.iter().map(kinesis_record_context).collect();
        let mut extracted = Extracted::batch(
            Trigger::PubSub,
            Some(format!(
                "process {}",
                stream.as_deref().unwrap_or("kinesis")
            )),
            self.records.len(),
            contexts,
        )
        .with_attribute("messaging.system", "aws_kinesis")
        .with_attribute("messaging.operation.name", "process");
        if let Some(stream) = stream {
            extracted = extracted.with_attribute("messaging.destination.name", stream);
        }
        extracted
    }
}

/// The context in a DynamoDB stream record: a `traceparent` string attribute
/// (with `tracestate`) of the new image, else of the old image.
pub fn dynamodb_record_context(record: &dynamodb::EventRecord) -> Option<TraceContext> {
    let from_image = |image: &serde_dynamo::Item| -> Option<TraceContext> {
        let string = |name: &str| match image.inner().get(name) {
            Some(serde_dynamo::AttributeValue::S(text)) => Some(text.as_str()),
            _ => None,
        };
        context_from(string(TRACEPARENT), string(TRACESTATE), None)
    };
    from_image(&record.change.new_image).or_else(|| from_image(&record.change.old_image))
}

impl ExtractContext for dynamodb::Event {
    fn extract_context(&self) -> Extracted {
        // arn:aws:dynamodb:region:account:table/Name/stream/2015-06-27T00:48:05.899
        let table = self
            .records
            .first()
            .and_then(|record| record.event_source_arn.as_deref())
            .and_then(|arn| arn.splitn(6, ':').nth(5))
            .and_then(|resource| resource.split('/').nth(1))
            .map(str::to_owned);
        let contexts = self.records.iter().map(dynamodb_record_context).collect();
        let mut extracted = Extracted::batch(
            Trigger::Datasource,
            Some(format!(
                "process {}",
                table.as_deref().unwrap_or("dynamodb")
            )),
            self.records.len(),
            contexts,
        )
        .with_attribute(
            "faas.document.collection",
            table.clone().unwrap_or_default(),
        );
        if table.is_none() {
            extracted.attributes.pop();
        }
        extracted
    }
}

/// Reads a context from a Lambda `ClientContext.custom` map (direct invoke):
/// `traceparent`/`tracestate`, then `X-Amzn-Trace-Id`.
pub fn client_context_context(custom: &HashMap<String, String>) -> Option<TraceContext> {
    let text = |name: &str| custom.get(name).map(String::as_str);
    context_from(text(TRACEPARENT), text(TRACESTATE), text(XRAY_HEADER))
}

/// A Step Functions task or a direct invoke whose input is a JSON object with a
/// `traceparent` at the top.
pub fn invoke_input_context(input: &Value) -> Extracted {
    let mut extracted = Extracted::none();
    extracted.parent = json_context(input);
    extracted
}

fn records_source(value: &Value) -> Option<&str> {
    let first = value.get("Records")?.get(0)?;
    first
        .get("eventSource")
        .or_else(|| first.get("EventSource"))
        .and_then(Value::as_str)
}

fn typed<T: serde::de::DeserializeOwned + ExtractContext>(value: &Value) -> Option<Extracted> {
    T::deserialize(value)
        .ok()
        .map(|event| event.extract_context())
}

impl ExtractContext for Value {
    /// Detects the event type by its shape, then reads it as that type. An
    /// object of no known type is read as Step Functions or direct-invoke input.
    fn extract_context(&self) -> Extracted {
        let request_context = self.get("requestContext");
        let detected = match records_source(self) {
            Some("aws:sqs") => typed::<SqsEvent>(self),
            Some("aws:sns") => typed::<SnsEvent>(self),
            Some("aws:kinesis") => typed::<KinesisEvent>(self),
            Some("aws:dynamodb") => typed::<dynamodb::Event>(self),
            _ if self.get("detail-type").is_some() && self.get("source").is_some() => {
                typed::<EventBridgeEvent<Value>>(self)
            }
            _ if request_context.and_then(|cx| cx.get("elb")).is_some() => {
                typed::<AlbTargetGroupRequest>(self)
            }
            _ if request_context
                .and_then(|cx| cx.get("domainName"))
                .and_then(Value::as_str)
                .is_some_and(|domain| domain.contains(".lambda-url.")) =>
            {
                typed::<LambdaFunctionUrlRequest>(self)
            }
            _ if self.get("routeKey").is_some()
                && request_context.and_then(|cx| cx.get("http")).is_some() =>
            {
                typed::<ApiGatewayV2httpRequest>(self)
            }
            _ if self.get("httpMethod").is_some() && request_context.is_some() => {
                typed::<ApiGatewayProxyRequest>(self)
            }
            _ => None,
        };
        detected.unwrap_or_else(|| invoke_input_context(self))
    }
}
