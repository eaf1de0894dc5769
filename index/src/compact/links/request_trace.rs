//! The request → trace evidence and how pieces of it combine: weighted as at
//! ingest, and commutative, so the order rows are observed in does not matter.

use crate::rows::TraceId;

/// How much a source of a request → trace mapping is trusted (as at ingest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Weight {
    Platform = 1,
    /// An `Invoke` CLIENT span naming its callee's request id (as at ingest).
    Invoker = 2,
    Instrumented = 3,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RequestTrace {
    Known(TraceId, Weight),
    Conflict(Weight),
}

impl RequestTrace {
    /// Combines two pieces of evidence; commutative and associative, so the
    /// order rows are observed in does not matter.
    pub(super) fn merge(self, other: RequestTrace) -> RequestTrace {
        let weight = |evidence: RequestTrace| match evidence {
            RequestTrace::Known(_, weight) | RequestTrace::Conflict(weight) => weight,
        };
        let (a, b) = (weight(self), weight(other));
        if a > b {
            return self;
        }
        if b > a {
            return other;
        }
        match (self, other) {
            (RequestTrace::Known(x, _), RequestTrace::Known(y, _)) if x == y => self,
            _ => RequestTrace::Conflict(a),
        }
    }
}

/// What a REPORT said about its request's trace, for the `invocations` row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ReportTrace {
    Trace(TraceId),
    None,
    Conflict,
}

impl ReportTrace {
    pub(super) fn merge(self, other: ReportTrace) -> ReportTrace {
        if self == other {
            self
        } else {
            ReportTrace::Conflict
        }
    }
}
