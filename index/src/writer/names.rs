//! The names of stored objects: derived from their input, so that a retried
//! or duplicated delivery overwrites the same objects instead of adding rows
//! twice.

use sha2::{Digest as _, Sha256};

/// A stable name for the segment that one batch of one stream becomes:
/// `<function>-<hash>`, the hash covering the log group, stream, first and last
/// event id and event count.
pub fn segment_name(
    log_group: &str,
    log_stream: &str,
    first_event_id: &str,
    last_event_id: &str,
    events: usize,
) -> String {
    let hash = parts_hash(&[
        log_group,
        log_stream,
        first_event_id,
        last_event_id,
        &events.to_string(),
    ]);
    let function = log_group.strip_prefix("/aws/lambda/").unwrap_or(log_group);
    join_name(&[&readable_label(function), &hash])
}

/// A stable segment name for a batch of a batched source (Kinesis, Firehose,
/// S3, files, backfill): `<kind>-<label>-<hash of kind and parts>`.
///
/// `label` is made readable (ASCII letters, digits, `-`, `_`; at most 48
/// characters); the hash covers every part, so two inputs share a name only if
/// all their identifying parts are equal.
pub fn batch_segment_name(kind: &str, label: &str, parts: &[&str]) -> String {
    let hashed: Vec<&str> = std::iter::once(kind).chain(parts.iter().copied()).collect();
    join_name(&[kind, &readable_label(label), &parts_hash(&hashed)])
}

/// A name for a payload, derived from its bytes.
pub fn payload_segment_name(bytes: &[u8]) -> String {
    format!("payload-{}", name_hash(Sha256::digest(bytes).as_slice()))
}

/// The name of a quarantined payload's record: a hash of where it came from
/// and its bytes. The same input from the same source (a retried delivery, a
/// file ingested again) keeps one record; the same bytes from two sources keep
/// two, each naming its own source.
pub fn quarantine_record_name(source: &str, bytes: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(source.as_bytes());
    hasher.update([0]);
    hasher.update(bytes);
    format!("payload-{}", name_hash(hasher.finalize().as_slice()))
}

/// The first 10 bytes of a digest as 20 lowercase hex digits.
fn name_hash(digest: &[u8]) -> String {
    digest[..10].iter().map(|b| format!("{b:02x}")).collect()
}

/// [`name_hash`] of the SHA-256 of `parts`, each followed by a NUL byte, so
/// that moving a character from one part to the next changes it.
fn parts_hash(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    name_hash(hasher.finalize().as_slice())
}

/// `label` as a piece of an object name: ASCII letters, digits, `-` and `_`
/// (anything else becomes `_`), at most 48 characters, no `_` at either end.
fn readable_label(label: &str) -> String {
    let readable: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(48)
        .collect();
    readable.trim_matches('_').to_owned()
}

/// The non-empty pieces joined with `-`.
fn join_name(pieces: &[&str]) -> String {
    pieces
        .iter()
        .filter(|piece| !piece.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("-")
}
