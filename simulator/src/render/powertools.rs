//! Powertools for AWS Lambda (Python) Logger: one JSON object per line with
//! the function's context and, with X-Ray active, the trace id.

use std::fmt::Write as _;

use crate::clock;
use crate::event::Carries;
use crate::render::context::{AppLine, InvocationContext, json_string, xray_text};
use crate::render::python::python_level;

/// A line as Powertools' Logger writes it.
pub fn line(
    context: &InvocationContext<'_>,
    line: &AppLine,
    out: &mut String,
    carries: &mut Carries,
) {
    let request_id = &context.request_id;
    let service = context.service;
    let mut timestamp = String::with_capacity(32);
    clock::powertools_python(&mut timestamp, line.at_ns);
    let _ = write!(
        out,
        "{{\"level\":\"{}\",\"location\":\"handler:{}\",\"message\":{},\"timestamp\":\"{timestamp}\",\"service\":\"{}\",\"cold_start\":{},\"function_name\":\"{}\",\"function_memory_size\":{},\"function_arn\":\"{}\",\"function_request_id\":\"{request_id}\"",
        python_level(line.level),
        20 + line.message.len() % 60,
        json_string(&line.message),
        service.name,
        context.invocation.init_ns.is_some(),
        service.function_name,
        service.memory_mb,
        context.fleet.function_arn(service),
    );
    if service.xray_active {
        carries.own_trace = true;
        let _ = write!(
            out,
            ",\"xray_trace_id\":\"{}\"",
            xray_text(context.trace_id)
        );
    }
    if line.level == "ERROR" {
        out.push_str(",\"exception_name\":\"KeyError\",\"exception\":\"Traceback (most recent call last):\\n  File \\\"/var/task/app.py\\\", line 31, in handler\\nKeyError: 'id'\"");
    }
    out.push('}');
}
