//! Request bodies that are JSON objects, rewritten in place.

use serde_json::{Map, Value};

/// Parses a JSON object body, lets `edit` change it (returning whether it
/// did), and serializes it again.
pub(super) fn rewrite_json(
    body: &[u8],
    edit: impl FnOnce(&mut Map<String, Value>) -> bool,
) -> Option<Vec<u8>> {
    let mut value: Value = serde_json::from_slice(body).ok()?;
    let object = value.as_object_mut()?;
    edit(object).then(|| serde_json::to_vec(&value).ok())?
}
