//! The arguments of `tracelake aws` and its subcommands.

use tracelake_collector::aws::subscribe::{Selection, collector_log_group};
use tracelake_collector::aws::validate;

/// Arguments of `tracelake aws`.
#[derive(clap::Args)]
pub struct AwsArgs {
    #[command(subcommand)]
    pub command: AwsCommand,
}

/// The `tracelake aws` subcommands.
#[derive(clap::Subcommand)]
pub enum AwsCommand {
    /// Put a subscription filter named `tracelake` on every selected log group
    /// (or one account-level policy with --account-policy).
    Subscribe(SubscribeArgs),
    /// Remove exactly the filters (or account policy) `subscribe` put.
    Unsubscribe(UnsubscribeArgs),
    /// Index a log group's history as the subscription would have delivered it.
    Backfill(BackfillArgs),
    /// Which log groups are subscribed and to where, and the index's freshness per hour.
    Status(StatusArgs),
}

/// Which log groups, shared by the subcommands.
#[derive(clap::Args, Clone)]
pub struct SelectionArgs {
    /// Only log groups whose name starts with this (repeatable).
    #[arg(long = "log-group-prefix")]
    pub prefixes: Vec<String>,
    /// Only log groups whose name matches this regular expression.
    #[arg(long = "log-group-pattern")]
    pub pattern: Option<String>,
    /// Never touch this log group (repeatable).
    #[arg(long)]
    pub exclude: Vec<String>,
    /// The collector's Lambda function (name or ARN): its log group is never
    /// subscribed. Repeatable.
    #[arg(long = "collector-function", default_value = "tracelake-collector")]
    pub collector_functions: Vec<String>,
}

impl SelectionArgs {
    pub(super) fn selection(&self, destination_arn: Option<&str>) -> anyhow::Result<Selection> {
        for prefix in &self.prefixes {
            validate::log_group_name("--log-group-prefix", prefix)?;
        }
        for name in &self.exclude {
            validate::log_group_name("--exclude", name)?;
        }
        for function in &self.collector_functions {
            validate::collector_function(function)?;
        }
        let pattern = self
            .pattern
            .as_deref()
            .map(validate::log_group_pattern)
            .transpose()?;
        let mut collector_log_groups: Vec<String> = self
            .collector_functions
            .iter()
            .map(|f| collector_log_group(f))
            .collect();
        // A Lambda destination is the collector itself.
        if let Some(arn) = destination_arn.filter(|arn| arn.contains(":function:")) {
            collector_log_groups.push(collector_log_group(arn));
        }
        Ok(Selection {
            prefixes: self.prefixes.clone(),
            pattern,
            exclude: self.exclude.clone(),
            collector_log_groups,
        })
    }
}

/// Arguments of `tracelake aws subscribe`.
#[derive(clap::Args)]
pub struct SubscribeArgs {
    /// The Kinesis stream, Firehose stream or collector function to deliver to.
    #[arg(long)]
    pub destination_arn: String,
    /// The role CloudWatch Logs assumes to put records (Kinesis, Firehose).
    #[arg(long)]
    pub role_arn: Option<String>,
    /// The filter pattern; empty sends every event.
    #[arg(long, default_value = "")]
    pub filter_pattern: String,
    /// One account-level subscription filter policy instead of per-group filters.
    #[arg(long)]
    pub account_policy: bool,
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Report what would change, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `tracelake aws unsubscribe`.
#[derive(clap::Args)]
pub struct UnsubscribeArgs {
    /// Only remove our filters that deliver here.
    #[arg(long)]
    pub destination_arn: Option<String>,
    /// Remove the account-level policy instead of per-group filters.
    #[arg(long)]
    pub account_policy: bool,
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Report which filters would be removed, remove nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `tracelake aws backfill`.
#[derive(clap::Args)]
pub struct BackfillArgs {
    /// The log group to backfill.
    #[arg(long)]
    pub log_group: String,
    /// Start (RFC 3339, e.g. 2026-11-29T00:00:00Z, or epoch milliseconds).
    #[arg(long)]
    pub from: Option<String>,
    /// End, exclusive (same forms); now if unset (fixed at the first run).
    #[arg(long)]
    pub to: Option<String>,
    /// Index root: a local directory or s3://bucket/prefix.
    #[arg(long, default_value = crate::cli::DEFAULT_DATA)]
    pub data: String,
    /// Events per FilterLogEvents page.
    #[arg(long, default_value_t = 10_000)]
    pub page_size: i32,
    /// Print the window (as epoch milliseconds) and the index, read and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `tracelake aws status`.
#[derive(clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// The index whose freshness to show (skipped if it does not exist).
    #[arg(long, default_value = crate::cli::DEFAULT_DATA)]
    pub data: String,
    /// Print the log groups and hours as JSON.
    #[arg(long)]
    pub json: bool,
}
