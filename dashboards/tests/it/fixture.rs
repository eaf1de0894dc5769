//! A small deterministic fleet written as an index of format v1, with the rows
//! kept in memory as the ground truth the query tests check against.
//!
//! Each of `TRACES` requests enters `api-gateway`, which calls `orders`; `orders`
//! calls `payments` (failing on every 7th request) and, on even requests,
//! `inventory`, then publishes a message. `notifier` consumes the message in a
//! trace of its own, linked to the producer span (an async hop through a queue).
//! Every entry span is one Lambda invocation with a REPORT row.
//!
//! The logs exercise each way a line reaches a trace: linked by trace and span
//! id; linked by request id with no span (`link = request_id`); and left
//! unlinked by the collector but carrying a request id of the trace (every 5th
//! request), which only the query layer can join. One line belongs to no trace.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use parquet::arrow::ArrowWriter;
use serde_json::{Value, json};
use tracelake_dashboards::query::tables::Table;

/// 2026-11-20T10:00:00Z.
pub const T0_SECONDS: i64 = 1_795_168_800;
pub const T0_NS: i64 = T0_SECONDS * 1_000_000_000;
pub const TRACES: usize = 40;
/// Seconds between two requests: the fleet spans one hour and a half, so two
/// hour partitions.
pub const SPACING_SECONDS: i64 = 135;
pub const PRICE: f64 = 0.000_016_666_7;

pub fn memory_mb(service: &str) -> i64 {
    match service {
        "api-gateway" => 128,
        "orders" => 512,
        "payments" => 256,
        "inventory" => 1024,
        _ => 128,
    }
}

/// The `team` resource attribute of a service's spans.
pub fn team_of(service: &str) -> &'static str {
    match service {
        "api-gateway" => "edge",
        "payments" => "money",
        _ => "commerce",
    }
}

#[derive(Debug, Default, Clone)]
pub struct Fleet {
    pub spans: Vec<Value>,
    pub logs: Vec<Value>,
    pub invocations: Vec<Value>,
    /// Trace ids of the requests (not of the notifier traces), in order.
    pub request_traces: Vec<String>,
    /// Trace ids of the notifier traces, in order.
    pub notifier_traces: Vec<String>,
}

impl Fleet {
    pub fn spans_of(&self, trace_id: &str) -> Vec<&Value> {
        self.spans
            .iter()
            .filter(|span| span["trace_id"] == trace_id)
            .collect()
    }

    /// (parent service, child service) → calls, from parent links only.
    pub fn parent_edges(&self) -> BTreeMap<(String, String), i64> {
        let by_id: BTreeMap<(&str, &str), &Value> = self
            .spans
            .iter()
            .map(|span| {
                (
                    (
                        span["trace_id"].as_str().unwrap_or(""),
                        span["span_id"].as_str().unwrap_or(""),
                    ),
                    span,
                )
            })
            .collect();
        let mut edges = BTreeMap::new();
        for span in &self.spans {
            let Some(parent_id) = span["parent_span_id"].as_str() else {
                continue;
            };
            let parent = by_id[&(span["trace_id"].as_str().unwrap_or(""), parent_id)];
            let (from, to) = (
                parent["service"].as_str().unwrap_or("").to_owned(),
                span["service"].as_str().unwrap_or("").to_owned(),
            );
            if from != to {
                *edges.entry((from, to)).or_insert(0) += 1;
            }
        }
        edges
    }

    pub fn cost_of_function(&self, function: &str) -> f64 {
        self.invocations
            .iter()
            .filter(|i| i["function"] == function)
            .map(invocation_cost)
            .sum()
    }
}

pub fn invocation_cost(invocation: &Value) -> f64 {
    let billed = invocation["billed_duration_ms"].as_i64().unwrap_or(0) as f64;
    let memory = invocation["memory_size_mb"].as_i64().unwrap_or(0) as f64;
    billed / 1000.0 * memory / 1024.0 * PRICE
}

/// An X-Ray-style trace id: the start second, then 24 hex digits.
fn trace_id(start_seconds: i64, n: u64) -> String {
    format!("{start_seconds:08x}{:024x}", 0x5eed_0000_0000_0000_u64 + n)
}

