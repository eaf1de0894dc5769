//! Text lines of the managed runtimes' own loggers.
//!
//! - Node.js: `2019-06-05T19:30:03.173Z\t<request id>\tINFO\t<message>`, where a
//!   multi-line message has its newlines replaced by `\r`.
//! - Python: `[INFO]\t2025-06-04T12:46:22.643Z\t<request id>\t<message>`, where
//!   the request id is empty outside an invocation.

use super::time::parse_timestamp_ns;

/// A runtime text line, split into its fields.
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeLine<'a> {
    pub timestamp_ns: i64,
    pub request_id: Option<&'a str>,
    pub level: &'a str,
    pub message: &'a str,
}

/// Reads a Node.js runtime text line.
pub fn parse_node(line: &str) -> Option<RuntimeLine<'_>> {
    let mut fields = line.splitn(4, '\t');
    let timestamp_ns = parse_timestamp_ns(fields.next()?)?;
    let request_id = fields.next()?;
    let level = fields.next()?;
    let message = fields.next().unwrap_or("");
    super::normalise_level(level)?;
    Some(RuntimeLine {
        timestamp_ns,
        request_id: Some(request_id).filter(|id| !id.is_empty()),
        level,
        message,
    })
}

/// Reads a Python runtime text line.
pub fn parse_python(line: &str) -> Option<RuntimeLine<'_>> {
    let rest = line.strip_prefix('[')?;
    let (level, rest) = rest.split_once("]\t")?;
    super::normalise_level(level)?;
    let mut fields = rest.splitn(3, '\t');
    let timestamp_ns = parse_timestamp_ns(fields.next()?)?;
    let request_id = fields.next()?;
    let message = fields.next().unwrap_or("");
    Some(RuntimeLine {
        timestamp_ns,
        request_id: Some(request_id).filter(|id| !id.is_empty()),
        level,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_line_with_empty_request_id() {
        let line = parse_python(
            "[WARNING]\t2026-04-24T17:39:52.929Z\t\tLAMBDA_WARNING: Unhandled exception.",
        )
        .unwrap();
        assert_eq!(line.request_id, None);
        assert_eq!(line.level, "WARNING");
        assert_eq!(line.message, "LAMBDA_WARNING: Unhandled exception.");
    }

    #[test]
    fn node_line_needs_a_level_in_third_place() {
        assert!(parse_node("2019-06-05T19:30:03.173Z\tabc\tINFO\tEVENT").is_some());
        assert!(parse_node("2019-06-05T19:30:03.173Z\tabc\tnot-a-level\tEVENT").is_none());
        assert!(parse_node("plain text\twith tabs\tINFO\tx").is_none());
    }
}
