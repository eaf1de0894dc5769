//! Reading request parameters: the [`ApiQuery`] extractor of the typed
//! parameter structs, Jaeger's epoch times, and the raw [`QueryString`] the
//! Jaeger v3 handlers still read. Every reader returns a message naming the
//! offending parameter and value, for a 400.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::params::values::DurationNs;

/// A query string deserialised into one of the parameter structs of
/// [`crate::params`] (or the Jaeger ones here). Repeated keys fill `Vec`
/// fields (serde_html_form); empty values are dropped first, as no value. A
/// bad value is a 400 naming the parameter.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        from_query(parts.uri.query().unwrap_or(""))
            .map(ApiQuery)
            .map_err(ApiError::bad_request)
    }
}

/// Deserialises a raw query string the way [`ApiQuery`] does.
///
/// # Errors
///
/// A message naming the parameter and what is wrong with its value.
pub fn from_query<T: DeserializeOwned>(raw: &str) -> Result<T, String> {
    let given = url::form_urlencoded::parse(raw.as_bytes()).filter(|(_, value)| !value.is_empty());
    let kept = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(given)
        .finish();
    serde_path_to_error::deserialize(serde_html_form::Deserializer::from_bytes(kept.as_bytes()))
        .map_err(|error| {
            let path = error.path().to_string();
            if path == "." {
                error.inner().to_string()
            } else {
                format!("{path}: {}", error.inner())
            }
        })
}

/// A query string as ordered key/value pairs (keys may repeat).
#[derive(Debug, Clone, Default)]
pub struct QueryString(Vec<(String, String)>);

impl QueryString {
    /// Parses `a=1&b=2` (percent-decoded); `None` gives an empty query.
    pub fn parse(raw: Option<&str>) -> QueryString {
        QueryString(
            raw.map(|raw| {
                url::form_urlencoded::parse(raw.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default(),
        )
    }

    /// The first non-empty value of the first key present among `names`.
    pub fn get(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|name| {
            self.0
                .iter()
                .find(|(key, value)| key == name && !value.is_empty())
                .map(|(_, value)| value.as_str())
        })
    }

    /// Every non-empty value of `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(key, value)| key == name && !value.is_empty())
            .map(|(_, value)| value.as_str())
            .collect()
    }

    /// An integer parameter.
    pub fn int(&self, names: &[&str]) -> Result<Option<i64>, String> {
        match self.get(names) {
            None => Ok(None),
            Some(text) => text
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| format!("{} must be an integer, got {text:?}", first(names))),
        }
    }

    /// A boolean parameter (`true`/`false`/`1`/`0`).
    pub fn bool(&self, names: &[&str]) -> Result<bool, String> {
        match self.get(names) {
            None => Ok(false),
            Some("true" | "1") => Ok(true),
            Some("false" | "0") => Ok(false),
            Some(text) => Err(format!(
                "{} must be true or false, got {text:?}",
                first(names)
            )),
        }
    }
}

fn first<'a>(names: &[&'a str]) -> &'a str {
    names.first().copied().unwrap_or("parameter")
}

/// A duration in nanoseconds, read as every parameter reads one
/// ([`DurationNs`]: humantime, which reads Go durations).
pub fn parse_go_duration(text: &str) -> Result<i64, String> {
    text.parse::<DurationNs>().map(|DurationNs(nanos)| nanos)
}

/// Jaeger v1 `start`/`end`: microseconds since the epoch, though Grafana sometimes
/// sends milliseconds. Values below 10^14 (year 5138 in ms, 1973 in µs) are read
/// as milliseconds. Returns nanoseconds.
pub fn parse_jaeger_epoch(name: &str, text: &str) -> Result<i64, String> {
    let value: i64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{name} must be an integer epoch in microseconds, got {text:?}"))?;
    if value < 0 {
        return Err(format!("{name} must not be negative, got {text:?}"));
    }
    let nanos = if value < 100_000_000_000_000 {
        value.checked_mul(1_000_000)
    } else {
        value.checked_mul(1_000)
    };
    nanos.ok_or_else(|| format!("{name} is out of range: {text:?}"))
}

/// A Jaeger v1 `start`/`end` ([`parse_jaeger_epoch`]), in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JaegerEpochNs(pub i64);

impl<'de> serde::Deserialize<'de> for JaegerEpochNs {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        parse_jaeger_epoch("time", &text)
            .map(JaegerEpochNs)
            .map_err(serde::de::Error::custom)
    }
}

/// A trace id in any form a user or Jaeger/Grafana sends (X-Ray, 32 hex, 16 hex,
/// leading zeros dropped; either case), normalised to 32 lowercase hex digits.
pub fn parse_trace_id(text: &str) -> Result<String, String> {
    tracelake_instrumentation::wire::ids::TraceId::parse_any(text)
        .map(|id| id.to_string())
        .map_err(|_| format!("invalid trace id {text:?}"))
}

