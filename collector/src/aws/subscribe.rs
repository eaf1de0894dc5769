//! Subscribing log groups to the collector, and undoing it.
//!
//! Rules (docs/deploy.md):
//! - one filter per log group, named [`FILTER_NAME`]; running `subscribe`
//!   again changes nothing, or updates only that filter;
//! - CloudWatch allows two subscription filters per log group: a group whose
//!   two slots hold other tools' filters is reported as a conflict, and another
//!   tool's filter is never replaced or removed;
//! - the collector's own log group is never subscribed (its logs would feed
//!   the collector, which would log about them, in a loop), whatever the
//!   selection says;
//! - `--account-policy` puts one account-level subscription filter policy
//!   whose selection criterion excludes the collector's log group instead
//!   (see [`super::account_policy`]).

use std::collections::BTreeSet;

use serde::Serialize;

use super::{AwsError, Client, FILTER_NAME};

/// Which log groups to act on.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Name prefixes (any of them); empty means every log group.
    pub prefixes: Vec<String>,
    /// A regular expression the name must match.
    pub pattern: Option<regex::Regex>,
    /// Names never to touch.
    pub exclude: Vec<String>,
    /// The collector's own log groups: always excluded.
    pub collector_log_groups: Vec<String>,
}

impl Selection {
    /// Why a log group is left out, or `None` when it is selected.
    pub fn exclusion(&self, log_group: &str) -> Option<&'static str> {
        if self.collector_log_groups.iter().any(|g| g == log_group) {
            return Some("the collector's own log group");
        }
        if self.exclude.iter().any(|g| g == log_group) {
            return Some("excluded");
        }
        if !self.prefixes.is_empty() && !self.prefixes.iter().any(|p| log_group.starts_with(p)) {
            return Some("no prefix matches");
        }
        if let Some(pattern) = &self.pattern
            && !pattern.is_match(log_group)
        {
            return Some("pattern does not match");
        }
        None
    }
}

/// The collector's log group for a Lambda function name or ARN.
pub fn collector_log_group(function: &str) -> String {
    let name = function
        .strip_prefix("arn:")
        .and_then(|_| function.split(":function:").nth(1))
        .map(|rest| rest.split(':').next().unwrap_or(rest))
        .unwrap_or(function);
    format!("/aws/lambda/{name}")
}

/// What `subscribe` wants on each log group.
#[derive(Debug, Clone)]
pub struct SubscribeOptions {
    /// The Kinesis stream, Firehose stream or Lambda function to deliver to.
    pub destination_arn: String,
    /// The role CloudWatch Logs assumes to write to Kinesis or Firehose.
    pub role_arn: Option<String>,
    /// The filter pattern (empty: every event).
    pub filter_pattern: String,
    /// Report what would change without changing anything.
    pub dry_run: bool,
}

/// What happened (or would happen, in a dry run) to one log group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum GroupAction {
    /// Our filter was put.
    Subscribed,
    /// Our filter was already there, as asked.
    Unchanged,
    /// Our filter was there with another destination, pattern or role.
    Updated,
    /// Our filter was removed.
    Unsubscribed,
    /// Nothing of ours was there.
    NotSubscribed,
    /// Left out by the selection.
    Excluded {
        /// Why, as [`Selection::exclusion`] says.
        reason: String,
    },
    /// Both filter slots hold other tools' filters: nothing was changed.
    Conflict {
        /// The names of the other tools' filters that hold the slots
        /// (CloudWatch allows [`FILTERS_PER_LOG_GROUP`] per log group).
        filters: Vec<String>,
    },
    /// An API call for this group failed (after retries); the other groups
    /// were still handled.
    Failed {
        /// The error's message, naming the API call.
        error: String,
    },
}

impl GroupAction {
    /// The action for a group whose API call failed.
    fn failed(error: &AwsError) -> GroupAction {
        GroupAction::Failed {
            error: error.to_string(),
        }
    }
}

/// How many of `reports` failed.
pub fn failures(reports: &[GroupReport]) -> usize {
    reports
        .iter()
        .filter(|r| matches!(r.action, GroupAction::Failed { .. }))
        .count()
}

/// One log group's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupReport {
    /// The log group's name.
    pub log_group: String,
    /// What happened to it (serialized flat: an `action` key and the
    /// variant's fields).
    #[serde(flatten)]
    pub action: GroupAction,
    /// True when nothing was changed because of `--dry-run`.
    pub dry_run: bool,
}

/// A subscription filter on a log group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
///
/// The fields of a `DescribeSubscriptionFilters` entry (empty when the API
/// left one out).
pub struct FilterInfo {
    /// `filterName`: [`FILTER_NAME`] for ours.
    pub name: String,
    /// `destinationArn`: the Kinesis stream, Firehose stream or Lambda
    /// function the events go to.
    pub destination_arn: String,
    /// `filterPattern`: empty for every event.
    pub filter_pattern: String,
    /// `roleArn`: the role CloudWatch Logs assumes to write to Kinesis or
    /// Firehose (none for a Lambda destination).
    pub role_arn: Option<String>,
}

