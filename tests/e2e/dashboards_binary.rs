//! `tracelake serve`, `tracelake query` and the demo's end run
//! `tracelake-dashboards` (src/cli/dashboards.rs): found beside `tracelake`,
//! built first by Cargo under `cargo run`, or named by `TRACELAKE_DASHBOARDS`;
//! when it is missing the error says how to get it.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::support::{dashboards_binary, tracelake};

/// A directory named after a Cargo profile (`profile`) holding a hard link
/// to `tracelake` and, when `with_dashboards`, to `tracelake-dashboards`: a
/// target directory or an install directory of one's own.
fn install(root: &Path, profile: &str, with_dashboards: bool) -> PathBuf {
    let directory = root.join(profile);
    std::fs::create_dir_all(&directory).expect("create the install directory");
    let tracelake = PathBuf::from(env!("CARGO_BIN_EXE_tracelake"));
    let linked = directory.join(tracelake.file_name().expect("file name"));
    std::fs::hard_link(&tracelake, &linked).expect("link tracelake");
    if with_dashboards {
        let dashboards = dashboards_binary();
        std::fs::hard_link(
            &dashboards,
            directory.join(dashboards.file_name().expect("file name")),
        )
        .expect("link tracelake-dashboards");
    }
    linked
}

/// `binary` with none of the variables that choose the dashboards binary.
fn bare(binary: &Path) -> Command {
    let mut command = Command::new(binary);
    command
        .env_remove("TRACELAKE_DASHBOARDS")
        .env_remove("CARGO")
        .env_remove("CARGO_MANIFEST_DIR");
    command
}

/// A stand-in for Cargo that records its arguments and environment, prints
/// `messages` on stdout and exits with `status`.
fn fake_cargo_saying(root: &Path, status: i32, messages: &str) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt as _;
    let script = root.join("cargo");
    let record = root.join("cargo-args");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\nenv > '{}.env'\ncat <<'EOF'\n{messages}\nEOF\nexit {status}\n",
            record.display(),
            record.display()
        ),
    )
    .expect("write the fake cargo");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    (script, record)
}

/// A stand-in for Cargo that prints nothing.
fn fake_cargo(root: &Path, status: i32) -> (PathBuf, PathBuf) {
    fake_cargo_saying(root, status, "")
}

