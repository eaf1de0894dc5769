//! Text lines of the managed runtimes and of common loggers.
//!
//! - Node.js: `2019-06-05T19:30:03.173Z\t<request id>\tINFO\t<message>`, where a
//!   multi-line message has its newlines replaced by `\r`, and the request id is
//!   the word `undefined` outside an invocation.
//! - .NET (6 and later): the same prefix with the ILogger labels `trce`, `dbug`,
//!   `info`, `warn`, `fail`, `crit`; a multi-line message keeps its `\n`.
//! - Python: `[INFO]\t2025-06-04T12:46:22.643Z\t<request id>\t<message>`, where
//!   the request id is empty outside an invocation; an unhandled exception is
//!   `[ERROR] KeyError: 'S'\nTraceback (most recent call last):\n…` (a space, no
//!   tab, no time or request id).
//! - Java, the Lambda log4j2 appender's documented pattern
//!   `%d{yyyy-MM-dd HH:mm:ss} %X{AWSRequestId} %-5p %c{1} - %m%n`.
//! - Ruby's `Logger`: `I, [2026-11-29T10:00:00.123456 #8]  INFO -- <progname>: <message>`,
//!   where the Lambda runtime's progname is the request id.
//! - logfmt (Go `slog` text handler, logrus text): `time=… level=INFO msg="…" key=value`.
//! - Go's standard `log` package: `2024/01/02 15:04:05 message` (no level).
//! - Any `<timestamp> <LEVEL> <message>` line (Rust `tracing` fmt, zap console,
//!   Python `logging` with `asctime`).
//! - Crash records without a prefix: Go `panic:`/`fatal error:`, a Java stack trace.

use serde_json::{Map, Value};

use crate::index::rows::LogLevel;

use super::invoke_error;
use super::json::parse_fields;
use super::level::normalise_level;
use super::log::{LineFormat, ParsedLog};
pub use super::request_id::is_placeholder_request_id;
use super::time::{LineTime, parse_timestamp};

fn request_id_of(text: &str) -> Option<String> {
    (!is_placeholder_request_id(text)).then(|| text.trim().to_owned())
}

fn log(format: LineFormat, time: Option<LineTime>, level: Option<LogLevel>) -> ParsedLog {
    ParsedLog {
        format: Some(format),
        time,
        level,
        ..ParsedLog::default()
    }
}

/// Reads a runtime or logger text line, or `None` if it is none of the above.
pub fn parse_text(line: &str) -> Option<ParsedLog> {
    let first = line.as_bytes().first().copied()?;
    if first == b'[' {
        return parse_python(line).or_else(|| parse_bracketed_level(line));
    }
    if first.is_ascii_digit() {
        return parse_tab_prefixed(line)
            .or_else(|| parse_log4j(line))
            .or_else(|| parse_timestamped(line))
            .or_else(|| parse_go_log(line));
    }
    if line.len() > 4
        && line.as_bytes()[1] == b','
        && line.as_bytes()[2..].starts_with(b" [")
        && let Some(log) = parse_ruby(line)
    {
        return Some(log);
    }
    if first.is_ascii_alphabetic()
        && let Some(log) = parse_logfmt(line)
    {
        return Some(log);
    }
    parse_crash(line)
}

/// Node.js and .NET: `ts\trequestId\tlevel\tmessage`.
pub fn parse_tab_prefixed(line: &str) -> Option<ParsedLog> {
    let mut fields = line.splitn(4, '\t');
    let time = parse_timestamp(fields.next()?)?;
    let request_id = fields.next()?;
    let label = fields.next()?;
    let message = fields.next().unwrap_or("");
    let level = normalise_level(label)?;
    let dotnet = DOTNET_LABELS.contains(&label);
    let mut parsed = log(
        if dotnet {
            LineFormat::DotnetText
        } else {
            LineFormat::NodeText
        },
        Some(time),
        Some(level),
    );
    parsed.request_id = request_id_of(request_id);
    let message = message.trim_end();
    // The Node runtime writes a multi-line message with `\r` for `\n`.
    parsed.message = if dotnet {
        message.to_owned()
    } else {
        message.replace('\r', "\n")
    };
    if !dotnet && level == LogLevel::Error {
        parsed.invoke_error = invoke_error::node_text(&parsed.message);
    }
    Some(parsed)
}

