//! The crate is linked into every user Lambda: it must make no network call,
//! so no network client may sit in its dependency tree.

use std::process::Command;

/// Crates that talk to a network (HTTP clients, gRPC, TLS, AWS SDK, OTLP exporters).
const NETWORK_CRATES: [&str; 14] = [
    "reqwest",
    "ureq",
    "isahc",
    "surf",
    "tonic",
    "h2",
    "rustls",
    "native-tls",
    "hyper-rustls",
    "hyper-tls",
    "aws-config",
    "aws-smithy-runtime",
    "opentelemetry-otlp",
    "opentelemetry-http",
];

fn tree(extra: &[&str]) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let output = Command::new(cargo)
        .args([
            "tree",
            "--manifest-path",
            manifest,
            "-p",
            "tracelake-instrumentation",
        ])
        .args(["-e", "normal", "--prefix", "none", "--format", "{p}"])
        .args(extra)
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn no_network_client_in_the_dependency_tree() {
    let with_runtime = tree(&[]);
    assert!(with_runtime.iter().any(|name| name == "opentelemetry_sdk"));
    for name in &with_runtime {
        assert!(
            !NETWORK_CRATES.contains(&name.as_str()) && !name.starts_with("aws-sdk-"),
            "{name} is a network client"
        );
    }
    // lambda_runtime brings hyper for the local Runtime API (127.0.0.1), and
    // nothing else does: without it the tree has no HTTP stack at all.
    let without_runtime = tree(&["--no-default-features"]);
    assert!(
        without_runtime
            .iter()
            .all(|name| name != "hyper" && name != "lambda_runtime")
    );
}

/// The `aws-sdk` feature brings the SDK's interceptor interface only: no HTTP
/// client, no TLS, no SDK client crate.
#[test]
fn the_aws_sdk_feature_adds_no_network_client() {
    let with_sdk = tree(&["--no-default-features", "--features", "aws-sdk"]);
    assert!(with_sdk.iter().any(|name| name == "aws-smithy-runtime-api"));
    for name in &with_sdk {
        assert!(
            !NETWORK_CRATES.contains(&name.as_str())
                && !name.starts_with("aws-sdk-")
                && name != "hyper"
                && name != "aws-smithy-http-client",
            "{name} is a network client"
        );
    }
}
