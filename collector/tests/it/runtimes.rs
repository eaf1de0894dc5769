//! One invocation per runtime and logger, written as each writes its lines
//! (shapes from the runtimes' and loggers' documentation and sources, cited per
//! test), and every platform line Lambda adds. Expected values are read off the
//! lines themselves.

use tracelake_collector::correlate::CorrelatedBatch;
use tracelake_collector::decode::DecodeLimits;
use tracelake_collector::index::rows::LogRow;
use tracelake_collector::pipeline::parse_and_correlate as correlate;

use super::support::*;

const REQUEST: &str = "0c5e1f6b-5d6e-4e0c-9f40-0d6a3f1e9a11";
const XRAY: &str = "1-6b0bf7a0-6f1d2c3b4a5968778695a4b3";
const TRACE: &str = "6b0bf7a06f1d2c3b4a5968778695a4b3";
/// 2026-11-29T10:00:05Z, the time the app lines below are written at.
const WRITTEN_MS: i64 = 1_795_946_405_000;

/// `lines` inside one invocation, START … END, REPORT with its X-Ray trace, with
/// CloudWatch times from 10:00:05 on.
fn invocation_of(lines: &[&str]) -> CorrelatedBatch {
    let mut messages = vec![format!("START RequestId: {REQUEST} Version: $LATEST")];
    messages.extend(lines.iter().map(|line| (*line).to_owned()));
    messages.push(format!("END RequestId: {REQUEST}"));
    messages.push(format!(
        "REPORT RequestId: {REQUEST}\tDuration: 9.01 ms\tBilled Duration: 10 ms\tMemory Size: 128 MB\tMax Memory Used: 30 MB\t\nXRAY TraceId: {XRAY}\tSegmentId: af5bb5155cd5d898\tSampled: true\t"
    ));
    correlate(
        batch_at(
            "/aws/lambda/runtime",
            "2026/11/29/[$LATEST]0205bea3ce36a4413ff1365a1667b4e8",
            &messages,
            WRITTEN_MS - 1,
        ),
        &DecodeLimits::default(),
    )
}

/// `lines` inside one invocation in Lambda's JSON log format: `platform.start`
/// (with the X-Ray context), the lines, a `platform.runtimeDone` with
/// `runtime_done` as its status when given, and a `platform.report` that says
/// `success`.
fn json_invocation_of(lines: &[&str], runtime_done: Option<&str>) -> CorrelatedBatch {
    let mut messages = vec![format!(
        r#"{{"time":"2026-11-29T10:00:05.000Z","type":"platform.start","record":{{"requestId":"{REQUEST}","version":"$LATEST","tracing":{{"spanId":"05ceba5cf4b8e3ca","type":"X-Amzn-Trace-Id","value":"Root={XRAY};Parent=b809dfb27645b7a9;Sampled=1"}}}}}}"#
    )];
    messages.extend(lines.iter().map(|line| (*line).to_owned()));
    if let Some(status) = runtime_done {
        messages.push(format!(
            r#"{{"time":"2026-11-29T10:00:05.130Z","type":"platform.runtimeDone","record":{{"requestId":"{REQUEST}","status":"{status}","metrics":{{"durationMs":129.5,"producedBytes":0}}}}}}"#
        ));
    }
    messages.push(format!(
        r#"{{"time":"2026-11-29T10:00:05.131Z","type":"platform.report","record":{{"requestId":"{REQUEST}","status":"success","metrics":{{"durationMs":129.9,"billedDurationMs":130,"memorySizeMB":128,"maxMemoryUsedMB":67}}}}}}"#
    ));
    correlate(
        batch_at(
            "/aws/lambda/runtime",
            "2026/11/29/[$LATEST]0205bea3ce36a4413ff1365a1667b4e8",
            &messages,
            WRITTEN_MS,
        ),
        &DecodeLimits::default(),
    )
}

/// The status and error type of the one invocation of `out`.
fn outcome(out: &CorrelatedBatch) -> (String, Option<String>) {
    assert_eq!(out.invocations.len(), 1, "{:#?}", out.invocations);
    let invocation = &out.invocations[0];
    (invocation.status.to_string(), invocation.error_type.clone())
}

