//! AWS SDK calls as CLIENT spans (feature `aws-sdk`), with real SDK clients
//! against moto_server (SQS, SNS, DynamoDB) and a loopback stub of Lambda's
//! Invoke REST API (moto's Lambda needs docker): the span's attributes, and the
//! context that reaches the receiver.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;

use aws_sdk_sqs::operation::RequestId as _;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use base64::Engine as _;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use tracelake_instrumentation::aws_sdk::AwsSdkInterceptor;
use tracelake_instrumentation::{Invocation, LineBuffer, Output, Telemetry, TelemetryConfig};
use tracelake_testkit::Moto;

use super::support::{attributes, hex, read};

/// An SDK client of `$sdk` for `endpoint`, with the interceptor.
macro_rules! client {
    ($sdk:ident, $endpoint:expr) => {
        $sdk::Client::from_conf(
            $sdk::Config::builder()
                .behavior_version_latest()
                .region($sdk::config::Region::new("eu-west-1"))
                .credentials_provider($sdk::config::Credentials::new(
                    "test", "test", None, None, "test",
                ))
                .endpoint_url($endpoint)
                .interceptor(AwsSdkInterceptor::new())
                .build(),
        )
    };
}

fn sqs_client(moto: &Moto) -> aws_sdk_sqs::Client {
    client!(aws_sdk_sqs, moto.endpoint())
}

/// A current-thread runtime and a telemetry of service `orders-api` writing
/// to a buffer.
fn setup() -> (tokio::runtime::Runtime, LineBuffer, Telemetry) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let buffer = LineBuffer::new();
    let telemetry = Telemetry::new(TelemetryConfig::new("orders-api"), Output::buffer(&buffer))
        .expect("telemetry");
    (runtime, buffer, telemetry)
}

/// Runs `call` inside an invocation (tracing caches whether a callsite is
/// enabled when it is first hit, and outside any invocation a test has no
/// subscriber: a Lambda has init()'s global one).
fn in_invocation<T, E: std::fmt::Debug + std::fmt::Display>(
    runtime: &tokio::runtime::Runtime,
    telemetry: &Telemetry,
    invocation: &Invocation,
    call: impl std::future::Future<Output = Result<T, E>>,
) -> T {
    runtime
        .block_on(telemetry.in_invocation_async(invocation, call))
        .unwrap_or_else(|error| panic!("{error:?}"))
}

/// The client span `name`, checked to be a child of the invocation span.
fn client_span<'a>(written: &'a super::support::Written, name: &str) -> &'a Span {
    child_client_span(written, written.span_named("orders-api"), name)
}

/// The client span `name`, checked to be a child of `root`.
fn child_client_span<'a>(
    written: &'a super::support::Written,
    root: &Span,
    name: &str,
) -> &'a Span {
    let call = written.span_named(name);
    assert_eq!(call.kind, SpanKind::Client as i32);
    assert_eq!(call.parent_span_id, root.span_id);
    assert_eq!(call.trace_id, root.trace_id);
    call
}

const XRAY: &str =
    "Root=1-6745aaaa-0123456789abcdef01234567;Parent=1111111111111111;Sampled=1;Lineage=a87bd80c:0";

