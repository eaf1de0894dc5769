//! `serde_json::Value` events: the trigger detected by the event's shape
//! ([`EventSource::detect`]).

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
use crate::trigger::EventSource;

fn typed<T: serde::de::DeserializeOwned + ExtractContext>(value: &Value) -> Option<Extracted> {
    T::deserialize(value)
        .ok()
        .map(|event| event.extract_context())
}

impl ExtractContext for Value {
    /// Detects the event type by its shape, then reads it as that type. An
    /// object of no known type (or that does not read as the type its shape
    /// suggests) is read as Step Functions or direct-invoke input.
    fn extract_context(&self) -> Extracted {
        let detected = match EventSource::detect(self) {
            EventSource::Sqs => typed::<SqsEvent>(self),
            EventSource::Sns => typed::<SnsEvent>(self),
            EventSource::Kinesis => typed::<KinesisEvent>(self),
            EventSource::DynamoDbStreams => typed::<dynamodb::Event>(self),
            EventSource::EventBridge | EventSource::Schedule => {
                typed::<EventBridgeEvent<Value>>(self)
            }
            EventSource::Alb => typed::<AlbTargetGroupRequest>(self),
            EventSource::FunctionUrl => typed::<LambdaFunctionUrlRequest>(self),
            EventSource::ApiGatewayHttp => typed::<ApiGatewayV2httpRequest>(self),
            EventSource::ApiGatewayRest => typed::<ApiGatewayProxyRequest>(self),
            EventSource::Invoke => None,
        };
        detected.unwrap_or_else(|| invoke_input_context(self))
    }
}