fn row<'a>(out: &'a CorrelatedBatch, needle: &str) -> &'a LogRow {
    out.logs
        .iter()
        .find(|r| r.message.contains(needle))
        .unwrap_or_else(|| panic!("no row with {needle:?}: {:#?}", out.logs))
}

fn linked(row: &LogRow) -> bool {
    row.trace_id.map(|id| id.to_string()).as_deref() == Some(TRACE)
}

#[test]
fn java_log4j2_pattern_text_levels_and_crash_record() {
    // aws-lambda-java-log4j2 README: `%d{yyyy-MM-dd HH:mm:ss} %X{AWSRequestId} %-5p %c{1} - %m%n`;
    // the runtime's TextLogFormatter writes `[WARN] message`; an uncaught
    // exception is the JSON crash record.
    let log4j = format!("2026-11-29 10:00:05 {REQUEST} INFO  OrderHandler - order 7 stored");
    let out = invocation_of(&[
        &log4j,
        "[WARN] retrying the ledger call",
        r#"{"errorMessage":"ledger down","errorType":"java.lang.IllegalStateException","stackTrace":["example.OrderHandler.handleRequest(OrderHandler.java:42)"]}"#,
    ]);
    let stored = row(&out, "order 7 stored");
    assert_eq!(stored.format.to_string(), "java_text");
    assert_eq!(stored.level.map(|l| l.to_string()).as_deref(), Some("INFO"));
    assert_eq!(stored.request_id.as_deref(), Some(REQUEST));
    assert_eq!(stored.message, "OrderHandler - order 7 stored");
    assert!(linked(stored));
    let retry = row(&out, "retrying the ledger call");
    assert_eq!(retry.level.map(|l| l.to_string()).as_deref(), Some("WARN"));
    assert!(linked(retry), "linked by position");
    let crash = row(&out, "ledger down");
    assert_eq!(crash.level.map(|l| l.to_string()).as_deref(), Some("ERROR"));
    assert_eq!(
        crash.message,
        "java.lang.IllegalStateException: ledger down"
    );
    assert!(linked(crash));
    // The runtime's crash record is the handler's error; the REPORT says nothing.
    assert_eq!(
        outcome(&out),
        (
            "error".to_owned(),
            Some("java.lang.IllegalStateException".to_owned())
        )
    );
}

#[test]
fn go_slog_zerolog_panic_and_error_record() {
    // Go: `slog.NewTextHandler` writes logfmt; zerolog JSON with `time` in
    // seconds (TimeFormatUnix); aws-lambda-go reports a handler error as
    // `{"errorMessage":…,"errorType":…}`; an unrecovered panic prints `panic: …`.
    let out = invocation_of(&[
        r#"time=2026-11-29T10:00:05.004Z level=INFO msg="ledger synced" rows=12"#,
        r#"{"level":"warn","time":1795946405,"message":"slow ledger"}"#,
        r#"{"errorMessage":"record 7 missing","errorType":"errorString"}"#,
        "panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation]\n\ngoroutine 1 [running]:",
    ]);
    let slog = row(&out, "ledger synced");
    assert_eq!(slog.format.to_string(), "logfmt");
    assert_eq!(slog.level.map(|l| l.to_string()).as_deref(), Some("INFO"));
    assert_eq!(slog.timestamp_ns, (WRITTEN_MS + 4) * 1_000_000);
    assert!(
        slog.attributes
            .contains(&("rows".to_owned(), "12".to_owned()))
    );
    let zerolog = row(&out, "slow ledger");
    assert_eq!(
        zerolog.level.map(|l| l.to_string()).as_deref(),
        Some("WARN")
    );
    // Whole seconds are coarser than CloudWatch's ms: CloudWatch's time, same second.
    assert_eq!(zerolog.timestamp_ns / 1_000_000_000, WRITTEN_MS / 1_000);
    let error = row(&out, "record 7 missing");
    assert_eq!(error.level.map(|l| l.to_string()).as_deref(), Some("ERROR"));
    let panic = row(&out, "panic: runtime error");
    assert_eq!(panic.level.map(|l| l.to_string()).as_deref(), Some("ERROR"));
    assert!(out.logs.iter().all(linked));
}

