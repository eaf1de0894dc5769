//! Checks on `tracelake aws` arguments, made before any AWS call so that a
//! typo fails at once with the offending value instead of as a service error
//! after minutes of listing, or not at all (a filter put with a wrong ARN
//! delivers nothing).
//!
//! The rules are CloudWatch Logs' own (API reference): log group names are 1–512
//! characters of `A-Za-z0-9 . - _ / #`; a filter pattern is at most 1,024
//! characters; a subscription's destination is a Kinesis stream, a Firehose
//! stream, a Lambda function or a cross-account logs destination; CloudWatch
//! Logs assumes `--role-arn` to put records into Kinesis or Firehose, needs no
//! role for a Lambda function, and takes none for a logs destination.

use super::AwsError;

/// What a subscription's destination ARN names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DestinationKind {
    /// A Kinesis data stream (`arn:aws:kinesis:…:stream/NAME`).
    KinesisStream,
    /// A Firehose stream (`arn:aws:firehose:…:deliverystream/NAME`).
    FirehoseStream,
    /// A Lambda function (`arn:aws:lambda:…:function:NAME[:QUALIFIER]`).
    LambdaFunction,
    /// A cross-account logs destination (`arn:aws:logs:…:destination:NAME`).
    LogsDestination,
}

/// The six colon-separated fields of an ARN: partition, service, region,
/// account, resource.
struct Arn<'a> {
    service: &'a str,
    region: &'a str,
    account: &'a str,
    resource: &'a str,
}

fn parse_arn<'a>(flag: &str, arn: &'a str) -> Result<Arn<'a>, AwsError> {
    let invalid = |why: &str| {
        AwsError::Invalid(format!(
            "{flag} {arn:?} is not an ARN ({why}); expected arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE"
        ))
    };
    let mut fields = arn.splitn(6, ':');
    if fields.next() != Some("arn") {
        return Err(invalid("it does not start with \"arn:\""));
    }
    let (Some(partition), Some(service), Some(region), Some(account), Some(resource)) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    ) else {
        return Err(invalid("it has fewer than six fields"));
    };
    if !matches!(
        partition,
        "aws" | "aws-cn" | "aws-us-gov" | "aws-iso" | "aws-iso-b"
    ) {
        return Err(invalid(&format!("unknown partition {partition:?}")));
    }
    if service.is_empty() || resource.is_empty() {
        return Err(invalid("the service or resource is empty"));
    }
    let twelve_digits = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    if !account.is_empty() && !twelve_digits {
        return Err(invalid(&format!(
            "the account {account:?} is not 12 digits"
        )));
    }
    Ok(Arn {
        service,
        region,
        account,
        resource,
    })
}

/// Checks a `--destination-arn` and says what it names.
///
/// # Errors
/// [`AwsError::Invalid`] when it is not an ARN of a Kinesis stream, Firehose
/// stream, Lambda function or logs destination in a region and account.
pub fn destination_arn(arn: &str) -> Result<DestinationKind, AwsError> {
    let flag = "--destination-arn";
    let parsed = parse_arn(flag, arn)?;
    if parsed.region.is_empty() || parsed.account.is_empty() {
        return Err(AwsError::Invalid(format!(
            "{flag} {arn:?} has no region or account; a subscription destination lives in both"
        )));
    }
    let named = |prefix: &str| {
        parsed
            .resource
            .strip_prefix(prefix)
            .is_some_and(|name| !name.is_empty())
    };
    let kind = match parsed.service {
        "kinesis" if named("stream/") => DestinationKind::KinesisStream,
        "firehose" if named("deliverystream/") => DestinationKind::FirehoseStream,
        "lambda" if named("function:") => DestinationKind::LambdaFunction,
        "logs" if named("destination:") => DestinationKind::LogsDestination,
        _ => {
            return Err(AwsError::Invalid(format!(
                "{flag} {arn:?} names no subscription destination; expected a Kinesis stream \
                 (…:kinesis:…:stream/NAME), a Firehose stream (…:firehose:…:deliverystream/NAME), \
                 a Lambda function (…:lambda:…:function:NAME) or a logs destination \
                 (…:logs:…:destination:NAME)"
            )));
        }
    };
    Ok(kind)
}

/// Checks a `--role-arn`: an IAM role.
///
/// # Errors
/// [`AwsError::Invalid`] when it is not `arn:PARTITION:iam::ACCOUNT:role/NAME`.
pub fn role_arn(arn: &str) -> Result<(), AwsError> {
    let flag = "--role-arn";
    let parsed = parse_arn(flag, arn)?;
    let is_role = parsed.service == "iam"
        && parsed.region.is_empty()
        && !parsed.account.is_empty()
        && parsed
            .resource
            .strip_prefix("role/")
            .is_some_and(|name| !name.is_empty());
    if !is_role {
        return Err(AwsError::Invalid(format!(
            "{flag} {arn:?} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"
        )));
    }
    Ok(())
}

