//! The scim2-server of this process: the one `SCIM2_SERVER_URL`/`SCIM2_SERVER_TOKEN` name, else
//! one started once from `.venv/bin/scim2-server`, which stops when the process ends; and servers
//! of a test's own with extra arguments ([`ScimServer::spawn`]).

use crate::process::{Launch, ServerProcess};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// A running scim2-server.
pub struct ScimServer {
    /// `http://127.0.0.1:PORT`, without a tenant.
    pub url: String,
    /// Its bearer token.
    pub token: String,
    /// A server we started; it stops when this is dropped or the process ends.
    _server: Option<ServerProcess>,
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
                _server: None,
            },
            _ => ScimServer::spawn(&[]),
        }
    })
}

impl ScimServer {
    /// Starts a scim2-server of our own on a free loopback port, with dynamic tenants and `extra`
    /// arguments (e.g. a service provider config).
    pub fn spawn(extra: &[&str]) -> ScimServer {
        let token = format!("test-token-{}", std::process::id());
        let args = |port: u16| {
            let mut args: Vec<String> = vec![
                "--hostname".into(),
                "127.0.0.1".into(),
                "--port".into(),
                port.to_string(),
                "--dynamic-tenants".into(),
                "--bearer-token".into(),
                token.clone(),
            ];
            args.extend(extra.iter().map(|arg| (*arg).to_owned()));
            args
        };
        let (port, server) = ServerProcess::start(&Launch {
            program: "scim2-server",
            script: "scim2-server.sh",
            url_variable: "SCIM2_SERVER_URL",
            args: &args,
            envs: &[],
            ready: &|port| TcpStream::connect(("127.0.0.1", port)).is_ok(),
        });
        ScimServer {
            url: format!("http://127.0.0.1:{port}"),
            token,
            _server: Some(server),
        }
    }

    /// A server someone else runs (a proxy in front of one), reached at `url` with `token`.
    pub fn at(url: String, token: String) -> ScimServer {
        ScimServer {
            url,
            token,
            _server: None,
        }
    }

    /// A tenant path of this server that nobody else uses: `…/<prefix>-<pid>-<n>/v2`.
    pub fn tenant_url(&self, prefix: &str) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        format!("{}/{prefix}-{}-{n}/v2", self.url, std::process::id())
    }
}

/// A tenant path of the process's server that nobody else uses: `…/<prefix>-<pid>-<n>/v2`.
pub fn tenant_url(prefix: &str) -> String {
    scim_server().tenant_url(prefix)
}