/// The .NET ILogger console labels (`Amazon.Lambda.RuntimeSupport`'s formatter).
const DOTNET_LABELS: [&str; 6] = ["trce", "dbug", "info", "warn", "fail", "crit"];

/// Python: `[LEVEL]\tts\trequestId\tmessage`, and the runtime's crash record.
pub fn parse_python(line: &str) -> Option<ParsedLog> {
    let rest = line.strip_prefix('[')?;
    if let Some((label, rest)) = rest.split_once("]\t") {
        let level = normalise_level(label)?;
        let mut fields = rest.splitn(3, '\t');
        let time = parse_timestamp(fields.next()?)?;
        let request_id = fields.next()?;
        let message = fields.next().unwrap_or("");
        let mut parsed = log(LineFormat::PythonText, Some(time), Some(level));
        parsed.request_id = request_id_of(request_id);
        parsed.message = message.trim_end().to_owned();
        return Some(parsed);
    }
    // `[ERROR] KeyError: 'S'\nTraceback (most recent call last):\n…`
    let (label, _) = rest.split_once("] ")?;
    let level = normalise_level(label)?;
    // The runtime's own crash record (`\r` between its lines when it writes to
    // stdout rather than to Lambda's log pipe).
    if !(line.contains("\nTraceback (most recent call last):")
        || line.contains("\rTraceback (most recent call last):"))
    {
        return None;
    }
    let mut parsed = log(LineFormat::PythonText, None, Some(level));
    parsed.message = line.trim_end().to_owned();
    parsed.invoke_error = invoke_error::python_text(line);
    Some(parsed)
}

/// `[ERROR] text`: a level in brackets and a space, as the AWS samples write it.
/// The level is read; the line stays `plain`.
fn parse_bracketed_level(line: &str) -> Option<ParsedLog> {
    let (label, _) = line.strip_prefix('[')?.split_once("] ")?;
    let mut parsed = log(LineFormat::Plain, None, Some(normalise_level(label)?));
    parsed.message = line.to_owned();
    Some(parsed)
}

/// Java, the Lambda log4j2 appender pattern:
/// `2026-11-29 10:00:00 <request id> INFO  Handler - message` (the request id
/// is empty outside an invocation, leaving two spaces).
pub fn parse_log4j(line: &str) -> Option<ParsedLog> {
    let bytes = line.as_bytes();
    if bytes.len() < 21 || bytes[10] != b' ' {
        return None;
    }
    let after_clock = line.get(19..)?;
    let time_end = 19
        + after_clock.find(' ').filter(|&at| {
            after_clock.as_bytes()[..at]
                .iter()
                .all(|b| b.is_ascii_digit() || *b == b'.' || *b == b',')
        })?;
    let time = parse_timestamp(&line[..time_end])?;
    let rest = &line[time_end + 1..];
    let (request_id, rest) = match rest.split_once(' ') {
        Some(("", rest)) => (None, rest),
        Some((word, rest)) if super::platform::looks_like_request_id(word) => (Some(word), rest),
        _ => return None,
    };
    let rest = rest.trim_start();
    let (label, message) = rest.split_once(' ').unwrap_or((rest, ""));
    let level = normalise_level(label)?;
    if !label.bytes().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let mut parsed = log(LineFormat::JavaText, Some(time), Some(level));
    parsed.request_id = request_id.map(str::to_owned);
    parsed.message = message.trim().to_owned();
    Some(parsed)
}

