//! What a [`Telemetry`](crate::Telemetry) is built from: the service's identity,
//! its Lambda environment, and how it writes.
//!
//! [`TelemetryConfig`] is a plain value. [`TelemetryConfig::from_env`] reads the
//! Lambda environment variables of the process; [`TelemetryConfig::from_lookup`]
//! reads the same names from any lookup, so tests and the simulator never touch
//! the process environment.

use opentelemetry_semantic_conventions::attribute as semconv;

use crate::clock::Clock;
use crate::wire::span_line::SpanFormat;

/// How the Lambda execution environment was initialised
/// (`AWS_LAMBDA_INITIALIZATION_TYPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InitializationType {
    /// `on-demand`: the first invocation after init is a cold start.
    #[default]
    OnDemand,
    /// `provisioned-concurrency`: init ran ahead of any request; every
    /// invocation has `faas.coldstart=false`.
    ProvisionedConcurrency,
    /// `snap-start`: restored from a snapshot on the first request's path (the
    /// restore is in its latency): the first invocation is a cold start, and
    /// the id generator is reseeded before it.
    SnapStart,
    /// `lambda-managed-instances` and any value this crate does not know yet; treated
    /// like provisioned concurrency (init is not on a request's path).
    Other,
}

impl InitializationType {
    /// Reads the value of `AWS_LAMBDA_INITIALIZATION_TYPE`; an absent value is on-demand.
    pub fn parse(text: Option<&str>) -> InitializationType {
        match text.map(str::trim) {
            None | Some("") | Some("on-demand") => InitializationType::OnDemand,
            Some("provisioned-concurrency") => InitializationType::ProvisionedConcurrency,
            Some("snap-start") => InitializationType::SnapStart,
            Some(_) => InitializationType::Other,
        }
    }

    /// Whether the first invocation of this init pays the init (or the
    /// restore) on its request path.
    pub fn first_invocation_is_cold(self) -> bool {
        matches!(
            self,
            InitializationType::OnDemand | InitializationType::SnapStart
        )
    }
}

/// Everything a [`Telemetry`](crate::Telemetry) needs, with no hidden read of the
/// process environment.
///
/// ```
/// use tracelake_instrumentation::{SpanFormat, TelemetryConfig};
///
/// let config = TelemetryConfig::new("checkout")
///     .with_function("checkout-prod", "$LATEST")
///     .with_log_stream("2026/11/29/[$LATEST]8f2c7c3a0c0a4d9b9f4c1c1b3e0d2a11")
///     .with_region("eu-west-1")
///     .with_account_id("123456789012")
///     .with_memory_mb(512)
///     .with_span_format(SpanFormat::Compact)
///     .with_level("debug");
/// assert_eq!(config.service_name, "checkout");
/// ```
#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    /// `service.name`, written on every span line and log line.
    pub service_name: String,
    /// `faas.name`: the Lambda function name.
    pub function_name: Option<String>,
    /// `faas.version`: the function version (`$LATEST`, `3`, …).
    pub function_version: Option<String>,
    /// `faas.instance`: the CloudWatch log stream of this execution environment.
    pub log_stream: Option<String>,
    /// The CloudWatch log group. Not written on span lines: the collector reads it
    /// from the subscription payload, with the log stream.
    pub log_group: Option<String>,
    /// `faas.max_memory`, in MB (written in bytes, as the convention asks).
    pub memory_mb: Option<u64>,
    /// `cloud.region`.
    pub region: Option<String>,
    /// `cloud.account.id`, when known (else it is read from the invoked ARN).
    pub account_id: Option<String>,
    /// More resource attributes (`OTEL_RESOURCE_ATTRIBUTES`), in order.
    pub resource_attributes: Vec<(String, String)>,
    /// Span line encoding (`TRACELAKE_SPAN_FORMAT`).
    pub span_format: SpanFormat,
    /// Which log events are written: a level (`info`) or `RUST_LOG` directives
    /// (`info,my_crate=debug`). Spans at INFO and above are always recorded.
    pub level: String,
    /// How the first invocation counts for `faas.coldstart`.
    pub initialization_type: InitializationType,
    /// Where timestamps come from.
    pub clock: Clock,
    /// Seed for trace and span ids; `None` seeds from the OS. A seed makes ids
    /// repeat from run to run (for the simulator's byte-for-byte output).
    pub id_seed: Option<u64>,
    /// Line size limit; spans are split across lines to stay under it.
    pub line_limit: usize,
}

impl TelemetryConfig {
    /// A config for `service_name` with everything else unset, INFO level,
    /// OTLP JSON spans and the system clock.
    pub fn new(service_name: impl Into<String>) -> TelemetryConfig {
        TelemetryConfig {
            service_name: service_name.into(),
            function_name: None,
            function_version: None,
            log_stream: None,
            log_group: None,
            memory_mb: None,
            region: None,
            account_id: None,
            resource_attributes: Vec::new(),
            span_format: SpanFormat::OtlpJson,
            level: "info".to_owned(),
            initialization_type: InitializationType::OnDemand,
            clock: Clock::System,
            id_seed: None,
            line_limit: crate::wire::CLOUDWATCH_EVENT_LIMIT,
        }
    }