/// Every log group name in the account (per prefix when there are prefixes),
/// following pagination. The selection is not applied.
///
/// # Errors
/// When `DescribeLogGroups` fails.
pub async fn list_log_groups(
    client: &Client,
    prefixes: &[String],
) -> Result<Vec<String>, AwsError> {
    let mut names = BTreeSet::new();
    let queries: Vec<Option<&String>> = if prefixes.is_empty() {
        vec![None]
    } else {
        prefixes.iter().map(Some).collect()
    };
    for prefix in queries {
        let mut pages = client
            .describe_log_groups()
            .set_log_group_name_prefix(prefix.cloned())
            .into_paginator()
            .items()
            .send();
        while let Some(group) = pages.next().await {
            let group = group.map_err(|e| AwsError::api("DescribeLogGroups", e))?;
            if let Some(name) = group.log_group_name() {
                names.insert(name.to_owned());
            }
        }
    }
    Ok(names.into_iter().collect())
}

/// The subscription filters of one log group.
///
/// # Errors
/// When `DescribeSubscriptionFilters` fails.
pub async fn filters_of(client: &Client, log_group: &str) -> Result<Vec<FilterInfo>, AwsError> {
    let mut filters = Vec::new();
    let mut pages = client
        .describe_subscription_filters()
        .log_group_name(log_group)
        .into_paginator()
        .items()
        .send();
    while let Some(filter) = pages.next().await {
        let filter = filter.map_err(|e| AwsError::api("DescribeSubscriptionFilters", e))?;
        filters.push(FilterInfo {
            name: filter.filter_name().unwrap_or_default().to_owned(),
            destination_arn: filter.destination_arn().unwrap_or_default().to_owned(),
            filter_pattern: filter.filter_pattern().unwrap_or_default().to_owned(),
            role_arn: filter.role_arn().map(str::to_owned),
        });
    }
    Ok(filters)
}

/// CloudWatch's limit of subscription filters per log group.
pub const FILTERS_PER_LOG_GROUP: usize = 2;

/// Subscribes every selected log group. `progress` is called after each group
/// with (done, total). A group whose calls fail is reported as
/// [`GroupAction::Failed`] and the others are still handled.
///
/// # Errors
/// When listing the log groups fails.
pub async fn subscribe(
    client: &Client,
    selection: &Selection,
    options: &SubscribeOptions,
    progress: &dyn Fn(usize, usize),
) -> Result<Vec<GroupReport>, AwsError> {
    let groups = list_log_groups(client, &selection.prefixes).await?;
    let mut reports = Vec::with_capacity(groups.len());
    for (done, log_group) in groups.iter().enumerate() {
        let action = subscribe_one(client, selection, options, log_group)
            .await
            .unwrap_or_else(|error| GroupAction::failed(&error));
        reports.push(GroupReport {
            log_group: log_group.clone(),
            dry_run: options.dry_run
                && matches!(action, GroupAction::Subscribed | GroupAction::Updated),
            action,
        });
        progress(done + 1, groups.len());
    }
    Ok(reports)
}

async fn subscribe_one(
    client: &Client,
    selection: &Selection,
    options: &SubscribeOptions,
    log_group: &str,
) -> Result<GroupAction, AwsError> {
    if let Some(reason) = selection.exclusion(log_group) {
        return Ok(GroupAction::Excluded {
            reason: reason.to_owned(),
        });
    }
    let filters = filters_of(client, log_group).await?;
    let ours = filters.iter().find(|f| f.name == FILTER_NAME);
    let action = match ours {
        Some(filter)
            if filter.destination_arn == options.destination_arn
                && filter.filter_pattern == options.filter_pattern
                && (options.role_arn.is_none() || filter.role_arn == options.role_arn) =>
        {
            return Ok(GroupAction::Unchanged);
        }
        Some(_) => GroupAction::Updated,
        None if filters.len() >= FILTERS_PER_LOG_GROUP => {
            return Ok(GroupAction::Conflict {
                filters: filters.iter().map(|f| f.name.clone()).collect(),
            });
        }
        None => GroupAction::Subscribed,
    };
    if options.dry_run {
        return Ok(action);
    }
    let put = client
        .put_subscription_filter()
        .log_group_name(log_group)
        .filter_name(FILTER_NAME)
        .filter_pattern(&options.filter_pattern)
        .destination_arn(&options.destination_arn)
        .set_role_arn(options.role_arn.clone())
        .send()
        .await;
    match put {
        Ok(_) => Ok(action),
        Err(error) => {
            let error = AwsError::api("PutSubscriptionFilter", error);
            // Another tool took the second slot between our read and our put.
            if let AwsError::Api { error: source, .. } = &error
                && matches!(
                    **source,
                    aws_sdk_cloudwatchlogs::Error::LimitExceededException(_)
                )
            {
                let filters = filters_of(client, log_group).await?;
                return Ok(GroupAction::Conflict {
                    filters: filters.into_iter().map(|f| f.name).collect(),
                });
            }
            Err(error)
        }
    }
}

