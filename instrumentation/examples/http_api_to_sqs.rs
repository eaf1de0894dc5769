//! An HTTP API (API Gateway v2) handler that sends an order to SQS.
//!
//! In Lambda it runs under `lambda_runtime`. Run locally
//! (`cargo run -p tracelake-instrumentation --example http_api_to_sqs`) it
//! handles one sample request and prints the lines it would write to CloudWatch.
//!
//! The SQS client is left out: this crate links no network client. With the AWS
//! SDK, each pair of `OutgoingContext::w3c_pairs` becomes a `String` message
//! attribute of `SendMessage` (SQS sets `AWSTraceHeader` from X-Ray itself).

use aws_lambda_events::event::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::event::sqs::SqsMessage;
use lambda_runtime::tower::{Layer as _, Service as _};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::json;
use tracelake_instrumentation::lambda::{TracingLayer, test_context};
use tracelake_instrumentation::propagation::inject::OutgoingContext;

/// What would go to SQS `SendMessage`: body and message attributes.
fn order_message(order_id: &str) -> Result<SqsMessage, lambda_runtime::Error> {
    // A PRODUCER span: its id is the parent the worker will see.
    let _send = tracing::info_span!(
        "send order",
        otel.name = "send orders",
        otel.kind = "producer",
        messaging.system = "aws_sqs",
        messaging.destination.name = "orders",
    )
    .entered();
    let mut message = SqsMessage::default();
    message.body = Some(json!({ "orderId": order_id }).to_string());
    let outgoing = OutgoingContext::current().ok_or("no trace context")?;
    outgoing.inject_sqs_message(&mut message);
    tracing::info!(order_id, traceparent = %outgoing.traceparent(), "order queued");
    Ok(message)
}

async fn handler(
    event: LambdaEvent<ApiGatewayV2httpRequest>,
) -> Result<ApiGatewayV2httpResponse, lambda_runtime::Error> {
    let order_id = event
        .payload
        .path_parameters
        .get("id")
        .cloned()
        .unwrap_or_else(|| "o-1".to_owned());
    tracing::info!(order_id = order_id.as_str(), "placing order");
    let message = order_message(&order_id)?;
    let mut response = ApiGatewayV2httpResponse::default();
    response.status_code = 202;
    response.body = message.body.map(Into::into);
    Ok(response)
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let telemetry = tracelake_instrumentation::init()?;
    let mut service = TracingLayer::new(telemetry).layer(service_fn(handler));
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return lambda_runtime::run(service).await;
    }
    // Local run: one request with an incoming X-Ray header, as API Gateway sends it.
    let mut request = ApiGatewayV2httpRequest::default();
    request.route_key = Some("POST /orders/{id}".to_owned());
    request.raw_path = Some("/orders/o-42".to_owned());
    request.request_context.http.method = http::Method::POST;
    request
        .path_parameters
        .insert("id".to_owned(), "o-42".to_owned());
    let context = test_context(
        "8476a536-e9f4-11e8-9739-2dfe598c3fcd",
        Some("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"),
        "arn:aws:lambda:eu-west-1:123456789012:function:orders-api",
    );
    service.call(LambdaEvent::new(request, context)).await?;
    Ok(())
}
