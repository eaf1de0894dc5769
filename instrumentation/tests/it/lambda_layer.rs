//! The lambda_runtime layer around real handler services.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::tower::{Layer as _, Service as _, ServiceExt as _};
use lambda_runtime::{LambdaEvent, service_fn};
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use serde_json::{Value, json};
use tracelake_instrumentation::lambda::{TracingLayer, test_context};
use tracelake_instrumentation::propagation::inject::OutgoingContext;
use tracelake_instrumentation::wire::ids::{SpanId, TraceId};
use tracelake_instrumentation::{LineBuffer, Output, Telemetry, TelemetryConfig};

use super::support::{attributes, hex, read};

const ARN: &str = "arn:aws:lambda:eu-west-1:123456789012:function:orders-worker";
const XRAY: &str = "Root=1-6745aaaa-0123456789abcdef01234567;Parent=1111111111111111;Sampled=1";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
}

fn telemetry() -> (Telemetry, LineBuffer) {
    let buffer = LineBuffer::new();
    let config = TelemetryConfig::new("orders-worker").with_function("orders-worker", "$LATEST");
    let telemetry = Telemetry::new(config, Output::buffer(&buffer)).expect("telemetry");
    (telemetry, buffer)
}

async fn worker(event: LambdaEvent<SqsEvent>) -> Result<usize, lambda_runtime::Error> {
    for record in &event.payload.records {
        let _span = tracing::info_span!("handle message").entered();
        tracing::info!(
            message_id = record.message_id.as_deref(),
            "handling message"
        );
    }
    if event.payload.records.is_empty() {
        return Err("empty batch".into());
    }
    Ok(event.payload.records.len())
}

fn sqs_event_from(sender: &OutgoingContext) -> SqsEvent {
    let mut message = aws_lambda_events::event::sqs::SqsMessage::default();
    message.message_id = Some("m-1".to_owned());
    message.event_source_arn = Some("arn:aws:sqs:eu-west-1:123456789012:orders".to_owned());
    sender.inject_sqs_message(&mut message);
    let mut event = SqsEvent::default();
    event.records.push(message);
    event
}

#[test]
fn the_layer_wraps_each_invocation_and_flushes_before_returning() {
    let (telemetry, buffer) = telemetry();
    let mut service = TracingLayer::new(telemetry).layer(service_fn(worker));
    let sender = OutgoingContext {
        trace_id: TraceId(0x6745_0000_1111_2222_3333_4444_5555_6666),
        span_id: SpanId(0xabcd),
        sampled: true,
        trace_state: None,
        xray_extra: Vec::new(),
    };
    let runtime = runtime();
    for request in ["r-1", "r-2"] {
        let event = LambdaEvent::new(
            sqs_event_from(&sender),
            test_context(request, Some(XRAY), ARN),
        );
        let answer = runtime.block_on(async {
            let ready = service.ready().await.expect("ready");
            ready.call(event).await
        });
        assert_eq!(answer.expect("handled"), 1);
        // Everything is on the output by the time the response is back.
        let written = read(&buffer.take_lines());
        let root = written.span_named("process orders");
        assert_eq!(root.kind, SpanKind::Consumer as i32);
        assert_eq!(root.trace_id, sender.trace_id.0.to_be_bytes().to_vec());
        assert_eq!(hex(&root.parent_span_id), "000000000000abcd");
        let root_attributes = attributes(root);
        assert_eq!(root_attributes["faas.trigger"], "pubsub");
        assert_eq!(root_attributes["faas.invocation_id"], request);
        assert_eq!(root_attributes["aws.lambda.invoked_arn"], ARN);
        assert_eq!(root_attributes["cloud.account.id"], "123456789012");
        assert_eq!(root_attributes["messaging.system"], "aws_sqs");
        assert_eq!(
            root_attributes["faas.coldstart"],
            if request == "r-1" { "true" } else { "false" }
        );
        // The Lambda's X-Ray context is a link.
        let linked: Vec<String> = root.links.iter().map(|link| hex(&link.trace_id)).collect();
        assert!(
            linked.contains(&"6745aaaa0123456789abcdef01234567".to_owned()),
            "{linked:?}"
        );
        assert!(
            linked.contains(&hex(&root.trace_id)),
            "the message is linked too"
        );
        let child = written.span_named("handle message");
        assert_eq!(child.parent_span_id, root.span_id);
        assert_eq!(written.logs.len(), 1);
        assert_eq!(written.logs[0]["request_id"], request);
        assert_eq!(written.logs[0]["span_id"], hex(&child.span_id));
        assert_eq!(written.logs[0]["message_id"], "m-1");
    }
}

