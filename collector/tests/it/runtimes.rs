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
