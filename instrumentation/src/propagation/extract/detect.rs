//! `serde_json::Value` events: the trigger detected by the event's shape.

use aws_lambda_events::event::alb::AlbTargetGroupRequest;
use aws_lambda_events::event::apigw::{ApiGatewayProxyRequest, ApiGatewayV2httpRequest};
use aws_lambda_events::event::dynamodb;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::kinesis::KinesisEvent;
use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlRequest;
use aws_lambda_events::event::sns::SnsEvent;
use aws_lambda_events::event::sqs::SqsEvent;
use serde_json::Value;

use super::extracted::{ExtractContext, Extracted};
use super::invoke::invoke_input_context;

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
