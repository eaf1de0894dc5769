//! The DuckDB views of `tracelake duckdb-view` (`symlink::duckdb_views`).

use tracelake_index::columns::spans_batch;
use tracelake_index::rows::SpanRow;
use tracelake_index::schema::{self, HourPartition};
use tracelake_index::writer::encode_parquet;

use super::support::*;

/// DuckDB guesses Hive partition types from the values it sees (`dt` as a
/// date, `hour=10` alone as a number). The views must give both as text, as
/// the DataFusion tables do, so that the dashboards' SQL runs the same on both.
#[test]
fn duckdb_views_read_dt_and_hour_as_the_partition_text() {
    let rt = runtime();
    let (_dir, store) = local_store();
    let hours = [
        HourPartition {
            date: "2026-11-29".to_owned(),
            hour: 5,
        },
        HourPartition {
            date: "2026-11-29".to_owned(),
            hour: 10,
        },
    ];
    rt.block_on(async {
        for (number, hour) in hours.iter().enumerate() {
            let batch = spans_batch(&[SpanRow::default()]).expect("batch");
            let bytes = encode_parquet(schema::SPANS, &batch).expect("parquet");
            let path = format!(
                "{}/segment-{number}.parquet",
                schema::partition_dir(schema::SPANS, hour)
            );
            store.put(&path, bytes.into()).await.expect("put");
        }
    });
    let views = rt
        .block_on(tracelake_index::symlink::duckdb_views(&store))
        .expect("views");
    let script = r#"
import duckdb, json, sys
con = duckdb.connect()
con.execute(sys.stdin.read())
print(json.dumps([list(r) for r in con.execute(
    "SELECT dt || hour, typeof(dt), typeof(hour) FROM spans ORDER BY 1").fetchall()]))
"#;
    let rows: Vec<Vec<String>> =
        serde_json::from_str(&run_python(script, &views)).expect("duckdb json");
    assert_eq!(
        rows,
        vec![
            vec!["2026-11-2905", "VARCHAR", "VARCHAR"],
            vec!["2026-11-2910", "VARCHAR", "VARCHAR"],
        ]
    );
}
