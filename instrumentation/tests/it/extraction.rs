//! Context extraction from the real sample events that ship with
//! `aws_lambda_events`, and inject → extract round trips for every carrier.

use std::collections::HashMap;
use std::path::PathBuf;

use aws_lambda_events::event::alb::AlbTargetGroupRequest;
use aws_lambda_events::event::apigw::{ApiGatewayProxyRequest, ApiGatewayV2httpRequest};
use aws_lambda_events::event::dynamodb;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::kinesis::KinesisEvent;
use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlRequest;
use aws_lambda_events::event::sns::SnsEvent;
use aws_lambda_events::event::sqs::SqsEvent;
use serde_json::Value;
use tracelake_instrumentation::propagation::extract::{
    ExtractContext, Extracted, client_context_context, invoke_input_context,
};
use tracelake_instrumentation::propagation::inject::OutgoingContext;
use tracelake_instrumentation::propagation::{ContextSource, TraceContext};
use tracelake_instrumentation::wire::ids::{SpanId, TraceId};
use tracelake_instrumentation::{
    Invocation, InvocationKind, LineBuffer, Output, Telemetry, TelemetryConfig, Trigger,
};

use super::support::{hex, read};

/// The fixtures directory of the `aws_lambda_events` crate in the cargo registry.
fn fixtures_dir() -> PathBuf {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .expect("CARGO_HOME or HOME");
    let registry = cargo_home.join("registry").join("src");
    for index in std::fs::read_dir(&registry).expect("cargo registry sources") {
        let index = index.expect("registry entry").path();
        let mut versions: Vec<PathBuf> = std::fs::read_dir(&index)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| {
                path.file_name()
                    .and_then(|name| name.to_str())
                    .is_some_and(|name| name.starts_with("aws_lambda_events-1."))
            })
            .collect();
        versions.sort();
        if let Some(latest) = versions.pop() {
            return latest.join("src").join("fixtures");
        }
    }
    panic!(
        "aws_lambda_events sources not found under {}",
        registry.display()
    );
}

