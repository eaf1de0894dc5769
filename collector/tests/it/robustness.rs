//! Bad input ends in quarantine with its reason; nothing panics, nothing is lost.

use std::io::Write as _;

use base64::Engine as _;
use tracelake_collector::IngestCounters;
use tracelake_collector::decode::DecodeLimits;
use tracelake_collector::index::stats::index_stats;

use super::support::*;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

fn lambda_event(data: &str) -> Vec<u8> {
    format!(r#"{{"awslogs":{{"data":"{data}"}}}}"#).into_bytes()
}

/// Ingests one input and returns its counters and the quarantine records.
fn ingest_bad(input: &[u8]) -> (IngestCounters, Vec<serde_json::Value>) {
    let collector = memory_collector();
    let counters = runtime()
        .block_on(collector.ingest(input, "test"))
        .expect("bad input is not a store error");
    (counters, quarantine_records(&collector))
}

fn assert_payload_quarantined(input: &[u8], reason_contains: &str) {
    let (counters, records) = ingest_bad(input);
    assert_eq!(counters.payloads_quarantined, 1, "{counters:?}");
    assert_eq!(counters.log_rows, 0);
    assert_eq!(records.len(), 1);
    let reason = records[0]["reason"].as_str().expect("reason");
    assert!(
        reason.contains(reason_contains),
        "reason {reason:?} should mention {reason_contains:?}"
    );
    let kept = base64::engine::general_purpose::STANDARD
        .decode(records[0]["payload_base64"].as_str().expect("payload kept"))
        .expect("base64");
    assert!(!kept.is_empty(), "the failing bytes are kept");
}

/// Identical bad bytes from two sources are two records, each naming its
/// source; the same source delivering them again keeps its one record.
#[test]
fn each_source_of_a_bad_payload_keeps_its_own_record() {
    let collector = memory_collector();
    let runtime = runtime();
    let bad = lambda_event("H4sI!!!not base64!!!");
    for source in ["file:a.json", "file:b.json", "file:a.json"] {
        let counters = runtime
            .block_on(collector.ingest(&bad, source))
            .expect("bad input is not a store error");
        assert_eq!(counters.payloads_quarantined, 1, "{counters:?}");
    }
    let mut sources: Vec<String> = quarantine_records(&collector)
        .iter()
        .map(|record| record["source"].as_str().expect("source").to_owned())
        .collect();
    sources.sort();
    assert_eq!(sources, ["file:a.json", "file:b.json"]);
}

#[test]
fn corrupt_base64_is_quarantined() {
    assert_payload_quarantined(&lambda_event("H4sI!!!not base64!!!"), "invalid base64");
}

#[test]
fn corrupt_gzip_is_quarantined() {
    let mut broken = gzip(&data_message_json(&batch_of(
        "g",
        "s",
        &["hello".to_owned()],
    )));
    let middle = broken.len() / 2;
    broken.truncate(middle);
    let data = base64::engine::general_purpose::STANDARD.encode(&broken);
    assert_payload_quarantined(&lambda_event(&data), "invalid gzip");
}

#[test]
fn truncated_json_is_quarantined() {
    let json = data_message_json(&batch_of("g", "s", &["hello".to_owned()]));
    assert_payload_quarantined(&json[..json.len() - 10], "invalid json");
    let data = base64::engine::general_purpose::STANDARD.encode(gzip(&json[..json.len() / 2]));
    assert_payload_quarantined(&lambda_event(&data), "invalid json");
}

#[test]
fn non_utf8_bytes_are_quarantined() {
    let mut json = data_message_json(&batch_of("g", "s", &["hello".to_owned()]));
    let at = json
        .windows(5)
        .position(|w| w == b"hello")
        .expect("message");
    json[at] = 0xff;
    json[at + 1] = 0xfe;
    assert_payload_quarantined(&json, "not valid utf-8");
    let data = base64::engine::general_purpose::STANDARD.encode(gzip(&json));
    assert_payload_quarantined(&lambda_event(&data), "not valid utf-8");
}

#[test]
fn an_oversized_gzip_expansion_is_quarantined_not_expanded() {
    // 200 MB of spaces compress to about 200 KB: far past the 64 MiB cap.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..200 {
        encoder.write_all(&chunk).expect("gzip");
    }
    let bomb = encoder.finish().expect("gzip");
    assert!(
        bomb.len() < 1 << 20,
        "the bomb is small: {} bytes",
        bomb.len()
    );
    let limit = DecodeLimits::default().max_decompressed_bytes;
    assert_payload_quarantined(&bomb, &format!("expands past {limit} bytes"));
    let data = base64::engine::general_purpose::STANDARD.encode(&bomb);
    assert_payload_quarantined(&lambda_event(&data), "expands past");
}