struct Builder {
    fleet: Fleet,
    next_span: u64,
    next_event: u64,
    invocations_seen: BTreeMap<String, usize>,
}

impl Builder {
    fn span_id(&mut self) -> String {
        self.next_span += 1;
        format!("{:016x}", 0xa000_0000_0000_0000_u64 + self.next_span)
    }

    #[allow(clippy::too_many_arguments)]
    fn span(
        &mut self,
        trace: &str,
        parent: Option<&str>,
        service: &str,
        name: &str,
        kind: &str,
        start_ns: i64,
        duration_ns: i64,
        error: bool,
        request_id: &str,
        links: Vec<Value>,
    ) -> String {
        let span_id = self.span_id();
        let cold = kind == "server" || kind == "consumer";
        let mut attributes = json!({"http.route": name, "tenant": if start_ns % 2 == 0 { "acme" } else { "globex" }});
        // A client span names its callee, as OpenTelemetry HTTP clients do.
        let callee = match name {
            "call orders" => Some("orders"),
            "charge card" => Some("payments"),
            "reserve stock" => Some("inventory"),
            _ => None,
        };
        if let (Some(callee), Some(map)) = (callee, attributes.as_object_mut()) {
            map.insert("peer.service".to_owned(), json!(callee));
        }
        self.fleet.spans.push(json!({
            "trace_id": trace,
            "span_id": span_id,
            "parent_span_id": parent,
            "name": name,
            "kind": kind,
            "service": service,
            "start_time": start_ns,
            "end_time": start_ns + duration_ns,
            "duration_ns": duration_ns,
            "status_code": if error { "error" } else { "ok" },
            "status_message": if error { Some("card declined") } else { None },
            "request_id": request_id,
            "faas_name": service,
            "faas_trigger": if kind == "consumer" { "pubsub" } else { "http" },
            "cold_start": cold && self.invocations_seen.get(service).copied().unwrap_or(0) == 0,
            "cloud_region": "us-east-1",
            "cloud_account_id": "123456789012",
            "attributes": attributes,
            "resource_attributes": {
                "service.name": service,
                "cloud.provider": "aws",
                "team": team_of(service),
                "deployment.environment.name": "production",
                // The sandbox's id: not a tag of the service.
                "faas.instance": "2026/11/20/[$LATEST]abc",
            },
            "events": if error { json!([{"time": start_ns + duration_ns, "name": "exception", "attributes": {"exception.type": "CardDeclined"}}]) } else { json!([]) },
            "links": links,
            "log_group": format!("/aws/lambda/{service}"),
            "log_stream": "2026/11/20/[$LATEST]abc",
        }));
        span_id
    }

    #[allow(clippy::too_many_arguments)]
    fn log(
        &mut self,
        time_ns: i64,
        trace: Option<&str>,
        span: Option<&str>,
        request_id: Option<&str>,
        service: &str,
        level: &str,
        message: &str,
        link: Option<&str>,
    ) {
        self.next_event += 1;
        self.fleet.logs.push(json!({
            "timestamp": time_ns,
            "trace_id": trace,
            "span_id": span,
            "request_id": request_id,
            "service": service,
            "level": level,
            "message": message,
            "attributes": {"logger": "app"},
            "log_group": format!("/aws/lambda/{service}"),
            "log_stream": "2026/11/20/[$LATEST]abc",
            "event_id": format!("{:056}", self.next_event),
            "format": "tracelake_json",
            "link": link,
        }));
    }

    fn invocation(
        &mut self,
        request_id: &str,
        service: &str,
        start_ns: i64,
        duration_ns: i64,
        trace: Option<&str>,
        error: bool,
    ) {
        let counter = self.invocations_seen.entry(service.to_owned()).or_insert(0);
        let seen = *counter + 1;
        *counter = seen;
        let cold = seen == 1 || seen % 10 == 1;
        let duration_ms = duration_ns as f64 / 1e6;
        self.fleet.invocations.push(json!({
            "request_id": request_id,
            "function": service,
            "function_version": "$LATEST",
            "log_group": format!("/aws/lambda/{service}"),
            "log_stream": "2026/11/20/[$LATEST]abc",
            "start_time": start_ns,
            "end_time": start_ns + duration_ns,
            "duration_ms": duration_ms,
            "billed_duration_ms": duration_ms.ceil() as i64,
            "memory_size_mb": memory_mb(service),
            "max_memory_used_mb": memory_mb(service) / 2,
            "init_duration_ms": if cold { Some(150.0 + (seen as f64) * 3.0) } else { None },
            "cold_start": cold,
            "status": if error { "error" } else { "success" },
            "error_type": if error { Some("CardDeclined") } else { None },
            "trace_id": trace,
            "sampled": true,
        }));
    }
}

