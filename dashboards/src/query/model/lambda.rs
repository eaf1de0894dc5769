//! Lambda cold starts and cost.

use serde::{Deserialize, Serialize};

use super::fields::float;

/// Cold starts of one function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColdStarts {
    /// Function.
    pub function: Option<String>,
    /// Invocations in the range.
    pub invocations: i64,
    /// Cold starts in the range.
    pub cold_starts: i64,
    /// Cold starts / invocations (computed).
    #[serde(default)]
    pub cold_start_rate: f64,
    /// Median init duration, in milliseconds.
    #[serde(default, deserialize_with = "float")]
    pub init_p50_ms: Option<f64>,
    /// 99th percentile init duration, in milliseconds.
    #[serde(default, deserialize_with = "float")]
    pub init_p99_ms: Option<f64>,
}

/// Lambda cost of one function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCost {
    /// Function.
    pub function: Option<String>,
    /// Invocations in the range.
    pub invocations: i64,
    /// Billed milliseconds.
    #[serde(default, deserialize_with = "float")]
    pub billed_ms: Option<f64>,
    /// GB-seconds.
    #[serde(default, deserialize_with = "float")]
    pub gb_seconds: Option<f64>,
    /// USD.
    #[serde(default, deserialize_with = "float")]
    pub cost_usd: Option<f64>,
}

/// Lambda cost of one trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceCost {
    /// Trace.
    pub trace_id: String,
    /// Invocations of the trace.
    pub invocations: i64,
    /// Distinct functions.
    pub functions: i64,
    /// Billed milliseconds.
    #[serde(default, deserialize_with = "float")]
    pub billed_ms: Option<f64>,
    /// USD.
    #[serde(default, deserialize_with = "float")]
    pub cost_usd: Option<f64>,
}
