//! What the benchmark's functions share: the handler body.

/// Starts `spans - 1` child spans (the invocation span makes `spans`) and
/// writes one log line, as a small handler would.
pub fn handler_body(spans: u64) {
    tracing::info!(spans, "request received");
    for index in 1..spans {
        let _span = tracing::info_span!(
            "GetItem",
            otel.kind = "client",
            db.system = "dynamodb",
            aws.dynamodb.table_names = "orders",
            index,
        )
        .entered();
    }
}

/// The span count an event asks for.
pub fn spans_of(event: &serde_json::Value) -> u64 {
    event
        .get("spans")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(6)
}

/// Nanoseconds since `start`, for the init line every function writes to stderr.
pub fn report_init(start: std::time::Instant) {
    eprintln!("INIT_NS {}", start.elapsed().as_nanos());
}

/// Writes the process's resident memory to stderr when the runtime returns
/// (the scripted Runtime API closes the connection after the last
/// invocation): `RSS_KB <now> <peak>` from `/proc/self/status`.
pub fn report_memory() {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kb| kb.parse::<u64>().ok())
            .unwrap_or(0)
    };
    eprintln!("RSS_KB {} {}", field("VmRSS:"), field("VmHWM:"));
}
