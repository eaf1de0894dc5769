//! The account-level subscription filter policy of `subscribe --account-policy`:
//! one policy for every log group of the account and Region, whose selection
//! criterion excludes the collector's own log group (and the `--exclude`d ones).

use aws_sdk_cloudwatchlogs::types::{PolicyType, Scope};
use serde::Serialize;

use super::subscribe::{Selection, SubscribeOptions};
use super::{AwsError, Client, FILTER_NAME};

/// The account-level subscription filter policy `subscribe --account-policy` puts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
///
/// The fields are the parameters of CloudWatch Logs' `PutAccountPolicy`, as
/// sent (or, in a dry run, as they would be sent).
pub struct AccountPolicyPlan {
    /// `policyName`: always [`FILTER_NAME`], so `unsubscribe` finds it again.
    pub policy_name: String,
    /// `policyType`: `SUBSCRIPTION_FILTER_POLICY`.
    pub policy_type: String,
    /// `policyDocument`: JSON with `DestinationArn`, `FilterPattern`,
    /// `Distribution` (`ByLogStream`) and, for Kinesis or Firehose,
    /// `RoleArn`.
    pub policy_document: String,
    /// `selectionCriteria`: `LogGroupName NOT IN [...]`, the collector's log
    /// groups and the `--exclude`d ones (see [`selection_criteria`]).
    pub selection_criteria: String,
    /// `scope`: `ALL`, every log group of the account and Region.
    pub scope: String,
    /// True when nothing was put because of `--dry-run`.
    pub dry_run: bool,
}

/// The selection criterion that keeps the collector's (and excluded) log
/// groups out of an account-level policy.
pub fn selection_criteria(excluded: &[String]) -> String {
    let quoted: Vec<String> = excluded
        .iter()
        .map(|g| serde_json::Value::String(g.clone()).to_string())
        .collect();
    format!("LogGroupName NOT IN [{}]", quoted.join(", "))
}

/// Puts (or, in a dry run, plans) the account-level subscription filter
/// policy. An account holds one such policy per Region, so another tool's
/// policy is refused by name (a dry run makes no call: it prints the plan).
///
/// # Errors
/// When the API calls fail, or another subscription filter policy exists.
pub async fn put_account_policy(
    client: &Client,
    selection: &Selection,
    options: &SubscribeOptions,
) -> Result<AccountPolicyPlan, AwsError> {
    if !selection.prefixes.is_empty() || selection.pattern.is_some() {
        return Err(AwsError::Invalid(
            "--account-policy covers every log group except exclusions; prefixes and patterns apply to per-group filters only".into(),
        ));
    }
    let mut document = serde_json::json!({
        "DestinationArn": options.destination_arn,
        "FilterPattern": options.filter_pattern,
        "Distribution": "ByLogStream",
    });
    if let Some(role) = &options.role_arn {
        document["RoleArn"] = serde_json::Value::String(role.clone());
    }
    let mut excluded: Vec<String> = selection.collector_log_groups.clone();
    excluded.extend(selection.exclude.iter().cloned());
    excluded.sort();
    excluded.dedup();
    let plan = AccountPolicyPlan {
        policy_name: FILTER_NAME.to_owned(),
        policy_type: PolicyType::SubscriptionFilterPolicy.as_str().to_owned(),
        policy_document: document.to_string(),
        selection_criteria: selection_criteria(&excluded),
        scope: Scope::All.as_str().to_owned(),
        dry_run: options.dry_run,
    };
    if options.dry_run {
        return Ok(plan);
    }
    let existing = client
        .describe_account_policies()
        .policy_type(PolicyType::SubscriptionFilterPolicy)
        .send()
        .await
        .map_err(|e| AwsError::api("DescribeAccountPolicies", e))?;
    let foreign: Vec<String> = existing
        .account_policies()
        .iter()
        .filter_map(|p| p.policy_name())
        .filter(|name| *name != FILTER_NAME)
        .map(str::to_owned)
        .collect();
    refuse_foreign_policies(&foreign)?;
    client
        .put_account_policy()
        .policy_name(FILTER_NAME)
        .policy_type(PolicyType::SubscriptionFilterPolicy)
        .policy_document(&plan.policy_document)
        .selection_criteria(&plan.selection_criteria)
        .scope(Scope::All)
        .send()
        .await
        .map_err(|e| AwsError::api("PutAccountPolicy", e))?;
    Ok(plan)
}

/// An account holds one subscription filter policy per Region
/// (`PutAccountPolicy` in the CloudWatch Logs API reference), so another
/// tool's policy would make ours fail: say so before trying, naming it.
fn refuse_foreign_policies(foreign: &[String]) -> Result<(), AwsError> {
    if foreign.is_empty() {
        return Ok(());
    }
    Err(AwsError::Invalid(format!(
        "the account already has the subscription filter policy {} and holds one per Region: \
         remove it, or subscribe log groups one by one (without --account-policy)",
        foreign.join(", ")
    )))
}

/// Deletes our account-level policy (and no other).
///
/// # Errors
/// When the API call fails.
pub async fn delete_account_policy(client: &Client, dry_run: bool) -> Result<(), AwsError> {
    if dry_run {
        return Ok(());
    }
    client
        .delete_account_policy()
        .policy_name(FILTER_NAME)
        .policy_type(PolicyType::SubscriptionFilterPolicy)
        .send()
        .await
        .map_err(|e| AwsError::api("DeleteAccountPolicy", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_tools_account_policy_is_refused_by_name() {
        assert!(refuse_foreign_policies(&[]).is_ok());
        let error = refuse_foreign_policies(&["datadog-forwarder".to_owned()])
            .expect_err("a foreign policy");
        assert!(error.to_string().contains("datadog-forwarder"), "{error}");
    }

    #[test]
    fn the_selection_criterion_quotes_names() {
        assert_eq!(
            selection_criteria(&["/aws/lambda/tracelake-collector".into(), "a\"b".into()]),
            r#"LogGroupName NOT IN ["/aws/lambda/tracelake-collector", "a\"b"]"#
        );
    }
}
