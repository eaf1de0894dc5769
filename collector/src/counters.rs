//! What happened to the events of one input: counted, never guessed.

/// Counts for one payload, one input or a whole run (they add up).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct IngestCounters {
    /// Payloads read (data, control and undecodable).
    pub payloads: u64,
    /// `CONTROL_MESSAGE` payloads (CloudWatch's subscription check), not indexed.
    pub control_messages: u64,
    /// Log events read from the payloads.
    pub events_in: u64,
    /// Events that became at least one row.
    pub events_indexed: u64,
    /// Events quarantined with a reason (too large, unreadable span line).
    pub events_quarantined: u64,
    /// Events delivered more than once within one batch (a retried delivery in
    /// the same Kinesis batch, S3 object or directory), indexed once.
    pub events_duplicate: u64,
    /// Payloads quarantined whole (empty, not gzip, not JSON, over a size cap).
    pub payloads_quarantined: u64,
    /// Rows written to `spans`.
    pub span_rows: u64,
    /// Rows written to `logs`.
    pub log_rows: u64,
    /// Rows written to `invocations`.
    pub invocation_rows: u64,
}

impl std::ops::AddAssign for IngestCounters {
    fn add_assign(&mut self, other: IngestCounters) {
        self.payloads += other.payloads;
        self.control_messages += other.control_messages;
        self.events_in += other.events_in;
        self.events_indexed += other.events_indexed;
        self.events_quarantined += other.events_quarantined;
        self.events_duplicate += other.events_duplicate;
        self.payloads_quarantined += other.payloads_quarantined;
        self.span_rows += other.span_rows;
        self.log_rows += other.log_rows;
        self.invocation_rows += other.invocation_rows;
    }
}
