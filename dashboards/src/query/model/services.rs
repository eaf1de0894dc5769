//! Services, their tags and operations, the service map and RED series.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use tracelake_index::rows::SpanKind;

use super::fields::{Attributes, float, null_as_default};

/// One service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceSummary {
    /// Name.
    pub service: String,
    /// Spans in the range.
    pub span_count: i64,
    /// Traces in the range.
    pub trace_count: i64,
    /// Error spans in the range.
    pub error_count: i64,
    /// The Lambda functions that ran it (`faas.name` of its spans), sorted.
    #[serde(default, deserialize_with = "null_as_default")]
    pub functions: Vec<String>,
    /// Its tags, for grouping: each resource attribute of its spans (but
    /// those naming one sandbox or process) with its most frequent value
    /// (`queries/service_tags.sql`).
    #[serde(default)]
    pub tags: Attributes,
    /// Whether it wrote spans. A service seen only through its Lambda
    /// invocations (`queries/services.sql`) is not: its
    /// `span_count` is 0, `trace_count` counts the traces its invocations
    /// joined (by X-Ray) and `error_count` its failed invocations.
    #[serde(default = "yes")]
    pub instrumented: bool,
    /// Its Lambda invocations in the range, for a service without spans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocation_count: Option<i64>,
}

fn yes() -> bool {
    true
}

/// How many of a service's spans carry one resource attribute value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceTag {
    /// The service.
    pub service: String,
    /// The resource attribute's key.
    pub key: String,
    /// One of its values.
    pub value: String,
    /// Spans of the service with that value.
    pub span_count: i64,
}

impl ServiceSummary {
    /// Sets each service's tags from `rows`: per key, the value most of its
    /// spans carry (the smaller value on a tie, so that it is stable).
    pub fn attach_tags(services: &mut [ServiceSummary], rows: &[ServiceTag]) {
        let mut best: BTreeMap<(&str, &str), (&str, i64)> = BTreeMap::new();
        for row in rows {
            let slot = best
                .entry((row.service.as_str(), row.key.as_str()))
                .or_insert((row.value.as_str(), row.span_count));
            if row.span_count > slot.1 || (row.span_count == slot.1 && row.value.as_str() < slot.0)
            {
                *slot = (row.value.as_str(), row.span_count);
            }
        }
        for service in services.iter_mut() {
            service.tags = best
                .range((service.service.as_str(), "")..)
                .take_while(|((name, _), _)| *name == service.service)
                .map(|((_, key), (value, _))| ((*key).to_owned(), (*value).to_owned()))
                .collect();
        }
    }
}

/// One operation of a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    /// Span name.
    pub name: String,
    /// Span kind.
    pub kind: Option<SpanKind>,
    /// Spans in the range.
    pub span_count: i64,
}

/// One edge of the service map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceEdge {
    /// The calling service.
    pub parent: String,
    /// The called service.
    pub child: String,
    /// `sync`, or `async` for consumer spans and span links.
    pub kind: String,
    /// Calls.
    pub call_count: i64,
    /// Calls whose called span failed.
    pub error_count: i64,
    /// Median duration of the called span, in nanoseconds.
    #[serde(default, deserialize_with = "float")]
    pub p50_ns: Option<f64>,
    /// 99th percentile duration of the called span, in nanoseconds.
    #[serde(default, deserialize_with = "float")]
    pub p99_ns: Option<f64>,
}

/// Rate, errors and duration of one service operation in one time bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedPoint {
    /// Service.
    pub service: String,
    /// Operation.
    pub operation: Option<String>,
    /// Bucket start, in nanoseconds since the epoch (UTC).
    pub bucket: i64,
    /// Requests in the bucket.
    pub request_count: i64,
    /// Failed requests in the bucket.
    pub error_count: i64,
    /// Requests per second (computed).
    #[serde(default)]
    pub rate_per_second: f64,
    /// Failed / all (computed).
    #[serde(default)]
    pub error_rate: f64,
    /// Median duration, in nanoseconds.
    #[serde(default, deserialize_with = "float")]
    pub p50_ns: Option<f64>,
    /// 90th percentile duration, in nanoseconds.
    #[serde(default, deserialize_with = "float")]
    pub p90_ns: Option<f64>,
    /// 99th percentile duration, in nanoseconds.
    #[serde(default, deserialize_with = "float")]
    pub p99_ns: Option<f64>,
}