/// A name used as an exact filter (service, operation, level, …): bounded in
/// length and free of control characters. Quotes and SQL are harmless here (every
/// value is bound), but a 1 MB service name is still a bad request.
pub fn parse_name(name: &str, text: &str) -> Result<String, String> {
    if text.len() > 512 || text.chars().any(char::is_control) {
        return Err(format!("{name} is too long or has control characters"));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaeger_epochs_accept_micro_and_milliseconds() {
        assert_eq!(
            parse_jaeger_epoch("start", "1706678909209712"),
            Ok(1_706_678_909_209_712_000)
        );
        assert_eq!(
            parse_jaeger_epoch("start", "1706678909209"),
            Ok(1_706_678_909_209_000_000)
        );
        assert!(parse_jaeger_epoch("start", "-5").is_err());
        assert!(parse_jaeger_epoch("start", "soon").is_err());
    }

    #[test]
    fn repeated_keys() {
        let query = QueryString::parse(Some("traceID=a&traceID=b&tag=x%3Ay&empty="));
        assert_eq!(query.all("traceID"), vec!["a", "b"]);
        assert_eq!(query.get(&["tag"]), Some("x:y"));
        assert_eq!(query.get(&["empty"]), None);
    }

    use crate::params::{LogSearchParams, RedParams, TraceSearchParams};
    use clap::Parser;

    /// The CLI's side: the same structs read by clap.
    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }

    #[derive(clap::Subcommand)]
    enum Command {
        Red(RedParams),
        Search(TraceSearchParams),
        Logs(LogSearchParams),
    }

    fn parse_cli(args: &[&str]) -> Result<Command, String> {
        Cli::try_parse_from(std::iter::once("tracelake").chain(args.iter().copied()))
            .map(|cli| cli.command)
            .map_err(|error| error.to_string())
    }

    #[test]
    fn the_api_and_the_cli_read_a_bucket_alike() {
        for (text, expected) in [
            ("1m", Some(60)),
            ("1h", Some(3600)),
            ("30s", Some(30)),
            ("1500ms", None),
            ("1.5s", None),
            ("0s", None),
            ("0", None),
            ("-1m", None),
            ("7s", None),
            ("soon", None),
            ("1m;DROP", None),
        ] {
            let api = from_query::<RedParams>(&format!("bucket={}", encode(text)))
                .map(|params| params.bucket_seconds());
            // `--bucket=-1m`: with a space, clap takes `-1m` for a flag.
            let cli = match parse_cli(&["red", &format!("--bucket={text}")]) {
                Ok(Command::Red(params)) => Ok(params.bucket_seconds()),
                Ok(_) => unreachable!("red parses as red"),
                Err(error) => Err(error),
            };
            assert_eq!(api.as_ref().ok().copied(), expected, "api {text}: {api:?}");
            assert_eq!(cli.as_ref().ok().copied(), expected, "cli {text}: {cli:?}");
            if let (Err(api), Err(cli)) = (&api, &cli) {
                assert!(api.contains("bucket") && api.contains(text), "{api}");
                assert!(cli.contains("--bucket") && cli.contains(text), "{cli}");
            }
        }
    }

    #[test]
    fn the_api_and_the_cli_read_a_search_alike() {
        let api: TraceSearchParams = from_query(
            "service=orders&minDuration=1500ms&maxDuration=2s&kind=SERVER&errors=true\
             &tag=http.route%3A%2Fa&tag=team%3Dpay&limit=7&operation=",
        )
        .expect("api");
        let Ok(Command::Search(cli)) = parse_cli(&[
            "search",
            "--service",
            "orders",
            "--min-duration",
            "1500ms",
            "--max-duration",
            "2s",
            "--kind",
            "SERVER",
            "--errors",
            "--tag",
            "http.route:/a",
            "--tag",
            "team=pay",
            "--limit",
            "7",
        ]) else {
            panic!("cli search")
        };
        let range = crate::query::TimeRange::new(0, 1).expect("range");
        let (api, cli) = (api.search(range), cli.search(range));
        assert_eq!(api.min_duration_ns, Some(1_500_000_000));
        assert_eq!(api.max_duration_ns, Some(2_000_000_000));
        assert_eq!(api.kind.as_deref(), Some("server"));
        assert_eq!(api.operation, None, "an empty value is no value");
        assert_eq!(
            api.attributes,
            vec![
                ("http.route".to_owned(), "/a".to_owned()),
                ("team".to_owned(), "pay".to_owned())
            ]
        );
        assert_eq!(api, cli);

        for bad in ["-1s", "fast", "0x10ms"] {
            let api = from_query::<TraceSearchParams>(&format!("minDuration={bad}"));
            assert!(
                api.as_ref().is_err_and(|e| e.contains("minDuration")),
                "{api:?}"
            );
            assert!(
                parse_cli(&["search", "--min-duration", bad]).is_err(),
                "{bad}"
            );
        }
        for bad in [
            "kind=sideways",
            "errors=maybe",
            "limit=ten",
            "tag=novalue",
            "tags=notjson",
        ] {
            assert!(from_query::<TraceSearchParams>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_api_and_the_cli_read_a_log_search_alike() {
        let api: LogSearchParams =
            from_query("q=timeout&level=warning&traceId=1-5759e988-bd862e3fe1be46a994272793")
                .expect("api");
        let Ok(Command::Logs(cli)) = parse_cli(&[
            "logs",
            "-q",
            "timeout",
            "--level",
            "warning",
            "--trace-id",
            "1-5759e988-bd862e3fe1be46a994272793",
        ]) else {
            panic!("cli logs")
        };
        let range = crate::query::TimeRange::new(0, 1).expect("range");
        let (api, cli) = (api.search(range), cli.search(range));
        assert_eq!(api.level.as_deref(), Some("WARN"));
        assert_eq!(
            api.trace_id.as_deref(),
            Some("5759e988bd862e3fe1be46a994272793")
        );
        assert_eq!(api, cli);
        assert!(from_query::<LogSearchParams>("level=loud").is_err());
        assert!(from_query::<LogSearchParams>("traceId=nope").is_err());
        assert!(parse_cli(&["logs", "--level", "loud"]).is_err());
    }

    fn encode(text: &str) -> String {
        url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
    }
}
