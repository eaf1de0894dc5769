//! Fuzzing without a nightly toolchain: proptest harnesses that feed the
//! collector arbitrary and mutated input, many cases each, bounded in time.
//!
//! - decode: arbitrary bytes, and real subscription payloads (raw JSON, gzip,
//!   the Lambda event's base64 of gzip) mutated before or after encoding;
//! - parse: every line format the simulator writes, and the fixtures' lines,
//!   mutated;
//! - span lines: both encodings (OTLP JSON, the compact gzip envelope), mutated
//!   in the text and inside the envelope's payload.
//!
//! The property everywhere: no panic, and every event or payload that is not
//! indexed is quarantined with a reason (counts stay exact).
//!
//! Each harness runs `TRACELAKE_FUZZ_CASES` cases (default in each) or for
//! `TRACELAKE_FUZZ_SECONDS` (default 20) seconds, whichever ends first; set both
//! high for a long fuzzing session. What bounds one harness's time, S being
//! `TRACELAKE_FUZZ_SECONDS`:
//! - trying cases: S from its first case (the replayed regressions and the
//!   shared corpus, built once by the first harness, count in it). No case is
//!   generated after S ([`UntilSpent`]: generating is the slow part of some
//!   harnesses); the rest of the cases count as passed without running;
//! - the one case running at S finishes (a case is never interrupted: inputs
//!   are bounded, 2 KiB of bytes, 300 characters, a corpus line or payload with
//!   a few mutations, and decode's limits bound what they inflate to);
//! - shrinking a failure: at most S more (proptest's `max_shrink_time`).
//!
//! So a harness takes at most 2 S plus one case, and S plus one case when
//! nothing fails. Failures persist in `collector/proptest-regressions/`, and
//! each crash found has its own test below.

use std::io::Write as _;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine as _;
use proptest::prelude::*;
use proptest::strategy::{NewTree, ValueTree};
use proptest::test_runner::{FileFailurePersistence, TestRunner};
use tracelake_collector::decode::{DecodeLimits, LogBatch, Payload, decode_input};
use tracelake_collector::parse::{ParsedEvent, parse_event};
use tracelake_collector::pipeline::parse_and_correlate as correlate;
use tracelake_simulator::delivery::DeliveryKind;

use super::support::*;

// ---- budget ----

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// The cases of one harness: `TRACELAKE_FUZZ_CASES`, or `default`.
fn cases(default: u32) -> u32 {
    u32::try_from(env_number("TRACELAKE_FUZZ_CASES", u64::from(default))).unwrap_or(u32::MAX)
}

/// The time budget of one harness: `TRACELAKE_FUZZ_SECONDS`, default 20 s.
fn budget() -> Duration {
    Duration::from_secs(env_number("TRACELAKE_FUZZ_SECONDS", 20))
}

/// When a harness stops trying new cases. Its clock starts at its first case.
#[derive(Debug)]
struct Budget(OnceLock<Instant>);

impl Budget {
    const fn new() -> Budget {
        Budget(OnceLock::new())
    }

    fn spent(&self) -> bool {
        let started = *self.0.get_or_init(Instant::now);
        started.elapsed() > budget()
    }
}

/// A harness's strategy that generates `Some` case until its budget is spent,
/// then only `None`, which the harness passes without running: no input is
/// generated after the deadline. Shrinking is the inner strategy's.
#[derive(Debug)]
struct UntilSpent<S> {
    budget: &'static Budget,
    strategy: S,
}

fn until_spent<S: Strategy>(budget: &'static Budget, strategy: S) -> UntilSpent<S> {
    UntilSpent { budget, strategy }
}

/// [`UntilSpent`]'s value tree: nothing once the budget was spent.
enum Gated<T> {
    Spent,
    Case(T),
}

impl<S: Strategy> Strategy for UntilSpent<S> {
    type Tree = Gated<S::Tree>;
    type Value = Option<S::Value>;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        if self.budget.spent() {
            return Ok(Gated::Spent);
        }
        self.strategy.new_tree(runner).map(Gated::Case)
    }
}

impl<T: ValueTree> ValueTree for Gated<T> {
    type Value = Option<T::Value>;

    fn current(&self) -> Self::Value {
        match self {
            Gated::Spent => None,
            Gated::Case(tree) => Some(tree.current()),
        }
    }

    fn simplify(&mut self) -> bool {
        match self {
            Gated::Spent => false,
            Gated::Case(tree) => tree.simplify(),
        }
    }

    fn complicate(&mut self) -> bool {
        match self {
            Gated::Spent => false,
            Gated::Case(tree) => tree.complicate(),
        }
    }
}

