//! AWS SDK calls as CLIENT spans (feature `aws-sdk`).
//!
//! [`AwsSdkInterceptor`] is an interceptor of the SDK's orchestrator
//! (`aws-smithy-runtime-api`): add it to a client's config and every call
//! becomes a CLIENT span, child of the current span, with `rpc.system=aws-api`,
//! `rpc.service`, `rpc.method`, `aws.request_id` and the service's semantic
//! convention keys. The call carries the trace on:
//!
//! - every request: the `X-Amzn-Trace-Id` (with `Lineage`) and `traceparent`
//!   headers;
//! - SQS `SendMessage`/`SendMessageBatch`: `traceparent` message attributes
//!   and the `AWSTraceHeader` system attribute;
//! - SNS `Publish`: a `traceparent` message attribute;
//! - EventBridge `PutEvents`: each entry's `TraceHeader`, and `traceparent` in
//!   its `Detail` object;
//! - Lambda `Invoke`: `traceparent` and `X-Amzn-Trace-Id` in the client
//!   context's `custom` map;
//! - Step Functions `StartExecution`: `traceHeader`, and `traceparent` in the
//!   input object.
//!
//! For a Lambda `Invoke`, `aws.request_id` is the callee's request id: the
//! collector links a callee that is not instrumented to the caller through it.
//!
//! ```text
//! let config = aws_config::load_from_env().await;
//! let sqs = aws_sdk_sqs::Client::from_conf(
//!     aws_sdk_sqs::config::Builder::from(&config)
//!         .interceptor(tracelake_instrumentation::aws_sdk::AwsSdkInterceptor::new())
//!         .build(),
//! );
//! ```
//!
//! No HTTP client comes with this feature: only the SDK's runtime API types.

mod dynamodb;
mod eventbridge;
mod json_body;
mod lambda;
mod sns;
mod sqs;
mod step_functions;

use std::sync::{Arc, Mutex, PoisonError};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextMut,
    FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use opentelemetry::trace::Status;
use opentelemetry_semantic_conventions::attribute as semconv;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::propagation::inject::OutgoingContext;
use crate::propagation::{TRACEPARENT, TRACESTATE, XRAY_HEADER};
use dynamodb::record_dynamodb;
use eventbridge::inject_eventbridge;
use json_body::rewrite_json;
use lambda::{inject_client_context, record_lambda};
use sns::{inject_sns, record_sns};
use sqs::{inject_sqs, record_sqs};
use step_functions::inject_step_functions;

/// The interceptor: add one to each SDK client's config.
#[derive(Debug, Clone, Default)]
pub struct AwsSdkInterceptor {
    _private: (),
}

impl AwsSdkInterceptor {
    /// A new interceptor.
    pub fn new() -> AwsSdkInterceptor {
        AwsSdkInterceptor::default()
    }
}

/// The span of one call, from `read_before_execution` to `read_after_execution`.
#[derive(Debug, Clone)]
struct CallSpan(Arc<Mutex<Option<tracing::Span>>>);

impl Storable for CallSpan {
    type Storer = StoreReplace<Self>;
}

