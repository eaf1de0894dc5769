//! The merge of one hour: every table read into a sorter (feeding the link
//! evidence), deduplicated, linked, sorted and written, then `trace_index`
//! from the rows written.

use std::collections::BTreeMap;

use crate::manifest::{CompactionFigures, OutputFile};
use crate::rows::{InvocationRow, LogRow, SpanRow, TraceIndexRow};
use crate::schema;
use crate::store::IndexStore;

use super::dedupe::CompactRow;
use super::io::{FetchMeter, OutputWriter, read_rows};
use super::links::{LinkEvidence, Origin};
use super::options::{CompactOptions, CompactionError, CompactionReport, CompactionStep};
use super::plan::HourPlan;
use super::relink::observe_neighbour;
use super::spill::TableSorter;
use super::trace_summary::TraceSummaries;

/// Per-table work: read every input into a sorter, feeding the link evidence.
async fn sort_table<R: CompactRow>(
    store: &IndexStore,
    plan: &HourPlan,
    options: &CompactOptions,
    spill_dir: &std::path::Path,
    meter: &FetchMeter,
    figures: &mut CompactionFigures,
    mut observe: impl FnMut(&R),
) -> Result<TableSorter<R>, CompactionError> {
    let inputs = plan.inputs.get(R::TABLE).cloned().unwrap_or_default();
    // Parquet of these tables holds about 8 times its size in rows.
    let expected: u64 = inputs.iter().map(|f| f.bytes).sum::<u64>() * 8;
    let mut sorter = TableSorter::new(options.memory_budget_bytes, spill_dir, expected as usize);
    for file in &inputs {
        let rows = read_rows::<R>(store, file, meter, |row| {
            observe(&row);
            sorter.push(row)
        })
        .await?;
        figures.files_in += 1;
        figures.rows_in += rows;
        figures.bytes_in += file.bytes;
        options.step(CompactionStep::InputRead {
            path: file.path.clone(),
        })?;
    }
    Ok(sorter)
}

/// Outputs per table.
pub(super) type Outputs = BTreeMap<&'static str, Vec<OutputFile>>;

/// Reads, merges and writes every table; returns the outputs per table and the
/// number of rows linked that were not (logs, and invocations given a trace).
pub(super) async fn write_generation(
    store: &IndexStore,
    plan: &HourPlan,
    options: &CompactOptions,
    spill_dir: &std::path::Path,
    output: &mut OutputWriter<'_>,
    report: &mut CompactionReport,
) -> Result<(Outputs, u64), CompactionError> {
    let hour = &plan.hour;
    let meter = FetchMeter::default();
    let mut evidence = LinkEvidence::new(hour);
    if LinkEvidence::READS_NEIGHBOUR_HOURS {
        observe_neighbour(store, &hour.previous(), &meter, &mut evidence).await?;
        observe_neighbour(store, &hour.next(), &meter, &mut evidence).await?;
    }
    let mut summaries = TraceSummaries::new();
    let mut tables = BTreeMap::new();
    let mut figures = CompactionFigures::default();

    let sorter = sort_table::<SpanRow>(
        store,
        plan,
        options,
        spill_dir,
        &meter,
        &mut figures,
        |row| evidence.observe_span(row, Origin::ThisHour),
    )
    .await?;
    report.spilled |= sorter.spilled();
    let sorted = sorter.finish(|_| false)?;
    figures.duplicates_dropped += sorted.duplicates_dropped;
    report.peak_buffered_bytes = report
        .peak_buffered_bytes
        .max(sorted.peak_buffered_bytes as u64);
    let files = output
        .write(sorted, |row: &SpanRow| summaries.observe_span(row))
        .await?;
    tables.insert(schema::SPANS, files);
    options.step(CompactionStep::OutputWritten {
        table: schema::SPANS,
    })?;

    // Every log row is observed before invocations and logs are linked: an
    // invocation takes the trace its REPORT, START and lines name.
    let log_sorter = sort_table::<LogRow>(
        store,
        plan,
        options,
        spill_dir,
        &meter,
        &mut figures,
        |row| evidence.observe_log(row, Origin::ThisHour),
    )
    .await?;
    report.spilled |= log_sorter.spilled();

    let sorter = sort_table::<InvocationRow>(
        store,
        plan,
        options,
        spill_dir,
        &meter,
        &mut figures,
        |row| evidence.observe_invocation(row, Origin::ThisHour),
    )
    .await?;
    report.spilled |= sorter.spilled();
    let mut invocations_linked = 0;
    let sorted = sorter.finish(|row| {
        let before = row.trace_id.is_some();
        evidence.resolve_invocation(row);
        invocations_linked += u64::from(!before && row.trace_id.is_some());
        false
    })?;
    figures.duplicates_dropped += sorted.duplicates_dropped;
    report.peak_buffered_bytes = report
        .peak_buffered_bytes
        .max(sorted.peak_buffered_bytes as u64);
    let files = output
        .write(sorted, |row: &InvocationRow| {
            summaries.observe_invocation(row)
        })
        .await?;
    tables.insert(schema::INVOCATIONS, files);
    options.step(CompactionStep::OutputWritten {
        table: schema::INVOCATIONS,
    })?;

    // Every row that does not name its own trace is linked again from the
    // hour's evidence (a link made at ingest may be contradicted by another batch).
    let sorted = log_sorter.finish(|row| evidence.resolve(row))?;
    figures.duplicates_dropped += sorted.duplicates_dropped;
    figures.links_resolved += sorted.links_resolved;
    report.peak_buffered_bytes = report
        .peak_buffered_bytes
        .max(sorted.peak_buffered_bytes as u64);
    let files = output
        .write(sorted, |row: &LogRow| summaries.observe_log(row))
        .await?;
    tables.insert(schema::LOGS, files);
    options.step(CompactionStep::OutputWritten {
        table: schema::LOGS,
    })?;

    let trace_rows = summaries.finish();
    let mut sorter = TableSorter::<TraceIndexRow>::new(usize::MAX, spill_dir, 0);
    for row in trace_rows {
        sorter.push(row)?;
    }
    let sorted = sorter.finish(|_| false)?;
    let files = output.write(sorted, |_: &TraceIndexRow| {}).await?;
    tables.insert(schema::TRACE_INDEX, files);
    options.step(CompactionStep::OutputWritten {
        table: schema::TRACE_INDEX,
    })?;

    let added = figures.links_resolved + invocations_linked;
    report.figures = figures;
    report.peak_input_fetch_bytes = meter.peak();
    Ok((tables, added))
}