#[test]
fn ruby_logger_lines_carry_the_request_id_as_progname() {
    // AWS docs, "Log and monitor Ruby Lambda functions": Logger lines with the
    // request id as progname.
    let line = format!("I, [2026-11-29T10:00:05.002345 #8]  INFO -- {REQUEST}: ## EVENT");
    let out = invocation_of(&[&line, "E, [2026-11-29T10:00:05.003000 #8] ERROR -- : boom"]);
    let info = row(&out, "## EVENT");
    assert_eq!(info.format.to_string(), "ruby_text");
    assert_eq!(info.request_id.as_deref(), Some(REQUEST));
    assert_eq!(info.message, "## EVENT");
    assert_eq!(info.timestamp_ns, WRITTEN_MS * 1_000_000 + 2_345_000);
    let boom = row(&out, "boom");
    assert_eq!(boom.level.map(|l| l.to_string()).as_deref(), Some("ERROR"));
    assert_eq!(boom.request_id, None);
    assert!(linked(info) && linked(boom));
}

#[test]
fn custom_runtime_rust_tracing_text_and_json() {
    // provided.al2023 with lambda_runtime and tracing-subscriber: the fmt layer's
    // `<ts>  INFO target: message` and the JSON layer's `fields.message`.
    let out = invocation_of(&[
        "2026-11-29T10:00:05.001234Z  INFO checkout::handler: priced cart 7",
        r#"{"timestamp":"2026-11-29T10:00:05.002Z","level":"ERROR","fields":{"message":"coupon rejected","code":503},"target":"checkout::coupons"}"#,
    ]);
    let text = row(&out, "priced cart 7");
    assert_eq!(text.format.to_string(), "text");
    assert_eq!(text.level.map(|l| l.to_string()).as_deref(), Some("INFO"));
    assert_eq!(text.timestamp_ns, WRITTEN_MS * 1_000_000 + 1_234_000);
    let json = out
        .logs
        .iter()
        .find(|r| r.message.contains("coupon rejected"))
        .expect("json row");
    assert_eq!(json.level.map(|l| l.to_string()).as_deref(), Some("ERROR"));
    assert!(linked(text) && linked(json));
}

#[test]
fn every_platform_line_has_a_level_and_stays_in_its_invocation() {
    let init_start = "INIT_START Runtime Version: java:21.v20\tRuntime Version ARN: arn:aws:lambda:eu-west-1::runtime:0123";
    let restore_start = "RESTORE_START Runtime Version: java:21.v20\tRuntime Version ARN: arn:aws:lambda:eu-west-1::runtime:0123";
    let restore_report = "RESTORE_REPORT Restore Duration: 571.67 ms";
    let extension = "EXTENSION\tName: datadog-agent\tState: Ready\tEvents: [INVOKE, SHUTDOWN]";
    let logs_subscription =
        "LOGS\tName: datadog-agent\tState: Subscribed\tTypes: [Platform, Function]";
    let telemetry = "TELEMETRY\tName: otel-layer\tState: Subscribed\tTypes: [Platform]";
    let dropped = r#"{"time":"2026-11-29T10:00:05.003Z","type":"platform.logsDropped","record":{"reason":"Consumer seems to have fallen behind as it has not acknowledged receipt of logs.","droppedRecords":123,"droppedBytes":12345}}"#;
    let init_failed = "INIT_REPORT Init Duration: 176.03 ms\tPhase: invoke\tStatus: error\tError Type: Runtime.ExitError";
    let exit = format!(
        "RequestId: {REQUEST} Error: Runtime exited with error: signal: killed\nRuntime.ExitError"
    );
    let timeout = format!("2026-11-29T10:00:08.000Z {REQUEST} Task timed out after 3.00 seconds");
    let out = invocation_of(&[
        init_start,
        restore_start,
        restore_report,
        extension,
        logs_subscription,
        telemetry,
        dropped,
        init_failed,
        &exit,
        &timeout,
    ]);
    let level = |needle: &str| row(&out, needle).level.map(|l| l.to_string());
    for info in [
        "INIT_START",
        "RESTORE_START",
        "RESTORE_REPORT",
        "EXTENSION",
        "LOGS\t",
        "TELEMETRY",
    ] {
        assert_eq!(level(info).as_deref(), Some("INFO"), "{info}");
        assert_eq!(
            row(&out, info).format.to_string(),
            "lambda_platform_text",
            "{info}"
        );
        assert!(linked(row(&out, info)), "{info} is inside the invocation");
    }
    assert_eq!(level("platform.logsDropped").as_deref(), Some("WARN"));
    assert_eq!(level("INIT_REPORT").as_deref(), Some("ERROR"));
    assert_eq!(level("signal: killed").as_deref(), Some("ERROR"));
    assert_eq!(level("Task timed out").as_deref(), Some("ERROR"));
    let invocation = &out.invocations[0];
    assert_eq!(invocation.status.to_string(), "timeout");
    assert_eq!(
        invocation.trace_id.map(|id| id.to_string()).as_deref(),
        Some(TRACE)
    );
}