fn fixture(name: &str) -> String {
    let path = fixtures_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn typed<T: serde::de::DeserializeOwned>(text: &str) -> T {
    serde_json::from_str(text).expect("sample event decodes")
}

/// A context as a sending function would inject it.
fn sender() -> OutgoingContext {
    OutgoingContext {
        trace_id: TraceId(0x6745_0d2a_0123_4567_89ab_cdef_0123_4567),
        span_id: SpanId(0x1122_3344_5566_7788),
        sampled: true,
        trace_state: Some("vendor=v1".to_owned()),
        xray_extra: vec![("Lineage".to_owned(), "a87bd80c:1".to_owned())],
    }
}

fn assert_parent_is_sender(extracted: &Extracted) {
    let parent = extracted.parent.as_ref().expect("parent");
    assert_eq!(parent.trace_id, sender().trace_id);
    assert_eq!(parent.span_id, Some(sender().span_id));
    assert_eq!(parent.source, ContextSource::W3c);
    assert_eq!(parent.trace_state.as_deref(), Some("vendor=v1"));
}

/// The same extraction through `serde_json::Value`'s detection.
fn detected(text: &str) -> Extracted {
    let value: Value = serde_json::from_str(text).expect("json");
    value.extract_context()
}

#[test]
fn api_gateway_rest_requests() {
    let text = fixture("example-apigw-request.json");
    let mut request: ApiGatewayProxyRequest = typed(&text);
    let extracted = request.extract_context();
    assert_eq!(extracted.trigger, Trigger::Http);
    assert_eq!(extracted.kind, InvocationKind::Server);
    assert_eq!(extracted.span_name.as_deref(), Some("POST /{proxy+}"));
    assert!(extracted.parent.is_none());
    assert_eq!(detected(&text), extracted);

    sender().inject_http_headers(&mut request.headers);
    let extracted = request.extract_context();
    assert_parent_is_sender(&extracted);
    let round_trip = serde_json::to_string(&request).expect("encode");
    assert_eq!(detected(&round_trip), extracted);
}

#[test]
fn api_gateway_http_requests_read_xray_then_traceparent() {
    let text = fixture("example-apigw-v2-request-no-authorizer.json");
    let mut request: ApiGatewayV2httpRequest = typed(&text);
    let extracted = request.extract_context();
    assert_eq!(extracted.trigger, Trigger::Http);
    // routeKey is `$default`: the name is the method alone.
    assert_eq!(extracted.span_name.as_deref(), Some("GET"));
    let parent = extracted.parent.as_ref().expect("x-amzn-trace-id");
    assert_eq!(parent.source, ContextSource::Xray);
    assert_eq!(
        parent.trace_id.to_string(),
        "5e9f0c651de4d666d4dd26aced652b6c"
    );
    assert_eq!(parent.span_id, None);
    assert_eq!(detected(&text), extracted);

    request.route_key = Some("GET /orders/{id}".to_owned());
    sender().inject_http_headers(&mut request.headers);
    let extracted = request.extract_context();
    assert_eq!(extracted.span_name.as_deref(), Some("GET /orders/{id}"));
    assert_parent_is_sender(&extracted);
}

#[test]
fn alb_requests() {
    let text = fixture("example-alb-lambda-target-request-headers-only.json");
    let mut request: AlbTargetGroupRequest = typed(&text);
    let extracted = request.extract_context();
    assert_eq!(extracted.span_name.as_deref(), Some("GET"));
    let parent = extracted.parent.as_ref().expect("x-amzn-trace-id");
    assert_eq!(
        parent.trace_id.to_string(),
        "5c34e93e4dea0086f9763ac0667b115a"
    );
    assert_eq!(detected(&text), extracted);
    sender().inject_http_headers(&mut request.headers);
    assert_parent_is_sender(&request.extract_context());

    let multi = fixture("example-alb-lambda-target-request-multivalue-headers.json");
    let request: AlbTargetGroupRequest = typed(&multi);
    assert_eq!(detected(&multi), request.extract_context());
}

#[test]
fn function_url_requests() {
    // No Function URL sample ships with aws_lambda_events; its payload is the
    // HTTP API v2 payload with a `lambda-url` domain, so the v2 sample is used
    // with that domain.
    let mut value: Value =
        serde_json::from_str(&fixture("example-apigw-v2-request-no-authorizer.json"))
            .expect("json");
    value["requestContext"]["domainName"] =
        Value::from("abcdefghijklmnop.lambda-url.eu-west-1.on.aws");
    let mut request: LambdaFunctionUrlRequest =
        serde_json::from_value(value.clone()).expect("function url request");
    let extracted = request.extract_context();
    assert_eq!(extracted.trigger, Trigger::Http);
    assert_eq!(value.extract_context(), extracted);
    sender().inject_http_headers(&mut request.headers);
    assert_parent_is_sender(&request.extract_context());
}

#[test]
fn sqs_batches_get_a_link_per_message_and_a_parent_only_when_shared() {
    let text = fixture("example-sqs-event.json");
    let mut event: SqsEvent = typed(&text);
    assert_eq!(event.records.len(), 1);
    let extracted = event.extract_context();
    assert_eq!(extracted.trigger, Trigger::PubSub);
    assert_eq!(extracted.kind, InvocationKind::Consumer);
    assert_eq!(extracted.span_name.as_deref(), Some("process SQSQueue"));
    assert!(extracted.parent.is_none() && extracted.links.is_empty());
    assert_eq!(detected(&text), extracted);

    // Two messages from the same sender: parent plus a link each.
    let second = event.records[0].clone();
    event.records.push(second);
    for record in &mut event.records {
        sender().inject_sqs_message(record);
    }
    let extracted = event.extract_context();
    assert_parent_is_sender(&extracted);
    assert_eq!(extracted.links.len(), 2);
    assert!(
        extracted
            .attributes
            .contains(&("messaging.batch.message_count".to_owned(), 2i64.into()))
    );

    // Two senders: no parent, a link to each.
    let mut other = sender();
    other.span_id = SpanId(0x99);
    other.inject_sqs_message(&mut event.records[1]);
    let extracted = event.extract_context();
    assert!(extracted.parent.is_none());
    assert_eq!(extracted.links.len(), 2);
    assert_eq!(extracted.links[1].span_id, Some(SpanId(0x99)));

    // Only the X-Ray system attribute (a sender without W3C propagation).
    let mut xray_only: SqsEvent = typed(&text);
    xray_only.records[0].attributes.insert(
        "AWSTraceHeader".to_owned(),
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1".to_owned(),
    );
    xray_only.records.truncate(1);
    let parent = xray_only.extract_context().parent.expect("AWSTraceHeader");
    assert_eq!(parent.source, ContextSource::Xray);
    assert_eq!(parent.span_id, SpanId::parse("53995c3f42cd8ad8").ok());
}

#[test]
fn sns_records() {
    let text = fixture("example-sns-event.json");
    let mut event: SnsEvent = typed(&text);
    let extracted = event.extract_context();
    assert_eq!(extracted.span_name.as_deref(), Some("process snsNetTest"));
    assert_eq!(extracted.kind, InvocationKind::Consumer);
    assert_eq!(detected(&text), extracted);
    sender().inject_sns_message(&mut event.records[0].sns);
    assert_parent_is_sender(&event.extract_context());
    let round_trip = serde_json::to_string(&event).expect("encode");
    assert_parent_is_sender(&detected(&round_trip));
}

#[test]
fn eventbridge_detail_and_schedules() {
    let text = fixture("example-eventbridge-event-obj.json");
    let mut event: EventBridgeEvent<Value> = typed(&text);
    let extracted = event.extract_context();
    assert_eq!(extracted.trigger, Trigger::PubSub);
    assert_eq!(
        extracted.span_name.as_deref(),
        Some("process EC2 Instance State-change Notification")
    );
    assert_eq!(detected(&text), extracted);
    sender().inject_json(&mut event.detail);
    assert_parent_is_sender(&event.extract_context());

    let schedule = fixture("example-eventbridge-schedule.json");
    let extracted = detected(&schedule);
    assert_eq!(extracted.trigger, Trigger::Timer);
    assert_eq!(extracted.kind, InvocationKind::Server);
}

#[test]
fn kinesis_records_carry_context_in_json_data() {
    let text = fixture("example-kinesis-event.json");
    let mut event: KinesisEvent = typed(&text);
    let extracted = event.extract_context();
    // The sample's data is "Hello World": no context, and no failure.
    assert!(extracted.parent.is_none());
    assert_eq!(
        extracted.span_name.as_deref(),
        Some("process simple-stream")
    );
    assert_eq!(detected(&text), extracted);

    let mut body = serde_json::json!({ "order": 42 });
    sender().inject_json(&mut body);
    for record in &mut event.records {
        record.kinesis.data.0 = serde_json::to_vec(&body).expect("json");
    }
    assert_parent_is_sender(&event.extract_context());
}

#[test]
fn dynamodb_stream_records_carry_context_in_the_image() {
    let text = fixture("example-dynamodb-event.json");
    let event: dynamodb::Event = typed(&text);
    let extracted = event.extract_context();
    assert_eq!(extracted.trigger, Trigger::Datasource);
    assert_eq!(extracted.kind, InvocationKind::Consumer);
    assert_eq!(
        extracted.span_name.as_deref(),
        Some("process Example-Table")
    );
    assert!(extracted.parent.is_none());
    assert_eq!(detected(&text), extracted);

    // The writer stored the context with the item; the stream record shows it.
    let mut value: Value = serde_json::from_str(&text).expect("json");
    for record in value["Records"].as_array_mut().expect("records") {
        if let Some(image) = record["dynamodb"]["NewImage"].as_object_mut() {
            sender().inject_dynamodb_item(image);
        }
    }
    let event: dynamodb::Event = serde_json::from_value(value.clone()).expect("event");
    assert_parent_is_sender(&event.extract_context());
    assert_parent_is_sender(&value.extract_context());
}

#[test]
fn step_functions_input_and_client_context() {
    let mut input = serde_json::json!({ "orderId": "o-1", "items": [1, 2] });
    assert!(invoke_input_context(&input).parent.is_none());
    sender().inject_json(&mut input);
    let extracted = input.extract_context();
    assert_eq!(extracted.trigger, Trigger::Other);
    assert_parent_is_sender(&extracted);

    let mut custom = HashMap::new();
    custom.insert(
        "X-Amzn-Trace-Id".to_owned(),
        "Root=1-5759e988-bd862e3fe1be46a994272793;Lineage=0badf00d:2".to_owned(),
    );
    sender().inject_client_context(&mut custom);
    let context = client_context_context(&custom).expect("client context");
    assert_eq!(context.trace_id, sender().trace_id);
    let xray = TraceContext::from_xray(&custom["X-Amzn-Trace-Id"]).expect("xray");
    assert_eq!(xray.trace_id, sender().trace_id);
    assert_eq!(
        xray.xray_extra,
        vec![("Lineage".to_owned(), "a87bd80c:1".to_owned())]
    );
}

#[test]
fn context_flows_from_one_handler_to_the_next_through_sqs() {
    let buffer = LineBuffer::new();
    let api = Telemetry::new(TelemetryConfig::new("api"), Output::buffer(&buffer)).expect("api");
    let worker =
        Telemetry::new(TelemetryConfig::new("worker"), Output::buffer(&buffer)).expect("worker");
    let xray = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:0";

    let mut event: SqsEvent = typed(&fixture("example-sqs-event.json"));
    event.records.truncate(1);
    let _ = api.in_invocation(
        &Invocation::new("api-1").with_xray_header(xray),
        || -> Result<(), String> {
            let _send = tracing::info_span!("send order", otel.kind = "producer").entered();
            let outgoing = OutgoingContext::current().ok_or("no context")?;
            assert_eq!(
                outgoing.xray_extra,
                vec![("Lineage".to_owned(), "a87bd80c:0".to_owned())]
            );
            outgoing.inject_sqs_message(&mut event.records[0]);
            Ok(())
        },
    );
    let invocation = Invocation::new("worker-1")
        .with_xray_header(
            "Root=1-6745aaaa-bd862e3fe1be46a994272793;Parent=1111111111111111;Sampled=1",
        )
        .with_extracted(event.extract_context());
    let _ = worker.in_invocation(&invocation, || -> Result<(), String> {
        tracing::info!("processing");
        Ok(())
    });

    let written = read(&buffer.take_lines());
    let send = written.span_named("send order");
    let process = written.span_named("process SQSQueue");
    assert_eq!(process.trace_id, send.trace_id);
    assert_eq!(process.parent_span_id, send.span_id);
    assert_eq!(hex(&process.trace_id), "5759e988bd862e3fe1be46a994272793");
    // The worker's own X-Ray context is kept as a link.
    assert!(
        process
            .links
            .iter()
            .any(|link| hex(&link.trace_id) == "6745aaaabd862e3fe1be46a994272793")
    );
    let line = written
        .logs
        .iter()
        .find(|line| line["message"] == "processing")
        .expect("worker log");
    assert_eq!(line["trace_id"], "5759e988bd862e3fe1be46a994272793");
}
