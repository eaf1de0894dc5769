//! The runtimes' own reports that a handler failed: the one place that knows
//! each shape. A REPORT says nothing of a handler's error (only of a timeout or
//! a runtime that exited), so these lines are what makes such an invocation an
//! `error` (docs/collector.md, "Invocation status").
//!
//! The shapes, as the Lambda runtime interface clients print them (the npm
//! package `aws-lambda-ric` 3.3.0, `LogPatch` and `CallbackContext`; the PyPI
//! package `awslambdaric` 4.2.2, `bootstrap.py` `log_error`):
//!
//! - Node.js, text format: `ts\trequestId\tERROR\tInvoke Error \t{"errorType":…,
//!   "errorMessage":…,"stack":[…]}` ([`node_text`]).
//! - Node.js, JSON format: the error as `console.error(error)` writes it,
//!   `{"timestamp":…,"level":"ERROR","requestId":…,"message":{"errorType":…,
//!   "errorMessage":…,"stackTrace":[…]}}` ([`json_record`]). A function's own
//!   `console.error(error)` of a handled error writes the same record, so it
//!   counts only when the platform does not say the invocation succeeded.
//! - Python, text format: one event `[ERROR] KeyError: 'S'\nTraceback (most recent
//!   call last):\n…` with no time or request id (`\r` between the lines when the
//!   runtime writes to stdout rather than to Lambda's log pipe) ([`python_text`]).
//! - Python, JSON format (and the Java runtime's crash record): `{"timestamp":…,
//!   "level":"ERROR","errorMessage":…,"errorType":…,"requestId":…,"stackTrace":[…]}`
//!   (older Python runtimes write `log_level`), with no `message`: the records of
//!   the Python runtime's `logging` handler always have one ([`json_record`]).

use serde_json::Value;

use crate::index::rows::LogLevel;

use super::json_object::{Field, JsonObject, string_field};
use super::log::InvokeError;

/// Node.js text: the message of an `ERROR` line,
/// `Invoke Error \t{"errorType":…,"errorMessage":…,"stack":[…]}`. `None` for
/// any other message; an error whose JSON does not read has no type.
pub(super) fn node_text(message: &str) -> Option<InvokeError> {
    let rest = message.strip_prefix("Invoke Error")?;
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    let error_type = serde_json::from_str::<Value>(rest.trim())
        .ok()
        .and_then(|error| error.get("errorType")?.as_str().map(str::to_owned));
    Some(InvokeError {
        error_type,
        could_be_handled: false,
    })
}

/// Python text: the runtime's crash event, `[ERROR] <type>: <message>` then
/// `Traceback (most recent call last):` on the next line (after `\n`, or `\r`
/// when the runtime writes to stdout). `None` for any other line, including a
/// `logging` record with a traceback (`[ERROR]\t<time>\t<request id>\t…`).
pub(super) fn python_text(line: &str) -> Option<InvokeError> {
    let description = line.strip_prefix("[ERROR] ")?;
    let (first, rest) = description.split_once(['\n', '\r'])?;
    if !rest.starts_with("Traceback (most recent call last):") {
        return None;
    }
    // `Type: message`, `Type` alone, or ` message` alone (no type).
    let error_type = first
        .split_once(": ")
        .map_or(first, |(error_type, _)| error_type)
        .trim();
    let is_type = !error_type.is_empty()
        && error_type
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
    Some(InvokeError {
        error_type: is_type.then(|| error_type.to_owned()),
        could_be_handled: false,
    })
}

