//! Every file of `../shared/fixtures/cloudwatch`, with expectations written by
//! reading the fixture.

use tracelake_collector::decode::{DecodeLimits, Payload, decode_input};
use tracelake_collector::index::rows::{InvocationRow, LogRow};
use tracelake_collector::pipeline::parse_and_correlate as correlate;
use tracelake_instrumentation::wire::ids::{TraceId, XrayHeader};

use super::support::*;

fn only_data(name: &str) -> tracelake_collector::decode::LogBatch {
    let payloads = decode_input(&fixture(name), &DecodeLimits::default());
    match payloads.as_slice() {
        [Ok(Payload::Data(batch))] => batch.clone(),
        other => panic!("{name}: expected one DATA_MESSAGE, got {other:?}"),
    }
}

fn invocation<'a>(rows: &'a [InvocationRow], request_id: &str) -> &'a InvocationRow {
    rows.iter()
        .find(|r| r.request_id == request_id)
        .unwrap_or_else(|| panic!("no invocation {request_id}"))
}

fn log_with<'a>(rows: &'a [LogRow], needle: &str) -> &'a LogRow {
    rows.iter()
        .find(|r| r.message.contains(needle))
        .unwrap_or_else(|| panic!("no log containing {needle:?}"))
}

#[test]
fn f01_lambda_event_and_f02_its_gunzip_decode_to_the_same_batch() {
    let wrapped = only_data("01_lambda_event_awslogs_wrapper.json");
    let decoded = only_data("02_cwl_decoded_data_message.json");
    assert_eq!(wrapped, decoded);
    assert_eq!(wrapped.owner, "123456789123");
    assert_eq!(wrapped.log_group, "testLogGroup");
    assert_eq!(wrapped.log_stream, "testLogStream");
    assert_eq!(wrapped.events.len(), 2);
    assert_eq!(wrapped.events[0].id, "eventId1");
    assert_eq!(wrapped.events[0].timestamp_ms, 1_440_442_987_000);
    assert_eq!(wrapped.events[1].message, "[ERROR] Second test message");
    // `[ERROR] ` without the Python runtime's tab is not the Python format: plain.
    let out = correlate(wrapped, &DecodeLimits::default());
    assert_eq!(out.logs.len(), 2);
    assert!(
        out.logs
            .iter()
            .all(|l| l.format == "plain" && l.trace_id.is_none())
    );
}

#[test]
fn f01_agrees_with_aws_lambda_events_own_types() {
    let event: aws_lambda_events::cloudwatch_logs::LogsEvent =
        serde_json::from_slice(&fixture("01_lambda_event_awslogs_wrapper.json"))
            .expect("aws_lambda_events reads 01");
    let ours = only_data("01_lambda_event_awslogs_wrapper.json");
    let theirs = event.aws_logs.data;
    assert_eq!(theirs.log_group, ours.log_group);
    assert_eq!(theirs.log_stream, ours.log_stream);
    assert_eq!(theirs.log_events.len(), ours.events.len());
    for (a, b) in theirs.log_events.iter().zip(&ours.events) {
        assert_eq!(
            (a.id.as_str(), a.timestamp, a.message.as_str()),
            (b.id.as_str(), b.timestamp_ms, b.message.as_str())
        );
    }
}

#[test]
fn f03_report_line_from_the_aws_docs() {
    let out = correlate(
        only_data("03_cwl_decoded_lambda_report_awsdocs.json"),
        &DecodeLimits::default(),
    );
    let report = invocation(&out.invocations, "6234bffe-149a-b642-81ff-2e8e376d8aff");
    assert_eq!(report.function, "echo-nodejs");
    assert_eq!(report.function_version.as_deref(), Some("$LATEST"));
    assert_eq!(report.duration_ms, 46.84);
    assert_eq!(report.billed_duration_ms, Some(47));
    assert_eq!(report.memory_size_mb, Some(192));
    assert_eq!(report.max_memory_used_mb, Some(72));
    assert!(!report.cold_start);
    assert_eq!(report.status.as_str(), "success");
    assert_eq!(report.end_time_ns, 1_552_518_348_220_000_000);
    assert_eq!(out.logs[0].format, "lambda_platform_text");
    assert_eq!(
        out.logs[0].event_id,
        "34622316099697884706540976068822859012661220141643892546"
    );
}

