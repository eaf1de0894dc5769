//! The web UI in headless Chromium, on demo data (a simulated fleet ingested by
//! the collector), driven by Playwright (`playwright-core` from
//! npm, with the system Chromium; no browser is downloaded). It searches, opens a
//! trace, sees its spans and logs, opens the service map, and saves screenshots
//! under `test-artifacts/dashboards/`. Missing node, Chromium or `npm ci` fail
//! the test: it never passes without a browser.

use std::path::PathBuf;
use std::process::Command;

use tracelake_dashboards::{ServeOptions, Server};

use crate::simulated::simulated;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ui_searches_opens_a_trace_and_draws_the_map() {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let script_dir = manifest.join("tests/browser");
    assert!(
        script_dir.join("node_modules/playwright-core").is_dir(),
        "run `npm ci --prefix dashboards/tests/browser` first (playwright-core)"
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "Chromium is required at {chromium} (apt-get install -y chromium)"
    );

    let sim = simulated().await;
    let mut options = ServeOptions::new(sim.dir.path().to_string_lossy());
    options.addr = "127.0.0.1:0".parse().expect("address");
    // A debug build on a busy machine is slow; the guard rails have their own tests.
    options.engine.query_timeout = std::time::Duration::from_secs(600);
    let server = Server::bind(options).await.expect("server binds");
    let addr = server.local_addr().expect("bound address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));

    let shots = manifest
        .parent()
        .map(|root| root.join("test-artifacts/dashboards"))
        .expect("workspace root");
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script_dir.join("ui.mjs"))
            .arg(format!("http://{addr}"))
            .arg(&shots)
            .env("CHROMIUM", chromium)
            .output()
    })
    .await
    .expect("join")
    .expect("node must be installed for the browser test");
    let _ = stop.send(());
    running.await.expect("join").expect("server ran");
    assert!(
        output.status.success(),
        "browser test failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("the script reports JSON");
    assert!(report["spans"].as_u64().is_some_and(|n| n >= 5));
    assert!(report["logs"].as_u64().is_some_and(|n| n >= 1));
}
