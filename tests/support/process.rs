//! Starting a local test server (moto, scim2-server) from the project venv on a free loopback
//! port, and stopping it again: when its [`ServerProcess`] is dropped or the test process ends,
//! however it ends. What a server is and when it is ready is the caller's.

use std::ffi::OsStr;
use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The workspace root, found from this crate's manifest directory: where `.venv` and `infra/`
/// are.
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .find(|dir| dir.join("infra").is_dir() && dir.join("functions").is_dir())
        .map(PathBuf::from)
        .unwrap_or(manifest)
}

/// What to start, and how to tell it is ready.
pub(crate) struct Launch<'a> {
    /// The program in `.venv/bin`.
    pub program: &'a str,
    /// The script in `infra/` that installs (and starts) it, named in the errors.
    pub script: &'a str,
    /// The variable naming an already running server, named in the errors.
    pub url_variable: &'a str,
    /// The program's arguments for a port.
    pub args: &'a dyn Fn(u16) -> Vec<String>,
    /// Extra environment of the program.
    pub envs: &'a [(&'a str, &'a OsStr)],
    /// Whether the server on a port answers yet.
    pub ready: &'a dyn Fn(u16) -> bool,
}

/// A server we started. It stops when this is dropped: its stdin pipe closes, and the `sh` that
/// runs it kills it.
pub(crate) struct ServerProcess {
    /// A `Mutex`, so that a server can live in a `static` shared by every test of the process.
    guard: Mutex<Option<(Child, ChildStdin)>>,
}

impl ServerProcess {
    /// Starts `launch.program` on a free loopback port and waits (up to 30 s) until it is ready;
    /// returns the port. Panics with what to run when the program is missing or never answers.
    pub(crate) fn start(launch: &Launch<'_>) -> (u16, ServerProcess) {
        let binary = workspace_root().join(".venv/bin").join(launch.program);
        assert!(
            binary.exists(),
            "{} is missing and {} is not set: run `eval \"$(bash infra/{})\"` once to install it \
             and start it",
            binary.display(),
            launch.url_variable,
            launch.script,
        );
        // The servers cannot report a port they chose themselves, so pick one; another process
        // may take it in between, hence the attempts.
        for _ in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|listener| listener.local_addr())
                .expect("a free loopback port")
                .port();
            // `sh` runs the server in the background and kills it once its stdin reaches EOF,
            // which happens when the `ServerProcess` is dropped or this process exits, even on a
            // panic or abort.
            let mut child = Command::new("sh")
                .arg("-c")
                .arg(r#""$0" "$@" >/dev/null 2>&1 & pid=$!; read _; kill $pid"#)
                .arg(&binary)
                .args((launch.args)(port))
                .envs(launch.envs.iter().copied())
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|err| panic!("start {}: {err}", launch.program));
            let stdin = child.stdin.take().expect("piped stdin");
            let server = ServerProcess {
                guard: Mutex::new(Some((child, stdin))),
            };
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if (launch.ready)(port) {
                    return (port, server);
                }
                if server.exited() {
                    break;
                }
                // Polling a starting process: there is nothing to await.
                std::thread::sleep(Duration::from_millis(50));
            }
            drop(server);
        }
        panic!(
            "{} did not start on 127.0.0.1; run `bash infra/{}` to see why",
            launch.program, launch.script
        );
    }

    fn exited(&self) -> bool {
        let mut guard = self.guard.lock().unwrap_or_else(|p| p.into_inner());
        guard
            .as_mut()
            .is_some_and(|(child, _)| child.try_wait().ok().flatten().is_some())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let guard = self.guard.get_mut().unwrap_or_else(|p| p.into_inner());
        if let Some((mut child, mut stdin)) = guard.take() {
            let _ = stdin.write_all(b"\n");
            drop(stdin);
            let _ = child.wait();
        }
    }
}
