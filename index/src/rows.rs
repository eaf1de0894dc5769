#![allow(missing_docs)] // Each field is the column of the same name; see schema.rs.
//! Rows of the index tables, as the pipeline builds them before they become
//! Arrow columns. Field names and meanings follow [`crate::schema`].
//!
//! Names that many rows share are `Arc<str>`: a delivery's log group and
//! stream (one allocation per delivery, not per row) and a log line's service
//! (one per request, or per run of lines naming the same one, [`SharedNames`]).
//!
//! Closed sets of values are enums with one string form each ([`SpanKind`],
//! [`StatusCode`], [`LogLevel`], [`Link`], [`InvocationStatus`]): the form
//! written to Parquet, read back, matched in SQL, and (through their serde
//! impls) returned by the query API.

use opentelemetry_semantic_conventions::attribute as semconv;
use std::borrow::Cow;
use std::sync::Arc;

/// Trace and span ids: the one definition and parser (`TraceId::parse_any`)
/// shared with the instrumentation's wire format. Rows hold them typed; they
/// become 32 and 16 lowercase hex digits only in the Arrow columns.
pub use tracelake_instrumentation::wire::ids::{IdError, SpanId, TraceId};

/// Shares one `Arc<str>` among consecutive equal names: the rows of a
/// delivery, and of a file sorted by service, name the same log group, stream
/// and service one after another.
#[derive(Debug, Default)]
pub struct SharedNames(Option<Arc<str>>);

impl SharedNames {
    /// `name`, as the last `Arc<str>` shared when it was the same name.
    pub fn share(&mut self, name: &str) -> Arc<str> {
        match &self.0 {
            Some(last) if **last == *name => last.clone(),
            _ => self.0.insert(Arc::from(name)).clone(),
        }
    }
}

/// Declares a closed set of column values: the enum, its one string form
/// (`as_str`), and the inverse (`parse`), which is `None` for anything else.
macro_rules! column_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value as stored in the column.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The value a column string stands for, `None` for anything else.
            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// As its one string form ([`Self::as_str`]), as the query API returns it.
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        /// From its one string form; any other string is an error naming the
        /// accepted ones.
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Form;
                impl serde::de::Visitor<'_> for Form {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(concat!("one of:", $(" ", $text),+))
                    }
                    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<$name, E> {
                        $name::parse(text).ok_or_else(|| {
                            E::invalid_value(serde::de::Unexpected::Str(text), &self)
                        })
                    }
                }
                deserializer.deserialize_str(Form)
            }
        }
    };
}

column_enum! {
    /// `spans.kind`: the OpenTelemetry span kind.
    #[derive(Default)]
    SpanKind {
        Server => "server",
        Client => "client",
        Producer => "producer",
        Consumer => "consumer",
        #[default]
        Internal => "internal",
    }
}

column_enum! {
    /// `spans.status_code`: the OpenTelemetry span status.
    #[derive(Default)]
    StatusCode {
        #[default]
        Unset => "unset",
        Ok => "ok",
        Error => "error",
    }
}

column_enum! {
    /// `logs.level`: a log line's severity, normalised from the runtimes' spellings.
    LogLevel {
        Trace => "TRACE",
        Debug => "DEBUG",
        Info => "INFO",
        Warn => "WARN",
        Error => "ERROR",
        Fatal => "FATAL",
    }
}

column_enum! {
    /// `logs.link`: how a log line was linked to its trace.
    Link {
        /// The line carries its trace id.
        TraceId => "trace_id",
        /// The line's request id names an invocation whose trace is known.
        RequestId => "request_id",
        /// The line was written on its stream while one invocation was running.
        Stream => "stream",
    }
}

column_enum! {
    /// `invocations.status`: how an invocation ended.
    #[derive(Default)]
    InvocationStatus {
        #[default]
        Success => "success",
        Error => "error",
        Timeout => "timeout",
    }
}

