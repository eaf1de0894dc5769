//! Direct invokes and Step Functions: the client context's `custom` map and the input object.

use std::collections::HashMap;

use serde_json::Value;

use super::extracted::{Extracted, json_context};
use crate::propagation::{TRACEPARENT, TRACESTATE, TraceContext, XRAY_HEADER, context_from};

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
