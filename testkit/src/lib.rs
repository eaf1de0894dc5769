//! Helpers shared by the workspace's integration tests.
//!
//! [`Moto`] is a local AWS endpoint: `moto_server` on a free port of
//! 127.0.0.1, started by the test that needs it and stopped when the handle is
//! dropped. Take it as a dev-dependency:
//!
//! ```toml
//! [dev-dependencies]
//! tracelake-testkit = { path = "../testkit" }
//! ```
//!
//! ```no_run
//! let moto = tracelake_testkit::Moto::start();
//! moto.create_bucket("tracelake-index");
//! // point a client at moto.endpoint() with Moto::ACCESS_KEY_ID / Moto::REGION
//! ```
//!
//! A test that needs moto and cannot start it fails with a message saying
//! how to install it; it is never skipped.
//!
//! With the `index` feature, the `index` module has helpers for the tests of crates
//! that build `tracelake-index` anyway: the rows of one raw delivery, and a
//! store that records its listings.

#![warn(missing_docs)]

#[cfg(feature = "index")]
pub mod index;

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// How long moto may take to listen (imports take a few seconds on a loaded
/// machine).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Starts moto's server, which is what the `moto_server` command runs
/// (`moto.server:main`), with a watchdog: the server exits as soon as its
/// standard input reaches end of file, which happens when the test process
/// drops the [`Moto`] or dies in any way (even SIGKILL), so no server
/// outlives its test.
const LAUNCHER: &str = r#"
import os, sys, threading, traceback
def watchdog():
    sys.stdin.buffer.read()
    os._exit(0)
threading.Thread(target=watchdog, daemon=True).start()
# os._exit, not sys.exit: the watchdog holds stdin's lock, which a normal
# interpreter shutdown would wait for.
try:
    from moto.server import main
except ImportError as error:
    sys.stderr.write(f"moto_server is not installed: {error}\n")
    sys.stderr.flush()
    os._exit(3)
try:
    main(["-H", "127.0.0.1", "-p", sys.argv[1]])
except BaseException:
    traceback.print_exc()
    sys.stderr.flush()
    os._exit(1)
os._exit(0)
"#;

/// A running `moto_server` on 127.0.0.1, stopped (and its log removed) when
/// dropped.
pub struct Moto {
    child: Child,
    /// The write end of the server's standard input; closing it stops the
    /// server.
    stdin: Option<ChildStdin>,
    port: u16,
    log: PathBuf,
}

impl Moto {
    /// The access key id the server accepts (moto accepts any).
    pub const ACCESS_KEY_ID: &'static str = "testing";
    /// The secret access key that goes with [`Moto::ACCESS_KEY_ID`].
    pub const SECRET_ACCESS_KEY: &'static str = "testing";
    /// The region the helpers use.
    pub const REGION: &'static str = "us-east-1";

    /// Starts `moto_server` on a free port and waits until it accepts
    /// connections.
    ///
    /// # Panics
    ///
    /// When python3 or moto is not installed (the message says how to
    /// install it), when the server exits, or when it does not listen within
    /// a minute; the server's log is in the message.
    pub fn start() -> Moto {
        // Another process may take the free port between our probe and
        // moto's bind; moto then exits at once and we try another port.
        for _ in 0..3 {
            match Moto::try_start(&["python3"]) {
                Ok(moto) => return moto,
                Err(StartError::AddressInUse) => continue,
                Err(StartError::Failed(message)) => panic!("{message}"),
            }
        }
        panic!("moto_server: three free ports were taken before it could bind them")
    }