#[test]
fn handler_errors_and_panics_keep_their_spans() {
    let (telemetry, buffer) = telemetry();
    let runtime = runtime();
    let mut failing = TracingLayer::new(telemetry.clone()).layer(service_fn(worker));
    let event = LambdaEvent::new(SqsEvent::default(), test_context("r-err", Some(XRAY), ARN));
    let answer = runtime.block_on(failing.call(event));
    assert!(answer.is_err());
    let written = read(&buffer.take_lines());
    let root = &written.spans[0];
    let status = root.status.as_ref().expect("status");
    assert_eq!(status.code, StatusCode::Error as i32);
    assert_eq!(status.message, "empty batch");
    // No context in the event: the X-Ray context is the parent.
    assert_eq!(hex(&root.trace_id), "6745aaaa0123456789abcdef01234567");
    assert_eq!(hex(&root.parent_span_id), "1111111111111111");

    let mut panicking =
        TracingLayer::new(telemetry).layer(service_fn(|_event: LambdaEvent<Value>| async move {
            let _span = tracing::info_span!("doomed").entered();
            tracing::error!("about to panic");
            if true {
                panic!("unreachable state");
            }
            Ok::<Value, lambda_runtime::Error>(json!({}))
        }));
    let event = LambdaEvent::new(json!({"orderId": 1}), test_context("r-panic", None, ARN));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(panicking.call(event))
    }));
    assert!(outcome.is_err());
    let written = read(&buffer.take_lines());
    assert_eq!(written.spans.len(), 2, "{:?}", written.names());
    let root = written.span_named("orders-worker");
    assert!(
        root.status
            .as_ref()
            .is_some_and(|status| status.message.contains("unreachable state"))
    );
    assert_eq!(written.logs[0]["request_id"], "r-panic");
}

#[test]
fn a_service_that_panics_when_called_still_writes_its_span() {
    let (telemetry, buffer) = telemetry();
    // The panic is in `call` itself, before any future exists.
    let mut panicking = TracingLayer::new(telemetry).layer(service_fn(
        |_event: LambdaEvent<Value>| -> std::future::Ready<Result<Value, lambda_runtime::Error>> {
            tracing::warn!("building the future");
            panic!("bad wiring")
        },
    ));
    let event = LambdaEvent::new(
        json!({"orderId": 2}),
        test_context("r-call", Some(XRAY), ARN),
    );
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| panicking.call(event)));
    let payload = outcome.expect_err("the panic is resumed");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"bad wiring"));
    let written = read(&buffer.take_lines());
    assert_eq!(written.spans.len(), 1, "{:?}", written.names());
    let root = written.span_named("orders-worker");
    let status = root.status.as_ref().expect("status");
    assert_eq!(status.code, StatusCode::Error as i32);
    assert!(status.message.contains("bad wiring"), "{}", status.message);
    assert_eq!(hex(&root.parent_span_id), "1111111111111111");
    assert_eq!(written.logs[0]["request_id"], "r-call");
}