#[test]
fn a_line_over_1_mb_is_quarantined_with_its_batch_mates_indexed() {
    // CloudWatch's event limit is 1 MB (1,048,576 bytes) since 2025: one byte more.
    let huge = "x".repeat(1_048_576 + 1);
    let batch = batch_of(
        "/aws/lambda/g",
        "s",
        &["before".to_owned(), huge.clone(), "after".to_owned()],
    );
    let (counters, records) = ingest_bad(&data_message_json(&batch));
    assert_eq!(counters.events_in, 3);
    assert_eq!(counters.events_indexed, 2);
    assert_eq!(counters.events_quarantined, 1);
    assert_eq!(counters.log_rows, 2);
    assert_eq!(records.len(), 1);
    let event = &records[0]["events"][0];
    assert!(
        event["reason"]
            .as_str()
            .expect("reason")
            .contains("exceeds the 1048576-byte cloudwatch event limit")
    );
    assert_eq!(
        event["message"].as_str().map(str::len),
        Some(huge.len()),
        "the whole line is kept"
    );
}

#[test]
fn an_unreadable_span_line_is_quarantined() {
    let batch = batch_of(
        "/aws/lambda/g",
        "s",
        &[UNREADABLE_SPAN_LINE.to_owned(), "fine".to_owned()],
    );
    let (counters, records) = ingest_bad(&data_message_json(&batch));
    assert_eq!(
        (counters.events_indexed, counters.events_quarantined),
        (1, 1)
    );
    assert!(
        records[0]["reason"]
            .as_str()
            .expect("reason")
            .contains("unreadable span line")
    );
}

