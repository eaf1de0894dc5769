//! Links across hours: the live rows of an hour observed as link evidence, and
//! whether a compacted hour needs relinking because its neighbours' evidence
//! links a row its latest generation left unlinked.

use crate::manifest;
use crate::rows::{InvocationRow, LogRow, SpanRow};
use crate::schema::{self, HourPartition};
use crate::store::IndexStore;

use super::io::{FetchMeter, read_rows};
use super::links::{LinkEvidence, Origin};
use super::options::CompactionError;
use super::plan::InputFile;

/// Feeds the live spans, invocations and logs of `hour` to the evidence, as
/// rows of `origin`; returns the files read, with their table.
async fn observe_live_rows(
    store: &IndexStore,
    hour: &HourPartition,
    origin: Origin,
    meter: &FetchMeter,
    evidence: &mut LinkEvidence,
) -> Result<Vec<(&'static str, InputFile)>, CompactionError> {
    let mut read = Vec::new();
    for table in [schema::SPANS, schema::INVOCATIONS, schema::LOGS] {
        for file in manifest::live_files(store, table, hour).await? {
            let input = InputFile {
                path: file.path,
                bytes: file.bytes,
            };
            match table {
                schema::SPANS => {
                    read_rows::<SpanRow>(store, &input, meter, |row| {
                        evidence.observe_span(&row, origin);
                        Ok(())
                    })
                    .await?
                }
                schema::INVOCATIONS => {
                    read_rows::<InvocationRow>(store, &input, meter, |row| {
                        evidence.observe_invocation(&row, origin);
                        Ok(())
                    })
                    .await?
                }
                _ => {
                    read_rows::<LogRow>(store, &input, meter, |row| {
                        evidence.observe_log(&row, origin);
                        Ok(())
                    })
                    .await?
                }
            };
            read.push((table, input));
        }
    }
    Ok(read)
}

/// Feeds the live spans, invocations and logs of a neighbour hour to the evidence.
pub(super) async fn observe_neighbour(
    store: &IndexStore,
    hour: &HourPartition,
    meter: &FetchMeter,
    evidence: &mut LinkEvidence,
) -> Result<(), CompactionError> {
    observe_live_rows(store, hour, Origin::NeighbourHour, meter, evidence).await?;
    Ok(())
}

/// Whether the live rows of a compacted hour and its neighbours link a row of
/// the hour that its latest generation has unlinked: a log row, or an
/// invocation without a trace. Reads the three hours; writes nothing.
///
/// # Errors
/// [`CompactionError`] when the store or an input fails.
pub async fn relink_needed(
    store: &IndexStore,
    hour: &HourPartition,
) -> Result<bool, CompactionError> {
    if manifest::latest_manifest(store, hour).await?.is_none() {
        return Ok(false);
    }
    let meter = FetchMeter::default();
    let mut observed = LinkEvidence::new(hour);
    observe_neighbour(store, &hour.previous(), &meter, &mut observed).await?;
    observe_neighbour(store, &hour.next(), &meter, &mut observed).await?;
    // Every row is observed before any is resolved, as in a compaction.
    let this_hour = observe_live_rows(store, hour, Origin::ThisHour, &meter, &mut observed).await?;
    let mut linked = false;
    for (table, input) in &this_hour {
        if linked {
            break;
        }
        match *table {
            schema::INVOCATIONS => {
                read_rows::<InvocationRow>(store, input, &meter, |mut row| {
                    let before = row.trace_id.is_some();
                    observed.resolve_invocation(&mut row);
                    linked |= !before && row.trace_id.is_some();
                    Ok(())
                })
                .await?
            }
            schema::LOGS => {
                read_rows::<LogRow>(store, input, &meter, |mut row| {
                    linked |= observed.resolve(&mut row);
                    Ok(())
                })
                .await?
            }
            _ => 0,
        };
    }
    Ok(linked)
}