#[test]
fn an_out_of_memory_report_is_an_error_with_its_type() {
    let report = format!(
        "REPORT RequestId: {REQUEST}\tDuration: 1102.37 ms\tBilled Duration: 1103 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\tStatus: error\tError Type: Runtime.OutOfMemory"
    );
    let out = correlate(
        batch_at("/aws/lambda/runtime", "s", &[report], WRITTEN_MS),
        &DecodeLimits::default(),
    );
    assert_eq!(out.invocations[0].status.to_string(), "error");
    assert_eq!(
        out.invocations[0].error_type.as_deref(),
        Some("Runtime.OutOfMemory")
    );
    assert_eq!(
        out.logs[0].level.map(|l| l.to_string()).as_deref(),
        Some("ERROR")
    );
}

#[test]
fn a_node_invoke_error_makes_its_invocation_an_error_with_its_type() {
    // The Node.js runtime interface client logs a handler's error as
    // `console.error("Invoke Error", <formatted error>)`; its REPORT says nothing.
    let out = invocation_of(&[
        &format!("2026-11-29T10:00:05.004Z\t{REQUEST}\tERROR\tcould not reach the cache"),
        &format!(
            "2026-11-29T10:00:05.120Z\t{REQUEST}\tERROR\tInvoke Error \t{{\"errorType\":\"ConditionalCheckFailedException\",\"errorMessage\":\"The conditional request failed\",\"stack\":[\"ConditionalCheckFailedException: The conditional request failed\",\"    at async Runtime.handler (file:///var/task/index.mjs:14:5)\"]}}"
        ),
    ]);
    assert_eq!(out.invocations.len(), 1);
    assert_eq!(out.invocations[0].status.to_string(), "error");
    assert_eq!(
        out.invocations[0].error_type.as_deref(),
        Some("ConditionalCheckFailedException")
    );
    // A `console.error` of the handler's own is a log line, not a failed invocation.
    let logged = invocation_of(&[&format!(
        "2026-11-29T10:00:05.004Z\t{REQUEST}\tERROR\tcould not reach the cache"
    )]);
    assert_eq!(logged.invocations[0].status.to_string(), "success");
    assert_eq!(logged.invocations[0].error_type, None);
}

