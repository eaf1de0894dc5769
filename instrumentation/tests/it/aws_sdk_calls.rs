//! AWS SDK calls as CLIENT spans (feature `aws-sdk`), with a real SDK client
//! against moto_server: the span's attributes, and the context that reaches
//! the receiver.

use aws_sdk_sqs::operation::RequestId as _;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use tracelake_instrumentation::aws_sdk::AwsSdkInterceptor;
use tracelake_instrumentation::{Invocation, LineBuffer, Output, Telemetry, TelemetryConfig};
use tracelake_testkit::Moto;

use super::support::{attributes, hex, read};

fn sqs_client(moto: &Moto) -> aws_sdk_sqs::Client {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_sqs::config::Region::new("eu-west-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .endpoint_url(moto.endpoint())
        .interceptor(AwsSdkInterceptor::new())
        .build();
    aws_sdk_sqs::Client::from_conf(config)
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
