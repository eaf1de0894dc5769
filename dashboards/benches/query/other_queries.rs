//! Trace search, the service map and RED on the large index, on both engines.

use std::path::Path;
use std::time::Instant;

use tracelake_dashboards::query::sql;
use tracelake_dashboards::query::{
    EngineOptions, ParamValue, Params, QueryEngine, TimeRange, TraceSearch,
};

use crate::duckdb::{duckdb_views, run_duckdb};
use crate::{BenchResult, DAY_NS, HOUR_NS, percentile};

/// Times each query after a warm-up and prints the table.
pub(crate) async fn other_queries(root: &Path, runs: usize) -> BenchResult<()> {
    let engine = QueryEngine::open(&root.to_string_lossy(), EngineOptions::default()).await?;
    // The data's day: the 24 hours ending at the newest hour.
    let end = engine.default_end().await?;
    let day = TimeRange::new(end - DAY_NS, end).ok_or("empty index")?;
    let spans_total = count(&engine, "SELECT count(*) AS n FROM spans").await?;
    let logs_total = count(&engine, "SELECT count(*) AS n FROM logs").await?;
    let invocations_total = count(&engine, "SELECT count(*) AS n FROM invocations").await?;
    println!(
        "large index: {spans_total} spans, {logs_total} log lines, {invocations_total} invocations in {}",
        root.display()
    );

    let service = engine
        .services(&day)
        .await?
        .into_iter()
        .max_by_key(|s| s.span_count)
        .map(|s| s.service)
        .ok_or("no service")?;
    let mut search = TraceSearch::new(TimeRange::new(end - HOUR_NS, end).ok_or("range")?);
    search.service = Some(service.clone());
    search.min_duration_ns = Some(100_000_000);
    search.limit = 20;
    let day_params = Params::new().range(&day, 0);
    let red_params = day_params
        .clone()
        .text("service", None)
        .text("operation", None)
        .with("bucket", ParamValue::IntervalSeconds(300))
        .with("by_operation", ParamValue::Bool(true));

    let cases: Vec<(&str, Vec<(sql::DashboardQuery, Params)>)> = vec![
        (
            "trace search (1 h, service, minDuration 100ms)",
            vec![(sql::SEARCH_TRACES, search.params()?)],
        ),
        (
            "service map (24 h)",
            vec![(sql::SERVICE_MAP, day_params.clone())],
        ),
        (
            "RED, 5 min buckets (24 h)",
            vec![(sql::RED, red_params.clone())],
        ),
    ];

    let duck = run_duckdb(&serde_json::json!({
        "views": duckdb_views(root).await?,
        "runs": runs,
        "lookups": [],
        "cases": cases.iter().map(|(label, queries)| serde_json::json!({
            "label": label,
            "queries": queries.iter().map(|(query, params)| serde_json::json!({
                "name": query.name, "sql": query.sql(), "params": params.0,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    }))?;
    println!("\n| query | DataFusion median ms | DuckDB median ms | DataFusion / DuckDB |");
    println!("|---|---:|---:|---:|");
    for (label, queries) in &cases {
        let mut timings = Vec::new();
        for run in 0..=runs {
            let start = Instant::now();
            let futures = queries
                .iter()
                .map(|(query, params)| engine.run(query, params));
            let results = futures::future::try_join_all(futures).await?;
            if run == 0 {
                let rows: usize = results.iter().map(Vec::len).sum();
                eprintln!("{label}: {rows} rows");
                continue; // warm-up
            }
            timings.push(start.elapsed().as_secs_f64() * 1000.0);
        }
        let ours = percentile(&mut timings, 0.5);
        let theirs = duck["cases"][*label].as_f64().unwrap_or(f64::NAN);
        println!(
            "| {label} | {ours:.1} | {theirs:.1} | {:.2} |",
            ours / theirs
        );
    }
    Ok(())
}

async fn count(engine: &QueryEngine, text: &str) -> BenchResult<i64> {
    let rows =
        tracelake_dashboards::query::rows::batches_to_rows(&engine.sql(text).await?.batches)?;
    Ok(rows.first().and_then(|r| r["n"].as_i64()).unwrap_or(0))
}