/// Checks that a role is given exactly where CloudWatch Logs uses one.
///
/// # Errors
/// [`AwsError::Invalid`] when a Kinesis or Firehose destination has no role,
/// or a Lambda or logs destination has one.
pub fn role_for_destination(kind: DestinationKind, role: Option<&str>) -> Result<(), AwsError> {
    match (kind, role) {
        (DestinationKind::KinesisStream | DestinationKind::FirehoseStream, None) => {
            Err(AwsError::Invalid(
                "a Kinesis or Firehose destination needs --role-arn: the role CloudWatch Logs \
                 assumes to put records (the template's LogsToStreamRoleArn output)"
                    .into(),
            ))
        }
        (DestinationKind::LambdaFunction, Some(_)) => Err(AwsError::Invalid(
            "--role-arn is not used for a Lambda destination: CloudWatch Logs invokes the \
             function under its resource policy (the template's LogsInvokePermission)"
                .into(),
        )),
        (DestinationKind::LogsDestination, Some(_)) => Err(AwsError::Invalid(
            "--role-arn is not used for a logs destination: the destination's owner set its role"
                .into(),
        )),
        (kind, Some(role)) => {
            debug_assert!(matches!(
                kind,
                DestinationKind::KinesisStream | DestinationKind::FirehoseStream
            ));
            role_arn(role)
        }
        (_, None) => Ok(()),
    }
}

/// The longest log group name CloudWatch Logs accepts.
pub const MAX_LOG_GROUP_NAME_CHARS: usize = 512;

/// Checks a log group name, or a prefix of one (`flag` names the argument).
///
/// # Errors
/// [`AwsError::Invalid`] when it is empty, longer than 512 characters, or has
/// a character CloudWatch Logs does not allow in log group names.
pub fn log_group_name(flag: &str, name: &str) -> Result<(), AwsError> {
    if name.is_empty() || name.chars().count() > MAX_LOG_GROUP_NAME_CHARS {
        return Err(AwsError::Invalid(format!(
            "{flag} {name:?}: a log group name is 1 to {MAX_LOG_GROUP_NAME_CHARS} characters"
        )));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | '#')))
    {
        return Err(AwsError::Invalid(format!(
            "{flag} {name:?}: {bad:?} cannot be in a log group name (letters, digits, . - _ / # only)"
        )));
    }
    Ok(())
}

/// The longest subscription filter pattern CloudWatch Logs accepts.
pub const MAX_FILTER_PATTERN_CHARS: usize = 1024;

/// Checks a `--filter-pattern`'s length (its syntax is CloudWatch's to judge).
///
/// # Errors
/// [`AwsError::Invalid`] when it is longer than 1,024 characters.
pub fn filter_pattern(pattern: &str) -> Result<(), AwsError> {
    let chars = pattern.chars().count();
    if chars > MAX_FILTER_PATTERN_CHARS {
        return Err(AwsError::Invalid(format!(
            "--filter-pattern is {chars} characters; CloudWatch Logs accepts at most {MAX_FILTER_PATTERN_CHARS}"
        )));
    }
    Ok(())
}

/// Compiles a `--log-group-pattern`.
///
/// # Errors
/// [`AwsError::Invalid`] with the regex crate's explanation of where it fails.
pub fn log_group_pattern(pattern: &str) -> Result<regex::Regex, AwsError> {
    regex::Regex::new(pattern).map_err(|error| {
        AwsError::Invalid(format!(
            "--log-group-pattern {pattern:?} is not a regular expression:\n{error}"
        ))
    })
}