#[test]
fn f04_and_f04b_control_messages() {
    for name in [
        "04_cwl_control_message.json",
        "04b_cwl_control_message_gzip.b64",
    ] {
        let payloads = decode_input(&fixture(name), &DecodeLimits::default());
        assert!(
            matches!(payloads.as_slice(), [Ok(Payload::Control)]),
            "{name}: {payloads:?}"
        );
    }
}

#[test]
fn f05_account_level_policy_is_accepted() {
    let batch = only_data("05_cwl_account_level_policy.json");
    assert_eq!(batch.log_group, "Example1");
    assert_eq!(batch.events.len(), 3);
    let out = correlate(batch, &DecodeLimits::default());
    assert_eq!(out.logs.len(), 3);
    // The AWS sample's messages lack their closing brace: not JSON, kept as plain text.
    assert!(out.logs.iter().all(|l| l.format == "plain"));
    assert_eq!(
        out.logs[0].message,
        r#"{"eventVersion":"1.03","userIdentity":{"type":"Root"}"#
    );
}

#[test]
fn f06_extracted_fields_are_accepted() {
    let batch = only_data("06_cwl_extracted_fields_system.json");
    assert_eq!(
        batch.events[0].message,
        "Hello world, here is our first log message!"
    );
    let out = correlate(batch, &DecodeLimits::default());
    assert_eq!(out.logs[0].format, "plain");
    assert_eq!(out.logs[0].service.as_deref(), Some("test"));
}

#[test]
fn f07_platform_text_lines() {
    let messages = fixture_messages("07_lambda_platform_text.jsonl");
    let out = correlate(
        batch_of("/aws/lambda/fixture", "2026/11/29/[$LATEST]abc", &messages),
        &DecodeLimits::default(),
    );
    assert_eq!(
        out.logs.len(),
        messages.len(),
        "every platform line is also a log row"
    );
    assert!(out.logs.iter().all(|l| l.format == "lambda_platform_text"));

    let first = invocation(&out.invocations, "4ce9340a-b765-490f-ad8a-02ab3415e2bf");
    assert_eq!(first.duration_ms, 26.73);
    assert_eq!(first.billed_duration_ms, Some(27));
    assert_eq!(first.memory_size_mb, Some(128));
    assert_eq!(first.max_memory_used_mb, Some(75));
    assert!(!first.cold_start);
    assert_eq!(first.function_version.as_deref(), Some("$LATEST"));
    assert!(
        first.start_time_ns.is_some(),
        "START of the same request is in the batch"
    );

    let xray = invocation(&out.invocations, "f08bb4c8-d6b2-4f05-ac17-af7e2ba005fb");
    assert_eq!(
        xray.trace_id.map(|id| id.to_string()).as_deref(),
        Some("5e61292ccc1229a4dfbeae1043928548")
    );
    assert_eq!(xray.sampled, Some(true));
    assert_eq!(xray.duration_ms, 619.31);
    let xray_no_trailing_tab = invocation(&out.invocations, "814ba7cb-071e-4181-9a09-fa41db5bccad");
    assert_eq!(
        xray_no_trailing_tab
            .trace_id
            .map(|id| id.to_string())
            .as_deref(),
        Some("5d83c0adb8eb33a0b1de97d804fac890")
    );
    assert_eq!(xray_no_trailing_tab.max_memory_used_mb, Some(98));

    let cold = invocation(&out.invocations, "b947edca-4eed-4d1f-867a-69675d275389");
    assert!(cold.cold_start);
    assert_eq!(cold.init_duration_ms, Some(1017.49));

    let placeholder = invocation(&out.invocations, "c793869b-ee49-115b-a5b6-4fd21e8dedac");
    assert_eq!(
        placeholder.trace_id, None,
        "xmpl ids are not hex: kept as no trace"
    );
    assert_eq!(placeholder.init_duration_ms, Some(166.62));
    assert_eq!(placeholder.billed_duration_ms, Some(200));

    let import_error = invocation(&out.invocations, "57325a9d-ff5f-42e4-83df-80f3dcaaef25");
    assert_eq!(import_error.status.as_str(), "error");
    assert_eq!(
        import_error.error_type.as_deref(),
        Some("Runtime.ImportModuleError")
    );
    assert_eq!(import_error.memory_size_mb, Some(512));

    let oom = invocation(&out.invocations, "276ff3b9-1609-4ee7-a288-db3752630767");
    assert_eq!(oom.status.as_str(), "error");
    assert_eq!(oom.error_type.as_deref(), Some("Runtime.OutOfMemory"));
    assert_eq!(
        oom.trace_id.map(|id| id.to_string()).as_deref(),
        Some("6ac7d556032906e375c910cf42cb849e")
    );
    assert_eq!(oom.duration_ms, 10935.70);

    let timeout = invocation(&out.invocations, "5bc05270-6f3c-4ea8-85c2-a055f14a150e");
    assert_eq!(timeout.status.as_str(), "timeout");
    assert_eq!(timeout.duration_ms, 31000.0);
    assert_eq!(timeout.billed_duration_ms, Some(34440));
    assert_eq!(timeout.init_duration_ms, Some(3439.0));
    assert_eq!(out.invocations.len(), 8, "one row per REPORT line");

    let timed_out = log_with(&out.logs, "Task timed out after 3.00 seconds");
    assert_eq!(
        timed_out.request_id.as_deref(),
        Some("7c9567b5-107b-4a6c-8798-0157ac21db52")
    );
    assert_eq!(timed_out.level.map(|l| l.as_str()), Some("ERROR"));
    let killed = log_with(&out.logs, "Runtime exited with error: signal: killed");
    assert_eq!(
        killed.request_id.as_deref(),
        Some("2ea49a23-ff39-4bf5-8761-439f99b7c5f6")
    );
    let init = log_with(&out.logs, "INIT_REPORT Init Duration: 83.58 ms");
    assert_eq!(init.request_id, None);
    assert_eq!(init.trace_id, None);
}

