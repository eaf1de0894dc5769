//! `faas.coldstart` for each `AWS_LAMBDA_INITIALIZATION_TYPE`, through the real
//! runtime (which, for SnapStart, first asks the Runtime API for the restore).

use super::runtime_api::{Scripted, ScriptedRuntimeApi, run_child};
use super::support::{attributes, read};

#[test]
fn cold_start_follows_the_initialization_type() {
    for (init, expected, restores) in [
        ("on-demand", ["true", "false", "false"], 0),
        ("provisioned-concurrency", ["false", "false", "false"], 0),
        ("snap-start", ["true", "false", "false"], 1),
    ] {
        let api = ScriptedRuntimeApi::start(
            ["r-1", "r-2", "r-3"].map(|id| Scripted::new(id, r#"{"action":"send"}"#)),
        );
        let run = run_child(
            "fails_or_sends",
            &api,
            &[("AWS_LAMBDA_INITIALIZATION_TYPE", init)],
        );
        assert_eq!(api.answers().len(), 3, "{init}: {}", run.stderr);
        assert_eq!(api.restores(), restores, "{init}");
        let written = read(&run.stdout);
        let flags: Vec<String> = ["r-1", "r-2", "r-3"]
            .iter()
            .map(|request| {
                let span = written
                    .spans
                    .iter()
                    .find(|span| {
                        attributes(span)
                            .get("faas.invocation_id")
                            .map(String::as_str)
                            == Some(*request)
                    })
                    .expect("invocation span");
                attributes(span)["faas.coldstart"].clone()
            })
            .collect();
        assert_eq!(flags, expected, "{init}");
    }
}
