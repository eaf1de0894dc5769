//! The level column: the spellings and numbers loggers use, normalised to the
//! index's [`LogLevel`], the one definition of the levels and their string form.

use crate::index::rows::LogLevel;

/// The level column's values, from the many spellings runtimes and loggers use:
/// Python (`WARNING`, `CRITICAL`), .NET (`trce`, `dbug`, `fail`, `crit`,
/// `Information`), Java (`SEVERE`, `FINE`), Serilog (`Verbose`), syslog words.
pub fn normalise_level(level: &str) -> Option<LogLevel> {
    let level = level.trim();
    let is = |names: &[&str]| names.iter().any(|name| level.eq_ignore_ascii_case(name));
    if is(&["INFO", "information", "notice", "informational"]) {
        Some(LogLevel::Info)
    } else if is(&["ERROR", "err", "fail", "severe"]) {
        Some(LogLevel::Error)
    } else if is(&["WARN", "WARNING"]) {
        Some(LogLevel::Warn)
    } else if is(&["DEBUG", "dbug", "fine", "config"]) {
        Some(LogLevel::Debug)
    } else if is(&["TRACE", "trce", "verbose", "finer", "finest"]) {
        Some(LogLevel::Trace)
    } else if is(&[
        "FATAL",
        "CRITICAL",
        "crit",
        "panic",
        "emerg",
        "emergency",
        "alert",
    ]) {
        Some(LogLevel::Fatal)
    } else {
        None
    }
}

/// A numeric level: pino/bunyan (10 … 60) or OpenTelemetry `severityNumber` (1 … 24).
pub(super) fn numeric_level(key: &str, value: i64) -> Option<LogLevel> {
    if key == "severityNumber" || key == "severity_number" {
        return match value {
            1..=4 => Some(LogLevel::Trace),
            5..=8 => Some(LogLevel::Debug),
            9..=12 => Some(LogLevel::Info),
            13..=16 => Some(LogLevel::Warn),
            17..=20 => Some(LogLevel::Error),
            21..=24 => Some(LogLevel::Fatal),
            _ => None,
        };
    }
    match value {
        10 => Some(LogLevel::Trace),
        20 => Some(LogLevel::Debug),
        30 => Some(LogLevel::Info),
        40 => Some(LogLevel::Warn),
        50 => Some(LogLevel::Error),
        60 => Some(LogLevel::Fatal),
        _ => None,
    }
}
