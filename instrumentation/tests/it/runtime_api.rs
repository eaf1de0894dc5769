//! A scripted Lambda Runtime API on loopback, and a function process that the
//! real `lambda_runtime` client runs against it.
//!
//! The function runs in a child process (this test binary, re-executed with
//! [`CHILD_SCENARIO`] set and filtered to [`child_entry`]): `lambda_runtime`
//! reads and writes the process environment, and the child's heap and RSS are
//! those of a function only. The child writes its telemetry to its real stdout,
//! which the parent reads, as CloudWatch would.
//!
//! The server speaks the Runtime API's HTTP/1.1 (keep-alive, Content-Length or
//! chunked bodies); once the script is exhausted it closes the connection, the
//! runtime's `run` returns an error and the child exits.

use std::collections::VecDeque;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;

/// The environment variable that makes [`child_entry`] run a function.
pub const CHILD_SCENARIO: &str = "TRACELAKE_TEST_RUNTIME_CHILD";

/// One invocation the server hands out.
#[derive(Debug, Clone)]
pub struct Scripted {
    pub request_id: String,
    pub xray_header: Option<String>,
    pub client_context: Option<String>,
    pub body: String,
}

impl Scripted {
    pub fn new(request_id: impl Into<String>, body: impl Into<String>) -> Scripted {
        Scripted {
            request_id: request_id.into(),
            xray_header: None,
            client_context: None,
            body: body.into(),
        }
    }

    pub fn with_xray(mut self, header: &str) -> Scripted {
        self.xray_header = Some(header.to_owned());
        self
    }
}

/// What the function answered to one invocation.
#[derive(Debug, Clone)]
pub struct Answer {
    pub request_id: String,
    /// `response` or `error`.
    pub kind: String,
    pub body: String,
    pub error_type: Option<String>,
}

#[derive(Default)]
struct State {
    script: VecDeque<Scripted>,
    answers: Vec<Answer>,
    restores: usize,
}

/// The server. It runs until the process ends; each test starts its own.
pub struct ScriptedRuntimeApi {
    address: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl ScriptedRuntimeApi {
    pub fn start(script: impl IntoIterator<Item = Scripted>) -> ScriptedRuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let address = listener.local_addr().expect("address");
        let state = Arc::new(Mutex::new(State {
            script: script.into_iter().collect(),
            answers: Vec::new(),
            restores: 0,
        }));
        let shared = state.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let state = shared.clone();
                thread::spawn(move || serve(stream, &state));
            }
        });
        ScriptedRuntimeApi { address, state }
    }

    /// `host:port`, as `AWS_LAMBDA_RUNTIME_API` wants it.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// How many times the runtime asked for `/restore/next`.
    pub fn restores(&self) -> usize {
        self.state.lock().unwrap().restores
    }

    pub fn answers(&self) -> Vec<Answer> {
        self.state.lock().unwrap().answers.clone()
    }
}

struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
    headers: Vec<(String, String)>,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut head = Vec::new();
    loop {
        let before = head.len();
        let read = reader.read_until(b'\n', &mut head).ok()?;
        if read == 0 {
            return None;
        }
        if head[before..] == *b"\r\n" && before > 0 {
            break;
        }
        if head == b"\r\n" {
            head.clear();
        }
    }
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut parsed = httparse::Request::new(&mut headers);
    let status = parsed.parse(&head).ok()?;
    assert!(status.is_complete(), "incomplete request head");
    let method = parsed.method?.to_owned();
    let path = parsed.path?.to_owned();
    let headers: Vec<(String, String)> = parsed
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_ascii_lowercase(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let mut body = Vec::new();
    if let Some(length) = header("content-length") {
        let length: usize = length.trim().parse().ok()?;
        body.resize(length, 0);
        reader.read_exact(&mut body).ok()?;
    } else if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            let mut size_line = String::new();
            reader.read_line(&mut size_line).ok()?;
            let size = usize::from_str_radix(size_line.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
    Some(Request {
        method,
        path,
        body,
        headers,
    })
}

fn respond(stream: &mut TcpStream, status: &str, headers: &[(&str, String)], body: &[u8]) {
    let mut out = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n", body.len());
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    let _ = stream.write_all(&bytes);
}

fn serve(stream: TcpStream, state: &Mutex<State>) {
    let mut writer = stream.try_clone().expect("clone stream");
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        let path = request.path.trim_start_matches("/2018-06-01/runtime/");
        if request.method == "GET" && path == "invocation/next" {
            let next = state.lock().unwrap().script.pop_front();
            let Some(next) = next else {
                // The script is over: closing makes the runtime's `run` return.
                return;
            };
            let mut headers = vec![
                ("lambda-runtime-aws-request-id", next.request_id.clone()),
                ("lambda-runtime-deadline-ms", "4102444800000".to_owned()),
                (
                    "lambda-runtime-invoked-function-arn",
                    "arn:aws:lambda:eu-west-1:123456789012:function:runtime-test".to_owned(),
                ),
                ("content-type", "application/json".to_owned()),
            ];
            if let Some(xray) = &next.xray_header {
                headers.push(("lambda-runtime-trace-id", xray.clone()));
            }
            if let Some(client_context) = &next.client_context {
                headers.push(("lambda-runtime-client-context", client_context.clone()));
            }
            respond(&mut writer, "200 OK", &headers, next.body.as_bytes());
        } else if request.method == "GET" && path == "restore/next" {
            // SnapStart: the restore has happened (the snapshot is this process).
            state.lock().unwrap().restores += 1;
            respond(&mut writer, "200 OK", &[], b"");
        } else if let Some(rest) = path.strip_prefix("invocation/") {
            let (request_id, kind) = rest.rsplit_once('/').unwrap_or((rest, ""));
            let error_type = request
                .headers
                .iter()
                .find(|(key, _)| key == "lambda-runtime-function-error-type")
                .map(|(_, value)| value.clone());
            state.lock().unwrap().answers.push(Answer {
                request_id: request_id.to_owned(),
                kind: kind.to_owned(),
                body: String::from_utf8_lossy(&request.body).into_owned(),
                error_type,
            });
            respond(&mut writer, "202 Accepted", &[], b"{\"status\":\"OK\"}");
        } else {
            respond(&mut writer, "404 Not Found", &[], b"{}");
        }
    }
}

/// What a child function process wrote.
pub struct ChildRun {
    pub stdout: Vec<String>,
    pub stderr: String,
}

/// Runs [`child_entry`] with `scenario` against `api`, with the Lambda
/// environment set plus `env`, and waits for it to end.
pub fn run_child(scenario: &str, api: &ScriptedRuntimeApi, env: &[(&str, &str)]) -> ChildRun {
    let exe = std::env::current_exe().expect("test binary");
    let mut command = Command::new(exe);
    command
        .args(["--exact", "runtime_api::child_entry", "--nocapture"])
        .args(["--test-threads", "1"])
        .env(CHILD_SCENARIO, scenario)
        .env("AWS_LAMBDA_RUNTIME_API", api.address())
        .env("AWS_LAMBDA_FUNCTION_NAME", "runtime-test")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/29/[$LATEST]abcdef")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/runtime-test")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
        .env_remove("RUST_LOG")
        .env_remove("AWS_LAMBDA_LOG_LEVEL")
        .env_remove("TRACELAKE_SPAN_FORMAT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    // libtest's own words ("running 1 test", "test … ", "ok") are not
    // telemetry; "test runtime_api::child_entry ... " prefixes the first line.
    let stdout = stdout
        .lines()
        .filter_map(|line| line.find('{').map(|start| line[start..].to_owned()))
        .collect();
    ChildRun {
        stdout,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The function process of [`run_child`]; does nothing unless [`CHILD_SCENARIO`]
/// is set (the parent test sets it in the child's environment only).
#[test]
fn child_entry() {
    let Ok(scenario) = std::env::var(CHILD_SCENARIO) else {
        return;
    };
    super::functions::run(&scenario);
}