fn config(default_cases: u32, file: &'static str) -> ProptestConfig {
    ProptestConfig {
        cases: cases(default_cases),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(file))),
        // Shrinking a failure stops after the budget too.
        max_shrink_time: u32::try_from(budget().as_millis()).unwrap_or(u32::MAX),
        ..ProptestConfig::default()
    }
}

// ---- corpus ----

/// Real input: every simulated payload and line (every runtime's format, both
/// span-line encodings), and the CloudWatch fixtures' messages.
struct Corpus {
    payloads: Vec<Vec<u8>>,
    lines: Vec<String>,
    span_lines: Vec<String>,
}

fn corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let run = small_simulation();
        let mut lines: Vec<String> = Vec::new();
        let mut payloads = Vec::new();
        for delivery in &run.delivered.deliveries {
            if payloads.len() < 64 {
                payloads.push(delivery.payload.clone());
            }
            if delivery.kind != DeliveryKind::Data {
                continue;
            }
            for payload in decode_input(&delivery.payload, &DecodeLimits::default()) {
                if let Ok(Payload::Data(batch)) = payload {
                    lines.extend(batch.events.into_iter().map(|event| event.message));
                }
            }
        }
        for entry in std::fs::read_dir(fixture_dir()).expect("the fixture directory") {
            let name = entry.expect("a fixture").file_name();
            let name = name.to_string_lossy();
            if name.ends_with(".jsonl") {
                for line in fixture_lines(&name) {
                    if let Ok(value) = serde_json::from_str::<serde_json::Value>(&line)
                        && let Some(message) = value["message"].as_str()
                    {
                        lines.push(message.to_owned());
                    }
                }
            }
        }
        let span_lines: Vec<String> = lines
            .iter()
            .filter(|line| tracelake_instrumentation::wire::span_line::is_span_line(line))
            .cloned()
            .collect();
        assert!(
            span_lines.iter().any(|l| l.contains("__otel_otlp_stdout"))
                && span_lines
                    .iter()
                    .any(|l| l.starts_with("{\"resourceSpans\"")),
            "the corpus holds both span-line encodings"
        );
        assert!(lines.len() > 1000 && !payloads.is_empty());
        Corpus {
            payloads,
            lines,
            span_lines,
        }
    })
}

// ---- mutations ----

/// One change to a byte string, at positions taken modulo its length.
#[derive(Debug, Clone)]
enum Mutation {
    Set(usize, u8),
    FlipBit(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Truncate(usize),
    /// Inserts a token that means something to one of the formats.
    Token(usize, &'static str),
}

const TOKENS: &[&str] = &[
    "\"",
    "\\",
    "\\u",
    "\\ud800",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "null",
    "1e999",
    "-0",
    "\t",
    "\n",
    "\r",
    "\0",
    "RequestId: ",
    "START ",
    "REPORT ",
    "XRAY TraceId: ",
    "1-",
    "Root=",
    "Z",
    "+25:00",
    "T",
    "é",
    "\u{10ffff}",
    "%",
    "\"resourceSpans\"",
    "\"traceId\":\"",
    "\"spanId\":\"",
    "\"startTimeUnixNano\":\"",
    "\"__otel_otlp_stdout\"",
    "\"payload\":\"",
    "H4sI",
    "==",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Set(at, byte)),
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit(at, bit)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        (any::<usize>(), 1usize..64).prop_map(|(at, len)| Mutation::Delete(at, len)),
        (any::<usize>(), 1usize..64).prop_map(|(at, len)| Mutation::Duplicate(at, len)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), prop::sample::select(TOKENS)).prop_map(|(at, t)| Mutation::Token(at, t)),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for mutation in mutations {
        let len = bytes.len();
        let at = |position: usize| if len == 0 { 0 } else { position % len };
        match mutation {
            Mutation::Set(position, byte) if len > 0 => bytes[at(*position)] = *byte,
            Mutation::FlipBit(position, bit) if len > 0 => bytes[at(*position)] ^= 1 << bit,
            Mutation::Insert(position, inserted) => {
                let at = at(*position);
                bytes.splice(at..at, inserted.iter().copied());
            }
            Mutation::Token(position, token) => {
                let at = at(*position);
                bytes.splice(at..at, token.bytes());
            }
            Mutation::Delete(position, count) if len > 0 => {
                let at = at(*position);
                bytes.drain(at..(at + count).min(len));
            }
            Mutation::Duplicate(position, count) if len > 0 => {
                let at = at(*position);
                let copy = bytes[at..(at + count).min(len)].to_vec();
                bytes.splice(at..at, copy);
            }
            Mutation::Truncate(position) => bytes.truncate(at(*position)),
            _ => {}
        }
    }
    bytes
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    prop::collection::vec(mutation(), 1..6)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

fn lambda_event(gzipped: &[u8]) -> Vec<u8> {
    let data = base64::engine::general_purpose::STANDARD.encode(gzipped);
    format!(r#"{{"awslogs":{{"data":"{data}"}}}}"#).into_bytes()
}

/// The DATA_MESSAGE JSON inside a simulated payload (a Lambda event).
fn inner_json(payload: &[u8]) -> Vec<u8> {
    let event: serde_json::Value = serde_json::from_slice(payload).expect("a lambda event");
    let data = event["awslogs"]["data"].as_str().expect("awslogs.data");
    let gzipped = base64::engine::general_purpose::STANDARD
        .decode(data)
        .expect("base64");
    let mut json = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gzipped[..]), &mut json)
        .expect("gunzip");
    json
}

