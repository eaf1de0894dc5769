//! The query engine's guard rails as flags, one definition flattened into both
//! `tracelake serve` and `tracelake query`, so that both take the same flags
//! with the same defaults and the same checks. A limit of zero would refuse
//! every query (or answer nothing), so every limit must be positive.

use std::time::Duration;

use tracelake_dashboards::api::params::parse_go_duration;
use tracelake_dashboards::query::{EngineOptions, limits};

/// Memory, time and row limits of the queries (`serve`: of every API request).
#[derive(clap::Args, Debug, Clone, PartialEq)]
pub struct LimitArgs {
    /// Memory all queries together may hold, in MiB (at least 1); sorts and
    /// aggregations spill to disk past it, other queries fail (`serve`: 503).
    #[arg(long, global = true, default_value_t = limits::DEFAULT_MEMORY_LIMIT_BYTES >> 20,
          value_parser = parse_positive)]
    pub memory_limit_mb: usize,
    /// How long one query may run (`serve`: one API request from its arrival,
    /// every query it runs included, else a 504), as a positive Go duration
    /// (`30s`, `2m`).
    #[arg(long, global = true, default_value = "30s", value_parser = parse_timeout)]
    pub query_timeout: Duration,
    /// Most rows ad-hoc SQL returns, at least 1 (the answer says when it was
    /// cut).
    #[arg(long, global = true, default_value_t = limits::DEFAULT_SQL_ROW_CAP,
          value_parser = parse_positive)]
    pub sql_row_cap: usize,
}

impl LimitArgs {
    /// `options` with these limits.
    pub fn apply(&self, options: EngineOptions) -> EngineOptions {
        EngineOptions {
            memory_limit_bytes: self.memory_limit_mb.saturating_mul(1 << 20),
            query_timeout: self.query_timeout,
            sql_row_cap: self.sql_row_cap,
            ..options
        }
    }
}

/// A count of at least 1, for a limit flag.
///
/// # Errors
///
/// Text that is not a whole number, or zero.
pub fn parse_positive(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1: a limit of 0 would refuse every query".to_owned()),
        Ok(count) => Ok(count),
        Err(error) => Err(format!("not a whole number ({error})")),
    }
}

/// A positive Go duration (`30s`, `1m30s`), for a timeout flag.
///
/// # Errors
///
/// Text that is not a Go duration, or zero or negative.
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let nanos = parse_go_duration(text)?;
    if nanos <= 0 {
        return Err(format!(
            "the timeout must be positive, got {text:?}: a timeout of 0 would stop every query"
        ));
    }
    Ok(Duration::from_nanos(nanos.unsigned_abs()))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser, Debug)]
    struct Command {
        #[command(flatten)]
        limits: LimitArgs,
    }

    fn parse(args: &[&str]) -> Result<LimitArgs, clap::Error> {
        Command::try_parse_from(std::iter::once("tracelake").chain(args.iter().copied()))
            .map(|command| command.limits)
    }

    #[test]
    fn the_defaults_are_the_engine_defaults() {
        let limits = parse(&[]).expect("defaults parse");
        let options = limits.apply(EngineOptions::default());
        assert_eq!(options, EngineOptions::default());
        assert_eq!(
            limits.memory_limit_mb << 20,
            limits::DEFAULT_MEMORY_LIMIT_BYTES
        );
    }

    #[test]
    fn given_limits_reach_the_engine_options() {
        let limits = parse(&[
            "--memory-limit-mb",
            "64",
            "--query-timeout",
            "1m30s",
            "--sql-row-cap",
            "5",
        ])
        .expect("limits parse");
        let options = limits.apply(EngineOptions::default());
        assert_eq!(options.memory_limit_bytes, 64 << 20);
        assert_eq!(options.query_timeout, Duration::from_secs(90));
        assert_eq!(options.sql_row_cap, 5);
    }

    #[test]
    fn zero_and_negative_limits_are_refused_with_a_clear_error() {
        for (flag, value, says) in [
            ("--memory-limit-mb", "0", "must be at least 1"),
            ("--sql-row-cap", "0", "must be at least 1"),
            ("--sql-row-cap", "-3", "not a whole number"),
            ("--query-timeout", "0s", "must be positive"),
            ("--query-timeout", "0", "must be positive"),
            ("--query-timeout", "-5s", "invalid duration"),
        ] {
            let arg = format!("{flag}={value}");
            let error = parse(&[&arg]).expect_err(&format!("{arg} is refused"));
            assert_eq!(error.kind(), clap::error::ErrorKind::ValueValidation);
            let text = error.to_string();
            assert!(
                text.contains(flag) && text.contains(says),
                "{flag} {value}: {text}"
            );
        }
    }
}
