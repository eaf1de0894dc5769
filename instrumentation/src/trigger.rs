//! What started an invocation: the event sources a Lambda is invoked by, the
//! `faas.trigger` each one is, the span kind that follows, and the
//! `messaging.system` of the queues and streams.
//!
//! The one place that knows event sources: [`propagation::extract`] reads an
//! event's context by its [`EventSource`], [`Invocation`] carries the
//! [`Trigger`], and the AWS SDK spans name the same messaging systems.
//!
//! [`propagation::extract`]: crate::propagation::extract
//! [`Invocation`]: crate::Invocation

use serde_json::Value;

/// `faas.trigger`: what kind of event started the invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Trigger {
    /// An HTTP request (API Gateway, ALB, Function URL).
    Http,
    /// A message or stream record (SQS, SNS, EventBridge, Kinesis).
    PubSub,
    /// A change in a data source (DynamoDB Streams, S3).
    Datasource,
    /// A schedule.
    Timer,
    /// Anything else (direct invoke, Step Functions).
    #[default]
    Other,
}

impl Trigger {
    /// The semantic-convention value.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Http => "http",
            Trigger::PubSub => "pubsub",
            Trigger::Datasource => "datasource",
            Trigger::Timer => "timer",
            Trigger::Other => "other",
        }
    }

    /// The span kind of an invocation started this way: CONSUMER for queues and
    /// streams, SERVER otherwise.
    pub fn span_kind(self) -> InvocationKind {
        match self {
            Trigger::PubSub | Trigger::Datasource => InvocationKind::Consumer,
            Trigger::Http | Trigger::Timer | Trigger::Other => InvocationKind::Server,
        }
    }
}

/// The kind of the invocation span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvocationKind {
    /// SERVER: the caller waits for the answer.
    Server,
    /// CONSUMER: the function processes messages someone else produced.
    Consumer,
}

impl InvocationKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            InvocationKind::Server => "server",
            InvocationKind::Consumer => "consumer",
        }
    }
}

/// `messaging.system` values of the AWS services (semantic conventions'
/// well-known values; the semconv crate has the keys, not the values).
pub mod messaging_system {
    /// Amazon SQS.
    pub const AWS_SQS: &str = "aws_sqs";
    /// Amazon SNS.
    pub const AWS_SNS: &str = "aws_sns";
    /// Amazon Kinesis Data Streams.
    pub const AWS_KINESIS: &str = "aws_kinesis";
    /// Amazon EventBridge.
    pub const AWS_EVENTBRIDGE: &str = "aws_eventbridge";
}

/// The service whose event started an invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventSource {
    /// API Gateway REST API (payload 1.0).
    ApiGatewayRest,
    /// API Gateway HTTP API (payload 2.0).
    ApiGatewayHttp,
    /// An Application Load Balancer target group.
    Alb,
    /// A Lambda Function URL.
    FunctionUrl,
    /// An SQS batch.
    Sqs,
    /// An SNS notification.
    Sns,
    /// An EventBridge event that is not a schedule.
    EventBridge,
    /// An EventBridge rule schedule or an EventBridge Scheduler schedule.
    Schedule,
    /// A Kinesis batch.
    Kinesis,
    /// A DynamoDB Streams batch.
    DynamoDbStreams,
    /// Anything else: a direct invoke, a Step Functions task.
    Invoke,
}

impl EventSource {
    /// Detects the source of a JSON event by its shape (the `eventSource` of
    /// `Records`, EventBridge's `detail-type`, the `requestContext` of HTTP
    /// requests). An object of no known shape is [`EventSource::Invoke`].
    pub fn detect(event: &Value) -> EventSource {
        let request_context = event.get("requestContext");
        let records_source = event
            .get("Records")
            .and_then(|records| records.get(0))
            .and_then(|first| {
                first
                    .get("eventSource")
                    .or_else(|| first.get("EventSource"))
            })
            .and_then(Value::as_str);
        match records_source {
            Some("aws:sqs") => return EventSource::Sqs,
            Some("aws:sns") => return EventSource::Sns,
            Some("aws:kinesis") => return EventSource::Kinesis,
            Some("aws:dynamodb") => return EventSource::DynamoDbStreams,
            _ => {}
        }
        fn text(value: Option<&Value>) -> Option<&str> {
            value.and_then(Value::as_str)
        }
        if let (Some(detail_type), Some(source)) = (event.get("detail-type"), event.get("source")) {
            return EventSource::of_eventbridge(
                text(Some(source)).unwrap_or_default(),
                text(Some(detail_type)).unwrap_or_default(),
            );
        }
        let context = |name: &str| request_context.and_then(|cx| cx.get(name));
        if context("elb").is_some() {
            EventSource::Alb
        } else if text(context("domainName")).is_some_and(|domain| domain.contains(".lambda-url."))
        {
            EventSource::FunctionUrl
        } else if event.get("routeKey").is_some() && context("http").is_some() {
            EventSource::ApiGatewayHttp
        } else if event.get("httpMethod").is_some() && request_context.is_some() {
            EventSource::ApiGatewayRest
        } else {
            EventSource::Invoke
        }
    }

