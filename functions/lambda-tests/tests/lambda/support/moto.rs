//! A real moto server (PyPI) on 127.0.0.1 standing in for AWS, and moto's own API to read back
//! what it holds (`/moto-api/data.json`) and which requests it was sent (`/moto-api/recorder/*`).
//!
//! The shared server comes from `MOTO_URL` (set by `eval "$(bash infra/moto-server.sh)"`) or, when
//! that is unset, is started once per test process from the project venv (`.venv/bin/moto_server`).
//! A test that records requests gets a private server instead ([`Moto::private`]): moto's recorder
//! is one switch and one file per server, so sharing it would mix other tests' requests into the
//! count.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// A running moto server.
pub struct Moto {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Keeps a server we started alive: it stops when this pipe closes (when the `Moto` is
    /// dropped or the test process ends, however it ends).
    guard: Option<Mutex<(Child, ChildStdin)>>,
    /// Where a private server's recorder writes; removed with the `Moto`.
    _recording: Option<TempDir>,
}

impl Drop for Moto {
    fn drop(&mut self) {
        if let Some(guard) = self.guard.take() {
            let (mut child, mut stdin) = guard.into_inner().unwrap_or_else(|p| p.into_inner());
            let _ = stdin.write_all(b"\n");
            drop(stdin);
            let _ = child.wait();
        }
    }
}

/// The moto every test of this process shares.
pub fn shared() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| match std::env::var("MOTO_URL") {
        Ok(url) if !url.is_empty() => Moto {
            url: url.trim_end_matches('/').to_owned(),
            guard: None,
            _recording: None,
        },
        _ => spawn(None),
    })
}

impl Moto {
    /// A moto of this test's own, whose recorder writes into a temporary folder.
    pub fn private() -> Moto {
        let folder = tempfile::tempdir().expect("temp dir for the moto recording");
        let mut moto = spawn(Some(&folder.path().join("recording.jsonl")));
        moto._recording = Some(folder);
        moto
    }

    /// moto's whole state (`GET /moto-api/data.json`): service → model → instances.
    pub async fn data(&self) -> Value {
        data_at(&self.url).await
    }

    /// Empties the recording and starts recording every request this server receives.
    pub async fn start_recording(&self) {
        self.recorder("reset-recording").await;
        self.recorder("start-recording").await;
    }

    /// Stops recording and returns what was recorded, one JSON object per request.
    pub async fn stop_recording(&self) -> Vec<Value> {
        self.recorder("stop-recording").await;
        let text = http()
            .get(format!("{}/moto-api/recorder/download-recording", self.url))
            .send()
            .await
            .expect("download the recording")
            .text()
            .await
            .expect("the recording as text");
        text.lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| serde_json::from_str(line).expect("one JSON request per line"))
            .collect()
    }

    async fn recorder(&self, action: &str) {
        let response = http()
            .post(format!("{}/moto-api/recorder/{action}", self.url))
            .send()
            .await
            .expect("moto recorder");
        assert!(
            response.status().is_success(),
            "{action}: {}",
            response.status()
        );
    }
}

/// The whole state of the moto at `url` (`GET /moto-api/data.json`).
pub async fn data_at(url: &str) -> Value {
    let response = http()
        .get(format!("{url}/moto-api/data.json"))
        .send()
        .await
        .expect("GET data.json");
    assert!(
        response.status().is_success(),
        "data.json: {}",
        response.status()
    );
    response.json().await.expect("data.json is JSON")
}

/// A plain HTTP client for moto's API.
fn http() -> reqwest::Client {
    // reqwest is built without a TLS provider; building a client checks for one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// The workspace root, found from this crate's manifest directory.
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .find(|dir| dir.join("infra").is_dir() && dir.join("functions").is_dir())
        .map(PathBuf::from)
        .unwrap_or(manifest)
}

/// Starts `moto_server` on a free loopback port; with `recording`, its recorder writes there.
fn spawn(recording: Option<&Path>) -> Moto {
    let binary = workspace_root().join(".venv/bin/moto_server");
    assert!(
        binary.exists(),
        "{} is missing and MOTO_URL is not set: run `eval \"$(bash infra/moto-server.sh)\"` \
         once to install moto and start it",
        binary.display()
    );
    for _ in 0..3 {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free loopback port")
            .port();
        // `sh` runs the server in the background and kills it once its stdin reaches EOF, which
        // happens when the `Moto` is dropped or this test process exits, even on a panic.
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(r#""$0" "$@" >/dev/null 2>&1 & pid=$!; read _; kill $pid"#)
            .arg(&binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(path) = recording {
            command.env("MOTO_RECORDER_FILEPATH", path);
        }
        let mut child = command.spawn().expect("start moto_server");
        let stdin = child.stdin.take().expect("piped stdin");
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if answers_data_json(port) {
                return Moto {
                    url: format!("http://127.0.0.1:{port}"),
                    guard: Some(Mutex::new((child, stdin))),
                    _recording: None,
                };
            }
            if child.try_wait().ok().flatten().is_some() {
                break;
            }
            // Polling a starting process: there is nothing to await.
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut stdin = stdin;
        let _ = stdin.write_all(b"\n");
        let _ = child.wait();
    }
    panic!("moto_server did not start on 127.0.0.1; run `bash infra/moto-server.sh` to see why");
}

/// Whether moto answers `GET /moto-api/data.json` with 200 (plain HTTP/1.0 over a socket, so the
/// check needs no async runtime).
fn answers_data_json(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = "GET /moto-api/data.json HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.ends_with(b" 200")
}

/// A name no other test (or earlier run against the same moto) uses: `<prefix>-<random>-<n>`.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{:06x}-{n}", rand::random::<u32>() & 0xff_ffff)
}
