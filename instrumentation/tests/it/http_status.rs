//! HTTP triggers through the real runtime path: the caller's context, and the
//! response status on the invocation span, for API Gateway REST and HTTP APIs,
//! ALB and Function URLs.

use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use serde_json::Value;

use super::runtime_api::{Scripted, ScriptedRuntimeApi, run_child};
use super::support::{attributes, hex, read};

const FIXTURES: [&str; 4] = [
    "example-apigw-request.json",
    "example-apigw-v2-request-no-authorizer.json",
    "example-alb-lambda-target-request-headers-only.json",
    "function-url-request.json",
];
const CALLER_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const CALLER_SPAN: &str = "b7ad6b7169203331";

fn event(fixture: &str, status: u16) -> String {
    let path = format!(
        "{}/tests/fixtures/http/{fixture}",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut event: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("json");
    let traceparent = format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01");
    for key in ["headers", "multiValueHeaders"] {
        let multi = key == "multiValueHeaders";
        if let Some(Value::Object(headers)) = event.get_mut(key) {
            let value = |text: String| {
                if multi {
                    Value::from(vec![text])
                } else {
                    Value::from(text)
                }
            };
            headers.insert("traceparent".into(), value(traceparent.clone()));
            headers.insert("x-answer-status".into(), value(status.to_string()));
        }
    }
    event.to_string()
}

fn check(scenario: &str) {
    let mut script = Vec::new();
    for (index, fixture) in FIXTURES.iter().enumerate() {
        for status in [200u16, 503] {
            script.push(Scripted::new(
                format!("req-{index}-{status}"),
                event(fixture, status),
            ));
        }
    }
    let api = ScriptedRuntimeApi::start(script);
    let run = run_child(scenario, &api, &[]);
    let answers = api.answers();
    assert_eq!(answers.len(), FIXTURES.len() * 2, "stderr: {}", run.stderr);
    let written = read(&run.stdout);
    for (index, fixture) in FIXTURES.iter().enumerate() {
        for status in [200u16, 503] {
            let request = format!("req-{index}-{status}");
            let span = written
                .spans
                .iter()
                .find(|span| attributes(span).get("faas.invocation_id") == Some(&request))
                .unwrap_or_else(|| panic!("{fixture}: no span for {request}"));
            let attributes = attributes(span);
            assert_eq!(attributes["faas.trigger"], "http", "{fixture}");
            assert_eq!(hex(&span.trace_id), CALLER_TRACE, "{fixture}");
            assert_eq!(hex(&span.parent_span_id), CALLER_SPAN, "{fixture}");
            // An int, as the semantic conventions type it.
            let code = span
                .attributes
                .iter()
                .find(|kv| kv.key == "http.response.status_code")
                .and_then(|kv| kv.value.as_ref())
                .and_then(|value| value.value.as_ref());
            assert_eq!(
                code,
                Some(
                    &opentelemetry_proto::tonic::common::v1::any_value::Value::IntValue(i64::from(
                        status
                    ))
                ),
                "{fixture} {status}"
            );
            let failed = span
                .status
                .as_ref()
                .is_some_and(|s| s.code == StatusCode::Error as i32);
            assert_eq!(failed, status >= 500, "{fixture} {status}");
        }
    }
}

#[test]
fn every_http_trigger_records_its_status_through_the_runtime() {
    check("http_value");
}

#[cfg(feature = "lambda-http")]
#[test]
fn lambda_http_requests_carry_context_and_status_through_the_runtime() {
    check("lambda_http");
}
