//! `tracelake aws`: bad arguments are refused before any AWS call, and what AWS
//! (here moto_server) answers is printed as code and message, not a debug dump.

use std::net::TcpListener;
use std::process::{Command, Output};

use tracelake_testkit::Moto;

/// Runs `tracelake aws ARGS` against `endpoint`, with test credentials.
fn tracelake_aws(endpoint: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tracelake"))
        .arg("aws")
        .args(args)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_REGION", Moto::REGION)
        .env("AWS_ACCESS_KEY_ID", Moto::ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", Moto::SECRET_ACCESS_KEY)
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run tracelake")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const STREAM: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/logs";
const ROLE: &str = "arn:aws:iam::123456789012:role/logs-to-stream";

#[test]
fn bad_arguments_are_refused_with_the_value_before_any_call() {
    // An endpoint that would see any call: nothing may connect to it.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "subscribe",
                "--destination-arn",
                "logs-stream",
                "--role-arn",
                ROLE,
            ],
            "--destination-arn \"logs-stream\" is not an ARN",
        ),
        (
            &[
                "subscribe",
                "--destination-arn",
                "arn:aws:sqs:us-east-1:123456789012:q",
            ],
            "names no subscription destination",
        ),
        (
            &["subscribe", "--destination-arn", STREAM],
            "a Kinesis or Firehose destination needs --role-arn",
        ),
        (
            &[
                "subscribe",
                "--destination-arn",
                STREAM,
                "--role-arn",
                "arn:aws:iam::123456789012:user/u",
            ],
            "is not an IAM role ARN",
        ),
        (
            &[
                "subscribe",
                "--destination-arn",
                STREAM,
                "--role-arn",
                ROLE,
                "--log-group-pattern",
                "(unclosed",
            ],
            "--log-group-pattern \"(unclosed\" is not a regular expression",
        ),
        (
            &[
                "subscribe",
                "--destination-arn",
                STREAM,
                "--role-arn",
                ROLE,
                "--log-group-prefix",
                "/aws/lambda/*",
            ],
            "'*' cannot be in a log group name",
        ),
        (
            &[
                "subscribe",
                "--destination-arn",
                STREAM,
                "--role-arn",
                ROLE,
                "--account-policy",
                "--log-group-prefix",
                "/aws/lambda/",
            ],
            "--account-policy covers every log group",
        ),
        (
            &["unsubscribe", "--exclude", "my group"],
            "--exclude \"my group\"",
        ),
        (
            &["status", "--collector-function", "tracelake collector"],
            "is not a Lambda function name",
        ),
        (
            &[
                "backfill",
                "--log-group",
                "/aws/lambda/a",
                "--from",
                "yesterday",
            ],
            "--from \"yesterday\" is neither RFC 3339",
        ),
        (
            &[
                "backfill",
                "--log-group",
                "/aws/lambda/a",
                "--from",
                "2026-11-30T00:00:00Z",
                "--to",
                "2026-11-29T00:00:00Z",
            ],
            "the window is empty",
        ),
        (
            &[
                "backfill",
                "--log-group",
                "/aws/lambda/a",
                "--page-size",
                "20000",
                "--dry-run",
            ],
            "--page-size 20000 is outside 1..=10000",
        ),
    ];
    for (args, expected) in cases {
        let output = tracelake_aws(&endpoint, args);
        let stderr = stderr(&output);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(
            stderr.contains(expected),
            "{args:?}: expected {expected:?} in:\n{stderr}"
        );
        assert!(stderr.starts_with("error: "), "{args:?}:\n{stderr}");
    }
    assert!(
        listener.accept().is_err(),
        "a command with bad arguments connected to the endpoint"
    );
}

#[test]
fn service_errors_print_code_and_message_without_debug_output() {
    let moto = Moto::start();
    let data = tempfile::tempdir().expect("tempdir");
    let output = tracelake_aws(
        &moto.endpoint(),
        &[
            "backfill",
            "--log-group",
            "/aws/lambda/no-such-group",
            "--from",
            "0",
            "--to",
            "1000",
            "--data",
            data.path().to_str().expect("utf-8 path"),
        ],
    );
    let backfill_stderr = stderr(&output);
    assert!(!output.status.success());
    assert!(
        backfill_stderr.contains(
            "DescribeLogStreams failed: ResourceNotFoundException: The specified log group does not exist. (HTTP 400)"
        ),
        "{backfill_stderr}"
    );
    // moto has no DescribeAccountPolicies (docs/deploy.md): its 500 page has no
    // AWS error code, and the command says so instead of dumping it.
    let output = tracelake_aws(
        &moto.endpoint(),
        &[
            "subscribe",
            "--destination-arn",
            STREAM,
            "--role-arn",
            ROLE,
            "--account-policy",
        ],
    );
    let policy_stderr = stderr(&output);
    assert!(!output.status.success());
    assert!(
        policy_stderr.contains(
            "DescribeAccountPolicies failed: the endpoint answered without an AWS error code (HTTP 500)"
        ),
        "{policy_stderr}"
    );
    for text in [&backfill_stderr, &policy_stderr] {
        for debug in ["ErrorMetadata", "Unhandled", "{", "<!doctype", "SdkError"] {
            assert!(!text.contains(debug), "debug output {debug:?} in:\n{text}");
        }
        assert_eq!(text.lines().count(), 1, "one line expected:\n{text}");
    }
}

/// A shell without a region or without credentials: one line saying what to
/// set, and none of the SDK's warnings about each credential source it tried.
#[test]
fn a_missing_region_or_credentials_is_one_line_before_any_call() {
    // An empty home: no ~/.aws/config or ~/.aws/credentials.
    let home = tempfile::tempdir().expect("an empty home");
    let run = |region: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tracelake"));
        command
            .args(["aws", "status", "--log-group-prefix", "/aws/lambda/"])
            .env_clear()
            .env("HOME", home.path());
        if let Some(path) = std::env::var_os("PATH") {
            command.env("PATH", path);
        }
        if let Some(region) = region {
            command.env("AWS_REGION", region);
        }
        command.output().expect("run tracelake")
    };
    for (region, expected) in [
        (None, "error: no AWS region: set AWS_REGION"),
        (
            Some("eu-west-1"),
            "error: no AWS credentials: set AWS_ACCESS_KEY_ID",
        ),
    ] {
        let output = run(region);
        let text = stderr(&output);
        assert!(!output.status.success(), "{text}");
        assert!(text.starts_with(expected), "{text}");
        assert_eq!(text.lines().count(), 1, "one line expected:\n{text}");
        assert!(output.stdout.is_empty(), "{output:?}");
    }
}