    /// Reads the Lambda environment of this process. See [`TelemetryConfig::from_lookup`].
    pub fn from_env() -> TelemetryConfig {
        TelemetryConfig::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the Lambda environment through `lookup`:
    ///
    /// | variable | field |
    /// |---|---|
    /// | `OTEL_SERVICE_NAME`, else `AWS_LAMBDA_FUNCTION_NAME` | `service_name` (else `unknown_service`) |
    /// | `AWS_LAMBDA_FUNCTION_NAME`, `AWS_LAMBDA_FUNCTION_VERSION` | `function_name`, `function_version` |
    /// | `AWS_LAMBDA_LOG_STREAM_NAME`, `AWS_LAMBDA_LOG_GROUP_NAME` | `log_stream`, `log_group` |
    /// | `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` | `memory_mb` |
    /// | `AWS_REGION`, else `AWS_DEFAULT_REGION` | `region` |
    /// | `OTEL_RESOURCE_ATTRIBUTES` (`k=v,k2=v2`, percent-decoded) | `resource_attributes`; `service.name` there counts when `OTEL_SERVICE_NAME` is unset, and `cloud.account.id` fills `account_id` |
    /// | `TRACELAKE_SPAN_FORMAT` (`compact` or `json`) | `span_format` |
    /// | `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG` | `level` (default `info`) |
    /// | `AWS_LAMBDA_INITIALIZATION_TYPE` | `initialization_type` |
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> TelemetryConfig {
        let non_empty = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let resource_attributes = non_empty("OTEL_RESOURCE_ATTRIBUTES")
            .map(|text| parse_resource_attributes(&text))
            .unwrap_or_default();
        let from_resource = |key: &str| {
            resource_attributes
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        let function_name = non_empty("AWS_LAMBDA_FUNCTION_NAME");
        let service_name = non_empty("OTEL_SERVICE_NAME")
            .or_else(|| from_resource(semconv::SERVICE_NAME))
            .or_else(|| function_name.clone())
            .unwrap_or_else(|| "unknown_service".to_owned());
        let mut config = TelemetryConfig::new(service_name);
        config.account_id = from_resource(semconv::CLOUD_ACCOUNT_ID);
        config.resource_attributes = resource_attributes;
        config.function_name = function_name;
        config.function_version = non_empty("AWS_LAMBDA_FUNCTION_VERSION");
        config.log_stream = non_empty("AWS_LAMBDA_LOG_STREAM_NAME");
        config.log_group = non_empty("AWS_LAMBDA_LOG_GROUP_NAME");
        config.memory_mb =
            non_empty("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").and_then(|text| text.trim().parse().ok());
        config.region = non_empty("AWS_REGION").or_else(|| non_empty("AWS_DEFAULT_REGION"));
        if let Some(format) = non_empty("TRACELAKE_SPAN_FORMAT").and_then(|t| SpanFormat::parse(&t))
        {
            config.span_format = format;
        }
        if let Some(level) = non_empty("AWS_LAMBDA_LOG_LEVEL").or_else(|| non_empty("RUST_LOG")) {
            config.level = level;
        }
        config.initialization_type =
            InitializationType::parse(lookup("AWS_LAMBDA_INITIALIZATION_TYPE").as_deref());
        config
    }

    /// Sets the function name and version.
    pub fn with_function(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.function_name = Some(name.into());
        self.function_version = Some(version.into());
        self
    }

    /// Sets the log stream (`faas.instance`).
    pub fn with_log_stream(mut self, log_stream: impl Into<String>) -> Self {
        self.log_stream = Some(log_stream.into());
        self
    }

    /// Sets the log group.
    pub fn with_log_group(mut self, log_group: impl Into<String>) -> Self {
        self.log_group = Some(log_group.into());
        self
    }

    /// Sets the configured memory, in MB.
    pub fn with_memory_mb(mut self, memory_mb: u64) -> Self {
        self.memory_mb = Some(memory_mb);
        self
    }

    /// Sets the region.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Sets the account id.
    pub fn with_account_id(mut self, account_id: impl Into<String>) -> Self {
        self.account_id = Some(account_id.into());
        self
    }

    /// Adds one resource attribute.
    pub fn with_resource_attribute(
        mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.resource_attributes.push((key.into(), value.into()));
        self
    }

    /// Sets the span line encoding.
    pub fn with_span_format(mut self, span_format: SpanFormat) -> Self {
        self.span_format = span_format;
        self
    }

    /// Sets the log level or `RUST_LOG`-style directives.
    pub fn with_level(mut self, level: impl Into<String>) -> Self {
        self.level = level.into();
        self
    }

    /// Sets how the execution environment was initialised.
    pub fn with_initialization_type(mut self, initialization_type: InitializationType) -> Self {
        self.initialization_type = initialization_type;
        self
    }

    /// Sets the clock (see [`Clock`]).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Seeds trace and span ids, so that they repeat from run to run.
    pub fn with_id_seed(mut self, seed: u64) -> Self {
        self.id_seed = Some(seed);
        self
    }

    /// Sets the longest line written, in bytes (default: the CloudWatch event limit).
    pub fn with_line_limit(mut self, line_limit: usize) -> Self {
        self.line_limit = line_limit;
        self
    }

    /// The resource attributes in the order they are written, from the fields
    /// above and then `resource_attributes` (which do not override the fields).
    pub fn resource(&self) -> Vec<(String, ResourceValue)> {
        let mut out: Vec<(String, ResourceValue)> = Vec::with_capacity(12);
        let mut push = |key: &str, value: ResourceValue| {
            if !out.iter().any(|(k, _)| k == key) {
                out.push((key.to_owned(), value));
            }
        };
        push(
            semconv::SERVICE_NAME,
            ResourceValue::Text(self.service_name.clone()),
        );
        push(semconv::CLOUD_PROVIDER, ResourceValue::Text("aws".into()));
        push(
            semconv::CLOUD_PLATFORM,
            ResourceValue::Text("aws_lambda".into()),
        );
        if let Some(region) = &self.region {
            push(semconv::CLOUD_REGION, ResourceValue::Text(region.clone()));
        }
        if let Some(account_id) = &self.account_id {
            push(
                semconv::CLOUD_ACCOUNT_ID,
                ResourceValue::Text(account_id.clone()),
            );
        }
        if let Some(name) = &self.function_name {
            push(semconv::FAAS_NAME, ResourceValue::Text(name.clone()));
        }
        if let Some(version) = &self.function_version {
            push(semconv::FAAS_VERSION, ResourceValue::Text(version.clone()));
        }
        if let Some(stream) = &self.log_stream {
            push(semconv::FAAS_INSTANCE, ResourceValue::Text(stream.clone()));
        }
        if let Some(memory) = self.memory_mb {
            let bytes = memory.saturating_mul(1024 * 1024);
            push(
                semconv::FAAS_MAX_MEMORY,
                ResourceValue::Int(i64::try_from(bytes).unwrap_or(i64::MAX)),
            );
        }
        for (key, value) in &self.resource_attributes {
            push(key, ResourceValue::Text(value.clone()));
        }
        out
    }
}

/// A resource attribute value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceValue {
    /// A string.
    Text(String),
    /// An integer.
    Int(i64),
}

/// Parses `OTEL_RESOURCE_ATTRIBUTES`: `key=value` pairs separated by commas, with
/// percent-encoded values. Pairs without `=` or with an empty key are skipped.
pub fn parse_resource_attributes(text: &str) -> Vec<(String, String)> {
    text.split(',')
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            let key = key.trim();
            if key.is_empty() {
                return None;
            }
            Some((percent_decode(key), percent_decode(value.trim())))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && let Some(hex) = bytes.get(index + 1..index + 3)
            && let Ok(hex) = std::str::from_utf8(hex)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            index += 3;
            continue;
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn lambda_environment_fills_the_config() {
        let config = TelemetryConfig::from_lookup(lookup(&[
            ("AWS_LAMBDA_FUNCTION_NAME", "orders-prod"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "7"),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/29/[7]abc"),
            ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/orders-prod"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_LAMBDA_LOG_LEVEL", "DEBUG"),
            ("RUST_LOG", "warn"),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start"),
            ("TRACELAKE_SPAN_FORMAT", "compact"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment=prod,team=pay%2Cments,cloud.account.id=123456789012,broken",
            ),
        ]));
        assert_eq!(config.service_name, "orders-prod");
        assert_eq!(config.level, "DEBUG");
        assert_eq!(config.span_format, SpanFormat::Compact);
        assert_eq!(config.initialization_type, InitializationType::SnapStart);
        assert_eq!(config.account_id.as_deref(), Some("123456789012"));
        let resource = config.resource();
        let get = |key: &str| {
            resource
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(
            get("faas.max_memory"),
            Some(ResourceValue::Int(1024 * 1024 * 1024))
        );
        assert_eq!(
            get("faas.instance"),
            Some(ResourceValue::Text("2026/11/29/[7]abc".into()))
        );
        assert_eq!(get("team"), Some(ResourceValue::Text("pay,ments".into())));
        assert_eq!(
            get("cloud.region"),
            Some(ResourceValue::Text("eu-west-1".into()))
        );
        assert_eq!(
            resource
                .iter()
                .filter(|(k, _)| k == "cloud.account.id")
                .count(),
            1
        );
    }

    #[test]
    fn otel_service_name_wins_and_rust_log_is_the_fallback() {
        let config = TelemetryConfig::from_lookup(lookup(&[
            ("AWS_LAMBDA_FUNCTION_NAME", "orders-prod"),
            ("OTEL_SERVICE_NAME", "orders"),
            ("RUST_LOG", "info,hyper=warn"),
        ]));
        assert_eq!(config.service_name, "orders");
        assert_eq!(config.level, "info,hyper=warn");
        assert_eq!(config.initialization_type, InitializationType::OnDemand);
        assert_eq!(config.span_format, SpanFormat::OtlpJson);
        let empty = TelemetryConfig::from_lookup(|_| None);
        assert_eq!(empty.service_name, "unknown_service");
        assert_eq!(empty.level, "info");
    }
}
