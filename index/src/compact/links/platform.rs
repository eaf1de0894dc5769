//! What Lambda platform lines (`START`, `END`, `REPORT` and their JSON
//! records) state about the request they name, read from the line as it came.

use tracelake_instrumentation::wire::ids::XrayHeader;

use crate::rows::{LogRow, TraceId};

/// A W3C or X-Ray trace id in text, `None` when the text is not one.
pub(super) fn parse_trace(text: &str) -> Option<TraceId> {
    TraceId::parse(text).ok()
}

/// The `Root` of an X-Ray header (`Root=1-…;Parent=…;Sampled=1`).
pub(super) fn trace_of_xray_header(header: &str) -> Option<TraceId> {
    XrayHeader::parse(header).ok().map(|header| header.root)
}

/// Formats whose lines never carry a service of their own: the collector
/// gives their rows the service of their request's spans, else the function.
pub(super) const SERVICELESS_FORMATS: [&str; 5] = [
    "plain",
    "node_text",
    "python_text",
    "lambda_platform_text",
    "lambda_platform_json",
];

/// The Lambda function a log group belongs to: `/aws/lambda/<name>` → `<name>`.
pub(super) fn function_of_log_group(log_group: &str) -> &str {
    log_group.strip_prefix("/aws/lambda/").unwrap_or(log_group)
}

/// What a platform line says about the request it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Marker {
    Start,
    /// `END` / `platform.runtimeDone` / `REPORT` / `platform.report`: the request stopped running.
    Stop,
}

/// The platform facts of one platform log row.
pub(super) struct PlatformFacts {
    pub(super) marker: Option<Marker>,
    /// The X-Ray trace the line names (`REPORT … XRAY TraceId`, `tracing`).
    pub(super) xray_trace: Option<TraceId>,
    pub(super) is_report: bool,
}

/// Reads what a platform row states, from its message (the line as it came).
pub(super) fn platform_facts(row: &LogRow) -> Option<PlatformFacts> {
    match row.format.as_ref() {
        "lambda_platform_text" => {
            let message = row.message.as_str();
            if message.starts_with("START RequestId:") {
                Some(PlatformFacts {
                    marker: Some(Marker::Start),
                    xray_trace: None,
                    is_report: false,
                })
            } else if message.starts_with("END RequestId:") {
                Some(PlatformFacts {
                    marker: Some(Marker::Stop),
                    xray_trace: None,
                    is_report: false,
                })
            } else if message.starts_with("REPORT RequestId:") {
                let xray_trace = message
                    .split_once("XRAY TraceId:")
                    .and_then(|(_, rest)| rest.split_whitespace().next())
                    .and_then(parse_trace);
                Some(PlatformFacts {
                    marker: Some(Marker::Stop),
                    xray_trace,
                    is_report: true,
                })
            } else {
                None
            }
        }
        "lambda_platform_json" => {
            let value: serde_json::Value = serde_json::from_str(&row.message).ok()?;
            let kind = value.get("type")?.as_str()?;
            let tracing = || {
                value
                    .get("record")?
                    .get("tracing")?
                    .get("value")?
                    .as_str()
                    .and_then(trace_of_xray_header)
            };
            match kind {
                "platform.start" => Some(PlatformFacts {
                    marker: Some(Marker::Start),
                    xray_trace: tracing(),
                    is_report: false,
                }),
                "platform.runtimeDone" => Some(PlatformFacts {
                    marker: Some(Marker::Stop),
                    xray_trace: None,
                    is_report: false,
                }),
                "platform.report" => Some(PlatformFacts {
                    marker: Some(Marker::Stop),
                    xray_trace: tracing(),
                    is_report: true,
                }),
                _ => None,
            }
        }
        _ => None,
    }
}