/// Where in the encoding a payload is mutated.
#[derive(Debug, Clone, Copy)]
enum Layer {
    /// The DATA_MESSAGE JSON, sent as it is.
    Json,
    /// The JSON, mutated, then gzipped.
    JsonThenGzip,
    /// The JSON, mutated, then gzipped and wrapped in a Lambda event.
    JsonThenLambda,
    /// The gzip stream, mutated.
    Gzip,
    /// The Lambda event's text, mutated.
    Lambda,
}

fn encode(json: &[u8], layer: Layer, changes: &[Mutation]) -> Vec<u8> {
    match layer {
        Layer::Json => mutate(json.to_vec(), changes),
        Layer::JsonThenGzip => gzip(&mutate(json.to_vec(), changes)),
        Layer::JsonThenLambda => lambda_event(&gzip(&mutate(json.to_vec(), changes))),
        Layer::Gzip => mutate(gzip(json), changes),
        Layer::Lambda => mutate(lambda_event(&gzip(json)), changes),
    }
}

fn layer() -> impl Strategy<Value = Layer> {
    prop::sample::select(vec![
        Layer::Json,
        Layer::JsonThenGzip,
        Layer::JsonThenLambda,
        Layer::Gzip,
        Layer::Lambda,
    ])
}

// ---- the properties ----

/// Decodes `input`: every payload either decodes or fails with a reason, and
/// every decoded batch's events are each indexed or quarantined with a reason.
fn check_decode(input: &[u8]) -> Result<(), TestCaseError> {
    let limits = DecodeLimits::default();
    for payload in decode_input(input, &limits) {
        match payload {
            Ok(Payload::Data(batch)) => check_batch(batch)?,
            Ok(_) => {}
            Err((error, _kept)) => {
                prop_assert!(!error.to_string().is_empty(), "a decode error has a reason");
            }
        }
    }
    Ok(())
}

fn check_batch(batch: LogBatch) -> Result<(), TestCaseError> {
    let events_in = batch.events_in();
    let out = correlate(batch, &DecodeLimits::default());
    prop_assert_eq!(
        events_in as u64,
        out.events_indexed + out.quarantined.len() as u64,
        "every event is indexed or quarantined"
    );
    for quarantined in &out.quarantined {
        prop_assert!(!quarantined.reason.is_empty(), "{:?}", quarantined);
    }
    Ok(())
}

/// Parses one line, alone and in a batch: a span line gives spans or a reason.
fn check_line(line: &str) -> Result<(), TestCaseError> {
    match parse_event(line) {
        ParsedEvent::Invalid(reason) => prop_assert!(!reason.is_empty()),
        ParsedEvent::Spans(_) | ParsedEvent::Log(_) => {}
    }
    check_batch(batch_of(
        "/aws/lambda/fuzz",
        "2026/11/29/[$LATEST]fuzz",
        &[line.to_owned()],
    ))
}

static DECODE: Budget = Budget::new();
static DECODE_BYTES: Budget = Budget::new();
static PARSE: Budget = Budget::new();
static PARSE_TEXT: Budget = Budget::new();
static SPAN_LINES: Budget = Budget::new();
static INGEST: Budget = Budget::new();

proptest! {
    #![proptest_config(config(
        3_000,
        concat!(env!("CARGO_MANIFEST_DIR"), "/proptest-regressions/fuzz_decode.txt"),
    ))]

    #[test]
    fn decode_survives_mutated_payloads(
        case in until_spent(&DECODE, (any::<prop::sample::Index>(), layer(), mutations())),
    ) {
        let Some((pick, layer, changes)) = case else {
            return Ok(());
        };
        let corpus = corpus();
        let json = inner_json(pick.get::<Vec<u8>>(&corpus.payloads));
        check_decode(&encode(&json, layer, &changes))?;
    }
}

proptest! {
    #![proptest_config(config(
        3_000,
        concat!(env!("CARGO_MANIFEST_DIR"), "/proptest-regressions/fuzz_decode_bytes.txt"),
    ))]

    #[test]
    fn decode_survives_arbitrary_bytes(
        case in until_spent(&DECODE_BYTES, (prop::collection::vec(any::<u8>(), 0..2048), 0u8..3)),
    ) {
        let Some((bytes, wrap)) = case else {
            return Ok(());
        };
        let input = match wrap {
            0 => bytes,
            1 => gzip(&bytes),
            _ => lambda_event(&gzip(&bytes)),
        };
        check_decode(&input)?;
    }
}

