//! `tracelake aws subscribe|unsubscribe|backfill|status`: wiring for
//! `tracelake_collector::aws`. Credentials, region and endpoint come from the
//! standard `AWS_*` variables (`AWS_ENDPOINT_URL` for a local endpoint).

use anyhow::Context as _;
use tracelake_collector::aws::backfill::{BackfillOptions, backfill};
use tracelake_collector::aws::subscribe::{
    GroupAction, GroupReport, Selection, SubscribeOptions, collector_log_group,
    delete_account_policy, put_account_policy, status, subscribe, unsubscribe,
};
use tracelake_collector::aws::{Client, client_from_env};
use tracelake_collector::index::stats::index_stats;
use tracelake_collector::{Collector, IndexStore};

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
    fn selection(&self, destination_arn: Option<&str>) -> anyhow::Result<Selection> {
        let pattern = self
            .pattern
            .as_deref()
            .map(regex::Regex::new)
            .transpose()
            .context("invalid --log-group-pattern")?;
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
    #[arg(long)]
    pub dry_run: bool,
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
    #[arg(long, default_value = super::DEFAULT_DATA)]
    pub data: String,
    /// Events per FilterLogEvents page.
    #[arg(long, default_value_t = 10_000)]
    pub page_size: i32,
    /// Report the window, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `tracelake aws status`.
#[derive(clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// The index whose freshness to show (skipped if it does not exist).
    #[arg(long, default_value = super::DEFAULT_DATA)]
    pub data: String,
    #[arg(long)]
    pub json: bool,
}

/// Runs the command.
pub fn run(args: AwsArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let client = client_from_env().await;
        match args.command {
            AwsCommand::Subscribe(args) => run_subscribe(&client, args).await,
            AwsCommand::Unsubscribe(args) => run_unsubscribe(&client, args).await,
            AwsCommand::Backfill(args) => run_backfill(&client, args).await,
            AwsCommand::Status(args) => run_status(&client, args).await,
        }
    })
}

fn bar(json: bool, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{elapsed_precise}} [{{bar:40}}] {{pos}}/{{len}} {what} {{msg}}"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    if json {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar
}

fn print_reports(reports: &[GroupReport], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(reports)?);
        return Ok(());
    }
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for report in reports {
        let (label, detail) = match &report.action {
            GroupAction::Subscribed => ("subscribed", String::new()),
            GroupAction::Unchanged => ("unchanged", String::new()),
            GroupAction::Updated => ("updated", String::new()),
            GroupAction::Unsubscribed => ("unsubscribed", String::new()),
            GroupAction::NotSubscribed => ("not subscribed", String::new()),
            GroupAction::Excluded { reason } => ("excluded", reason.clone()),
            GroupAction::Conflict { filters } => (
                "CONFLICT",
                format!("two filters already: {}", filters.join(", ")),
            ),
        };
        *counts.entry(label).or_default() += 1;
        let noteworthy = !matches!(
            report.action,
            GroupAction::Unchanged | GroupAction::NotSubscribed
        ) && !matches!(&report.action, GroupAction::Excluded { reason } if reason != "the collector's own log group");
        if noteworthy {
            let dry = if report.dry_run { " (dry run)" } else { "" };
            println!("{label:<14} {}{dry} {detail}", report.log_group);
        }
    }
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    println!("{} log groups: {}", reports.len(), summary.join(", "));
    Ok(())
}

async fn run_subscribe(client: &Client, args: SubscribeArgs) -> anyhow::Result<()> {
    let selection = args.selection.selection(Some(&args.destination_arn))?;
    let options = SubscribeOptions {
        destination_arn: args.destination_arn,
        role_arn: args.role_arn,
        filter_pattern: args.filter_pattern,
        dry_run: args.dry_run,
    };
    if args.account_policy {
        let plan = put_account_policy(client, &selection, &options).await?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&plan)?);
        } else {
            let verb = if plan.dry_run { "would put" } else { "put" };
            println!(
                "{verb} account policy {} ({}): {}\n  selection: {}",
                plan.policy_name, plan.policy_type, plan.policy_document, plan.selection_criteria
            );
            for foreign in &plan.foreign_policies {
                println!("  left as it is: subscription filter policy {foreign}");
            }
        }
        return Ok(());
    }
    let progress = bar(args.json, "log groups");
    let reports = subscribe(client, &selection, &options, &|done, total| {
        progress.set_length(total as u64);
        progress.set_position(done as u64);
    })
    .await?;
    progress.finish_and_clear();
    print_reports(&reports, args.json)?;
    let conflicts = reports
        .iter()
        .filter(|r| matches!(r.action, GroupAction::Conflict { .. }))
        .count();
    if conflicts > 0 {
        anyhow::bail!(
            "{conflicts} log group(s) already have two subscription filters of other tools; remove one or use --account-policy"
        );
    }
    Ok(())
}

