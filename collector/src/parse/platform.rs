//! Lambda platform lines, in the text log format (`START`, `END`, `REPORT`,
//! `INIT_START`, `INIT_REPORT`, timeouts, runtime exits) and in the JSON log
//! format (`platform.start`, `platform.report`, …).

use crate::index::rows::LogLevel;
use serde_json::{Map, Value};
use tracelake_instrumentation::wire::ids::{SpanId, TraceId, XrayHeader};

/// What a platform line says about an invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum PlatformRecord {
    /// `START RequestId: … Version: …` / `platform.start`.
    Start {
        /// The request the line belongs to.
        request_id: String,
        /// The function version (`$LATEST`, `3`).
        version: Option<String>,
        /// The X-Ray context of `platform.start`'s `tracing` field.
        trace_id: Option<TraceId>,
    },
    /// `END RequestId: …` / `platform.runtimeDone`.
    End {
        /// The request the line belongs to.
        request_id: String,
        /// `platform.runtimeDone`'s status (`None` for a text `END`, which has
        /// none): `success`, `error` and `failure` (both [`InvocationStatus::Error`]),
        /// `timeout`.
        status: Option<InvocationStatus>,
        /// `platform.runtimeDone`'s `errorType`, when it names one.
        error_type: Option<String>,
    },
    /// `REPORT RequestId: …` / `platform.report`.
    Report(Report),
    /// `… Task timed out after 3.00 seconds`.
    Timeout {
        /// The request that timed out.
        request_id: String,
    },
    /// `RequestId: … Error: Runtime exited …`.
    RuntimeExit {
        /// The request the runtime was running.
        request_id: String,
        /// The first line after `Error:` (`Runtime exited with error: signal: killed`).
        error: String,
    },
    /// `INIT_START`, `INIT_REPORT`, `RESTORE_*` (SnapStart), `platform.initStart`,
    /// … : not tied to a request.
    Init,
    /// `EXTENSION`, `LOGS`, `TELEMETRY` lines (extensions and their log and
    /// telemetry subscriptions, `LOGS … Dropped`), `platform.extension`,
    /// `platform.logsDropped`, `platform.fault`, … : not tied to a request.
    Extension,
}

impl PlatformRecord {
    /// The request the record belongs to.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            PlatformRecord::Start { request_id, .. }
            | PlatformRecord::End { request_id, .. }
            | PlatformRecord::Timeout { request_id }
            | PlatformRecord::RuntimeExit { request_id, .. } => Some(request_id),
            PlatformRecord::Report(report) => Some(&report.request_id),
            PlatformRecord::Init | PlatformRecord::Extension => None,
        }
    }
}

/// How an invocation ended: the `status` column of `invocations`.
pub use crate::index::rows::InvocationStatus;

/// The status a `Status:` field or `platform.report` names: anything but
/// `success` and `timeout` is an error.
fn parse_status(text: &str) -> InvocationStatus {
    match text.trim().to_ascii_lowercase().as_str() {
        "timeout" => InvocationStatus::Timeout,
        "success" => InvocationStatus::Success,
        _ => InvocationStatus::Error,
    }
}

/// The figures of one REPORT line.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The request the line belongs to.
    pub request_id: String,
    /// `Duration`, in milliseconds.
    pub duration_ms: f64,
    /// `Billed Duration`, in milliseconds.
    pub billed_duration_ms: Option<i64>,
    /// `Memory Size`, in MB.
    pub memory_size_mb: Option<i64>,
    /// `Max Memory Used`, in MB.
    pub max_memory_used_mb: Option<i64>,
    /// Present only on a cold start.
    pub init_duration_ms: Option<f64>,
    /// How the invocation ended (a `Status: timeout`, an `Error Type`).
    pub status: InvocationStatus,
    /// `Error Type`, when the invocation failed.
    pub error_type: Option<String>,
    /// The X-Ray trace of `XRAY TraceId`.
    pub trace_id: Option<TraceId>,
    /// The X-Ray segment of `SegmentId`.
    pub segment_id: Option<SpanId>,
    /// `Sampled`.
    pub sampled: Option<bool>,
}

const REPORT_KEYS: [&str; 12] = [
    "RequestId:",
    "Duration:",
    "Billed Duration:",
    "Memory Size:",
    "Max Memory Used:",
    "Init Duration:",
    "Restore Duration:",
    "XRAY TraceId:",
    "SegmentId:",
    "Sampled:",
    "Status:",
    "Error Type:",
];

