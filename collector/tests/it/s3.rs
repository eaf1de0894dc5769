//! The index on S3, through a local endpoint that speaks the real protocol
//! (moto_server), and the Lambda handler against it.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tracelake_collector::index::read::read_log_links;
use tracelake_collector::index::stats::index_stats;
use tracelake_collector::lambda::{SubscriptionEvent, handle_subscription_event};
use tracelake_collector::{Collector, IndexStore};

use super::support::*;

/// A moto_server on 127.0.0.1, stopped when dropped.
pub struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    pub fn start() -> Moto {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server must be installed (pip install 'moto[server]') to test S3");
        let moto = Moto { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto_server did not listen on {port} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// CreateBucket, as a plain S3 REST call.
    pub fn create_bucket(&self, bucket: &str) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        write!(
            stream,
            "PUT /{bucket} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        )
        .expect("write");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        assert!(
            response.starts_with("HTTP/1.1 200"),
            "CreateBucket failed: {response}"
        );
    }

    pub fn store(&self, url: &str) -> IndexStore {
        let options = [
            ("aws_endpoint", self.endpoint()),
            ("aws_allow_http", "true".to_owned()),
            ("aws_access_key_id", "testing".to_owned()),
            ("aws_secret_access_key", "testing".to_owned()),
            ("aws_region", "us-east-1".to_owned()),
            ("aws_virtual_hosted_style_request", "false".to_owned()),
        ];
        IndexStore::open_with_options(url, options.map(|(k, v)| (k.to_owned(), v)))
            .expect("s3 store")
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_lambda_handler_writes_the_index_to_s3() {
    let moto = Moto::start();
    moto.create_bucket("tracelake-index");
    let collector = Collector::new(moto.store("s3://tracelake-index/prod/tracelake"));
    let rt = runtime();

    let event: SubscriptionEvent =
        serde_json::from_slice(&fixture("01_lambda_event_awslogs_wrapper.json"))
            .expect("lambda event");
    let counters = rt
        .block_on(handle_subscription_event(&collector, event, "req-1"))
        .expect("handler succeeds");
    assert_eq!((counters.events_in, counters.log_rows), (2, 2));
    let report = rt
        .block_on(collector.ingest(&fixture("03_cwl_decoded_lambda_report_awsdocs.json"), "03"))
        .expect("ingest");
    assert_eq!(report.invocation_rows, 1);

    // Bad input is acknowledged (Ok) and quarantined on S3.
    let bad = SubscriptionEvent {
        awslogs: tracelake_collector::lambda::SubscriptionData {
            data: "not base64 !!".to_owned(),
        },
    };
    let bad_counters = rt
        .block_on(handle_subscription_event(&collector, bad, "req-2"))
        .expect("bad input is acknowledged");
    assert_eq!(bad_counters.payloads_quarantined, 1);

    let stats = rt
        .block_on(index_stats(collector.store()))
        .expect("stats over s3");
    let rows = |table: &str| {
        stats
            .iter()
            .filter(|s| s.table == table)
            .map(|s| s.rows)
            .sum::<u64>()
    };
    assert_eq!(rows("logs"), 3);
    assert_eq!(rows("invocations"), 1);
    assert_eq!(rows("quarantine"), 1);
    let objects = rt
        .block_on(collector.store().list("v1/logs"))
        .expect("list");
    assert!(objects.iter().all(|o| {
        o.location
            .as_ref()
            .starts_with("prod/tracelake/v1/logs/dt=")
    }));
    let links = rt
        .block_on(read_log_links(collector.store()))
        .expect("read back");
    assert_eq!(links.len(), 3);
}

#[test]
fn the_lambda_handler_fails_so_lambda_retries_when_the_store_cannot_be_written() {
    let moto = Moto::start();
    let collector = Collector::new(moto.store("s3://no-such-bucket/tracelake"));
    let event: SubscriptionEvent =
        serde_json::from_slice(&fixture("01_lambda_event_awslogs_wrapper.json"))
            .expect("lambda event");
    let result = runtime().block_on(handle_subscription_event(&collector, event, "req-3"));
    let error = result.expect_err("a failed write is an error");
    assert!(error.to_string().contains("object store error"), "{error}");
}