async fn run_unsubscribe(client: &Client, args: UnsubscribeArgs) -> anyhow::Result<()> {
    if args.account_policy {
        delete_account_policy(client, args.dry_run).await?;
        let verb = if args.dry_run {
            "would delete"
        } else {
            "deleted"
        };
        if args.json {
            println!(
                "{}",
                serde_json::json!({"account_policy": "tracelake", "deleted": !args.dry_run})
            );
        } else {
            println!("{verb} account policy tracelake");
        }
        return Ok(());
    }
    let selection = args.selection.selection(args.destination_arn.as_deref())?;
    let progress = bar(args.json, "log groups");
    let reports = unsubscribe(
        client,
        &selection,
        args.destination_arn.as_deref(),
        args.dry_run,
        &|done, total| {
            progress.set_length(total as u64);
            progress.set_position(done as u64);
        },
    )
    .await?;
    progress.finish_and_clear();
    print_reports(&reports, args.json)
}

fn parse_time(text: &str) -> anyhow::Result<i64> {
    if let Ok(millis) = text.parse::<i64>() {
        return Ok(millis);
    }
    let nanos = tracelake_collector::parse::time::parse_timestamp_ns(text)
        .with_context(|| format!("{text:?} is neither RFC 3339 nor epoch milliseconds"))?;
    Ok(nanos / 1_000_000)
}

async fn run_backfill(client: &Client, args: BackfillArgs) -> anyhow::Result<()> {
    let options = BackfillOptions {
        log_group: args.log_group.clone(),
        from_ms: args.from.as_deref().map(parse_time).transpose()?,
        to_ms: args.to.as_deref().map(parse_time).transpose()?,
        page_size: args.page_size,
    };
    if args.dry_run {
        let plan = serde_json::json!({
            "log_group": options.log_group,
            "from_ms": options.from_ms,
            "to_ms": options.to_ms,
            "data": args.data,
            "dry_run": true,
        });
        println!("{}", serde_json::to_string_pretty(&plan)?);
        return Ok(());
    }
    let store = IndexStore::open(&args.data)
        .with_context(|| format!("cannot open index at {}", args.data))?;
    let collector = Collector::new(store);
    let progress = bar(args.json, "streams");
    let report = backfill(client, &collector, &options, &|done, total, events| {
        progress.set_length(total);
        progress.set_position(done);
        progress.set_message(format!("{events} events"));
    })
    .await?;
    progress.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "backfilled {} from {} to {} into {}: {} streams ({} already done), {} pages, {} events in, {} indexed, {} quarantined",
            report.log_group,
            report.from_ms,
            report.to_ms,
            args.data,
            report.streams,
            report.streams_already_done,
            report.pages,
            report.counters.events_in,
            report.counters.events_indexed,
            report.counters.events_quarantined
        );
    }
    Ok(())
}

async fn run_status(client: &Client, args: StatusArgs) -> anyhow::Result<()> {
    let selection = args.selection.selection(None)?;
    let progress = bar(args.json, "log groups");
    let statuses = status(client, &selection, &|done, total| {
        progress.set_length(total as u64);
        progress.set_position(done as u64);
    })
    .await?;
    progress.finish_and_clear();
    // Freshness: rows and files per hour partition of the index, and when the
    // hour was last written, if the index exists.
    let (freshness, last_written) = match IndexStore::open_existing(&args.data) {
        Ok(store) => (
            index_stats(&store).await.unwrap_or_default(),
            last_written_per_hour(&store).await,
        ),
        Err(_) => (Vec::new(), std::collections::BTreeMap::new()),
    };
    if args.json {
        let hours: Vec<serde_json::Value> = freshness
            .iter()
            .map(|p| serde_json::json!({"table": p.table, "partition": p.partition, "files": p.files, "rows": p.rows, "last_written": last_written.get(&p.partition)}))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"log_groups": statuses, "index_hours": hours})
            )?
        );
        return Ok(());
    }
    for group in &statuses {
        let target = group.destination_arn.as_deref().unwrap_or("-");
        let others = if group.other_filters.is_empty() {
            String::new()
        } else {
            format!(" (also: {})", group.other_filters.join(", "))
        };
        let excluded = group
            .excluded
            .as_deref()
            .map(|r| format!(" [excluded: {r}]"))
            .unwrap_or_default();
        println!("{:<60} {target}{others}{excluded}", group.log_group);
    }
    let subscribed = statuses
        .iter()
        .filter(|g| g.destination_arn.is_some())
        .count();
    println!("{subscribed} of {} log groups subscribed", statuses.len());
    for partition in freshness.iter().filter(|p| p.table == "logs") {
        println!(
            "index logs {}: {} rows in {} files, last written {}",
            partition.partition,
            partition.rows,
            partition.files,
            last_written
                .get(&partition.partition)
                .map_or("-", String::as_str)
        );
    }
    Ok(())
}

/// The newest write time of any object in each `dt=…/hour=…` partition.
async fn last_written_per_hour(store: &IndexStore) -> std::collections::BTreeMap<String, String> {
    let mut newest = std::collections::BTreeMap::<String, String>::new();
    let Ok(objects) = store.list("v1").await else {
        return newest;
    };
    for object in objects {
        let path = store.relative(&object.location);
        let Some(start) = path.find("dt=") else {
            continue;
        };
        let partition: String = path[start..]
            .split('/')
            .take(2)
            .collect::<Vec<_>>()
            .join("/");
        if !partition.contains("/hour=") {
            continue;
        }
        let written = object.last_modified.to_rfc3339();
        let entry = newest.entry(partition).or_default();
        if written > *entry {
            *entry = written;
        }
    }
    newest
}
