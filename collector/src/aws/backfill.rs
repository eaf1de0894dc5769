//! Backfill: a log group's history, read with `FilterLogEvents`, indexed as
//! the subscription would have delivered it.
//!
//! Each page of one log stream becomes one `DATA_MESSAGE` payload with
//! CloudWatch's own event ids, ingested by the collector as a live delivery
//! is: its segment is named from the group, stream, first and last event id
//! and count, so backfilling the same window again overwrites the same
//! objects, and compaction dedupes rows that a live delivery also brought (on
//! `event_id`).
//!
//! Progress is checkpointed in the index after every page
//! (`v1/_backfill/<name>.json`: the streams done and the page token of the
//! stream under way), so an interrupted backfill resumes where it stopped, and
//! a finished one run again writes nothing. Without `--to` the end of the
//! window is fixed at the first run and kept in the checkpoint.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::{AwsError, Client};
use crate::counters::IngestCounters;
use crate::index::store::StoreError;
use crate::pipeline::Collector;

/// What to backfill.
#[derive(Debug, Clone)]
pub struct BackfillOptions {
    /// The log group.
    pub log_group: String,
    /// Start of the window, milliseconds since the epoch (inclusive).
    pub from_ms: Option<i64>,
    /// End of the window, milliseconds since the epoch (exclusive); now if unset.
    pub to_ms: Option<i64>,
    /// Events per `FilterLogEvents` page (at most 10,000).
    pub page_size: i32,
}

impl BackfillOptions {
    /// Checks the options before any call: the log group's name, the page
    /// size (`FilterLogEvents` takes 1 to 10,000) and a non-empty window.
    ///
    /// # Errors
    /// [`AwsError::Invalid`] naming the offending value.
    pub fn validate(&self) -> Result<(), AwsError> {
        super::validate::log_group_name("--log-group", &self.log_group)?;
        if !(1..=10_000).contains(&self.page_size) {
            return Err(AwsError::Invalid(format!(
                "--page-size {} is outside 1..=10000 (FilterLogEvents' limit)",
                self.page_size
            )));
        }
        check_window(self, now_ms())
    }
}

/// What a backfill did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BackfillReport {
    pub log_group: String,
    pub from_ms: i64,
    pub to_ms: i64,
    /// Log streams in the group.
    pub streams: u64,
    /// Streams skipped because the checkpoint says they are done.
    pub streams_already_done: u64,
    /// Pages read.
    pub pages: u64,
    /// What the collector did with the events.
    pub counters: IngestCounters,
    /// Where the checkpoint is.
    pub checkpoint: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Checkpoint {
    log_group: String,
    from_ms: i64,
    to_ms: i64,
    done_streams: Vec<String>,
    current_stream: Option<String>,
    next_token: Option<String>,
}

/// An error's message followed by its causes: an object store's message names
/// only the location, and the reason (credentials, endpoint, bucket) is in
/// its sources.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn checkpoint_path(options: &BackfillOptions) -> String {
    let to = options
        .to_ms
        .map_or_else(|| "open".to_owned(), |t| t.to_string());
    let from = options.from_ms.unwrap_or(0).to_string();
    let name =
        crate::sources::batch_segment_name("backfill", "", &[&options.log_group, &from, &to]);
    format!("v1/_backfill/{name}.json")
}

/// Rejects a window that is empty: `--from` at or after `--to` (or after now
/// when `--to` is unset) would read nothing and still record the group as done.
fn check_window(options: &BackfillOptions, now_ms: i64) -> Result<(), AwsError> {
    let from = options.from_ms.unwrap_or(0);
    let to = options.to_ms.unwrap_or(now_ms);
    if from >= to {
        return Err(AwsError::Invalid(format!(
            "the window is empty: --from ({from} ms) is not before --to ({to} ms{})",
            if options.to_ms.is_none() { ", now" } else { "" }
        )));
    }
    Ok(())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis().min(i64::MAX as u128) as i64)
}