/// One row of `spans`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpanRow {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub parent_span_id: Option<SpanId>,
    pub name: String,
    pub kind: SpanKind,
    pub service: String,
    pub start_time_ns: i64,
    pub end_time_ns: i64,
    pub status_code: StatusCode,
    pub status_message: Option<String>,
    pub request_id: Option<String>,
    pub faas_name: Option<String>,
    pub faas_trigger: Option<String>,
    pub cold_start: Option<bool>,
    pub cloud_region: Option<String>,
    pub cloud_account_id: Option<String>,
    pub attributes: Vec<(String, String)>,
    pub resource_attributes: Vec<(String, String)>,
    pub events: Vec<SpanEventRow>,
    pub links: Vec<SpanLinkRow>,
    pub log_group: Arc<str>,
    pub log_stream: Arc<str>,
}

impl SpanRow {
    /// The request id of the Lambda invocation this span started, when it is
    /// an AWS SDK `Invoke` CLIENT span (`rpc.service=Lambda`,
    /// `rpc.method=Invoke`): its `aws.request_id` is the one the Invoke
    /// response named, which is the callee's own request id. The callee ran in
    /// this span's trace, even when it is not instrumented
    /// (docs/instrumentation.md, "Lambda Invoke").
    pub fn invoked_request_id(&self) -> Option<&str> {
        if self.kind != SpanKind::Client {
            return None;
        }
        let attribute = |key: &str| {
            self.attributes
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, value)| value.as_str())
        };
        // The AWS SDK instrumentation writes `rpc.service` (as the AWS SDK
        // conventions still say), which the newest RPC conventions deprecate.
        #[allow(deprecated)]
        let service = attribute(semconv::RPC_SERVICE);
        let lambda = service.is_some_and(|s| s.eq_ignore_ascii_case("lambda"));
        let invoke = attribute(semconv::RPC_METHOD) == Some("Invoke");
        if !(lambda && invoke) {
            return None;
        }
        attribute(semconv::AWS_REQUEST_ID).filter(|id| !id.trim().is_empty())
    }
}

/// One element of `spans.events`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpanEventRow {
    pub time_ns: i64,
    pub name: String,
    pub attributes: Vec<(String, String)>,
}

/// One element of `spans.links`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpanLinkRow {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub attributes: Vec<(String, String)>,
}

/// One row of `logs`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LogRow {
    pub timestamp_ns: i64,
    pub trace_id: Option<TraceId>,
    pub span_id: Option<SpanId>,
    pub request_id: Option<String>,
    pub service: Option<Arc<str>>,
    pub level: Option<LogLevel>,
    pub message: String,
    pub attributes: Vec<(String, String)>,
    pub log_group: Arc<str>,
    pub log_stream: Arc<str>,
    pub event_id: String,
    /// Which line format the line was read as (the collector's `parse::LineFormat`).
    pub format: Cow<'static, str>,
    /// How the line was linked to its trace, if it was.
    pub link: Option<Link>,
}

/// One row of `invocations`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InvocationRow {
    pub request_id: String,
    pub function: String,
    pub function_version: Option<String>,
    pub log_group: Arc<str>,
    pub log_stream: Arc<str>,
    pub start_time_ns: Option<i64>,
    pub end_time_ns: i64,
    pub duration_ms: f64,
    pub billed_duration_ms: Option<i64>,
    pub memory_size_mb: Option<i64>,
    pub max_memory_used_mb: Option<i64>,
    pub init_duration_ms: Option<f64>,
    pub cold_start: bool,
    pub status: InvocationStatus,
    pub error_type: Option<String>,
    pub trace_id: Option<TraceId>,
    pub sampled: Option<bool>,
}

/// One row of `trace_index`: what one segment saw of one trace in one hour.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TraceIndexRow {
    pub trace_id: TraceId,
    pub min_start_ns: i64,
    pub max_end_ns: i64,
    pub root_service: Option<String>,
    pub root_name: Option<String>,
    pub span_count: i64,
    pub error_count: i64,
    pub services: Vec<String>,
}