#[test]
fn each_message_of_a_batch_gets_a_child_span_linked_to_its_sender() {
    let (telemetry, buffer) = telemetry();
    let senders: Vec<OutgoingContext> = (1..=3u64)
        .map(|index| OutgoingContext {
            trace_id: TraceId(0x6745_0000_0000_0000_0000_0000_0000_0000 | u128::from(index)),
            span_id: SpanId(index),
            sampled: true,
            trace_state: None,
            xray_extra: Vec::new(),
        })
        .collect();
    let mut event = SqsEvent::default();
    for sender in &senders {
        event.records.extend(sqs_event_from(sender).records);
    }
    let invocation = tracelake_instrumentation::lambda::invocation_for(
        &event,
        &test_context("batch", Some(XRAY), ARN),
    );
    let _ = telemetry.in_invocation(&invocation, || -> Result<(), String> {
        tracelake_instrumentation::messages::for_each_sqs_message(&event, |_| {
            tracing::info!("one message");
        });
        Ok(())
    });
    let written = read(&buffer.take_lines());
    let root = written.span_named("process orders");
    // Three senders: no parent from the messages, so the X-Ray context is the parent.
    assert_eq!(hex(&root.trace_id), "6745aaaa0123456789abcdef01234567");
    assert_eq!(root.links.len(), 3);
    let children: Vec<_> = written
        .spans
        .iter()
        .filter(|span| span.name == "process message")
        .collect();
    assert_eq!(children.len(), 3);
    for (child, sender) in children.iter().zip(&senders) {
        assert_eq!(child.parent_span_id, root.span_id);
        assert_eq!(child.kind, SpanKind::Consumer as i32);
        assert_eq!(child.links.len(), 1);
        assert_eq!(
            child.links[0].span_id,
            sender.span_id.0.to_be_bytes().to_vec()
        );
    }
    let log_spans: Vec<&serde_json::Value> =
        written.logs.iter().map(|line| &line["span_id"]).collect();
    for child in children {
        assert!(log_spans.contains(&&serde_json::Value::from(hex(&child.span_id))));
    }
}

/// The `exception` event of the one span written with a failed invocation.
fn exception_of(lines: &[String]) -> std::collections::HashMap<String, String> {
    let written = read(lines);
    let root = written
        .spans
        .iter()
        .find(|span| {
            span.status
                .as_ref()
                .is_some_and(|s| s.code == StatusCode::Error as i32)
        })
        .expect("a failed span");
    root.events
        .iter()
        .find(|event| event.name == "exception")
        .expect("exception event")
        .attributes
        .iter()
        .map(|kv| (kv.key.clone(), super::support::attribute_text(&kv.value)))
        .collect()
}

#[test]
fn a_handler_whose_error_is_only_a_diagnostic_is_reported() {
    // lambda_runtime asks a handler's error for `Into<Diagnostic> + Debug`
    // only: `Diagnostic` itself has no `Display`.
    async fn reject(_: LambdaEvent<Value>) -> Result<Value, lambda_runtime::Diagnostic> {
        Err(lambda_runtime::Diagnostic {
            error_type: "OrderRejected".into(),
            error_message: "order o-3 is over the limit".into(),
        })
    }
    let (telemetry, buffer) = telemetry();
    let mut service = TracingLayer::new(telemetry)
        .with_debug_errors()
        .layer(service_fn(reject));
    let event = LambdaEvent::new(json!({}), test_context("r-1", Some(XRAY), ARN));
    let answer =
        runtime().block_on(async { service.ready().await.expect("ready").call(event).await });
    assert_eq!(answer.unwrap_err().error_type, "OrderRejected");
    let exception = exception_of(&buffer.take_lines());
    assert_eq!(exception["exception.type"], "OrderRejected");
    assert_eq!(
        exception["exception.message"],
        "order o-3 is over the limit"
    );
}

#[test]
fn an_anyhow_handler_error_reports_its_context_chain() {
    use anyhow::Context as _;
    async fn load(_: LambdaEvent<Value>) -> Result<Value, anyhow::Error> {
        let read: Result<String, std::io::Error> = Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "cart.json missing",
        ));
        let cart = read.context("loading the cart")?;
        Ok(json!(cart))
    }
    let (telemetry, buffer) = telemetry();
    let mut service = TracingLayer::new(telemetry).layer(service_fn(load));
    let event = LambdaEvent::new(json!({}), test_context("r-1", Some(XRAY), ARN));
    let answer =
        runtime().block_on(async { service.ready().await.expect("ready").call(event).await });
    assert!(answer.is_err());
    let exception = exception_of(&buffer.take_lines());
    assert_eq!(exception["exception.type"], "std::io::Error");
    assert_eq!(exception["exception.message"], "loading the cart");
    assert_eq!(
        exception["exception.stacktrace"],
        "loading the cart\n\nCaused by:\n    0: cart.json missing"
    );
}