/// Ruby's `Logger` default format.
pub fn parse_ruby(line: &str) -> Option<ParsedLog> {
    // `I, [2026-11-29T10:00:00.123456 #8]  INFO -- 6573a3a0-…: message`
    let rest = line.get(4..)?;
    let (stamp, rest) = rest.split_once(']')?;
    let (time_text, _pid) = stamp.split_once(" #")?;
    let time = parse_timestamp(time_text)?;
    let rest = rest.trim_start();
    let (label, rest) = rest.split_once(" -- ")?;
    let level = normalise_level(label);
    let (progname, message) = rest.split_once(": ").unwrap_or(("", rest));
    let mut parsed = log(LineFormat::RubyText, Some(time), level);
    parsed.request_id = Some(progname.trim())
        .filter(|name| super::platform::looks_like_request_id(name))
        .map(str::to_owned);
    parsed.message = message.trim_end().to_owned();
    Some(parsed)
}

/// `<timestamp> <LEVEL> …`: the level in the first three words after the time.
fn parse_timestamped(line: &str) -> Option<ParsedLog> {
    let bytes = line.as_bytes();
    if bytes.len() < 20 || bytes[4] != b'-' {
        return None;
    }
    // The time runs to the first whitespace after the date and clock.
    let after_clock = line.get(19..)?;
    let end = 19
        + after_clock
            .find(|c: char| c.is_whitespace())
            .unwrap_or(after_clock.len());
    let time = parse_timestamp(&line[..end])?;
    let rest = line[end..].trim_start();
    let level = rest
        .split_whitespace()
        .take(3)
        .map(|word| word.trim_matches(|c: char| matches!(c, '[' | ']' | ':' | '-' | '|')))
        .find(|word| word.len() >= 4 && word.bytes().all(|b| b.is_ascii_uppercase()))
        .and_then(normalise_level)?;
    let mut parsed = log(LineFormat::Text, Some(time), Some(level));
    parsed.message = rest.trim_end().to_owned();
    Some(parsed)
}

/// Go's standard `log` package: `2024/01/02 15:04:05 message`, with
/// microseconds under `log.Lmicroseconds` (`15:04:05.000123`). It writes no
/// level: the line has none (decision in docs/collector.md), only its time,
/// which Lambda's `TZ=:UTC` makes UTC.
pub fn parse_go_log(line: &str) -> Option<ParsedLog> {
    let bytes = line.as_bytes();
    if bytes.len() < 19
        || bytes[4] != b'/'
        || bytes[7] != b'/'
        || bytes[10] != b' '
        || bytes[13] != b':'
        || bytes[16] != b':'
    {
        return None;
    }
    let clock_end = line.get(19..)?.find(' ').map_or(line.len(), |at| 19 + at);
    let mut stamp = line[..clock_end].to_owned();
    stamp.replace_range(4..5, "-");
    stamp.replace_range(7..8, "-");
    let time = parse_timestamp(&stamp)?;
    let mut parsed = log(LineFormat::GoLog, Some(time), None);
    parsed.message = line[clock_end..].trim().to_owned();
    Some(parsed)
}

/// logfmt with a level and a message (Go `slog`'s text handler, logrus).
pub fn parse_logfmt(line: &str) -> Option<ParsedLog> {
    let pairs = logfmt_pairs(line)?;
    let has = |key: &str| pairs.iter().any(|(k, _)| k == key);
    if !(has("level") || has("lvl")) || !(has("msg") || has("message")) {
        return None;
    }
    let object: Map<String, Value> = pairs
        .into_iter()
        .map(|(key, value)| (key, Value::String(value)))
        .collect();
    Some(parse_fields(LineFormat::Logfmt, line, &object))
}

/// `key=value key="quoted \"value\""` pairs, or `None` when the line is not logfmt.
fn logfmt_pairs(line: &str) -> Option<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    let mut chars = line.trim().chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.is_empty() || chars.next() != Some('=') {
            return None;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(escaped) = chars.next() {
                            value.push(match escaped {
                                'n' => '\n',
                                't' => '\t',
                                other => other,
                            });
                        }
                    }
                    '"' => {
                        closed = true;
                        break;
                    }
                    other => value.push(other),
                }
            }
            if !closed {
                return None;
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        pairs.push((key, value));
    }
    (!pairs.is_empty()).then_some(pairs)
}

