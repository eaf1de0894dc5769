//! Trace by id on both engines: the ids picked per form, the lookups timed,
//! and the spans, log lines and invocations each found compared.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use tracelake_collector::IndexStore;
use tracelake_dashboards::query::sql;
use tracelake_dashboards::query::{EngineOptions, ParamValue, Params, QueryEngine};
use tracelake_index::read::read_rows;
use tracelake_index::rows::TraceIndexRow;
use tracelake_instrumentation::wire::ids::TraceId;

use crate::duckdb::{duckdb_views, run_duckdb};
use crate::ids::{IdForm, id_form, pasted, stable_hash};
use crate::{BenchResult, Knobs, percentile};

/// The traces looked up in one index.
struct Picked {
    /// Up to `count` traces of each form, chosen at random (a fixed hash of the id).
    ids: BTreeMap<IdForm, Vec<TraceId>>,
    /// The index holds no random W3C id (the demo: the simulator makes X-Ray
    /// ids only), so the W3C row looks up other X-Ray traces in the 32-hex
    /// form an OpenTelemetry SDK prints them in.
    w3c_from_xray: bool,
}

async fn pick_traces(root: &Path, count: usize) -> BenchResult<Picked> {
    let store = IndexStore::open(&root.to_string_lossy())?;
    let rows: Vec<TraceIndexRow> = read_rows(&store).await?;
    let mut by_form: BTreeMap<IdForm, BTreeMap<u64, TraceId>> = BTreeMap::new();
    for row in &rows {
        by_form
            .entry(id_form(row))
            .or_default()
            .insert(stable_hash(row.trace_id.0), row.trace_id);
    }
    let mut pool = |form| -> Vec<TraceId> {
        by_form
            .remove(&form)
            .unwrap_or_default()
            .into_values()
            .collect()
    };
    let xray = pool(IdForm::Xray);
    let mut w3c = pool(IdForm::W3c);
    let logs_only = pool(IdForm::LogsOnly);
    let w3c_from_xray = w3c.is_empty();
    if w3c_from_xray {
        w3c = xray.iter().skip(count).copied().collect();
    }
    let first = |ids: Vec<TraceId>| ids.into_iter().take(count).collect::<Vec<_>>();
    Ok(Picked {
        ids: BTreeMap::from([
            (IdForm::Xray, first(xray)),
            (IdForm::W3c, first(w3c)),
            (IdForm::LogsOnly, first(logs_only)),
        ]),
        w3c_from_xray,
    })
}

/// Spans, log lines and invocations of one trace.
type Counts = [usize; 3];