#[test]
fn an_sqs_send_is_a_client_span_and_its_context_reaches_the_receiver() {
    let moto = Moto::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let buffer = LineBuffer::new();
    let telemetry = Telemetry::new(TelemetryConfig::new("orders-api"), Output::buffer(&buffer))
        .expect("telemetry");
    let sqs = sqs_client(&moto);
    // The queue is made inside an invocation too: tracing caches whether a
    // callsite is enabled when it is first hit, and outside any invocation
    // this test has no subscriber at all (a Lambda has init()'s global one).
    let queue_url = runtime
        .block_on(
            telemetry.in_invocation_async(&Invocation::new("req-0"), async {
                sqs.create_queue()
                    .queue_name("orders")
                    .send()
                    .await
                    .map_err(|error| format!("{error:?}"))
            }),
        )
        .expect("create queue")
        .queue_url
        .expect("queue url");
    let _ = buffer.take();

    let invocation = Invocation::new("req-1").with_xray_header(XRAY);
    let sent = runtime
        .block_on(telemetry.in_invocation_async(&invocation, async {
            sqs.send_message()
                .queue_url(&queue_url)
                .message_body("order o-42")
                .send()
                .await
                .map_err(|error| format!("{error:?}"))
        }))
        .expect("sent");
    let written = read(&buffer.take_lines());
    let root = written.span_named("orders-api");
    let call = written.span_named("SQS.SendMessage");
    let call_attributes = attributes(call);
    assert_eq!(call.kind, SpanKind::Client as i32);
    assert_eq!(call.parent_span_id, root.span_id);
    assert_eq!(call.trace_id, root.trace_id);
    assert_eq!(call_attributes["rpc.system"], "aws-api");
    assert_eq!(call_attributes["rpc.service"], "SQS");
    assert_eq!(call_attributes["rpc.method"], "SendMessage");
    assert_eq!(call_attributes["messaging.system"], "aws_sqs");
    assert_eq!(call_attributes["messaging.destination.name"], "orders");
    assert_eq!(
        Some(call_attributes["aws.request_id"].as_str()),
        sent.request_id(),
        "the span's request id is the one the SDK returned"
    );

    // The receiver sees the sending span as the parent.
    let received = runtime
        .block_on(
            sqs.receive_message()
                .queue_url(&queue_url)
                .message_attribute_names("All")
                .message_system_attribute_names(MessageSystemAttributeName::AwsTraceHeader)
                .send(),
        )
        .expect("receive");
    let message = &received.messages.expect("messages")[0];
    let traceparent = message.message_attributes.as_ref().expect("attributes")["traceparent"]
        .string_value
        .clone()
        .expect("string");
    assert_eq!(
        traceparent,
        format!("00-{}-{}-01", hex(&call.trace_id), hex(&call.span_id))
    );
    let xray = message.attributes.as_ref().expect("system attributes")
        [&MessageSystemAttributeName::AwsTraceHeader]
        .clone();
    assert!(
        xray.starts_with("Root=1-6745aaaa-0123456789abcdef01234567;Parent="),
        "{xray}"
    );
    assert!(xray.contains("Lineage=a87bd80c:0"), "{xray}");
}

#[test]
fn an_sns_publish_is_a_client_span_and_its_context_reaches_an_sqs_subscriber() {
    let moto = Moto::start();
    let (runtime, buffer, telemetry) = setup();
    let sns = client!(aws_sdk_sns, moto.endpoint());
    let sqs = sqs_client(&moto);
    let setup_invocation = Invocation::new("req-0");
    let topic_arn = in_invocation(
        &runtime,
        &telemetry,
        &setup_invocation,
        sns.create_topic().name("order-events").send(),
    )
    .topic_arn
    .expect("topic arn");
    let queue_url = in_invocation(
        &runtime,
        &telemetry,
        &setup_invocation,
        sqs.create_queue().queue_name("order-events-audit").send(),
    )
    .queue_url
    .expect("queue url");
    let queue_arn = in_invocation(
        &runtime,
        &telemetry,
        &setup_invocation,
        sqs.get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send(),
    )
    .attributes
    .expect("attributes")[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    in_invocation(
        &runtime,
        &telemetry,
        &setup_invocation,
        sns.subscribe()
            .topic_arn(&topic_arn)
            .protocol("sqs")
            .endpoint(&queue_arn)
            .send(),
    );
    let _ = buffer.take();

    let invocation = Invocation::new("req-1").with_xray_header(XRAY);
    let published = in_invocation(
        &runtime,
        &telemetry,
        &invocation,
        sns.publish()
            .topic_arn(&topic_arn)
            .message("order o-42 placed")
            .message_attributes(
                "kind",
                aws_sdk_sns::types::MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value("placed")
                    .build()
                    .expect("attribute"),
            )
            .send(),
    );
    let written = read(&buffer.take_lines());
    let call = client_span(&written, "SNS.Publish");
    let call_attributes = attributes(call);
    assert_eq!(call_attributes["rpc.system"], "aws-api");
    assert_eq!(call_attributes["rpc.service"], "SNS");
    assert_eq!(call_attributes["rpc.method"], "Publish");
    assert_eq!(call_attributes["messaging.system"], "aws_sns");
    assert_eq!(
        call_attributes["messaging.destination.name"],
        "order-events"
    );
    assert_eq!(
        Some(call_attributes["aws.request_id"].as_str()),
        aws_sdk_sns::operation::RequestId::request_id(&published),
        "the span's request id is the one the SDK returned"
    );

    // SNS delivers the notification envelope to the queue, with the message
    // attributes the publisher set: the caller's own and our traceparent.
    let received = runtime
        .block_on(sqs.receive_message().queue_url(&queue_url).send())
        .expect("receive");
    let message = &received.messages.expect("messages")[0];
    let envelope: serde_json::Value =
        serde_json::from_str(message.body.as_deref().expect("body")).expect("SNS envelope");
    assert_eq!(envelope["Message"], "order o-42 placed");
    assert_eq!(envelope["MessageAttributes"]["kind"]["Value"], "placed");
    assert_eq!(
        envelope["MessageAttributes"]["traceparent"]["Value"],
        format!("00-{}-{}-01", hex(&call.trace_id), hex(&call.span_id)),
        "{envelope}"
    );
}

/// The strings of an array attribute.
fn string_array(span: &Span, key: &str) -> Vec<String> {
    let value = span
        .attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|value| value.value.as_ref());
    match value {
        Some(AnyValue::ArrayValue(array)) => array
            .values
            .iter()
            .map(|value| match &value.value {
                Some(AnyValue::StringValue(text)) => text.clone(),
                other => panic!("{key} holds {other:?}"),
            })
            .collect(),
        other => panic!("{key} is {other:?}"),
    }
}

