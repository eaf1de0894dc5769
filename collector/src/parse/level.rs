//! The level column: the spellings and numbers loggers use, normalised.

/// The level column's values, from the many spellings runtimes and loggers use:
/// Python (`WARNING`, `CRITICAL`), .NET (`trce`, `dbug`, `fail`, `crit`,
/// `Information`), Java (`SEVERE`, `FINE`), Serilog (`Verbose`), syslog words.
pub fn normalise_level(level: &str) -> Option<&'static str> {
    let level = level.trim();
    let is = |names: &[&str]| names.iter().any(|name| level.eq_ignore_ascii_case(name));
    if is(&["INFO", "information", "notice", "informational"]) {
        Some("INFO")
    } else if is(&["ERROR", "err", "fail", "severe"]) {
        Some("ERROR")
    } else if is(&["WARN", "WARNING"]) {
        Some("WARN")
    } else if is(&["DEBUG", "dbug", "fine", "config"]) {
        Some("DEBUG")
    } else if is(&["TRACE", "trce", "verbose", "finer", "finest"]) {
        Some("TRACE")
    } else if is(&[
        "FATAL",
        "CRITICAL",
        "crit",
        "panic",
        "emerg",
        "emergency",
        "alert",
    ]) {
        Some("FATAL")
    } else {
        None
    }
}

/// A numeric level: pino/bunyan (10 … 60) or OpenTelemetry `severityNumber` (1 … 24).
pub(super) fn numeric_level(key: &str, value: i64) -> Option<&'static str> {
    if key == "severityNumber" || key == "severity_number" {
        return match value {
            1..=4 => Some("TRACE"),
            5..=8 => Some("DEBUG"),
            9..=12 => Some("INFO"),
            13..=16 => Some("WARN"),
            17..=20 => Some("ERROR"),
            21..=24 => Some("FATAL"),
            _ => None,
        };
    }
    match value {
        10 => Some("TRACE"),
        20 => Some("DEBUG"),
        30 => Some("INFO"),
        40 => Some("WARN"),
        50 => Some("ERROR"),
        60 => Some("FATAL"),
        _ => None,
    }
}
