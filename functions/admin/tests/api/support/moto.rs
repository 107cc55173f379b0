//! A real moto server (PyPI) on 127.0.0.1 standing in for AWS: `MOTO_URL` when set (by
//! `eval "$(bash infra/moto-server.sh)"`), otherwise one started per test process from the project
//! venv (`.venv/bin/moto_server`), as `functions/lambda-tests` does.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A running moto server.
pub struct Moto {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Keeps a server we started alive: it stops when this pipe closes (at process exit).
    _guard: Option<Mutex<(Child, ChildStdin)>>,
}

/// The moto every test of this process shares.
pub fn shared() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| match std::env::var("MOTO_URL") {
        Ok(url) if !url.is_empty() => Moto {
            url: url.trim_end_matches('/').to_owned(),
            _guard: None,
        },
        _ => spawn(),
    })
}

/// The workspace root, found from this crate's manifest directory.
fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .find(|dir| dir.join("infra").is_dir() && dir.join("functions").is_dir())
        .map(PathBuf::from)
        .unwrap_or(manifest)
}

fn spawn() -> Moto {
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
        // happens when this test process exits, however it exits.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#""$0" "$@" >/dev/null 2>&1 & pid=$!; read _; kill $pid"#)
            .arg(&binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let stdin = child.stdin.take().expect("piped stdin");
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if answers(port) {
                return Moto {
                    url: format!("http://127.0.0.1:{port}"),
                    _guard: Some(Mutex::new((child, stdin))),
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

/// Whether moto answers `GET /moto-api/data.json` with 200.
fn answers(port: u16) -> bool {
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
