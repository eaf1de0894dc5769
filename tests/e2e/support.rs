//! What the e2e modules share: running the `tracelake` binary.

use std::path::PathBuf;
use std::process::Command;

/// `tracelake-dashboards` as `cargo test --workspace` builds it: beside
/// `tracelake`, in the same target directory and profile.
pub fn dashboards_binary() -> PathBuf {
    let tracelake = PathBuf::from(env!("CARGO_BIN_EXE_tracelake"));
    let binary = tracelake.with_file_name(format!(
        "tracelake-dashboards{}",
        std::env::consts::EXE_SUFFIX
    ));
    assert!(
        binary.is_file(),
        "{} is missing: run the tests with `cargo test --workspace` (or `cargo build -p tracelake-dashboards` first)",
        binary.display()
    );
    binary
}

/// The `tracelake` binary, running the `tracelake-dashboards` of this test
/// build for `serve`, `query` and the demo's end (not one Cargo would build).
pub fn tracelake() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tracelake"));
    command.env("TRACELAKE_DASHBOARDS", dashboards_binary());
    command
}
