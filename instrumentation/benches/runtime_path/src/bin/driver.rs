//! Drives each function binary through a scripted Lambda Runtime API on
//! loopback and prints the figures of docs/BENCHMARKS.md.
//!
//! Per invocation, the time from the `/next` response leaving the server to
//! the `/response` request arriving (the runtime client, the handler and the
//! telemetry, as Lambda would count it), median over the invocations after a
//! warm-up, median again over interleaved rounds; init as each function
//! measures its telemetry setup; binary sizes; span bytes on stdout.
//!
//! Args: `[INVOCATIONS] [ROUNDS]` (default 3000 and 3). The bytes-per-span
//! table runs each function for `min(INVOCATIONS, 300)` invocations.
//! A quick check in debug: `cargo run --bin driver -- 40 1`.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Instant;

use tracelake_instrumentation::wire::span_line::{decode_span_line, is_span_line};

#[derive(Default)]
struct State {
    script: VecDeque<(String, String)>,
    sent: HashMap<String, Instant>,
    latencies: Vec<u64>,
    first_next: Option<Instant>,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, String, Vec<u8>)> {
    let mut head = Vec::new();
    loop {
        let before = head.len();
        if reader.read_until(b'\n', &mut head).ok()? == 0 {
            return None;
        }
        if before > 0 && head[before..] == *b"\r\n" {
            break;
        }
    }
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut request = httparse::Request::new(&mut headers);
    request.parse(&head).ok()?;
    let length = request
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .and_then(|h| std::str::from_utf8(h.value).ok()?.trim().parse().ok())
        .unwrap_or(0usize);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((request.method?.to_owned(), request.path?.to_owned(), body))
}

fn serve(stream: TcpStream, state: Arc<Mutex<State>>) {
    let mut writer = stream.try_clone().expect("clone");
    let mut reader = BufReader::new(stream);
    while let Some((method, path, _body)) = read_request(&mut reader) {
        let path = path.trim_start_matches("/2018-06-01/runtime/");
        if method == "GET" && path == "invocation/next" {
            let next = {
                let mut state = state.lock().unwrap();
                state.first_next.get_or_insert_with(Instant::now);
                state.script.pop_front()
            };
            let Some((request_id, body)) = next else {
                return;
            };
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\ncontent-type: application/json\r\nlambda-runtime-aws-request-id: {request_id}\r\nlambda-runtime-deadline-ms: 4102444800000\r\nlambda-runtime-invoked-function-arn: arn:aws:lambda:eu-west-1:123456789012:function:bench\r\nlambda-runtime-trace-id: Root=1-6745aaaa-0123456789abcdef01234567;Parent=1111111111111111;Sampled=1\r\n\r\n",
                body.len()
            );
            let mut bytes = head.into_bytes();
            bytes.extend_from_slice(body.as_bytes());
            state
                .lock()
                .unwrap()
                .sent
                .insert(request_id, Instant::now());
            let _ = writer.write_all(&bytes);
        } else if let Some(rest) = path.strip_prefix("invocation/") {
            let request_id = rest.split('/').next().unwrap_or_default().to_owned();
            let now = Instant::now();
            {
                let mut state = state.lock().unwrap();
                if let Some(sent) = state.sent.remove(&request_id) {
                    state.latencies.push((now - sent).as_nanos() as u64);
                }
            }
            let _ = writer.write_all(
                b"HTTP/1.1 202 Accepted\r\ncontent-length: 15\r\n\r\n{\"status\":\"OK\"}",
            );
        } else {
            let _ = writer.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
        }
    }
}

struct Measured {
    latencies: Vec<u64>,
    /// Resident and peak resident memory when the runtime returned, KiB.
    rss_kb: (u64, u64),
    init_ns: u64,
    spawn_to_first_next_ns: u64,
    span_bytes: usize,
    spans: usize,
}

fn run(bin: &str, env: &[(&str, &str)], spans: u64, invocations: usize) -> Measured {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    let state = Arc::new(Mutex::new(State {
        script: (0..invocations)
            .map(|i| (format!("r-{i}"), format!(r#"{{"spans":{spans}}}"#)))
            .collect(),
        ..State::default()
    }));
    let shared = state.clone();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let state = shared.clone();
            thread::spawn(move || serve(stream, state));
        }
    });
    let exe = std::env::current_exe().expect("exe");
    let path = exe.with_file_name(bin);
    let spawned = Instant::now();
    let output = Command::new(&path)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/29/[$LATEST]abcdef")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench")
        .env("AWS_REGION", "eu-west-1")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let init_ns = stderr
        .lines()
        .find_map(|line| line.strip_prefix("INIT_NS "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("{bin}: no INIT_NS line: {stderr}"));
    let rss_kb = stderr
        .lines()
        .find_map(|line| line.strip_prefix("RSS_KB "))
        .and_then(|rest| {
            let mut fields = rest.split_whitespace().map(|n| n.parse::<u64>().ok());
            Some((fields.next()??, fields.next()??))
        })
        .unwrap_or_else(|| panic!("{bin}: no RSS_KB line: {stderr}"));
    let mut span_bytes = 0;
    let mut span_count = 0;
    for line in stdout.lines().filter(|line| is_span_line(line)) {
        let data = decode_span_line(line).unwrap_or_else(|e| panic!("{bin}: {e}: {line}"));
        span_bytes += line.len() + 1;
        span_count += data
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum::<usize>();
    }
    let state = state.lock().unwrap();
    assert_eq!(state.latencies.len(), invocations, "{bin}: {stderr}");
    Measured {
        latencies: state.latencies.clone(),
        rss_kb,
        init_ns,
        spawn_to_first_next_ns: state
            .first_next
            .map(|t| (t - spawned).as_nanos() as u64)
            .unwrap_or(0),
        span_bytes,
        spans: span_count,
    }
}