/// Checks a `--collector-function`: a Lambda function name or ARN.
///
/// # Errors
/// [`AwsError::Invalid`] when it is neither.
pub fn collector_function(function: &str) -> Result<(), AwsError> {
    let flag = "--collector-function";
    if function.starts_with("arn:") {
        let parsed = parse_arn(flag, function)?;
        if parsed.service == "lambda" && parsed.resource.starts_with("function:") {
            return Ok(());
        }
        return Err(AwsError::Invalid(format!(
            "{flag} {function:?} is not a Lambda function ARN"
        )));
    }
    let valid = (1..=64).contains(&function.len())
        && function
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return Err(AwsError::Invalid(format!(
            "{flag} {function:?} is not a Lambda function name (1 to 64 of A-Z a-z 0-9 - _) or ARN"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(result: Result<impl std::fmt::Debug, AwsError>) -> String {
        match result {
            Err(AwsError::Invalid(message)) => message,
            other => panic!("expected an invalid-argument error, got {other:?}"),
        }
    }

    #[test]
    fn destination_arns_say_what_they_name() {
        let cases = [
            (
                "arn:aws:kinesis:us-east-1:123456789012:stream/logs",
                DestinationKind::KinesisStream,
            ),
            (
                "arn:aws:firehose:eu-west-1:123456789012:deliverystream/raw",
                DestinationKind::FirehoseStream,
            ),
            (
                "arn:aws:lambda:us-east-1:123456789012:function:tracelake-collector:live",
                DestinationKind::LambdaFunction,
            ),
            (
                "arn:aws-cn:logs:cn-north-1:123456789012:destination:central",
                DestinationKind::LogsDestination,
            ),
        ];
        for (arn, kind) in cases {
            assert_eq!(destination_arn(arn).unwrap(), kind, "{arn}");
        }
    }

    #[test]
    fn bad_destination_arns_are_refused_with_the_value() {
        let not_arn = message(destination_arn("tracelake-stream"));
        assert!(
            not_arn.contains("\"tracelake-stream\" is not an ARN"),
            "{not_arn}"
        );
        let short = message(destination_arn("arn:aws:kinesis:us-east-1"));
        assert!(short.contains("fewer than six fields"), "{short}");
        let account = message(destination_arn("arn:aws:kinesis:us-east-1:12345:stream/x"));
        assert!(account.contains("\"12345\" is not 12 digits"), "{account}");
        let partition = message(destination_arn(
            "arn:amazon:kinesis:us-east-1:123456789012:stream/x",
        ));
        assert!(
            partition.contains("unknown partition \"amazon\""),
            "{partition}"
        );
        let sqs = message(destination_arn("arn:aws:sqs:us-east-1:123456789012:queue"));
        assert!(sqs.contains("names no subscription destination"), "{sqs}");
        let no_name = message(destination_arn(
            "arn:aws:kinesis:us-east-1:123456789012:stream/",
        ));
        assert!(
            no_name.contains("names no subscription destination"),
            "{no_name}"
        );
        let no_region = message(destination_arn("arn:aws:kinesis::123456789012:stream/x"));
        assert!(no_region.contains("no region or account"), "{no_region}");
    }

    #[test]
    fn a_role_is_required_exactly_where_cloudwatch_uses_one() {
        let role = "arn:aws:iam::123456789012:role/logs-to-stream";
        assert!(role_for_destination(DestinationKind::KinesisStream, Some(role)).is_ok());
        assert!(role_for_destination(DestinationKind::LambdaFunction, None).is_ok());
        assert!(role_for_destination(DestinationKind::LogsDestination, None).is_ok());
        let missing = message(role_for_destination(DestinationKind::FirehoseStream, None));
        assert!(missing.contains("needs --role-arn"), "{missing}");
        let unused = message(role_for_destination(
            DestinationKind::LambdaFunction,
            Some(role),
        ));
        assert!(
            unused.contains("not used for a Lambda destination"),
            "{unused}"
        );
        let unused = message(role_for_destination(
            DestinationKind::LogsDestination,
            Some(role),
        ));
        assert!(
            unused.contains("not used for a logs destination"),
            "{unused}"
        );
        let not_role = message(role_for_destination(
            DestinationKind::KinesisStream,
            Some("arn:aws:iam::123456789012:user/alice"),
        ));
        assert!(not_role.contains("is not an IAM role ARN"), "{not_role}");
        let regional = message(role_arn("arn:aws:iam:us-east-1:123456789012:role/r"));
        assert!(regional.contains("is not an IAM role ARN"), "{regional}");
    }

    #[test]
    fn log_group_names_follow_cloudwatch_rules() {
        assert!(log_group_name("--log-group", "/aws/lambda/checkout_v2.prod#1").is_ok());
        let empty = message(log_group_name("--log-group-prefix", ""));
        assert!(
            empty.contains("--log-group-prefix \"\": a log group name is 1 to 512"),
            "{empty}"
        );
        let long = message(log_group_name("--exclude", &"a".repeat(513)));
        assert!(long.contains("1 to 512 characters"), "{long}");
        let space = message(log_group_name("--log-group", "/aws/lambda/my fn"));
        assert!(
            space.contains("' ' cannot be in a log group name"),
            "{space}"
        );
        let star = message(log_group_name("--log-group-prefix", "/aws/lambda/*"));
        assert!(star.contains("'*' cannot be"), "{star}");
    }

    #[test]
    fn patterns_and_functions_are_checked() {
        assert!(log_group_pattern("^/aws/lambda/(checkout|cart)-").is_ok());
        let regex = message(log_group_pattern("/aws/lambda/(unclosed"));
        assert!(
            regex.contains("\"/aws/lambda/(unclosed\" is not a regular expression"),
            "{regex}"
        );
        assert!(regex.contains("unclosed group"), "{regex}");
        assert!(filter_pattern(&"x".repeat(1024)).is_ok());
        let pattern = message(filter_pattern(&"x".repeat(1025)));
        assert!(pattern.contains("1025 characters"), "{pattern}");
        assert!(collector_function("tracelake-collector").is_ok());
        assert!(collector_function("arn:aws:lambda:us-east-1:123456789012:function:tc").is_ok());
        let name = message(collector_function("tracelake collector"));
        assert!(name.contains("is not a Lambda function name"), "{name}");
        let arn = message(collector_function("arn:aws:s3:::bucket"));
        assert!(arn.contains("is not a Lambda function ARN"), "{arn}");
    }
}
