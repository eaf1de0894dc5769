//! Step Functions `StartExecution`: `traceHeader`, and `traceparent` in the input.

use serde_json::{Map, Value};

use crate::propagation::inject::OutgoingContext;

pub(super) fn inject_step_functions(
    object: &mut Map<String, Value>,
    outgoing: &OutgoingContext,
) -> bool {
    let mut changed = false;
    if !object.contains_key("traceHeader") {
        object.insert("traceHeader".into(), Value::String(outgoing.xray_header()));
        changed = true;
    }
    let input = object
        .get("input")
        .and_then(Value::as_str)
        .unwrap_or("{}")
        .to_owned();
    if let Ok(mut input) = serde_json::from_str::<Value>(&input)
        && input.is_object()
    {
        outgoing.inject_json(&mut input);
        object.insert("input".into(), Value::String(input.to_string()));
        changed = true;
    }
    changed
}