#[test]
fn dynamodb_calls_are_client_spans_naming_their_tables() {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
        ScalarAttributeType,
    };
    let moto = Moto::start();
    let (runtime, buffer, telemetry) = setup();
    let dynamodb = client!(aws_sdk_dynamodb, moto.endpoint());
    for table in ["orders", "order-lines"] {
        in_invocation(
            &runtime,
            &telemetry,
            &Invocation::new("req-0"),
            dynamodb
                .create_table()
                .table_name(table)
                .billing_mode(BillingMode::PayPerRequest)
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name("id")
                        .attribute_type(ScalarAttributeType::S)
                        .build()
                        .expect("definition"),
                )
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name("id")
                        .key_type(KeyType::Hash)
                        .build()
                        .expect("key"),
                )
                .send(),
        );
    }
    let _ = buffer.take();

    let invocation = Invocation::new("req-1").with_xray_header(XRAY);
    let put = in_invocation(
        &runtime,
        &telemetry,
        &invocation,
        dynamodb
            .put_item()
            .table_name("orders")
            .item("id", AttributeValue::S("o-42".into()))
            .send(),
    );
    let put_written = read(&buffer.take_lines());
    let key = || {
        aws_sdk_dynamodb::types::KeysAndAttributes::builder()
            .keys([("id".to_owned(), AttributeValue::S("o-42".into()))].into())
            .build()
            .expect("keys")
    };
    in_invocation(
        &runtime,
        &telemetry,
        &invocation,
        dynamodb
            .batch_get_item()
            .request_items("orders", key())
            .request_items("order-lines", key())
            .send(),
    );
    let batch_written = read(&buffer.take_lines());
    let call = client_span(&put_written, "DynamoDB.PutItem");
    let call_attributes = attributes(call);
    assert_eq!(call_attributes["rpc.system"], "aws-api");
    assert_eq!(call_attributes["rpc.service"], "DynamoDB");
    assert_eq!(call_attributes["rpc.method"], "PutItem");
    assert_eq!(call_attributes["db.system.name"], "aws.dynamodb");
    assert_eq!(call_attributes["http.response.status_code"], "200");
    assert_eq!(string_array(call, "aws.dynamodb.table_names"), ["orders"]);
    assert_eq!(
        Some(call_attributes["aws.request_id"].as_str()),
        aws_sdk_dynamodb::operation::RequestId::request_id(&put)
    );
    let batch = client_span(&batch_written, "DynamoDB.BatchGetItem");
    assert_eq!(
        string_array(batch, "aws.dynamodb.table_names"),
        ["order-lines", "orders"]
    );
}

/// What the Invoke stub received.
#[derive(Debug, Default)]
struct InvokeRequest {
    path: String,
    headers: std::collections::HashMap<String, String>,
    body: Vec<u8>,
}

