//! Tests of the decode stage.

use base64::Engine as _;

use super::*;
use std::io::Write as _;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

const DATA: &str = r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"logEvents":[{"id":"1","timestamp":5,"message":"hi"}]}"#;

#[test]
fn numeric_event_ids_are_read_as_text() {
    let moto = DATA.replace(r#""id":"1""#, r#""id":123456789012345678"#);
    let payloads = decode_input(moto.as_bytes(), &DecodeLimits::default());
    let Ok(Payload::Data(batch)) = &payloads[0] else {
        panic!("{payloads:?}")
    };
    assert_eq!(batch.events[0].id, "123456789012345678");
}

#[test]
fn gzip_bombs_stop_at_the_limit() {
    let bomb = gzip(&vec![b' '; 2 * 1024 * 1024]);
    let limits = DecodeLimits {
        max_decompressed_bytes: 1024 * 1024,
        ..DecodeLimits::default()
    };
    let payloads = decode_input(&bomb, &limits);
    assert!(matches!(
        payloads[0],
        Err((DecodeError::TooLarge { .. }, _))
    ));
}

#[test]
fn json_lines_decode_each_line_on_its_own() {
    let lines = format!("{DATA}\n{{\"messageType\":\"CONTROL_MESSAGE\"}}\n{{broken\n");
    let payloads = decode_input(lines.as_bytes(), &DecodeLimits::default());
    assert_eq!(payloads.len(), 3);
    assert!(matches!(payloads[0], Ok(Payload::Data(_))));
    assert!(matches!(payloads[1], Ok(Payload::Control)));
    assert!(matches!(
        &payloads[2],
        Err((DecodeError::OnLine { line: 3, error }, _)) if matches!(**error, DecodeError::Json(_))
    ));
}

/// Lines are counted in the input as given: blank lines and leading ones
/// count, and a line that is JSON but no payload is told apart too.
#[test]
fn a_failed_line_of_several_is_named_by_its_line_in_the_input() {
    let lines = format!("\n{DATA}\n\n{{\"hello\":1}}\r\n{DATA}\n{{broken}}\n");
    let payloads = decode_input(lines.as_bytes(), &DecodeLimits::default());
    let reasons: Vec<String> = payloads
        .iter()
        .map(|payload| match payload {
            Ok(_) => "ok".to_owned(),
            Err((error, kept)) => format!("{error} [{}]", String::from_utf8_lossy(kept)),
        })
        .collect();
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert_eq!(reasons[0], "ok");
    assert!(
        reasons[1].starts_with("line 4: unrecognised input: json without awslogs")
            && reasons[1].ends_with(r#"[{"hello":1}]"#),
        "{reasons:?}"
    );
    assert_eq!(reasons[2], "ok");
    assert!(
        reasons[3].starts_with("line 6: invalid json: ") && reasons[3].ends_with("[{broken}]"),
        "{reasons:?}"
    );
    // One document alone needs no line.
    let alone = decode_input(b"{\"hello\":1}", &DecodeLimits::default());
    assert!(
        matches!(&alone[..], [Err((DecodeError::Unrecognised(_), _))]),
        "{alone:?}"
    );
}

#[test]
fn lambda_event_wrapping_gzip_decodes() {
    let data = base64::engine::general_purpose::STANDARD.encode(gzip(DATA.as_bytes()));
    let event = format!(r#"{{"awslogs":{{"data":"{data}"}},"extra":1}}"#);
    let payloads = decode_input(event.as_bytes(), &DecodeLimits::default());
    assert!(matches!(&payloads[..], [Ok(Payload::Data(batch))] if batch.log_group == "g"));
}

#[test]
fn a_byte_order_mark_and_base64_of_plain_json_are_read() {
    let with_bom = [b"\xef\xbb\xbf".as_slice(), DATA.as_bytes()].concat();
    assert!(matches!(
        decode_input(&with_bom, &DecodeLimits::default())[..],
        [Ok(Payload::Data(_))]
    ));
    let base64_json = base64::engine::general_purpose::STANDARD.encode(DATA);
    assert!(matches!(
        decode_input(base64_json.as_bytes(), &DecodeLimits::default())[..],
        [Ok(Payload::Data(_))]
    ));
}

#[test]
fn unknown_message_types_are_errors() {
    let odd = DATA.replace("DATA_MESSAGE", "MYSTERY");
    let payloads = decode_input(odd.as_bytes(), &DecodeLimits::default());
    assert!(matches!(
        payloads[0],
        Err((DecodeError::UnknownMessageType(_), _))
    ));
}

/// A document the input's reader fails on is named by the line it starts on;
/// serde's position repeats that line only when the failure is further down.
#[test]
fn a_failed_document_names_its_line_once() {
    let reasons = |input: String| -> Vec<String> {
        decode_input(input.as_bytes(), &DecodeLimits::default())
            .iter()
            .filter_map(|payload| payload.as_ref().err().map(|(error, _)| error.to_string()))
            .collect()
    };
    for (input, reason) in [
        (
            format!("{DATA}\n{{broken"),
            "line 2: invalid json: key must be a string at column 2",
        ),
        (
            format!("{DATA}\n{{\n  \"a\": 1,\n  broken\n}}"),
            "line 2: invalid json: key must be a string at line 4 column 3",
        ),
        // serde's lines are the input's, blank leading lines included, as the
        // prefix's line is.
        (
            format!("\n{DATA}\n{{broken"),
            "line 3: invalid json: key must be a string at column 2",
        ),
        (
            format!("\n{DATA}\n{{\n  broken\n}}"),
            "line 3: invalid json: key must be a string at line 4 column 3",
        ),
    ] {
        assert_eq!(reasons(input), [reason]);
    }
}