#[test]
fn f07_timeout_line_marks_the_invocation_of_its_request() {
    let report = "REPORT RequestId: 7c9567b5-107b-4a6c-8798-0157ac21db52\tDuration: 3003.11 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 60 MB\t".to_owned();
    let timeout = fixture_messages("07_lambda_platform_text.jsonl")
        .into_iter()
        .find(|m| m.contains("7c9567b5") && m.contains("Task timed out"))
        .expect("fixture has the timeout line");
    let out = correlate(
        batch_of("/aws/lambda/f", "s", &[timeout, report]),
        &DecodeLimits::default(),
    );
    assert_eq!(out.invocations[0].status.as_str(), "timeout");
}

#[test]
fn f08_lambda_json_log_format() {
    let lines = fixture_lines("08_lambda_logformat_json_node.jsonl");
    // CloudWatch stamps each event when Lambda captures it: from the first
    // record's time on, as in the capture.
    let out = correlate(
        batch_at(
            "/aws/lambda/ColdStartPerfStack",
            "2024/05/20/[$LATEST]x",
            &lines,
            1_716_222_584_833,
        ),
        &DecodeLimits::default(),
    );
    assert_eq!(out.logs.len(), lines.len());
    let report = invocation(&out.invocations, "4b142fc3-17b8-4cdb-a46b-a8dbe7918715");
    assert_eq!(report.duration_ms, 11.642);
    assert_eq!(report.billed_duration_ms, Some(12));
    assert_eq!(report.memory_size_mb, Some(128));
    assert_eq!(report.max_memory_used_mb, Some(67));
    assert_eq!(report.init_duration_ms, Some(174.055));
    assert!(report.cold_start);
    assert_eq!(report.status.as_str(), "success");
    assert_eq!(report.function_version.as_deref(), Some("$LATEST"));
    let app = log_with(&out.logs, "ENV 2024-05-20T16:29:42.891Z");
    assert_eq!(app.format, "lambda_json");
    assert_eq!(app.level.map(|l| l.as_str()), Some("INFO"));
    assert_eq!(
        app.request_id.as_deref(),
        Some("4b142fc3-17b8-4cdb-a46b-a8dbe7918715")
    );
    assert_eq!(app.timestamp_ns, 1_716_222_585_009_000_000);
    let platform: Vec<&LogRow> = out
        .logs
        .iter()
        .filter(|l| l.format == "lambda_platform_json")
        .collect();
    assert_eq!(platform.len(), lines.len() - 1);
}

