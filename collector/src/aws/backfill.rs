//! Backfill: a log group's history, read with `FilterLogEvents`, indexed as
//! the subscription would have delivered it.
//!
//! Each page of one log stream becomes one `DATA_MESSAGE` payload with
//! CloudWatch's own event ids. Pages are gathered into one [`Batch`] across
//! streams until it holds the limits of the batched sources
//! ([`FileBatchLimits`]: 10,000 payloads or 32 MiB of log text), and each batch
//! is written as one set of segments named from the pages it holds, so
//! backfilling the same window again overwrites the same objects. Streams
//! whose `lastEventTimestamp` is before the window are not read.
//!
//! When the events are written, the hours they went to are compacted: the
//! compactor dedupes on `event_id`, so rows a live delivery (Kinesis,
//! Firehose, direct) also brought are read once, right away.
//!
//! Progress is checkpointed in the index after every batch written
//! (`v1/_backfill/<name>.json`: the streams done, the time of the last event
//! written of the stream under way, and the hours still to compact), so an
//! interrupted backfill resumes where it stopped, and a finished one run again
//! reads and writes no events (it saves its checkpoint again, unchanged).
//! Without `--to` the end of the window is fixed at the first run and kept in
//! the checkpoint.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::{AwsError, Client};
use crate::counters::IngestCounters;
use crate::index::compact::{CompactOptions, CompactionOutcome, compact_hour};
use crate::index::schema::HourPartition;
use crate::index::store::{IndexStore, StoreError};
use crate::pipeline::Collector;
use crate::sources::files::FileBatchLimits;
use crate::sources::{Batch, batch_segment_name};

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
    /// How many pages (payloads) and bytes of log text one set of segments
    /// holds: the batched sources' limits by default.
    pub segment_limits: FileBatchLimits,
}

impl BackfillOptions {
    /// Options for `log_group` over `[from_ms, to_ms)`, with full pages and
    /// the batched sources' segment limits.
    pub fn new(log_group: impl Into<String>, from_ms: Option<i64>, to_ms: Option<i64>) -> Self {
        BackfillOptions {
            log_group: log_group.into(),
            from_ms,
            to_ms,
            page_size: 10_000,
            segment_limits: FileBatchLimits::default(),
        }
    }

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
        if self.segment_limits.max_payloads == 0 || self.segment_limits.max_log_bytes == 0 {
            return Err(AwsError::Invalid(
                "segment limits must allow at least one page and one byte".into(),
            ));
        }
        check_window(self, chrono::Utc::now().timestamp_millis())
    }
}

/// What a backfill did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BackfillReport {
    /// The log group read.
    pub log_group: String,
    /// Start of the window read, milliseconds since the epoch (inclusive;
    /// 0 when `--from` was unset).
    pub from_ms: i64,
    /// End of the window read, milliseconds since the epoch (exclusive): the
    /// `--to` given, or the time of the first run, kept in the checkpoint.
    pub to_ms: i64,
    /// Log streams in the group.
    pub streams: u64,
    /// Streams skipped because the checkpoint says they are done.
    pub streams_already_done: u64,
    /// Streams not read because their last event is before the window.
    pub streams_before_window: u64,
    /// Streams read with `FilterLogEvents`.
    pub streams_read: u64,
    /// Pages read.
    pub pages: u64,
    /// Sets of segments written (one per batch of pages).
    pub segments: u64,
    /// The hours compacted after writing (`YYYY-MM-DDTHH`).
    pub hours_compacted: Vec<String>,
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
    /// The time of the last event written from `current_stream`, where a
    /// resumed run starts reading it again. Not a page token: those expire
    /// after 24 hours, and one the server no longer knows reads as the end of
    /// the stream. (A checkpoint with a `next_token` instead, from before,
    /// has its current stream read again from the start.)
    #[serde(default)]
    current_stream_resume_ms: Option<i64>,
    /// Hours written and not yet compacted (`YYYY-MM-DDTHH`).
    #[serde(default)]
    hours_to_compact: Vec<String>,
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

/// Compactions of one hour tried while other compactors keep winning the
/// race to commit.
const COMPACTION_ATTEMPTS: usize = 3;

/// A log stream of the group, with what `DescribeLogStreams` says of its
/// events.
#[derive(Debug, Clone)]
struct StreamInfo {
    name: String,
    /// Unset for a stream without events (or not yet updated: the value is
    /// eventually consistent), which is then read.
    last_event_ms: Option<i64>,
}

/// Whether a stream can hold no event of a window starting at `from_ms`.
fn before_window(stream: &StreamInfo, from_ms: i64) -> bool {
    stream.last_event_ms.is_some_and(|last| last < from_ms)
}

/// The pages gathered for the next set of segments, and what names them.
struct Pending<'a> {
    batch: Batch<'a>,
    /// Per page: stream, first and last event id, event count.
    identity: Vec<String>,
    pages: usize,
}