    /// An EventBridge event by its `source` and `detail-type`: a schedule is a
    /// timer, not a message.
    pub fn of_eventbridge(source: &str, detail_type: &str) -> EventSource {
        if source == "aws.events" && detail_type == "Scheduled Event" || source == "aws.scheduler" {
            EventSource::Schedule
        } else {
            EventSource::EventBridge
        }
    }

    /// The `faas.trigger` of an invocation from this source.
    pub fn trigger(self) -> Trigger {
        match self {
            EventSource::ApiGatewayRest
            | EventSource::ApiGatewayHttp
            | EventSource::Alb
            | EventSource::FunctionUrl => Trigger::Http,
            EventSource::Sqs
            | EventSource::Sns
            | EventSource::EventBridge
            | EventSource::Kinesis => Trigger::PubSub,
            EventSource::DynamoDbStreams => Trigger::Datasource,
            EventSource::Schedule => Trigger::Timer,
            EventSource::Invoke => Trigger::Other,
        }
    }

    /// The `messaging.system` of a queue or stream source.
    pub fn messaging_system(self) -> Option<&'static str> {
        match self {
            EventSource::Sqs => Some(messaging_system::AWS_SQS),
            EventSource::Sns => Some(messaging_system::AWS_SNS),
            EventSource::Kinesis => Some(messaging_system::AWS_KINESIS),
            EventSource::EventBridge => Some(messaging_system::AWS_EVENTBRIDGE),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sources_are_detected_by_shape() {
        let cases = [
            (
                json!({"Records": [{"eventSource": "aws:sqs"}]}),
                EventSource::Sqs,
            ),
            (
                json!({"Records": [{"EventSource": "aws:sns"}]}),
                EventSource::Sns,
            ),
            (
                json!({"Records": [{"eventSource": "aws:kinesis"}]}),
                EventSource::Kinesis,
            ),
            (
                json!({"Records": [{"eventSource": "aws:dynamodb"}]}),
                EventSource::DynamoDbStreams,
            ),
            (
                json!({"source": "aws.events", "detail-type": "Scheduled Event"}),
                EventSource::Schedule,
            ),
            (
                json!({"source": "orders", "detail-type": "OrderPlaced"}),
                EventSource::EventBridge,
            ),
            (json!({"requestContext": {"elb": {}}}), EventSource::Alb),
            (
                json!({"requestContext": {"domainName": "abc.lambda-url.eu-west-1.on.aws"}}),
                EventSource::FunctionUrl,
            ),
            (
                json!({"routeKey": "GET /x", "requestContext": {"http": {}}}),
                EventSource::ApiGatewayHttp,
            ),
            (
                json!({"httpMethod": "GET", "requestContext": {}}),
                EventSource::ApiGatewayRest,
            ),
            (json!({"traceparent": "x"}), EventSource::Invoke),
        ];
        for (event, source) in cases {
            assert_eq!(EventSource::detect(&event), source, "{event}");
        }
        assert_eq!(
            EventSource::of_eventbridge("aws.scheduler", "x"),
            EventSource::Schedule
        );
    }

    #[test]
    fn triggers_and_kinds_follow_the_source() {
        assert_eq!(
            EventSource::Sqs.trigger().span_kind(),
            InvocationKind::Consumer
        );
        assert_eq!(EventSource::DynamoDbStreams.trigger(), Trigger::Datasource);
        assert_eq!(
            EventSource::Schedule.trigger().span_kind(),
            InvocationKind::Server
        );
        assert_eq!(EventSource::FunctionUrl.trigger(), Trigger::Http);
        assert_eq!(EventSource::Invoke.trigger(), Trigger::Other);
        assert_eq!(EventSource::Alb.messaging_system(), None);
        assert_eq!(EventSource::Kinesis.messaging_system(), Some("aws_kinesis"));
    }
}
