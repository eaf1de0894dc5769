//! What parsing yields: the line format, and the event a line turned out to be.

use tracelake_instrumentation::wire::ids::{SpanId, TraceId};

use super::otlp::ParsedSpan;
use super::platform::PlatformRecord;
use super::time::LineTime;
use crate::index::rows::LogLevel;

/// The line format an event was read as: the `format` column of `logs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineFormat {
    /// Our JSON log line (`tracelake_instrumentation::wire::log_line::LogLine`).
    Tracelake,
    /// Lambda platform text (`START`, `END`, `REPORT`, …).
    LambdaPlatformText,
    /// Lambda JSON log format, platform records (`platform.report`, …).
    LambdaPlatformJson,
    /// Lambda JSON log format, application records (with `requestId`), and the
    /// runtimes' JSON crash records (`errorType`, `errorMessage`).
    LambdaJson,
    /// Node.js runtime text.
    NodeText,
    /// .NET runtime text (`trce`/`dbug`/`info`/`warn`/`fail`/`crit`).
    DotnetText,
    /// Python runtime text.
    PythonText,
    /// Java, the Lambda log4j2 appender pattern.
    JavaText,
    /// Ruby's `Logger` format.
    RubyText,
    /// logfmt with a level and a message (Go `slog`, logrus).
    Logfmt,
    /// Go's standard `log` package: `2024/01/02 15:04:05 message`, no level.
    GoLog,
    /// `<timestamp> <LEVEL> <message>` text of other loggers.
    Text,
    /// Powertools for AWS Lambda Logger JSON.
    Powertools,
    /// Any other JSON object.
    Json,
    /// Anything else.
    Plain,
}

impl LineFormat {
    /// The value stored in the `format` column.
    pub fn as_str(self) -> &'static str {
        match self {
            LineFormat::Tracelake => "tracelake",
            LineFormat::LambdaPlatformText => "lambda_platform_text",
            LineFormat::LambdaPlatformJson => "lambda_platform_json",
            LineFormat::LambdaJson => "lambda_json",
            LineFormat::NodeText => "node_text",
            LineFormat::DotnetText => "dotnet_text",
            LineFormat::PythonText => "python_text",
            LineFormat::JavaText => "java_text",
            LineFormat::RubyText => "ruby_text",
            LineFormat::Logfmt => "logfmt",
            LineFormat::GoLog => "go_log",
            LineFormat::Text => "text",
            LineFormat::Powertools => "powertools",
            LineFormat::Json => "json",
            LineFormat::Plain => "plain",
        }
    }
}

/// What one event turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum ParsedEvent {
    /// A span line: the spans it holds.
    Spans(Vec<ParsedSpan>),
    /// A log line (including platform lines).
    Log(Box<ParsedLog>),
    /// A span line that could not be read: quarantined with this reason.
    Invalid(String),
}

/// The fields of a log line that the pipeline needs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParsedLog {
    /// The format the line was read as; `None` until one is known.
    pub format: Option<LineFormat>,
    /// The line's own time, when it carries one, with its precision. The row
    /// uses it only when it is believable ([`super::time::row_timestamp_ns`]).
    pub time: Option<LineTime>,
    /// The normalised level, when the line has one.
    pub level: Option<LogLevel>,
    /// The line's message: the whole line, or its message field for structured lines.
    pub message: String,
    /// The trace the line names itself.
    pub trace_id: Option<TraceId>,
    /// Whether that trace came from an X-Ray field (`xray_trace_id`, an X-Ray
    /// id or header): Lambda's own context, weaker than an OpenTelemetry or our
    /// own trace id when they disagree about a request.
    pub trace_from_xray: bool,
    /// The span the line names itself.
    pub span_id: Option<SpanId>,
    /// The Lambda request id the line names.
    pub request_id: Option<String>,
    /// The service the line names (`service`, `service.name`, …).
    pub service: Option<String>,
    /// Every other field, flattened to text (`key.sub` for nested objects).
    pub attributes: Vec<(String, String)>,
    /// What a platform line says about its invocation.
    pub platform: Option<PlatformRecord>,
    /// The runtime's report that the invocation's handler failed.
    pub invoke_error: Option<InvokeError>,
}

/// A runtime's report that an invocation's handler failed (Node.js's
/// `Invoke Error`, Python's and Java's crash records; every shape is in
/// `parse::invoke_error`). The invocation is stored as an error, with this
/// type. (A failure the platform reports, `Status: error` or a runtime exit, is
/// a [`PlatformRecord`].)
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InvokeError {
    /// The error's `errorType`, when the runtime wrote one.
    pub error_type: Option<String>,
    /// Whether a handled error that the function logged itself looks the same
    /// (Node.js's JSON log format, where the runtime writes the error as
    /// `console.error(error)` would): then a `platform.runtimeDone` of the
    /// request that says `success` wins over it.
    pub could_be_handled: bool,
}
