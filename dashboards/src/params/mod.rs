//! The parameters of each query, one struct per kind, parsed once: the API
//! deserialises them from the query string (names as the API spells them,
//! `minDuration`), the CLI builds them with clap from the same fields
//! (`--min-duration`). Values are the types of [`values`], so the same text
//! gets the same answer on both sides.
//!
//! An empty query-string value is no value (Grafana sends empty fields); the
//! API's extractor drops them before these structs see the query.

pub mod values;

use serde::Deserialize;

use crate::query::{HOUR_NS, LogSearch, QueryEngine, QueryError, TimeRange, TraceSearch};
use values::{
    BucketSeconds, DurationNs, LevelFilter, Name, SpanKindFilter, TagFilter, TagMap, TimestampNs,
    TraceIdFilter, name_str,
};

/// The time range of a query: `from`/`to`, or `lookback` before `to`.
#[derive(Debug, Clone, Default, Deserialize, clap::Args)]
pub struct RangeParams {
    /// Start of the time range (RFC 3339 or epoch ms). Default: `--lookback` before `--to`.
    #[arg(long, global = true)]
    pub from: Option<TimestampNs>,
    /// End of the time range (RFC 3339 or epoch ms). Default: now, or the end of
    /// the newest data when it lies in the future.
    #[arg(long, global = true)]
    pub to: Option<TimestampNs>,
    /// Length of the time range when `--from` is not given (e.g. 15m, 1h, 2d).
    /// Default: 1h.
    #[arg(long, global = true)]
    pub lookback: Option<DurationNs>,
}

impl RangeParams {
    /// The range: `to` defaults to the engine's [`QueryEngine::default_end`],
    /// `from` to `lookback` (default one hour) before `to`.
    ///
    /// # Errors
    ///
    /// [`QueryError::InvalidParameter`] when the range is empty; the engine's
    /// error when it cannot read the newest data's time.
    pub async fn resolve(&self, engine: &QueryEngine) -> Result<TimeRange, QueryError> {
        let to = match self.to {
            Some(TimestampNs(to)) => to,
            None => engine.default_end().await?,
        };
        let from = match (self.from, self.lookback) {
            (Some(TimestampNs(from)), _) => from,
            (None, Some(DurationNs(lookback))) => to.saturating_sub(lookback),
            (None, None) => to.saturating_sub(HOUR_NS),
        };
        TimeRange::new(from, to).ok_or_else(|| QueryError::InvalidParameter {
            name: "from",
            reason: format!("empty time range: from {from} ns is not before to {to} ns"),
        })
    }

    /// The range when both `from` and `to` are given (a trace lookup is not
    /// bounded otherwise).
    ///
    /// # Errors
    ///
    /// [`QueryError::InvalidParameter`] when `from` is not before `to`.
    pub fn explicit(&self) -> Result<Option<TimeRange>, QueryError> {
        match (self.from, self.to) {
            (Some(TimestampNs(from)), Some(TimestampNs(to))) => TimeRange::new(from, to)
                .map(Some)
                .ok_or_else(|| QueryError::InvalidParameter {
                    name: "from",
                    reason: "from must be before to".to_owned(),
                }),
            _ => Ok(None),
        }
    }
}