/// Backfills one log group into the collector's index. `progress` is called
/// after each page with (streams done, streams, events so far).
///
/// # Errors
/// When an API call fails after retries, or the index or checkpoint cannot be
/// written. The checkpoint then holds the progress made.
pub async fn backfill(
    client: &Client,
    collector: &Collector,
    options: &BackfillOptions,
    progress: &dyn Fn(u64, u64, u64),
) -> Result<BackfillReport, AwsError> {
    options.validate()?;
    let store = collector.store();
    let location = checkpoint_path(options);
    let checkpoint_error = |reason: String| AwsError::Checkpoint {
        location: location.clone(),
        reason,
    };
    let mut checkpoint = match store.get(&location).await {
        Ok(bytes) => serde_json::from_slice::<Checkpoint>(&bytes)
            .map_err(|e| checkpoint_error(format!("unreadable: {e}")))?,
        Err(StoreError::ObjectStore {
            source: object_store::Error::NotFound { .. },
            ..
        }) => Checkpoint {
            log_group: options.log_group.clone(),
            from_ms: options.from_ms.unwrap_or(0),
            to_ms: options.to_ms.unwrap_or_else(now_ms),
            ..Checkpoint::default()
        },
        Err(error) => return Err(checkpoint_error(with_causes(&error))),
    };
    let (owner, streams) = streams_of(client, &options.log_group).await?;
    let mut report = BackfillReport {
        log_group: options.log_group.clone(),
        from_ms: checkpoint.from_ms,
        to_ms: checkpoint.to_ms,
        streams: streams.len() as u64,
        checkpoint: location.clone(),
        ..BackfillReport::default()
    };
    let mut done = 0u64;
    for stream in &streams {
        if checkpoint.done_streams.contains(stream) {
            report.streams_already_done += 1;
            done += 1;
            continue;
        }
        let mut token = if checkpoint.current_stream.as_deref() == Some(stream) {
            checkpoint.next_token.clone()
        } else {
            None
        };
        loop {
            let page = client
                .filter_log_events()
                .log_group_name(&options.log_group)
                .log_stream_names(stream)
                .start_time(checkpoint.from_ms)
                // FilterLogEvents returns events at exactly `endTime`; `--to`
                // is exclusive.
                .end_time(checkpoint.to_ms - 1)
                .limit(options.page_size)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| AwsError::api("FilterLogEvents", e))?;
            report.pages += 1;
            let events: Vec<serde_json::Value> = page
                .events()
                .iter()
                .map(|event| {
                    serde_json::json!({
                        "id": event.event_id().unwrap_or_default(),
                        "timestamp": event.timestamp().unwrap_or_default(),
                        "message": event.message().unwrap_or_default(),
                    })
                })
                .collect();
            if !events.is_empty() {
                let payload = serde_json::json!({
                    "messageType": "DATA_MESSAGE",
                    "owner": owner,
                    "logGroup": options.log_group,
                    "logStream": stream,
                    "subscriptionFilters": [super::FILTER_NAME],
                    "logEvents": events,
                });
                let bytes = serde_json::to_vec(&payload).unwrap_or_default();
                let source = format!("backfill:{}:{stream}", options.log_group);
                report.counters += collector.ingest(&bytes, &source).await?;
            }
            let next = page.next_token().map(str::to_owned);
            // FilterLogEvents ends a search by returning the token it was given.
            let finished = next.is_none() || next == token;
            checkpoint.current_stream = (!finished).then(|| stream.clone());
            checkpoint.next_token = if finished { None } else { next.clone() };
            if finished {
                checkpoint.done_streams.push(stream.clone());
            }
            let text = serde_json::to_vec_pretty(&checkpoint).unwrap_or_default();
            store
                .put(&location, Bytes::from(text))
                .await
                .map_err(|e| checkpoint_error(with_causes(&e)))?;
            progress(done, report.streams, report.counters.events_in);
            if finished {
                break;
            }
            token = next;
        }
        done += 1;
        progress(done, report.streams, report.counters.events_in);
    }
    Ok(report)
}

/// The account that owns the group (from its ARN) and its stream names.
async fn streams_of(client: &Client, log_group: &str) -> Result<(String, Vec<String>), AwsError> {
    let groups = client
        .describe_log_groups()
        .log_group_name_prefix(log_group)
        .send()
        .await
        .map_err(|e| AwsError::api("DescribeLogGroups", e))?;
    let owner = groups
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(log_group))
        .and_then(|g| g.arn())
        .and_then(|arn| arn.split(':').nth(4))
        .unwrap_or_default()
        .to_owned();
    let mut names = Vec::new();
    let mut pages = client
        .describe_log_streams()
        .log_group_name(log_group)
        .into_paginator()
        .items()
        .send();
    while let Some(stream) = pages.next().await {
        let stream = stream.map_err(|e| AwsError::api("DescribeLogStreams", e))?;
        if let Some(name) = stream.log_stream_name() {
            names.push(name.to_owned());
        }
    }
    names.sort();
    Ok((owner, names))
}

#[cfg(test)]
mod window_tests {
    use super::*;

    fn options(from_ms: Option<i64>, to_ms: Option<i64>) -> BackfillOptions {
        BackfillOptions {
            log_group: "/aws/lambda/checkout".to_owned(),
            from_ms,
            to_ms,
            page_size: 10_000,
        }
    }

    #[test]
    fn an_empty_or_reversed_window_is_refused() {
        let now = 1_795_968_799_546;
        // --from 2026-11-30 --to 2026-11-29: reversed.
        assert!(matches!(
            check_window(
                &options(Some(1_796_083_200_000), Some(1_795_996_800_000)),
                now
            ),
            Err(AwsError::Invalid(_))
        ));
        assert!(matches!(
            check_window(&options(Some(5), Some(5)), now),
            Err(AwsError::Invalid(_))
        ));
        // --from in the future without --to.
        assert!(matches!(
            check_window(&options(Some(now + 1), None), now),
            Err(AwsError::Invalid(_))
        ));
        assert!(check_window(&options(None, None), now).is_ok());
        assert!(check_window(&options(Some(0), Some(1)), now).is_ok());
        assert!(check_window(&options(Some(now - 1), None), now).is_ok());
    }

    #[test]
    fn bad_options_are_refused_before_any_call() {
        let invalid = |options: BackfillOptions| match options.validate() {
            Err(AwsError::Invalid(message)) => message,
            other => panic!("expected invalid, got {other:?}"),
        };
        let mut bad_page = options(Some(0), Some(1));
        bad_page.page_size = 0;
        assert!(invalid(bad_page).contains("--page-size 0 is outside 1..=10000"));
        let mut bad_group = options(Some(0), Some(1));
        bad_group.log_group = "/aws/lambda/my fn".into();
        assert!(invalid(bad_group).contains("--log-group \"/aws/lambda/my fn\""));
        assert!(invalid(options(Some(9), Some(2))).contains("the window is empty"));
        assert!(options(Some(0), Some(1)).validate().is_ok());
    }
}
