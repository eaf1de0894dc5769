//! The ids of a copy: trace ids in three forms, other ids prefixed by the copy,
//! and the X-Ray ids that lines' text names.

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, StringArray};

use crate::BenchResult;
use crate::ids::stable_hash;

/// The trace id of a copy: a third of the copies keep the X-Ray shape (the
/// epoch moved by the shift, then the copy number), a third get random
/// 128-bit W3C ids and a third random 64-bit ids, each a fixed hash of the
/// copy and the original id, so that every table of a copy agrees.
fn copy_trace_id(id: &str, copy: usize, shift_seconds: i64) -> String {
    match copy % 3 {
        0 => {
            let epoch = i64::from_str_radix(&id[..8], 16).unwrap_or(0) + shift_seconds;
            format!(
                "{:08x}{copy:08x}{}",
                epoch.clamp(0, u32::MAX as i64),
                &id[16..]
            )
        }
        1 => format!(
            "{:016x}{:016x}",
            stable_hash((copy, id, "high")),
            stable_hash((copy, id, "low")).max(1)
        ),
        _ => format!("{:016x}{:016x}", 0, stable_hash((copy, id)).max(1)),
    }
}

/// Whether `text` is an X-Ray trace id, `1-` then 8 and 24 lowercase hex digits.
fn is_xray_id(text: &str) -> bool {
    let bytes = text.as_bytes();
    let hex = |range: std::ops::Range<usize>| {
        bytes[range]
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
    };
    bytes.len() == 35 && text.starts_with("1-") && bytes[10] == b'-' && hex(2..10) && hex(11..35)
}

/// Rewrites the X-Ray trace ids a line's text names (`REPORT … XRAY TraceId:`,
/// `platform.start` tracing, Powertools' `xray_trace_id`) with
/// [`copy_trace_id`], as the `trace_id` column is: compaction relinks lines
/// from what their platform lines say, so a copy must say its own trace.
pub(super) fn rewrite_xray_ids_in_text(text: &str, copy: usize, shift_seconds: i64) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut copied_to, mut from) = (0, 0);
    while let Some(found) = text[from..].find("1-") {
        let start = from + found;
        let starts_word = start == 0 || !text.as_bytes()[start - 1].is_ascii_alphanumeric();
        match text.get(start..start + 35) {
            Some(id) if starts_word && is_xray_id(id) => {
                let hex = format!("{}{}", &id[2..10], &id[11..]);
                let new = copy_trace_id(&hex, copy, shift_seconds);
                out.push_str(&text[copied_to..start]);
                out.push_str(&format!("1-{}-{}", &new[..8], &new[8..]));
                copied_to = start + 35;
                from = copied_to;
            }
            _ => from = start + 2,
        }
    }
    out.push_str(&text[copied_to..]);
    out
}

/// Rewrites a string id column: trace ids with [`copy_trace_id`], other ids
/// (request ids, log streams) with the copy as a prefix. Event ids are kept:
/// they are stream positions (decimal numbers), and each copy has its own
/// streams, so `(log_group, log_stream, event_id)` stays unique.
pub(super) fn rewrite_ids(
    column: &ArrayRef,
    copy: usize,
    shift_ns: i64,
    trace: bool,
) -> BenchResult<ArrayRef> {
    let strings = column.as_string::<i32>();
    let shift_seconds = shift_ns / 1_000_000_000;
    let rewritten: StringArray = strings
        .iter()
        .map(|value| {
            value.map(|id| {
                if trace && id.len() == 32 {
                    copy_trace_id(id, copy, shift_seconds)
                } else {
                    format!("{copy:x}-{id}")
                }
            })
        })
        .collect();
    Ok(Arc::new(rewritten))
}