#[test]
fn unknown_json_shapes_are_quarantined() {
    assert_payload_quarantined(br#"{"hello":"world"}"#, "not a cloudwatch logs payload");
}

/// Plain text is not a payload, and its reason says so first, then what base64
/// made of it: "invalid base64" alone misled about text that was never meant
/// to be base64.
#[test]
fn plain_text_is_quarantined_as_not_a_payload() {
    let not_a_payload = "not a cloudwatch logs payload: not json, gzip, or base64 of either";
    for (text, detail) in [
        (&b"hello"[..], "(invalid base64: "),
        (b"hello\n", "(invalid base64: "),
        (
            b"plain text that is not base64 of gzip",
            "(invalid base64: ",
        ),
        // Four letters are valid base64, of three bytes that are not a payload.
        (b"test", "(as base64 it is 3 bytes of something else)"),
        (b"\x00\x01binary", "(invalid base64: "),
    ] {
        let (_, records) = ingest_bad(text);
        let reason = records[0]["reason"].as_str().expect("reason");
        assert!(
            reason.starts_with(not_a_payload) && reason.contains(detail),
            "{}: {reason}",
            String::from_utf8_lossy(text)
        );
        assert_payload_quarantined(text, not_a_payload);
    }
}

/// JSON whose value is not an object (a Powertools array of records, a bare
/// string or number) is quarantined as what it is: "not json" sent its reader
/// looking for a syntax error that is not there.
#[test]
fn json_that_is_not_an_object_is_quarantined_as_such() {
    for (text, kind) in [
        (&br#"[{"level":"INFO","message":"hi"}]"#[..], "array"),
        (b" [1, 2]\n", "array"),
        (br#""a string""#, "string"),
        (b"42", "number"),
        (b"-1.5e3", "number"),
        (b"true", "boolean"),
        (b"null", "null"),
    ] {
        let (counters, records) = ingest_bad(text);
        assert_eq!(counters.payloads_quarantined, 1);
        assert_eq!(
            records[0]["reason"],
            format!("not a cloudwatch logs payload: a json {kind}, not an object"),
            "{}",
            String::from_utf8_lossy(text)
        );
    }
}

/// Gzip whose content is not a payload says the gzip was read and its content
/// was not one: "not json, gzip, or base64 of either" alone denied the gzip.
#[test]
fn gzip_of_something_else_says_it_is_the_content() {
    for (content, reason) in [
        (
            &b"hello, not json\n"[..],
            "gzip content: not a cloudwatch logs payload: not json, gzip, or base64 of either (",
        ),
        (
            b"[1]",
            "gzip content: not a cloudwatch logs payload: a json array, not an object",
        ),
        (b"", "gzip content: empty input"),
    ] {
        for input in [
            gzip(content),
            lambda_event(&base64::engine::general_purpose::STANDARD.encode(gzip(content))),
        ] {
            let (counters, records) = ingest_bad(&input);
            assert_eq!(counters.payloads_quarantined, 1);
            let got = records[0]["reason"].as_str().expect("reason");
            assert!(
                got.starts_with(reason),
                "{}: {got}",
                String::from_utf8_lossy(content)
            );
        }
    }
}

/// An empty input (a 0-byte file, white space, an empty `awslogs.data`) is a
/// payload quarantined as "empty input", as any undecodable payload is: counted,
/// with no events in, never dropped unseen.
#[test]
fn an_empty_input_is_a_payload_quarantined_as_empty() {
    for input in [&b""[..], b" \n", &lambda_event("")] {
        let (counters, records) = ingest_bad(input);
        let expected = IngestCounters {
            payloads: 1,
            payloads_quarantined: 1,
            ..IngestCounters::default()
        };
        assert_eq!(counters, expected, "{}", String::from_utf8_lossy(input));
        assert_eq!(records.len(), 1);
        assert_eq!(records[0]["reason"], "empty input");
    }
}

/// A bad line of JSON lines is quarantined with its line number (1-based, as
/// an editor or `sed -n 3p` counts), and the good lines around it are indexed.
#[test]
fn a_bad_line_of_json_lines_is_quarantined_with_its_line_number() {
    let good = String::from_utf8(data_message_json(&batch_of(
        "g",
        "s",
        &["hello".to_owned()],
    )))
    .expect("utf-8");
    let input = format!("{good}\n{{\"not\": \"a payload\"}}\n{{truncated\n{good}\n");
    let (counters, records) = ingest_bad(input.as_bytes());
    assert_eq!(
        (counters.payloads, counters.payloads_quarantined),
        (4, 2),
        "{counters:?}"
    );
    let mut reasons: Vec<&str> = records
        .iter()
        .map(|record| record["reason"].as_str().expect("reason"))
        .collect();
    reasons.sort_unstable();
    assert!(
        reasons[0].starts_with("line 2: unrecognised input: json without awslogs")
            && reasons[1] == "line 3: invalid json: key must be a string at column 2",
        "{reasons:?}"
    );
}

#[test]
fn arbitrary_bytes_never_panic() {
    let collector = memory_collector();
    let rt = runtime();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let valid = data_message_json(&batch_of(
        "g",
        "s",
        &["START RequestId: x".to_owned(), "{\"a\":".to_owned()],
    ));
    for round in 0..300 {
        let mut input = valid.clone();
        for _ in 0..(round % 7 + 1) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let at = (seed as usize) % input.len();
            input[at] = (seed >> 32) as u8;
        }
        if round % 3 == 0 {
            input = gzip(&input);
        }
        let counters = rt
            .block_on(collector.ingest(&input, "fuzz"))
            .expect("no store error");
        assert_eq!(
            counters.events_in,
            counters.events_indexed + counters.events_quarantined
        );
    }
    let stats = rt.block_on(index_stats(collector.store())).expect("stats");
    assert!(stats.iter().any(|s| s.table == "quarantine"));
}

/// A DATA_MESSAGE whose `logEvents` are the given raw JSON texts.
fn payload_with_raw_events(events: &[&str]) -> Vec<u8> {
    format!(
        r#"{{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/aws/lambda/g","logStream":"2026/11/29/[$LATEST]abc","subscriptionFilters":["f"],"logEvents":[{}]}}"#,
        events.join(",")
    )
    .into_bytes()
}

#[test]
fn one_bad_event_is_quarantined_alone_and_the_others_are_indexed() {
    let good = |id: u32, text: &str| {
        format!(r#"{{"id":"{id}","timestamp":1795946400{id:03},"message":"{text}"}}"#)
    };
    let (first, last) = (good(1, "before"), good(5, "after"));
    let cases: [(&str, &str); 7] = [
        (
            r#"{"id":"2","timestamp":1795946400002,"message":{"not":"a string"}}"#,
            "unreadable log event",
        ),
        (
            r#"{"id":"3","timestamp":1795946400003,"message":"half a pair \ud83d here"}"#,
            "unpaired utf-16 surrogate",
        ),
        (
            r#"{"id":"4","timestamp":99999999999999999,"message":"from the year 3 million"}"#,
            "not milliseconds between 1970 and 2200",
        ),
        (
            r#"{"id":"6","timestamp":-5,"message":"before 1970"}"#,
            "not milliseconds between 1970 and 2200",
        ),
        // An id that is neither a string nor a number; the reason names what
        // came (serde's words for an untagged enum named nothing).
        (
            r#"{"id":true,"timestamp":1795946400007,"message":"id is a boolean"}"#,
            "invalid type: boolean `true`, expected a string or a number",
        ),
        (
            r#"{"id":{"n":8},"timestamp":1795946400008,"message":"id is an object"}"#,
            "invalid type: map, expected a string or a number",
        ),
        (
            r#"{"id":"9","timestamp":1795946400009,"message":"a","message":"b"}"#,
            "duplicate field `message`",
        ),
    ];
    for (bad, reason) in cases {
        let input = payload_with_raw_events(&[&first, bad, &last]);
        for input in [input.clone(), gzip(&input)] {
            let (counters, records) = ingest_bad(&input);
            assert_eq!(counters.payloads_quarantined, 0, "{bad}");
            assert_eq!(counters.events_in, 3, "{bad}");
            assert_eq!(counters.events_indexed, 2, "{bad}");
            assert_eq!(counters.events_quarantined, 1, "{bad}");
            assert_eq!(counters.log_rows, 2, "{bad}");
            assert_eq!(records.len(), 1);
            let event = &records[0]["events"][0];
            let got = event["reason"].as_str().expect("reason");
            assert!(got.contains(reason), "{got:?} should mention {reason:?}");
            // The event is kept as it came.
            assert_eq!(event["message"].as_str(), Some(bad), "{bad}");
        }
    }
}

#[test]
fn a_payload_of_only_bad_events_still_quarantines_each() {
    let input = payload_with_raw_events(&[
        r#"{"id":"1","timestamp":1795946400001,"message":42}"#,
        r#"{"id":"2","timestamp":"soon","message":"x"}"#,
    ]);
    let (counters, records) = ingest_bad(&input);
    assert_eq!(counters.events_in, 2);
    assert_eq!(counters.events_quarantined, 2);
    assert_eq!(counters.events_indexed, 0);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["events"].as_array().map(Vec::len), Some(2));
}

#[test]
fn an_event_of_exactly_1_mb_is_indexed() {
    let batch = batch_of("/aws/lambda/g", "s", &["y".repeat(1_048_576)]);
    let (counters, records) = ingest_bad(&data_message_json(&batch));
    assert_eq!(counters.events_indexed, 1);
    assert_eq!(counters.events_quarantined, 0);
    assert!(records.is_empty());
}