/// A trace search (`/api/tracelake/traces`, `tracelake query search`).
#[derive(Debug, Clone, Default, Deserialize, clap::Args)]
pub struct TraceSearchParams {
    /// Service that has a matching span.
    #[arg(long)]
    pub service: Option<Name>,
    /// Span name.
    #[arg(long)]
    pub operation: Option<Name>,
    /// Span kind (server, client, producer, consumer, internal).
    #[arg(long)]
    pub kind: Option<SpanKindFilter>,
    /// Minimum span duration (e.g. 250ms).
    #[serde(rename = "minDuration", alias = "min_duration")]
    #[arg(long)]
    pub min_duration: Option<DurationNs>,
    /// Maximum span duration.
    #[serde(rename = "maxDuration", alias = "max_duration")]
    #[arg(long)]
    pub max_duration: Option<DurationNs>,
    /// Only traces with an error: a span with status error, or an invocation
    /// without a span of its own that failed (drawn with status error).
    #[serde(default, deserialize_with = "flag")]
    #[arg(long)]
    pub errors: bool,
    /// Span or resource attribute equality `key=value` or `key:value` (repeatable, up to 3).
    #[serde(default, rename = "tag")]
    #[arg(long = "tag")]
    pub tags: Vec<TagFilter>,
    /// Attribute equalities as a JSON object (Jaeger's `tags=`; API only).
    #[serde(default, rename = "tags")]
    #[arg(skip)]
    pub tag_map: Option<TagMap>,
    /// Most traces returned (default 20).
    #[arg(long)]
    pub limit: Option<i64>,
}

impl TraceSearchParams {
    /// The search over `range`.
    pub fn search(&self, range: TimeRange) -> TraceSearch {
        let mut search = TraceSearch::new(range);
        search.service = name_str(&self.service).map(str::to_owned);
        search.operation = name_str(&self.operation).map(str::to_owned);
        search.kind = self
            .kind
            .map(|SpanKindFilter(kind)| kind.as_str().to_owned());
        search.min_duration_ns = self.min_duration.map(|DurationNs(ns)| ns);
        search.max_duration_ns = self.max_duration.map(|DurationNs(ns)| ns);
        search.errors_only = self.errors;
        if let Some(limit) = self.limit {
            search.limit = limit;
        }
        let map = self.tag_map.iter().flat_map(|map| map.0.iter());
        apply_tags(&mut search, self.tags.iter().chain(map).cloned());
        search
    }
}

/// Applies attribute filters, reading the tags Jaeger clients send for span
/// fields (`error=true`, `otel.status_code=ERROR` or `OK`, `span.kind=server`)
/// as those fields.
pub fn apply_tags(search: &mut TraceSearch, tags: impl IntoIterator<Item = TagFilter>) {
    for TagFilter { key, value } in tags {
        match key.as_str() {
            "error" if value == "true" => search.errors_only = true,
            // The status tag the Jaeger API shows on a failed span.
            "otel.status_code" if value == "ERROR" => search.errors_only = true,
            // And the one it shows on a span whose status is OK.
            "otel.status_code" if value == "OK" => search.ok_only = true,
            "span.kind" => search.kind = Some(value),
            _ => search.attributes.push((key, value)),
        }
    }
}

/// A log search (`/api/tracelake/logs`, `tracelake query logs`).
#[derive(Debug, Clone, Default, Deserialize, clap::Args)]
pub struct LogSearchParams {
    /// Case-insensitive text in the message.
    #[serde(rename = "q", alias = "text")]
    #[arg(long, short = 'q')]
    pub text: Option<Name>,
    /// Level (TRACE, DEBUG, INFO, WARN, ERROR, FATAL; any case).
    #[arg(long)]
    pub level: Option<LevelFilter>,
    /// Service.
    #[arg(long)]
    pub service: Option<Name>,
    /// Trace id (any form: X-Ray, 32 or 16 hex).
    #[serde(rename = "traceId", alias = "trace_id")]
    #[arg(long)]
    pub trace_id: Option<TraceIdFilter>,
    /// Lambda request id: every line of one invocation.
    #[serde(rename = "requestId", alias = "request_id")]
    #[arg(long)]
    pub request_id: Option<Name>,
    /// Most lines returned (default 100).
    #[arg(long)]
    pub limit: Option<i64>,
}

impl LogSearchParams {
    /// The search over `range`.
    pub fn search(&self, range: TimeRange) -> LogSearch {
        let mut search = LogSearch::new(range);
        search.text = name_str(&self.text).map(str::to_owned);
        search.level = self
            .level
            .map(|LevelFilter(level)| level.as_str().to_owned());
        search.service = name_str(&self.service).map(str::to_owned);
        search.trace_id = self.trace_id.as_ref().map(|TraceIdFilter(id)| id.clone());
        search.request_id = name_str(&self.request_id).map(str::to_owned);
        if let Some(limit) = self.limit {
            search.limit = limit;
        }
        search
    }
}

