//! Properties of any batch: every event is counted once, nothing panics, and no
//! row lands far from its CloudWatch time.

use proptest::prelude::*;
use tracelake_collector::decode::{DecodeLimits, Payload, decode_input};
use tracelake_collector::pipeline::parse_and_correlate as correlate;

/// Event texts of every shape the parser tells apart, with random parts.
fn message() -> impl Strategy<Value = String> {
    let request = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}";
    let time = prop_oneof![
        Just("2026-11-29T10:00:07.123Z".to_owned()),
        Just("1970-01-01T00:00:00Z".to_owned()),
        Just("2261-12-31T23:59:59.999999999Z".to_owned()),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,12})?(Z|[+-][0-9]{2}:?[0-9]{2})?",
    ];
    let number = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| if f.is_finite() {
            f.to_string()
        } else {
            "0".into()
        }),
        Just("1795946407".to_owned()),
        Just("1795946407004000000".to_owned()),
    ];
    prop_oneof![
        request.prop_map(|id| format!("START RequestId: {id} Version: $LATEST")),
        request.prop_map(|id| format!("END RequestId: {id}")),
        (request, "[0-9a-f]{24}").prop_map(|(id, hex)| format!(
            "REPORT RequestId: {id}\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 50 MB\t\nXRAY TraceId: 1-6b0bf7a0-{hex}\tSegmentId: 07a85e713f6302b2\tSampled: true"
        )),
        (time.clone(), request, "\\PC{0,20}")
            .prop_map(|(t, id, m)| format!("{t}\t{id}\tINFO\t{m}")),
        (time.clone(), "\\PC{0,20}").prop_map(|(t, m)| format!("{t}\tundefined\tfail\t{m}")),
        (time.clone(), "\\PC{0,20}").prop_map(|(t, m)| format!("[ERROR]\t{t}\t\t{m}")),
        (number.clone(), "[0-9a-f]{32}").prop_map(|(n, trace)| format!(
            r#"{{"level":30,"time":{n},"trace_id":"{trace}","span_id":"e3bb6f3d57a91383","msg":"x"}}"#
        )),
        number.prop_map(|n| format!(r#"{{"timestamp":{n},"level":"info","message":"m"}}"#)),
        time.clone().prop_map(|t| format!(r#"{{"timestamp":"{t}","log_level":"ERROR","errorType":"E","errorMessage":"m","requestId":"undefined"}}"#)),
        time.prop_map(|t| format!("time={t} level=warn msg=\"a b\"")),
        "\\PC{0,40}",
    ]
}

/// A raw `logEvents` entry: a good event of `message`, or a broken one.
fn raw_event() -> impl Strategy<Value = (String, bool)> {
    let time = prop_oneof![
        4 => 1_795_946_400_000_i64..1_795_946_500_000,
        1 => any::<i64>(),
    ];
    prop_oneof![
        6 => (message(), time, 0u64..u64::MAX).prop_map(|(m, t, id)| {
            (serde_json::json!({"id": id.to_string(), "timestamp": t, "message": m}).to_string(), true)
        }),
        1 => Just((r#"{"id":"9","timestamp":1795946400000,"message":{"a":1}}"#.to_owned(), false)),
        1 => Just((r#"{"id":"9","timestamp":1795946400000,"message":"\udc00 alone"}"#.to_owned(), false)),
        1 => Just((r#"{"id":"9","timestamp":1e300,"message":"x"}"#.to_owned(), false)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_event_is_counted_once_and_rows_stay_near_their_cloudwatch_time(
        events in prop::collection::vec(raw_event(), 0..25)
    ) {
        let raw: Vec<&str> = events.iter().map(|(text, _)| text.as_str()).collect();
        let payload = format!(
            r#"{{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"/aws/lambda/p","logStream":"2026/11/29/[$LATEST]p","logEvents":[{}]}}"#,
            raw.join(",")
        );
        let mut payloads = decode_input(payload.as_bytes(), &DecodeLimits::default());
        prop_assert_eq!(payloads.len(), 1);
        let Ok(Payload::Data(batch)) = payloads.remove(0) else {
            return Err(TestCaseError::fail("the payload itself is valid"));
        };
        prop_assert_eq!(batch.events_in(), events.len());
        let times: std::collections::HashMap<String, i64> = batch
            .events
            .iter()
            .map(|e| (e.id.clone(), e.timestamp_ms))
            .collect();
        let out = correlate(batch, &DecodeLimits::default());
        prop_assert_eq!(
            events.len() as u64,
            out.events_indexed + out.quarantined.len() as u64
        );
        let bad = events.iter().filter(|(_, good)| !good).count();
        prop_assert!(out.quarantined.len() >= bad);
        const DAY_NS: u64 = 86_400 * 1_000_000_000;
        for row in &out.logs {
            let cloudwatch_ms = times[&row.event_id];
            prop_assert!(
                row.timestamp_ns.abs_diff(cloudwatch_ms * 1_000_000) <= DAY_NS,
                "{} at {} vs {}", row.message, row.timestamp_ns, cloudwatch_ms
            );
        }
    }
}
