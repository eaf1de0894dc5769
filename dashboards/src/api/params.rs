//! Reading request parameters: the [`ApiQuery`] extractor of the typed
//! parameter structs, and the time forms of Jaeger's v1 (epoch µs) and v3
//! (RFC 3339) APIs. Every reader returns a message naming the
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

/// A duration in nanoseconds, read as every parameter reads one
/// ([`DurationNs`]: humantime, which reads Go durations).
///
/// # Errors
///
/// A message naming the text when it is not a duration humantime reads (a
/// number without a unit, a negative duration) or does not fit an `i64` of
/// nanoseconds (about 292 years).
pub fn parse_go_duration(text: &str) -> Result<i64, String> {
    text.parse::<DurationNs>().map(|DurationNs(nanos)| nanos)
}

/// Jaeger v1 `start`/`end`: microseconds since the epoch, though Grafana sometimes
/// sends milliseconds. Values below 10^14 (year 5138 in ms, 1973 in µs) are read
/// as milliseconds. Returns nanoseconds.
///
/// # Errors
///
/// A message naming `name` and the text when it is not an integer, is
/// negative, or overflows an `i64` of nanoseconds.
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

/// A Jaeger v3 time (`start_time`, `query.start_time_min`, …): RFC 3339 with
/// any fraction of a second, as Jaeger's gateway reads it (Go's
/// `time.RFC3339Nano`), in nanoseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rfc3339Ns(pub i64);

impl std::str::FromStr for Rfc3339Ns {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        chrono::DateTime::parse_from_rfc3339(text.trim())
            .ok()
            .and_then(|time| time.timestamp_nanos_opt())
            .map(Rfc3339Ns)
            .ok_or_else(|| {
                format!("time must be RFC 3339 (e.g. 2024-01-31T05:08:29Z), got {text:?}")
            })
    }
}

impl<'de> serde::Deserialize<'de> for Rfc3339Ns {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
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
    fn repeated_keys_fill_lists_and_empty_values_are_none() {
        #[derive(serde::Deserialize)]
        struct Query {
            #[serde(default, rename = "traceID")]
            trace_ids: Vec<String>,
            tag: Option<String>,
            empty: Option<String>,
        }
        let query: Query = from_query("traceID=a&traceID=b&tag=x%3Ay&empty=").expect("query");
        assert_eq!(query.trace_ids, vec!["a", "b"]);
        assert_eq!(query.tag.as_deref(), Some("x:y"));
        assert_eq!(query.empty, None);
    }

    #[test]
    fn v3_times_are_rfc3339_with_any_fraction() {
        assert_eq!(
            "1970-01-01T00:00:01.000000002Z".parse(),
            Ok(Rfc3339Ns(1_000_000_002))
        );
        assert_eq!("1970-01-01T01:00:00+01:00".parse(), Ok(Rfc3339Ns(0)));
        for bad in ["yesterday", "1500", "1970-01-01"] {
            let error = bad.parse::<Rfc3339Ns>().expect_err(bad);
            assert!(error.contains(bad), "{error}");
        }
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