/// Writes the pages gathered, if any, and records the hours written.
async fn flush(
    pending: &mut Option<Pending<'_>>,
    log_group: &str,
    report: &mut BackfillReport,
    hours: &mut Vec<String>,
) -> Result<(), AwsError> {
    let Some(Pending {
        mut batch,
        identity,
        pages: _,
    }) = pending.take()
    else {
        return Ok(());
    };
    let mut parts: Vec<&str> = vec![log_group];
    parts.extend(identity.iter().map(String::as_str));
    batch.set_segment(batch_segment_name("backfill", "", &parts));
    let (counters, written) = batch.finish_with_hours().await?;
    report.counters += counters;
    report.segments += 1;
    for hour in written {
        let hour = hour.to_string();
        if !hours.contains(&hour) {
            hours.push(hour);
        }
    }
    Ok(())
}

async fn save(store: &IndexStore, location: &str, checkpoint: &Checkpoint) -> Result<(), AwsError> {
    let text = serde_json::to_vec_pretty(checkpoint).unwrap_or_default();
    store
        .put(location, Bytes::from(text))
        .await
        .map_err(|e| AwsError::Checkpoint {
            location: location.to_owned(),
            reason: super::cause_chain(&e),
        })
}

/// Backfills one log group into the collector's index, then compacts the
/// hours written. `progress` is called after each page with (streams done,
/// streams, events read so far: written only when a set of segments is full,
/// every 10,000 pages, a count of the events written would stand still).
///
/// # Errors
/// When an API call fails after retries, or the index or checkpoint cannot be
/// written, or compaction fails. The checkpoint then holds the progress made
/// (hours left to compact included). When `FilterLogEvents` fails, the pages
/// read before it are written and compacted first.
pub async fn backfill(
    client: &Client,
    collector: &Collector,
    options: &BackfillOptions,
    progress: &dyn Fn(u64, u64, u64),
) -> Result<BackfillReport, AwsError> {
    options.validate()?;
    let store = collector.store();
    let location = checkpoint_path(options);
    let mut checkpoint = match store.get(&location).await {
        Ok(bytes) => {
            serde_json::from_slice::<Checkpoint>(&bytes).map_err(|e| AwsError::Checkpoint {
                location: location.clone(),
                reason: format!("unreadable: {e}"),
            })?
        }
        Err(StoreError::ObjectStore {
            source: object_store::Error::NotFound { .. },
            ..
        }) => Checkpoint {
            log_group: options.log_group.clone(),
            from_ms: options.from_ms.unwrap_or(0),
            to_ms: options
                .to_ms
                .unwrap_or_else(|| chrono::Utc::now().timestamp_millis()),
            ..Checkpoint::default()
        },
        Err(error) => {
            return Err(AwsError::Checkpoint {
                location: location.clone(),
                reason: super::cause_chain(&error),
            });
        }
    };
    let (owner, streams) = streams_of(client, &options.log_group).await?;
    // Written before the first page is read: a missing bucket answers the
    // read above with 404, as for a new checkpoint, and would otherwise be
    // found only when the first set of segments (up to 10,000 pages) is full.
    save(store, &location, &checkpoint).await?;
    let mut report = BackfillReport {
        log_group: options.log_group.clone(),
        from_ms: checkpoint.from_ms,
        to_ms: checkpoint.to_ms,
        streams: streams.len() as u64,
        checkpoint: location.clone(),
        ..BackfillReport::default()
    };
    let limits = options.segment_limits;
    let mut pending: Option<Pending<'_>> = None;
    let mut done = 0u64;
    // A read that fails mid-run (the log group deleted, retries exhausted)
    // ends the reading, and the pages read before it are still written,
    // checkpointed and compacted before the error is returned: of a deleted
    // group they are the only copy left.
    let mut failed_read: Option<AwsError> = None;
    let mut events_read = 0u64;
    'streams: for stream in &streams {
        if checkpoint.done_streams.contains(&stream.name) {
            report.streams_already_done += 1;
            done += 1;
            continue;
        }
        if before_window(stream, checkpoint.from_ms) {
            report.streams_before_window += 1;
            done += 1;
            continue;
        }
        report.streams_read += 1;
        // The events of the resume millisecond that were written already are
        // read again, and the compaction that ends the run drops them.
        let resume_ms = if checkpoint.current_stream.as_deref() == Some(stream.name.as_str()) {
            checkpoint.current_stream_resume_ms
        } else {
            None
        };
        let start_ms = resume_ms.map_or(checkpoint.from_ms, |ms| ms.max(checkpoint.from_ms));
        let mut last_read_ms = resume_ms;
        let mut token: Option<String> = None;
        loop {
            let page = match client
                .filter_log_events()
                .log_group_name(&options.log_group)
                .log_stream_names(&stream.name)
                .start_time(start_ms)
                // FilterLogEvents returns events at exactly `endTime`; `--to`
                // is exclusive.
                .end_time(checkpoint.to_ms - 1)
                .limit(options.page_size)
                .set_next_token(token.clone())
                .send()
                .await
            {
                Ok(page) => page,
                Err(error) => {
                    failed_read = Some(AwsError::api("FilterLogEvents", error));
                    break 'streams;
                }
            };
            report.pages += 1;
            events_read += page.events().len() as u64;
            if let Some(last) = page.events().last().and_then(|e| e.timestamp()) {
                last_read_ms = Some(last);
            }
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
            if let (Some(first), Some(last)) = (page.events().first(), page.events().last()) {
                let payload = serde_json::json!({
                    "messageType": "DATA_MESSAGE",
                    "owner": owner,
                    "logGroup": options.log_group,
                    "logStream": stream.name,
                    "subscriptionFilters": [super::FILTER_NAME],
                    "logEvents": events,
                });
                let bytes = serde_json::to_vec(&payload).unwrap_or_default();
                let source = format!("backfill:{}:{}", options.log_group, stream.name);
                let batch = pending.get_or_insert_with(|| Pending {
                    batch: Batch::new(
                        collector,
                        String::new(),
                        format!("backfill:{}", options.log_group),
                    ),
                    identity: Vec::new(),
                    pages: 0,
                });
                batch.identity.push(format!(
                    "{}\u{0}{}\u{0}{}\u{0}{}",
                    stream.name,
                    first.event_id().unwrap_or_default(),
                    last.event_id().unwrap_or_default(),
                    events.len()
                ));
                batch.pages += 1;
                batch
                    .batch
                    .add(
                        crate::decode::decode_input(&bytes, collector.limits()),
                        &source,
                    )
                    .await?;
            }
            let next = page.next_token().map(str::to_owned);
            // FilterLogEvents ends a search by returning the token it was given.
            let finished = next.is_none() || next == token;
            checkpoint.current_stream = (!finished).then(|| stream.name.clone());
            checkpoint.current_stream_resume_ms = if finished { None } else { last_read_ms };
            if finished {
                checkpoint.done_streams.push(stream.name.clone());
            }
            let full = pending.as_ref().is_some_and(|p| {
                p.pages >= limits.max_payloads || p.batch.log_text_bytes() >= limits.max_log_bytes
            });
            if full {
                // Everything read so far is written: the checkpoint can say so.
                flush(
                    &mut pending,
                    &options.log_group,
                    &mut report,
                    &mut checkpoint.hours_to_compact,
                )
                .await?;
                save(store, &location, &checkpoint).await?;
            }
            progress(done, report.streams, events_read);
            if finished {
                break;
            }
            token = next;
        }
        done += 1;
        progress(done, report.streams, events_read);
    }
    flush(
        &mut pending,
        &options.log_group,
        &mut report,
        &mut checkpoint.hours_to_compact,
    )
    .await?;
    save(store, &location, &checkpoint).await?;
    // The hours written (by this run or an interrupted one) now hold rows
    // that a live delivery may also have written: compaction dedupes them.
    let compact_options = CompactOptions::default();
    while let Some(hour) = checkpoint.hours_to_compact.first().cloned() {
        let partition = HourPartition::parse(&hour).map_err(|e| AwsError::Checkpoint {
            location: location.clone(),
            reason: e.to_string(),
        })?;
        // Another compactor (the scheduled one) may commit first, from a plan
        // made before our segments were written: compact again until a
        // generation of ours covers them or nothing is left uncovered.
        for _ in 0..COMPACTION_ATTEMPTS {
            let report = compact_hour(store, &partition, &compact_options).await?;
            if !matches!(report.outcome, CompactionOutcome::LostRace { .. }) {
                break;
            }
        }
        checkpoint.hours_to_compact.remove(0);
        report.hours_compacted.push(hour);
        save(store, &location, &checkpoint).await?;
    }
    match failed_read {
        Some(error) => Err(error),
        None => Ok(report),
    }
}