#[test]
fn f08b_platform_report_variants() {
    let messages = fixture_messages("08b_lambda_platform_report_json_variants.jsonl");
    let out = correlate(
        batch_of("/aws/lambda/f", "s", &messages),
        &DecodeLimits::default(),
    );
    let timeout = invocation(&out.invocations, "b441820a-ebe5-4d5f-93bc-f945707b0225");
    assert_eq!(timeout.status.as_str(), "timeout");
    assert_eq!(timeout.duration_ms, 30000.0);
    assert_eq!(timeout.billed_duration_ms, Some(30000));
    assert_eq!(timeout.max_memory_used_mb, Some(74));
    assert_eq!(timeout.init_duration_ms, Some(985.413));
    let managed = invocation(&out.invocations, "4f423807-598d-47ae-9652-4f7ee31d4d10");
    assert_eq!(managed.duration_ms, 2.524);
    assert_eq!(managed.billed_duration_ms, None);
    assert_eq!(managed.memory_size_mb, None);
    assert!(!managed.cold_start);
}

#[test]
fn f09_node_text_lines() {
    let messages = fixture_messages("09_node_text_app_logs.jsonl");
    let out = correlate(
        batch_at("/aws/lambda/node", "s", &messages, 1_583_425_836_113),
        &DecodeLimits::default(),
    );
    assert!(
        out.logs.iter().all(|l| l.format == "node_text"),
        "{:?}",
        out.logs
    );
    let debug = log_with(&out.logs, "Patched console output");
    assert_eq!(debug.level.map(|l| l.as_str()), Some("DEBUG"));
    assert_eq!(
        debug.request_id.as_deref(),
        Some("f08bb4c8-d6b2-4f05-ac17-af7e2ba005fb")
    );
    assert_eq!(debug.timestamp_ns, 1_583_425_836_113_000_000);
    let multi_line = log_with(&out.logs, "EVENT");
    assert_eq!(multi_line.message, "EVENT\n{\n  \"key\": \"value\"\n}");
    assert_eq!(multi_line.level.map(|l| l.as_str()), Some("INFO"));
    // Datadog's 64-bit ids in the text are not our trace ids: nothing links here.
    assert!(out.logs.iter().all(|l| l.trace_id.is_none()));
}

#[test]
fn f10_python_text_lines() {
    let messages = fixture_messages("10_python_text_app_logs.jsonl");
    let out = correlate(
        batch_of("/aws/lambda/py", "s", &messages),
        &DecodeLimits::default(),
    );
    let info = log_with(&out.logs, "No data changes in the table address");
    assert_eq!(info.format, "python_text");
    assert_eq!(info.level.map(|l| l.as_str()), Some("INFO"));
    assert_eq!(
        info.request_id.as_deref(),
        Some("b947edca-4eed-4d1f-867a-69675d275389")
    );
    let warning = log_with(&out.logs, "LAMBDA_WARNING");
    assert_eq!(warning.format, "python_text");
    assert_eq!(warning.level.map(|l| l.as_str()), Some("WARN"));
    assert_eq!(
        warning.request_id, None,
        "an empty request id field stays empty"
    );
}

#[test]
fn f11_python_json_app_record() {
    let lines = fixture_lines("11_python_json_app_log_CONSTRUCTED.json");
    let out = correlate(
        batch_at("/aws/lambda/py", "s", &lines, 1_749_041_182_643),
        &DecodeLimits::default(),
    );
    let row = &out.logs[0];
    assert_eq!(row.format, "lambda_json");
    assert_eq!(row.message, "No data changes in the table address");
    assert_eq!(
        row.request_id.as_deref(),
        Some("b947edca-4eed-4d1f-867a-69675d275389")
    );
    // The Python runtime's JSON `timestamp` is whole seconds (2025-06-04T12:46:22Z),
    // coarser than CloudWatch's milliseconds: the row takes CloudWatch's time,
    // which is within that second.
    assert_eq!(row.timestamp_ns, 1_749_041_182_643_000_000);
    assert_eq!(row.timestamp_ns / 1_000_000_000, 1_749_041_182);
    assert!(
        row.attributes
            .contains(&("logger".to_owned(), "root".to_owned()))
    );
}