pub fn build_fleet() -> Fleet {
    let mut b = Builder {
        fleet: Fleet::default(),
        next_span: 0,
        next_event: 0,
        invocations_seen: BTreeMap::new(),
    };
    let ms = 1_000_000_i64;
    for i in 0..TRACES {
        let start_seconds = T0_SECONDS + i as i64 * SPACING_SECONDS;
        let t = start_seconds * 1_000_000_000;
        let trace = trace_id(start_seconds, i as u64);
        b.fleet.request_traces.push(trace.clone());
        let failing = i % 7 == 0;
        let jitter = (i as i64 * 37) % 50;

        let gw_request = format!("req-gw-{i:04}");
        let root = b.span(
            &trace,
            None,
            "api-gateway",
            "GET /orders",
            "server",
            t,
            (300 + jitter) * ms,
            failing,
            &gw_request,
            vec![],
        );
        b.log(
            t + ms,
            Some(&trace),
            Some(&root),
            Some(&gw_request),
            "api-gateway",
            "INFO",
            &format!("request {i} received"),
            Some("trace_id"),
        );
        b.invocation(
            &gw_request,
            "api-gateway",
            t,
            (300 + jitter) * ms,
            Some(&trace),
            failing,
        );
        let call = b.span(
            &trace,
            Some(&root),
            "api-gateway",
            "call orders",
            "client",
            t + 5 * ms,
            (280 + jitter) * ms,
            failing,
            &gw_request,
            vec![],
        );

        let orders_request = format!("req-orders-{i:04}");
        let orders = b.span(
            &trace,
            Some(&call),
            "orders",
            "POST /orders",
            "server",
            t + 10 * ms,
            (260 + jitter) * ms,
            failing,
            &orders_request,
            vec![],
        );
        b.log(
            t + 11 * ms,
            Some(&trace),
            Some(&orders),
            Some(&orders_request),
            "orders",
            "INFO",
            "creating order",
            Some("trace_id"),
        );
        b.log(
            t + 12 * ms,
            Some(&trace),
            None,
            Some(&orders_request),
            "orders",
            "DEBUG",
            "linked by request id only",
            Some("request_id"),
        );
        if i % 5 == 0 {
            b.log(
                t + 13 * ms,
                None,
                None,
                Some(&orders_request),
                "orders",
                "WARN",
                "late line needing another batch",
                None,
            );
        }
        // The orders REPORT line carries no trace id: found through the span's request id.
        b.invocation(
            &orders_request,
            "orders",
            t + 10 * ms,
            (260 + jitter) * ms,
            None,
            failing,
        );

        let pay_call = b.span(
            &trace,
            Some(&orders),
            "orders",
            "charge card",
            "client",
            t + 20 * ms,
            (100 + jitter) * ms,
            failing,
            &orders_request,
            vec![],
        );
        let pay_request = format!("req-pay-{i:04}");
        let pay = b.span(
            &trace,
            Some(&pay_call),
            "payments",
            "charge",
            "server",
            t + 22 * ms,
            (90 + jitter) * ms,
            failing,
            &pay_request,
            vec![],
        );
        if failing {
            b.log(
                t + 100 * ms,
                Some(&trace),
                Some(&pay),
                Some(&pay_request),
                "payments",
                "ERROR",
                &format!("payment declined for order {i}"),
                Some("trace_id"),
            );
        }
        b.invocation(
            &pay_request,
            "payments",
            t + 22 * ms,
            (90 + jitter) * ms,
            Some(&trace),
            failing,
        );

        if i % 2 == 0 {
            let inv_call = b.span(
                &trace,
                Some(&orders),
                "orders",
                "reserve stock",
                "client",
                t + 130 * ms,
                40 * ms,
                false,
                &orders_request,
                vec![],
            );
            let inv_request = format!("req-inv-{i:04}");
            let inv = b.span(
                &trace,
                Some(&inv_call),
                "inventory",
                "reserve",
                "server",
                t + 132 * ms,
                35 * ms,
                false,
                &inv_request,
                vec![],
            );
            b.log(
                t + 133 * ms,
                Some(&trace),
                Some(&inv),
                Some(&inv_request),
                "inventory",
                "INFO",
                "stock reserved",
                Some("trace_id"),
            );
            b.invocation(
                &inv_request,
                "inventory",
                t + 132 * ms,
                35 * ms,
                Some(&trace),
                false,
            );
        }

        let publish = b.span(
            &trace,
            Some(&orders),
            "orders",
            "publish order",
            "producer",
            t + 200 * ms,
            10 * ms,
            false,
            &orders_request,
            vec![],
        );

        // The consumer runs later, in its own trace, linked to the producer span.
        let consumer_seconds = start_seconds + 2;
        let notifier_trace = trace_id(consumer_seconds, 10_000 + i as u64);
        b.fleet.notifier_traces.push(notifier_trace.clone());
        let notify_request = format!("req-notify-{i:04}");
        let consumer = b.span(
            &notifier_trace,
            None,
            "notifier",
            "process order",
            "consumer",
            consumer_seconds * 1_000_000_000,
            50 * ms,
            false,
            &notify_request,
            vec![json!({"trace_id": trace, "span_id": publish, "attributes": {"messaging.system": "aws_sqs"}})],
        );
        b.log(
            consumer_seconds * 1_000_000_000 + ms,
            Some(&notifier_trace),
            Some(&consumer),
            Some(&notify_request),
            "notifier",
            "INFO",
            "email sent",
            Some("trace_id"),
        );
        b.invocation(
            &notify_request,
            "notifier",
            consumer_seconds * 1_000_000_000,
            50 * ms,
            Some(&notifier_trace),
            false,
        );
    }
    // A line of an uninstrumented service, in no trace.
    b.log(
        T0_NS + 5 * ms,
        None,
        None,
        None,
        "legacy-cron",
        "INFO",
        "nightly job ran",
        None,
    );
    b.fleet
}

