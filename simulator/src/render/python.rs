//! Python: the managed runtime's text format (`[LEVEL]` prefix) and its JSON
//! log format, and the level names Python's `logging` prints.

use std::fmt::Write as _;

use crate::clock;
use crate::event::Carries;
use crate::render::context::{AppLine, InvocationContext, json_string};

/// A line in the Python runtime's text format.
pub fn text_line(
    context: &InvocationContext<'_>,
    line: &AppLine,
    out: &mut String,
    _carries: &mut Carries,
) {
    let request_id = &context.request_id;
    let level = python_level(line.level);
    let _ = write!(out, "[{level}]\t");
    clock::rfc3339_millis(out, line.at_ns);
    let _ = writeln!(out, "\t{request_id}\t{}", line.message);
}

/// A line in the Python runtime's JSON log format.
pub fn json_line(
    context: &InvocationContext<'_>,
    line: &AppLine,
    out: &mut String,
    _carries: &mut Carries,
) {
    let request_id = &context.request_id;
    out.push_str("{\"timestamp\": \"");
    clock::rfc3339_seconds(out, line.at_ns);
    let _ = write!(
        out,
        "\", \"level\": \"{}\", \"message\": {}, \"logger\": \"root\", \"requestId\": \"{request_id}\"}}",
        python_level(line.level),
        json_string(&line.message)
    );
}

/// The runtime's line while the environment initialises (the AWS SDK's
/// credential message, with no request id).
pub fn init_line(out: &mut String, at_ns: u64) {
    out.push_str("[INFO]\t");
    clock::rfc3339_millis(out, at_ns);
    out.push_str("\t\tFound credentials in environment variables.\n");
}

/// Python's name for a tracelake level (`WARN` is `WARNING`).
pub fn python_level(level: &str) -> &str {
    match level {
        "WARN" => "WARNING",
        other => other,
    }
}
