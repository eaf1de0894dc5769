//! Spans drawn for the invocations of a trace that wrote no span of their own.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use opentelemetry_semantic_conventions::attribute as semconv;
use serde_json::Value;

use tracelake_index::rows::{InvocationStatus, SpanKind, StatusCode};

use crate::query::model::{Invocation, LogLine, Span};

/// The attribute that marks a span drawn for an invocation that wrote none.
pub const SYNTHETIC_ATTRIBUTE: &str = "tracelake.synthetic";

/// Where an invocation's platform lines say it sits in X-Ray: its own segment
/// id and the `Parent=` of the trace header Lambda gave it.
#[derive(Debug, Default, PartialEq)]
pub(super) struct XrayContext {
    /// The invocation's segment: `SegmentId:` of a text `REPORT` line, or
    /// `tracing.spanId` of a JSON `platform.start` or `platform.report`.
    pub(super) segment: Option<String>,
    /// `Parent=` of the `tracing.value` header of a JSON `platform.start` or
    /// `platform.report` (a text line names none).
    pub(super) parent: Option<String>,
}

impl XrayContext {
    /// Fills what `self` lacks from `other` (the first line naming a field wins).
    fn or(self, other: XrayContext) -> XrayContext {
        XrayContext {
            segment: self.segment.or(other.segment),
            parent: self.parent.or(other.parent),
        }
    }
}

fn span_id_text(text: &str) -> Option<String> {
    let text = text.trim();
    (text.len() == 16 && text.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| text.to_ascii_lowercase())
}

/// The X-Ray context a platform line names: a JSON `platform.start` or
/// `platform.report` (`tracing.spanId`, `Parent=` of `tracing.value`), or a
/// text `REPORT` line (`XRAY TraceId: … SegmentId: … Sampled: …`). `None` for
/// other lines and for platform lines that name no segment or parent.
pub(super) fn xray_context(log: &LogLine) -> Option<XrayContext> {
    let message = log.message.as_deref()?;
    let context = match log.format.as_deref()? {
        "lambda_platform_json" => {
            let record: Value = serde_json::from_str(message).ok()?;
            if !matches!(
                record.get("type")?.as_str()?,
                "platform.start" | "platform.report"
            ) {
                return None;
            }
            let tracing = record.get("record")?.get("tracing")?;
            XrayContext {
                segment: tracing
                    .get("spanId")
                    .and_then(Value::as_str)
                    .and_then(span_id_text),
                parent: tracing
                    .get("value")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .split(';')
                    .find_map(|part| part.trim().strip_prefix("Parent="))
                    .and_then(span_id_text),
            }
        }
        "lambda_platform_text" if message.trim_start().starts_with("REPORT") => {
            let (_, after) = message.split_once("SegmentId:")?;
            XrayContext {
                segment: after.split_whitespace().next().and_then(span_id_text),
                parent: None,
            }
        }
        _ => return None,
    };
    (context.segment.is_some() || context.parent.is_some()).then_some(context)
}

/// The service an invocation's own lines name: a structured `service` field
/// other than the function name (which the collector writes on lines that
/// name none, platform lines included), as the services list reads a log
/// group's service (`queries/filters/log_group_services.sql`); else the
/// function.
fn service_of(function: &str, lines: &[&LogLine]) -> String {
    lines
        .iter()
        .filter(|l| {
            !matches!(
                l.format.as_deref(),
                Some("lambda_platform_text" | "lambda_platform_json")
            )
        })
        .filter_map(|l| l.service.as_deref())
        .filter(|service| *service != function)
        .max()
        .unwrap_or(function)
        .to_owned()
}