    /// `python` is the interpreter's command line, before `-c`.
    fn try_start(python: &[&str]) -> Result<Moto, StartError> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port on 127.0.0.1")
            .port();
        Moto::try_start_on(python, port)
    }

    fn try_start_on(python: &[&str], port: u16) -> Result<Moto, StartError> {
        static STARTED: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "tracelake-moto-{}-{}-{port}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        );
        let log = std::env::temp_dir().join(format!("{name}.log"));
        let log_file = File::create(&log).expect("create moto_server's log in the temp dir");
        let mut child = match Command::new(python[0])
            .args(&python[1..])
            .args(["-c", LAUNCHER, &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(log_file.try_clone().expect("clone log file handle"))
            .stderr(log_file)
            .spawn()
        {
            Ok(child) => child,
            Err(error) => {
                let _ = std::fs::remove_file(&log);
                return Err(StartError::Failed(format!(
                    "cannot run {} to start moto_server ({error}); install python3 and \
                     `python3 -m pip install 'moto[server]'` (scripts/test does)",
                    python[0]
                )));
            }
        };
        let stdin = child.stdin.take();
        // From here the handle owns the process: any panic below stops it.
        let mut moto = Moto {
            child,
            stdin,
            port,
            log,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        // The server is ready when it answers a request that then shows in
        // *its* log. A connection alone may reach another test's server that
        // took the same free port first (ours then exits, address in use),
        // which answered this test until that test stopped it (a reset).
        let probe = format!("/{name}-ready");
        loop {
            if moto.answers(&probe) {
                return Ok(moto);
            }
            if let Some(status) = moto.child.try_wait().expect("poll moto_server") {
                let log = moto.log();
                if log.contains("Address already in use") {
                    return Err(StartError::AddressInUse);
                }
                let hint = if status.code() == Some(3) {
                    "; install it with `python3 -m pip install 'moto[server]'` (scripts/test does)"
                } else {
                    ""
                };
                return Err(StartError::Failed(format!(
                    "moto_server exited ({status}) before listening on {port}{hint}; its log:\n{log}"
                )));
            }
            if Instant::now() > deadline {
                return Err(StartError::Failed(format!(
                    "moto_server did not listen on {port} within {} s; its log:\n{}",
                    START_TIMEOUT.as_secs(),
                    moto.log()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends `GET path` and tells whether this server's log then names it:
    /// the request line is logged as the response starts, so before the
    /// connection closes.
    fn answers(&self, path: &str) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let sent = write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            self.port
        );
        let mut response = Vec::new();
        sent.is_ok()
            && stream.read_to_end(&mut response).is_ok()
            && self.log().contains(&format!("GET {path} "))
    }

    /// The server's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The endpoint URL to give a client (`AWS_ENDPOINT_URL`).
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What the server has written so far: one line per request with its
    /// status, and the traceback of any error it answered with a 500.
    pub fn log(&self) -> String {
        std::fs::read(&self.log)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_else(|error| format!("(cannot read {}: {error})", self.log.display()))
    }

    /// Creates an S3 bucket with a plain REST call, so that a test needs no
    /// SDK for it.
    ///
    /// # Panics
    ///
    /// When the server does not answer 200.
    pub fn create_bucket(&self, bucket: &str) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to moto");
        write!(
            stream,
            "PUT /{bucket} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        )
        .expect("send CreateBucket");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .expect("read CreateBucket's response");
        assert!(
            response.starts_with("HTTP/1.1 200"),
            "CreateBucket {bucket} failed: {response}"
        );
    }

    /// The `object_store` S3 options (`AmazonS3ConfigKey` names) that reach
    /// this server with path-style requests.
    pub fn object_store_options(&self) -> Vec<(String, String)> {
        [
            ("aws_endpoint", self.endpoint()),
            ("aws_allow_http", "true".to_owned()),
            ("aws_access_key_id", Moto::ACCESS_KEY_ID.to_owned()),
            ("aws_secret_access_key", Moto::SECRET_ACCESS_KEY.to_owned()),
            ("aws_region", Moto::REGION.to_owned()),
            ("aws_virtual_hosted_style_request", "false".to_owned()),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // Closing stdin makes the watchdog exit; the kill covers a server
        // that is stuck. Both are harmless when it has already exited.
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

#[derive(Debug)]
enum StartError {
    AddressInUse,
    Failed(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(pid: u32) -> bool {
        // A zombie counts as gone: `wait` in Drop reaps it.
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|stat| !stat.contains(") Z "))
            .unwrap_or(false)
    }

    fn failure(python: &[&str]) -> String {
        match Moto::try_start(python) {
            Err(StartError::Failed(message)) => message,
            Err(StartError::AddressInUse) => panic!("unexpected: address in use"),
            Ok(moto) => panic!("moto started on {}", moto.port),
        }
    }

    #[test]
    fn a_missing_moto_fails_loudly_and_says_how_to_install_it() {
        // -S skips site-packages, where moto lives: python runs, moto is absent.
        let message = failure(&["python3", "-S"]);
        assert!(
            message.contains("moto_server is not installed"),
            "{message}"
        );
        assert!(message.contains("pip install 'moto[server]'"), "{message}");
        let message = failure(&["tracelake-no-such-python"]);
        assert!(
            message.contains("cannot run tracelake-no-such-python"),
            "{message}"
        );
    }

    #[test]
    fn the_server_answers_and_is_gone_once_dropped() {
        let moto = Moto::start();
        let pid = moto.child.id();
        moto.create_bucket("testkit");
        assert!(moto.log().contains("PUT /testkit"), "{}", moto.log());
        let log = moto.log.clone();
        drop(moto);
        assert!(!running(pid), "moto_server {pid} still runs after drop");
        assert!(!log.exists(), "{} left behind", log.display());
    }

    /// Two tests may be handed the same free port: the second server must
    /// not take the first one's answers for its own (it used to, and its test
    /// then talked to a server another test was about to stop).
    #[test]
    fn a_port_another_server_holds_is_not_taken_for_ours() {
        let first = Moto::start();
        match Moto::try_start_on(&["python3"], first.port) {
            Err(StartError::AddressInUse) => {}
            Err(StartError::Failed(message)) => panic!("{message}"),
            Ok(second) => panic!("the server on {} was taken as ours", second.port),
        }
    }

    #[test]
    fn the_server_stops_when_its_stdin_closes_even_if_never_killed() {
        let mut moto = Moto::start();
        let pid = moto.child.id();
        // What happens when the test process dies: the pipe's write end
        // closes, and nothing calls kill.
        drop(moto.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = moto.child.try_wait().expect("poll") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "moto_server {pid} ignored EOF on stdin"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success(), "{status}");
        assert!(TcpStream::connect(("127.0.0.1", moto.port)).is_err());
    }
}
