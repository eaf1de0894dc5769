//! Every SQL file of `dashboards/queries/` gives the same answer on DuckDB as on
//! DataFusion over the same index: the SQL is not DataFusion-only, so Athena and
//! DuckDB users can run it.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use tracelake_dashboards::query::sql::{self, DashboardQuery};
use tracelake_dashboards::query::{LogSearch, ParamValue, Params, TraceSearch, trace_request_ids};
use tracelake_instrumentation::wire::ids::TraceId;

use crate::fixture::{PRICE, indexed, whole_range};
use crate::queries::engine;

/// The parameters each query is compared with.
fn cases(engine: &tracelake_dashboards::query::QueryEngine) -> Vec<(DashboardQuery, Params)> {
    let fleet = &indexed().fleet;
    let range = whole_range();
    let trace = TraceId::parse(&fleet.request_traces[10]).expect("valid id");
    let trace_params = engine.trace_params(&trace, None);
    // Every request id of the fleet's lines and invocations, so that the
    // second step's queries return rows to compare (unlinked lines included).
    let request_ids: Vec<Option<String>> = fleet
        .logs
        .iter()
        .chain(&fleet.invocations)
        .map(|row| row["request_id"].as_str().map(str::to_owned))
        .collect();
    let request_params = trace_params
        .clone()
        .text("request_ids", Some(&trace_request_ids(request_ids.iter())));
    let mut search = TraceSearch::new(range);
    search.service = Some("orders".to_owned());
    search.min_duration_ns = Some(1_000_000);
    search.attributes = vec![("tenant".to_owned(), "acme".to_owned())];
    search.limit = 50;
    let mut logs = LogSearch::new(range);
    logs.text = Some("order".to_owned());
    logs.limit = 500;
    let base = Params::new().range(&range, 0);
    let (partition_from, partition_to) = range.partitions(3_600_000_000_000);
    let found_traces = Params::new()
        .text("trace_ids", Some(&fleet.request_traces[..12].join(",")))
        .text("partition_from", Some(&partition_from))
        .text("partition_to", Some(&partition_to));
    let slack = Params::new().range(&range, 3_600_000_000_000);
    let cost = slack
        .clone()
        .with("price_per_gb_second", ParamValue::Float(PRICE))
        .with("limit", ParamValue::Int(Some(100)));
    vec![
        (
            sql::TRACE_HOURS,
            Params::new().text("trace_id", Some(&trace.to_string())),
        ),
        (sql::TRACE_SPANS, trace_params.clone()),
        (sql::TRACE_LOGS, trace_params.clone()),
        (sql::TRACE_INVOCATIONS, trace_params),
        (sql::TRACE_REQUEST_LOGS, request_params.clone()),
        (sql::TRACE_REQUEST_INVOCATIONS, request_params),
        (sql::SEARCH_TRACES, search.params().expect("valid search")),
        (
            sql::SEARCH_TRACE_SPANS,
            search
                .params()
                .expect("valid search")
                .with("span_budget", ParamValue::Int(Some(40))),
        ),
        (sql::SEARCH_TRACE_INVOCATIONS, found_traces.clone()),
        (sql::SEARCH_TRACE_LINES, found_traces),
        (sql::SERVICES, base.clone()),
        (sql::SERVICE_TAGS, base.clone()),
        (
            sql::OPERATIONS,
            base.clone()
                .text("service", Some("orders"))
                .text("kind", None),
        ),
        (sql::SERVICE_MAP, base.clone()),
        (
            sql::RED,
            base.text("service", None)
                .text("operation", None)
                .with("bucket", ParamValue::IntervalSeconds(300))
                .with("by_operation", ParamValue::Bool(true)),
        ),
        (sql::COLD_STARTS, slack.clone().text("function", None)),
        (sql::COST_FUNCTIONS, cost.clone()),
        (sql::COST_TRACES, cost),
        (sql::SEARCH_LOGS, logs.params().expect("valid search")),
        (
            sql::LOG_HISTOGRAM,
            logs.filter_params()
                .expect("valid search")
                .with("bucket", ParamValue::IntervalSeconds(600)),
        ),
        (sql::CORRELATION_LOGS, slack.clone()),
        (sql::CORRELATION_INVOCATIONS, slack.clone()),
        (sql::CORRELATION_CALLS, slack.clone()),
    ]
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            // Percentile interpolation and float sums may differ in the last bits.
            (x - y).abs() <= 1e-6 * x.abs().max(y.abs()).max(1.0)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[tokio::test]
async fn every_dashboard_query_agrees_with_duckdb() {
    let engine = engine().await;
    let cases = cases(&engine);
    assert_eq!(
        cases.len(),
        sql::ALL.len(),
        "every SQL file has a comparison case"
    );
    let request = json!({
        "root": indexed().root(),
        "queries": cases.iter().map(|(query, params)| json!({
            "name": query.name, "sql": query.sql(), "params": params.0,
        })).collect::<Vec<_>>(),
    });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/duckdb_run.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 must be installed for the DuckDB comparison");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(request.to_string().as_bytes())
        .expect("request written");
    let output = child.wait_with_output().expect("python3 ran");
    assert!(
        output.status.success(),
        "DuckDB run failed (pip install duckdb): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let duck: Value = serde_json::from_slice(&output.stdout).expect("DuckDB output is JSON");

    for (query, params) in &cases {
        let ours: Vec<Value> = engine
            .run(query, params)
            .await
            .unwrap_or_else(|error| panic!("{} on DataFusion: {error}", query.name))
            .into_iter()
            .map(Value::Object)
            .collect();
        let theirs = duck[query.name].as_array().cloned().unwrap_or_default();
        assert!(
            !ours.is_empty(),
            "{} returns rows on the fixture",
            query.name
        );
        assert_eq!(
            ours.len(),
            theirs.len(),
            "{}: row counts differ",
            query.name
        );
        for (index, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert!(
                same(a, b),
                "{} row {index} differs:\n DataFusion {a}\n DuckDB     {b}",
                query.name
            );
        }
    }
}