/// An index with two traces (field case 12).
fn small_index() -> (tempfile::TempDir, String) {
    let index = super::field_ids::ingest_case_12();
    let data = index.path().display().to_string();
    (index, data)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn services(output: &Output) -> Vec<String> {
    assert!(output.status.success(), "query services: {output:?}");
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON rows");
    rows.as_array()
        .expect("an array of services")
        .iter()
        .map(|row| row["service"].as_str().expect("service").to_owned())
        .collect()
}

#[test]
fn query_runs_the_dashboards_binary_beside_tracelake() {
    let root = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
    let (_index, data) = small_index();
    let expected = services(
        &tracelake()
            .args(["query", "--data", &data, "--json", "services"])
            .output()
            .expect("run tracelake query"),
    );
    assert!(!expected.is_empty(), "the fixture has services");

    let installed = install(root.path(), "bin", true);
    let output = bare(&installed)
        .args(["query", "--data", &data, "--json", "services"])
        .output()
        .expect("run the installed tracelake");
    assert_eq!(services(&output), expected);
}

#[test]
fn under_cargo_run_cargo_builds_the_dashboards_binary_in_the_same_profile_first() {
    let root = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
    let (_index, data) = small_index();
    let manifest_dir = env!("CARGO_MANIFEST_DIR");
    for (profile, expected_profile) in [("release", "release"), ("debug", "dev")] {
        let target_dir = root.path().join(profile);
        let installed = install(&target_dir, profile, true);
        let (cargo, record) = fake_cargo(&target_dir, 0);
        // A directory Cargo marks as a target directory is passed on as one.
        let marked = profile == "debug";
        if marked {
            std::fs::write(
                target_dir.join("CACHEDIR.TAG"),
                "Signature: 8a477f597d28d172789f06886806bc55",
            )
            .expect("write CACHEDIR.TAG");
        }
        let output = bare(&installed)
            .env("CARGO", &cargo)
            .env("CARGO_MANIFEST_DIR", manifest_dir)
            .env("CARGO_PKG_NAME", "tracelake")
            .args(["query", "--data", &data, "--json", "services"])
            .output()
            .expect("run tracelake");
        assert!(!services(&output).is_empty());
        let arguments = std::fs::read_to_string(&record).expect("cargo was run");
        let mut expected = vec![
            "build".to_owned(),
            "--manifest-path".to_owned(),
            format!("{manifest_dir}/Cargo.toml"),
        ];
        expected.extend(
            [
                "--profile",
                expected_profile,
                "-p",
                "tracelake-dashboards",
                "--bin",
                "tracelake-dashboards",
                "--message-format",
                "json-render-diagnostics",
            ]
            .map(str::to_owned),
        );
        if marked {
            expected.extend(["--target-dir".to_owned(), target_dir.display().to_string()]);
        }
        assert_eq!(arguments.lines().collect::<Vec<_>>(), expected, "{profile}");
        // Not the variables `cargo run` set for the tracelake package: Cargo
        // would rebuild the crates whose build scripts watch them.
        let environment =
            std::fs::read_to_string(record.with_extension("env")).expect("cargo's environment");
        for name in ["CARGO_MANIFEST_DIR=", "CARGO_PKG_NAME="] {
            assert!(
                !environment.lines().any(|line| line.starts_with(name)),
                "{profile}: {name} in\n{environment}"
            );
        }
        assert!(environment.lines().any(|line| line.starts_with("PATH=")));
    }

    // The executable Cargo reports is the one run, wherever Cargo put it
    // (`cargo run --target-dir …`): here nothing is beside tracelake.
    let elsewhere = install(&root.path().join("elsewhere"), "bin", true);
    let reported = elsewhere.with_file_name("tracelake-dashboards");
    let installed = install(&root.path().join("alone"), "release", false);
    let message = serde_json::json!({
        "reason": "compiler-artifact",
        "target": {"name": "tracelake-dashboards"},
        "executable": reported,
    });
    let (cargo, _) = fake_cargo_saying(
        &root.path().join("alone"),
        0,
        &format!("{{\"reason\":\"build-script-executed\"}}\n{message}"),
    );
    let output = bare(&installed)
        .env("CARGO", &cargo)
        .env("CARGO_MANIFEST_DIR", manifest_dir)
        .args(["query", "--data", &data, "--json", "services"])
        .output()
        .expect("run tracelake");
    assert!(!services(&output).is_empty());

    // Cargo's failure is the command's, said as such.
    let installed = install(&root.path().join("failing"), "release", true);
    let (cargo, _) = fake_cargo(&root.path().join("failing"), 3);
    let output = bare(&installed)
        .env("CARGO", &cargo)
        .env("CARGO_MANIFEST_DIR", manifest_dir)
        .args(["query", "--data", &data, "services"])
        .output()
        .expect("run tracelake");
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("cargo could not build tracelake-dashboards"),
        "{}",
        stderr(&output)
    );
}

/// The command README.md gives to install both binaries, on one line.
fn readme_install_command() -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("read README.md");
    let (_, from_there) = readme
        .split_once("To install both: `")
        .expect("README.md says how to install both binaries");
    let (command, _) = from_there.split_once('`').expect("a closing backquote");
    command.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The error says how to get the binary, with README.md's install command.