fn partition_of(time_ns: i64) -> String {
    let time = chrono::DateTime::from_timestamp_nanos(time_ns);
    time.format("dt=%Y-%m-%d/hour=%H").to_string()
}

pub fn write_table(
    root: &Path,
    table: Table,
    rows: &[Value],
    time_column: &str,
) -> anyhow::Result<()> {
    let mut partitions: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for row in rows {
        let time = row[time_column]
            .as_i64()
            .ok_or_else(|| anyhow::anyhow!("row without {time_column}"))?;
        partitions.entry(partition_of(time)).or_default().push(row);
    }
    let schema: SchemaRef = table.schema();
    for (partition, rows) in partitions {
        let directory = root.join("v1").join(table.name()).join(partition);
        std::fs::create_dir_all(&directory)?;
        // Two segments per partition, as the collector writes one per batch.
        for (segment, chunk) in rows.chunks(rows.len().div_ceil(2)).enumerate() {
            let mut decoder =
                arrow_json::ReaderBuilder::new(Arc::clone(&schema)).build_decoder()?;
            decoder.serialize(chunk)?;
            let batch = decoder
                .flush()?
                .ok_or_else(|| anyhow::anyhow!("no rows decoded"))?;
            let file = std::fs::File::create(directory.join(format!("segment-{segment}.parquet")))?;
            let mut writer = ArrowWriter::try_new(file, Arc::clone(&schema), None)?;
            writer.write(&batch)?;
            writer.close()?;
        }
    }
    Ok(())
}

