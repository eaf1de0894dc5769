//! `tracelake aws subscribe|unsubscribe|backfill|status`: wiring for
//! `tracelake_collector::aws`. Credentials, region and endpoint come from the
//! standard `AWS_*` variables (`AWS_ENDPOINT_URL` for a local endpoint).

use anyhow::Context as _;
use tracelake_collector::aws::account_policy::{delete_account_policy, put_account_policy};
use tracelake_collector::aws::backfill::{BackfillOptions, backfill};
use tracelake_collector::aws::subscribe::{
    GroupAction, GroupStatus, Selection, SubscribeOptions, failures, status, subscribe, unsubscribe,
};
use tracelake_collector::aws::validate;
use tracelake_collector::aws::{Client, client_from_env};
use tracelake_collector::index::stats::index_stats;
use tracelake_collector::{Collector, IndexStore};

mod args;
mod output;
pub use args::{AwsArgs, AwsCommand, BackfillArgs, StatusArgs, SubscribeArgs, UnsubscribeArgs};
use output::{bar, last_written_per_hour, print_reports};

/// Runs the command. Every argument is checked before the first AWS call
/// (before credentials are even loaded), so a typo fails at once with the
/// offending value.
pub fn run(args: AwsArgs) -> anyhow::Result<()> {
    let command = Checked::new(args.command)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        if let Checked::Backfill(args, options) = &command
            && args.dry_run
        {
            return print_backfill_plan(args, options);
        }
        let client = client_from_env().await?;
        match command {
            Checked::Subscribe(args, selection) => run_subscribe(&client, args, selection).await,
            Checked::Unsubscribe(args, selection) => {
                run_unsubscribe(&client, args, selection).await
            }
            Checked::Backfill(args, options) => run_backfill(&client, args, options).await,
            Checked::Status(args, selection) => run_status(&client, args, selection).await,
        }
    })
}

/// A subcommand whose arguments passed every check, with what they parse to.
enum Checked {
    Subscribe(SubscribeArgs, Selection),
    Unsubscribe(UnsubscribeArgs, Selection),
    Backfill(BackfillArgs, BackfillOptions),
    Status(StatusArgs, Selection),
}

impl Checked {
    fn new(command: AwsCommand) -> anyhow::Result<Checked> {
        Ok(match command {
            AwsCommand::Subscribe(args) => {
                let kind = validate::destination_arn(&args.destination_arn)?;
                validate::role_for_destination(kind, args.role_arn.as_deref())?;
                validate::filter_pattern(&args.filter_pattern)?;
                let selection = args.selection.selection(Some(&args.destination_arn))?;
                if args.account_policy
                    && (!selection.prefixes.is_empty() || selection.pattern.is_some())
                {
                    anyhow::bail!(
                        "--account-policy covers every log group except --exclude and the collector; \
                         --log-group-prefix and --log-group-pattern apply to per-group filters only"
                    );
                }
                Checked::Subscribe(args, selection)
            }
            AwsCommand::Unsubscribe(args) => {
                if let Some(arn) = &args.destination_arn {
                    validate::destination_arn(arn)?;
                }
                let selection = args.selection.selection(args.destination_arn.as_deref())?;
                Checked::Unsubscribe(args, selection)
            }
            AwsCommand::Backfill(args) => {
                let options = BackfillOptions {
                    page_size: args.page_size,
                    ..BackfillOptions::new(
                        args.log_group.clone(),
                        args.from
                            .as_deref()
                            .map(|t| parse_time("--from", t))
                            .transpose()?,
                        args.to
                            .as_deref()
                            .map(|t| parse_time("--to", t))
                            .transpose()?,
                    )
                };
                options.validate()?;
                Checked::Backfill(args, options)
            }
            AwsCommand::Status(args) => {
                let selection = args.selection.selection(None)?;
                Checked::Status(args, selection)
            }
        })
    }
}

