//! Failed invocations and sampling decisions, through the real runtime path.

use std::collections::HashMap;

use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use serde_json::Value;

use super::runtime_api::{Scripted, ScriptedRuntimeApi, run_child};
use super::support::{attribute_text, hex, read};

const TRACE: &str = "6745aaaa0123456789abcdef01234567";

fn xray(sampled: &str) -> String {
    format!(
        "Root=1-{}-{};Parent=1111111111111111;Sampled={sampled}",
        &TRACE[..8],
        &TRACE[8..]
    )
}

#[test]
fn errors_and_panics_are_reported_in_full_and_the_runtime_lines_are_linked() {
    let api = ScriptedRuntimeApi::start([
        Scripted::new("req-fail", r#"{"action":"fail"}"#).with_xray(&xray("1")),
        Scripted::new("req-panic", r#"{"action":"panic"}"#).with_xray(&xray("1")),
        Scripted::new("req-ok", r#"{"action":"send"}"#).with_xray(&xray("1")),
    ]);
    let run = run_child("fails_or_sends", &api, &[]);
    let answers: HashMap<String, _> = api
        .answers()
        .into_iter()
        .map(|answer| (answer.request_id.clone(), answer))
        .collect();
    assert_eq!(answers.len(), 3, "stderr: {}", run.stderr);
    assert_eq!(answers["req-fail"].kind, "error");
    assert_eq!(answers["req-panic"].kind, "error");
    assert_eq!(answers["req-ok"].kind, "response");

    let written = read(&run.stdout);
    let invocation = |request: &str| {
        written
            .spans
            .iter()
            .find(|span| {
                span.attributes.iter().any(|kv| {
                    kv.key == "faas.invocation_id" && attribute_text(&kv.value) == request
                })
            })
            .unwrap_or_else(|| panic!("no span for {request}"))
    };

    let failed = invocation("req-fail");
    assert_eq!(
        failed.status.as_ref().unwrap().code,
        StatusCode::Error as i32
    );
    let exception: HashMap<String, String> = failed
        .events
        .iter()
        .find(|event| event.name == "exception")
        .expect("exception event")
        .attributes
        .iter()
        .map(|kv| (kv.key.clone(), attribute_text(&kv.value)))
        .collect();
    // The error's own name, not `Box<dyn Error>`.
    assert_eq!(exception["exception.type"], "LoadFailed");
    assert_eq!(exception["exception.message"], "could not load the cart");
    assert!(
        exception["exception.stacktrace"].contains("0: cart.json missing"),
        "{exception:?}"
    );

    let panicked = invocation("req-panic");
    let panic_event = panicked
        .events
        .iter()
        .find(|event| event.name == "exception")
        .expect("panic recorded");
    assert!(
        panic_event
            .attributes
            .iter()
            .any(|kv| attribute_text(&kv.value).contains("the cart exploded"))
    );

    // lambda_runtime's own ERROR lines about the failure name the invocation
    // and its trace, although they are written after our span has ended.
    for (request, needle, span) in [
        ("req-fail", "LoadFailed", failed),
        ("req-panic", "user handler panicked", panicked),
    ] {
        let line = written
            .logs
            .iter()
            .find(|log| {
                log["level"] == "ERROR"
                    && log.get("message").and_then(Value::as_str).is_some_and(|m| {
                        m.contains(needle)
                            || log
                                .values()
                                .any(|v| v.as_str().is_some_and(|t| t.contains(needle)))
                    })
            })
            .unwrap_or_else(|| panic!("no runtime error line for {request}: {:?}", written.logs));
        assert_eq!(line["request_id"], request, "{line:?}");
        assert_eq!(line["trace_id"], hex(&span.trace_id), "{line:?}");
        assert_eq!(line["span_id"], hex(&span.span_id), "{line:?}");
    }
}

/// The context a function sends on keeps the sampling decision it was given,
/// with one `Sampled` key.
#[test]
fn outgoing_headers_honour_the_incoming_sampling_decision() {
    let deferred = format!(
        r#"{{"action":"send","X-Amzn-Trace-Id":"Root=1-{}-{};Parent=2222222222222222;Sampled=?;Lineage=a87bd80c:0"}}"#,
        &TRACE[..8],
        &TRACE[8..]
    );
    let api = ScriptedRuntimeApi::start([
        Scripted::new("req-sampled", r#"{"action":"send"}"#).with_xray(&xray("1")),
        Scripted::new("req-unsampled", r#"{"action":"send"}"#).with_xray(&xray("0")),
        Scripted::new("req-deferred", deferred),
    ]);
    let run = run_child("fails_or_sends", &api, &[]);
    let answers: HashMap<String, Value> = api
        .answers()
        .into_iter()
        .map(|answer| {
            (
                answer.request_id.clone(),
                serde_json::from_str(&answer.body).expect("json answer"),
            )
        })
        .collect();
    assert_eq!(answers.len(), 3, "stderr: {}", run.stderr);
    let sent = |request: &str| {
        let answer = &answers[request];
        (
            answer["x-amzn-trace-id"].as_str().unwrap().to_owned(),
            answer["traceparent"].as_str().unwrap().to_owned(),
        )
    };
    let count = |header: &str| header.matches("Sampled=").count();

    let (xray_out, traceparent) = sent("req-sampled");
    assert!(
        xray_out.contains(";Sampled=1") && count(&xray_out) == 1,
        "{xray_out}"
    );
    assert!(traceparent.starts_with(&format!("00-{TRACE}-")) && traceparent.ends_with("-01"));

    let (xray_out, traceparent) = sent("req-unsampled");
    assert!(
        xray_out.contains(";Sampled=0") && count(&xray_out) == 1,
        "{xray_out}"
    );
    assert!(traceparent.ends_with("-00"), "{traceparent}");

    let (xray_out, traceparent) = sent("req-deferred");
    assert!(
        xray_out.contains(";Sampled=?") && count(&xray_out) == 1,
        "{xray_out}"
    );
    assert!(xray_out.contains("Lineage=a87bd80c:0"), "{xray_out}");
    assert!(
        traceparent.starts_with(&format!("00-{TRACE}-")),
        "{traceparent}"
    );

    // Unsampled or not, every invocation's spans are written.
    let written = read(&run.stdout);
    assert_eq!(
        written
            .spans
            .iter()
            .filter(|span| span
                .attributes
                .iter()
                .any(|kv| kv.key == "faas.invocation_id"))
            .count(),
        3
    );
}

/// A W3C parent's sampled flag is passed on as it came, in `traceparent` and
/// as the X-Ray header's one `Sampled` key, whatever the Lambda's own X-Ray
/// header says (the event's context is the parent).
#[test]
fn outgoing_headers_honour_the_w3c_flags_of_the_parent() {
    let input = |flags: &str| {
        format!(r#"{{"action":"send","traceparent":"00-{TRACE}-2222222222222222-{flags}"}}"#)
    };
    let api = ScriptedRuntimeApi::start([
        Scripted::new("req-w3c-unsampled", input("00")).with_xray(&xray("1")),
        Scripted::new("req-w3c-sampled", input("01")).with_xray(&xray("0")),
    ]);
    let run = run_child("fails_or_sends", &api, &[]);
    let answers: HashMap<String, Value> = api
        .answers()
        .into_iter()
        .map(|answer| {
            (
                answer.request_id.clone(),
                serde_json::from_str(&answer.body).expect("json answer"),
            )
        })
        .collect();
    assert_eq!(answers.len(), 2, "stderr: {}", run.stderr);
    for (request, flags, sampled) in [
        ("req-w3c-unsampled", "00", "Sampled=0"),
        ("req-w3c-sampled", "01", "Sampled=1"),
    ] {
        let traceparent = answers[request]["traceparent"].as_str().unwrap();
        let xray_out = answers[request]["x-amzn-trace-id"].as_str().unwrap();
        assert!(
            traceparent.starts_with(&format!("00-{TRACE}-")) && traceparent.ends_with(flags),
            "{request}: {traceparent}"
        );
        assert!(
            xray_out.contains(sampled) && xray_out.matches("Sampled=").count() == 1,
            "{request}: {xray_out}"
        );
    }
}

/// An X-Ray header that names a trace and a decision but no parent segment
/// (`Root=…;Sampled=0`, as the first hop of a request writes it) is an
/// unsampled trace: the invocation continues it and passes `Sampled=0` on.
#[test]
fn a_parentless_xray_header_keeps_its_sampling_decision() {
    let input = |sampled: &str| {
        format!(
            r#"{{"action":"send","X-Amzn-Trace-Id":"Root=1-{}-{};Sampled={sampled}"}}"#,
            &TRACE[..8],
            &TRACE[8..]
        )
    };
    let api = ScriptedRuntimeApi::start([
        Scripted::new("req-rootonly-unsampled", input("0")),
        Scripted::new("req-rootonly-sampled", input("1")),
    ]);
    let run = run_child("fails_or_sends", &api, &[]);
    let answers: HashMap<String, Value> = api
        .answers()
        .into_iter()
        .map(|answer| {
            (
                answer.request_id.clone(),
                serde_json::from_str(&answer.body).expect("json answer"),
            )
        })
        .collect();
    assert_eq!(answers.len(), 2, "stderr: {}", run.stderr);
    for (request, flags, sampled) in [
        ("req-rootonly-unsampled", "-00", "Sampled=0"),
        ("req-rootonly-sampled", "-01", "Sampled=1"),
    ] {
        let traceparent = answers[request]["traceparent"].as_str().unwrap();
        let xray_out = answers[request]["x-amzn-trace-id"].as_str().unwrap();
        assert!(
            traceparent.starts_with(&format!("00-{TRACE}-")) && traceparent.ends_with(flags),
            "{request}: {traceparent}"
        );
        assert!(
            xray_out.contains(sampled) && xray_out.matches("Sampled=").count() == 1,
            "{request}: {xray_out}"
        );
    }
}