/// The log volume histogram's bucket (`/api/tracelake/logs/histogram`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct HistogramParams {
    /// Bucket width; default: about 60 bars over the range.
    pub bucket: Option<BucketSeconds>,
}

/// What a RED series is per.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum RedGrouping {
    /// One series per service and operation.
    #[default]
    Operation,
    /// One series per service, all operations summed.
    Service,
}

/// Rate, errors and duration (`/api/tracelake/red`, `tracelake query red`).
#[derive(Debug, Clone, Default, Deserialize, clap::Args)]
pub struct RedParams {
    /// Only this service.
    #[arg(long)]
    pub service: Option<Name>,
    /// Only this operation.
    #[arg(long)]
    pub operation: Option<Name>,
    /// Bucket width: whole seconds dividing a day (default 1m).
    #[arg(long)]
    pub bucket: Option<BucketSeconds>,
    /// One series per operation (default) or per service.
    #[arg(long, value_enum)]
    pub by: Option<RedGrouping>,
}

impl RedParams {
    /// The grouping asked for.
    ///
    /// # Errors
    ///
    /// [`QueryError::InvalidParameter`] for `by=service` with an operation
    /// filter (a per-service series sums every operation).
    pub fn grouping(&self) -> Result<RedGrouping, QueryError> {
        match self.by.unwrap_or_default() {
            RedGrouping::Service if self.operation.is_some() => Err(QueryError::InvalidParameter {
                name: "by",
                reason: "by=service sums all operations; drop the operation filter".to_owned(),
            }),
            grouping => Ok(grouping),
        }
    }

    /// The bucket width in seconds.
    pub fn bucket_seconds(&self) -> i64 {
        self.bucket.unwrap_or_default().seconds()
    }
}

/// The operations of one service (`/api/tracelake/operations`, `tracelake query operations`).
#[derive(Debug, Clone, Deserialize, clap::Args)]
pub struct OperationsParams {
    /// The service.
    pub service: Name,
    /// Only operations of this span kind.
    #[serde(alias = "spanKind")]
    #[arg(long)]
    pub kind: Option<SpanKindFilter>,
}

impl OperationsParams {
    /// The kind as the query takes it.
    pub fn kind_str(&self) -> Option<&'static str> {
        self.kind.map(|SpanKindFilter(kind)| kind.as_str())
    }
}

/// Cold starts per function (`/api/tracelake/coldstarts`, `tracelake query coldstarts`).
#[derive(Debug, Clone, Default, Deserialize, clap::Args)]
pub struct ColdStartParams {
    /// Only this function.
    #[arg(long)]
    pub function: Option<Name>,
}

/// What a cost row is per.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum CostGrouping {
    /// One row per Lambda function.
    #[default]
    Function,
    /// One row per trace.
    Trace,
}

/// Lambda cost (`/api/tracelake/cost`, `tracelake query cost`).
#[derive(Debug, Clone, Default, Deserialize, clap::Args)]
pub struct CostParams {
    /// One row per function (default) or per trace.
    #[arg(long, value_enum)]
    pub by: Option<CostGrouping>,
    /// Most rows returned (default 50).
    #[arg(long)]
    pub limit: Option<i64>,
}

impl CostParams {
    /// Rows returned when no limit is given.
    pub const DEFAULT_LIMIT: i64 = 50;

    /// The limit asked for, or the default.
    pub fn limit(&self) -> i64 {
        self.limit.unwrap_or(Self::DEFAULT_LIMIT)
    }
}

/// A query-string flag: `true`/`1` or `false`/`0`.
fn flag<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
    match text.as_ref() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        other => Err(serde::de::Error::custom(format!(
            "must be true or false, got {other:?}"
        ))),
    }
}
