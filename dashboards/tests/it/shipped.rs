//! The shipped dashboard definitions and DDL agree with the index format and
//! with the server they point at.

use serde_json::Value;
use tracelake_dashboards::query::tables::Table;

fn read(path: &str) -> String {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|error| panic!("{full}: {error}"))
}

#[test]
fn athena_ddl_declares_every_column_of_the_format() {
    let ddl = read("athena/tables.sql");
    for table in Table::ALL {
        let start = ddl
            .find(&format!(
                "CREATE EXTERNAL TABLE IF NOT EXISTS tracelake.{} (",
                table.name()
            ))
            .unwrap_or_else(|| panic!("no DDL for {}", table.name()));
        let block = &ddl[start..];
        let block = &block[..block
            .find("PARTITIONED BY (dt string, hour string)")
            .unwrap_or(block.len())];
        for field in table.schema().fields() {
            let name = field.name();
            let declared = block.contains(&format!("\n  {name} "))
                || block.contains(&format!("\n  `{name}` "));
            assert!(
                declared,
                "{}.{name} is missing from athena/tables.sql",
                table.name()
            );
        }
        // Athena reads the live files through the symlink manifests, never a glob.
        assert!(ddl.contains(&format!(
            "v1/_symlink/{}/dt=${{dt}}/hour=${{hour}}/",
            table.name()
        )));
    }
}

#[test]
fn grafana_uses_the_jaeger_data_source_at_tracelake_serve() {
    let datasource = read("grafana/provisioning/datasources/tracelake.yaml");
    assert!(datasource.contains("type: jaeger"));
    assert!(datasource.contains("uid: tracelake"));
    assert!(datasource.contains("url: http://127.0.0.1:7070"));
    let dashboard: Value = serde_json::from_str(&read("grafana/dashboards/tracelake.json"))
        .expect("dashboard JSON parses");
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(panels.len() >= 4);
    let query_types: Vec<&str> = panels
        .iter()
        .flat_map(|p| p["targets"].as_array().into_iter().flatten())
        .filter_map(|t| t["queryType"].as_str())
        .collect();
    for wanted in ["dependencyGraph", "search", ""] {
        assert!(query_types.contains(&wanted), "a {wanted:?} query");
    }
    for panel in panels {
        assert_eq!(panel["datasource"]["uid"], "tracelake");
        assert_eq!(panel["datasource"]["type"], "jaeger");
    }
    let provider = read("grafana/provisioning/dashboards/tracelake.yaml");
    assert!(provider.contains("type: file"));
}

#[test]
fn cloudwatch_body_has_logs_insights_widgets() {
    let body: Value = serde_json::from_str(&read("cloudwatch/dashboard-body.json"))
        .expect("dashboard body parses");
    let widgets = body["widgets"].as_array().expect("widgets");
    let queries: Vec<&str> = widgets
        .iter()
        .filter(|w| w["type"] == "log")
        .filter_map(|w| w["properties"]["query"].as_str())
        .collect();
    assert!(queries.len() >= 5);
    assert!(
        queries
            .iter()
            .all(|q| q.starts_with("SOURCE '/aws/lambda/"))
    );
    assert!(
        queries.iter().any(|q| q.contains("@initDuration")),
        "cold starts"
    );
    assert!(
        queries.iter().any(|q| q.contains("@duration")),
        "REPORT durations"
    );
    assert!(
        queries.iter().any(|q| q.contains("trace")),
        "errors by trace id"
    );
    for widget in widgets {
        for key in ["x", "y", "width", "height"] {
            assert!(widget[key].is_u64(), "widget {key}");
        }
    }
}