/// A function to drive: its name in the tables, its binary, its environment.
type Variant = (
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str)>,
);

fn median(values: &mut [u64]) -> u64 {
    values.sort_unstable();
    values[values.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let invocations: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3000);
    let rounds: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(3);
    let warm_up = invocations / 10;
    let variants: [Variant; 4] = [
        ("plain lambda_runtime", "plain", vec![]),
        (
            "tracelake, OTLP JSON",
            "tracelake",
            vec![("TRACELAKE_SPAN_FORMAT", "json")],
        ),
        (
            "tracelake, compact",
            "tracelake",
            vec![("TRACELAKE_SPAN_FORMAT", "compact")],
        ),
        // lambda-otel-lite exports no span without RUST_LOG.
        (
            "lambda-otel-lite 0.20",
            "otel_lite",
            vec![("RUST_LOG", "info")],
        ),
    ];
    let mut per_round: Vec<Vec<u64>> = vec![Vec::new(); variants.len()];
    let mut inits: Vec<Vec<u64>> = vec![Vec::new(); variants.len()];
    let mut starts: Vec<Vec<u64>> = vec![Vec::new(); variants.len()];
    let mut six = vec![(0usize, 0usize); variants.len()];
    let mut memory = vec![(0u64, 0u64); variants.len()];
    for _ in 0..rounds {
        for (index, (_, bin, env)) in variants.iter().enumerate() {
            let mut measured = run(bin, env, 6, invocations);
            let mut steady = measured.latencies.split_off(warm_up);
            per_round[index].push(median(&mut steady));
            inits[index].push(measured.init_ns);
            starts[index].push(measured.spawn_to_first_next_ns);
            six[index] = (measured.span_bytes, measured.spans);
            memory[index] = measured.rss_kb;
        }
    }
    println!("invocations per run: {invocations} (first {warm_up} left out), rounds: {rounds}");
    println!(
        "| function | per invocation (median) | added | telemetry init | spawn to first /next | binary | RSS after the run (peak) | span bytes, 6 spans/inv |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let plain = median(&mut per_round[0].clone());
    for (index, (name, bin, _)) in variants.iter().enumerate() {
        let time = median(&mut per_round[index]);
        let size = std::fs::metadata(std::env::current_exe().unwrap().with_file_name(bin))
            .map(|m| m.len())
            .unwrap_or(0);
        let (bytes, spans) = six[index];
        let per_span = if spans > 0 {
            format!(
                "{:.0} B/span ({:.1} spans/inv)",
                bytes as f64 / spans as f64,
                spans as f64 / invocations as f64
            )
        } else {
            "no spans".to_owned()
        };
        println!(
            "| {name} | {:.1} µs | {:+.1} µs | {:.3} ms | {:.2} ms | {:.2} MB | {:.1} MiB ({:.1} MiB) | {per_span} |",
            time as f64 / 1e3,
            (time as f64 - plain as f64) / 1e3,
            median(&mut inits[index]) as f64 / 1e6,
            median(&mut starts[index]) as f64 / 1e6,
            size as f64 / 1e6,
            memory[index].0 as f64 / 1024.0,
            memory[index].1 as f64 / 1024.0,
        );
    }
    println!();
    let size_invocations = invocations.min(300);
    println!("| function | B/span at 1 span/inv | at 6 | at 20 |");
    println!("|---|---|---|---|");
    for (name, bin, env) in variants.iter().skip(1) {
        let mut cells = Vec::new();
        for spans in [1u64, 6, 20] {
            let measured = run(bin, env, spans, size_invocations);
            cells.push(if measured.spans > 0 {
                format!(
                    "{:.0} ({:.1} spans/inv)",
                    measured.span_bytes as f64 / measured.spans as f64,
                    measured.spans as f64 / size_invocations as f64
                )
            } else {
                "no spans".to_owned()
            });
        }
        println!("| {name} | {} | {} | {} |", cells[0], cells[1], cells[2]);
    }
}