/// Reads a text platform line, or `None` if the line is not one.
pub fn parse_text(line: &str) -> Option<PlatformRecord> {
    if let Some(rest) = line.strip_prefix("START RequestId:") {
        let rest = rest.trim();
        let (request_id, version) = match rest.split_once("Version:") {
            Some((id, version)) => (id.trim(), Some(version.trim().to_owned())),
            None => (rest.split_whitespace().next().unwrap_or(""), None),
        };
        return non_empty(request_id).map(|request_id| PlatformRecord::Start {
            request_id,
            version,
            trace_id: None,
        });
    }
    if let Some(rest) = line.strip_prefix("END RequestId:") {
        let request_id = rest.split_whitespace().next().unwrap_or("");
        return non_empty(request_id).map(|request_id| PlatformRecord::End {
            request_id,
            status: None,
            error_type: None,
        });
    }
    if line.starts_with("REPORT RequestId:") {
        return parse_report_text(line).map(PlatformRecord::Report);
    }
    if line.starts_with("INIT_START")
        || line.starts_with("INIT_REPORT")
        || line.starts_with("INIT_RUNTIME_DONE")
        || line.starts_with("RESTORE_")
    {
        return Some(PlatformRecord::Init);
    }
    // `EXTENSION\tName: … State: Ready Events: [INVOKE, SHUTDOWN]`, `LOGS\tName: …`
    if ["EXTENSION", "LOGS", "TELEMETRY"].iter().any(|prefix| {
        line.strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with([' ', '\t']))
    }) && (line.contains("Name:") || line.contains("Dropped"))
    {
        return Some(PlatformRecord::Extension);
    }
    if let Some(rest) = line.strip_prefix("RequestId:") {
        // `RequestId: <id> Error: Runtime exited with error: signal: killed`
        let rest = rest.trim_start();
        let (request_id, error) = rest.split_once(char::is_whitespace)?;
        let error = error.trim().strip_prefix("Error:")?.trim();
        return Some(PlatformRecord::RuntimeExit {
            request_id: request_id.to_owned(),
            error: error.lines().next().unwrap_or("").trim().to_owned(),
        });
    }
    if line.contains("Task timed out after") {
        // `2020-06-09T15:02:26.150Z 7c9567b5-… Task timed out after 3.00 seconds`
        let mut words = line.split_whitespace();
        let _timestamp = words.next()?;
        let request_id = words.next()?;
        if words.next() == Some("Task") && looks_like_request_id(request_id) {
            return Some(PlatformRecord::Timeout {
                request_id: request_id.to_owned(),
            });
        }
    }
    None
}

fn parse_report_text(line: &str) -> Option<Report> {
    // Find every key at a word boundary, then each value runs to the next key.
    // Whitespace between fields varies (tabs, spaces, newlines), so no field is
    // anchored to a separator or to the end of the line. One pass over the
    // line's word starts (a search per key was ~6% of ingesting large batches).
    let mut found: Vec<(usize, &str)> = Vec::new();
    let mut word_start = true;
    for (at, c) in line.char_indices() {
        if word_start {
            let rest = &line[at..];
            // The first byte rules out most keys without a `memcmp` call.
            let first = rest.as_bytes()[0];
            let keys = REPORT_KEYS
                .into_iter()
                .filter(|key| key.as_bytes()[0] == first);
            for key in keys.filter(|key| rest.starts_with(key)) {
                // "Duration:" also ends "Billed Duration:", "Init Duration:", …
                let inside_longer_key = key == "Duration:"
                    && ["Billed ", "Init ", "Restore "]
                        .iter()
                        .any(|prefix| line[..at].ends_with(prefix));
                if !inside_longer_key {
                    found.push((at, key));
                }
            }
        }
        word_start = c.is_whitespace();
    }
    let value_of = |wanted: &str| -> Option<&str> {
        let index = found.iter().position(|(_, key)| *key == wanted)?;
        let start = found[index].0 + wanted.len();
        let end = found.get(index + 1).map_or(line.len(), |(at, _)| *at);
        Some(line[start..end].trim())
    };
    let request_id = value_of("RequestId:")?.to_owned();
    let duration_ms = number(value_of("Duration:")?)?;
    let status = value_of("Status:").map_or(InvocationStatus::Success, parse_status);
    Some(Report {
        request_id,
        duration_ms,
        billed_duration_ms: value_of("Billed Duration:")
            .and_then(number)
            .map(|v| v.round() as i64),
        memory_size_mb: value_of("Memory Size:")
            .and_then(number)
            .map(|v| v.round() as i64),
        max_memory_used_mb: value_of("Max Memory Used:")
            .and_then(number)
            .map(|v| v.round() as i64),
        init_duration_ms: value_of("Init Duration:").and_then(number),
        status,
        error_type: value_of("Error Type:")
            .and_then(|text| non_empty(text.lines().next().unwrap_or(""))),
        trace_id: value_of("XRAY TraceId:").and_then(|text| TraceId::parse(text).ok()),
        segment_id: value_of("SegmentId:").and_then(|text| SpanId::parse(text).ok()),
        sampled: value_of("Sampled:").and_then(|text| match text {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }),
    })
}

