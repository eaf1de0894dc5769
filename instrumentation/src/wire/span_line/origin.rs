//! The resource attributes a compact line leaves out because the collector
//! restores them from where the line was delivered from: the CloudWatch log
//! group and log stream that every delivery names.
//!
//! | attribute | restored from |
//! |---|---|
//! | `cloud.provider` = `aws`, `cloud.platform` = `aws_lambda` | always (a Lambda's stdout) |
//! | `faas.name` | the log group `/aws/lambda/<name>` |
//! | `faas.instance` | the log stream name |
//! | `faas.version` | the log stream's `[<version>]` (`2026/11/29/[$LATEST]…`) |
//! | `service.name` | `faas.name`, when the line has no `service.name` |
//!
//! The writer leaves an attribute out only when its value is exactly the one
//! the origin implies, so the reader restores the same value.

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_semantic_conventions::attribute as semconv;

/// The log group prefix of a Lambda function's default log group.
const LAMBDA_LOG_GROUP_PREFIX: &str = "/aws/lambda/";

/// Where a span line was delivered from: its CloudWatch log group and stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineOrigin {
    /// The log group (`/aws/lambda/<function>` unless the function names another).
    pub log_group: String,
    /// The log stream (`<date>/[<version>]<instance>` for a Lambda).
    pub log_stream: String,
}

impl LineOrigin {
    /// The origin of lines delivered through `log_group` and `log_stream`.
    pub fn new(log_group: impl Into<String>, log_stream: impl Into<String>) -> LineOrigin {
        LineOrigin {
            log_group: log_group.into(),
            log_stream: log_stream.into(),
        }
    }

    /// The resource attributes this origin implies, as `(key, value)`.
    pub fn implied_resource(&self) -> Vec<(&'static str, String)> {
        let mut implied = vec![
            (semconv::CLOUD_PROVIDER, "aws".to_owned()),
            (semconv::CLOUD_PLATFORM, "aws_lambda".to_owned()),
        ];
        if let Some(name) = self.log_group.strip_prefix(LAMBDA_LOG_GROUP_PREFIX)
            && !name.is_empty()
        {
            implied.push((semconv::FAAS_NAME, name.to_owned()));
        }
        if !self.log_stream.is_empty() {
            implied.push((semconv::FAAS_INSTANCE, self.log_stream.clone()));
        }
        if let Some(version) = stream_version(&self.log_stream) {
            implied.push((semconv::FAAS_VERSION, version.to_owned()));
        }
        implied
    }

    /// `attributes` without those this origin restores to the same value.
    pub(crate) fn leave_out(&self, attributes: &[KeyValue]) -> Vec<KeyValue> {
        let implied = self.implied_resource();
        let faas_name = text_of(attributes, semconv::FAAS_NAME);
        attributes
            .iter()
            .filter(|attribute| {
                let value = text_value(attribute);
                if attribute.key == semconv::SERVICE_NAME {
                    return value.is_none() || value != faas_name;
                }
                !implied
                    .iter()
                    .any(|(key, implied)| attribute.key == *key && value == Some(implied.as_str()))
            })
            .cloned()
            .collect()
    }

    /// Adds to `resource` every attribute of this origin that it lacks.
    pub fn restore(&self, resource: &mut Resource) {
        for (key, value) in self.implied_resource() {
            if !resource.attributes.iter().any(|a| a.key == key) {
                resource.attributes.push(text_attribute(key, value));
            }
        }
        if !resource
            .attributes
            .iter()
            .any(|a| a.key == semconv::SERVICE_NAME)
            && let Some(name) = text_of(&resource.attributes, semconv::FAAS_NAME)
        {
            let name = name.to_owned();
            resource
                .attributes
                .push(text_attribute(semconv::SERVICE_NAME, name));
        }
    }
}

/// The version in a Lambda log stream name: `2026/11/29/[$LATEST]0123…` → `$LATEST`.
fn stream_version(stream: &str) -> Option<&str> {
    let mut parts = stream.splitn(4, '/');
    let (year, month, day, rest) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let is_number = |part: &str, len: usize| {
        part.len() == len && part.bytes().all(|byte| byte.is_ascii_digit())
    };
    if !(is_number(year, 4) && is_number(month, 2) && is_number(day, 2)) {
        return None;
    }
    let (version, _) = rest.strip_prefix('[')?.split_once(']')?;
    (!version.is_empty()).then_some(version)
}

fn text_value(attribute: &KeyValue) -> Option<&str> {
    match attribute.value.as_ref()?.value.as_ref()? {
        any_value::Value::StringValue(text) => Some(text),
        _ => None,
    }
}

fn text_of<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|attribute| attribute.key == key)
        .and_then(text_value)
}

fn text_attribute(key: &str, value: String) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value)),
        }),
        ..Default::default()
    }
}
