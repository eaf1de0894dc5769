//! Node.js: the managed runtime's text format (`console.log`, tab-separated,
//! multi-line objects joined with `\r`) and its JSON log format.

use std::fmt::Write as _;

use crate::clock;
use crate::event::Carries;
use crate::render::context::{AppLine, InvocationContext, json_string};

/// A line in the Node.js runtime's text format.
pub fn text_line(
    context: &InvocationContext<'_>,
    line: &AppLine,
    out: &mut String,
    _carries: &mut Carries,
) {
    let request_id = &context.request_id;
    clock::rfc3339_millis(out, line.at_ns);
    if line.level == "ERROR" {
        let _ = writeln!(
            out,
            "\t{request_id}\tERROR\tInvoke Error \t{{\"errorType\":\"Error\",\"errorMessage\":{msg},\"stack\":[\"Error: {plain}\",\"    at Runtime.handler (/var/task/index.js:42:11)\"]}}",
            msg = json_string(&line.message),
            plain = line.message.replace('"', "'"),
        );
    } else if line.message.starts_with("handling ") {
        // console.log of an object: Node joins the lines with \r.
        let _ = writeln!(
            out,
            "\t{request_id}\t{}\t{}\r{{\r  \"source\": \"{}\"\r}}",
            line.level, line.message, context.entry_name
        );
    } else {
        let _ = writeln!(out, "\t{request_id}\t{}\t{}", line.level, line.message);
    }
}

/// A line in the Node.js runtime's JSON log format.
pub fn json_line(
    context: &InvocationContext<'_>,
    line: &AppLine,
    out: &mut String,
    _carries: &mut Carries,
) {
    let request_id = &context.request_id;
    out.push_str("{\"timestamp\":\"");
    clock::rfc3339_millis(out, line.at_ns);
    let _ = write!(
        out,
        "\",\"level\":\"{}\",\"requestId\":\"{request_id}\",\"message\":{}",
        line.level,
        json_string(&line.message)
    );
    if line.level == "ERROR" {
        out.push_str(",\"errorType\":\"Error\",\"stackTrace\":[\"at Runtime.handler (/var/task/index.mjs:42:11)\"]");
    }
    out.push('}');
}

/// The runtime's line while the environment initialises.
pub fn init_line(out: &mut String, at_ns: u64) {
    clock::rfc3339_millis(out, at_ns);
    out.push_str("\tundefined\tINFO\tconnection pool ready (size 8)\n");
}