async fn run_subscribe(
    client: &Client,
    args: SubscribeArgs,
    selection: Selection,
) -> anyhow::Result<()> {
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
    let failed = failures(&reports);
    match (conflicts, failed) {
        (0, 0) => Ok(()),
        (0, failed) => anyhow::bail!("{failed} log group(s) failed; the others were handled"),
        (conflicts, 0) => anyhow::bail!(
            "{conflicts} log group(s) already have two subscription filters of other tools; remove one or use --account-policy"
        ),
        (conflicts, failed) => anyhow::bail!(
            "{failed} log group(s) failed and {conflicts} already have two subscription filters of other tools; the others were handled"
        ),
    }
}

async fn run_unsubscribe(
    client: &Client,
    args: UnsubscribeArgs,
    selection: Selection,
) -> anyhow::Result<()> {
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
    print_reports(&reports, args.json)?;
    let failed = failures(&reports);
    if failed > 0 {
        anyhow::bail!("{failed} log group(s) failed; the others were handled");
    }
    Ok(())
}

/// A `--from`/`--to` value: epoch milliseconds or RFC 3339.
fn parse_time(flag: &str, text: &str) -> anyhow::Result<i64> {
    if let Ok(millis) = text.parse::<i64>() {
        anyhow::ensure!(
            millis >= 0,
            "{flag} {text:?}: epoch milliseconds cannot be negative"
        );
        return Ok(millis);
    }
    let nanos = tracelake_collector::parse::time::parse_timestamp_ns(text).with_context(|| {
        format!("{flag} {text:?} is neither RFC 3339 (2026-11-29T00:00:00Z) nor epoch milliseconds")
    })?;
    Ok(nanos / 1_000_000)
}

fn print_backfill_plan(args: &BackfillArgs, options: &BackfillOptions) -> anyhow::Result<()> {
    // The window as the run would take it: from the epoch without --from, to
    // now without --to (a run that resumes a checkpoint keeps its own end).
    let now_ms = chrono::Utc::now().timestamp_millis();
    let plan = serde_json::json!({
        "log_group": options.log_group,
        "from_ms": options.from_ms.unwrap_or(0),
        "to_ms": options.to_ms.unwrap_or(now_ms),
        "to_is_now": options.to_ms.is_none(),
        "page_size": options.page_size,
        "data": args.data,
        "dry_run": true,
    });
    println!("{}", serde_json::to_string_pretty(&plan)?);
    Ok(())
}

async fn run_backfill(
    client: &Client,
    args: BackfillArgs,
    options: BackfillOptions,
) -> anyhow::Result<()> {
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
            "backfilled {} from {} to {} into {}: {} streams ({} read, {} already done, {} ended before the window), {} pages in {} segment sets, {} events in, {} indexed, {} quarantined; {} hours compacted",
            report.log_group,
            report.from_ms,
            report.to_ms,
            args.data,
            report.streams,
            report.streams_read,
            report.streams_already_done,
            report.streams_before_window,
            report.pages,
            report.segments,
            report.counters.events_in,
            report.counters.events_indexed,
            report.counters.events_quarantined,
            report.hours_compacted.len()
        );
    }
    Ok(())
}

async fn run_status(client: &Client, args: StatusArgs, selection: Selection) -> anyhow::Result<()> {
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
        return status_outcome(&statuses);
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
        match &group.error {
            Some(error) => println!("{:<60} FAILED: {error}", group.log_group),
            None => println!("{:<60} {target}{others}{excluded}", group.log_group),
        }
    }
    let subscribed = statuses
        .iter()
        .filter(|g| g.destination_arn.is_some())
        .count();
    let failed = statuses.iter().filter(|g| g.error.is_some()).count();
    if failed > 0 {
        println!(
            "{subscribed} of {} log groups subscribed, {failed} could not be read",
            statuses.len()
        );
    } else {
        println!("{subscribed} of {} log groups subscribed", statuses.len());
    }
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
    status_outcome(&statuses)
}

/// Fails the command when a group's filters could not be read (after its
/// output is printed).
fn status_outcome(statuses: &[GroupStatus]) -> anyhow::Result<()> {
    let failed = statuses.iter().filter(|g| g.error.is_some()).count();
    if failed > 0 {
        anyhow::bail!("{failed} log group(s) could not be read; the others were");
    }
    Ok(())
}
