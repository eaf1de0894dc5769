//! An HTTP API built with `lambda_http` (needs the `lambda-http` feature).
//!
//! `GET /orders/{id}` answers the order; `GET /orders/{id}` with id `down`
//! answers 503, which marks the invocation span failed. In Lambda it runs under
//! `lambda_runtime`; run locally
//! (`cargo run -p tracelake-instrumentation --features lambda-http --example http_api`)
//! it handles two sample requests and prints the lines it would write.

use lambda_http::request::LambdaRequest;
use lambda_http::{Body, Error, Request, RequestExt as _, Response, service_fn};
use lambda_runtime::tower::{Layer as _, Service as _, ServiceExt as _};
use tracelake_instrumentation::lambda::{TracingLayer, test_context};

async fn handler(request: Request) -> Result<Response<Body>, Error> {
    let order_id = request
        .path_parameters_ref()
        .and_then(|parameters| parameters.first("id"))
        .unwrap_or("o-1")
        .to_owned();
    tracelake_instrumentation::set_attribute("order.id", order_id.as_str());
    let _load = tracing::info_span!("load order", db.system = "dynamodb").entered();
    if order_id == "down" {
        tracing::error!("orders table unavailable");
        return Ok(Response::builder()
            .status(503)
            .body(Body::from("try again later"))?);
    }
    tracing::info!(order_id = order_id.as_str(), "order loaded");
    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(Body::from(format!(r#"{{"orderId":"{order_id}"}}"#)))?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let telemetry = tracelake_instrumentation::init()?;
    let mut service = TracingLayer::new(telemetry).layer(service_fn(handler));
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return lambda_http::run(service).await;
    }
    // Local run: two API Gateway HTTP API requests, as API Gateway sends them.
    for (index, id) in ["o-42", "down"].into_iter().enumerate() {
        let event: LambdaRequest = serde_json::from_value(serde_json::json!({
            "version": "2.0",
            "routeKey": "GET /orders/{id}",
            "rawPath": format!("/orders/{id}"),
            "rawQueryString": "",
            "headers": {
                "x-amzn-trace-id": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
            },
            "pathParameters": { "id": id },
            "requestContext": {
                "accountId": "123456789012", "apiId": "api", "domainName": "api.example.com",
                "domainPrefix": "api", "requestId": "r", "routeKey": "GET /orders/{id}",
                "stage": "$default", "time": "29/Nov/2026:10:00:00 +0000", "timeEpoch": 0,
                "http": { "method": "GET", "path": format!("/orders/{id}"), "protocol": "HTTP/1.1",
                          "sourceIp": "127.0.0.1", "userAgent": "curl" }
            },
            "isBase64Encoded": false
        }))?;
        let context = test_context(
            &format!("8476a536-e9f4-11e8-9739-2dfe598c3fc{index}"),
            None,
            "arn:aws:lambda:eu-west-1:123456789012:function:orders-http-api",
        );
        let request = Request::from(event).with_lambda_context(context);
        let ready = service.ready().await?;
        ready.call(request).await?;
    }
    Ok(())
}