/// `26.73 ms` → 26.73; `75 MB` → 75.
fn number(text: &str) -> Option<f64> {
    let value: f64 = text.split_whitespace().next()?.parse().ok()?;
    value.is_finite().then_some(value)
}

fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// A request id is a UUID (or, in AWS samples, something shaped like one).
pub fn looks_like_request_id(text: &str) -> bool {
    text.len() == 36 && text.bytes().filter(|b| *b == b'-').count() == 4
}

/// Reads a Lambda JSON-format platform record (`{"time":…,"type":"platform.…","record":{…}}`).
pub fn parse_json(object: &Map<String, Value>) -> Option<PlatformRecord> {
    let kind = object.get("type")?.as_str()?;
    let kind = kind.strip_prefix("platform.")?;
    let record = object.get("record")?.as_object();
    let request_id = || {
        record
            .and_then(|r| r.get("requestId"))
            .and_then(Value::as_str)
            .and_then(non_empty)
    };
    let status = || {
        record
            .and_then(|r| r.get("status"))
            .and_then(Value::as_str)
            .map(parse_status)
    };
    match kind {
        "start" => Some(PlatformRecord::Start {
            request_id: request_id()?,
            version: record
                .and_then(|r| r.get("version"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            trace_id: record
                .and_then(|r| r.get("tracing"))
                .and_then(|t| t.get("value"))
                .and_then(Value::as_str)
                .and_then(|header| XrayHeader::parse(header).ok())
                .map(|header| header.root),
        }),
        "runtimeDone" => Some(PlatformRecord::End {
            request_id: request_id()?,
            status: status(),
            error_type: record
                .and_then(|r| r.get("errorType"))
                .and_then(Value::as_str)
                .and_then(non_empty),
        }),
        "report" => {
            let metrics = record?.get("metrics")?.as_object()?;
            let metric = |key: &str| metrics.get(key).and_then(Value::as_f64);
            let tracing_header = record
                .and_then(|r| r.get("tracing"))
                .and_then(|t| t.get("value"))
                .and_then(Value::as_str)
                .and_then(|header| XrayHeader::parse(header).ok());
            Some(PlatformRecord::Report(Report {
                request_id: request_id()?,
                duration_ms: metric("durationMs")?,
                billed_duration_ms: metric("billedDurationMs").map(|v| v.round() as i64),
                memory_size_mb: metric("memorySizeMB").map(|v| v.round() as i64),
                max_memory_used_mb: metric("maxMemoryUsedMB").map(|v| v.round() as i64),
                init_duration_ms: metric("initDurationMs"),
                status: status().unwrap_or(InvocationStatus::Success),
                error_type: record
                    .and_then(|r| r.get("errorType"))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                trace_id: tracing_header.as_ref().map(|h| h.root),
                segment_id: tracing_header.as_ref().and_then(|h| h.parent),
                sampled: tracing_header.and_then(|h| h.sampled),
            }))
        }
        "extension" | "logsSubscription" | "telemetrySubscription" | "logsDropped" | "fault" => {
            Some(PlatformRecord::Extension)
        }
        _ => Some(PlatformRecord::Init),
    }
}

/// The level of a text platform line: `ERROR` for a failed invocation, init or
/// restore (`Status: error|timeout|failure`), a timeout or a runtime exit;
/// `WARN` for `LOGS … Dropped`; else `INFO`.
pub fn level_of_text(line: &str, record: &PlatformRecord) -> LogLevel {
    match record {
        PlatformRecord::Timeout { .. } | PlatformRecord::RuntimeExit { .. } => LogLevel::Error,
        PlatformRecord::Report(report) if report.status != InvocationStatus::Success => {
            LogLevel::Error
        }
        PlatformRecord::Init if failed_status(line) => LogLevel::Error,
        PlatformRecord::Extension if line.contains("Dropped") => LogLevel::Warn,
        PlatformRecord::Extension if failed_status(line) || line.contains("State: Failed") => {
            LogLevel::Error
        }
        _ => LogLevel::Info,
    }
}

fn failed_status(line: &str) -> bool {
    ["Status: error", "Status: timeout", "Status: failure"]
        .iter()
        .any(|status| line.contains(status))
}

/// The level of a JSON platform record: `ERROR` when its `status` is not
/// `success` or it is a `platform.fault`; `WARN` for `platform.logsDropped`.
pub fn level_of_json(object: &Map<String, Value>, record: &PlatformRecord) -> LogLevel {
    let kind = object.get("type").and_then(Value::as_str).unwrap_or("");
    let status = object
        .get("record")
        .and_then(|r| r.get("status"))
        .and_then(Value::as_str);
    match record {
        PlatformRecord::Report(report) if report.status != InvocationStatus::Success => {
            LogLevel::Error
        }
        PlatformRecord::End {
            status: Some(status),
            ..
        } if *status != InvocationStatus::Success => LogLevel::Error,
        _ if kind == "platform.fault" => LogLevel::Error,
        _ if kind == "platform.logsDropped" => LogLevel::Warn,
        _ if status.is_some_and(|s| s != "success") => LogLevel::Error,
        _ => LogLevel::Info,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(line: &str) -> Report {
        match parse_text(line) {
            Some(PlatformRecord::Report(report)) => report,
            other => panic!("not a report: {other:?}"),
        }
    }

    #[test]
    fn report_fields_survive_every_whitespace_variant() {
        let tabs = report(
            "REPORT RequestId: 4ce9340a-b765-490f-ad8a-02ab3415e2bf\tDuration: 26.73 ms\tBilled Duration: 27 ms \tMemory Size: 128 MB\tMax Memory Used: 75 MB\t\n",
        );
        assert_eq!(tabs.request_id, "4ce9340a-b765-490f-ad8a-02ab3415e2bf");
        assert_eq!(tabs.duration_ms, 26.73);
        assert_eq!(tabs.billed_duration_ms, Some(27));
        assert_eq!(tabs.memory_size_mb, Some(128));
        assert_eq!(tabs.max_memory_used_mb, Some(75));
        assert_eq!(tabs.init_duration_ms, None);
        let spaces = report(
            "REPORT RequestId: 5bc05270-6f3c-4ea8-85c2-a055f14a150e Duration: 31000.00 ms Billed Duration: 34440 ms Memory Size: 160 MB Max Memory Used: 150 MB Init Duration: 3439.00 ms Status: timeout",
        );
        assert_eq!(spaces.request_id, "5bc05270-6f3c-4ea8-85c2-a055f14a150e");
        assert_eq!(spaces.duration_ms, 31000.0);
        assert_eq!(spaces.billed_duration_ms, Some(34440));
        assert_eq!(spaces.init_duration_ms, Some(3439.0));
        assert_eq!(spaces.status, InvocationStatus::Timeout);
    }

    #[test]
    fn report_keys_count_only_at_word_starts_after_any_whitespace() {
        let every = report(
            "REPORT RequestId: r-xDuration:9\u{3000}Duration: 1.5 ms\tBilled Duration: 2 ms Memory Size: 128 MB Max Memory Used: 20 MB Init Duration: 100.5 ms Restore Duration: 7 ms XRAY TraceId: 1-5759e988-bd862e3fe1be46a994272793\tSegmentId: 53995c3f42cd8ad8\tSampled: true Status: error Error Type: Runtime.ExitError\nmore",
        );
        assert_eq!(every.request_id, "r-xDuration:9");
        assert_eq!(every.duration_ms, 1.5);
        assert_eq!(every.billed_duration_ms, Some(2));
        assert_eq!(every.memory_size_mb, Some(128));
        assert_eq!(every.max_memory_used_mb, Some(20));
        assert_eq!(every.init_duration_ms, Some(100.5));
        assert_eq!(
            every.trace_id.map(|id| id.to_string()).as_deref(),
            Some("5759e988bd862e3fe1be46a994272793")
        );
        assert_eq!(
            every.segment_id.map(|id| id.to_string()).as_deref(),
            Some("53995c3f42cd8ad8")
        );
        assert_eq!(every.sampled, Some(true));
        assert_eq!(every.status, InvocationStatus::Error);
        assert_eq!(every.error_type.as_deref(), Some("Runtime.ExitError"));
        // "Duration:" inside a longer key is not the duration.
        assert_eq!(
            parse_text("REPORT RequestId: r Billed Duration: 2 ms Init Duration: 3 ms"),
            None
        );
    }

    #[test]
    fn start_end_timeout_and_exit_lines() {
        assert_eq!(
            parse_text("START RequestId: 4ce9340a-b765-490f-ad8a-02ab3415e2bf Version: $LATEST\n"),
            Some(PlatformRecord::Start {
                request_id: "4ce9340a-b765-490f-ad8a-02ab3415e2bf".into(),
                version: Some("$LATEST".into()),
                trace_id: None,
            })
        );
        assert_eq!(
            parse_text(
                "2020-02-25T22:04:08.390Z 2ea49a23-ff39-4bf5-8761-439f99b7c5f6 Task timed out after 3.00 seconds"
            ),
            Some(PlatformRecord::Timeout {
                request_id: "2ea49a23-ff39-4bf5-8761-439f99b7c5f6".into()
            })
        );
        assert_eq!(
            parse_text(
                "RequestId: 2ea49a23-ff39-4bf5-8761-439f99b7c5f6 Error: Runtime exited with error: signal: killed\nRuntime.ExitError\n"
            ),
            Some(PlatformRecord::RuntimeExit {
                request_id: "2ea49a23-ff39-4bf5-8761-439f99b7c5f6".into(),
                error: "Runtime exited with error: signal: killed".into()
            })
        );
        assert_eq!(parse_text("Task timed out after lunch"), None);
        assert_eq!(parse_text("hello"), None);
    }

    /// The Telemetry API's four statuses (`success`, `error`, `failure`,
    /// `timeout`: the `Status` enum of `lambda-extension`, AWS's Rust crate for
    /// the Telemetry API) on `platform.runtimeDone` and `platform.report`, each
    /// to the invocation status the index defines (`success`, `error`,
    /// `timeout`), with its level.
    #[test]
    fn each_telemetry_status_maps_to_an_invocation_status() {
        let request = "4b142fc3-17b8-4cdb-a46b-a8dbe7918715";
        let cases = [
            ("success", InvocationStatus::Success, LogLevel::Info),
            ("error", InvocationStatus::Error, LogLevel::Error),
            ("failure", InvocationStatus::Error, LogLevel::Error),
            ("timeout", InvocationStatus::Timeout, LogLevel::Error),
        ];
        for (text, status, level) in cases {
            let error_type = (text != "success").then_some("Runtime.ExitError");
            let mut record = serde_json::json!({
                "requestId": request,
                "status": text,
                "metrics": {"durationMs": 11.185, "producedBytes": 40}
            });
            if let Some(error_type) = error_type {
                record["errorType"] = error_type.into();
            }
            let done = serde_json::json!({
                "time": "2024-05-20T16:29:45.019Z",
                "type": "platform.runtimeDone",
                "record": record,
            });
            let done = done.as_object().unwrap();
            let parsed = parse_json(done).unwrap();
            assert_eq!(
                parsed,
                PlatformRecord::End {
                    request_id: request.into(),
                    status: Some(status),
                    error_type: error_type.map(str::to_owned),
                },
                "{text}"
            );
            assert_eq!(level_of_json(done, &parsed), level, "{text}");

            let report = serde_json::json!({
                "time": "2024-05-20T16:29:45.022Z",
                "type": "platform.report",
                "record": {
                    "requestId": request,
                    "status": text,
                    "metrics": {"durationMs": 11.642, "billedDurationMs": 12,
                                "memorySizeMB": 128, "maxMemoryUsedMB": 67}
                },
            });
            let report = report.as_object().unwrap();
            let parsed = parse_json(report).unwrap();
            let PlatformRecord::Report(read) = &parsed else {
                panic!("not a report: {parsed:?}");
            };
            assert_eq!(read.status, status, "{text}");
            assert_eq!(level_of_json(report, &parsed), level, "{text}");
        }
        // A text END names no status.
        assert_eq!(
            parse_text(&format!("END RequestId: {request}")),
            Some(PlatformRecord::End {
                request_id: request.into(),
                status: None,
                error_type: None,
            })
        );
    }
}
