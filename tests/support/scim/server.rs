//! The scim2-server of this process: the one `SCIM2_SERVER_URL`/`SCIM2_SERVER_TOKEN` name, else
//! one started once from `.venv/bin/scim2-server` (the approach of
//! `functions/scim/tests/support`), which stops when the process ends.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A running scim2-server.
pub struct ScimServer {
    /// `http://127.0.0.1:PORT`, without a tenant.
    pub url: String,
    /// Its bearer token.
    pub token: String,
    /// Keeps a server we started alive: it stops when this pipe closes, that is when the
    /// process ends, however it ends.
    _guard: Option<Mutex<(Child, ChildStdin)>>,
}

/// The server of this process: the one named by the environment, else one started once.
pub fn scim_server() -> &'static ScimServer {
    static SERVER: OnceLock<ScimServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        match (
            std::env::var("SCIM2_SERVER_URL"),
            std::env::var("SCIM2_SERVER_TOKEN"),
        ) {
            (Ok(url), Ok(token)) if !url.is_empty() => ScimServer {
                url: url.trim_end_matches('/').to_owned(),
                token,
                _guard: None,
            },
            _ => spawn_server(),
        }
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

/// Starts a scim2-server of our own on a free loopback port.
fn spawn_server() -> ScimServer {
    let binary = workspace_root().join(".venv/bin/scim2-server");
    assert!(
        binary.exists(),
        "{} is missing: run `bash infra/scim2-server.sh` once to install scim2-server",
        binary.display()
    );
    let token = format!("e2e-token-{}", std::process::id());
    // scim2-server cannot report a port it chose itself, so pick one; another process may take
    // it in between, hence the attempts.
    for _ in 0..3 {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free loopback port")
            .port()
            .to_string();
        // `sh` runs the server in the background and kills it once its stdin reaches EOF, which
        // happens when this process exits, even on a panic or abort.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#""$0" "$@" >/dev/null 2>&1 & pid=$!; read _; kill $pid"#)
            .arg(&binary)
            .args([
                "--hostname",
                "127.0.0.1",
                "--port",
                &port,
                "--dynamic-tenants",
            ])
            .args(["--bearer-token", &token])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start scim2-server");
        let mut stdin = child.stdin.take().expect("piped stdin");
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if TcpStream::connect(format!("127.0.0.1:{port}")).is_ok() {
                return ScimServer {
                    url: format!("http://127.0.0.1:{port}"),
                    token,
                    _guard: Some(Mutex::new((child, stdin))),
                };
            }
            if child.try_wait().ok().flatten().is_some() {
                break;
            }
            // Polling a starting process: there is nothing to await.
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = stdin.write_all(b"\n");
        let _ = child.wait();
    }
    panic!("scim2-server did not start on 127.0.0.1; run `bash infra/scim2-server.sh` to see why");
}

/// A tenant path of the process's server that nobody else uses: `…/<prefix>-<pid>-<n>/v2`.
pub fn tenant_url(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!(
        "{}/{prefix}-{}-{n}/v2",
        scim_server().url,
        std::process::id()
    )
}