/// `trace_index` as compaction writes it: one row per trace and hour with a
/// row of the trace (spans by start, logs by timestamp, invocations by end).
pub fn trace_index_rows(fleet: &Fleet) -> Vec<Value> {
    #[derive(Default)]
    struct Summary {
        min: Option<i64>,
        max: Option<i64>,
        spans: i64,
        errors: i64,
        services: std::collections::BTreeSet<String>,
        root: Option<(i64, String, String)>,
    }
    let mut summaries: BTreeMap<(String, String), Summary> = BTreeMap::new();
    let mut add = |trace: &Value, time: i64, start: i64, end: i64, f: &dyn Fn(&mut Summary)| {
        let Some(trace) = trace.as_str() else {
            return;
        };
        let summary = summaries
            .entry((trace.to_owned(), partition_of(time)))
            .or_default();
        summary.min = Some(summary.min.map_or(start, |m| m.min(start)));
        summary.max = Some(summary.max.map_or(end, |m| m.max(end)));
        f(summary);
    };
    for span in &fleet.spans {
        let start = span["start_time"].as_i64().unwrap_or_default();
        let end = span["end_time"].as_i64().unwrap_or_default();
        add(&span["trace_id"], start, start, end, &|summary| {
            summary.spans += 1;
            if span["status_code"] == "error" {
                summary.errors += 1;
            }
            let service = span["service"].as_str().unwrap_or_default().to_owned();
            summary.services.insert(service.clone());
            if span["parent_span_id"].is_null()
                && summary
                    .root
                    .as_ref()
                    .is_none_or(|(time, _, _)| start < *time)
            {
                let name = span["name"].as_str().unwrap_or_default().to_owned();
                summary.root = Some((start, service, name));
            }
        });
    }
    for log in &fleet.logs {
        let time = log["timestamp"].as_i64().unwrap_or_default();
        add(&log["trace_id"], time, time, time, &|_| {});
    }
    for invocation in &fleet.invocations {
        // By its end, the time it is partitioned by, so that the row's
        // `min_start` stays in its hour.
        let end = invocation["end_time"].as_i64().unwrap_or_default();
        add(&invocation["trace_id"], end, end, end, &|_| {});
    }
    summaries
        .into_iter()
        .map(|((trace, _), summary)| {
            let (root_service, root_name) = match summary.root {
                Some((_, service, name)) => (Some(service), Some(name)),
                None => (None, None),
            };
            json!({
                "trace_id": trace,
                "min_start": summary.min,
                "max_end": summary.max,
                "root_service": root_service,
                "root_name": root_name,
                "span_count": summary.spans,
                "error_count": summary.errors,
                "services": summary.services,
            })
        })
        .collect()
}

/// Writes the fleet under `root` in the layout of DESIGN.md.
pub fn write_index(fleet: &Fleet, root: &Path) -> anyhow::Result<()> {
    write_table(root, Table::Spans, &fleet.spans, "start_time")?;
    write_table(root, Table::Logs, &fleet.logs, "timestamp")?;
    write_table(root, Table::Invocations, &fleet.invocations, "end_time")?;
    write_table(
        root,
        Table::TraceIndex,
        &trace_index_rows(fleet),
        "min_start",
    )?;
    Ok(())
}

/// The fleet and its index in a temporary directory, built once per test binary.
pub struct Indexed {
    pub fleet: Fleet,
    pub dir: tempfile::TempDir,
}

impl Indexed {
    pub fn root(&self) -> String {
        self.dir.path().to_string_lossy().into_owned()
    }
}

pub fn indexed() -> &'static Indexed {
    static INDEXED: std::sync::OnceLock<Indexed> = std::sync::OnceLock::new();
    INDEXED.get_or_init(|| {
        let fleet = build_fleet();
        let dir = tempfile::tempdir().expect("temporary directory");
        write_index(&fleet, dir.path()).expect("fixture index is written");
        Indexed { fleet, dir }
    })
}

/// The whole fixture's time range.
pub fn whole_range() -> tracelake_dashboards::query::TimeRange {
    tracelake_dashboards::query::TimeRange {
        from_ns: T0_NS - 60_000_000_000,
        to_ns: T0_NS + (TRACES as i64 * SPACING_SECONDS + 600) * 1_000_000_000,
    }
}

/// Compacts every hour of the index in `store` that has raw segments, as the
/// scheduled compaction (`tracelake compact`) does.
pub async fn compact_every_hour(store: &tracelake_collector::IndexStore) {
    use tracelake_index::compact::{CompactOptions, compact_hours, hours_needing_compaction};
    let hours = hours_needing_compaction(store).await.expect("hours listed");
    compact_hours(store, &hours, &CompactOptions::default())
        .await
        .expect("hours compacted");
}
