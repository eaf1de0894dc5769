//! Lambda platform records (JSON format) read as the text lines Lambda writes.

use serde_json::Value;

use crate::query::model::LogLine;

fn number(record: &Value, key: &str) -> Option<String> {
    let value = record.get(key)?;
    value
        .as_f64()
        .map(|n| format!("{n}"))
        .or_else(|| value.as_str().map(str::to_owned))
}

/// A JSON Lambda platform record as the text line Lambda writes in its text
/// format, so that a person reads `REPORT RequestId: … Duration: 12.5 ms` and
/// not a JSON object. `None` for every other line.
pub(crate) fn readable_platform_record(log: &LogLine) -> Option<String> {
    readable_platform_text(log.format.as_deref(), log.message.as_deref())
}

/// [`readable_platform_record`] for a line given by its format and message.
pub(crate) fn readable_platform_text(
    format: Option<&str>,
    message: Option<&str>,
) -> Option<String> {
    if format != Some("lambda_platform_json") {
        return None;
    }
    let parsed: Value = serde_json::from_str(message?).ok()?;
    let kind = parsed.get("type")?.as_str()?;
    let record = parsed.get("record").cloned().unwrap_or(Value::Null);
    let text = |key: &str| record.get(key).and_then(Value::as_str).unwrap_or("");
    let metrics = record.get("metrics").cloned().unwrap_or(Value::Null);
    let metric = |key: &str| number(&metrics, key);
    let tracing = record
        .get("tracing")
        .and_then(|t| t.get("value"))
        .and_then(Value::as_str)
        .map(|value| format!(" Tracing: {value}"))
        .unwrap_or_default();
    let line = match kind {
        "platform.initStart" => format!(
            "INIT_START Runtime Version: {} Runtime Version ARN: {}",
            text("runtimeVersion"),
            text("runtimeVersionArn")
        ),
        "platform.start" => format!(
            "START RequestId: {} Version: {}{tracing}",
            text("requestId"),
            text("version")
        ),
        "platform.runtimeDone" => {
            let mut line = format!(
                "END RequestId: {} Status: {}",
                text("requestId"),
                text("status")
            );
            if let Some(duration) = metric("durationMs") {
                line.push_str(&format!(" Duration: {duration} ms"));
            }
            line
        }
        "platform.report" => {
            let mut line = format!("REPORT RequestId: {}", text("requestId"));
            for (key, label, unit) in [
                ("durationMs", "Duration", "ms"),
                ("billedDurationMs", "Billed Duration", "ms"),
                ("memorySizeMB", "Memory Size", "MB"),
                ("maxMemoryUsedMB", "Max Memory Used", "MB"),
                ("initDurationMs", "Init Duration", "ms"),
            ] {
                if let Some(value) = metric(key) {
                    line.push_str(&format!(" {label}: {value} {unit}"));
                }
            }
            let status = text("status");
            if !status.is_empty() && status != "success" {
                line.push_str(&format!(" Status: {status}"));
            }
            if let Some(error) = record.get("errorType").and_then(Value::as_str) {
                line.push_str(&format!(" Error Type: {error}"));
            }
            line.push_str(&tracing);
            line
        }
        other => {
            let name = other.strip_prefix("platform.").unwrap_or(other);
            format!("{name} {record}")
        }
    };
    Some(line)
}