impl CallSpan {
    fn span(&self) -> Option<tracing::Span> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn take(&self) -> Option<tracing::Span> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

/// The service and operation of the call being made.
fn service_and_method(cfg: &ConfigBag) -> (String, String) {
    match cfg.load::<Metadata>() {
        Some(metadata) => (metadata.service().to_owned(), metadata.name().to_owned()),
        None => ("unknown".to_owned(), "unknown".to_owned()),
    }
}

/// Lowercase service name without spaces or dashes (`Lambda`, `SQS`, `sfn`…).
fn service_key(service: &str) -> String {
    service
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

impl Intercept for AwsSdkInterceptor {
    fn name(&self) -> &'static str {
        "tracelake-instrumentation"
    }

    // The operation's metadata (service and operation names) is in the config
    // bag from serialization on, not yet at `read_before_execution`.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, method) = service_and_method(cfg);
        let span = tracing::info_span!(
            target: "tracelake::aws_sdk",
            "aws sdk call",
            otel.name = %format!("{service}.{method}"),
            otel.kind = "client",
        );
        // The AWS SDK conventions still name these keys (`rpc.system=aws-api`,
        // `rpc.service`), which the newest RPC conventions deprecate.
        #[allow(deprecated)]
        {
            span.set_attribute(semconv::RPC_SYSTEM, "aws-api");
            span.set_attribute(semconv::RPC_SERVICE, service.clone());
        }
        span.set_attribute(semconv::RPC_METHOD, method);
        cfg.interceptor_state()
            .store_put(CallSpan(Arc::new(Mutex::new(Some(span)))));
        Ok(())
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(span) = cfg.load::<CallSpan>().and_then(CallSpan::span) else {
            return Ok(());
        };
        let Some(outgoing) = OutgoingContext::of_span(&span) else {
            return Ok(());
        };
        let (service, method) = service_and_method(cfg);
        let request = context.request_mut();

        // Every request: the HTTP headers, keeping the keys of an X-Ray header
        // the SDK already set (its recursion detection sets one from the
        // environment).
        let mut headers = http::HeaderMap::new();
        if let Some(existing) = request.headers().get(XRAY_HEADER)
            && let Ok(value) = http::HeaderValue::from_str(existing)
        {
            headers.insert(XRAY_HEADER, value);
        }
        outgoing.inject_http_headers(&mut headers);
        for name in [XRAY_HEADER, TRACEPARENT, TRACESTATE] {
            if let Some(value) = headers.get(name).and_then(|v| v.to_str().ok()) {
                request.headers_mut().insert(name, value.to_owned());
            }
        }

        let service = service_key(&service);
        if service == "lambda" && method == "Invoke" {
            inject_client_context(request, &outgoing);
        }
        let Some(body) = request.body().bytes().map(<[u8]>::to_vec) else {
            return Ok(());
        };
        let rewritten = match (service.as_str(), method.as_str()) {
            ("sqs", "SendMessage" | "SendMessageBatch") => {
                record_sqs(&span, &body);
                rewrite_json(&body, |object| inject_sqs(object, &outgoing))
            }
            ("sns", "Publish") => {
                record_sns(&span, &body);
                inject_sns(&body, &outgoing)
            }
            ("eventbridge" | "cloudwatchevents", "PutEvents") => {
                rewrite_json(&body, |object| inject_eventbridge(object, &outgoing))
            }
            ("sfn", "StartExecution") => {
                rewrite_json(&body, |object| inject_step_functions(object, &outgoing))
            }
            ("sqs", _) => {
                record_sqs(&span, &body);
                None
            }
            ("dynamodb", _) => {
                record_dynamodb(&span, &body);
                None
            }
            _ => None,
        };
        if service == "lambda" {
            record_lambda(&span, request.uri());
        }
        if let Some(rewritten) = rewritten {
            request
                .headers_mut()
                .insert("content-length", rewritten.len().to_string());
            *request.body_mut() = SdkBody::from(rewritten);
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(span) = cfg.load::<CallSpan>().and_then(CallSpan::take) else {
            return Ok(());
        };
        if let Some(response) = context.response() {
            let headers = response.headers();
            if let Some(request_id) = headers
                .get("x-amzn-requestid")
                .or_else(|| headers.get("x-amz-request-id"))
            {
                span.set_attribute(semconv::AWS_REQUEST_ID, request_id.to_owned());
            }
            let status = response.status().as_u16();
            span.set_attribute(semconv::HTTP_RESPONSE_STATUS_CODE, i64::from(status));
            if let Some(function_error) = headers.get("x-amz-function-error") {
                span.set_status(Status::error(format!("function error: {function_error}")));
            }
        }
        if let Some(Err(error)) = context.output_or_error() {
            span.set_status(Status::error(format!("{error}")));
            span.set_attribute(semconv::ERROR_TYPE, error_kind(&format!("{error:?}")));
        }
        drop(span);
        Ok(())
    }
}

/// The leading name of an error's `Debug` (`ServiceError`, `TimeoutError`…).
fn error_kind(debug: &str) -> String {
    let name: String = debug
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    if name.is_empty() {
        "error".to_owned()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::lambda::invoked_function;
    use super::*;
    use crate::wire::ids::{SpanId, TraceId};

    fn outgoing() -> OutgoingContext {
        OutgoingContext {
            trace_id: TraceId(0x6745_aaaa_0123_4567_89ab_cdef_0123_4567),
            span_id: SpanId(0x1111_2222_3333_4444),
            sampled: true,
            trace_state: None,
            xray_extra: vec![("Lineage".into(), "a87bd80c:0".into())],
        }
    }

    #[test]
    fn sqs_messages_get_traceparent_and_the_xray_system_attribute() {
        let body = br#"{"QueueUrl":"https://sqs.eu-west-1.amazonaws.com/123456789012/orders","MessageBody":"hi"}"#;
        let out = rewrite_json(body, |object| inject_sqs(object, &outgoing())).unwrap();
        let value: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            value["MessageAttributes"]["traceparent"]["StringValue"],
            outgoing().traceparent()
        );
        let xray = value["MessageSystemAttributes"]["AWSTraceHeader"]["StringValue"]
            .as_str()
            .unwrap();
        assert!(xray.contains("Lineage=a87bd80c:0"), "{xray}");
        assert_eq!(value["MessageBody"], "hi");

        let batch = br#"{"QueueUrl":"q","Entries":[{"Id":"1","MessageBody":"a"},{"Id":"2","MessageBody":"b"}]}"#;
        let out = rewrite_json(batch, |object| inject_sqs(object, &outgoing())).unwrap();
        let value: Value = serde_json::from_slice(&out).unwrap();
        for entry in value["Entries"].as_array().unwrap() {
            assert!(entry["MessageAttributes"]["traceparent"].is_object());
        }
    }

    #[test]
    fn sns_publish_gets_the_next_message_attribute_entry() {
        let body = b"Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aeu-west-1%3A123456789012%3Aorders&Message=hi&MessageAttributes.entry.1.Name=kind&MessageAttributes.entry.1.Value.DataType=String&MessageAttributes.entry.1.Value.StringValue=order";
        let out = inject_sns(body, &outgoing()).unwrap();
        let pairs: std::collections::HashMap<String, String> =
            form_urlencoded::parse(&out).into_owned().collect();
        assert_eq!(pairs["MessageAttributes.entry.2.Name"], "traceparent");
        assert_eq!(
            pairs["MessageAttributes.entry.2.Value.StringValue"],
            outgoing().traceparent()
        );
        assert_eq!(pairs["MessageAttributes.entry.1.Name"], "kind");
        assert_eq!(pairs["Message"], "hi");
    }

    #[test]
    fn invoke_uris_name_the_function_without_qualifier_or_arn() {
        // As aws-sdk-lambda writes them: the FunctionName label percent-encoded.
        let uri = |label: &str| {
            format!(
                "https://lambda.eu-west-1.amazonaws.com/2015-03-31/functions/{label}/invocations"
            )
        };
        let name = |label: &str| invoked_function(&uri(label));
        let expected = (Some("orders".to_owned()), Some("eu-west-1".to_owned()));
        assert_eq!(name("orders"), expected);
        assert_eq!(name("orders%3Aprod"), expected);
        assert_eq!(name("123456789012%3Afunction%3Aorders"), expected);
        assert_eq!(
            name("arn%3Aaws%3Alambda%3Aus-east-2%3A123456789012%3Afunction%3Aorders%3A7"),
            (Some("orders".to_owned()), Some("us-east-2".to_owned()))
        );
        assert_eq!(
            invoked_function("http://127.0.0.1:4000/2015-03-31/functions/orders/invocations"),
            (Some("orders".to_owned()), None)
        );
    }

    #[test]
    fn eventbridge_and_step_functions_carry_the_trace() {
        let body =
            br#"{"Entries":[{"Source":"orders","DetailType":"placed","Detail":"{\"id\":1}"}]}"#;
        let out = rewrite_json(body, |object| inject_eventbridge(object, &outgoing())).unwrap();
        let value: Value = serde_json::from_slice(&out).unwrap();
        let entry = &value["Entries"][0];
        assert!(
            entry["TraceHeader"]
                .as_str()
                .unwrap()
                .starts_with("Root=1-6745aaaa-")
        );
        let detail: Value = serde_json::from_str(entry["Detail"].as_str().unwrap()).unwrap();
        assert_eq!(detail["id"], 1);
        assert_eq!(detail["traceparent"], outgoing().traceparent());

        let body = br#"{"stateMachineArn":"arn:aws:states:eu-west-1:123456789012:stateMachine:m","input":"{\"order\":7}"}"#;
        let out = rewrite_json(body, |object| inject_step_functions(object, &outgoing())).unwrap();
        let value: Value = serde_json::from_slice(&out).unwrap();
        let input: Value = serde_json::from_str(value["input"].as_str().unwrap()).unwrap();
        assert_eq!(input["order"], 7);
        assert_eq!(input["traceparent"], outgoing().traceparent());
        assert!(
            value["traceHeader"]
                .as_str()
                .unwrap()
                .contains("Parent=1111222233334444")
        );
    }
}