proptest! {
    #![proptest_config(config(
        20_000,
        concat!(env!("CARGO_MANIFEST_DIR"), "/proptest-regressions/fuzz_parse.txt"),
    ))]

    #[test]
    fn parse_survives_mutated_lines_of_every_format(
        case in until_spent(&PARSE, (any::<prop::sample::Index>(), mutations())),
    ) {
        let Some((pick, changes)) = case else {
            return Ok(());
        };
        let line = pick.get(&corpus().lines).as_bytes().to_vec();
        check_line(&String::from_utf8_lossy(&mutate(line, &changes)))?;
    }
}

proptest! {
    // Generating text from a regex is the slow part here: fewer cases.
    #![proptest_config(config(
        2_000,
        concat!(env!("CARGO_MANIFEST_DIR"), "/proptest-regressions/fuzz_parse_text.txt"),
    ))]

    #[test]
    fn parse_survives_arbitrary_text(case in until_spent(&PARSE_TEXT, "\\PC{0,300}")) {
        let Some(line) = case else {
            return Ok(());
        };
        check_line(&line)?;
    }
}

/// The compact envelope with its gzip payload mutated inside (the text
/// around it stays valid, so the decoder reaches the payload).
fn mutate_envelope_payload(line: &str, changes: &[Mutation]) -> Option<String> {
    let mut envelope: serde_json::Value = serde_json::from_str(line).ok()?;
    let payload = envelope.get("payload")?.as_str()?;
    let engine = base64::engine::general_purpose::STANDARD;
    let gzipped = engine.decode(payload).ok()?;
    let mut inner = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gzipped[..]), &mut inner).ok()?;
    // Half the time the JSON inside is mutated, half the gzip stream itself.
    let changed = if changes.len().is_multiple_of(2) {
        gzip(&mutate(inner, changes))
    } else {
        mutate(gzipped, changes)
    };
    envelope["payload"] = serde_json::Value::from(engine.encode(changed));
    Some(envelope.to_string())
}

proptest! {
    #![proptest_config(config(
        5_000,
        concat!(env!("CARGO_MANIFEST_DIR"), "/proptest-regressions/fuzz_span_lines.txt"),
    ))]

    #[test]
    fn span_line_decoding_survives_mutations(
        case in until_spent(&SPAN_LINES, (any::<prop::sample::Index>(), mutations(), any::<bool>())),
    ) {
        let Some((pick, changes, inside)) = case else {
            return Ok(());
        };
        let line = pick.get(&corpus().span_lines);
        let mutated = if inside {
            mutate_envelope_payload(line, &changes)
        } else {
            None
        }
        .unwrap_or_else(|| String::from_utf8_lossy(&mutate(line.as_bytes().to_vec(), &changes)).into_owned());
        check_line(&mutated)?;
    }
}

proptest! {
    #![proptest_config(config(
        300,
        concat!(env!("CARGO_MANIFEST_DIR"), "/proptest-regressions/fuzz_ingest.txt"),
    ))]

    /// The whole pipeline: whatever arrives, ingest succeeds (bad input is not
    /// a store error), counts add up, and a payload it cannot read is in the
    /// quarantine with its reason.
    #[test]
    fn ingest_quarantines_what_it_cannot_read(
        case in until_spent(&INGEST, (any::<prop::sample::Index>(), layer(), mutations())),
    ) {
        let Some((pick, layer, changes)) = case else {
            return Ok(());
        };
        let json = inner_json(pick.get::<Vec<u8>>(&corpus().payloads));
        let input = encode(&json, layer, &changes);
        let collector = memory_collector();
        let counters = runtime()
            .block_on(collector.ingest(&input, "fuzz"))
            .map_err(|error| TestCaseError::fail(format!("ingest failed: {error}")))?;
        prop_assert_eq!(
            counters.events_in,
            counters.events_indexed + counters.events_quarantined
        );
        let records = quarantine_records(&collector);
        if counters.payloads_quarantined + counters.events_quarantined > 0 {
            prop_assert!(!records.is_empty(), "{:?}", counters);
        }
        for record in &records {
            let payload_reason = record["reason"].as_str().is_some_and(|r| !r.is_empty());
            let event_reasons = record["events"].as_array().is_some_and(|events| {
                !events.is_empty()
                    && events
                        .iter()
                        .all(|e| e["reason"].as_str().is_some_and(|r| !r.is_empty()))
            });
            prop_assert!(payload_reason || event_reasons, "{}", record);
        }
    }
}