/// Looks up every picked id on both engines; returns the table rows of this index.
pub(crate) async fn trace_by_id(name: &str, root: &Path, knobs: &Knobs) -> BenchResult<String> {
    let options = EngineOptions {
        live_files_ttl: knobs.live_files_ttl,
        ..EngineOptions::default()
    };
    let engine = QueryEngine::open(&root.to_string_lossy(), options).await?;
    let Picked {
        ids: picked,
        w3c_from_xray,
    } = pick_traces(root, knobs.ids).await?;
    let views = duckdb_views(root).await?;

    // DuckDB: the SQL files of a trace over every live file.
    let mut lookups = Vec::new();
    for (form, ids) in &picked {
        for id in ids {
            let params = Params::new()
                .text("trace_id", Some(&id.to_string()))
                // Lexically below and above every `YYYY-MM-DDHH`: every hour.
                .text("partition_from", Some("0"))
                .text("partition_to", Some("A"))
                // Both indexes are compacted throughout, as our lookups find.
                .with("uncompacted", ParamValue::Bool(false));
            let query = |q: sql::DashboardQuery| serde_json::json!({"name": q.name, "sql": q.sql(), "params": params.0});
            // The lookup's two steps, as `QueryEngine::trace` runs them: the
            // second step's `$request_ids` are those of the first step's rows
            // (`trace_request_ids`), spans and invocations for the lines,
            // spans for the invocations.
            let queries = [sql::TRACE_SPANS, sql::TRACE_LOGS, sql::TRACE_INVOCATIONS].map(query);
            let mut then = [sql::TRACE_REQUEST_LOGS, sql::TRACE_REQUEST_INVOCATIONS].map(query);
            then[0]["request_ids_from"] = serde_json::json!([0, 2]);
            then[1]["request_ids_from"] = serde_json::json!([0]);
            lookups.push(serde_json::json!({
                "key": format!("{form:?}/{id}"),
                "queries": queries,
                "then": then,
            }));
        }
    }
    let duck = run_duckdb(&serde_json::json!({
        "views": views, "runs": knobs.runs, "cases": [], "lookups": lookups,
    }))?;

    let mut rows = String::new();
    for (form, ids) in &picked {
        let mut ours_ms = Vec::new();
        let mut theirs_ms = Vec::new();
        for id in ids {
            let text = pasted(id, *form);
            let mut counts: Counts = [0; 3];
            for run in 0..=knobs.runs {
                let start = Instant::now();
                let detail = engine
                    .trace(&text, None)
                    .await?
                    .ok_or_else(|| format!("{name}: trace {text} ({form:?}) not found"))?;
                let elapsed = start.elapsed().as_secs_f64() * 1000.0;
                if run == 0 {
                    let logs = detail.spans.iter().map(|s| s.logs.len()).sum::<usize>()
                        + detail.unattached_logs.len();
                    counts = [detail.span_count, logs, detail.invocations.len()];
                } else {
                    ours_ms.push(elapsed);
                }
            }
            let key = format!("{form:?}/{id}");
            let lookup = &duck["lookups"][&key];
            // Rows per query: spans, linked lines, linked invocations, then
            // the requests' unlinked lines and invocations (disjoint sets).
            let rows: Vec<usize> = lookup["rows"]
                .as_array()
                .ok_or("DuckDB returned no counts")?
                .iter()
                .map(|n| n.as_u64().unwrap_or(0) as usize)
                .collect();
            let [
                spans,
                lines,
                invocations,
                request_lines,
                request_invocations,
            ] = rows[..]
            else {
                return Err(format!("DuckDB returned {} row counts, not 5", rows.len()).into());
            };
            let duck_counts = [
                spans,
                lines + request_lines,
                invocations + request_invocations,
            ];
            if duck_counts != counts {
                return Err(format!(
                    "{name}: trace {text} ({form:?}): tracelake found [spans, logs, invocations] = {counts:?}, DuckDB {duck_counts:?}"
                )
                .into());
            }
            let slowest = ours_ms[ours_ms.len() - knobs.runs..]
                .iter()
                .fold(0.0f64, |a, &b| a.max(b));
            eprintln!(
                "{name} {form:?} {text}: [spans, logs, invocations] {counts:?}, slowest {slowest:.1} ms"
            );
            theirs_ms.extend(
                lookup["ms"]
                    .as_array()
                    .ok_or("DuckDB returned no timings")?
                    .iter()
                    .filter_map(serde_json::Value::as_f64),
            );
        }
        let label = if *form == IdForm::W3c && w3c_from_xray {
            "W3C form of X-Ray ids (none random here)"
        } else {
            form.label()
        };
        rows.push_str(&format!(
            "| {name} | {label} | {} | {:.1} | {:.1} | {:.1} | {:.1} |\n",
            ids.len(),
            percentile(&mut ours_ms, 0.50),
            percentile(&mut ours_ms, 0.99),
            percentile(&mut theirs_ms, 0.50),
            percentile(&mut theirs_ms, 0.99),
        ));
    }
    // Where a lookup's time goes before its queries: trace_index and the raw-hour listing.
    if let Some(id) = picked.get(&IdForm::Xray).and_then(|ids| ids.first()) {
        let (mut hours_ms, mut raw_ms) = (Vec::new(), Vec::new());
        for run in 0..=knobs.runs {
            let start = Instant::now();
            engine.trace_hours(id).await?;
            let hours = start.elapsed().as_secs_f64() * 1000.0;
            let start = Instant::now();
            engine.uncompacted_hours().await?;
            let raw = start.elapsed().as_secs_f64() * 1000.0;
            if run > 0 {
                hours_ms.push(hours);
                raw_ms.push(raw);
            }
        }
        eprintln!(
            "{name}: steps of a lookup (median ms): trace_index → hours {:.1}, hours with raw segments {:.1}",
            percentile(&mut hours_ms, 0.5),
            percentile(&mut raw_ms, 0.5)
        );
    }
    Ok(rows)
}
