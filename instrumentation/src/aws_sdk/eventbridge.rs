//! EventBridge `PutEvents`: each entry's `TraceHeader`, and `traceparent` in its `Detail`.

use serde_json::{Map, Value};

use crate::propagation::inject::OutgoingContext;

pub(super) fn inject_eventbridge(
    object: &mut Map<String, Value>,
    outgoing: &OutgoingContext,
) -> bool {
    let Some(entries) = object.get_mut("Entries").and_then(Value::as_array_mut) else {
        return false;
    };
    let mut changed = false;
    for entry in entries.iter_mut().filter_map(Value::as_object_mut) {
        if !entry.contains_key("TraceHeader") {
            entry.insert("TraceHeader".into(), Value::String(outgoing.xray_header()));
            changed = true;
        }
        if let Some(detail) = entry.get("Detail").and_then(Value::as_str)
            && let Ok(mut detail) = serde_json::from_str::<Value>(detail)
            && detail.is_object()
        {
            outgoing.inject_json(&mut detail);
            entry.insert("Detail".into(), Value::String(detail.to_string()));
            changed = true;
        }
    }
    changed
}
