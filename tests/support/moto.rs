//! A real moto server (PyPI) on 127.0.0.1 standing in for AWS, unique names so tests run in
//! parallel against one moto, and moto's own API to read back what it holds
//! (`/moto-api/data.json`) and which requests it was sent (`/moto-api/recorder/*`).
//!
//! The shared server comes from `MOTO_URL` (set by `eval "$(bash infra/moto-server.sh)"`) or, when
//! that is unset, is started once per test process from the project venv (`.venv/bin/moto_server`).
//! A test that records requests gets a private server instead ([`Moto::private`]): moto's recorder
//! is one switch and one file per server, so sharing it would mix other tests' requests into the
//! count.

use crate::process::{Launch, ServerProcess};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// A running moto server.
pub struct Moto {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// A server we started; it stops when the `Moto` is dropped or the test process ends.
    _server: Option<ServerProcess>,
    /// Where a private server's recorder writes; removed with the `Moto`.
    _recording: Option<TempDir>,
}

/// The moto every test of this process shares.
pub fn shared() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| match std::env::var("MOTO_URL") {
        Ok(url) if !url.is_empty() => Moto {
            url: url.trim_end_matches('/').to_owned(),
            _server: None,
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
///
/// moto checks that each attribute is JSON and then dumps them all, while other requests go on
/// changing its state on other threads; when one changes in between, the dump fails with a 500.
/// So a 500 is asked again, for up to 10 seconds.
pub async fn data_at(url: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = http()
            .get(format!("{url}/moto-api/data.json"))
            .send()
            .await
            .expect("GET data.json");
        let status = response.status();
        if status.is_success() {
            return response.json().await.expect("data.json is JSON");
        }
        assert!(
            status.is_server_error() && Instant::now() < deadline,
            "data.json: {status}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A plain HTTP client for moto's API.
fn http() -> reqwest::Client {
    // reqwest is built without a TLS provider; building a client checks for one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// Starts `moto_server`, with `infra/moto-fixes` loaded (moto otherwise keeps every DynamoDB item
/// it ever wrote); with `recording`, its recorder writes there.
fn spawn(recording: Option<&Path>) -> Moto {
    let fixes = crate::workspace_root().join("infra/moto-fixes");
    let mut envs: Vec<(&str, &std::ffi::OsStr)> = vec![("PYTHONPATH", fixes.as_os_str())];
    envs.extend(recording.map(|path| ("MOTO_RECORDER_FILEPATH", path.as_os_str())));
    let (port, server) = ServerProcess::start(&Launch {
        program: "moto_server",
        script: "moto-server.sh",
        url_variable: "MOTO_URL",
        args: &|port| {
            vec![
                "-H".into(),
                "127.0.0.1".into(),
                "-p".into(),
                port.to_string(),
            ]
        },
        envs: &envs,
        ready: &answers_data_json,
    });
    Moto {
        url: format!("http://127.0.0.1:{port}"),
        _server: Some(server),
        _recording: None,
    }
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