/// A JSON record that is a runtime's report of the handler's error (Python's
/// and Java's crash record, Node.js's JSON-format `Invoke Error`), given the
/// `level` the record was read with. `None` for any other record, including a
/// `logger.exception` record of Python's JSON format (it has a `message`).
pub(super) fn json_record(
    object: &impl JsonObject,
    level: Option<LogLevel>,
) -> Option<InvokeError> {
    if level != Some(LogLevel::Error) {
        return None;
    }
    let is_error = |error: &serde_json::Map<String, Value>| {
        error.get("errorType").is_some_and(Value::is_string)
            && error.contains_key("errorMessage")
            && error.get("stackTrace").is_some_and(Value::is_array)
    };
    match object.field("message") {
        // Python, Java: the error's own fields at the top, no message.
        None => {
            let crash = string_field(object, "errorType").is_some()
                && object.has("errorMessage")
                && matches!(
                    object.field("stackTrace"),
                    Some(Field::Json(Value::Array(_)))
                )
                && !object.has("msg");
            crash.then(|| InvokeError {
                error_type: string_field(object, "errorType").map(str::to_owned),
                could_be_handled: false,
            })
        }
        // Node.js: the error serialized as the message.
        Some(Field::Json(Value::Object(error))) if is_error(error) => Some(InvokeError {
            error_type: error
                .get("errorType")
                .and_then(Value::as_str)
                .filter(|error_type| !error_type.is_empty())
                .map(str::to_owned),
            could_be_handled: true,
        }),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(text: &str) -> serde_json::Map<String, Value> {
        match serde_json::from_str(text) {
            Ok(Value::Object(object)) => object,
            other => panic!("not an object: {other:?}"),
        }
    }

    #[test]
    fn python_text_crash_names_its_type() {
        let cases = [
            (
                "[ERROR] KeyError: 'S'\nTraceback (most recent call last):\n  File \"/var/task/h.py\", line 3, in handler\n",
                Some("KeyError"),
            ),
            (
                "[ERROR] Runtime.ImportModuleError: Unable to import module 'app': No module named 'x'\rTraceback (most recent call last):",
                Some("Runtime.ImportModuleError"),
            ),
            (
                "[ERROR] ValueError\nTraceback (most recent call last):\n",
                Some("ValueError"),
            ),
            (
                "[ERROR] something went wrong here\nTraceback (most recent call last):\n",
                None,
            ),
        ];
        for (line, error_type) in cases {
            let error = python_text(line).unwrap_or_else(|| panic!("{line}"));
            assert_eq!(error.error_type.as_deref(), error_type, "{line}");
            assert!(!error.could_be_handled);
        }
        for line in [
            // logging's own record of an exception: tab after the label.
            "[ERROR]\t2026-11-29T10:00:02.050Z\t576cf243-b16c-49c9-b4c5-488f647cb369\tfailed\nTraceback (most recent call last):\n",
            "[ERROR] KeyError: 'S'",
            "[WARNING] KeyError: 'S'\nTraceback (most recent call last):\n",
            "[ERROR] KeyError: 'S'\nsomething else\n",
        ] {
            assert_eq!(python_text(line), None, "{line}");
        }
    }

    #[test]
    fn json_crash_records_and_lookalikes() {
        // awslambdaric's JSON `log_error`, and the older `log_level` record (field case 04).
        let python = object(
            r#"{"timestamp": "2026-11-29T10:00:03Z", "level": "ERROR", "errorMessage": "'S'", "errorType": "KeyError", "requestId": "0bfd1d7a-8a54-4f33-8628-4b67d110ed94", "stackTrace": ["  File \"/var/task/h.py\", line 35, in handler\n"]}"#,
        );
        assert_eq!(
            json_record(&python, Some(LogLevel::Error)),
            Some(InvokeError {
                error_type: Some("KeyError".into()),
                could_be_handled: false
            })
        );
        // aws-lambda-ric's JSON-format report: the error as the message.
        let node = object(
            r#"{"timestamp":"2026-11-29T10:00:05.120Z","level":"ERROR","requestId":"0c5e1f6b-5d6e-4e0c-9f40-0d6a3f1e9a11","message":{"errorType":"TypeError","errorMessage":"Cannot read properties of undefined (reading 'id')","stackTrace":["TypeError: Cannot read properties of undefined (reading 'id')","    at Runtime.handler (file:///var/task/index.mjs:7:28)"]}}"#,
        );
        assert_eq!(
            json_record(&node, Some(LogLevel::Error)),
            Some(InvokeError {
                error_type: Some("TypeError".into()),
                could_be_handled: true
            })
        );
        // Not crashes: Python's `logger.exception` (a message and a logger),
        // Node's `console.error("msg", err)` (a text message), an INFO record.
        let handled = [
            r#"{"timestamp":"2026-11-29T10:00:03Z","level":"ERROR","message":"sync failed","logger":"root","stackTrace":["  File \"h.py\"\n"],"errorType":"KeyError","errorMessage":"'S'","requestId":"0bfd1d7a-8a54-4f33-8628-4b67d110ed94","location":"h.py:handler:35"}"#,
            r#"{"timestamp":"2026-11-29T10:00:05.120Z","level":"ERROR","requestId":"r","message":"lookup failed Error: x","errorType":"Error","errorMessage":"x","stackTrace":["Error: x"]}"#,
            r#"{"level":"ERROR","message":{"order":"o-1"},"requestId":"r"}"#,
            r#"{"level":"ERROR","errorType":"KeyError","errorMessage":"'S'"}"#,
        ];
        for text in handled {
            assert_eq!(
                json_record(&object(text), Some(LogLevel::Error)),
                None,
                "{text}"
            );
        }
        assert_eq!(json_record(&python, Some(LogLevel::Info)), None);
    }
}