/// Removes our filter from every selected log group; other filters stay.
/// With `destination_arn`, only a filter of ours that delivers there. A group
/// whose calls fail is reported as [`GroupAction::Failed`] and the others are
/// still handled.
///
/// # Errors
/// When listing the log groups fails.
pub async fn unsubscribe(
    client: &Client,
    selection: &Selection,
    destination_arn: Option<&str>,
    dry_run: bool,
    progress: &dyn Fn(usize, usize),
) -> Result<Vec<GroupReport>, AwsError> {
    let groups = list_log_groups(client, &selection.prefixes).await?;
    let mut reports = Vec::with_capacity(groups.len());
    for (done, log_group) in groups.iter().enumerate() {
        // The collector's group is listed as excluded from subscribing, but a
        // filter of ours found there (from an older version) is still removed.
        let excluded = selection
            .exclusion(log_group)
            .filter(|reason| *reason != "the collector's own log group");
        let action = if let Some(reason) = excluded {
            GroupAction::Excluded {
                reason: reason.to_owned(),
            }
        } else {
            unsubscribe_one(client, log_group, destination_arn, dry_run)
                .await
                .unwrap_or_else(|error| GroupAction::failed(&error))
        };
        reports.push(GroupReport {
            log_group: log_group.clone(),
            dry_run: dry_run && action == GroupAction::Unsubscribed,
            action,
        });
        progress(done + 1, groups.len());
    }
    Ok(reports)
}

async fn unsubscribe_one(
    client: &Client,
    log_group: &str,
    destination_arn: Option<&str>,
    dry_run: bool,
) -> Result<GroupAction, AwsError> {
    let filters = filters_of(client, log_group).await?;
    let ours = filters
        .iter()
        .find(|f| f.name == FILTER_NAME && destination_arn.is_none_or(|d| f.destination_arn == d));
    Ok(match ours {
        None => GroupAction::NotSubscribed,
        Some(_) if dry_run => GroupAction::Unsubscribed,
        Some(_) => {
            client
                .delete_subscription_filter()
                .log_group_name(log_group)
                .filter_name(FILTER_NAME)
                .send()
                .await
                .map_err(|e| AwsError::api("DeleteSubscriptionFilter", e))?;
            GroupAction::Unsubscribed
        }
    })
}

/// Which filters a log group has, for `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupStatus {
    /// The log group's name.
    pub log_group: String,
    /// Our filter's destination, if subscribed.
    pub destination_arn: Option<String>,
    /// Other tools' filters.
    pub other_filters: Vec<String>,
    /// Why the group is left out, if it is.
    pub excluded: Option<String>,
    /// Why its filters could not be read, if they could not (the other
    /// fields are then empty).
    pub error: Option<String>,
}

/// The subscription state of every listed log group. A group whose filters
/// cannot be read carries the error; the others are still read.
///
/// # Errors
/// When listing the log groups fails.
pub async fn status(
    client: &Client,
    selection: &Selection,
    progress: &dyn Fn(usize, usize),
) -> Result<Vec<GroupStatus>, AwsError> {
    let groups = list_log_groups(client, &selection.prefixes).await?;
    let mut statuses = Vec::with_capacity(groups.len());
    for (done, log_group) in groups.iter().enumerate() {
        let (filters, error) = match filters_of(client, log_group).await {
            Ok(filters) => (filters, None),
            Err(error) => (Vec::new(), Some(error.to_string())),
        };
        statuses.push(GroupStatus {
            log_group: log_group.clone(),
            error,
            destination_arn: filters
                .iter()
                .find(|f| f.name == FILTER_NAME)
                .map(|f| f.destination_arn.clone()),
            other_filters: filters
                .iter()
                .filter(|f| f.name != FILTER_NAME)
                .map(|f| f.name.clone())
                .collect(),
            excluded: selection.exclusion(log_group).map(str::to_owned),
        });
        progress(done + 1, groups.len());
    }
    Ok(statuses)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_collector_is_excluded_whatever_the_selection() {
        let selection = Selection {
            prefixes: vec!["/aws/lambda/".into()],
            collector_log_groups: vec![collector_log_group(
                "arn:aws:lambda:us-east-1:123456789012:function:tracelake-collector:live",
            )],
            ..Selection::default()
        };
        assert_eq!(
            selection.exclusion("/aws/lambda/tracelake-collector"),
            Some("the collector's own log group")
        );
        assert_eq!(selection.exclusion("/aws/lambda/checkout"), None);
        assert_eq!(selection.exclusion("/ecs/web"), Some("no prefix matches"));
        assert_eq!(
            collector_log_group("tracelake-collector"),
            "/aws/lambda/tracelake-collector"
        );
    }
}
