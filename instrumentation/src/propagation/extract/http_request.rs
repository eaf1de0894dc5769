//! API Gateway REST and HTTP APIs, ALB and Function URLs: the context in the request headers.

use aws_lambda_events::event::alb::AlbTargetGroupRequest;
use aws_lambda_events::event::apigw::{ApiGatewayProxyRequest, ApiGatewayV2httpRequest};
use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlRequest;
use opentelemetry_semantic_conventions::attribute as semconv;

use super::extracted::{ExtractContext, Extracted};
use crate::propagation::{TRACEPARENT, TRACESTATE, TraceContext, XRAY_HEADER, context_from};
use crate::trigger::Trigger;

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

/// The extraction of an HTTP request: SERVER span named `METHOD route`.
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
        kind: Trigger::Http.span_kind(),
        span_name: Some(span_name),
        parent,
        links: Vec::new(),
        attributes: Vec::new(),
    }
    .with_attribute(semconv::HTTP_REQUEST_METHOD, method);
    if let Some(route) = route {
        extracted = extracted.with_attribute(semconv::HTTP_ROUTE, route);
    }
    if let Some(path) = path {
        extracted = extracted.with_attribute(semconv::URL_PATH, path);
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
