//! tracelake added to a subscriber of the user's own, through the real runtime path.

use serde_json::Value;

use super::runtime_api::{Scripted, ScriptedRuntimeApi, run_child};
use super::support::{attributes, hex, read};

#[test]
fn the_layer_works_inside_an_existing_subscriber_and_init_says_why_it_cannot() {
    let xray = "Root=1-6745aaaa-0123456789abcdef01234567;Parent=1111111111111111;Sampled=1";
    let api = ScriptedRuntimeApi::start([
        Scripted::new("req-1", r#"{"action":"send"}"#).with_xray(xray),
        Scripted::new("req-2", r#"{"action":"fail"}"#).with_xray(xray),
    ]);
    let run = run_child("layered", &api, &[]);
    assert_eq!(api.answers().len(), 2, "stderr: {}", run.stderr);

    // init() names the conflict and the way out.
    let init_error = run
        .stderr
        .lines()
        .find(|line| line.starts_with("INIT ERROR"))
        .expect("init error reported");
    assert!(init_error.contains("already installed"), "{init_error}");
    assert!(
        init_error.contains("init_default_subscriber"),
        "{init_error}"
    );
    assert!(init_error.contains("layers()"), "{init_error}");

    // The user's own fmt layer saw the runtime's error line…
    assert!(run.stderr.contains("LoadFailed"), "{}", run.stderr);
    // …and tracelake wrote its spans and correlated lines to stdout.
    let written = read(&run.stdout);
    let spans: Vec<_> = written
        .spans
        .iter()
        .filter(|span| attributes(span).contains_key("faas.invocation_id"))
        .collect();
    assert_eq!(spans.len(), 2);
    for span in &spans {
        assert_eq!(hex(&span.trace_id), "6745aaaa0123456789abcdef01234567");
    }
    let error_line = written
        .logs
        .iter()
        .find(|log| {
            log["level"] == "ERROR"
                && log["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("LoadFailed"))
        })
        .expect("runtime error line on stdout");
    assert_eq!(error_line["request_id"], Value::from("req-2"));
    assert_eq!(
        error_line["trace_id"],
        Value::from("6745aaaa0123456789abcdef01234567")
    );
}

/// `layers()` over an unreadable log level falls back to INFO, and says so at
/// the first invocation (there is no subscriber to say it through before).
#[test]
fn layers_warns_of_an_unreadable_log_level_at_the_first_invocation() {
    let api = ScriptedRuntimeApi::start([
        Scripted::new("req-1", r#"{"action":"send"}"#),
        Scripted::new("req-2", r#"{"action":"send"}"#),
    ]);
    let run = run_child("layered", &api, &[("RUST_LOG", "my_crate=loud")]);
    assert_eq!(api.answers().len(), 2, "stderr: {}", run.stderr);
    let written = read(&run.stdout);
    let warnings: Vec<_> = written
        .logs
        .iter()
        .filter(|log| log["message"] == "invalid log level, using INFO")
        .collect();
    assert_eq!(warnings.len(), 1, "{:?}", written.logs);
    assert_eq!(warnings[0]["level"], "WARN", "{:?}", warnings[0]);
    assert!(
        serde_json::to_string(warnings[0])
            .unwrap()
            .contains("my_crate=loud"),
        "{:?}",
        warnings[0]
    );
}

/// A `TRACELAKE_SPAN_FORMAT` that names no format is said in a WARN line
/// (OTLP JSON is written), by `init()` and by `layers()` alike.
#[test]
fn an_unknown_span_format_is_said_not_silently_replaced() {
    for scenario in ["fails_or_sends", "layered"] {
        let api = ScriptedRuntimeApi::start([Scripted::new("req-1", r#"{"action":"send"}"#)]);
        let run = run_child(scenario, &api, &[("TRACELAKE_SPAN_FORMAT", "compakt")]);
        assert_eq!(api.answers().len(), 1, "{scenario}: {}", run.stderr);
        let written = read(&run.stdout);
        let warnings: Vec<_> = written
            .logs
            .iter()
            .filter(|log| {
                log["level"] == "WARN"
                    && log["message"]
                        .as_str()
                        .is_some_and(|text| text.contains("TRACELAKE_SPAN_FORMAT"))
            })
            .collect();
        assert_eq!(warnings.len(), 1, "{scenario}: {:?}", written.logs);
        assert!(
            serde_json::to_string(warnings[0])
                .unwrap()
                .contains("compakt"),
            "{scenario}: {:?}",
            warnings[0]
        );
        // The spans went out as OTLP JSON, the fallback the line names.
        assert!(
            written
                .span_lines
                .iter()
                .all(|line| line.starts_with(r#"{"resourceSpans""#)),
            "{scenario}: {:?}",
            written.span_lines
        );
        assert!(!written.spans.is_empty(), "{scenario}");
    }
}
