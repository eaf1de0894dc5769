//! The id forms looked up, and each id as a user pastes it.

use std::hash::{DefaultHasher, Hash, Hasher};

use tracelake_index::rows::TraceIndexRow;
use tracelake_instrumentation::wire::ids::TraceId;

use crate::DAY_NS;

/// The id forms the benchmark looks up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum IdForm {
    /// A span-carrying trace whose id starts with its own time (X-Ray).
    Xray,
    /// A span-carrying trace whose id does not (a random W3C id, 128 or 64 bits).
    W3c,
    /// A trace with logs or invocations and no span line.
    LogsOnly,
}

impl IdForm {
    pub(crate) fn label(self) -> &'static str {
        match self {
            IdForm::Xray => "X-Ray",
            IdForm::W3c => "random W3C",
            IdForm::LogsOnly => "logs-only",
        }
    }
}

/// What a trace row of `trace_index` is, by its id and time.
pub(crate) fn id_form(row: &TraceIndexRow) -> IdForm {
    if row.span_count == 0 {
        return IdForm::LogsOnly;
    }
    let epoch_ns = row
        .trace_id
        .xray_epoch_seconds()
        .map(|s| i64::from(s) * 1_000_000_000);
    match epoch_ns {
        Some(epoch) if (epoch - row.min_start_ns).abs() <= DAY_NS => IdForm::Xray,
        _ => IdForm::W3c,
    }
}

/// The id as a user pastes it: X-Ray ids in the X-Ray form, others as hex
/// with leading zeros dropped (Jaeger's form; 64-bit ids are then 16 digits at most).
pub(crate) fn pasted(id: &TraceId, form: IdForm) -> String {
    match form {
        IdForm::Xray => id.to_xray(),
        IdForm::W3c | IdForm::LogsOnly => {
            let hex = id.to_string();
            let trimmed = hex.trim_start_matches('0');
            if trimmed.is_empty() {
                "0".to_owned()
            } else {
                trimmed.to_owned()
            }
        }
    }
}

pub(crate) fn stable_hash(value: impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}
