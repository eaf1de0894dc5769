//! The `tracelake` binary: ingest the fixtures, then stats shows their rows.

use std::path::PathBuf;
use std::process::Command;

pub(super) fn fixture_dir() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .map(|dir| dir.join("shared/fixtures/cloudwatch"))
        .find(|dir| dir.is_dir())
        .unwrap_or_else(|| {
            panic!(
                "no shared/fixtures/cloudwatch beside {}",
                manifest.display()
            )
        })
}

fn tracelake(args: &[&str]) -> std::process::Output {
    super::support::tracelake()
        .args(args)
        .output()
        .expect("run tracelake")
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The number after `label` in a summary line such as `  log rows   11`.
fn figure(text: &str, label: &str) -> u64 {
    text.lines()
        .find(|line| line.trim_start().starts_with(label))
        .and_then(|line| {
            line.split_whitespace()
                .nth(label.split_whitespace().count())
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {label:?} in:\n{text}"))
}

#[test]
fn ingest_accepts_the_fixture_payloads_and_stats_shows_their_rows() {
    let data = tempfile::tempdir().expect("tempdir");
    let data = data.path().to_str().expect("utf-8");
    let fixtures = fixture_dir();
    let names = [
        "01_lambda_event_awslogs_wrapper.json",
        "02_cwl_decoded_data_message.json",
        "03_cwl_decoded_lambda_report_awsdocs.json",
        "04_cwl_control_message.json",
        "04b_cwl_control_message_gzip.b64",
        "05_cwl_account_level_policy.json",
        "06_cwl_extracted_fields_system.json",
        "14_firehose_http_endpoint_request.json",
    ];
    let paths: Vec<String> = names
        .iter()
        .map(|n| fixtures.join(n).display().to_string())
        .collect();
    let mut args = vec!["ingest", "--data", data];
    args.extend(paths.iter().map(String::as_str));
    let output = tracelake(&args);
    assert!(
        output.status.success(),
        "ingest failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = stdout(&output);
    // 01 and 02 hold the same 2 events; 03: 1; 05: 3; 06: 1; 14: 2; 04 and 04b are control messages.
    // The files are ingested as one batch, in which 02 repeats 01's event ids.
    assert_eq!(figure(&summary, "events in"), 11);
    assert_eq!(figure(&summary, "events duplicate"), 2);
    assert_eq!(figure(&summary, "events indexed"), 9);
    assert_eq!(figure(&summary, "events quarantined"), 0);
    assert_eq!(figure(&summary, "control messages"), 2);
    assert_eq!(figure(&summary, "payloads quarantined"), 0);
    assert_eq!(figure(&summary, "invocation rows"), 1);

    let output = tracelake(&["stats", "--data", data]);
    assert!(
        output.status.success(),
        "stats failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stats = stdout(&output);
    // 01 and 02 are one batch of one stream, indexed once.
    assert_eq!(figure(&stats, "total logs"), 9, "{stats}");
    assert_eq!(figure(&stats, "total invocations"), 1);
    assert!(
        stats.contains("logs         dt=2019-03-13/hour=23"),
        "{stats}"
    );
    assert!(
        stats.contains("invocations  dt=2019-03-13/hour=23"),
        "{stats}"
    );
}

#[test]
fn ingest_reads_stdin() {
    let data = tempfile::tempdir().expect("tempdir");
    let data = data.path().to_str().expect("utf-8");
    let input = std::fs::read(fixture_dir().join("03_cwl_decoded_lambda_report_awsdocs.json"))
        .expect("fixture");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tracelake"))
        .args(["ingest", "--data", data, "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), &input).expect("write");
    let output = child.wait_with_output().expect("wait");
    assert!(output.status.success());
    assert_eq!(figure(&stdout(&output), "invocation rows"), 1);
}

/// `tracelake ingest … | head -1`: the reader goes away before the summary.
/// The hours written are still compacted: the work comes before the printing.
#[test]
fn ingest_with_a_closed_stdout_still_compacts_what_it_wrote() {
    let data = tempfile::tempdir().expect("tempdir");
    let data = data.path().to_str().expect("utf-8");
    let input = fixture_dir().join("03_cwl_decoded_lambda_report_awsdocs.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tracelake"))
        .args(["ingest", "--data", data])
        .arg(&input)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    child.wait().expect("wait");

    let output = tracelake(&["stats", "--data", data]);
    let stats = stdout(&output);
    let generation = stats
        .lines()
        .find(|line| line.starts_with("logs") && line.contains("dt=2019-03-13/hour=23"))
        .and_then(|line| line.split_whitespace().nth(2))
        .unwrap_or_else(|| panic!("no logs row for the hour in:\n{stats}"));
    assert_eq!(generation, "1", "the hour is compacted:\n{stats}");
}

/// `tracelake ingest [option] --data index input`.
fn ingest_into(
    index: &std::path::Path,
    option: Option<&str>,
    input: &std::path::Path,
) -> std::process::Output {
    super::support::tracelake()
        .arg("ingest")
        .args(option)
        .arg("--data")
        .arg(index)
        .arg(input)
        .output()
        .expect("run tracelake")
}

/// An empty file is reported, as a payload quarantined as "empty input", not
/// passed over in silence.
#[test]
fn ingest_of_an_empty_file_reports_it_quarantined() {
    let data = tempfile::tempdir().expect("tempdir");
    let input = data.path().join("empty.json");
    std::fs::write(&input, "").expect("write");
    let index = data.path().join("index");
    for batching in [None, Some("--no-batch")] {
        let output = ingest_into(&index, batching, &input);
        let summary = stdout(&output);
        assert!(output.status.success(), "{output:?}");
        assert_eq!(figure(&summary, "payloads quarantined"), 1, "{summary}");
        assert_eq!(figure(&summary, "events in"), 0, "{summary}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("empty input"),
            "{output:?}"
        );
    }
}

/// A directory is read once however many links lead to it: a link back up the
/// tree made ingest read the same files at every level until the path was too
/// long, then fail the whole run.
#[cfg(unix)]
#[test]
fn ingest_reads_a_directory_once_through_links_that_loop() {
    let data = tempfile::tempdir().expect("tempdir");
    let inputs = data.path().join("inputs");
    std::fs::create_dir_all(inputs.join("sub")).expect("mkdir");
    std::fs::copy(
        fixture_dir().join("02_cwl_decoded_data_message.json"),
        inputs.join("one.json"),
    )
    .expect("copy");
    std::os::unix::fs::symlink("..", inputs.join("sub/loop")).expect("symlink");
    std::os::unix::fs::symlink("../sub", inputs.join("sub/again")).expect("symlink");
    let index = data.path().join("index");
    let output = ingest_into(&index, None, &inputs);
    let summary = stdout(&output);
    assert!(output.status.success(), "{output:?}");
    assert!(summary.starts_with("ingested 1 input(s)"), "{summary}");
    assert_eq!(figure(&summary, "events in"), 2, "{summary}");
}

/// A stderr that is not a terminal (a file, a pipe) gets no colour codes: the
/// warning about a quarantined payload reads the same in a log file.
#[test]
fn warnings_on_a_redirected_stderr_have_no_colour_codes() {
    let data = tempfile::tempdir().expect("tempdir");
    let input = data.path().join("not-a-payload.txt");
    std::fs::write(&input, "hello").expect("write");
    let output = super::support::tracelake()
        .env_remove("NO_COLOR")
        .args(["ingest", "--no-compact", "--data"])
        .arg(data.path().join("index"))
        .arg(&input)
        .output()
        .expect("run tracelake");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stderr.contains("PayloadQuarantined"),
        "{stderr}"
    );
    assert!(!stderr.contains('\x1b'), "{stderr:?}");
}

#[test]
fn missing_paths_and_unreadable_stores_fail_clearly() {
    let data = tempfile::tempdir().expect("tempdir");
    let data = data.path().to_str().expect("utf-8");
    let output = tracelake(&["ingest", "--data", data, "/no/such/file.json"]);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("no such file or directory: /no/such/file.json")
    );

    let missing = format!("{data}/not-an-index");
    let output = tracelake(&["stats", "--data", &missing]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read index at"));

    let file = format!("{data}/a-file");
    std::fs::write(&file, "x").expect("write");
    let fixture = fixture_dir()
        .join("03_cwl_decoded_lambda_report_awsdocs.json")
        .display()
        .to_string();
    let output = tracelake(&["ingest", "--data", &file, &fixture]);
    assert!(!output.status.success(), "a file is not an index directory");
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot open index at"));
}

/// `--bucket` is read as the API reads `bucket=`: a width that is not whole
/// seconds dividing a day is refused with a message, not silently cut (1500ms
/// once became 1 s in the CLI while the API refused it).
#[test]
fn query_red_refuses_a_bucket_the_api_refuses() {
    let data = tempfile::tempdir().expect("tempdir");
    let data = data.path().to_str().expect("utf-8");
    for bad in ["1500ms", "7s"] {
        let output = tracelake(&["query", "--data", data, "red", "--bucket", bad]);
        assert!(!output.status.success(), "--bucket {bad} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("--bucket") && stderr.contains(bad),
            "--bucket {bad}: {stderr}"
        );
    }
    // Zero, negative and garbage widths too (`--bucket=-1m`: with a space,
    // clap would take `-1m` for a flag).
    for bad in ["0s", "-1m", "soon"] {
        let flag = format!("--bucket={bad}");
        let output = tracelake(&["query", "--data", data, "red", &flag]);
        assert!(!output.status.success(), "{flag} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("--bucket") && stderr.contains(bad),
            "{flag}: {stderr}"
        );
    }
}