/// Crash records written without a prefix: Go's `panic:` and `fatal error:`,
/// and a Java exception with its `\tat …` frames. Level `ERROR`, format `plain`.
fn parse_crash(line: &str) -> Option<ParsedLog> {
    let first_line = line.lines().next().unwrap_or("");
    let go_crash = first_line.starts_with("panic: ") || first_line.starts_with("fatal error: ");
    let java_crash = (first_line.contains("Exception") || first_line.contains("Error"))
        && line
            .lines()
            .skip(1)
            .any(|l| l.starts_with("\tat ") || l.starts_with("    at "));
    if !go_crash && !java_crash {
        return None;
    }
    let mut parsed = log(LineFormat::Plain, None, Some(LogLevel::Error));
    parsed.message = line.to_owned();
    Some(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_invoke_error_names_its_type_and_console_error_does_not() {
        let line = parse_tab_prefixed(
            "2026-11-29T10:00:05.120Z\t0c5e1f6b-5d6e-4e0c-9f40-0d6a3f1e9a11\tERROR\tInvoke Error \t{\"errorType\":\"TypeError\",\"errorMessage\":\"Cannot read properties of undefined (reading 'id')\",\"stack\":[\"TypeError: Cannot read properties of undefined (reading 'id')\",\"    at Runtime.handler (file:///var/task/index.mjs:7:28)\"]}",
        )
        .unwrap();
        assert_eq!(line.level, Some(LogLevel::Error));
        assert_eq!(
            line.invoke_error
                .and_then(|error| error.error_type)
                .as_deref(),
            Some("TypeError")
        );
        let unreadable =
            parse_tab_prefixed("2026-11-29T10:00:05.120Z\tr\tERROR\tInvoke Error \t{cut").unwrap();
        assert_eq!(
            unreadable.invoke_error,
            Some(super::super::log::InvokeError {
                error_type: None,
                could_be_handled: false
            })
        );
        for message in [
            "could not reach the cache",
            "Invoke Errors: 3",
            "Uncaught Exception \t{}",
        ] {
            let line =
                parse_tab_prefixed(&format!("2026-11-29T10:00:05.120Z\tr\tERROR\t{message}"))
                    .unwrap();
            assert_eq!(line.invoke_error, None, "{message}");
        }
        let info =
            parse_tab_prefixed("2026-11-29T10:00:05.120Z\tr\tINFO\tInvoke Error \t{}").unwrap();
        assert_eq!(info.invoke_error, None);
    }

    /// Go's `log` (`log.LstdFlags`, and with `log.Lmicroseconds`): the time
    /// read as UTC, no level, the message after the time.
    #[test]
    fn go_standard_log_lines_have_a_time_and_no_level() {
        let plain = parse_text("2026/11/29 10:00:05 cache warm, 12 keys").unwrap();
        assert_eq!(plain.format, Some(LineFormat::GoLog));
        assert_eq!(plain.level, None);
        assert_eq!(plain.message, "cache warm, 12 keys");
        let time = plain.time.unwrap();
        assert_eq!(
            time.ns,
            chrono::NaiveDate::from_ymd_opt(2026, 11, 29)
                .and_then(|day| day.and_hms_opt(10, 0, 5))
                .map(|at| at.and_utc().timestamp_nanos_opt().unwrap())
                .unwrap()
        );
        assert_eq!(time.precision_ns, 1_000_000_000);
        let micros = parse_text("2026/11/29 10:00:05.000123 main.go:23: ready").unwrap();
        assert_eq!(micros.format, Some(LineFormat::GoLog));
        assert_eq!(micros.message, "main.go:23: ready");
        assert_eq!(micros.time.unwrap().ns - time.ns, 123_000);
        assert_eq!(micros.time.unwrap().precision_ns, 1_000);
        // The time alone, and lines that only look like it.
        assert_eq!(parse_text("2026/11/29 10:00:05").unwrap().message, "");
        for line in [
            "2026/11/29 noon: ready",
            "2026/13/40 10:00:05 x",
            "2026-11-29 10:00:05x",
        ] {
            assert_ne!(
                parse_text(line).and_then(|log| log.format),
                Some(LineFormat::GoLog),
                "{line}"
            );
        }
    }

    #[test]
    fn python_line_with_empty_request_id() {
        let line = parse_python(
            "[WARNING]\t2026-04-24T17:39:52.929Z\t\tLAMBDA_WARNING: Unhandled exception.",
        )
        .unwrap();
        assert_eq!(line.request_id, None);
        assert_eq!(line.level, Some(LogLevel::Warn));
        assert_eq!(line.message, "LAMBDA_WARNING: Unhandled exception.");
    }

    #[test]
    fn node_line_needs_a_level_in_third_place() {
        assert!(parse_tab_prefixed("2019-06-05T19:30:03.173Z\tabc\tINFO\tEVENT").is_some());
        assert!(parse_tab_prefixed("2019-06-05T19:30:03.173Z\tabc\tnot-a-level\tEVENT").is_none());
        assert!(parse_tab_prefixed("plain text\twith tabs\tINFO\tx").is_none());
    }

    #[test]
    fn undefined_is_no_request_id() {
        let line =
            parse_tab_prefixed("2026-11-29T10:00:00.290Z\tundefined\tERROR\tUncaught Exception")
                .unwrap();
        assert_eq!(line.request_id, None);
        assert_eq!(line.level, Some(LogLevel::Error));
    }

    #[test]
    fn log4j_ruby_logfmt_and_timestamped_lines() {
        let java = parse_text(
            "2026-11-29 10:00:05 0c5e1f6b-5d6e-4e0c-9f40-0d6a3f1e9a11 WARN  Handler - slow call",
        )
        .unwrap();
        assert_eq!(java.format, Some(LineFormat::JavaText));
        assert_eq!(java.level, Some(LogLevel::Warn));
        assert_eq!(
            java.request_id.as_deref(),
            Some("0c5e1f6b-5d6e-4e0c-9f40-0d6a3f1e9a11")
        );
        assert_eq!(java.message, "Handler - slow call");
        assert_eq!(java.time.unwrap().precision_ns, 1_000_000_000);
        let outside = parse_text("2026-11-29 10:00:05  INFO  Handler - init").unwrap();
        assert_eq!(outside.request_id, None);
        assert_eq!(outside.level, Some(LogLevel::Info));

        let ruby = parse_text(
            "E, [2026-11-29T10:00:05.123456 #8] ERROR -- 0c5e1f6b-5d6e-4e0c-9f40-0d6a3f1e9a11: boom",
        )
        .unwrap();
        assert_eq!(ruby.format, Some(LineFormat::RubyText));
        assert_eq!(ruby.level, Some(LogLevel::Error));
        assert_eq!(ruby.message, "boom");
        assert!(ruby.request_id.is_some());

        let slog = parse_text(
            r#"time=2026-11-29T10:00:05.123Z level=WARN msg="cache \"miss\"" key=invoice:42"#,
        )
        .unwrap();
        assert_eq!(slog.format, Some(LineFormat::Logfmt));
        assert_eq!(slog.level, Some(LogLevel::Warn));
        assert_eq!(slog.message, r#"cache "miss""#);

        let tracing =
            parse_text("2026-11-29T10:00:05.123456Z  INFO checkout::handler: priced").unwrap();
        assert_eq!(tracing.format, Some(LineFormat::Text));
        assert_eq!(tracing.level, Some(LogLevel::Info));

        // Go's `log` has a time and no level (go_standard_log_lines_have_a_time_and_no_level).
        let go = parse_text("2026/11/29 10:00:05 plain go log").unwrap();
        assert_eq!((go.format, go.level), (Some(LineFormat::GoLog), None));
        assert!(parse_text("hello=world").is_none());
    }

    #[test]
    fn crash_records_without_prefix_are_errors() {
        let go = parse_text("panic: runtime error: index out of range\n\ngoroutine 1 [running]:")
            .unwrap();
        assert_eq!(go.level, Some(LogLevel::Error));
        let java = parse_text(
            "java.lang.IllegalStateException: no db\n\tat example.Handler.handleRequest(Handler.java:12)",
        )
        .unwrap();
        assert_eq!(java.level, Some(LogLevel::Error));
        assert!(parse_text("An Error occurred, no frames").is_none());
    }
}