#[test]
fn f12_powertools_records() {
    let records: Vec<serde_json::Value> =
        serde_json::from_str(&fixture_text("12_powertools_python_logger_output.json"))
            .expect("array");
    let mut lines: Vec<String> = records.iter().map(|r| r.to_string()).collect();
    let exception: serde_json::Value =
        serde_json::from_str(&fixture_text("12c_powertools_python_exception_output.json"))
            .expect("object");
    lines.push(exception.to_string());
    let out = correlate(
        batch_at("/aws/lambda/payment", "s", &lines, 1_620_042_432_494),
        &DecodeLimits::default(),
    );
    assert!(out.logs.iter().all(|l| l.format == "powertools"));
    let first = log_with(&out.logs, "Collecting payment");
    assert_eq!(first.service.as_deref(), Some("payment"));
    assert_eq!(
        first.request_id.as_deref(),
        Some("52fdfc07-2182-154f-163f-5f0f9a621d72")
    );
    assert_eq!(first.timestamp_ns, 1_620_042_432_494_000_000);
    assert!(
        first
            .attributes
            .contains(&("cold_start".to_owned(), "true".to_owned()))
    );
    let structured = log_with(&out.logs, "collect_payment");
    assert!(
        structured.message.contains("ch_AZFlk2345C0"),
        "a structured message is kept as json"
    );
    let error = log_with(&out.logs, "Received a HTTP 5xx error");
    assert_eq!(error.level.map(|l| l.as_str()), Some("ERROR"));
    assert!(
        error
            .attributes
            .contains(&("exception_name".to_owned(), "RuntimeError".to_owned()))
    );
}

#[test]
fn f12b_powertools_xray_trace_id_links_by_trace_id() {
    // 12b documents `xray_trace_id` with the example value 1-5759e988-bd862e3fe1be46a994272793.
    let keys = fixture_text("12b_powertools_keys.md");
    let example = keys
        .split(|c: char| c == '(' || c == ')' || c.is_whitespace())
        .find(|word| word.starts_with("1-") && word.len() == 35)
        .expect("12b shows an xray_trace_id example");
    let line = serde_json::json!({"level": "INFO", "location": "collect.handler:1", "message": "m",
        "timestamp": "2021-05-03 10:20:19,650+0000", "service": "payment", "xray_trace_id": example});
    let out = correlate(
        batch_of("/aws/lambda/payment", "s", &[line.to_string()]),
        &DecodeLimits::default(),
    );
    assert_eq!(
        out.logs[0].trace_id.map(|id| id.to_string()).as_deref(),
        Some("5759e988bd862e3fe1be46a994272793")
    );
    assert_eq!(out.logs[0].link.map(|l| l.as_str()), Some("trace_id"));
}

#[test]
fn f13_xray_headers_and_their_w3c_mapping() {
    let headers = fixture_lines("13_xray_trace_header.txt");
    assert_eq!(headers.len(), 7);
    for text in &headers {
        let header = XrayHeader::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let value = text.strip_prefix("X-Amzn-Trace-Id: ").unwrap_or(text);
        assert_eq!(
            header.to_string().to_lowercase(),
            value.to_lowercase(),
            "rewriting loses nothing"
        );
    }
    let first = XrayHeader::parse(&headers[0]).expect("first header");
    assert_eq!(
        first.root,
        TraceId::parse("5759e988bd862e3fe1be46a994272793").expect("w3c")
    );
    assert_eq!(
        first.parent.map(|p| p.to_string()).as_deref(),
        Some("53995c3f42cd8ad8")
    );
    assert_eq!(first.sampled, Some(true));
    let sampled_zero = XrayHeader::parse(&headers[2]).expect("third header");
    assert_eq!(sampled_zero.sampled, Some(false));
    let lineage = XrayHeader::parse(&headers[3]).expect("fourth header");
    assert_eq!(
        lineage.other,
        vec![("Lineage".to_owned(), "c6c5b1b9:0".to_owned())]
    );
    let unknown = XrayHeader::parse(&headers[6]).expect("last header");
    assert_eq!(unknown.sampled, None);
    assert_eq!(unknown.parent, None);
}

#[test]
fn f14_firehose_http_endpoint_request() {
    let batch = only_data("14_firehose_http_endpoint_request.json");
    assert_eq!(batch.owner, "111111111111");
    assert_eq!(batch.log_group, "test");
    assert_eq!(batch.events.len(), 2);
    assert_eq!(
        batch.events[0].id,
        "35683658089614582423604394983260738922885519999578275840"
    );
    let out = correlate(batch, &DecodeLimits::default());
    assert!(out.logs[1].message.contains("\"status\":502"));
}

