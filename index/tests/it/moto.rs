//! The protocol on S3, through a local endpoint that speaks the real protocol
//! (moto_server, which answers `If-None-Match: *` on an existing key with
//! 412 as S3 does, so `PutMode::Create` is exercised for real), and a store
//! pointed at endpoints that never answer or refuse connections, which must
//! fail with an error rather than hang.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tracelake_index::compact::{CompactOptions, compact_hour};
use tracelake_index::{IndexStore, IndexWriter, S3Limits};

use super::protocol::{self, Checker};
use super::support::{deliveries, hour, runtime};

/// A moto_server on 127.0.0.1, stopped when dropped.
struct Moto {
    child: Child,
    port: u16,
}

/// Bounds for requests to moto: generous per request (moto is slow on a busy
/// machine), few retries, so a broken request fails the test within a minute.
const MOTO_LIMITS: S3Limits = S3Limits {
    connect_timeout: Duration::from_secs(2),
    request_timeout: Duration::from_secs(30),
    max_retries: 3,
    retry_timeout: Duration::from_secs(30),
};

fn s3_store(endpoint: &str, bucket: &str, limits: S3Limits) -> IndexStore {
    let options = [
        ("aws_endpoint", endpoint.to_owned()),
        ("aws_allow_http", "true".to_owned()),
        ("aws_access_key_id", "testing".to_owned()),
        ("aws_secret_access_key", "testing".to_owned()),
        ("aws_region", "us-east-1".to_owned()),
        ("aws_virtual_hosted_style_request", "false".to_owned()),
    ];
    IndexStore::open_with_limits(
        &format!("s3://{bucket}/tracelake"),
        options.map(|(k, v)| (k.to_owned(), v)),
        limits,
    )
    .expect("s3 store")
}

impl Moto {
    fn start() -> Moto {
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
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto_server did not listen on {port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    fn create_bucket(&self, bucket: &str) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("timeout");
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

    /// A fresh bucket and a store on it.
    fn store(&self, bucket: &str) -> IndexStore {
        self.create_bucket(bucket);
        s3_store(
            &format!("http://127.0.0.1:{}", self.port),
            bucket,
            MOTO_LIMITS,
        )
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const OURS: Checker = Checker {
    duckdb: false,
    other: None,
};

#[test]
fn the_protocol_holds_on_s3() {
    let moto = Moto::start();
    let rt = runtime();
    eprintln!("s3: retried delivery");
    rt.block_on(protocol::retried_delivery(moto.store("retry"), &OURS));
    eprintln!("s3: two compactors race");
    rt.block_on(protocol::two_compactors_race(moto.store("race"), &OURS));
    eprintln!("s3: late data");
    rt.block_on(protocol::late_data(moto.store("late"), &OURS));
    eprintln!("s3: ingest during compaction");
    rt.block_on(protocol::ingest_during_compaction(
        moto.store("during"),
        &OURS,
    ));
    eprintln!("s3: crash at every step");
    let counter = std::sync::atomic::AtomicU32::new(0);
    rt.block_on(protocol::crash_at_every_step(
        || {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            (None, moto.store(&format!("crash-{n}")))
        },
        &OURS,
    ));
}

/// Tight bounds: an endpoint that is down fails each call within seconds.
const TIGHT_LIMITS: S3Limits = S3Limits {
    connect_timeout: Duration::from_secs(1),
    request_timeout: Duration::from_secs(2),
    max_retries: 2,
    retry_timeout: Duration::from_secs(3),
};

#[test]
fn an_endpoint_that_never_answers_or_refuses_fails_with_an_error() {
    // Accepts connections and never answers a byte.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_port = silent.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in silent.incoming() {
            held.push(stream);
        }
    });
    // Nothing listens there.
    let closed_port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let rt = runtime();
    for port in [silent_port, closed_port] {
        let store = s3_store(&format!("http://127.0.0.1:{port}"), "down", TIGHT_LIMITS);
        rt.block_on(async {
            let read = store.get("v1/anything").await;
            assert!(read.is_err(), "a read from {port} succeeded: {read:?}");
            let created = store
                .put_if_absent("v1/_manifests/x.json", bytes::Bytes::from_static(b"{}"))
                .await;
            assert!(created.is_err(), "a conditional put to {port}: {created:?}");
            let delivery = &deliveries(0..1)[0];
            let written = IndexWriter::new(store.clone())
                .write_rows(
                    &delivery.name,
                    delivery.spans.clone(),
                    delivery.logs.clone(),
                    delivery.invocations.clone(),
                )
                .await;
            assert!(written.is_err(), "a segment written to {port}");
            let compacted = compact_hour(&store, &hour(), &CompactOptions::default()).await;
            let error = compacted.expect_err("compaction against a dead endpoint");
            eprintln!("port {port}: {error}");
        });
    }
}
