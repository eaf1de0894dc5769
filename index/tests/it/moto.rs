//! The protocol on S3, through a local endpoint that speaks the real protocol
//! (moto_server, which honours `If-None-Match: *` as S3 does).

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tracelake_index::IndexStore;

use super::protocol::{self, Checker};
use super::support::runtime;

/// A moto_server on 127.0.0.1, stopped when dropped.
struct Moto {
    child: Child,
    port: u16,
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

    fn create_bucket(&self, bucket: &str) {
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

    /// A fresh bucket and a store on it.
    fn store(&self, bucket: &str) -> IndexStore {
        self.create_bucket(bucket);
        let options = [
            ("aws_endpoint", format!("http://127.0.0.1:{}", self.port)),
            ("aws_allow_http", "true".to_owned()),
            ("aws_access_key_id", "testing".to_owned()),
            ("aws_secret_access_key", "testing".to_owned()),
            ("aws_region", "us-east-1".to_owned()),
            ("aws_virtual_hosted_style_request", "false".to_owned()),
        ];
        IndexStore::open_with_options(
            &format!("s3://{bucket}/tracelake"),
            options.map(|(k, v)| (k.to_owned(), v)),
        )
        .expect("s3 store")
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const OURS: Checker = Checker { duckdb: false };

#[test]
fn the_protocol_holds_on_s3() {
    let moto = Moto::start();
    let rt = runtime();
    rt.block_on(protocol::two_compactors_race(moto.store("race"), &OURS));
    rt.block_on(protocol::retried_delivery(moto.store("retry"), &OURS));
    rt.block_on(protocol::late_data(moto.store("late"), &OURS));
    rt.block_on(protocol::ingest_during_compaction(
        moto.store("during"),
        &OURS,
    ));
    let counter = std::sync::atomic::AtomicU32::new(0);
    rt.block_on(protocol::crash_at_every_step(
        || {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            (None, moto.store(&format!("crash-{n}")))
        },
        &OURS,
    ));
}
