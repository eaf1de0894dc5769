//! What `tracelake aws` prints: progress bars, per-group reports, and the
//! index's freshness per hour.

use tracelake_collector::IndexStore;
use tracelake_collector::aws::subscribe::{GroupAction, GroupReport};

/// A progress bar on stderr, hidden with `--json`.
pub(super) fn bar(json: bool, what: &str) -> indicatif::ProgressBar {
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

/// Prints the groups that changed or were refused, and a summary line.
pub(super) fn print_reports(reports: &[GroupReport], json: bool) -> anyhow::Result<()> {
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
            GroupAction::Failed { error } => ("FAILED", error.clone()),
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

/// The newest write time of any object in each `dt=…/hour=…` partition.
pub(super) async fn last_written_per_hour(
    store: &IndexStore,
) -> std::collections::BTreeMap<String, String> {
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
