//! End-to-end tests of the whole system: one test binary, one module per area
//! under `tests/e2e/`.

#[path = "e2e/aws_cli.rs"]
mod aws_cli;
#[path = "e2e/cli.rs"]
mod cli;
#[cfg(unix)]
#[path = "e2e/dashboards_binary.rs"]
mod dashboards_binary;
#[path = "e2e/field_ids.rs"]
mod field_ids;
#[path = "e2e/roundtrip.rs"]
mod roundtrip;
#[path = "e2e/simulator.rs"]
mod simulator;
#[path = "e2e/support.rs"]
mod support;