/// A stable 16-hex-digit id for an invocation without an X-Ray segment id
/// (FNV-1a of its request id), so that the same trace draws the same ids.
fn request_span_id(request_id: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in request_id.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// Spans for the invocations of a trace that wrote no span of their own: an
/// uninstrumented function linked to the trace by X-Ray, its request id or its
/// stream. Each is drawn as a `server` span of its function over the time of
/// its `invocations` row (else of its lines), with its cold start, timeout or
/// error, and gets a note when where it hangs is not known.
///
/// It hangs under the span that the trace header of its JSON `platform.start`
/// (or `platform.report`) names as `Parent=` when that span is in the trace;
/// otherwise it sits at the root with a note. Its own id is the X-Ray segment
/// id its platform lines name (text `REPORT … SegmentId:`, JSON
/// `tracing.spanId`), so that spans of instrumented services it called (whose
/// parent is that segment) hang under it; only an invocation whose lines name
/// no segment gets an id hashed from its request id.
///
/// Its service is the one its own (non-platform) lines name, as the services
/// list names a function's service, else its function.
pub(crate) fn invocation_spans(
    trace_id: &str,
    spans: &[Span],
    logs: &[LogLine],
    invocations: &[Invocation],
) -> Vec<(Span, Option<String>)> {
    let span_ids: HashSet<&str> = spans.iter().map(|span| span.span_id.as_str()).collect();
    let with_spans: HashSet<&str> = spans
        .iter()
        .filter_map(|span| span.request_id.as_deref())
        .collect();
    let mut lines_of: BTreeMap<&str, Vec<&LogLine>> = BTreeMap::new();
    for log in logs {
        if let Some(request) = log.request_id.as_deref()
            && !with_spans.contains(request)
        {
            lines_of.entry(request).or_default().push(log);
        }
    }
    let mut rows_of: BTreeMap<&str, &Invocation> = BTreeMap::new();
    for invocation in invocations {
        if let Some(request) = invocation.request_id.as_deref()
            && !with_spans.contains(request)
        {
            rows_of.entry(request).or_insert(invocation);
        }
    }
    let requests: BTreeSet<&str> = lines_of.keys().chain(rows_of.keys()).copied().collect();

    let mut taken: HashSet<String> = span_ids.iter().map(|id| (*id).to_owned()).collect();
    let mut drawn = Vec::new();
    for request in requests {
        let lines = lines_of.get(request).map(Vec::as_slice).unwrap_or(&[]);
        let row = rows_of.get(request).copied();
        let first_line = lines.iter().filter_map(|l| l.timestamp).min();
        let last_line = lines.iter().filter_map(|l| l.timestamp).max();
        let end = row.and_then(|r| r.end_time).or(last_line);
        let start = row.and_then(Invocation::start_or_estimate).or(first_line);
        let (Some(start), Some(end)) = (start, end) else {
            continue;
        };
        let end = end.max(start);
        let context = lines
            .iter()
            .filter_map(|l| xray_context(l))
            .fold(XrayContext::default(), XrayContext::or);
        let parent = context
            .parent
            .clone()
            .filter(|parent| span_ids.contains(parent.as_str()));
        let own_id = [context.segment.clone(), context.parent.clone()]
            .into_iter()
            .flatten()
            .find(|id| !taken.contains(id))
            .unwrap_or_else(|| request_span_id(request));
        taken.insert(own_id.clone());
        let function = row
            .and_then(|r| r.function.clone())
            .or_else(|| {
                lines
                    .iter()
                    .find_map(|l| l.log_group.as_deref()?.strip_prefix("/aws/lambda/"))
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| "unknown function".to_owned());
        let service = service_of(&function, lines);
        let status = row.and_then(|r| r.status);
        let failed = matches!(
            status,
            Some(InvocationStatus::Error | InvocationStatus::Timeout)
        );
        let status_message = match status {
            Some(InvocationStatus::Timeout) => Some("Task timed out".to_owned()),
            Some(InvocationStatus::Error) => row
                .and_then(|r| r.error_type.clone())
                .or_else(|| Some("invocation failed".to_owned())),
            _ => None,
        };
        let cold_start = row.and_then(|r| r.cold_start).or_else(|| {
            lines
                .iter()
                .any(|l| {
                    l.message.as_deref().is_some_and(|m| {
                        m.contains("Init Duration") || m.contains("initDurationMs")
                    })
                })
                .then_some(true)
        });
        let mut attributes = BTreeMap::new();
        attributes.insert(SYNTHETIC_ATTRIBUTE.to_owned(), "invocation".to_owned());
        attributes.insert(semconv::FAAS_INVOCATION_ID.to_owned(), request.to_owned());
        // A `Parent=` that is the invocation's own segment says nothing of its caller.
        let foreign_parent = context
            .parent
            .as_deref()
            .is_some_and(|p| Some(p) != context.segment.as_deref() && p != own_id);
        let note = if parent.is_some() {
            None
        } else if foreign_parent {
            Some(
                "no span of this function: drawn from its Lambda platform lines; \
                 its caller (X-Ray Parent) wrote no span in this trace"
                    .to_owned(),
            )
        } else {
            Some(
                "no span of this function: drawn from its Lambda platform lines; \
                 its caller is not known (no X-Ray Parent of another span in platform.start)"
                    .to_owned(),
            )
        };
        drawn.push((
            Span {
                trace_id: trace_id.to_owned(),
                span_id: own_id,
                parent_span_id: parent,
                name: Some(function.clone()),
                kind: Some(SpanKind::Server),
                service: Some(service),
                start_time: Some(start),
                end_time: Some(end),
                duration_ns: Some(end - start),
                status_code: Some(if failed {
                    StatusCode::Error
                } else {
                    StatusCode::Unset
                }),
                status_message,
                request_id: Some(request.to_owned()),
                faas_name: Some(function),
                faas_trigger: None,
                cold_start,
                cloud_region: None,
                cloud_account_id: None,
                attributes,
                resource_attributes: BTreeMap::new(),
                events: Vec::new(),
                links: Vec::new(),
                log_group: row
                    .and_then(|r| r.log_group.clone())
                    .or_else(|| lines.iter().find_map(|l| l.log_group.clone())),
                log_stream: row
                    .and_then(|r| r.log_stream.clone())
                    .or_else(|| lines.iter().find_map(|l| l.log_stream.clone())),
            },
            note,
        ));
    }
    drawn
}
