//! Firehose HTTP endpoint requests: CloudWatch Logs → Firehose → `tracelake firehose`.
//!
//! The contract (AWS "HTTP endpoint delivery request and response
//! specifications"; `../shared/fixtures/cloudwatch/14b_…`): Firehose POSTs
//! `{"requestId":…,"timestamp":…,"records":[{"data":"<base64>"}]}`, gzipped
//! when `Content-Encoding: gzip`, with the configured key in
//! `X-Amz-Firehose-Access-Key` and a request id that stays the same across
//! retries. The endpoint answers `{"requestId":…,"timestamp":<ms>}` and, on
//! failure, an `errorMessage`:
//! - 200: indexed (bad records are quarantined and acknowledged);
//! - 401: missing or wrong access key;
//! - 413: the body, or its decompressed form, is larger than the limit;
//! - 400: the body is not a Firehose request (Firehose retries, then keeps it
//!   in its S3 backup: nothing is lost);
//! - 500: the index could not be written (Firehose retries; the retry, with the
//!   same request id, overwrites the same segments).

use serde::{Deserialize, Serialize};
use tracelake_instrumentation::wire::gzip::{GunzipError, gunzip_capped};

use super::{Batch, batch_segment_name};
use crate::counters::IngestCounters;
use crate::decode;
use crate::pipeline::Collector;

/// The largest request body accepted, compressed or not. Firehose buffers at
/// most 64 MiB for an HTTP endpoint.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024 * 1024;

/// The parts of an HTTP request the endpoint reads.
#[derive(Debug, Clone, Copy)]
pub struct FirehoseRequest<'a> {
    /// `X-Amz-Firehose-Access-Key`.
    pub access_key: Option<&'a str>,
    /// `X-Amz-Firehose-Request-Id`.
    pub request_id: Option<&'a str>,
    /// `Content-Encoding`.
    pub content_encoding: Option<&'a str>,
    /// The body as received.
    pub body: &'a [u8],
}

/// The response body Firehose expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FirehoseResponseBody {
    /// The request's id, echoed.
    pub request_id: String,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    /// Why the request failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

/// The status and body to answer with, and what was indexed.
#[derive(Debug, Clone)]
pub struct FirehoseResponse {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body.
    pub body: FirehoseResponseBody,
    /// What happened to the request's events (zero unless 200).
    pub counters: IngestCounters,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestBody {
    request_id: Option<String>,
    records: Vec<RequestRecord>,
}

#[derive(Deserialize)]
struct RequestRecord {
    data: String,
}

/// Handles one Firehose delivery. `expected_key` is the configured access key
/// (`None` accepts any request, for a listener on 127.0.0.1 only).
pub async fn handle_firehose_request(
    collector: &Collector,
    expected_key: Option<&str>,
    request: FirehoseRequest<'_>,
) -> FirehoseResponse {
    let header_id = request.request_id.unwrap_or_default().to_owned();
    let answer = |status: u16, request_id: &str, error_message: Option<String>| FirehoseResponse {
        status,
        body: FirehoseResponseBody {
            request_id: request_id.to_owned(),
            timestamp: chrono::Utc::now().timestamp_millis(),
            error_message,
        },
        counters: IngestCounters::default(),
    };
    if let Some(expected) = expected_key
        && !constant_time_eq(request.access_key.unwrap_or_default(), expected)
    {
        return answer(
            401,
            &header_id,
            Some("missing or invalid access key".into()),
        );
    }
    if request.body.len() > MAX_REQUEST_BYTES {
        return answer(
            413,
            &header_id,
            Some(format!(
                "payload of {} bytes is larger than {MAX_REQUEST_BYTES}",
                request.body.len()
            )),
        );
    }
    let gzipped = request
        .content_encoding
        .is_some_and(|encoding| encoding.trim().eq_ignore_ascii_case("gzip"));
    let inflated;
    let body = if gzipped {
        match gunzip_capped(request.body, MAX_REQUEST_BYTES as u64) {
            Ok(bytes) => {
                inflated = bytes;
                inflated.as_slice()
            }
            Err(GunzipError::TooLarge { limit }) => {
                return answer(
                    413,
                    &header_id,
                    Some(format!("payload decompresses past {limit} bytes")),
                );
            }
            Err(error) => return answer(400, &header_id, Some(error.to_string())),
        }
    } else {
        request.body
    };
    let parsed: RequestBody = match serde_json::from_slice(body) {
        Ok(parsed) => parsed,
        Err(error) => {
            return answer(
                400,
                &header_id,
                Some(format!("not a firehose request: {error}")),
            );
        }
    };
    let request_id = if header_id.is_empty() {
        parsed.request_id.clone().unwrap_or_default()
    } else {
        header_id
    };
    let segment = if request_id.is_empty() {
        // No id to name the batch by: its content names it instead.
        let digest = crate::index::writer::payload_segment_name(body);
        batch_segment_name("firehose", "", &[&digest])
    } else {
        batch_segment_name("firehose", "", &[&request_id])
    };
    let source = format!("firehose:{request_id}");
    let mut batch = Batch::new(collector, segment, source.clone());
    for (number, record) in parsed.records.iter().enumerate() {
        let record_source = format!("{source}#{number}");
        let payloads = decode::decode_input(record.data.as_bytes(), collector.limits());
        if let Err(error) = batch.add(payloads, &record_source).await {
            return answer(500, &request_id, Some(error.to_string()));
        }
    }
    match batch.finish().await {
        Ok(counters) => FirehoseResponse {
            counters,
            ..answer(200, &request_id, None)
        },
        Err(error) => answer(500, &request_id, Some(error.to_string())),
    }
}

/// Compares keys without leaking how much of a guess matched through timing.
fn constant_time_eq(given: &str, expected: &str) -> bool {
    let (given, expected) = (given.as_bytes(), expected.as_bytes());
    let mut difference = given.len() ^ expected.len();
    for (index, byte) in expected.iter().enumerate() {
        difference |= usize::from(byte ^ given.get(index).copied().unwrap_or(0));
    }
    difference == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_compare_exactly() {
        assert!(constant_time_eq("secret", "secret"));
        assert!(!constant_time_eq("secre", "secret"));
        assert!(!constant_time_eq("secretx", "secret"));
        assert!(!constant_time_eq("", "secret"));
    }
}
