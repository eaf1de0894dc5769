//! HTTP triggers: the response status of every HTTP response type, and (with
//! the `lambda-http` feature) context extraction for `lambda_http`'s requests.
//!
//! With `lambda_http`, the layer goes around the handler, inside
//! `lambda_http::run` (see `examples/http_api.rs`):
//!
//! ```text
//! lambda_http::run(TracingLayer::new(telemetry).layer(service_fn(handler))).await
//! ```

use std::any::Any;

use aws_lambda_events::event::alb::AlbTargetGroupResponse;
use aws_lambda_events::event::apigw::{ApiGatewayProxyResponse, ApiGatewayV2httpResponse};
use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlResponse;

/// The HTTP status of a handler's response, when it is an HTTP response: API
/// Gateway REST (v1) and HTTP (v2), ALB, Function URL, or JSON with a numeric
/// `statusCode`. (`lambda_http`'s `http::Response` is read by the layer's
/// `Service<lambda_http::Request>` form.)
pub fn response_status(response: &dyn Any) -> Option<i64> {
    if let Some(response) = response.downcast_ref::<ApiGatewayProxyResponse>() {
        return Some(response.status_code);
    }
    if let Some(response) = response.downcast_ref::<ApiGatewayV2httpResponse>() {
        return Some(response.status_code);
    }
    if let Some(response) = response.downcast_ref::<AlbTargetGroupResponse>() {
        return Some(response.status_code);
    }
    if let Some(response) = response.downcast_ref::<LambdaFunctionUrlResponse>() {
        return Some(response.status_code);
    }
    if let Some(value) = response.downcast_ref::<serde_json::Value>() {
        return value.get("statusCode").and_then(serde_json::Value::as_i64);
    }
    None
}

#[cfg(feature = "lambda-http")]
mod lambda_http_context {
    use lambda_http::RequestExt as _;
    use lambda_http::request::{LambdaRequest, RequestContext};

    use crate::propagation::extract::{
        ExtractContext, Extracted, context_from_headers, http_extracted,
    };

    /// The event `lambda_http::Adapter` receives: read as its API Gateway,
    /// ALB or WebSocket event.
    #[allow(unreachable_patterns)]
    impl ExtractContext for LambdaRequest {
        fn extract_context(&self) -> Extracted {
            match self {
                LambdaRequest::ApiGatewayV1(request) => request.extract_context(),
                LambdaRequest::ApiGatewayV2(request) => request.extract_context(),
                LambdaRequest::Alb(request) => request.extract_context(),
                LambdaRequest::WebSocket(request) => {
                    let mut extracted = Extracted::none();
                    extracted.parent = context_from_headers(&request.headers);
                    extracted
                }
                _ => Extracted::none(),
            }
        }
    }

    /// A `lambda_http::Request` (for code that starts the invocation itself):
    /// the context from its headers, the method, the route from its request
    /// context and the raw path.
    #[allow(unreachable_patterns)]
    impl ExtractContext for lambda_http::Request {
        fn extract_context(&self) -> Extracted {
            let route = match self.request_context_ref() {
                Some(RequestContext::ApiGatewayV1(context)) => context.resource_path.clone(),
                Some(RequestContext::ApiGatewayV2(context)) => context
                    .route_key
                    .as_deref()
                    .and_then(|key| key.split_once(' ').map(|(_, route)| route.to_owned())),
                _ => None,
            };
            let path = self.raw_http_path();
            http_extracted(
                self.method().as_str(),
                route.as_deref(),
                (!path.is_empty()).then_some(path),
                context_from_headers(self.headers()),
            )
        }
    }
}
