//! Request id fields that name no request.

/// A request id field that holds no request id: Node writes `undefined` outside
/// an invocation, other loggers `null`, `None` or `-`.
pub fn is_placeholder_request_id(text: &str) -> bool {
    let text = text.trim();
    text.is_empty()
        || ["undefined", "null", "none", "nil", "-"]
            .iter()
            .any(|placeholder| text.eq_ignore_ascii_case(placeholder))
}