/// A stub of Lambda's Invoke REST API on loopback: answers one request with
/// `request_id` as the callee's `x-amzn-RequestId` and hands the request back.
fn invoke_stub(request_id: &'static str) -> (u16, std::thread::JoinHandle<InvokeRequest>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("address").port();
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut head = Vec::new();
        loop {
            let mut line = Vec::new();
            reader.read_until(b'\n', &mut line).expect("read head");
            let done = line == b"\r\n" || line.is_empty();
            head.extend_from_slice(&line);
            if done {
                break;
            }
        }
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Request::new(&mut headers);
        parsed.parse(&head).expect("HTTP request");
        let mut request = InvokeRequest {
            path: parsed.path.unwrap_or_default().to_owned(),
            ..InvokeRequest::default()
        };
        for header in parsed.headers.iter() {
            request.headers.insert(
                header.name.to_ascii_lowercase(),
                String::from_utf8_lossy(header.value).into_owned(),
            );
        }
        let length: usize = request
            .headers
            .get("content-length")
            .and_then(|length| length.parse().ok())
            .unwrap_or(0);
        request.body = vec![0; length];
        reader.read_exact(&mut request.body).expect("read body");
        let answer = br#"{"status":"reserved"}"#;
        let mut stream = stream;
        write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-amzn-requestid: {request_id}\r\nx-amz-executed-version: $LATEST\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            answer.len()
        )
        .expect("write head");
        stream.write_all(answer).expect("write body");
        request
    });
    (port, handle)
}