#[test]
fn the_simulators_node_invoke_errors_are_stored_as_errors() {
    use tracelake_collector::decode::{Payload, decode_input};

    let run = small_simulation();
    let mut checked = 0;
    for delivery in &run.delivered.deliveries {
        for payload in decode_input(&delivery.payload, &DecodeLimits::default()) {
            let Ok(Payload::Data(batch)) = payload else {
                continue;
            };
            // (request id, errorType) of each `Invoke Error` line, read off the line.
            let errors: Vec<(String, String)> = batch
                .events
                .iter()
                .filter_map(|event| {
                    let mut fields = event.message.splitn(5, '\t');
                    let _time = fields.next()?;
                    let request_id = fields.next()?;
                    (fields.next()? == "ERROR" && fields.next()? == "Invoke Error ")
                        .then_some(())?;
                    let error: serde_json::Value = serde_json::from_str(fields.next()?).ok()?;
                    Some((
                        request_id.to_owned(),
                        error["errorType"].as_str()?.to_owned(),
                    ))
                })
                .collect();
            if errors.is_empty() {
                continue;
            }
            let out = correlate(batch, &DecodeLimits::default());
            for (request_id, error_type) in errors {
                // The REPORT may come in a later batch; check those in this one.
                if let Some(invocation) =
                    out.invocations.iter().find(|i| i.request_id == request_id)
                {
                    assert_eq!(invocation.status.to_string(), "error", "{request_id}");
                    if invocation.error_type.as_deref() != Some("Runtime.ExitError") {
                        assert_eq!(invocation.error_type.as_deref(), Some(error_type.as_str()));
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(
        checked > 0,
        "the simulation has Node invoke errors with their REPORT"
    );
}

/// awslambdaric 4.2.2 (`bootstrap.py`, `log_error`): in the text format the
/// handler's exception is one event `[ERROR] <type>: <message>` then the
/// traceback, with no request id (linked by position); in the JSON format a
/// record with `errorType`, `errorMessage`, `requestId`, `stackTrace` and no
/// `message`. Its REPORT says nothing of the error. A `logger.exception` record
/// of the JSON format (it has a `message` and a `logger`) is a handled error.
#[test]
fn a_python_handler_exception_makes_its_invocation_an_error_in_both_formats() {
    let text = invocation_of(&[
        &format!("[INFO]\t2026-11-29T10:00:05.010Z\t{REQUEST}\tsyncing 3 records\n"),
        "[ERROR] KeyError: 'S'\nTraceback (most recent call last):\n\u{a0}\u{a0}File \"/var/task/sync/handler.py\", line 35, in handler\n\u{a0}\u{a0}\u{a0}\u{a0}handle_record(record)\n",
    ]);
    assert_eq!(
        outcome(&text),
        ("error".to_owned(), Some("KeyError".to_owned()))
    );
    assert!(linked(row(&text, "[ERROR] KeyError")));

    let crash = format!(
        r#"{{"timestamp": "2026-11-29T10:00:05Z", "level": "ERROR", "errorMessage": "'S'", "errorType": "KeyError", "requestId": "{REQUEST}", "stackTrace": ["  File \"/var/task/sync/handler.py\", line 35, in handler\n    handle_record(record)\n"]}}"#
    );
    let json = json_invocation_of(&[&crash], None);
    assert_eq!(
        outcome(&json),
        ("error".to_owned(), Some("KeyError".to_owned()))
    );

    let handled = format!(
        r#"{{"timestamp": "2026-11-29T10:00:05Z", "level": "ERROR", "message": "record 7 skipped", "logger": "root", "stackTrace": ["  File \"/var/task/sync/handler.py\", line 35, in handler\n"], "errorType": "KeyError", "errorMessage": "'S'", "requestId": "{REQUEST}", "location": "/var/task/sync/handler.py:handler:35"}}"#
    );
    let logged = json_invocation_of(&[&handled], None);
    assert_eq!(outcome(&logged), ("success".to_owned(), None));
    assert_eq!(
        row(&logged, "record 7 skipped")
            .level
            .map(|level| level.to_string())
            .as_deref(),
        Some("ERROR")
    );
}

/// aws-lambda-ric 3.3.0 (`LogPatch`): with `AWS_LAMBDA_LOG_FORMAT=JSON` the
/// runtime writes a handler's error as `console.error(error)` does, the error
/// serialized as the `message`. A function's own `console.error(error)` writes
/// the same record, so a `platform.runtimeDone` saying `success` wins; without
/// one (or with a failed one) the invocation is an error with the record's type.
/// `console.error("text", error)` (a text message) is a handled error.
#[test]
fn a_node_json_format_invoke_error_is_an_error_unless_the_platform_says_success() {
    let invoke_error = format!(
        r#"{{"timestamp":"2026-11-29T10:00:05.120Z","level":"ERROR","requestId":"{REQUEST}","message":{{"errorType":"TypeError","errorMessage":"Cannot read properties of undefined (reading 'id')","stackTrace":["TypeError: Cannot read properties of undefined (reading 'id')","    at Runtime.handler (file:///var/task/index.mjs:7:28)"]}}}}"#
    );
    let type_error = ("error".to_owned(), Some("TypeError".to_owned()));
    assert_eq!(
        outcome(&json_invocation_of(&[&invoke_error], None)),
        type_error
    );
    assert_eq!(
        outcome(&json_invocation_of(&[&invoke_error], Some("error"))),
        type_error
    );
    assert_eq!(
        outcome(&json_invocation_of(&[&invoke_error], Some("success"))),
        ("success".to_owned(), None)
    );
    let handled = format!(
        r#"{{"timestamp":"2026-11-29T10:00:05.120Z","level":"ERROR","requestId":"{REQUEST}","message":"lookup failed TypeError: x\n    at lookup (file:///var/task/index.mjs:3:9)","errorType":"TypeError","errorMessage":"x","stackTrace":["TypeError: x","    at lookup (file:///var/task/index.mjs:3:9)"]}}"#
    );
    assert_eq!(
        outcome(&json_invocation_of(&[&handled], None)),
        ("success".to_owned(), None)
    );
}

/// `platform.runtimeDone`'s four statuses (the Telemetry API's `success`,
/// `error`, `failure`, `timeout`) against a `platform.report` that says
/// `success`: each sets the invocation status the index defines, with the
/// record's `errorType`.
#[test]
fn each_runtime_done_status_sets_the_invocation_status() {
    for (status, expected) in [
        ("success", "success"),
        ("error", "error"),
        ("failure", "error"),
        ("timeout", "timeout"),
    ] {
        let out = json_invocation_of(&[], Some(status));
        assert_eq!(outcome(&out).0, expected, "{status}");
        let done = row(&out, "platform.runtimeDone");
        let level = if status == "success" { "INFO" } else { "ERROR" };
        assert_eq!(
            done.level.map(|level| level.to_string()).as_deref(),
            Some(level),
            "{status}"
        );
    }
    // With its errorType (the simulator writes `failure` for a crash).
    let crashed = correlate(
        batch_at(
            "/aws/lambda/runtime",
            "s",
            &[
                format!(
                    r#"{{"time":"2026-11-29T10:00:05.130Z","type":"platform.runtimeDone","record":{{"requestId":"{REQUEST}","status":"failure","errorType":"Runtime.ExitError","metrics":{{"durationMs":129.5,"producedBytes":0}}}}}}"#
                ),
                format!(
                    r#"{{"time":"2026-11-29T10:00:05.131Z","type":"platform.report","record":{{"requestId":"{REQUEST}","status":"success","metrics":{{"durationMs":129.9,"billedDurationMs":130,"memorySizeMB":128,"maxMemoryUsedMB":67}}}}}}"#
                ),
            ],
            WRITTEN_MS,
        ),
        &DecodeLimits::default(),
    );
    assert_eq!(
        outcome(&crashed),
        ("error".to_owned(), Some("Runtime.ExitError".to_owned()))
    );
}

/// Go's `log` package (the simulator's plain-text services write it): the
/// line's time is read, no level is made up, and it is linked by position.
#[test]
fn go_standard_log_lines_keep_their_time_and_no_level() {
    let out = invocation_of(&["2026/11/29 10:00:05 cache warm, 12 keys"]);
    let line = row(&out, "cache warm, 12 keys");
    assert_eq!(line.format.to_string(), "go_log");
    assert_eq!(line.level, None);
    assert_eq!(line.message, "cache warm, 12 keys");
    // Whole seconds: CloudWatch's time stays, in the same second.
    assert_eq!(line.timestamp_ns / 1_000_000_000, WRITTEN_MS / 1_000);
    assert!(linked(line));
    assert_eq!(outcome(&out).0, "success");
}