#[test]
fn f14b_firehose_protocol_notes_name_the_body_we_decode() {
    // 14b is prose about the Firehose request; its one testable claim is that the
    // body's records[].data is base64(gzip(CloudWatch subscription JSON)).
    let notes = fixture_text("14b_firehose_http_endpoint_headers_and_response.txt");
    assert!(notes.contains("records[].data = base64(gzip(CloudWatch subscription JSON))"));
    let payloads = decode_input(
        &fixture("14_firehose_http_endpoint_request.json"),
        &DecodeLimits::default(),
    );
    assert!(matches!(payloads.as_slice(), [Ok(Payload::Data(_))]));
}

#[test]
fn every_fixture_file_is_covered_by_a_test_here() {
    let covered = [
        "01_", "02_", "03_", "04_", "04b_", "05_", "06_", "07_", "08_", "08b_", "09_", "10_",
        "11_", "12_", "12b_", "12c_", "13_", "14_", "14b_", "README",
    ];
    for entry in std::fs::read_dir(fixture_dir()).expect("fixture dir") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        assert!(
            covered.iter().any(|prefix| name.starts_with(prefix)),
            "fixture {name} has no test"
        );
    }
}

/// The resource a `TelemetryConfig` gives its spans, as the `spans` table
/// stores it (strings), sorted.
fn configured_resource(
    config: &tracelake_instrumentation::TelemetryConfig,
) -> Vec<(String, String)> {
    use tracelake_instrumentation::config::ResourceValue;
    let mut resource: Vec<(String, String)> = config
        .resource()
        .into_iter()
        .map(|(key, value)| {
            let value = match value {
                ResourceValue::Text(text) => text,
                ResourceValue::Int(number) => number.to_string(),
            };
            (key, value)
        })
        .collect();
    resource.sort();
    resource
}

/// F02 as a Lambda's delivery: a real function's compact span lines (format
/// `tracelake-2`, which leaves out the resource its log group and stream
/// imply) and a line of the format before it (gzip, whole resource) in the
/// DATA_MESSAGE of fixture 02. Every span comes out with its writer's whole
/// resource.
#[test]
fn f02_compact_span_lines_get_back_the_resource_their_writer_left_out() {
    use std::io::Write as _;

    use base64::Engine as _;
    use prost::Message as _;
    use tracelake_instrumentation::wire::span_line::{decode_span_line, is_span_line};
    use tracelake_instrumentation::{
        Invocation, LineBuffer, Output, SpanFormat, Telemetry, TelemetryConfig,
    };

    let log_group = "/aws/lambda/checkout-prod";
    let log_stream = "2026/11/29/[$LATEST]0123456789abcdef0123456789abcdef";
    let config = TelemetryConfig::new("checkout-prod")
        .with_function("checkout-prod", "$LATEST")
        .with_log_group(log_group)
        .with_log_stream(log_stream)
        .with_region("eu-west-1")
        .with_account_id("123456789012")
        .with_memory_mb(512)
        .with_resource_attribute("team", "payments")
        .with_span_format(SpanFormat::Compact);
    let buffer = LineBuffer::new();
    let telemetry = Telemetry::new(config.clone(), Output::buffer(&buffer)).expect("telemetry");
    for request in ["req-1", "req-2"] {
        let _ = telemetry.in_invocation(&Invocation::new(request), || -> Result<(), String> {
            let _child = tracing::info_span!("GetItem", db.system = "dynamodb").entered();
            Ok(())
        });
    }
    let mut lines: Vec<String> = buffer
        .take_lines()
        .into_iter()
        .filter(|line| is_span_line(line))
        .collect();
    assert_eq!(lines.len(), 2);
    // As written, the lines lack what the origin implies.
    let written = decode_span_line(&lines[0]).expect("compact line");
    let written_keys: Vec<&str> = written.resource_spans[0]
        .resource
        .as_ref()
        .expect("resource")
        .attributes
        .iter()
        .map(|kv| kv.key.as_str())
        .collect();
    for left_out in ["service.name", "faas.name", "faas.instance", "faas.version"] {
        assert!(!written_keys.contains(&left_out), "{written_keys:?}");
    }
    // The format before tracelake-2, as our writer wrote it: gzip, whole resource.
    let mut whole = written.clone();
    let old_resource = whole.resource_spans[0].resource.as_mut().expect("resource");
    old_resource.attributes.clear();
    for (key, value) in configured_resource(&config) {
        let value = if key == "faas.max_memory" {
            opentelemetry_proto::tonic::common::v1::any_value::Value::IntValue(
                value.parse().expect("int"),
            )
        } else {
            opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(value)
        };
        old_resource
            .attributes
            .push(opentelemetry_proto::tonic::common::v1::KeyValue {
                key,
                value: Some(opentelemetry_proto::tonic::common::v1::AnyValue {
                    value: Some(value),
                }),
                ..Default::default()
            });
    }
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(&whole.encode_to_vec()).expect("gzip");
    lines.push(format!(
        r#"{{"__otel_otlp_stdout":"0.1.0","source":"checkout-prod","content-type":"application/x-protobuf","content-encoding":"gzip","base64":true,"payload":"{}"}}"#,
        base64::engine::general_purpose::STANDARD.encode(gzip.finish().expect("gzip"))
    ));

    let mut message: serde_json::Value =
        serde_json::from_slice(&fixture("02_cwl_decoded_data_message.json")).expect("f02");
    message["logGroup"] = log_group.into();
    message["logStream"] = log_stream.into();
    message["logEvents"] = lines
        .iter()
        .enumerate()
        .map(|(index, line)| {
            serde_json::json!({"id": format!("e{index}"), "timestamp": 1_764_400_000_000i64 + index as i64, "message": line})
        })
        .collect();
    let payloads = decode_input(
        &serde_json::to_vec(&message).expect("json"),
        &DecodeLimits::default(),
    );
    let [Ok(Payload::Data(batch))] = payloads.as_slice() else {
        panic!("expected one DATA_MESSAGE, got {payloads:?}");
    };
    let out = correlate(batch.clone(), &DecodeLimits::default());
    assert!(out.quarantined.is_empty(), "{:?}", out.quarantined);
    assert_eq!(
        out.spans.len(),
        6,
        "two invocations of two spans, and the old line's two"
    );
    let expected = configured_resource(&config);
    for span in &out.spans {
        let mut resource = span.resource_attributes.clone();
        resource.sort();
        assert_eq!(resource, expected, "span {}", span.name);
        assert_eq!(span.service, "checkout-prod");
        assert_eq!(span.faas_name.as_deref(), Some("checkout-prod"));
    }
}