#[test]
fn a_lambda_invoke_carries_the_trace_and_records_the_callees_request_id() {
    const CALLEE_REQUEST: &str = "9f3c2b1a-4d5e-4f60-8a7b-0c1d2e3f4a5b";
    let (port, stub) = invoke_stub(CALLEE_REQUEST);
    let (runtime, buffer, telemetry) = setup();
    let lambda = client!(aws_sdk_lambda, format!("http://127.0.0.1:{port}"));
    let invocation = Invocation::new("req-1").with_xray_header(XRAY);
    let invoked = in_invocation(
        &runtime,
        &telemetry,
        &invocation,
        lambda
            .invoke()
            .function_name("inventory-worker:prod")
            .payload(aws_smithy_types_blob(br#"{"order":"o-42"}"#))
            .send(),
    );
    let request = stub.join().expect("stub");
    assert_eq!(invoked.status_code, 200);
    assert_eq!(
        invoked.payload.as_ref().map(|blob| blob.as_ref()),
        Some(&br#"{"status":"reserved"}"#[..])
    );
    assert_eq!(request.body, br#"{"order":"o-42"}"#);
    assert!(
        request
            .path
            .starts_with("/2015-03-31/functions/inventory-worker%3Aprod/invocations"),
        "{}",
        request.path
    );

    let written = read(&buffer.take_lines());
    let call = client_span(&written, "Lambda.Invoke");
    let call_attributes = attributes(call);
    assert_eq!(call_attributes["rpc.system"], "aws-api");
    assert_eq!(call_attributes["rpc.service"], "Lambda");
    assert_eq!(call_attributes["rpc.method"], "Invoke");
    assert_eq!(call_attributes["faas.invoked_name"], "inventory-worker");
    assert_eq!(call_attributes["faas.invoked_provider"], "aws");
    assert_eq!(
        call_attributes["aws.request_id"], CALLEE_REQUEST,
        "the callee's request id, from the Invoke response"
    );

    // The callee's context: the X-Ray header Lambda reads, and the client
    // context's `custom` map its runtime hands to the handler.
    let traceparent = format!("00-{}-{}-01", hex(&call.trace_id), hex(&call.span_id));
    let xray = &request.headers["x-amzn-trace-id"];
    assert!(
        xray.starts_with(&format!(
            "Root=1-6745aaaa-0123456789abcdef01234567;Parent={};Sampled=1",
            hex(&call.span_id)
        )),
        "{xray}"
    );
    assert!(xray.contains("Lineage=a87bd80c:0"), "{xray}");
    assert_eq!(request.headers["traceparent"], traceparent);
    let client_context: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(&request.headers["x-amz-client-context"])
            .expect("base64 client context"),
    )
    .expect("JSON client context");
    assert_eq!(client_context["custom"]["traceparent"], traceparent);
    assert_eq!(client_context["custom"]["X-Amzn-Trace-Id"], xray.as_str());
}

fn aws_smithy_types_blob(bytes: &[u8]) -> aws_sdk_lambda::primitives::Blob {
    aws_sdk_lambda::primitives::Blob::new(bytes)
}

/// The function of [`sdk_calls_through_the_runtime_are_client_spans_of_the_invocation`],
/// run by a child process against the scripted Runtime API: SQS SendMessage,
/// SNS Publish, DynamoDB PutItem and GetItem on the event's `moto` endpoint
/// and a Lambda Invoke on its `invoke` endpoint, with the interceptor. It
/// answers with the request ids the SDK returned.
#[cfg(feature = "lambda-runtime")]
pub async fn sdk_calls(
    event: lambda_runtime::LambdaEvent<serde_json::Value>,
) -> Result<serde_json::Value, lambda_runtime::Error> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let field = |key: &str| {
        event.payload[key]
            .as_str()
            .unwrap_or_else(|| panic!("event without {key}"))
            .to_owned()
    };
    let failed = |error: &dyn std::fmt::Debug| format!("{error:?}");
    let sqs = client!(aws_sdk_sqs, field("moto"));
    let sent = sqs
        .send_message()
        .queue_url(field("queue_url"))
        .message_body("order o-42")
        .send()
        .await
        .map_err(|error| failed(&error))?;
    let sns = client!(aws_sdk_sns, field("moto"));
    let published = sns
        .publish()
        .topic_arn(field("topic_arn"))
        .message("order o-42 placed")
        .send()
        .await
        .map_err(|error| failed(&error))?;
    let dynamodb = client!(aws_sdk_dynamodb, field("moto"));
    let put = dynamodb
        .put_item()
        .table_name("orders")
        .item("id", AttributeValue::S("o-42".into()))
        .send()
        .await
        .map_err(|error| failed(&error))?;
    let got = dynamodb
        .get_item()
        .table_name("orders")
        .key("id", AttributeValue::S("o-42".into()))
        .send()
        .await
        .map_err(|error| failed(&error))?;
    let lambda = client!(aws_sdk_lambda, field("invoke"));
    let invoked = lambda
        .invoke()
        .function_name("inventory-worker:prod")
        .payload(aws_smithy_types_blob(br#"{"order":"o-42"}"#))
        .send()
        .await
        .map_err(|error| failed(&error))?;
    Ok(serde_json::json!({
        "SQS.SendMessage": sent.request_id(),
        "SNS.Publish": aws_sdk_sns::operation::RequestId::request_id(&published),
        "DynamoDB.PutItem": aws_sdk_dynamodb::operation::RequestId::request_id(&put),
        "DynamoDB.GetItem": aws_sdk_dynamodb::operation::RequestId::request_id(&got),
        "found": got.item.is_some(),
        "invoked_status": invoked.status_code,
    }))
}

/// The real `lambda_runtime` client runs [`sdk_calls`] for an invocation of
/// the scripted Runtime API; the spans come from the function's stdout.
#[cfg(feature = "lambda-runtime")]
#[test]
fn sdk_calls_through_the_runtime_are_client_spans_of_the_invocation() {
    use super::runtime_api::{Scripted, ScriptedRuntimeApi, run_child};
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    const CALLEE_REQUEST: &str = "0b7e4c2d-5a6f-4e81-9c3d-2f1a0e9b8c7d";
    let moto = Moto::start();
    let (port, stub) = invoke_stub(CALLEE_REQUEST);

    // The resources, made by this process (its spans are not looked at).
    let (runtime, _buffer, telemetry) = setup();
    let sqs = sqs_client(&moto);
    let sns = client!(aws_sdk_sns, moto.endpoint());
    let dynamodb = client!(aws_sdk_dynamodb, moto.endpoint());
    let setup_invocation = Invocation::new("req-0");
    let queue_url = in_invocation(
        &runtime,
        &telemetry,
        &setup_invocation,
        sqs.create_queue().queue_name("orders").send(),
    )
    .queue_url
    .expect("queue url");
    let topic_arn = in_invocation(
        &runtime,
        &telemetry,
        &setup_invocation,
        sns.create_topic().name("order-events").send(),
    )
    .topic_arn
    .expect("topic arn");
    in_invocation(
        &runtime,
        &telemetry,
        &setup_invocation,
        dynamodb
            .create_table()
            .table_name("orders")
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("id")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .expect("definition"),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("id")
                    .key_type(KeyType::Hash)
                    .build()
                    .expect("key"),
            )
            .send(),
    );

    let event = serde_json::json!({
        "moto": moto.endpoint(),
        "queue_url": queue_url,
        "topic_arn": topic_arn,
        "invoke": format!("http://127.0.0.1:{port}"),
    });
    let api =
        ScriptedRuntimeApi::start([Scripted::new("req-sdk", event.to_string()).with_xray(XRAY)]);
    let run = run_child("sdk_calls", &api, &[]);
    let answers = api.answers();
    assert_eq!(answers.len(), 1, "stderr: {}", run.stderr);
    assert_eq!(answers[0].kind, "response", "{answers:?}");
    let answer: serde_json::Value = serde_json::from_str(&answers[0].body).expect("JSON answer");
    assert_eq!(answer["found"], true, "GetItem read what PutItem wrote");
    assert_eq!(answer["invoked_status"], 200);
    let request = stub.join().expect("stub");

    let written = read(&run.stdout);
    let root = written
        .spans
        .iter()
        .find(|span| {
            attributes(span)
                .get("faas.invocation_id")
                .map(String::as_str)
                == Some("req-sdk")
        })
        .unwrap_or_else(|| panic!("no invocation span: {:?}", written.names()));
    assert_eq!(hex(&root.trace_id), "6745aaaa0123456789abcdef01234567");
    // (span, rpc.service, rpc.method, the service's own attributes)
    type Expected<'a> = (&'a str, &'a str, &'a str, &'a [(&'a str, &'a str)]);
    let expected: [Expected; 5] = [
        (
            "SQS.SendMessage",
            "SQS",
            "SendMessage",
            &[
                ("messaging.system", "aws_sqs"),
                ("messaging.destination.name", "orders"),
            ],
        ),
        (
            "SNS.Publish",
            "SNS",
            "Publish",
            &[
                ("messaging.system", "aws_sns"),
                ("messaging.destination.name", "order-events"),
            ],
        ),
        (
            "DynamoDB.PutItem",
            "DynamoDB",
            "PutItem",
            &[("db.system.name", "aws.dynamodb")],
        ),
        (
            "DynamoDB.GetItem",
            "DynamoDB",
            "GetItem",
            &[("db.system.name", "aws.dynamodb")],
        ),
        (
            "Lambda.Invoke",
            "Lambda",
            "Invoke",
            &[
                ("faas.invoked_name", "inventory-worker"),
                ("faas.invoked_provider", "aws"),
                ("aws.request_id", CALLEE_REQUEST),
            ],
        ),
    ];
    for (name, service, method, specific) in expected {
        let call = child_client_span(&written, root, name);
        let call_attributes = attributes(call);
        assert_eq!(call_attributes["rpc.system"], "aws-api", "{name}");
        assert_eq!(call_attributes["rpc.service"], service, "{name}");
        assert_eq!(call_attributes["rpc.method"], method, "{name}");
        for (key, value) in specific {
            assert_eq!(call_attributes[*key], *value, "{name} {key}");
        }
        if name.starts_with("DynamoDB") {
            assert_eq!(string_array(call, "aws.dynamodb.table_names"), ["orders"]);
        }
        if name != "Lambda.Invoke" {
            assert_eq!(
                answer[name], call_attributes["aws.request_id"],
                "{name}: the span's request id is the one the SDK returned"
            );
        }
    }

    // The receivers: the SQS message's attributes and the Invoke's client
    // context name the CLIENT span, in the invocation's trace.
    let traceparent_of = |name: &str| {
        let call = written.span_named(name);
        format!("00-{}-{}-01", hex(&call.trace_id), hex(&call.span_id))
    };
    let received = runtime
        .block_on(
            sqs.receive_message()
                .queue_url(&queue_url)
                .message_attribute_names("All")
                .send(),
        )
        .expect("receive");
    let message = &received.messages.expect("messages")[0];
    assert_eq!(message.body.as_deref(), Some("order o-42"));
    assert_eq!(
        message.message_attributes.as_ref().expect("attributes")["traceparent"]
            .string_value
            .as_deref(),
        Some(traceparent_of("SQS.SendMessage").as_str())
    );
    let client_context: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(&request.headers["x-amz-client-context"])
            .expect("base64 client context"),
    )
    .expect("JSON client context");
    let invoke_traceparent = traceparent_of("Lambda.Invoke");
    assert!(
        invoke_traceparent.starts_with("00-6745aaaa0123456789abcdef01234567-"),
        "{invoke_traceparent}"
    );
    assert_eq!(client_context["custom"]["traceparent"], invoke_traceparent);
    assert!(
        client_context["custom"]["X-Amzn-Trace-Id"]
            .as_str()
            .is_some_and(|xray| xray.starts_with("Root=1-6745aaaa-0123456789abcdef01234567;")),
        "{client_context}"
    );
}