/// The account that owns the group (from its ARN) and its streams, by name.
async fn streams_of(
    client: &Client,
    log_group: &str,
) -> Result<(String, Vec<StreamInfo>), AwsError> {
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
    let mut streams = Vec::new();
    let mut pages = client
        .describe_log_streams()
        .log_group_name(log_group)
        .into_paginator()
        .items()
        .send();
    while let Some(stream) = pages.next().await {
        let stream = stream.map_err(|e| AwsError::api("DescribeLogStreams", e))?;
        if let Some(name) = stream.log_stream_name() {
            streams.push(StreamInfo {
                name: name.to_owned(),
                last_event_ms: stream.last_event_timestamp(),
            });
        }
    }
    streams.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((owner, streams))
}

#[cfg(test)]
mod window_tests {
    use super::*;

    fn options(from_ms: Option<i64>, to_ms: Option<i64>) -> BackfillOptions {
        BackfillOptions::new("/aws/lambda/checkout", from_ms, to_ms)
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

    #[test]
    fn only_streams_whose_last_event_is_before_the_window_are_skipped() {
        let stream = |last_event_ms| StreamInfo {
            name: "s".into(),
            last_event_ms,
        };
        assert!(before_window(&stream(Some(999)), 1_000));
        assert!(!before_window(&stream(Some(1_000)), 1_000));
        // No lastEventTimestamp (no events yet, or not updated yet): read it.
        assert!(!before_window(&stream(None), 1_000));
    }
}