#[test]
fn a_document_read_in_one_pass_decodes_as_when_its_events_are_read_one_by_one() {
    let data = r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"logEvents":[{"id":"1","timestamp":5,"message":"hi"}]}"#;
    // Alone, each document takes the one-pass path (typed events); as JSON
    // lines, the second read, where each event is read from its raw JSON.
    let mut documents: Vec<String> = [
        "02_cwl_decoded_data_message.json",
        "03_cwl_decoded_lambda_report_awsdocs.json",
        "05_cwl_account_level_policy.json",
        "06_cwl_extracted_fields_system.json",
    ]
    .iter()
    .map(|name| {
        let value: serde_json::Value = serde_json::from_slice(&fixture(name)).expect("json");
        serde_json::to_string(&value).expect("one line")
    })
    .collect();
    documents.push(data.replace(r#""id":"1""#, r#""id":-12"#).replace(
        r#""message":"hi""#,
        r#""message":"tab\t \"quoted\" \u00e9 \ud83d\ude00""#,
    ));
    documents.push(data.replace(r#""id":"1""#, r#""id":1.5e3"#));
    documents.push(data.replace(r#""timestamp":5"#, r#""timestamp":1.7e12"#));
    let limits = DecodeLimits::default();
    for document in &documents {
        let alone = decode_input(document.as_bytes(), &limits);
        let lines = decode_input(format!("{document}\n{document}\n").as_bytes(), &limits);
        let (alone, lines): (Vec<_>, Vec<_>) = (
            alone.into_iter().map(Result::ok).collect(),
            lines.into_iter().map(Result::ok).collect(),
        );
        assert_eq!(alone.len(), 1, "{document}");
        assert!(matches!(alone[0], Some(Payload::Data(_))), "{document}");
        assert_eq!(lines, [alone[0].clone(), alone[0].clone()], "{document}");
    }
    let ids: Vec<String> = documents[documents.len() - 3..documents.len() - 1]
        .iter()
        .map(
            |document| match &decode_input(document.as_bytes(), &limits)[0] {
                Ok(Payload::Data(batch)) => batch.events[0].id.clone(),
                other => panic!("{other:?}"),
            },
        )
        .collect();
    assert_eq!(ids, ["-12", "1500.0"]);
}
