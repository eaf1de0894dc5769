//! tracelake instrumentation: OpenTelemetry spans and trace-correlated JSON logs
//! for Rust AWS Lambdas, written to stdout with no network call.
//!
//! [`wire`] defines the line formats that the collector reads.

pub mod wire;
