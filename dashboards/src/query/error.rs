//! Why a query could not be answered.

use std::time::Duration;

use datafusion::error::DataFusionError;

use super::limits;

/// Why a query could not be answered.
///
/// Every query method can fail as a query fails: [`QueryError::Query`] when
/// DataFusion refuses the SQL or fails reading the index's files (a missing or
/// corrupt Parquet file), [`QueryError::Timeout`] past the request's deadline,
/// [`QueryError::ResourcesExhausted`] over the memory limit,
/// [`QueryError::Decode`] when a row does not have the shape of its type (a
/// bug). A method's `# Errors` names the errors of its own parameters.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The index location is neither a directory nor a supported URL.
    #[error("invalid index location {location:?}: {reason}")]
    InvalidLocation {
        /// What was given.
        location: String,
        /// Why it was rejected.
        reason: String,
    },
    /// The index's manifests or hour listing could not be read.
    #[error("cannot read the index at {location:?}: {reason}")]
    IndexRead {
        /// The index root.
        location: String,
        /// The store's or manifest's error.
        reason: String,
    },
    /// The object store for the location could not be built.
    #[error("cannot open object store for {location:?}: {source}")]
    Store {
        /// What was given.
        location: String,
        /// The object store's error.
        source: object_store::Error,
    },
    /// Text that is not a trace id in any form `TraceId::parse_any` reads.
    #[error("invalid trace id {0:?}")]
    InvalidTraceId(String),
    /// A parameter outside its domain.
    #[error("invalid parameter {name}: {reason}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// DataFusion rejected or failed a dashboard query.
    #[error("query {query} failed: {source}")]
    Query {
        /// The SQL file name.
        query: &'static str,
        /// DataFusion's error.
        source: Box<DataFusionError>,
    },
    /// Ad-hoc SQL was rejected: bad syntax, unknown table, a value that does
    /// not cast (a client error).
    #[error("sql failed: {0}")]
    Sql(Box<DataFusionError>),
    /// The request (or, outside a request, the query) ran past its timeout:
    /// the query was stopped, or refused without running when the deadline
    /// had already passed (see [`limits::Deadline`]).
    #[error(
        "{query} stopped after {}: past the {} timeout, counted from the request's arrival",
        readable(*elapsed),
        readable(*deadline)
    )]
    Timeout {
        /// The SQL file name, `sql`, or `request` when the deadline passed
        /// outside a query (listing the index, assembling the answer).
        query: &'static str,
        /// Time from the request's arrival to when it was stopped.
        elapsed: Duration,
        /// The timeout (the engine's `query_timeout`).
        deadline: Duration,
    },
    /// A query needed more memory than the engine's pool allows and could not
    /// spill.
    #[error("query {query} refused: it needs more memory than the {limit_mb} MB limit ({source})")]
    ResourcesExhausted {
        /// The SQL file name, or `sql`.
        query: &'static str,
        /// The pool size.
        limit_mb: usize,
        /// DataFusion's error.
        source: Box<DataFusionError>,
    },
    /// A result row did not have the expected shape.
    #[error("unexpected row from {query}: {source}")]
    Decode {
        /// The SQL file name.
        query: &'static str,
        /// serde's error.
        source: serde_json::Error,
    },
}

impl QueryError {
    /// The error of work stopped at `deadline`.
    pub fn timeout(query: &'static str, deadline: &limits::Deadline) -> QueryError {
        QueryError::Timeout {
            query,
            elapsed: deadline.elapsed(),
            deadline: deadline.timeout(),
        }
    }
}

/// `duration` as humantime writes it (`30s`, `1ns`, `2m 5s`), to the
/// millisecond from 1 ms up and to the microsecond from 1 µs up (a timeout's
/// elapsed time to the nanosecond reads as noise); a timeout under 1 ms keeps
/// its nanoseconds instead of reading "0 ms".
pub fn readable(duration: Duration) -> humantime::FormattedDuration {
    let rounded = if duration >= Duration::from_millis(1) {
        Duration::from_millis(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
    } else if duration >= Duration::from_micros(1) {
        Duration::from_micros(u64::try_from(duration.as_micros()).unwrap_or(u64::MAX))
    } else {
        duration
    };
    humantime::format_duration(rounded)
}

/// A DataFusion failure as the caller can act on it.
pub(super) fn failure(
    name: &'static str,
    limit_bytes: usize,
    error: DataFusionError,
) -> QueryError {
    match limits::failure_kind(&error) {
        limits::FailureKind::ResourcesExhausted => QueryError::ResourcesExhausted {
            query: name,
            limit_mb: limit_bytes >> 20,
            source: Box::new(error),
        },
        limits::FailureKind::Rejected if name == "sql" => QueryError::Sql(Box::new(error)),
        _ => QueryError::Query {
            query: name,
            source: Box::new(error),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timeout_names_its_durations_in_their_own_unit() {
        let error = QueryError::Timeout {
            query: "sql",
            elapsed: Duration::from_nanos(1_234_567),
            deadline: Duration::from_nanos(1),
        };
        assert_eq!(
            error.to_string(),
            "sql stopped after 1ms: past the 1ns timeout, counted from the request's arrival"
        );
        let error = QueryError::Timeout {
            query: "red",
            elapsed: Duration::from_millis(30_012),
            deadline: Duration::from_secs(30),
        };
        assert_eq!(
            error.to_string(),
            "red stopped after 30s 12ms: past the 30s timeout, counted from the request's arrival"
        );
        assert_eq!(readable(Duration::from_nanos(2_500)).to_string(), "2us");
    }
}
