//! Lambda `Invoke`: the trace in the client context, the invoked function on the span.

use base64::Engine as _;
use opentelemetry_semantic_conventions::attribute as semconv;
use serde_json::{Map, Value};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::propagation::XRAY_HEADER;
use crate::propagation::inject::OutgoingContext;

/// Lambda `Invoke`: the client context (base64 JSON) gets `traceparent` and
/// `X-Amzn-Trace-Id` in its `custom` map, which the callee's runtime reads.
pub(super) fn inject_client_context(
    request: &mut aws_smithy_runtime_api::http::Request,
    outgoing: &OutgoingContext,
) {
    const HEADER: &str = "x-amz-client-context";
    let engine = base64::engine::general_purpose::STANDARD;
    let mut context: Value = request
        .headers()
        .get(HEADER)
        .and_then(|text| engine.decode(text).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_else(|| Value::Object(Map::new()));
    let Some(object) = context.as_object_mut() else {
        return;
    };
    let custom = object
        .entry("custom")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(custom) = custom.as_object_mut() else {
        return;
    };
    for (name, value) in outgoing.w3c_pairs() {
        custom.insert(name.to_owned(), Value::String(value));
    }
    custom.insert(
        XRAY_HEADER.to_owned(),
        Value::String(outgoing.xray_header()),
    );
    let encoded = engine.encode(context.to_string());
    // Lambda refuses a client context over 3,583 bytes: then send none of ours.
    if encoded.len() <= 3_583 {
        request.headers_mut().insert(HEADER, encoded);
    }
}

pub(super) fn record_lambda(span: &tracing::Span, uri: &str) {
    let (name, region) = invoked_function(uri);
    if let Some(name) = name {
        span.set_attribute(semconv::FAAS_INVOKED_NAME, name);
        span.set_attribute(semconv::FAAS_INVOKED_PROVIDER, "aws");
    }
    if let Some(region) = region {
        span.set_attribute(semconv::FAAS_INVOKED_REGION, region);
    }
}

/// The function name and region of an `Invoke` URI,
/// `https://lambda.REGION.amazonaws.com/2015-03-31/functions/NAME/invocations`.
/// NAME is percent-encoded (the SDK encodes `:`) and may be a name, a
/// `name:qualifier`, a partial ARN (`ACCOUNT:function:name`) or a full ARN
/// (which also names the region).
pub(super) fn invoked_function(uri: &str) -> (Option<String>, Option<String>) {
    let label = uri
        .split('/')
        .skip_while(|part| *part != "functions")
        .nth(1)
        .map(|label| percent_encoding::percent_decode_str(label).decode_utf8_lossy());
    let mut name = None;
    let mut arn_region = None;
    if let Some(label) = &label {
        let parts: Vec<&str> = label.split(':').collect();
        name = match parts.as_slice() {
            ["arn", _, "lambda", region, _, "function", name, ..] => {
                arn_region = Some((*region).to_owned());
                Some(*name)
            }
            [_, "function", name, ..] => Some(*name),
            [name, ..] => Some(*name),
            [] => None,
        }
        .filter(|name| !name.is_empty())
        .map(str::to_owned);
    }
    let host_region = uri
        .split("lambda.")
        .nth(1)
        .and_then(|rest| rest.split('.').next())
        .filter(|region| region.contains('-'))
        .map(str::to_owned);
    (name, arn_region.filter(|r| !r.is_empty()).or(host_region))
}