#[test]
fn a_missing_dashboards_binary_is_a_clear_error() {
    let install_command = readme_install_command();
    let root = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
    let installed = install(root.path(), "bin", false);
    for command in ["query", "serve"] {
        let output = bare(&installed)
            .args([command, "--data", "unused", "services"])
            .output()
            .expect("run tracelake");
        assert_eq!(output.status.code(), Some(1), "{command}");
        let message = stderr(&output);
        assert!(
            message.contains("tracelake-dashboards") && message.contains(&install_command),
            "{command}: {message}"
        );
    }
    let output = bare(&installed)
        .env("TRACELAKE_DASHBOARDS", root.path().join("nowhere"))
        .args(["query", "services"])
        .output()
        .expect("run tracelake");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("TRACELAKE_DASHBOARDS names"),
        "{}",
        stderr(&output)
    );
    // Empty is unset: the search goes on, and says what it found.
    let output = bare(&installed)
        .env("TRACELAKE_DASHBOARDS", "")
        .args(["query", "services"])
        .output()
        .expect("run tracelake");
    assert!(
        stderr(&output).contains(&install_command),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_relative_dashboards_path_is_taken_from_the_working_directory() {
    let (_index, data) = small_index();
    let binary = dashboards_binary();
    let output = tracelake()
        .current_dir(binary.parent().expect("directory"))
        .env(
            "TRACELAKE_DASHBOARDS",
            binary.file_name().expect("file name"),
        )
        .args(["query", "--data", &data, "--json", "services"])
        .output()
        .expect("run tracelake");
    assert!(!services(&output).is_empty());
}

/// `--data ../index`, as a user in a sibling directory types it, names the
/// same index as its absolute path.
#[test]
fn a_data_directory_named_through_its_parent_is_read() {
    let (index, data) = small_index();
    let expected = services(
        &tracelake()
            .args(["query", "--data", &data, "--json", "services"])
            .output()
            .expect("run tracelake query"),
    );
    let parent = index.path().parent().expect("a parent directory");
    let sibling = tempfile::tempdir_in(parent).expect("a directory beside the index");
    let name = index.path().file_name().expect("a name");
    let relative = Path::new("..").join(name).display().to_string();
    let output = tracelake()
        .current_dir(sibling.path())
        .args(["query", "--data", &relative, "--json", "services"])
        .output()
        .expect("run tracelake query");
    assert_eq!(services(&output), expected);
}

/// The dashboards binary colours its stderr only for a terminal, as
/// `tracelake` does (DataFusion's debug lines are there at `RUST_LOG=debug`).
#[test]
fn the_dashboards_binary_has_no_colour_codes_on_a_redirected_stderr() {
    let (_index, data) = small_index();
    let output = tracelake()
        .env_remove("NO_COLOR")
        .env("RUST_LOG", "debug")
        .args(["query", "--data", &data, "services"])
        .output()
        .expect("run tracelake query");
    let stderr = stderr(&output);
    assert!(
        output.status.success() && stderr.contains("DEBUG"),
        "{stderr}"
    );
    assert!(!stderr.contains('\x1b'), "{stderr:?}");
}

#[test]
fn help_of_query_is_the_dashboards_binarys() {
    let output = tracelake()
        .args(["query", "--help"])
        .output()
        .expect("run tracelake");
    assert!(output.status.success(), "{output:?}");
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("Usage: tracelake query"), "{help}");
    for command in ["trace", "search", "map", "red", "correlation", "sql"] {
        assert!(help.contains(command), "{command} in:\n{help}");
    }
}

/// The demo's report needs no query engine: with `--no-serve` it finishes
/// with no dashboards binary to be found.
#[test]
fn the_demo_report_runs_without_the_dashboards_binary() {
    let root = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
    let data = root.path().join("demo").display().to_string();
    let installed = install(root.path(), "bin", false);
    let output = bare(&installed)
        .args(["demo", "--no-serve", "--services", "6", "--minutes", "1"])
        .args(["--data", &data])
        .output()
        .expect("run tracelake demo");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(report.contains("precision"), "{report}");
    assert!(
        report.contains("tracelake query correlation --data"),
        "{report}"
    );
    assert!(!report.contains("least linked services"), "{report}");
    // Every event in is accounted for: indexed, quarantined or a duplicate.
    let ingested = report
        .lines()
        .find(|line| line.starts_with("ingested into"))
        .unwrap_or_else(|| panic!("no ingest line in {report}"));
    let count = |label: &str| -> u64 {
        let before = &ingested[..ingested
            .find(label)
            .unwrap_or_else(|| panic!("{label}: {ingested}"))];
        let number = before
            .trim_end()
            .rsplit([' ', ':'])
            .next()
            .unwrap_or_default();
        number
            .parse()
            .unwrap_or_else(|_| panic!("{label}: {ingested}"))
    };
    assert!(count(" events in") > 0, "{ingested}");
    assert_eq!(
        count(" events in"),
        count(" indexed") + count(" quarantined") + count(" duplicates"),
        "{ingested}"
    );
}

/// Without `--no-serve`, the demo hands over to `tracelake-dashboards`: the
/// least linked services, then the dashboards on `--addr`.
#[test]
fn the_demo_ends_in_the_dashboards() {
    let root = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
    let data = root.path().join("demo").display().to_string();
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = tracelake()
        .args(["demo", "--services", "6", "--minutes", "1", "--addr", &addr])
        .args(["--data", &data])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run tracelake demo");
    let stdout = child.stdout.take().expect("stdout");
    let mut seen = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("a line of the demo");
        let serving = line.starts_with("tracelake dashboards at");
        seen.push(line);
        if serving {
            break;
        }
    }
    let answer = TcpStream::connect(&addr).and_then(|mut stream| {
        stream.write_all(b"GET /api/tracelake/services HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        Ok(answer)
    });
    child.kill().ok();
    child.wait().ok();
    let report = seen.join("\n");
    assert!(report.contains("precision"), "{report}");
    assert!(report.contains("least linked services"), "{report}");
    assert!(
        report.ends_with(&format!(
            "tracelake dashboards at http://{addr}/ (Ctrl-C to stop)"
        )),
        "{report}"
    );
    let answer = answer.expect("the dashboards answer");
    assert!(
        answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"),
        "{answer}"
    );
}
